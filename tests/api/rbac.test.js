// Each built-in role allowed and denied, custom roles with their own
// permission list, and no privilege escalation through users or roles.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, assertError } = require('./lib/harness');

let srv;
before(async () => { srv = await new Server().start(); });
after(async () => { await srv.stop(); });

// route -> which built-in roles may call it
const matrix = [
  ['GET', '/api/v1/me', ['admin', 'supervisor', 'agent']],
  ['GET', '/api/v1/account', ['admin', 'supervisor', 'agent']],
  ['GET', '/api/v1/permissions', ['admin', 'supervisor', 'agent']],
  ['GET', '/api/v1/users', ['admin', 'supervisor', 'agent']],
  ['GET', '/api/v1/teams', ['admin', 'supervisor', 'agent']],
  ['GET', '/api/v1/roles', ['admin', 'supervisor']],
  ['GET', '/api/v1/audit', ['admin', 'supervisor']],
  ['POST', '/api/v1/users', ['admin']],
  ['POST', '/api/v1/roles', ['admin']],
  ['POST', '/api/v1/teams', ['admin', 'supervisor']],
  ['PATCH', '/api/v1/account', ['admin']],
];

for (const role of ['admin', 'supervisor', 'agent']) {
  test(`${role}: allowed routes answer, others are 403 forbidden`, async () => {
    const c = await srv.loginAs(role);
    for (const [method, path, allowed] of matrix) {
      // An empty object body: allowed roles get past the permission check
      // and fail validation (400) or succeed; denied ones get 403.
      const r = await c.req(method, path, method === 'GET' ? undefined : {});
      if (allowed.includes(role)) {
        assert.notEqual(r.status, 403, `${role} ${method} ${path} should be allowed`);
        assert.notEqual(r.status, 401);
      } else {
        assertError(r, 403, 'forbidden');
      }
    }
  });
}

test('a denied write changes nothing', async () => {
  const agent = await srv.loginAs('agent');
  const before = srv.sql('SELECT COUNT(*) FROM teams');
  assertError(await agent.post('/api/v1/teams', { name: 'Agents may not' }), 403, 'forbidden');
  assert.equal(srv.sql('SELECT COUNT(*) FROM teams'), before);
});

test('a custom role grants exactly its permissions', async () => {
  const admin = await srv.loginAs('admin');
  const role = await admin.post('/api/v1/roles', {
    name: 'Team planner', permissions: ['teams.read', 'teams.write'], data_scope: 'team',
  });
  assert.equal(role.status, 201, JSON.stringify(role.body));
  assert.deepEqual(role.body.permissions.sort(), ['teams.read', 'teams.write']);
  assert.equal(role.body.data_scope, 'team');
  assert.equal(role.body.builtin, false);
  const u = await admin.post('/api/v1/users', {
    email: 'planner@demo.kefu.local', name: 'Planner', role: role.body.id, password: 'planner-password',
  });
  assert.equal(u.status, 201, JSON.stringify(u.body));
  const p = srv.client();
  assert.equal((await p.login('planner@demo.kefu.local', 'planner-password')).status, 200);
  assert.equal((await p.get('/api/v1/teams')).status, 200);
  assert.equal((await p.post('/api/v1/teams', { name: 'Planned team' })).status, 201);
  assertError(await p.get('/api/v1/users'), 403, 'forbidden');
  assertError(await p.get('/api/v1/audit'), 403, 'forbidden');

  // Taking a permission away applies to the next request.
  assert.equal((await admin.patch(`/api/v1/roles/${role.body.id}`, { permissions: ['teams.read'] })).status, 200);
  assertError(await p.post('/api/v1/teams', { name: 'Planned team 2' }), 403, 'forbidden');
  // A role in use cannot be deleted.
  assertError(await admin.del(`/api/v1/roles/${role.body.id}`), 409, 'conflict');
});

test('roles: unknown permissions and scopes are rejected; built-ins are protected', async () => {
  const admin = await srv.loginAs('admin');
  assertError(await admin.post('/api/v1/roles', { name: 'Bad', permissions: ['tickets.fly'] }), 400, 'invalid');
  assertError(await admin.post('/api/v1/roles', { name: 'Bad', permissions: [], data_scope: 'galaxy' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/roles', { name: 'Bad' }), 400, 'invalid');
  const roles = (await admin.get('/api/v1/roles')).body.items;
  const builtin = roles.filter((r) => r.builtin).map((r) => r.name).sort();
  assert.deepEqual(builtin, ['admin', 'agent', 'supervisor']);
  const adminRole = roles.find((r) => r.name === 'admin');
  const agentRole = roles.find((r) => r.name === 'agent');
  assertError(await admin.del(`/api/v1/roles/${agentRole.id}`), 422, 'unprocessable');
  assertError(await admin.patch(`/api/v1/roles/${agentRole.id}`, { name: 'renamed' }), 422, 'unprocessable');
  assertError(await admin.patch(`/api/v1/roles/${adminRole.id}`, { permissions: ['users.read'] }), 422, 'unprocessable');
  assertError(await admin.post('/api/v1/roles', { name: 'agent', permissions: [] }), 409, 'conflict');
  const tmp = await admin.post('/api/v1/roles', { name: 'Temporary', permissions: [] });
  assert.equal(tmp.status, 201);
  assert.equal((await admin.del(`/api/v1/roles/${tmp.body.id}`)).status, 204);
  assertError(await admin.get(`/api/v1/roles/${tmp.body.id}`), 404, 'not_found');
});

test('nobody grants more than they hold', async () => {
  const admin = await srv.loginAs('admin');
  const hr = await admin.post('/api/v1/roles', {
    name: 'HR', permissions: ['users.read', 'users.write', 'roles.read', 'roles.write'], data_scope: 'all',
  });
  assert.equal(hr.status, 201);
  await admin.post('/api/v1/users', { email: 'hr@demo.kefu.local', name: 'HR', role: 'HR', password: 'hr-password-1' });
  const c = srv.client();
  assert.equal((await c.login('hr@demo.kefu.local', 'hr-password-1')).status, 200);
  const before = srv.sql('SELECT COUNT(*) FROM users');
  assertError(await c.post('/api/v1/users', { email: 'evil@demo.kefu.local', name: 'E', role: 'admin', password: 'evil-password' }), 403, 'forbidden');
  assert.equal(srv.sql('SELECT COUNT(*) FROM users'), before);
  assertError(await c.post('/api/v1/roles', { name: 'Super', permissions: ['audit.read'] }), 403, 'forbidden');
  // within their own permissions it works
  const ok = await c.post('/api/v1/users', { email: 'clerk@demo.kefu.local', name: 'Clerk', role: 'HR', password: 'clerk-password' });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  // and they cannot change their own role (naming the current one is fine)
  const me = (await c.get('/api/v1/me')).body;
  assert.equal((await admin.post('/api/v1/roles', { name: 'Reader', permissions: ['users.read'] })).status, 201);
  assertError(await c.patch(`/api/v1/users/${me.id}`, { role: 'Reader' }), 422, 'unprocessable');
  assert.equal((await c.patch(`/api/v1/users/${me.id}`, { role: 'HR', name: 'HR person' })).status, 200);
});
