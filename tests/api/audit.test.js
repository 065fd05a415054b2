// Every write through the API is audited in a hash chain that
// `kefu audit verify` checks; a tampered row is found and named.
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

test('writes record actor, action, target, time and link hashes', async () => {
  const t = await admin.post('/api/v1/teams', { name: '客服一组' });
  assert.equal(t.status, 201);
  const log = (await admin.get('/api/v1/audit?limit=5')).body;
  const e = log.items[0];
  assert.equal(e.action, 'team.create');
  assert.equal(e.target_type, 'team');
  assert.equal(e.target_id, t.body.id);
  assert.equal(e.actor.type, 'user');
  assert.equal(e.actor.label, srv.logins.admin.email);
  assert.equal(e.detail.name, '客服一组');
  assert.match(e.created_at, /^\d{4}-\d\d-\d\dT/);
  assert.match(e.hash, /^[0-9a-f]{64}$/);
  assert.match(e.request_id, /\S/);
  assert.equal(e.seq, log.items[1].seq + 1);
});

test('a failed write leaves no audit entry', async () => {
  const before = srv.sql('SELECT COUNT(*) FROM audit_log');
  assertError(await admin.post('/api/v1/teams', { name: '客服一组' }), 409, 'conflict');
  assert.equal(srv.sql('SELECT COUNT(*) FROM audit_log'), before);
});

test('passwords never reach the audit log', async () => {
  await admin.post('/api/v1/users', { email: 'secret@demo.kefu.local', name: 'S', role: 'agent', password: 'very-secret-pw' });
  assert.equal(srv.sql("SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%very-secret-pw%'"), '0');
});

test('the audit list pages with a cursor', async () => {
  const p1 = (await admin.get('/api/v1/audit?limit=2')).body;
  assert.equal(p1.items.length, 2);
  assert.ok(p1.next);
  const p2 = (await admin.get(`/api/v1/audit?limit=2&before=${p1.next}`)).body;
  assert.ok(p2.items[0].id < p1.items[1].id);
  assertError(await admin.get('/api/v1/audit?limit=0'), 400, 'invalid');
});

test('kefu audit verify passes, then names the first tampered entry', async () => {
  const ok = await srv.cli(['audit', 'verify']);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /intact/);
  const id = srv.sql("SELECT id FROM audit_log WHERE action = 'team.create' ORDER BY id LIMIT 1");
  srv.sql(`UPDATE audit_log SET detail = '{"name":"forged"}' WHERE id = ${id}`);
  const bad = await srv.cli(['audit', 'verify']);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, new RegExp(`BROKEN at entry id ${id} `));
  assert.match(bad.stdout, /contents changed/);
  assert.match(bad.stdout, /TAMPERED/);
});

test('deleted entries are found too, at the end and in the middle', async () => {
  const s2 = await new Server().start();
  try {
    const c = await s2.loginAs('admin');
    await c.post('/api/v1/teams', { name: 'One' });
    await c.post('/api/v1/teams', { name: 'Two' });
    await c.post('/api/v1/teams', { name: 'Three' });
    assert.equal((await s2.cli(['audit', 'verify'])).status, 0);
    const last = s2.sql('SELECT MAX(id) FROM audit_log');
    s2.sql(`DELETE FROM audit_log WHERE id = ${last}`);
    const tail = await s2.cli(['audit', 'verify']);
    assert.equal(tail.status, 1);
    assert.match(tail.stdout, /removed at the end/);
    const first = s2.sql("SELECT id FROM audit_log WHERE action = 'team.create' ORDER BY id LIMIT 1");
    s2.sql(`DELETE FROM audit_log WHERE id = ${first}`);
    const gap = await s2.cli(['audit', 'verify']);
    assert.equal(gap.status, 1);
    assert.match(gap.stdout, /sequence gap/);
  } finally {
    await s2.stop();
  }
});
