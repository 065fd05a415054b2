// lib/api.js with fetch mocked: the CSRF token on unsafe calls only, JSON
// in and out, the ApiError shape, and a 401 telling the session.
import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import { api, ApiError, setCsrf, onUnauthenticated, query } from '../src/lib/api.js';

function reply(status, body, type = 'application/json') {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: new Headers(type ? { 'content-type': type } : {}),
    text: async () => text,
  };
}

let fetchMock;
let unauth;
beforeEach(() => {
  fetchMock = vi.fn(async () => reply(200, { ok: true }));
  vi.stubGlobal('fetch', fetchMock);
  unauth = vi.fn();
  onUnauthenticated(unauth);
  setCsrf('csrf-123');
});
afterEach(() => {
  vi.unstubAllGlobals();
  setCsrf(null);
});

const call = (i = 0) => {
  const [url, init] = fetchMock.mock.calls[i];
  return { url, ...init, headers: init.headers };
};

describe('requests', () => {
  it('GET sends no CSRF token and builds the query string', async () => {
    expect(await api.get('/api/v1/tickets', { view: 'mine', status: '', q: null, limit: 5, x: undefined })).toEqual({ ok: true });
    const c = call();
    expect(c.url).toBe('/api/v1/tickets?view=mine&limit=5');
    expect(c.method).toBe('GET');
    expect(c.headers['x-csrf-token']).toBeUndefined();
    expect(c.headers.accept).toBe('application/json');
    expect(c.body).toBeUndefined();
    expect(c.credentials).toBe('same-origin');
  });

  it('POST, PATCH, PUT and DELETE carry the CSRF token; bodies go as JSON', async () => {
    await api.post('/api/v1/tickets/4/messages', { text: '您好' });
    await api.patch('/api/v1/tickets/4', { status: 'pending' });
    await api.put('/api/v1/presence', { status: 'away' });
    await api.del('/api/v1/tickets/4/tags/x');
    await api.post('/api/v1/auth/logout');
    const [post, patch, put, del, empty] = [0, 1, 2, 3, 4].map(call);
    for (const c of [post, patch, put, del, empty]) expect(c.headers['x-csrf-token']).toBe('csrf-123');
    expect(post.method).toBe('POST');
    expect(post.headers['content-type']).toBe('application/json');
    expect(JSON.parse(post.body)).toEqual({ text: '您好' });
    expect(patch.method).toBe('PATCH');
    expect(JSON.parse(patch.body)).toEqual({ status: 'pending' });
    expect(put.method).toBe('PUT');
    expect(del.method).toBe('DELETE');
    expect(del.body).toBeUndefined();
    expect(JSON.parse(empty.body)).toEqual({}); // a POST without a body sends {}
  });

  it('sends no token before one is known', async () => {
    setCsrf(null);
    await api.post('/api/v1/auth/login', { email: 'a@b.c', password: 'x' });
    expect(call().headers['x-csrf-token']).toBeUndefined();
  });

  it('uploads a file as multipart with the token', async () => {
    fetchMock.mockResolvedValueOnce(reply(201, { items: [{ id: 9, filename: 'a.png' }] }));
    const file = new File(['png'], 'a.png', { type: 'image/png' });
    expect(await api.upload(file)).toEqual({ id: 9, filename: 'a.png' });
    const c = call();
    expect(c.url).toBe('/api/v1/attachments');
    expect(c.body).toBeInstanceOf(FormData);
    expect(c.body.get('file').name).toBe('a.png');
    expect(c.headers['content-type']).toBeUndefined(); // the browser sets the boundary
    expect(c.headers['x-csrf-token']).toBe('csrf-123');
  });

  it('answers null for an empty or non-JSON success', async () => {
    fetchMock.mockResolvedValueOnce(reply(204, undefined, null));
    expect(await api.del('/api/v1/x')).toBeNull();
    fetchMock.mockResolvedValueOnce(reply(200, 'plain', 'text/plain'));
    expect(await api.get('/api/v1/y')).toBeNull();
  });

  it('query() leaves out empty values', () => {
    expect(query({})).toBe('');
    expect(query({ a: 1, b: '', c: null, d: undefined, e: 0, f: false })).toBe('?a=1&e=0&f=false');
    expect(query({ q: '退款 refund' })).toBe('?q=%E9%80%80%E6%AC%BE+refund');
  });
});

describe('errors', () => {
  it('throw ApiError with the server\'s status, code and message', async () => {
    fetchMock.mockResolvedValueOnce(reply(404, { error: { code: 'not_found', message: 'ticket not found' } }));
    const err = await api.get('/api/v1/tickets/99').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(Error);
    expect(err.status).toBe(404);
    expect(err.code).toBe('not_found');
    expect(err.message).toBe('ticket not found');
    expect(unauth).not.toHaveBeenCalled();
  });

  it('without a JSON body still have a status and a code', async () => {
    fetchMock.mockResolvedValueOnce(reply(502, '<html>bad gateway</html>', 'text/html'));
    const err = await api.get('/api/v1/me').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(502);
    expect(err.code).toBe('error');
    expect(err.message).toBe('HTTP 502');
  });

  it('a network failure is status 0, code network', async () => {
    fetchMock.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    const err = await api.post('/api/v1/tickets', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.code).toBe('network');
    expect(err.message).toBe('Failed to fetch');
  });

  it('a 401 tells the session, except from the login itself', async () => {
    fetchMock.mockResolvedValueOnce(reply(401, { error: { code: 'unauthenticated', message: 'log in' } }));
    const err = await api.get('/api/v1/tickets').catch((e) => e);
    expect(err.status).toBe(401);
    expect(err.code).toBe('unauthenticated');
    expect(unauth).toHaveBeenCalledTimes(1);
    fetchMock.mockResolvedValueOnce(reply(401, { error: { code: 'unauthenticated', message: 'wrong password' } }));
    const bad = await api.post('/api/v1/auth/login', { email: 'a', password: 'b' }).catch((e) => e);
    expect(bad.message).toBe('wrong password');
    expect(unauth).toHaveBeenCalledTimes(1);
  });

  it('a 403 (e.g. a stale CSRF token) does not log out', async () => {
    fetchMock.mockResolvedValueOnce(reply(403, { error: { code: 'csrf_failed', message: 'bad token' } }));
    const err = await api.post('/api/v1/tickets', {}).catch((e) => e);
    expect(err.status).toBe(403);
    expect(err.code).toBe('csrf_failed');
    expect(unauth).not.toHaveBeenCalled();
  });
});
