// Accounts are isolated: an id from account A is 404 in account B.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, assertError } = require('./lib/harness');

let srv;
let a;
let b;
before(async () => {
  srv = await new Server().start();
  const acct = await srv.cli(['account', 'create', '--name', 'Other Co 另一家', '--slug', 'other']);
  assert.equal(acct.status, 0, acct.stderr);
  const user = await srv.cli(['user', 'create', '--account', 'other', '--email', 'boss@other.example',
    '--name', 'Other Boss', '--role', 'admin', '--password', 'other-password-1']);
  assert.equal(user.status, 0, user.stderr);
  a = await srv.loginAs('admin');
  b = srv.client();
  assert.equal((await b.login('boss@other.example', 'other-password-1')).status, 200);
});
after(async () => { await srv.stop(); });

test('each admin sees only their own account', async () => {
  assert.equal((await a.get('/api/v1/account')).body.slug, 'demo');
  assert.equal((await b.get('/api/v1/account')).body.slug, 'other');
  const bUsers = (await b.get('/api/v1/users')).body.items;
  assert.deepEqual(bUsers.map((u) => u.email), ['boss@other.example']);
  assert.equal((await b.get('/api/v1/teams')).body.items.length, 0);
});

test('ids from account A are 404 in account B, for reads and writes', async () => {
  const aUser = (await a.get('/api/v1/users')).body.items[0];
  const aTeam = (await a.get('/api/v1/teams')).body.items[0];
  const aRole = (await a.get('/api/v1/roles')).body.items.find((r) => r.name === 'agent');
  assertError(await b.get(`/api/v1/users/${aUser.id}`), 404, 'not_found');
  assertError(await b.patch(`/api/v1/users/${aUser.id}`, { name: 'Hijacked' }), 404, 'not_found');
  assertError(await b.get(`/api/v1/teams/${aTeam.id}`), 404, 'not_found');
  assertError(await b.patch(`/api/v1/teams/${aTeam.id}`, { name: 'Hijacked' }), 404, 'not_found');
  assertError(await b.del(`/api/v1/teams/${aTeam.id}`), 404, 'not_found');
  assertError(await b.get(`/api/v1/roles/${aRole.id}`), 404, 'not_found');
  assertError(await b.del(`/api/v1/roles/${aRole.id}`), 404, 'not_found');
  // B cannot pull A's user into B's team, nor give B's user A's role
  const bTeam = await b.post('/api/v1/teams', { name: 'B team' });
  assertError(await b.put(`/api/v1/teams/${bTeam.body.id}/members/${aUser.id}`), 404, 'not_found');
  const bMe = (await b.get('/api/v1/me')).body;
  const nb = await b.post('/api/v1/users', { email: 'x@other.example', name: 'X', role: aRole.id });
  assertError(nb, 400, 'invalid');
  assert.equal((await a.get(`/api/v1/users/${aUser.id}`)).body.name, aUser.name, 'A is untouched');
  assert.equal((await a.get(`/api/v1/teams/${aTeam.id}`)).body.name, aTeam.name);
  assert.ok(bMe.id);
});

test('the audit log is per account', async () => {
  const bAudit = (await b.get('/api/v1/audit?limit=200')).body.items;
  assert.ok(bAudit.length > 0);
  const aAudit = (await a.get('/api/v1/audit?limit=200')).body.items;
  const aIds = new Set(aAudit.map((e) => e.id));
  assert.ok(bAudit.every((e) => !aIds.has(e.id)));
  assert.ok(bAudit.some((e) => e.action === 'team.create'));
  assert.ok(!aAudit.some((e) => e.detail && e.detail.name === 'B team'));
});

test('the same e-mail in two accounts needs the account to log in', async () => {
  const made = await srv.cli(['user', 'create', '--account', 'other', '--email', srv.logins.agent.email,
    '--name', 'Twin', '--role', 'agent', '--password', 'twin-password-1']);
  assert.equal(made.status, 0, made.stderr);
  const c = srv.client();
  assertError(await c.login(srv.logins.agent.email, 'twin-password-1'), 422, 'account_required');
  const r = await c.login(srv.logins.agent.email, 'twin-password-1', { account: 'other' });
  assert.equal(r.status, 200);
  assert.equal(r.body.user.account.slug, 'other');
  const d = srv.client();
  assert.equal((await d.login(srv.logins.agent.email, srv.logins.agent.password, { account: 'demo' })).status, 200);
});
