// Users, teams and the account through the API: create, read, list with a
// cursor, change; team membership.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, assertError } = require('./lib/harness');

let srv;
let admin;
before(async () => {
  srv = await new Server().start();
  admin = await srv.loginAs('admin');
});
after(async () => { await srv.stop(); });

test('create a user, read it back, e-mail normalised', async () => {
  const r = await admin.post('/api/v1/users', { email: 'New.Agent@Demo.Kefu.Local', name: '新客服 New', role: 'agent' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.email, 'new.agent@demo.kefu.local');
  assert.equal(r.body.role.name, 'agent');
  assert.equal(r.body.active, true);
  assert.equal(r.body.has_password, false);
  assert.equal(r.body.password_hash, undefined);
  const g = await admin.get(`/api/v1/users/${r.body.id}`);
  assert.deepEqual(g.body, r.body);
  assertError(await admin.post('/api/v1/users', { email: 'new.agent@demo.kefu.local', name: 'Again', role: 'agent' }), 409, 'conflict');
  assertError(await admin.post('/api/v1/users', { email: 'not-an-address', name: 'X', role: 'agent' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/users', { email: 'x@y.example', name: 'X', role: 'no-such-role' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/users', { email: 'x@y.example', name: 'X', role: 'agent', password: 'short' }), 400, 'weak_password');
});

test('users list pages with a cursor and every user appears once', async () => {
  for (let i = 0; i < 5; i++)
    await admin.post('/api/v1/users', { email: `page${i}@demo.kefu.local`, name: `Page ${i}`, role: 'agent' });
  const seen = [];
  let next = null;
  let pages = 0;
  do {
    const r = await admin.get(`/api/v1/users?limit=3${next ? `&after=${next}` : ''}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.items.length <= 3);
    seen.push(...r.body.items.map((u) => u.id));
    next = r.body.next;
    pages++;
  } while (next && pages < 50);
  assert.equal(new Set(seen).size, seen.length);
  assert.equal(String(seen.length), srv.sql("SELECT COUNT(*) FROM users WHERE account_id = (SELECT id FROM accounts WHERE slug = 'demo')"));
  assertError(await admin.get('/api/v1/users?limit=500'), 400, 'invalid');
  assertError(await admin.get('/api/v1/users?after=abc'), 400, 'invalid');
});

test('teams: create, rename, members in and out, delete', async () => {
  const t = await admin.post('/api/v1/teams', { name: 'VIP 客户组', description: 'Key accounts' });
  assert.equal(t.status, 201);
  assert.deepEqual(t.body.members, []);
  const agent = (await admin.get('/api/v1/users')).body.items.find((u) => u.email === srv.logins.agent.email);
  const added = await admin.put(`/api/v1/teams/${t.body.id}/members/${agent.id}`);
  assert.equal(added.status, 200);
  assert.deepEqual(added.body.members.map((m) => m.id), [agent.id]);
  assert.equal((await admin.put(`/api/v1/teams/${t.body.id}/members/${agent.id}`)).status, 200, 'adding twice is fine');
  const u = await admin.get(`/api/v1/users/${agent.id}`);
  assert.ok(u.body.teams.some((x) => x.name === 'VIP 客户组'));
  const renamed = await admin.patch(`/api/v1/teams/${t.body.id}`, { name: 'VIP 组' });
  assert.equal(renamed.body.name, 'VIP 组');
  assert.equal(renamed.body.description, 'Key accounts');
  const removed = await admin.del(`/api/v1/teams/${t.body.id}/members/${agent.id}`);
  assert.deepEqual(removed.body.members, []);
  assert.equal((await admin.del(`/api/v1/teams/${t.body.id}`)).status, 204);
  assertError(await admin.get(`/api/v1/teams/${t.body.id}`), 404, 'not_found');
  assertError(await admin.put(`/api/v1/teams/999999/members/${agent.id}`), 404, 'not_found');
});

test('demo teams exist with their members', async () => {
  const teams = (await admin.get('/api/v1/teams')).body.items.map((t) => t.name);
  for (const name of ['售前', '售后', '技术支持']) assert.ok(teams.includes(name), name);
});

test('the account can be renamed by an admin', async () => {
  const r = await admin.patch('/api/v1/account', { name: '演示公司（新）' });
  assert.equal(r.status, 200);
  assert.equal(r.body.name, '演示公司（新）');
  assertError(await admin.patch('/api/v1/account', { name: '' }), 400, 'invalid');
});

test('PATCH /me changes only the caller\'s name', async () => {
  const c = await srv.loginAs('agent');
  const r = await c.patch('/api/v1/me', { name: 'Li Na 李娜' });
  assert.equal(r.status, 200);
  assert.equal(r.body.name, 'Li Na 李娜');
  assertError(await c.patch('/api/v1/me', { email: 'x@y.example' }), 400, 'invalid');
});
