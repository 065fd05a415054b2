// ticket.js -- the ticket page's data: one ticket with its conversation
// (GET /tickets/{id} and /timeline), kept current by the realtime events
// about it (ticket.updated, message.created, typing, viewing, read), plus
// the account's ticket settings (statuses, transitions, custom fields),
// users and teams, and small helpers the ticket components share
// (allowed statuses, status names, error text, file sizes, initials).
//
//   const store = createTicketStore(12); await store.load(); ... store.dispose()
//
// The store is provided to the ticket components under TICKET_KEY.
import { reactive } from 'vue';
import { api } from './api.js';
import { realtime } from './realtime.js';
import { session } from './session.js';
import { formatNumber } from './format.js';
import { i18n } from '../i18n/index.js';

export const TICKET_KEY = Symbol('ticket');

const TYPING_TTL_MS = 6000;
const META_TTL_MS = 5 * 60 * 1000;
const BUILTIN = ['new', 'open', 'pending', 'resolved', 'closed'];

// Default workflow by category (docs/openapi.yaml, tag ticket-settings).
const DEFAULT_FLOW = {
  new: ['open', 'pending', 'resolved', 'closed'],
  open: ['pending', 'resolved', 'closed'],
  pending: ['open', 'resolved', 'closed'],
  resolved: ['open', 'closed'],
  closed: ['open'],
};

// ---- account settings, users and teams (cached a few minutes) ----

const meta = reactive({ statuses: [], transitions: [], fields: [], users: [], teams: [], loaded: false });
let metaPromise = null;
let metaAt = 0;

async function allUsers() {
  const out = [];
  let cursor;
  for (let page = 0; page < 10; page++) {
    const r = await api.get('/api/v1/users', { limit: 200, cursor });
    out.push(...r.items.filter((u) => u.active));
    if (!r.next) break;
    cursor = r.next;
  }
  return out;
}

const orEmpty = (p) => p.catch(() => null);

export function loadMeta(force = false) {
  if (!force && metaPromise && Date.now() - metaAt < META_TTL_MS) return metaPromise;
  metaAt = Date.now();
  metaPromise = Promise.all([
    orEmpty(api.get('/api/v1/ticket-statuses')),
    orEmpty(api.get('/api/v1/ticket-transitions')),
    orEmpty(api.get('/api/v1/ticket-fields')),
    orEmpty(allUsers()),
    orEmpty(api.get('/api/v1/teams')),
  ]).then(([st, tr, fi, us, te]) => {
    meta.statuses = st ? st.items : BUILTIN.map((n) => ({ name: n, category: n, builtin: true }));
    meta.transitions = tr ? tr.items : [];
    meta.fields = fi ? fi.items : [];
    meta.users = us || [];
    meta.teams = te ? te.items : [];
    meta.loaded = true;
    return meta;
  });
  return metaPromise;
}

export { meta };

// The statuses a ticket in `current` may move to (itself included).
export function allowedStatuses(current, statuses = meta.statuses, rules = meta.transitions) {
  const cur = statuses.find((s) => s.name === current);
  if (rules.length) {
    const to = new Set(rules.filter((r) => r.from === current).map((r) => r.to));
    return statuses.filter((s) => s.name === current || to.has(s.name));
  }
  if (!cur) return statuses;
  const ok = new Set(DEFAULT_FLOW[cur.category] || []);
  return statuses.filter((s) => s.name === current || s.category === cur.category || ok.has(s.category));
}

// Built-in statuses in the console's language; an account's own by name.
export function statusLabel(name) {
  return BUILTIN.includes(name) ? i18n.global.t(`common.status.${name}`) : name;
}

export function statusCategory(name) {
  const s = meta.statuses.find((x) => x.name === name);
  return s ? s.category : (BUILTIN.includes(name) ? name : 'open');
}

export function userName(id) {
  const u = meta.users.find((x) => x.id === id);
  return u ? u.name : `#${id}`;
}

export function teamName(id) {
  const tm = meta.teams.find((x) => x.id === id);
  return tm ? tm.name : `#${id}`;
}

