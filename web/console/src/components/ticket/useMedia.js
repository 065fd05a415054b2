// useMedia.js -- a CSS media query as a reactive boolean, for the ticket
// page's layout switches (phone / medium / wide).
import { ref, onBeforeUnmount } from 'vue';

export function useMedia(query) {
  const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(query) : null;
  const matches = ref(mq ? mq.matches : false);
  if (mq) {
    const on = (e) => { matches.value = e.matches; };
    mq.addEventListener('change', on);
    onBeforeUnmount(() => mq.removeEventListener('change', on));
  }
  return matches;
}
