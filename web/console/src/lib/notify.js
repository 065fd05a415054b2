// notify.js -- tells the agent about work that just became theirs: a ticket
// newly assigned to them (ticket.created / ticket.updated whose assignee
// becomes the agent) and a new customer message on a ticket assigned to them
// (message.created).  Per the user's preferences (notify_sound,
// notify_desktop, kept with session.savePreferences) it plays a short
// WebAudio chime and shows a browser Notification; clicking one opens
// #/tickets/ID.  Started by AppLayout:
//
//   const stop = startNotify(router)
//   beep()                          the chime (the settings' "play" button)
//   await askPermission()           'granted' | 'denied' | 'unsupported'
//   markOwnChange([ids])            the agent did this; no notice for it
import { realtime } from './realtime.js';
import { session, preference } from './session.js';
import { api } from './api.js';
import { i18n } from '../i18n/index.js';

const QUIET_MS = 3000;        // one notice per ticket per 3 s (created + message)
const assignees = new Map();  // ticket id -> assignee id (null: nobody), as last seen
const own = new Map();        // ticket id -> until when changes are the agent's own
const lastNotice = new Map(); // ticket id -> when we last told
let lastSound = 0;
let audio = null;

const me = () => (session.user ? session.user.id : 0);
const t = (...a) => i18n.global.t(...a);

export function markOwnChange(ids, ms = 5000) {
  const until = Date.now() + ms;
  for (const id of ids) own.set(Number(id), until);
}

function isOwn(id) {
  const until = own.get(id);
  return until && until > Date.now();
}

// A short two-note chime; no audio file.  Browsers start audio only after a
// user gesture, so the context is made (or resumed) lazily.
export function beep() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    audio = audio || new Ctx();
    if (audio.state === 'suspended') audio.resume();
    const now = audio.currentTime;
    [[880, 0], [1318.5, 0.13]].forEach(([freq, at]) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.12, now + at + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.25);
    });
  } catch { /* no sound then */ }
}

export function desktopSupported() {
  return typeof window !== 'undefined' && 'Notification' in window;
}

export async function askPermission() {
  if (!desktopSupported()) return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  try { return await Notification.requestPermission(); } catch { return 'denied'; }
}

// Whether the agent is looking at this very ticket now.
function watching(id) {
  return document.visibilityState === 'visible' && document.hasFocus() &&
    location.hash.replace(/[?].*$/, '') === `#/tickets/${id}`;
}

function tell(id, title, body, open) {
  const now = Date.now();
  if (watching(id) || now - (lastNotice.get(id) || 0) < QUIET_MS) return;
  lastNotice.set(id, now);
  if (preference('notify_sound', true) && now - lastSound > 1500) {
    lastSound = now;
    beep();
  }
  if (!preference('notify_desktop', false) || !desktopSupported() || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(title, { body, tag: `kefu-ticket-${id}`, lang: i18n.global.locale.value });
    n.onclick = () => {
      window.focus();
      open(id);
      n.close();
    };
  } catch { /* e.g. a browser that wants a service worker */ }
}

function short(text, n = 140) {
  const s = String(text || '').replace(/\s+/g, ' ').trim();
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

// Who a ticket is assigned to: from the events seen, else asked once.
async function assigneeOf(id) {
  if (assignees.has(id)) return assignees.get(id);
  try {
    const tk = await api.get(`/api/v1/tickets/${id}`);
    assignees.set(id, tk.assignee ? tk.assignee.id : null);
  } catch {
    assignees.set(id, null);
  }
  return assignees.get(id);
}

function onTicket(data, type, open) {
  const tk = data.ticket;
  if (!tk || !me()) return;
  const before = assignees.has(tk.id) ? assignees.get(tk.id) : undefined;
  const now = tk.assignee ? tk.assignee.id : null;
  assignees.set(tk.id, now);
  if (now !== me() || isOwn(tk.id)) return;
  let fresh;
  if (type === 'ticket.created') fresh = true;
  else {
    const change = (data.changes || []).find((c) => c.field === 'assignee' || c.field === 'assignee_id');
    fresh = change ? Number(change.to) === me() && Number(change.from) !== me() : before !== undefined && before !== me();
  }
  if (fresh) tell(tk.id, t('layout.notify.assigned_title', { number: tk.number }), short(tk.subject), open);
}

async function onMessage(data, open) {
  const m = data.message;
  if (!m || m.internal || !m.author || m.author.kind !== 'customer' || !me()) return;
  const id = data.ticket_id;
  if ((await assigneeOf(id)) !== me()) return;
  const name = m.author.name || t('layout.notify.customer');
  tell(id, t('layout.notify.message_title', { name, number: data.ticket_number || id }), short(m.text), open);
}

export function startNotify(router) {
  const open = (id) => router.push({ name: 'ticket', params: { id: String(id) } });
  const offs = [
    realtime.on('ticket.created', (d) => onTicket(d, 'ticket.created', open)),
    realtime.on('ticket.updated', (d) => onTicket(d, 'ticket.updated', open)),
    realtime.on('message.created', (d) => { onMessage(d, open); }),
    realtime.on('resync', () => assignees.clear()),
  ];
  // The browser may have audio suspended until the first gesture: wake it then.
  const wake = () => { if (audio && audio.state === 'suspended') audio.resume(); };
  window.addEventListener('pointerdown', wake, { passive: true });
  return () => {
    offs.forEach((off) => off());
    window.removeEventListener('pointerdown', wake);
    assignees.clear();
  };
}
