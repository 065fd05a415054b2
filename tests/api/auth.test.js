// Login, sessions, CSRF, lockout, rate limit, API tokens, logout, password change.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, assertError } = require('./lib/harness');

let srv;
before(async () => { srv = await new Server({ args: ['--login-max-failures', '3', '--login-lockout', '60'] }).start(); });
after(async () => { await srv.stop(); });

test('login sets an HttpOnly SameSite=Lax session cookie and returns the CSRF token', async () => {
  const c = srv.client();
  const { email, password } = srv.logins.admin;
  const r = await c.login(email, password);
  assert.equal(r.status, 200);
  const cookie = r.headers.get('set-cookie');
  assert.match(cookie, /^kefu_session=[A-Za-z0-9_-]{40,};/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  assert.doesNotMatch(cookie, /Secure/, 'plain HTTP without a trusted proxy: no Secure flag');
  assert.equal(typeof r.body.csrf_token, 'string');
  assert.ok(r.body.csrf_token.length >= 20);
  assert.equal(r.body.user.email, email);
  assert.equal(r.body.user.role.name, 'admin');
  const me = await c.get('/api/v1/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.email, email);
  assert.equal(me.body.csrf_token, r.body.csrf_token);
  assert.ok(me.body.permissions.includes('users.write'));
  assert.equal(me.body.account.slug, 'demo');
});

test('the session cookie is stored only as a hash', async () => {
  const c = await srv.loginAs('agent');
  const raw = c.cookie.split('=')[1];
  const rows = srv.sql(`SELECT COUNT(*) FROM sessions WHERE token_hash = '${raw}'`);
  assert.equal(rows, '0');
  assert.ok(Number(srv.sql('SELECT COUNT(*) FROM sessions')) > 0);
});

test('no credentials, a made-up cookie or bearer token are 401', async () => {
  const c = srv.client();
  assertError(await c.get('/api/v1/me'), 401, 'unauthenticated');
  c.cookie = 'kefu_session=forged-value-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  assertError(await c.get('/api/v1/me'), 401, 'unauthenticated');
  const t = srv.client();
  t.token = 'kefu_notarealtoken';
  assertError(await t.get('/api/v1/me'), 401, 'unauthenticated');
});

test('wrong password and unknown e-mail give the same 401', async () => {
  const c = srv.client();
  const a = await c.login(srv.logins.supervisor.email, 'wrong-password');
  const b = await c.login('nobody@example.com', 'wrong-password');
  assertError(a, 401, 'invalid_credentials');
  assertError(b, 401, 'invalid_credentials');
  assert.equal(a.body.error.message, b.body.error.message);
  // the failure was counted, and one good login resets it
  assert.equal((await c.login(srv.logins.supervisor.email, srv.logins.supervisor.password)).status, 200);
});

test('login body is validated', async () => {
  const c = srv.client();
  assertError(await c.post('/api/v1/auth/login', { email: 'a@b.co' }), 400, 'invalid');
  assertError(await c.post('/api/v1/auth/login', { email: 1, password: 'x' }), 400, 'invalid');
  assertError(await c.post('/api/v1/auth/login', { email: 'a@b.co', password: 'xxxxxxxx', extra: 1 }), 400, 'invalid');
  assertError(await c.post('/api/v1/auth/login', '{"email":'), 400, 'bad_json');
});

test('repeated failures lock the user out, even with the right password; an admin unlocks', async () => {
  const admin = await srv.loginAs('admin');
  const users = (await admin.get('/api/v1/users?limit=200')).body.items;
  const victim = users.find((u) => u.email === 'wang.fang@demo.kefu.local');
  const c = srv.client();
  assertError(await c.login(victim.email, 'bad-one-1'), 401, 'invalid_credentials');
  assertError(await c.login(victim.email, 'bad-one-2'), 401, 'invalid_credentials');
  const third = await c.login(victim.email, 'bad-one-3');
  assertError(third, 429, 'locked');
  const locked = await c.login(victim.email, 'kefu-agent-2026');
  assertError(locked, 429, 'locked');
  assert.ok(Number(locked.headers.get('retry-after')) > 0);
  const shown = await admin.get(`/api/v1/users/${victim.id}`);
  assert.equal(shown.body.locked, true);
  const audit = await admin.get('/api/v1/audit?action=auth.login_failed');
  assert.ok(audit.body.items.some((e) => e.target_id === victim.id && e.detail.locked === true));
  assert.equal((await admin.patch(`/api/v1/users/${victim.id}`, { unlock: true })).status, 200);
  assert.equal((await c.login(victim.email, 'kefu-agent-2026')).status, 200);
});

test('unsafe requests on a cookie session need the CSRF token', async () => {
  const c = await srv.loginAs('admin');
  const body = { name: 'CSRF probe team' };
  assertError(await c.post('/api/v1/teams', body, { noCsrf: true }), 403, 'csrf_failed');
  assertError(await c.post('/api/v1/teams', body, { noCsrf: true, headers: { 'x-csrf-token': 'nope' } }), 403, 'csrf_failed');
  const count = srv.sql("SELECT COUNT(*) FROM teams WHERE name = 'CSRF probe team'");
  assert.equal(count, '0', 'a refused request changes nothing');
  assert.equal((await c.post('/api/v1/teams', body)).status, 201);
  // GET needs none
  assert.equal((await c.get('/api/v1/teams', { noCsrf: true })).status, 200);
});

test('API tokens: shown once, stored hashed, usable as Bearer without CSRF, revocable', async () => {
  const c = await srv.loginAs('supervisor');
  const made = await c.post('/api/v1/me/tokens', { name: 'reporting script', expires_in_days: 30 });
  assert.equal(made.status, 201);
  assert.match(made.body.token, /^kefu_[A-Za-z0-9_-]{40,}$/);
  assert.equal(made.body.prefix, made.body.token.slice(0, 12));
  assert.equal(srv.sql(`SELECT COUNT(*) FROM api_tokens WHERE token_hash = '${made.body.token}'`), '0');
  const list = await c.get('/api/v1/me/tokens');
  const listed = list.body.items.find((t) => t.id === made.body.id);
  assert.ok(listed);
  assert.equal(listed.token, undefined, 'a token is never shown again');

  const bot = srv.client();
  bot.token = made.body.token;
  const me = await bot.get('/api/v1/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.email, srv.logins.supervisor.email);
  assert.equal(me.body.csrf_token, null);
  const team = await bot.post('/api/v1/teams', { name: 'Made by token' });
  assert.equal(team.status, 201, JSON.stringify(team.body));
  const audit = await (await srv.loginAs('admin')).get('/api/v1/audit?action=team.create');
  assert.equal(audit.body.items[0].actor.type, 'token');

  assert.equal((await c.del(`/api/v1/me/tokens/${made.body.id}`)).status, 204);
  assertError(await bot.get('/api/v1/me'), 401, 'unauthenticated');
  assertError(await c.del(`/api/v1/me/tokens/${made.body.id}`), 404, 'not_found');
});

test('token names and expiry are validated', async () => {
  const c = await srv.loginAs('agent');
  assertError(await c.post('/api/v1/me/tokens', {}), 400, 'invalid');
  assertError(await c.post('/api/v1/me/tokens', { name: 'x', expires_in_days: -1 }), 400, 'invalid');
  assertError(await c.post('/api/v1/me/tokens', { name: 'x', expires_in_days: 'soon' }), 400, 'invalid');
});

test('logout ends the session', async () => {
  const c = await srv.loginAs('agent');
  const cookie = c.cookie;
  const r = await c.post('/api/v1/auth/logout');
  assert.equal(r.status, 204);
  assert.match(r.headers.get('set-cookie'), /kefu_session=;.*Max-Age=0/);
  const again = srv.client();
  again.cookie = cookie;
  assertError(await again.get('/api/v1/me'), 401, 'unauthenticated');
});

test('change password: needs the current one, ends other sessions, old one stops working', async () => {
  const admin = await srv.loginAs('admin');
  const made = await admin.post('/api/v1/users', {
    email: 'pw.change@demo.kefu.local', name: 'PW Change', role: 'agent', password: 'first-password-1',
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const a = srv.client();
  const b = srv.client();
  assert.equal((await a.login('pw.change@demo.kefu.local', 'first-password-1')).status, 200);
  assert.equal((await b.login('pw.change@demo.kefu.local', 'first-password-1')).status, 200);
  assertError(await a.post('/api/v1/me/password', { current_password: 'wrong', new_password: 'second-password-2' }), 403, 'invalid_credentials');
  assertError(await a.post('/api/v1/me/password', { current_password: 'first-password-1', new_password: 'short' }), 400, 'weak_password');
  assert.equal((await a.post('/api/v1/me/password', { current_password: 'first-password-1', new_password: 'second-password-2' })).status, 204);
  assert.equal((await a.get('/api/v1/me')).status, 200, 'the session that changed it stays');
  assertError(await b.get('/api/v1/me'), 401, 'unauthenticated');
  assertError(await srv.client().login('pw.change@demo.kefu.local', 'first-password-1'), 401, 'invalid_credentials');
  assert.equal((await srv.client().login('pw.change@demo.kefu.local', 'second-password-2')).status, 200);
});

test('a deactivated user is logged out and cannot log in', async () => {
  const admin = await srv.loginAs('admin');
  const made = await admin.post('/api/v1/users', {
    email: 'leaver@demo.kefu.local', name: 'Leaver', role: 'agent', password: 'leaver-password',
  });
  const c = srv.client();
  assert.equal((await c.login('leaver@demo.kefu.local', 'leaver-password')).status, 200);
  assert.equal((await admin.patch(`/api/v1/users/${made.body.id}`, { active: false })).status, 200);
  assertError(await c.get('/api/v1/me'), 401, 'unauthenticated');
  assertError(await c.login('leaver@demo.kefu.local', 'leaver-password'), 401, 'invalid_credentials');
});
