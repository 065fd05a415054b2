// The API channel: an outside system posts customer messages in with the
// channel token (one ingest path: deduplicated, threaded, a customer per
// identity) and receives agents' replies, signed, at its callback URL.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const crypto = require('node:crypto');
const { Server, assertError } = require('./lib/harness');

let srv;
let admin;
let receiver;
const received = [];
before(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200);
      res.end('ok');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  srv = await new Server().start();
  admin = await srv.loginAs('admin');
});
after(async () => {
  await srv.stop();
  receiver.close();
});

async function makeChannel(config = {}) {
  const r = await admin.post('/api/v1/channels', { type: 'api', name: 'Shop app', config });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

function inbound(ch, body, token = ch.token) {
  return fetch(`${srv.base}/api/v1/channels/${ch.id}/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  }).then(async (res) => ({ status: res.status, body: await res.json() }));
}

test('creating a channel returns its token once; only a hash is stored', async () => {
  const ch = await makeChannel();
  assert.match(ch.token, /^kfch_[A-Za-z0-9_-]{40,}$/);
  assert.equal(ch.token_prefix, ch.token.slice(0, 12));
  assert.match(ch.secret, /\S{20,}/);
  assert.equal(ch.inbound_url, `/api/v1/channels/${ch.id}/inbound`);
  const again = (await admin.get(`/api/v1/channels/${ch.id}`)).body;
  assert.equal(again.token, undefined);
  assert.equal(srv.sql(`SELECT COUNT(*) FROM channels WHERE token_hash = '${ch.token}'`), '0');
  assertError(await admin.post('/api/v1/channels', { type: 'pigeon', name: 'x' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/channels', { type: 'api', name: 'x', config: { callback_url: 'ftp://x' } }), 400, 'invalid');
  const agent = await srv.loginAs('agent');
  assertError(await agent.get('/api/v1/channels'), 403, 'forbidden');
});

test('inbound messages become tickets; a retried delivery stores nothing twice', async () => {
  const ch = await makeChannel();
  const msg = { external_id: 'm-1', conversation_id: 'c-1', customer: { id: 'crm-42', name: '李雷', email: 'lilei@example.cn' }, text: '我的订单还没发货' };
  const first = await inbound(ch, msg);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.duplicate, false);
  assert.equal(first.body.new_ticket, true);
  const counts = () => srv.sql('SELECT COUNT(*) FROM messages') + '/' + srv.sql('SELECT COUNT(*) FROM tickets') + '/' + srv.sql('SELECT COUNT(*) FROM customers');
  const before = counts();
  for (let i = 0; i < 3; i++) {
    const again = await inbound(ch, msg);
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.ticket_id, first.body.ticket_id);
    assert.equal(again.body.message_id, first.body.message_id);
  }
  // concurrent retries too
  await Promise.all([1, 2, 3, 4].map(() => inbound(ch, msg)));
  assert.equal(counts(), before);
  const t = (await admin.get(`/api/v1/tickets/${first.body.ticket_id}`)).body;
  assert.equal(t.subject, '我的订单还没发货');
  assert.equal(t.channel.type, 'api');
  assert.equal(t.customer.name, '李雷');
  const c = (await admin.get(`/api/v1/customers/${first.body.customer_id}`)).body;
  assert.deepEqual(c.identities.map((i) => `${i.kind}:${i.handle}`).sort(), ['api:crm-42', 'email:lilei@example.cn']);
});

test('the conversation id threads messages; the same person is found by any identity', async () => {
  const ch = await makeChannel();
  const a = await inbound(ch, { external_id: 'x-1', conversation_id: 'conv-9', customer: { id: 'u-9' }, text: '第一条' });
  const b = await inbound(ch, { external_id: 'x-2', conversation_id: 'conv-9', customer: { id: 'u-9' }, text: '第二条' });
  assert.equal(b.body.ticket_id, a.body.ticket_id);
  assert.equal(b.body.new_ticket, false);
  const c = await inbound(ch, { external_id: 'x-3', customer: { email: 'lilei@example.cn' }, text: 'by mail address' });
  const lilei = srv.sql("SELECT customer_id FROM customer_identities WHERE handle = 'lilei@example.cn'");
  assert.equal(String(c.body.customer_id), lilei);
  assert.notEqual(c.body.ticket_id, a.body.ticket_id, 'no conversation id: a new ticket');
  // a customer reply reopens a pending ticket
  await admin.patch(`/api/v1/tickets/${a.body.ticket_id}`, { status: 'pending' });
  await inbound(ch, { external_id: 'x-4', conversation_id: 'conv-9', customer: { id: 'u-9' }, text: '还在吗？' });
  assert.equal((await admin.get(`/api/v1/tickets/${a.body.ticket_id}`)).body.status, 'open');
  // after closing, the conversation continues in a new, linked ticket
  await admin.patch(`/api/v1/tickets/${a.body.ticket_id}`, { status: 'closed' });
  const d = await inbound(ch, { external_id: 'x-5', conversation_id: 'conv-9', customer: { id: 'u-9' }, text: '又有问题了' });
  assert.notEqual(d.body.ticket_id, a.body.ticket_id);
  const nt = (await admin.get(`/api/v1/tickets/${d.body.ticket_id}`)).body;
  assert.deepEqual(nt.links.map((l) => l.ticket.id), [a.body.ticket_id]);
});

test('inbound is authenticated by the channel token and validated', async () => {
  const ch = await makeChannel();
  const other = await makeChannel();
  const msg = { external_id: 'v-1', customer: { id: 'u' }, text: 'hi' };
  assertError(await inbound(ch, msg, 'kfch_wrong'), 401, 'unauthenticated');
  assertError(await inbound(ch, msg, other.token), 401, 'unauthenticated');
  assertError(await inbound(ch, { customer: { id: 'u' }, text: 'hi' }), 400, 'invalid');
  assertError(await inbound(ch, { external_id: 'v-2', text: 'hi' }), 400, 'invalid');
  assertError(await inbound(ch, { external_id: 'v-2', customer: {}, text: 'hi' }), 400, 'invalid');
  assertError(await inbound(ch, { external_id: 'v-2', customer: { email: 'nope' }, text: 'hi' }), 400, 'invalid');
  assertError(await inbound(ch, { external_id: 'v-2', customer: { id: 'u' }, text: 'hi', extra: 1 }), 400, 'invalid');
  // rotating the token retires the old one
  const rot = await admin.post(`/api/v1/channels/${ch.id}/token`, {});
  assert.equal(rot.status, 200);
  assertError(await inbound(ch, msg), 401, 'unauthenticated');
  assert.equal((await inbound(ch, msg, rot.body.token)).status, 201);
  // a deactivated channel accepts nothing
  await admin.patch(`/api/v1/channels/${ch.id}`, { active: false });
  assertError(await inbound(ch, { ...msg, external_id: 'v-3' }, rot.body.token), 401, 'unauthenticated');
});

test('agent replies are delivered to the callback URL, signed with the channel secret', async () => {
  const url = `http://127.0.0.1:${receiver.address().port}/kefu`;
  const ch = await makeChannel({ callback_url: url });
  const inb = await inbound(ch, { external_id: 'r-1', conversation_id: 'conv-r', customer: { id: 'u-r' }, text: '你好' });
  const reply = await admin.post(`/api/v1/tickets/${inb.body.ticket_id}/messages`, { text: '您好，请问有什么可以帮您？' });
  assert.equal(reply.status, 201);
  assert.equal(reply.body.delivery_status, 'pending');
  const note = await admin.post(`/api/v1/tickets/${inb.body.ticket_id}/messages`, { text: 'internal only', internal: true });
  assert.equal(note.body.delivery_status, null);
  for (let i = 0; i < 100 && !received.some((x) => JSON.parse(x.body).message.id === reply.body.id); i++)
    await new Promise((r) => setTimeout(r, 50));
  const got = received.filter((x) => JSON.parse(x.body).message.id === reply.body.id);
  assert.equal(got.length, 1);
  const doc = JSON.parse(got[0].body);
  assert.equal(doc.event, 'message.created');
  assert.equal(doc.ticket.conversation_id, 'conv-r');
  assert.equal(doc.message.text, '您好，请问有什么可以帮您？');
  assert.ok(doc.customer.identities.some((i) => i.kind === 'api' && i.handle === 'u-r'));
  const ts = got[0].headers['x-kefu-timestamp'];
  const expect = 'sha256=' + crypto.createHmac('sha256', ch.secret).update(`${ts}.${got[0].body}`).digest('hex');
  assert.equal(got[0].headers['x-kefu-signature'], expect);
  assert.ok(!received.some((x) => JSON.parse(x.body).message.id === note.body.id), 'notes are not sent');
  for (let i = 0; i < 100; i++) {
    const m = (await admin.get(`/api/v1/tickets/${inb.body.ticket_id}/messages`)).body.items.find((x) => x.id === reply.body.id);
    if (m.delivery_status === 'sent') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('delivery_status never became sent');
});
