// useTicketList.js -- the inbox's list of tickets for a set of filters:
// pages of GET /api/v1/tickets (limit 50, cursor `next`), kept up to date
// from live events: ticket.created / ticket.updated insert, move, change or
// drop the row as the ticket now matches the filters; message.created
// fetches the ticket again (new preview, new time); resync reloads.  Rows
// that arrive live are `fresh` for a few seconds (a gentle highlight).
import { ref, reactive, onBeforeUnmount } from 'vue';
import { api } from '../../lib/api.js';
import { realtime } from '../../lib/realtime.js';
import { ticketMatches, sortKey } from '../../lib/inbox.js';

const PAGE = 50;
const FRESH_MS = 6000;

function before(a, b) {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

export function useTicketList(getFilters) {
  const items = ref([]);
  const next = ref(null);
  const loading = ref(false);
  const loadingMore = ref(false);
  const error = ref(null);
  const fresh = reactive(new Set());
  let generation = 0;
  const refetching = new Map();

  async function reload() {
    const gen = ++generation;
    loading.value = true;
    error.value = null;
    try {
      const r = await api.get('/api/v1/tickets', { ...getFilters(), limit: PAGE });
      if (gen !== generation) return;
      items.value = r.items || [];
      next.value = r.next || null;
    } catch (err) {
      if (gen === generation) { error.value = err; items.value = []; next.value = null; }
    } finally {
      if (gen === generation) loading.value = false;
    }
  }

  async function more() {
    if (!next.value || loadingMore.value || loading.value) return;
    const gen = generation;
    loadingMore.value = true;
    try {
      const r = await api.get('/api/v1/tickets', { ...getFilters(), limit: PAGE, cursor: next.value });
      if (gen !== generation) return;
      const have = new Set(items.value.map((x) => x.id));
      items.value = items.value.concat((r.items || []).filter((x) => !have.has(x.id)));
      next.value = r.next || null;
    } catch (err) {
      if (gen === generation) error.value = err;
    } finally {
      loadingMore.value = false;
    }
  }

  function markFresh(id) {
    fresh.add(id);
    setTimeout(() => fresh.delete(id), FRESH_MS);
  }

  // A ticket as it is now: where (and whether) it goes in the list.
  function upsert(tk) {
    const f = getFilters();
    const list = items.value.slice();
    const at = list.findIndex((x) => x.id === tk.id);
    const match = ticketMatches(tk, f);
    if (match === false) {
      if (at >= 0) { list.splice(at, 1); items.value = list; }
      return;
    }
    if (match === null) { // a search: the server decides; change only a row we have
      if (at >= 0) { list[at] = tk; items.value = list; }
      return;
    }
    if (at >= 0) list.splice(at, 1);
    const key = sortKey(tk, f.sort);
    let pos = list.findIndex((x) => before(key, sortKey(x, f.sort)));
    if (pos < 0) {
      if (next.value && at < 0) return; // beyond the pages loaded: it comes with "more"
      pos = list.length;
    }
    list.splice(pos, 0, tk);
    items.value = list;
    if (at < 0) markFresh(tk.id);
  }

  // One GET per ticket however many messages arrive at once.
  function refetch(id) {
    if (refetching.has(id)) return;
    refetching.set(id, setTimeout(async () => {
      try {
        const tk = await api.get(`/api/v1/tickets/${id}`);
        refetching.delete(id);
        upsert(tk);
      } catch {
        refetching.delete(id);
      }
    }, 250));
  }

  const offs = [
    realtime.on('ticket.created', (d) => {
      if (!d.ticket) return;
      upsert(d.ticket);
      if (!d.ticket.preview) refetch(d.ticket.id); // the first message is stored after the event
    }),
    realtime.on('ticket.updated', (d) => d.ticket && upsert(d.ticket)),
    realtime.on('message.created', (d) => d.ticket_id && !(d.message && d.message.internal) && refetch(d.ticket_id)),
    realtime.on('resync', () => reload()),
  ];
  onBeforeUnmount(() => {
    offs.forEach((off) => off());
    for (const timer of refetching.values()) clearTimeout(timer);
    generation++;
  });

  return { items, next, loading, loadingMore, error, fresh, reload, more, upsert };
}
