// Tickets: create, lifecycle, fields, assignment and data scope, timeline,
// merge/split/links, bulk, views and lists, full-text search in Chinese and
// English.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, assertError } = require('./lib/harness');

let srv;
let admin;
let agent;
let sup;
let users;
let teams;
before(async () => {
  srv = await new Server().start();
  admin = await srv.loginAs('admin');
  agent = await srv.loginAs('agent');
  sup = await srv.loginAs('supervisor');
  users = Object.fromEntries((await admin.get('/api/v1/users?limit=200')).body.items.map((u) => [u.email, u]));
  teams = Object.fromEntries((await admin.get('/api/v1/teams')).body.items.map((t) => [t.name, t]));
});
after(async () => { await srv.stop(); });

async function newTicket(c, extra = {}) {
  const r = await c.post('/api/v1/tickets', {
    subject: '无法登录 Cannot log in',
    customer: { name: '张伟', email: `zhang.${Math.random().toString(36).slice(2)}@example.cn` },
    message: '我登录的时候一直提示密码错误',
    ...extra,
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

test('create a ticket with its customer and first message; numbers count up', async () => {
  const a = await newTicket(admin);
  const b = await newTicket(admin);
  assert.equal(b.number, a.number + 1);
  assert.equal(a.status, 'new');
  assert.equal(a.priority, 'normal');
  assert.equal(a.customer.name, '张伟');
  assert.equal(a.preview, '我登录的时候一直提示密码错误');
  const tl = (await admin.get(`/api/v1/tickets/${a.id}/timeline`)).body.items;
  assert.equal(tl[0].type, 'event');
  assert.equal(tl[0].kind, 'created');
  const msg = tl.find((x) => x.type === 'message');
  assert.equal(msg.author.kind, 'customer');
  assert.equal(msg.direction, 'in');
  // the same customer e-mail finds the same profile
  const again = await admin.post('/api/v1/tickets', { subject: 'Again', customer: { email: a.customer.email }, message: 'hi' });
  assert.equal(again.body.customer.id, a.customer.id);
});

test('ticket input is validated and refused input stores nothing', async () => {
  const before = srv.sql('SELECT COUNT(*) FROM tickets');
  assertError(await admin.post('/api/v1/tickets', { customer: 1, message: 'x' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/tickets', { subject: 'x', customer: 999999 }), 400, 'invalid');
  assertError(await admin.post('/api/v1/tickets', { subject: 'x', customer: { email: 'bad' } }), 400, 'invalid');
  assertError(await admin.post('/api/v1/tickets', { subject: 'x', customer: { name: 'A' }, priority: 'asap' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/tickets', { subject: 'x', customer: { name: 'A' }, team_id: 999999 }), 400, 'invalid');
  assertError(await admin.post('/api/v1/tickets', { subject: 'x', customer: { name: 'A' }, tags: 'vip' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/tickets', { subject: 'x', customer: { name: 'A' }, status: 'limbo' }), 400, 'invalid');
  assert.equal(srv.sql('SELECT COUNT(*) FROM tickets'), before);
});

test('lifecycle: a staff reply opens, customer reply reopens, transitions are checked', async () => {
  const t = await newTicket(admin);
  const reply = await admin.post(`/api/v1/tickets/${t.id}/messages`, { text: '请尝试重置密码。' });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  assert.equal(reply.body.direction, 'out');
  let cur = (await admin.get(`/api/v1/tickets/${t.id}`)).body;
  assert.equal(cur.status, 'open');
  assert.ok(cur.first_response_at);
  cur = (await admin.patch(`/api/v1/tickets/${t.id}`, { status: 'resolved' })).body;
  assert.equal(cur.status, 'resolved');
  assert.ok(cur.resolved_at);
  cur = (await admin.patch(`/api/v1/tickets/${t.id}`, { status: 'closed' })).body;
  assert.ok(cur.closed_at);
  assertError(await admin.patch(`/api/v1/tickets/${t.id}`, { status: 'pending' }), 422, 'invalid_transition');
  cur = (await admin.patch(`/api/v1/tickets/${t.id}`, { status: 'open' })).body;
  assert.equal(cur.closed_at, null);
  const events = (await admin.get(`/api/v1/tickets/${t.id}/timeline`)).body.items.filter((x) => x.type === 'event' && x.kind === 'status');
  assert.deepEqual(events.map((x) => x.data.to), ['open', 'resolved', 'closed', 'open']);
  assert.equal(events[1].actor.name, '系统管理员 Admin');
});

test('custom statuses and restricted transitions', async () => {
  const s = await admin.post('/api/v1/ticket-statuses', { name: '等待供应商', category: 'pending' });
  assert.equal(s.status, 200, JSON.stringify(s.body));
  assert.ok(s.body.items.some((x) => x.name === '等待供应商' && x.category === 'pending'));
  assertError(await admin.post('/api/v1/ticket-statuses', { name: 'open', category: 'open' }), 400, 'invalid');
  assertError(await agent.post('/api/v1/ticket-statuses', { name: 'x', category: 'open' }), 403, 'forbidden');
  const t = await newTicket(admin);
  const p = await admin.patch(`/api/v1/tickets/${t.id}`, { status: '等待供应商' });
  assert.equal(p.body.status_category, 'pending');
  const rules = await admin.put('/api/v1/ticket-transitions', { transitions: [{ from: '等待供应商', to: 'open' }, { from: 'open', to: 'resolved' }] });
  assert.equal(rules.status, 200, JSON.stringify(rules.body));
  assertError(await admin.patch(`/api/v1/tickets/${t.id}`, { status: 'resolved' }), 422, 'invalid_transition');
  assert.equal((await admin.patch(`/api/v1/tickets/${t.id}`, { status: 'open' })).status, 200);
  assert.equal((await admin.patch(`/api/v1/tickets/${t.id}`, { status: 'resolved' })).status, 200);
  await admin.put('/api/v1/ticket-transitions', { transitions: [] });
});

test('custom fields: defined by an admin, validated on every ticket', async () => {
  assert.equal((await admin.post('/api/v1/ticket-fields', { key: 'product', label: '产品', type: 'select', options: ['手机', '电脑'] })).status, 200);
  assert.equal((await admin.post('/api/v1/ticket-fields', { key: 'order_no', label: 'Order', type: 'text', pattern: '^[0-9]{6,}$' })).status, 200);
  assertError(await admin.post('/api/v1/ticket-fields', { key: 'Bad Key', label: 'x', type: 'text' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/ticket-fields', { key: 'k2', label: 'x', type: 'select' }), 400, 'invalid');
  assertError(await admin.post('/api/v1/tickets', { subject: 'f', customer: { name: 'A' }, fields: { product: '电视' } }), 400, 'invalid');
  assertError(await admin.post('/api/v1/tickets', { subject: 'f', customer: { name: 'A' }, fields: { order_no: 'abc' } }), 400, 'invalid');
  assertError(await admin.post('/api/v1/tickets', { subject: 'f', customer: { name: 'A' }, fields: { nope: 1 } }), 400, 'invalid');
  const t = await newTicket(admin, { fields: { product: '手机', order_no: '20261122' } });
  assert.deepEqual(t.fields, { product: '手机', order_no: '20261122' });
  const p = await admin.patch(`/api/v1/tickets/${t.id}`, { fields: { order_no: null } });
  assert.deepEqual(p.body.fields, { product: '手机' });
});

test('assignment: agents take tickets, assigning others needs tickets.assign', async () => {
  const t = await newTicket(admin, { team_id: teams['售后'].id });
  const me = users[srv.logins.agent.email];
  const other = users['wang.fang@demo.kefu.local'];
  assertError(await agent.patch(`/api/v1/tickets/${t.id}`, { assignee_id: other.id }), 403, 'forbidden');
  assert.equal((await agent.patch(`/api/v1/tickets/${t.id}`, { assignee_id: me.id })).body.assignee.id, me.id);
  assert.equal((await sup.patch(`/api/v1/tickets/${t.id}`, { assignee_id: other.id })).body.assignee.id, other.id);
  assertError(await sup.patch(`/api/v1/tickets/${t.id}`, { assignee_id: 999999 }), 400, 'invalid');
  const tr = await sup.post(`/api/v1/tickets/${t.id}/transfer`, { team_id: teams['技术支持'].id, assignee_id: users['emily.chen@demo.kefu.local'].id, note: '需要技术支持看一下' });
  assert.equal(tr.status, 200, JSON.stringify(tr.body));
  assert.equal(tr.body.team.name, '技术支持');
  const tl = (await sup.get(`/api/v1/tickets/${t.id}/timeline`)).body.items;
  assert.ok(tl.some((x) => x.type === 'message' && x.internal && x.text === '需要技术支持看一下'));
  assert.ok(tl.some((x) => x.type === 'event' && x.kind === 'transfer'));
  const es = await sup.post(`/api/v1/tickets/${t.id}/escalate`, { note: 'VIP 客户投诉' });
  assert.equal(es.body.priority, 'high');
  assert.equal((await sup.post(`/api/v1/tickets/${t.id}/escalate`, {})).body.priority, 'urgent');
});

test('data scope: an agent sees their teams\' and their own tickets only', async () => {
  const mine = await newTicket(admin, { team_id: teams['售后'].id });
  const foreign = await newTicket(admin, { team_id: teams['售前'].id });
  const nobody = await newTicket(admin);
  assert.equal((await agent.get(`/api/v1/tickets/${mine.id}`)).status, 200);
  assertError(await agent.get(`/api/v1/tickets/${foreign.id}`), 404, 'not_found');
  assertError(await agent.get(`/api/v1/tickets/${nobody.id}`), 404, 'not_found');
  assertError(await agent.patch(`/api/v1/tickets/${foreign.id}`, { priority: 'low' }), 404, 'not_found');
  assertError(await agent.post(`/api/v1/tickets/${foreign.id}/messages`, { text: 'x' }), 404, 'not_found');
  const listed = (await agent.get('/api/v1/tickets?limit=200')).body.items.map((x) => x.id);
  assert.ok(listed.includes(mine.id));
  assert.ok(!listed.includes(foreign.id));
  assert.ok(!listed.includes(nobody.id));
  assert.equal((await sup.get(`/api/v1/tickets/${foreign.id}`)).status, 200);
  // nor through the customer's history
  const hist = (await agent.get(`/api/v1/customers/${foreign.customer.id}/history`)).body;
  assert.deepEqual(hist.tickets, []);
  assert.deepEqual(hist.messages, []);
  const full = (await sup.get(`/api/v1/customers/${foreign.customer.id}/history`)).body;
  assert.deepEqual(full.tickets.map((x) => x.id), [foreign.id]);
  assert.equal(full.messages.length, 1);
});

test('notes with @mentions stay internal', async () => {
  const t = await newTicket(admin);
  const emily = users['emily.chen@demo.kefu.local'];
  const n = await admin.post(`/api/v1/tickets/${t.id}/messages`, { text: '@Emily 请跟进', internal: true, mentions: [emily.id] });
  assert.equal(n.status, 201);
  assert.equal(n.body.internal, true);
  assert.deepEqual(n.body.mentions, [emily.id]);
  assert.equal((await admin.get(`/api/v1/tickets/${t.id}`)).body.status, 'new', 'a note does not open a ticket');
  assertError(await admin.post(`/api/v1/tickets/${t.id}/messages`, { text: 'x', mentions: [999999] }), 400, 'invalid');
  assertError(await admin.post(`/api/v1/tickets/${t.id}/messages`, {}), 400, 'invalid');
  const html = await admin.post(`/api/v1/tickets/${t.id}/messages`, { html: '<p onclick="x()">Hi <script>alert(1)</script><b>there</b></p>' });
  assert.equal(html.status, 201);
  assert.doesNotMatch(html.body.html, /script|onclick/);
  assert.match(html.body.html, /<b>there<\/b>/);
  assert.equal(html.body.text, 'Hi there');
});

test('merge moves the conversation and can be undone; split makes a linked ticket', async () => {
  const a = await newTicket(admin);
  const b = await newTicket(admin);
  const m = await admin.post(`/api/v1/tickets/${a.id}/merge`, { into: b.id });
  assert.equal(m.status, 200, JSON.stringify(m.body));
  assert.equal(m.body.id, b.id);
  const msgs = (await admin.get(`/api/v1/tickets/${b.id}/messages`)).body.items;
  assert.equal(msgs.length, 2);
  const src = (await admin.get(`/api/v1/tickets/${a.id}`)).body;
  assert.equal(src.merged_into, b.id);
  assert.equal(src.status, 'closed');
  assertError(await admin.patch(`/api/v1/tickets/${a.id}`, { priority: 'high' }), 422, 'unprocessable');
  assertError(await agent.post(`/api/v1/tickets/${b.id}/merge`, { into: a.id }), 403, 'forbidden');
  const listed = (await admin.get('/api/v1/tickets?limit=200')).body.items.map((x) => x.id);
  assert.ok(!listed.includes(a.id), 'merged tickets leave the lists');
  const u = await admin.post(`/api/v1/tickets/${a.id}/unmerge`, {});
  assert.equal(u.status, 200, JSON.stringify(u.body));
  assert.equal(u.body.status, 'new');
  assert.equal((await admin.get(`/api/v1/tickets/${a.id}/messages`)).body.items.length, 1);
  assert.equal((await admin.get(`/api/v1/tickets/${b.id}/messages`)).body.items.length, 1);

  await admin.post(`/api/v1/tickets/${b.id}/messages`, { text: '另外，我的发票也没收到' });
  const second = (await admin.get(`/api/v1/tickets/${b.id}/messages`)).body.items[1];
  const sp = await admin.post(`/api/v1/tickets/${b.id}/split`, { message_id: second.id, subject: '发票问题' });
  assert.equal(sp.status, 201, JSON.stringify(sp.body));
  assert.equal(sp.body.subject, '发票问题');
  assert.equal(sp.body.customer.id, b.customer.id);
  assert.deepEqual(sp.body.links.map((l) => [l.kind, l.ticket.id]), [['related', b.id]]);
  assert.equal((await admin.get(`/api/v1/tickets/${b.id}/messages`)).body.items.length, 1);
  assertError(await admin.post(`/api/v1/tickets/${a.id}/split`, { message_id: second.id }), 400, 'invalid');
});

test('links: related and parent/child, and unlink', async () => {
  const p = await newTicket(admin);
  const c = await newTicket(admin);
  const l = await admin.post(`/api/v1/tickets/${c.id}/links`, { ticket_id: p.id, kind: 'parent' });
  assert.equal(l.status, 200, JSON.stringify(l.body));
  assert.equal(l.body.parent_id, p.id);
  const parent = (await admin.get(`/api/v1/tickets/${p.id}`)).body;
  assert.deepEqual(parent.links.map((x) => x.kind), ['child']);
  assertError(await admin.post(`/api/v1/tickets/${c.id}/links`, { ticket_id: c.id }), 422, 'unprocessable');
  assertError(await admin.post(`/api/v1/tickets/${c.id}/links`, { ticket_id: p.id, kind: 'cousin' }), 400, 'invalid');
  const u = await admin.del(`/api/v1/tickets/${c.id}/links/${p.id}`);
  assert.equal(u.status, 200);
  assert.equal(u.body.parent_id, null);
  assert.deepEqual(u.body.links, []);
});

test('bulk update reports each ticket', async () => {
  const a = await newTicket(admin);
  const b = await newTicket(admin);
  const r = await admin.post('/api/v1/tickets/bulk', { ids: [a.id, b.id, 999999], changes: { priority: 'high', add_tags: ['批量'] } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.results.map((x) => x.ok), [true, true, false]);
  assert.equal(r.body.results[2].error.code, 'not_found');
  const got = (await admin.get(`/api/v1/tickets/${a.id}`)).body;
  assert.equal(got.priority, 'high');
  assert.deepEqual(got.tags, ['批量']);
  assertError(await admin.post('/api/v1/tickets/bulk', { ids: [a.id], changes: { priority: 'meh' } }), 400, 'invalid');
});

test('lists: views, filters, sort, cursor pages and counts', async () => {
  const me = users[srv.logins.admin.email];
  const t = await newTicket(admin, { priority: 'urgent', tags: ['vip', '退款'] });
  await admin.patch(`/api/v1/tickets/${t.id}`, { assignee_id: me.id });
  const mine = (await admin.get('/api/v1/tickets?view=mine')).body.items;
  assert.ok(mine.every((x) => x.assignee && x.assignee.id === me.id));
  assert.ok(mine.some((x) => x.id === t.id));
  const un = (await admin.get('/api/v1/tickets?view=unassigned&limit=200')).body.items;
  assert.ok(un.every((x) => x.assignee === null));
  const urgent = (await admin.get('/api/v1/tickets?priority=urgent&tag=vip')).body.items;
  assert.deepEqual(urgent.map((x) => x.id), [t.id]);
  assertError(await admin.get('/api/v1/tickets?view=everything'), 400, 'invalid');
  assertError(await admin.get('/api/v1/tickets?sort=random'), 400, 'invalid');
  assertError(await admin.get('/api/v1/tickets?cursor=garbage'), 400, 'invalid');
  // every ticket exactly once across pages, in order
  const total = Number(srv.sql('SELECT COUNT(*) FROM tickets WHERE merged_into IS NULL'));
  for (const sort of ['updated_desc', 'created_asc']) {
    const seen = [];
    let cursor = null;
    for (let i = 0; i < 100; i++) {
      const r = await admin.get(`/api/v1/tickets?limit=4&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...r.body.items.map((x) => x.id));
      cursor = r.body.next;
      if (!cursor) break;
    }
    assert.equal(seen.length, total, sort);
    assert.equal(new Set(seen).size, total, sort);
  }
  const counts = (await admin.get('/api/v1/tickets/counts')).body;
  for (const k of ['mine', 'unassigned', 'my_teams', 'all']) assert.equal(typeof counts[k], 'number');
  assert.ok(counts.all >= counts.mine);
  const from = new Date(Date.now() - 3600e3).toISOString().slice(0, 19) + 'Z';
  assert.ok((await admin.get(`/api/v1/tickets?created_from=${from}`)).body.items.length > 0);
  assert.equal((await admin.get('/api/v1/tickets?created_to=2000-01-01')).body.items.length, 0);
});

test('saved views: private, shared by supervisors', async () => {
  const v = await agent.post('/api/v1/views', { name: '我的紧急工单', filters: { view: 'mine', priority: 'urgent' } });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  assert.ok(v.body.items.some((x) => x.name === '我的紧急工单' && x.shared === false));
  assertError(await agent.post('/api/v1/views', { name: 'team', filters: {}, shared: true }), 403, 'forbidden');
  assert.equal((await sup.post('/api/v1/views', { name: '全组待处理', filters: { status: 'open' }, shared: true })).status, 200);
  const seen = (await agent.get('/api/v1/views')).body.items.map((x) => x.name);
  assert.ok(seen.includes('全组待处理'));
  const others = (await sup.get('/api/v1/views')).body.items.map((x) => x.name);
  assert.ok(!others.includes('我的紧急工单'), 'private views stay private');
});

test('search finds Chinese words, Traditional forms and English stems', async () => {
  const refund = await newTicket(admin, { subject: '订单问题', message: '我要退款，东西坏了' });
  const returns = await newTicket(admin, { subject: '退货申请', message: '请帮我办理' });
  const english = await newTicket(admin, { subject: 'Order question', message: 'I would like a refund for my order' });
  const q = async (s) => (await admin.get(`/api/v1/tickets?q=${encodeURIComponent(s)}&limit=200`)).body.items.map((x) => x.id);
  assert.ok((await q('退款')).includes(refund.id));
  assert.ok(!(await q('退款')).includes(returns.id));
  assert.ok((await q('退貨')).includes(returns.id), 'Traditional finds Simplified');
  assert.ok((await q('refunds')).includes(english.id), 'stemming');
  assert.ok((await q('REFUND order')).includes(english.id));
  assert.ok(!(await q('refund')).includes(refund.id));
  assert.deepEqual(await q('"OR 1=1 --'), []);
  assert.deepEqual(await q('!!!'), []);
  // replies are searchable too
  await admin.post(`/api/v1/tickets/${returns.id}/messages`, { text: '快递单号 SF1234567' });
  assert.ok((await q('sf1234567')).includes(returns.id));
  // agents only find what they may see
  assert.ok(!(await (async () => (await agent.get(`/api/v1/tickets?q=${encodeURIComponent('退款')}`)).body.items.map((x) => x.id))()).includes(refund.id));
});