// An ApiError as a sentence for people, in the console's language.
export function errorText(err) {
  const { t, te } = i18n.global;
  if (!err) return t('common.error.unknown');
  const code = err.code || '';
  if (te(`ticket.error.${code}`)) return t(`ticket.error.${code}`);
  if (['network', 'forbidden', 'not_found'].includes(code)) return t(`common.error.${code}`);
  return err.message || t('common.error.unknown');
}

export function fileSize(bytes) {
  const { t } = i18n.global;
  if (bytes < 1024) return t('ticket.size.b', { n: formatNumber(bytes) });
  if (bytes < 1024 * 1024) return t('ticket.size.kb', { n: formatNumber(Math.round(bytes / 102.4) / 10) });
  return t('ticket.size.mb', { n: formatNumber(Math.round(bytes / 104857.6) / 10) });
}

// "王芳 Wang Fang" -> "王芳"'s first character; "Emily Chen" -> "EC".
export function initials(name) {
  const s = String(name || '?').trim();
  if (/^[\u3400-\u9fff]/.test(s)) return s[0];
  const parts = s.split(/\s+/).filter(Boolean);
  return ((parts[0] || '?')[0] + (parts[1] ? parts[1][0] : '')).toUpperCase();
}

const HUES = [210, 190, 160, 260, 30, 330, 120, 0];
export function avatarColor(key) {
  let h = 0;
  for (const ch of String(key)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${HUES[h % HUES.length]}, 62%, 52%)`;
}

// A day as a heading ("2026年11月22日 周日", "Sun, November 22, 2026").
// lib/format.js has no date-only form; this one follows the same locale.
export function formatDay(iso) {
  return new Intl.DateTimeFormat(i18n.global.locale.value, { year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' })
    .format(new Date(iso));
}

export const isImage = (a) => /^image\/(png|jpe?g|gif|webp|bmp)$/i.test(a.content_type || '');

// ---- one ticket ----

export function createTicketStore(id) {
  const s = reactive({
    id,
    ticket: null,
    items: [],          // timeline: messages and events, oldest first
    loading: true,
    error: null,
    viewers: [],        // [{user_id, name, since}] other than me
    typing: [],         // [{key, who, name, internal, until}]
    customerReadUpTo: 0,
    newCount: 0,        // messages that arrived live (for the conversation's scroll logic)
  });
  const offs = [];
  let timelineTimer = null;
  let typingTimer = null;
  const me = () => (session.user ? session.user.id : 0);

  function setTicket(t) {
    if (!t || t.id !== id) return;
    const links = t.links || (s.ticket && s.ticket.links) || [];
    s.ticket = { ...t, links };
  }

  function addMessage(m) {
    if (!m || s.items.some((x) => x.type === 'message' && x.id === m.id)) return false;
    s.items.push({ ...m, type: 'message' });
    s.newCount++;
    return true;
  }

  async function loadTimeline() {
    const r = await api.get(`/api/v1/tickets/${id}/timeline`);
    // Keep live messages the timeline does not have yet (a race on reload).
    const ids = new Set(r.items.filter((x) => x.type === 'message').map((x) => x.id));
    const extra = s.items.filter((x) => x.type === 'message' && !ids.has(x.id) && x.live);
    s.items = [...r.items, ...extra];
  }

  function refreshTimelineSoon() {
    clearTimeout(timelineTimer);
    timelineTimer = setTimeout(() => loadTimeline().catch(() => {}), 250);
  }

  async function reloadTicket() {
    setTicket(await api.get(`/api/v1/tickets/${id}`));
  }

  async function loadViewers() {
    try {
      const r = await api.get(`/api/v1/tickets/${id}/viewers`);
      s.viewers = r.items.filter((v) => v.user_id !== me());
    } catch { /* not essential */ }
  }

  async function load() {
    s.loading = true;
    s.error = null;
    try {
      const [t] = await Promise.all([api.get(`/api/v1/tickets/${id}`), loadTimeline(), loadMeta()]);
      setTicket(t);
    } catch (err) {
      s.error = err;
    } finally {
      s.loading = false;
    }
    loadViewers();
  }

  async function patch(body) {
    const t = await api.patch(`/api/v1/tickets/${id}`, body);
    setTicket(t);
    refreshTimelineSoon();
    return t;
  }

  async function action(path, body) {
    const t = await api.post(`/api/v1/tickets/${id}/${path}`, body);
    if (t && t.id === id) setTicket(t);
    else await reloadTicket();
    refreshTimelineSoon();
    return t;
  }

  async function unlink(otherId) {
    setTicket(await api.del(`/api/v1/tickets/${id}/links/${otherId}`));
    refreshTimelineSoon();
  }

  async function send({ text, internal, attachments }) {
    const body = { text, internal: !!internal };
    if (attachments && attachments.length) body.attachments = attachments;
    const m = await api.post(`/api/v1/tickets/${id}/messages`, body);
    addMessage({ ...m, live: true });
    // A reply may open the ticket and sets first_response_at.
    if (!m.internal) reloadTicket().catch(() => {});
    return m;
  }

  function pruneTyping() {
    const now = Date.now();
    s.typing = s.typing.filter((x) => x.until > now);
    if (s.typing.length) typingTimer = setTimeout(pruneTyping, 1000);
    else typingTimer = null;
  }

  function onTyping(d) {
    if (d.ticket_id !== id) return;
    if (d.who === 'agent' && d.user_id === me()) return;
    const key = d.who === 'customer' ? 'customer' : `u${d.user_id}`;
    s.typing = s.typing.filter((x) => x.key !== key);
    if (d.typing !== false) {
      s.typing.push({ key, who: d.who, name: d.name || '', internal: !!d.internal, until: Date.now() + TYPING_TTL_MS });
      if (!typingTimer) typingTimer = setTimeout(pruneTyping, 1000);
    }
  }

  function onViewing(d) {
    if (d.ticket_id !== id || d.user_id === me()) return;
    s.viewers = s.viewers.filter((v) => v.user_id !== d.user_id);
    if (d.viewing !== false) s.viewers.push({ user_id: d.user_id, name: d.name, since: new Date().toISOString() });
  }

  function subscribe() {
    offs.push(realtime.on('ticket.updated', (d) => {
      if (!d.ticket || d.ticket.id !== id) return;
      setTicket(d.ticket);
      // Merge, split and link events come without changes: links moved.
      if (!d.changes) reloadTicket().catch(() => {});
      refreshTimelineSoon();
    }));
    offs.push(realtime.on('message.created', (d) => {
      if (d.ticket_id !== id || !d.message) return;
      addMessage({ ...d.message, live: true });
      // The author stopped typing once the message is there.
      const a = d.message.author || {};
      s.typing = s.typing.filter((x) => !(a.kind === 'customer' ? x.key === 'customer' : x.key === `u${a.id}`));
    }));
    offs.push(realtime.on('typing', onTyping));
    offs.push(realtime.on('viewing', onViewing));
    offs.push(realtime.on('read', (d) => {
      if (d.ticket_id === id && d.who === 'customer') s.customerReadUpTo = Math.max(s.customerReadUpTo, d.message_id);
    }));
    offs.push(realtime.on('presence', (d) => {
      if (d.status === 'offline' && s.viewers.some((v) => v.user_id === d.user_id)) loadViewers();
    }));
    offs.push(realtime.on('resync', () => { reloadTicket().catch(() => {}); loadTimeline().catch(() => {}); loadViewers(); }));
    offs.push(realtime.on('open', () => loadViewers()));
    realtime.send({ type: 'viewing', ticket_id: id, viewing: true });
  }

  function dispose() {
    for (const off of offs.splice(0)) off();
    clearTimeout(timelineTimer);
    clearTimeout(typingTimer);
    realtime.send({ type: 'viewing', ticket_id: id, viewing: false });
  }

  return { state: s, load, loadTimeline, reloadTicket, patch, action, unlink, send, subscribe, dispose };
}
