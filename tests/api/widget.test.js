// The chat widget's API (/widget/v1/...): configuration, visitor sessions
// and signed in-app identities, messages with files, read marks, the
// satisfaction rating, CORS -- as a customer's browser or app uses it.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Server, assertError } = require('./lib/harness');
const { WsClient } = require('./lib/ws');

let srv;
let admin;
let channel;     // the demo's web channel, with its secret

before(async () => {
  srv = await new Server().start();
  admin = await srv.loginAs('admin');
  const list = (await admin.get('/api/v1/channels')).body.items;
  const web = list.find((c) => c.type === 'web');
  channel = (await admin.get(`/api/v1/channels/${web.id}`)).body;
  assert.equal(channel.config.public_key, srv.widgetKey);
});
after(async () => { await srv.stop(); });

async function call(method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload = body;
  if (body !== undefined && !(body instanceof FormData) && typeof body !== 'string') {
    payload = JSON.stringify(body);
    h['content-type'] = 'application/json';
  }
  const r = await fetch(srv.base + path, { method, headers: h, body: payload });
  const text = await r.text();
  let parsed = text;
  if ((r.headers.get('content-type') || '').includes('json') && text) parsed = JSON.parse(text);
  return { status: r.status, headers: r.headers, body: parsed };
}

function signed(id, name, email, ts = Math.floor(Date.now() / 1000), secret = channel.secret) {
  const signature = crypto.createHmac('sha256', secret)
    .update(`${id}\n${name}\n${email}\n${ts}`).digest('hex');
  return { id, name, email, timestamp: ts, signature };
}

