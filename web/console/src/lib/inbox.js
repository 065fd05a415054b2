// inbox.js -- what the inbox and the sidebar share: the open-ticket counts
// per view (GET /api/v1/tickets/counts, refreshed on ticket events and after
// a reconnect), the saved views (GET /api/v1/views), the account's statuses
// (GET /api/v1/ticket-statuses), and whether a ticket belongs in a list
// (for live updates).  startInbox() is called once by AppLayout.
import { reactive } from 'vue';
import { api } from './api.js';
import { realtime } from './realtime.js';
import { session } from './session.js';

export const BUILTIN_VIEWS = ['mine', 'unassigned', 'my_teams', 'all'];
export const PRIORITIES = ['urgent', 'high', 'normal', 'low'];
export const CHANNELS = ['email', 'web', 'chat', 'api', 'phone', 'wechat', 'weibo', 'telegram', 'sms'];
export const BUILTIN_STATUSES = ['new', 'open', 'pending', 'resolved', 'closed'];

export const inbox = reactive({
  counts: { mine: 0, unassigned: 0, my_teams: 0, all: 0 },
  countsLoaded: false,
  views: [],      // saved views
  viewsLoaded: false,
  statuses: BUILTIN_STATUSES.map((name) => ({ name, category: name, builtin: true })),
});

let countTimer = null;

export async function loadCounts() {
  try {
    Object.assign(inbox.counts, await api.get('/api/v1/tickets/counts'));
    inbox.countsLoaded = true;
  } catch { /* keep the last ones */ }
}

// Many events in a burst (a bulk change): one request.
export function refreshCounts(delay = 600) {
  clearTimeout(countTimer);
  countTimer = setTimeout(loadCounts, delay);
}

export async function loadViews() {
  try { inbox.views = (await api.get('/api/v1/views')).items || []; } catch { inbox.views = []; }
  inbox.viewsLoaded = true;
}

export async function loadStatuses() {
  try {
    const r = await api.get('/api/v1/ticket-statuses');
    if (r && r.items && r.items.length) inbox.statuses = r.items;
  } catch { /* the built-in ones */ }
}

export function startInbox() {
  loadCounts();
  loadViews();
  loadStatuses();
  const offs = [
    realtime.on('ticket.created', () => refreshCounts()),
    realtime.on('ticket.updated', () => refreshCounts()),
    realtime.on('resync', () => refreshCounts(0)),
    realtime.on('open', () => refreshCounts(0)),
  ];
  return () => { offs.forEach((off) => off()); clearTimeout(countTimer); };
}

// The category of a status name (custom statuses map to a built-in one).
export function statusCategory(name) {
  const s = inbox.statuses.find((x) => x.name === name);
  return s ? s.category : name;
}

// The list filters of a route: a built-in view or a saved one ("saved-ID"),
// with the page's own filters on top.
export function viewFilters(viewKey, extra = {}) {
  let base = { view: 'mine' };
  if (BUILTIN_VIEWS.includes(viewKey)) base = { view: viewKey };
  else if (/^saved-\d+$/.test(viewKey || '')) {
    const v = inbox.views.find((x) => `saved-${x.id}` === viewKey);
    base = v ? { ...v.filters } : { view: 'all' };
  }
  const out = { ...base };
  for (const [k, v] of Object.entries(extra)) if (v) out[k] = v;
  return out;
}

// Whether a ticket (as events carry it) belongs in a list with these filters;
// null when the client cannot tell (full-text search).
export function ticketMatches(tk, f) {
  const user = session.user;
  if (!user || tk.merged_into) return false;
  const me = user.id;
  const myTeams = (user.teams || []).map((x) => x.id);
  const assignee = tk.assignee ? tk.assignee.id : null;
  const team = tk.team ? tk.team.id : null;
  // The data scope: what the agent may see at all.
  if (user.data_scope === 'own' && assignee !== me) return false;
  if (user.data_scope === 'team' && assignee !== me && !myTeams.includes(team)) return false;
  const view = f.view || 'all';
  if (view === 'mine' && assignee !== me) return false;
  if (view === 'unassigned' && assignee !== null) return false;
  if (view === 'my_teams' && !myTeams.includes(team)) return false;
  const category = tk.status_category || statusCategory(tk.status);
  if (f.status === 'unresolved') {
    if (!['new', 'open', 'pending'].includes(category)) return false;
  } else if (f.status && tk.status !== f.status && category !== f.status) {
    return false;
  }
  if (f.priority && tk.priority !== f.priority) return false;
  if (f.channel && tk.origin !== f.channel) return false;
  if (f.tag && !(tk.tags || []).includes(f.tag)) return false;
  if (f.customer_level && (!tk.customer || tk.customer.level !== f.customer_level)) return false;
  if (f.team_id && team !== Number(f.team_id)) return false;
  if (f.assignee_id && assignee !== Number(f.assignee_id)) return false;
  if (f.customer_id && (!tk.customer || tk.customer.id !== Number(f.customer_id))) return false;
  if (f.q) return null;
  return true;
}

// Where a ticket goes in a list of the given sort (default: updated, newest first).
export function sortKey(tk, sort = 'updated_desc') {
  const at = Date.parse(sort.startsWith('created') ? tk.created_at : tk.updated_at) || 0;
  return sort.endsWith('_asc') ? [at, tk.id] : [-at, -tk.id];
}
