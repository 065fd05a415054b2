// useMedia.js -- whether the console runs on a phone-sized screen (< 768 px),
// as a reactive ref shared by every component that asks.
import { ref } from 'vue';

const PHONE = '(max-width: 767.98px)';
let phone = null;

export function usePhone() {
  if (!phone) {
    const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(PHONE) : null;
    phone = ref(mq ? mq.matches : false);
    if (mq) mq.addEventListener('change', (e) => { phone.value = e.matches; });
  }
  return phone;
}