async function session(extra = {}) {
  const r = await call('POST', '/widget/v1/sessions', { body: { key: srv.widgetKey, lang: 'en', ...extra } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const say = (token, text, clientId = `c${Math.random()}`) =>
  call('POST', '/widget/v1/messages', { token, body: { text, client_id: clientId } });

test('config: the channel\'s public settings in the visitor\'s language; CORS for any site', async () => {
  const r = await call('GET', `/widget/v1/config?key=${srv.widgetKey}&lang=zh-TW`, { headers: { origin: 'https://shop.example' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  assert.equal(r.body.greeting, '您好！請問有什麼可以幫您？');
  assert.equal(r.body.prechat[0].label, '您的稱呼');
  assert.equal(r.body.online, false);
  assert.ok(r.body.max_upload > 0);
  const bad = await call('GET', '/widget/v1/config?key=pk_nope');
  assertError(bad, 404, 'not_found');
  assert.equal(bad.headers.get('access-control-allow-origin'), '*');
  const pre = await call('OPTIONS', '/widget/v1/messages', { headers: { origin: 'https://shop.example',
    'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
  assert.equal(pre.status, 204);
  assert.match(pre.headers.get('access-control-allow-headers'), /Authorization/);
  // an agent connecting makes the channel "online"
  const ws = await WsClient.connect(srv.base, '/api/v1/ws', { cookie: admin.cookie });
  const until = Date.now() + 10000;
  let online = false;
  while (!online && Date.now() < until) {
    online = (await call('GET', `/widget/v1/config?key=${srv.widgetKey}`)).body.online;
    if (!online) await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(online, true);
  ws.destroy();
});

test('sessions: an anonymous visitor resumes with its token; a bad token starts afresh', async () => {
  const a = await session({ fields: { name: '小王', email: 'claims.someone@example.cn', phone: '13800000000' } });
  assert.equal(a.visitor.identified, false);
  assert.equal(a.visitor.name, '小王');
  assert.equal(a.visitor.email, null, 'an unsigned e-mail is not an identity');
  const again = await session({ token: a.token });
  assert.equal(again.token, a.token);
  assert.equal(again.visitor.customer_id, a.visitor.customer_id);
  const other = await session({ token: 'not-a-real-token-at-all' });
  assert.notEqual(other.visitor.customer_id, a.visitor.customer_id);
  const cust = (await admin.get(`/api/v1/customers/${a.visitor.customer_id}`)).body;
  assert.equal(cust.attributes.email, 'claims.someone@example.cn');
  assertError(await call('POST', '/widget/v1/sessions', { body: { key: 'pk_nope' } }), 404, 'not_found');
  assertError(await call('POST', '/widget/v1/sessions', { body: { key: srv.widgetKey, extra: 1 } }), 400, 'invalid');
  assertError(await call('GET', '/widget/v1/conversation'), 401, 'unauthenticated');
});

test('in-app identity: signed attaches to the known customer, a bad signature is refused', async () => {
  const email = `vip.${Date.now()}@example.cn`;
  const known = await admin.post('/api/v1/customers', { name: '陈老板', email });
  assert.equal(known.status, 201);
  const s = await session({ identity: signed('u-1001', '陈老板', email) });
  assert.equal(s.visitor.identified, true);
  assert.equal(s.visitor.customer_id, known.body.id, 'found by the signed e-mail');
  const s2 = await session({ identity: signed('u-1001', '陈老板', email) });
  assert.equal(s2.visitor.customer_id, known.body.id, 'and by the company id next time');
  const ids = (await admin.get(`/api/v1/customers/${known.body.id}`)).body.identities
    .map((i) => `${i.kind}:${i.handle}`);
  assert.ok(ids.includes('app_user:u-1001'), JSON.stringify(ids));
  const forged = signed('u-1001', '陈老板', email, undefined, 'not-the-secret');
  assertError(await call('POST', '/widget/v1/sessions', { body: { key: srv.widgetKey, identity: forged } }), 401, 'unauthenticated');
  const tampered = { ...signed('u-1001', '陈老板', email), id: 'u-1002' };
  assertError(await call('POST', '/widget/v1/sessions', { body: { key: srv.widgetKey, identity: tampered } }), 401, 'unauthenticated');
  const stale = signed('u-1001', '陈老板', email, Math.floor(Date.now() / 1000) - 3 * 86400);
  assertError(await call('POST', '/widget/v1/sessions', { body: { key: srv.widgetKey, identity: stale } }), 401, 'unauthenticated');
  assertError(await call('POST', '/widget/v1/sessions', { body: { key: srv.widgetKey, identity: { id: 'x' } } }), 400, 'invalid');
});

test('messages: text and files land on one ticket; retries are idempotent; notes stay inside', async () => {
  const s = await session();
  const empty = await call('GET', '/widget/v1/conversation', { token: s.token });
  assert.equal(empty.body.conversation, null);
  const first = await say(s.token, '你好，我想退货', 'same-id');
  assert.equal(first.status, 201);
  assert.equal(first.body.message.client_id, 'same-id');
  const retry = await say(s.token, '你好，我想退货', 'same-id');
  assert.equal(retry.status, 200);
  assert.equal(retry.body.message.id, first.body.message.id);
  const tid = first.body.conversation.ticket_id;
  const t = (await admin.get(`/api/v1/tickets/${tid}`)).body;
  assert.equal(t.origin, 'web');
  assert.equal(t.channel.type, 'web');
  assertError(await say(s.token, ''), 400, 'invalid');
  assertError(await say(s.token, 'x'.repeat(9000)), 400, 'invalid');

  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');
  const form = new FormData();
  form.append('text', '照片在这里');
  form.append('client_id', 'photo-1');
  form.append('file', new Blob([png], { type: 'image/png' }), '收据.png');
  const up = await call('POST', '/widget/v1/messages', { token: s.token, body: form });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal(up.body.conversation.ticket_id, tid);
  const att = up.body.message.attachments[0];
  assert.equal(att.name, '收据.png');
  assert.equal(att.content_type, 'image/png');
  const file = await fetch(`${srv.base}${att.url}?token=${s.token}`);
  assert.equal(file.status, 200);
  assert.deepEqual(Buffer.from(await file.arrayBuffer()), png);
  const stranger = await session();
  assert.equal((await fetch(`${srv.base}${att.url}?token=${stranger.token}`)).status, 404);
  assert.equal((await fetch(`${srv.base}${att.url}`)).status, 401);
  const exe = new FormData();
  exe.append('file', new Blob([Buffer.from('#!/bin/sh\nrm -rf /\n')]), 'run.sh');
  assertError(await call('POST', '/widget/v1/messages', { token: s.token, body: exe }), 415, 'unsupported_media_type');

  await admin.post(`/api/v1/tickets/${tid}/messages`, { text: '内部：注意退货政策', internal: true });
  await admin.post(`/api/v1/tickets/${tid}/messages`, { text: '好的，请提供订单号', internal: false });
  const conv = (await call('GET', '/widget/v1/conversation', { token: s.token })).body;
  const texts = conv.messages.map((m) => m.text);
  assert.deepEqual(texts, ['你好，我想退货', '照片在这里', '好的，请提供订单号']);
  assert.equal(conv.messages[2].author.kind, 'agent');
  assert.ok(!JSON.stringify(conv).includes('内部'));
  assert.equal(typeof conv.last_event_id, 'number');
});

test('read marks go both ways; typing reaches the agents', async () => {
  const s = await session();
  const m = await say(s.token, '订单 12345 什么时候到？');
  const tid = m.body.conversation.ticket_id;
  const staff = await WsClient.connect(srv.base, '/api/v1/ws', { cookie: admin.cookie });
  const cust = await WsClient.connect(srv.base, `/widget/v1/ws?token=${s.token}`);
  const reply = await admin.post(`/api/v1/tickets/${tid}/messages`, { text: '明天送到' });
  // the agent has read the customer's message
  assert.equal((await admin.post(`/api/v1/tickets/${tid}/read`, { message_id: m.body.message.id })).status, 204);
  const r1 = await cust.waitFor((e) => e.type === 'read');
  assert.equal(r1.data.who, 'agent');
  // the customer has read the reply
  assert.equal((await call('POST', '/widget/v1/read', { token: s.token, body: { message_id: reply.body.id } })).status, 204);
  const r2 = await staff.waitFor((e) => e.type === 'read' && e.data.ticket_id === tid && e.data.who === 'customer');
  assert.equal(r2.data.who, 'customer');
  const conv = (await call('GET', '/widget/v1/conversation', { token: s.token })).body;
  assert.deepEqual(conv.messages.map((x) => x.read), [true, true]);
  assertError(await call('POST', '/widget/v1/read', { token: s.token, body: { message_id: 1 } }), 404, 'not_found');
  cust.send({ type: 'typing', typing: true });
  const ty = await staff.waitFor((e) => e.type === 'typing' && e.data.ticket_id === tid);
  assert.equal(ty.data.who, 'customer');
  cust.send({ type: 'viewing', ticket_id: tid });
  await cust.waitFor((x) => x.type === 'error' && x.data.code === 'invalid');
  staff.destroy();
  cust.destroy();
});

test('rating: once, after the conversation is resolved; a closed one starts a new ticket', async () => {
  const s = await session();
  const m = await say(s.token, '怎么开发票？');
  const tid = m.body.conversation.ticket_id;
  const rate = (body) => call('POST', '/widget/v1/rating', { token: s.token, body });
  assertError(await rate({ score: 5 }), 409, 'conflict');
  const cust = await WsClient.connect(srv.base, `/widget/v1/ws?token=${s.token}`);
  assert.equal((await admin.patch(`/api/v1/tickets/${tid}`, { status: 'resolved' })).status, 200);
  const upd = await cust.waitFor((e) => e.type === 'conversation.updated' && e.data.status_category === 'resolved');
  assert.equal(upd.data.can_rate, true);
  assertError(await rate({ score: 6 }), 400, 'invalid');
  const ok = await rate({ score: 5, comment: '很快，谢谢！' });
  assert.equal(ok.status, 200);
  assertError(await rate({ score: 1 }), 409, 'conflict');
  const t = (await admin.get(`/api/v1/tickets/${tid}`)).body;
  assert.equal(t.rating.score, 5);
  assert.equal(t.rating.comment, '很快，谢谢！');
  const rated = await cust.waitFor((e) => e.type === 'conversation.updated' && e.data.rating);
  assert.equal(rated.data.can_rate, false);
  cust.destroy();
  // closed: the next message opens a new conversation, linked to the old one
  assert.equal((await admin.patch(`/api/v1/tickets/${tid}`, { status: 'closed' })).status, 200);
  const next = await say(s.token, '还有一个问题');
  assert.notEqual(next.body.conversation.ticket_id, tid);
  assert.equal(next.body.conversation.rating, null);
});

test('queue position counts the chats waiting before this one', async () => {
  const a = await session();
  const b = await session();
  const ra = await say(a.token, '排队一');
  const rb = await say(b.token, '排队二');
  const pa = ra.body.conversation.queue_position, pb = rb.body.conversation.queue_position;
  assert.ok(pa >= 1 && pb === pa + 1, `${pa} ${pb}`);
  const admins = (await admin.get('/api/v1/users?limit=200')).body.items;
  const me = admins.find((u) => u.email === srv.logins.admin.email);
  await admin.patch(`/api/v1/tickets/${ra.body.conversation.ticket_id}`, { assignee_id: me.id });
  const ca = (await call('GET', '/widget/v1/conversation', { token: a.token })).body.conversation;
  const cb = (await call('GET', '/widget/v1/conversation', { token: b.token })).body.conversation;
  assert.equal(ca.queue_position, null);
  assert.equal(ca.agent.name, me.name);
  assert.equal(cb.queue_position, pb - 1);
});

test('a long queue is counted up to 100: a visitor behind 150 waiting chats is told 100', async () => {
  // 150 tickets made through the API, turned into waiting chats for the
  // while (as if 150 visitors waited), and back after
  for (let i = 0; i < 150; i += 15) {
    const made = await Promise.all(Array.from({ length: 15 }, (_, k) => admin.post('/api/v1/tickets',
      { subject: `queue ${i + k}`, customer: { name: `Q${i + k}` }, message: '等待' })));
    for (const m of made) assert.equal(m.status, 201, JSON.stringify(m.body));
  }
  srv.sql("CREATE TABLE queue_backup AS SELECT id, origin, assignee_id, status_category FROM tickets WHERE subject LIKE 'queue %'");
  assert.equal(srv.sql('SELECT COUNT(*) FROM queue_backup'), '150');
  try {
    srv.sql("UPDATE tickets SET origin = 'web', assignee_id = NULL, status_category = 'new' WHERE id IN (SELECT id FROM queue_backup)");
    const v = await session();
    const r = await say(v.token, '排在后面');
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.conversation.queue_position, 100);
    // and the conversation as fetched says the same
    const c = (await call('GET', '/widget/v1/conversation', { token: v.token })).body.conversation;
    assert.equal(c.queue_position, 100);
  } finally {
    srv.sql('UPDATE tickets SET origin = (SELECT origin FROM queue_backup b WHERE b.id = tickets.id), assignee_id = (SELECT assignee_id FROM queue_backup b WHERE b.id = tickets.id), status_category = (SELECT status_category FROM queue_backup b WHERE b.id = tickets.id) WHERE id IN (SELECT id FROM queue_backup)');
    srv.sql('DROP TABLE queue_backup');
  }
});

// Last in this file: it uses up this address's allowance for a while.
test('a flood of new chat sessions from one address is refused with 429', async () => {
  let refused = null;
  for (let i = 0; i < 80 && !refused; i++) {
    const r = await call('POST', '/widget/v1/sessions', { body: { key: srv.widgetKey } });
    if (r.status === 429) refused = r;
    else assert.equal(r.status, 200);
  }
  assert.ok(refused, 'never refused');
  assertError(refused, 429, 'rate_limited');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal(refused.headers.get('access-control-allow-origin'), '*');
});
