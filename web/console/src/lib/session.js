// session.js -- who is logged in: the user record of GET /api/v1/me (with
// account, permissions, locale and preferences), login and logout, and the
// per-user settings the console keeps on the server (PATCH /api/v1/me).
import { reactive } from 'vue';
import { api, setCsrf, onUnauthenticated } from './api.js';

export const session = reactive({
  user: null,    // GET /api/v1/me, or null when logged out
  ready: false,  // the first GET /me has answered
});

let onLogout = () => {};
export function whenLoggedOut(fn) { onLogout = fn; }

function take(me) {
  session.user = me;
  setCsrf(me ? me.csrf_token : null);
}

// The current session, if the cookie still holds one.
export async function loadSession() {
  try {
    take(await api.get('/api/v1/me'));
  } catch {
    take(null);
  }
  session.ready = true;
  return session.user;
}

// Resolves to the user; throws ApiError (401 wrong login, 429 too many
// attempts, 423-like lockout as the server words it).
export async function login(email, password, account) {
  const body = { email, password };
  if (account) body.account = account;
  const r = await api.post('/api/v1/auth/login', body);
  setCsrf(r.csrf_token);
  return loadSession();
}

export async function logout() {
  try { await api.post('/api/v1/auth/logout'); } catch { /* gone already */ }
  take(null);
  onLogout();
}

onUnauthenticated(() => {
  if (session.user) {
    take(null);
    onLogout();
  }
});

export function can(permission) {
  return !!(session.user && session.user.permissions.includes(permission));
}

// Settings kept per user on the server.
export async function saveLocale(locale) {
  if (!session.user) return;
  const me = await api.patch('/api/v1/me', { locale });
  take({ ...me, csrf_token: session.user.csrf_token });
}

export function preference(key, fallback) {
  const p = session.user && session.user.preferences;
  return p && key in p ? p[key] : fallback;
}

export async function savePreferences(patch) {
  if (!session.user) return;
  const preferences = { ...(session.user.preferences || {}), ...patch };
  const me = await api.patch('/api/v1/me', { preferences });
  take({ ...me, csrf_token: session.user.csrf_token });
}
