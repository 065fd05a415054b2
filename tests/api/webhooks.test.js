// Outgoing webhooks: CRUD and validation, who may manage them, and events
// delivered to a local receiver -- signed, retried, failed after the last
// attempt, listed in the delivery log and retried by hand.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, Receiver, assertError, kefuSignatureOk, until } = require('./lib/harness');

let srv;
let admin;
let rcv;
let n = 0;
before(async () => {
  // Fast retries: the first after 0.5-1 s, failed after the second attempt.
  srv = await new Server({ args: ['--delivery-backoff', '1', '--delivery-max-attempts', '2',
    '--delivery-timeout', '3', '--delivery-lease', '5'] }).start();
  admin = await srv.loginAs('admin');
  rcv = await new Receiver().start();
});
after(async () => {
  await srv.stop();
  await rcv.close();
});

// A webhook pointing at its own path on the receiver.
async function hook(events, extra = {}) {
  const p = `/hook-${++n}`;
  const r = await admin.post('/api/v1/webhooks', { url: rcv.url + p, events, ...extra });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { ...r.body, path: p };
}

async function newTicket(subject = '退款 Refund please') {
  const r = await admin.post('/api/v1/tickets', {
    subject,
    customer: { name: '王小明', email: `wang.${Math.random().toString(36).slice(2)}@example.cn` },
    message: { text: '订单 #1234 我想退款' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

test('create, read, list, change and delete a webhook', async () => {
  const w = await hook(['ticket.created', 'ticket.updated', 'ticket.created']);
  assert.equal(w.url, `${rcv.url}${w.path}`);
  assert.deepEqual(w.events, ['ticket.created', 'ticket.updated'], 'duplicates dropped');
  assert.equal(w.active, true);
  assert.match(w.secret, /^whsec_[A-Za-z0-9_-]{40,}$/);
  assert.match(w.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const g = await admin.get(`/api/v1/webhooks/${w.id}`);
  assert.equal(g.status, 200);
  const { path: _path, ...plain } = w;
  assert.deepEqual(g.body, plain);
  const list = await admin.get('/api/v1/webhooks');
  assert.equal(list.status, 200);
  assert.equal(list.body.next, null);
  assert.ok(list.body.items.some((x) => x.id === w.id));

  const p = await admin.patch(`/api/v1/webhooks/${w.id}`, { events: ['*'], active: false });
  assert.equal(p.status, 200);
  assert.deepEqual(p.body.events, ['*']);
  assert.equal(p.body.active, false);
  assert.equal(p.body.url, w.url, 'absent fields unchanged');
  assert.equal(p.body.secret, w.secret);
  const rot = await admin.patch(`/api/v1/webhooks/${w.id}`, { rotate_secret: true, url: 'https://hooks.example.com/kefu?x=1' });
  assert.equal(rot.status, 200);
  assert.notEqual(rot.body.secret, w.secret);
  assert.equal(rot.body.url, 'https://hooks.example.com/kefu?x=1');

  // Audited, without the secret.
  const log = (await admin.get('/api/v1/audit?action=webhook.&limit=10')).body.items;
  const created = log.find((x) => x.action === 'webhook.create' && x.target_id === w.id);
  assert.ok(created);
  assert.equal(created.target_type, 'webhook');
  assert.ok(!JSON.stringify(log).includes(w.secret));
  assert.ok(log.some((x) => x.action === 'webhook.update' && x.target_id === w.id));

  assert.equal((await admin.del(`/api/v1/webhooks/${w.id}`)).status, 204);
  assertError(await admin.get(`/api/v1/webhooks/${w.id}`), 404, 'not_found');
  assertError(await admin.del(`/api/v1/webhooks/${w.id}`), 404, 'not_found');
  assertError(await admin.patch(`/api/v1/webhooks/${w.id}`, { active: true }), 404, 'not_found');
  assertError(await admin.get(`/api/v1/webhooks/${w.id}/deliveries`), 404, 'not_found');
  assertError(await admin.get('/api/v1/webhooks/abc'), 404, 'not_found');
  assert.ok((await admin.get('/api/v1/audit?action=webhook.delete')).body.items.some((x) => x.target_id === w.id));
});

test('bad URLs, unknown events and unknown fields are refused with 400', async () => {
  const url = `${rcv.url}/x`;
  const stored = srv.sql('SELECT COUNT(*) FROM webhooks');
  for (const bad of ['ftp://example.com/hook', 'not a url', 'http://', '//example.com/x',
    'javascript:alert(1)', 'http://example.com/пример', '', `http://example.com/${'a'.repeat(2001)}`])
    assertError(await admin.post('/api/v1/webhooks', { url: bad, events: ['*'] }), 400, 'invalid');
  assertError(await admin.post('/api/v1/webhooks', { events: ['*'] }), 400, 'invalid');
  assertError(await admin.post('/api/v1/webhooks', { url }), 400, 'invalid');
  const unknown = await admin.post('/api/v1/webhooks', { url, events: ['ticket.exploded'] });
  assertError(unknown, 400, 'invalid');
  assert.match(unknown.body.error.message, /ticket\.created/, 'the message lists the known events');
  assertError(await admin.post('/api/v1/webhooks', { url, events: [] }), 400, 'invalid');
  assertError(await admin.post('/api/v1/webhooks', { url, events: 'ticket.created' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/webhooks', { url, events: [42] }), 400, 'invalid');
  assertError(await admin.post('/api/v1/webhooks', { url, events: ['*'], secret: 'mine' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/webhooks', { url, events: ['*'], rotate_secret: true }), 400, 'invalid');
  assertError(await admin.post('/api/v1/webhooks', { url, events: ['*'], active: 'yes' }), 400, 'invalid');
  assert.equal(srv.sql('SELECT COUNT(*) FROM webhooks'), stored, 'nothing was stored');
  const w = await hook(['customer.created']);
  assertError(await admin.patch(`/api/v1/webhooks/${w.id}`, { url: 'gopher://x' }), 400, 'invalid');
  assertError(await admin.patch(`/api/v1/webhooks/${w.id}`, { events: ['nope'] }), 400, 'invalid');
  assert.deepEqual((await admin.get(`/api/v1/webhooks/${w.id}`)).body.events, ['customer.created']);
  await admin.del(`/api/v1/webhooks/${w.id}`);
});

test('only holders of channels.manage see or change webhooks', async () => {
  const w = await hook(['*']);
  for (const role of ['agent', 'supervisor']) {
    const c = await srv.loginAs(role);
    assertError(await c.get('/api/v1/webhooks'), 403, 'forbidden');
    assertError(await c.get(`/api/v1/webhooks/${w.id}`), 403, 'forbidden');
    assertError(await c.post('/api/v1/webhooks', { url: `${rcv.url}/x`, events: ['*'] }), 403, 'forbidden');
    assertError(await c.patch(`/api/v1/webhooks/${w.id}`, { active: false }), 403, 'forbidden');
    assertError(await c.del(`/api/v1/webhooks/${w.id}`), 403, 'forbidden');
    assertError(await c.get(`/api/v1/webhooks/${w.id}/deliveries`), 403, 'forbidden');
    assertError(await c.post(`/api/v1/webhooks/${w.id}/deliveries/1/retry`), 403, 'forbidden');
  }
  assertError(await srv.client().get('/api/v1/webhooks'), 401, 'unauthenticated');
  assert.equal((await admin.get(`/api/v1/webhooks/${w.id}`)).body.active, true);
  await admin.del(`/api/v1/webhooks/${w.id}`);
});

test('a new ticket is delivered, signed, to the webhooks subscribed to ticket.created', async () => {
  const w = await hook(['ticket.created']);
  const other = await hook(['customer.updated']);
  const off = await hook(['*'], { active: false });
  const t = await newTicket();
  const [req] = await until(() => rcv.to(w.path).length && rcv.to(w.path), 10000, 'the delivery');
  assert.equal(req.method, 'POST');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.match(req.headers['user-agent'], /^Kefu\/\d+\.\d+\.\d+$/);
  assert.equal(req.headers['x-kefu-event'], 'ticket.created');
  assert.ok(kefuSignatureOk(req, w.secret), 'signature verifies with the webhook secret');
  assert.ok(!kefuSignatureOk(req, 'whsec_wrong'));
  assert.ok(Math.abs(Number(req.headers['x-kefu-timestamp']) - Date.now() / 1000) < 60);
  const body = req.json;
  assert.equal(body.event, 'ticket.created');
  assert.equal(String(body.delivery_id), req.headers['x-kefu-delivery']);
  assert.equal(typeof body.account_id, 'number');
  assert.match(body.created_at, /Z$/);
  assert.equal(body.data.ticket.id, t.id);
  assert.equal(body.data.ticket.subject, '退款 Refund please');

  // Recorded as delivered, with its attempt.
  const log = await until(async () => {
    const r = await admin.get(`/api/v1/webhooks/${w.id}/deliveries`);
    return r.body.items.length && r.body.items[0].status === 'delivered' && r.body;
  }, 5000, 'the delivery to be recorded');
  const d = log.items[0];
  assert.equal(log.items.length, 1);
  assert.equal(String(d.id), req.headers['x-kefu-delivery']);
  assert.equal(d.event, 'ticket.created');
  assert.equal(d.url, w.url);
  assert.equal(d.last_status, 200);
  assert.equal(d.last_error, null);
  assert.equal(d.next_attempt_at, null);
  assert.match(d.delivered_at, /Z$/);
  assert.deepEqual(d.payload, body);
  assert.equal(d.attempts.length, 1);
  assert.equal(d.attempts[0].attempt, 1);
  assert.equal(d.attempts[0].http_status, 200);
  assert.equal(d.attempts[0].error, null);
  assert.equal(typeof d.attempts[0].duration_ms, 'number');

  // Not subscribed, or inactive: nothing queued, nothing sent.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(rcv.to(other.path).length, 0);
  assert.equal(rcv.to(off.path).length, 0);
  assert.equal((await admin.get(`/api/v1/webhooks/${other.id}/deliveries`)).body.items.length, 0);
  assert.equal(rcv.to(w.path).length, 1, 'sent exactly once');
  for (const x of [w, other, off]) await admin.del(`/api/v1/webhooks/${x.id}`);
});

test('a failing receiver is retried with backoff, then failed; a manual retry delivers it', async () => {
  const w = await hook(['ticket.created']);
  rcv.status = (req) => (req.url === w.path ? 500 : 200);
  const t0 = Date.now();
  await newTicket('会失败 Will fail');
  const log = await until(async () => {
    const r = await admin.get(`/api/v1/webhooks/${w.id}/deliveries`);
    return r.body.items.length && r.body.items[0].status === 'failed' && r.body;
  }, 15000, 'the delivery to fail');
  const d = log.items[0];
  const reqs = rcv.to(w.path);
  assert.equal(reqs.length, 2, 'max attempts is 2');
  assert.equal(reqs[0].headers['x-kefu-delivery'], reqs[1].headers['x-kefu-delivery'], 'same delivery id on retry');
  assert.ok(reqs[1].at - reqs[0].at >= 450, `backoff between attempts (${reqs[1].at - reqs[0].at} ms)`);
  assert.ok(reqs.every((r) => kefuSignatureOk(r, w.secret)));
  assert.ok(Date.now() - t0 < 10000);
  assert.equal(d.last_status, 500);
  assert.match(d.last_error, /^HTTP 500/);
  assert.deepEqual(d.attempts.map((a) => a.attempt), [2, 1], 'attempts newest first');
  assert.deepEqual(d.attempts.map((a) => a.http_status), [500, 500]);

  // Retry by hand: a new round, delivered once the receiver is back.
  assertError(await admin.post(`/api/v1/webhooks/${w.id}/deliveries/999999/retry`), 404, 'not_found');
  const other = await hook(['customer.updated']);
  assertError(await admin.post(`/api/v1/webhooks/${other.id}/deliveries/${d.id}/retry`), 404, 'not_found');
  rcv.status = 200;
  const r = await admin.post(`/api/v1/webhooks/${w.id}/deliveries/${d.id}/retry`);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.body.id, d.id);
  assert.ok(['pending', 'delivered'].includes(r.body.status));
  await until(() => rcv.to(w.path).length === 3, 5000, 'the retried delivery');
  const done = await until(async () => {
    const x = (await admin.get(`/api/v1/webhooks/${w.id}/deliveries`)).body.items[0];
    return x.status === 'delivered' && x;
  }, 5000, 'the retry to be recorded');
  assert.equal(done.attempts.length, 3);
  assert.equal(done.attempts[0].http_status, 200);
  assertError(await admin.post(`/api/v1/webhooks/${w.id}/deliveries/${d.id}/retry`), 409, 'conflict');
  assert.ok((await admin.get('/api/v1/audit?action=webhook.delivery_retry')).body.items.some((x) => x.target_id === w.id));
  for (const x of [w, other]) await admin.del(`/api/v1/webhooks/${x.id}`);
});

test('the delivery log pages newest first with a cursor', async () => {
  const w = await hook(['ticket.created']);
  for (let i = 0; i < 5; i++) await newTicket(`Page ${i}`);
  await until(() => rcv.to(w.path).length === 5, 10000, 'five deliveries');
  const seen = [];
  let cursor = null;
  for (let page = 0; page < 10; page++) {
    const r = await admin.get(`/api/v1/webhooks/${w.id}/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.items.length <= 2);
    seen.push(...r.body.items.map((x) => x.id));
    cursor = r.body.next;
    if (!cursor) break;
  }
  assert.equal(seen.length, 5);
  assert.deepEqual([...seen].sort((a, b) => b - a), seen, 'newest first');
  assert.deepEqual(new Set(seen), new Set(rcv.to(w.path).map((r) => Number(r.headers['x-kefu-delivery']))));
  assertError(await admin.get(`/api/v1/webhooks/${w.id}/deliveries?limit=0`), 400, 'invalid');
  assertError(await admin.get(`/api/v1/webhooks/${w.id}/deliveries?cursor=x`), 400, 'invalid');
  // "before" is an alias of cursor, as in the audit log.
  const alias = await admin.get(`/api/v1/webhooks/${w.id}/deliveries?before=${seen[1]}`);
  assert.deepEqual(alias.body.items.map((x) => x.id), seen.slice(2));
  // Deleting the webhook drops its queue and log.
  assert.equal((await admin.del(`/api/v1/webhooks/${w.id}`)).status, 204);
  assert.equal(srv.sql(`SELECT COUNT(*) FROM outbox WHERE kind = 'webhook' AND ref_id = ${w.id}`), '0');
});
