// `kefu demo`: a realistic account to explore (teams, agents, customers,
// tickets across statuses and channels), idempotent, audit chain intact.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server } = require('./lib/harness');

let srv;
before(async () => { srv = await new Server({ demoTickets: 400, demoCustomers: 60 }).start(); });
after(async () => { await srv.stop(); });

test('demo data spans statuses, channels, priorities and both languages', async () => {
  const admin = await srv.loginAs('admin');
  assert.equal(srv.sql('SELECT COUNT(*) FROM tickets'), '400');
  assert.equal(srv.sql('SELECT COUNT(*) FROM customers'), '60');
  const statuses = srv.sql('SELECT COUNT(DISTINCT status) FROM tickets');
  assert.equal(statuses, '5');
  assert.ok(Number(srv.sql('SELECT COUNT(DISTINCT origin) FROM tickets')) >= 5);
  assert.ok(Number(srv.sql('SELECT COUNT(*) FROM messages')) > 400);
  const teams = (await admin.get('/api/v1/teams')).body.items.map((t) => t.name).sort();
  assert.deepEqual(teams, ['售前', '售后', '技术支持'].sort());
  const counts = (await admin.get('/api/v1/tickets/counts')).body;
  assert.ok(counts.all > 0);
  const found = (await admin.get(`/api/v1/tickets?q=${encodeURIComponent('退款')}`)).body.items;
  assert.ok(found.length > 0, 'demo tickets are searchable');
  const spread = Number(srv.sql('SELECT MAX(created_at) - MIN(created_at) FROM tickets'));
  assert.ok(spread > 30 * 86400e3, 'tickets spread over weeks');
});

test('running demo again keeps the data and resets the logins', async () => {
  const again = await srv.cli(['demo', '--tickets', '400', '--customers', '60']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(srv.sql('SELECT COUNT(*) FROM tickets'), '400');
  assert.match(again.stdout, /^login: admin@demo\.kefu\.local \S+ admin$/m);
  const verify = await srv.cli(['audit', 'verify']);
  assert.equal(verify.status, 0, verify.stdout);
});
