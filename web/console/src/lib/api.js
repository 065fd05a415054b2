// api.js -- the REST API (docs/openapi.yaml) as the console calls it.
//
// JSON in and out; the browser sends the session cookie (same origin); every
// unsafe request carries the CSRF token the login (or GET /me) handed out.
// A failed call throws ApiError {status, code, message} with the server's
// own JSON error.  A 401 also tells the session (onUnauthenticated), so an
// expired login anywhere sends the agent back to the login page.

let csrf = null;
let unauthenticated = () => {};

export function setCsrf(token) { csrf = token || null; }
export function onUnauthenticated(fn) { unauthenticated = fn; }

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'error';
  }
}

async function request(method, path, body, { raw = false } = {}) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['x-csrf-token'] = csrf;
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, 'network', err.message);
  }
  if (raw) return res;
  const text = await res.text();
  let data = null;
  if (text && (res.headers.get('content-type') || '').includes('json')) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    if (res.status === 401 && !path.endsWith('/auth/login')) unauthenticated();
    throw new ApiError(res.status, e.code, e.message);
  }
  return data;
}

// Query string from an object, leaving out empty values.
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  get: (path, params) => request('GET', path + query(params)),
  post: (path, body) => request('POST', path, body === undefined ? {} : body),
  patch: (path, body) => request('PATCH', path, body),
  put: (path, body) => request('PUT', path, body),
  del: (path) => request('DELETE', path),
  // One file to POST /api/v1/attachments; resolves to the attachment.
  async upload(file) {
    const form = new FormData();
    form.append('file', file, file.name);
    const r = await request('POST', '/api/v1/attachments', form);
    return r && r.items ? r.items[0] : r;
  },
};
