// `kefu gen`: a year of customers, tickets and conversations written
// straight into the tables, yet numbered, searchable and readable through
// the API like tickets that came in through a channel; the same seed
// writes the same data.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server } = require('./lib/harness');

// A fixed end of the year, so two runs can be compared row by row.
const NOW = String(Math.floor(Date.now() / 1000) * 1000);
const SIZE = ['--customers', '200', '--tickets', '1000', '--messages', '4', '--now', NOW];

let srv;
let run;
before(async () => {
  srv = await new Server({ demoTickets: 0, demoCustomers: 0 }).start();
  // while the server runs, as it would on a live desk
  run = await srv.cli(['gen', ...SIZE, '--seed', '7']);
});
after(async () => { await srv.stop(); });

// The ticket, message and customer rows, without ids (PostgreSQL's
// sequences may hand out others) and in a stable order.
function digest(server) {
  return [
    server.sql('SELECT number, subject, status, priority, category, origin, tags, created_at, ' +
      'updated_at, first_response_at, resolved_at, closed_at FROM tickets ORDER BY number'),
    server.sql('SELECT name, email, phone, level, tags, attributes, created_at FROM customers ORDER BY created_at, name'),
    server.sql('SELECT COUNT(*), SUM(LENGTH(text)), SUM(internal), SUM(created_at % 1000003) FROM messages'),
    server.sql('SELECT t.number, m.author_kind, m.text FROM messages m JOIN tickets t ON t.id = m.ticket_id ' +
      'WHERE t.number % 97 = 0 ORDER BY t.number, m.id'),
  ];
}

test('gen writes what it reports: numbered, indexed, in time order', async () => {
  assert.equal(run.status, 0, run.stderr);
  const m = run.stdout.match(/^gen: (\d+) customers, (\d+) tickets, (\d+) messages in [\d.]+ s \(\d+ tickets\/s\)$/m);
  assert.ok(m, run.stdout);
  assert.deepEqual([m[1], m[2]], ['200', '1000']);
  assert.equal(srv.sql('SELECT COUNT(*) FROM customers'), '200');
  assert.equal(srv.sql('SELECT COUNT(*) FROM messages'), m[3]);
  const perTicket = Number(m[3]) / 1000;
  assert.ok(perTicket > 3 && perTicket < 5, `about 4 messages a ticket, got ${perTicket}`);
  assert.equal(srv.sql('SELECT COUNT(DISTINCT number), MIN(number), MAX(number) FROM tickets'), '1000|1|1000');
  assert.equal(srv.sql("SELECT value FROM account_counters WHERE name = 'ticket'"), '1000');
  assert.equal(srv.sql('SELECT COUNT(*) FROM ticket_fts'), '1000');
  assert.equal(srv.sql("SELECT COUNT(DISTINCT ticket_id) FROM ticket_events WHERE kind = 'created'"), '1000');
  assert.equal(srv.sql('SELECT COUNT(*) FROM customers c WHERE NOT EXISTS ' +
    '(SELECT 1 FROM customer_identities i WHERE i.customer_id = c.id)'), '0', 'every customer can be found by a handle');
  assert.equal(srv.sql('SELECT COUNT(*) FROM tickets a JOIN tickets b ON b.number = a.number + 1 ' +
    'WHERE b.created_at < a.created_at'), '0', 'numbers follow time');
  assert.ok(Number(srv.sql('SELECT MAX(updated_at) FROM tickets')) <= Number(NOW), 'nothing in the future');
  for (const table of ['messages', 'ticket_events'])
    assert.equal(srv.sql(`SELECT COUNT(*) FROM ${table} a JOIN ${table} b ON b.ticket_id = a.ticket_id ` +
      'AND b.id = (SELECT MIN(id) FROM ' + table + ' c WHERE c.ticket_id = a.ticket_id AND c.id > a.id) ' +
      'WHERE b.created_at < a.created_at'), '0', `${table} of a ticket in time order`);
  assert.ok(Number(srv.sql('SELECT COUNT(*) FROM tickets WHERE csat_score IS NOT NULL')) > 0, 'some chats are rated');
  const spread = Number(srv.sql('SELECT MAX(created_at) - MIN(created_at) FROM tickets'));
  assert.ok(spread > 300 * 86400e3, 'tickets spread over the year');
  assert.equal(srv.sql('SELECT COUNT(DISTINCT origin) FROM tickets'), '7');
  assert.ok(Number(srv.sql('SELECT COUNT(DISTINCT status) FROM tickets')) >= 4);
  assert.ok(Number(srv.sql("SELECT COUNT(*) FROM tickets WHERE status IN ('resolved', 'closed')")) > 800, 'old tickets are solved');
  assert.equal(srv.sql("SELECT COUNT(*) FROM tickets WHERE status <> 'new' AND first_response_at IS NULL " +
    "AND id IN (SELECT ticket_id FROM messages WHERE author_kind = 'agent' AND internal = 0)"), '0');
  const verify = await srv.cli(['audit', 'verify']);
  assert.equal(verify.status, 0, verify.stdout);
  assert.equal(srv.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'account.generate'"), '1');
});

test('search finds generated tickets by a Chinese word, an English stem and an order number', async () => {
  const admin = await srv.loginAs('admin');
  const zh = (await admin.get(`/api/v1/tickets?q=${encodeURIComponent('退款')}`)).body.items;
  assert.ok(zh.length > 0, 'a Chinese word');
  const en = (await admin.get('/api/v1/tickets?q=refunds')).body.items;
  assert.ok(en.length > 0, 'an English stem');
  const text = srv.sql("SELECT ticket_id || ' ' || text FROM messages WHERE text LIKE '%订单号：%' ORDER BY id LIMIT 1");
  const [, ticketId, order] = text.match(/^(\d+) .*订单号：(\d+)/);
  const one = (await admin.get(`/api/v1/tickets?q=${order}`)).body.items;
  assert.deepEqual(one.map((t) => t.id), [Number(ticketId)], 'an order number finds its ticket alone');
});

test('the ticket, message and customer APIs read generated tickets back', async () => {
  const admin = await srv.loginAs('admin');
  const id = Number(srv.sql('SELECT MIN(ticket_id) FROM messages WHERE internal = 1'));
  const t = (await admin.get(`/api/v1/tickets/${id}`)).body;
  assert.equal(t.id, id);
  assert.ok(t.number > 0 && t.subject && t.customer.name, JSON.stringify(t));
  assert.ok(t.team, 'a team handles it');
  const msgs = (await admin.get(`/api/v1/tickets/${id}/messages`)).body.items;
  assert.equal(String(msgs.length), srv.sql(`SELECT COUNT(*) FROM messages WHERE ticket_id = ${id}`));
  assert.equal(msgs[0].author.kind, 'customer');
  assert.equal(msgs[0].author.id, t.customer.id);
  assert.ok(msgs.some((x) => x.internal && x.author.kind === 'agent'), 'an internal note');
  assert.ok(msgs.some((x) => !x.internal && x.author.kind === 'agent' && x.author.name), 'an agent replied');
  const tl = (await admin.get(`/api/v1/tickets/${id}/timeline`)).body.items;
  assert.ok(tl.some((x) => x.type === 'event' && x.kind === 'created'));
  const hist = (await admin.get(`/api/v1/customers/${t.customer.id}/history`)).body;
  assert.ok(hist.tickets.some((x) => x.id === id));
  // agents see their teams' generated tickets, as with any other
  const agent = await srv.loginAs('agent');
  const mine = (await agent.get('/api/v1/tickets?limit=50')).body.items;
  assert.ok(mine.length > 0);
  assert.ok(mine.every((x) => x.team && x.team.name === '售后'), 'only the 售后 team');
});

test('the same seed writes the same data; another seed other data', async () => {
  const again = new Server();
  const other = new Server();
  try {
    for (const [s, seed] of [[again, '7'], [other, '8']]) {
      const demo = await s.cli(['demo', '--tickets', '0', '--customers', '0']);
      assert.equal(demo.status, 0, demo.stderr);
      const r = await s.cli(['gen', ...SIZE, '--seed', seed]);
      assert.equal(r.status, 0, r.stderr);
    }
    const want = digest(srv);
    assert.deepEqual(digest(again), want);
    const differs = digest(other);
    assert.notDeepEqual(differs[0], want[0]);
    assert.notDeepEqual(differs[1], want[1]);
  } finally {
    await again.stop();
    await other.stop();
  }
});

test('a second run adds to the first: numbers go on, handles stay unique', async () => {
  const r = await srv.cli(['gen', '--customers', '50', '--tickets', '100', '--seed', '9']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(srv.sql('SELECT COUNT(DISTINCT number), MAX(number) FROM tickets'), '1100|1100');
  assert.equal(srv.sql('SELECT COUNT(*) FROM customers'), '250');
  assert.equal(srv.sql('SELECT COUNT(*) FROM customers c WHERE NOT EXISTS ' +
    '(SELECT 1 FROM customer_identities i WHERE i.customer_id = c.id)'), '0');
  assert.equal(srv.sql('SELECT COUNT(*) FROM ticket_fts'), '1100');
});
