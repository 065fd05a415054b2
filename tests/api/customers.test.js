// Customers through the API: profiles with identities, tags, levels and
// attributes; search and cursor pages; personal data masked for roles
// without pii.read; account isolation; merge and its undo; history.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, assertError } = require('./lib/harness');

let srv;
let admin;
let supervisor;
let agent;
before(async () => {
  srv = await new Server().start();
  admin = await srv.loginAs('admin');
  supervisor = await srv.loginAs('supervisor');
  agent = await srv.loginAs('agent');
});
after(async () => { await srv.stop(); });

const DEMO = "(SELECT id FROM accounts WHERE slug = 'demo')";
const countCustomers = () => srv.sql(`SELECT COUNT(*) FROM customers WHERE account_id = ${DEMO}`);

async function create(client, body) {
  const r = await client.post('/api/v1/customers', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

// Every customer of a listing, following `next` until the end.
async function listAll(client, query) {
  const items = [];
  let next = null;
  for (let pages = 0; pages < 200; pages++) {
    const r = await client.get(`/api/v1/customers?${query}${next ? `&cursor=${next}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    items.push(...r.body.items);
    next = r.body.next;
    if (!next) return items;
  }
  throw new Error('listing did not end');
}

test('create, read back, change; e-mail and phone normalised and kept as identities', async () => {
  const c = await create(admin, {
    name: '张伟', email: 'Zhang.Wei@Example.CN', phone: '+86 138-1234-5678', level: 'vip',
    tags: ['vip', '北京', 'vip'], attributes: { city: '北京', orders: 3 }, external_id: 'crm-001',
  });
  assert.equal(c.name, '张伟');
  assert.equal(c.email, 'zhang.wei@example.cn');
  assert.equal(c.phone, '+8613812345678', 'admins see the phone unmasked');
  assert.equal(c.level, 'vip');
  assert.deepEqual(c.tags, ['vip', '北京'], 'repeated tags are kept once');
  assert.deepEqual(c.attributes, { city: '北京', orders: 3 });
  assert.equal(c.external_id, 'crm-001');
  assert.equal(c.merged_into, null);
  assert.match(c.created_at, /^\d{4}-\d\d-\d\dT.*Z$/);
  assert.deepEqual(c.identities.map((i) => [i.kind, i.handle]),
    [['email', 'zhang.wei@example.cn'], ['phone', '+8613812345678']]);
  assert.ok(c.identities.every((i) => Number.isInteger(i.id)));

  const g = await admin.get(`/api/v1/customers/${c.id}`);
  assert.equal(g.status, 200);
  assert.deepEqual(g.body, c);

  const u = await admin.patch(`/api/v1/customers/${c.id}`, { name: '张伟 VIP', tags: ['vip'], level: 'svip' });
  assert.equal(u.status, 200, JSON.stringify(u.body));
  assert.equal(u.body.name, '张伟 VIP');
  assert.deepEqual(u.body.tags, ['vip']);
  assert.equal(u.body.level, 'svip');
  assert.equal(u.body.email, c.email, 'absent fields stay');
  assert.deepEqual(u.body.attributes, c.attributes);
  assert.equal(srv.sql(`SELECT COUNT(*) FROM customer_tags WHERE customer_id = ${c.id}`), '1');

  const e2 = await admin.patch(`/api/v1/customers/${c.id}`, { email: 'zw@example.cn' });
  assert.equal(e2.body.email, 'zw@example.cn');
  assert.ok(e2.body.identities.some((i) => i.kind === 'email' && i.handle === 'zw@example.cn'));

  const bare = await create(admin, {});
  assert.equal(bare.name, '');
  assert.equal(bare.level, 'normal');
  assert.deepEqual(bare.identities, []);

  assertError(await admin.post('/api/v1/customers', { name: 'Dup', external_id: 'crm-001' }), 409, 'conflict');
  assertError(await admin.post('/api/v1/customers', { name: 'X', nickname: 'x' }), 400, 'invalid');
  assertError(await admin.patch('/api/v1/customers/999999', { name: 'Nobody' }), 404, 'not_found');
  assertError(await admin.get('/api/v1/customers/999999'), 404, 'not_found');
  assertError(await admin.get('/api/v1/customers/abc'), 404, 'not_found');
});

test('list: newest first, cursor pages hold every customer once, filters by tag and level', async () => {
  const made = [];
  for (let i = 0; i < 7; i++)
    made.push(await create(admin, { name: `Page ${i}`, tags: ['page-test'], level: i % 2 ? 'gold' : 'normal' }));
  const all = await listAll(admin, 'limit=3');
  const ids = all.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, 'no customer twice');
  assert.equal(String(ids.length), srv.sql(`SELECT COUNT(*) FROM customers WHERE account_id = ${DEMO} AND merged_into IS NULL`));
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
  assert.equal(all[0].identities, undefined, 'list items carry no identities');

  const first = await admin.get('/api/v1/customers?limit=3');
  assert.equal(first.body.items.length, 3);
  assert.equal(first.body.next, String(first.body.items[2].id));

  const tagged = await listAll(admin, 'tag=page-test&limit=2');
  assert.deepEqual(tagged.map((c) => c.id), made.map((c) => c.id).reverse());
  const gold = await listAll(admin, 'tag=page-test&level=gold');
  assert.deepEqual(gold.map((c) => c.name), ['Page 5', 'Page 3', 'Page 1']);
  const q = await listAll(admin, `q=${encodeURIComponent('page 4')}&tag=page-test`);
  assert.deepEqual(q.map((c) => c.name), ['Page 4']);
  assert.deepEqual(await listAll(admin, 'tag=no-such-tag'), []);

  assertError(await admin.get('/api/v1/customers?limit=500'), 400, 'invalid');
  assertError(await admin.get('/api/v1/customers?limit=0'), 400, 'invalid');
  assertError(await admin.get('/api/v1/customers?cursor=abc'), 400, 'invalid');
});

test('search by Chinese name, e-mail, phone digits and any identity', async () => {
  const li = await create(admin, { name: '李娜', email: 'li.na@example.cn', phone: '13900001111' });
  const wang = await create(admin, { name: '王芳 Wang Fang', email: 'wang.fang@example.com' });
  const add = await admin.post(`/api/v1/customers/${wang.id}/identities`, { kind: 'wechat', handle: 'oWx_OpenId_123' });
  assert.equal(add.status, 201);
  const names = async (q) => (await listAll(admin, `q=${encodeURIComponent(q)}`)).map((c) => c.name);
  assert.ok((await names('张伟')).some((n) => n.startsWith('张伟')));
  assert.ok(!(await names('张伟')).includes('李娜'));
  assert.deepEqual(await names('李娜'), ['李娜']);
  assert.deepEqual(await names('娜'), ['李娜']);
  assert.deepEqual(await names('王芳'), ['王芳 Wang Fang']);
  assert.deepEqual(await names('WANG FANG'), ['王芳 Wang Fang'], 'ASCII case does not matter');
  assert.deepEqual(await names('LI.NA@'), ['李娜']);
  assert.deepEqual(await names('00001111'), ['李娜']);
  assert.deepEqual(await names('openid_123'), ['王芳 Wang Fang']);
  assert.deepEqual(await names('100%_'), [], 'wildcards are literal');
  assert.ok(li.id < wang.id);
});

test('identities are unique per account: a second owner is refused with 409 naming the first', async () => {
  const a = await create(admin, { name: 'Owner A', email: 'owner@example.org' });
  const n = countCustomers();
  const dup = await admin.post('/api/v1/customers', { name: 'Owner B', email: 'OWNER@example.org' });
  assertError(dup, 409, 'conflict');
  assert.match(dup.body.error.message, new RegExp(`customer ${a.id}\\b`));
  assert.equal(countCustomers(), n, 'nothing stored');

  const b = await create(admin, { name: 'Owner B' });
  const steal = await admin.post(`/api/v1/customers/${b.id}/identities`, { kind: 'email', handle: 'owner@example.org' });
  assertError(steal, 409, 'conflict');
  assert.match(steal.body.error.message, new RegExp(`customer ${a.id}\\b`));
  assertError(await admin.patch(`/api/v1/customers/${b.id}`, { email: 'owner@example.org' }), 409, 'conflict');
  assert.equal((await admin.get(`/api/v1/customers/${b.id}`)).body.email, null, 'the failed change left nothing');

  const w = await admin.post(`/api/v1/customers/${b.id}/identities`, { kind: 'wechat', handle: 'oB-openid' });
  assert.equal(w.status, 201);
  const ident = w.body.identities.find((i) => i.kind === 'wechat');
  assert.equal(ident.handle, 'oB-openid');
  assert.equal((await admin.post(`/api/v1/customers/${b.id}/identities`, { kind: 'wechat', handle: 'oB-openid' })).status, 201, 'adding again is fine');
  assertError(await admin.post(`/api/v1/customers/${a.id}/identities`, { kind: 'wechat', handle: 'oB-openid' }), 409, 'conflict');
  assertError(await admin.post(`/api/v1/customers/${b.id}/identities`, { kind: 'We Chat', handle: 'x' }), 400, 'invalid');
  assertError(await admin.post(`/api/v1/customers/${b.id}/identities`, { kind: 'email', handle: 'not-an-address' }), 400, 'invalid');
  assertError(await admin.post(`/api/v1/customers/${b.id}/identities`, { kind: 'phone', handle: '12ab34' }), 400, 'invalid');
  assertError(await admin.post(`/api/v1/customers/${b.id}/identities`, { kind: 'wechat' }), 400, 'invalid');
  assertError(await admin.post(`/api/v1/customers/${b.id}/identities`, { kind: 'wechat', handle: 'y', x: 1 }), 400, 'invalid');
  assertError(await admin.post('/api/v1/customers/999999/identities', { kind: 'wechat', handle: 'z' }), 404, 'not_found');

  const removed = await admin.del(`/api/v1/customers/${b.id}/identities/${ident.id}`);
  assert.equal(removed.status, 200);
  assert.ok(!removed.body.identities.some((i) => i.id === ident.id));
  assertError(await admin.del(`/api/v1/customers/${b.id}/identities/${ident.id}`), 404, 'not_found');
  const aEmail = (await admin.get(`/api/v1/customers/${a.id}`)).body.identities[0];
  assertError(await admin.del(`/api/v1/customers/${b.id}/identities/${aEmail.id}`), 404, 'not_found');

  // Removing the primary address frees it: the profile no longer shows it
  // and another customer may claim it.
  const freed = await admin.del(`/api/v1/customers/${a.id}/identities/${aEmail.id}`);
  assert.equal(freed.body.email, null);
  const moved = await admin.patch(`/api/v1/customers/${b.id}`, { email: 'owner@example.org' });
  assert.equal(moved.status, 200);
  assert.equal(moved.body.email, 'owner@example.org');
});

test('agents see phones and ID numbers masked; supervisors and admins see them; storage keeps them whole', async () => {
  const full = '+8613912345678';
  const idNo = '110101199003074514';
  const made = await agent.post('/api/v1/customers', {
    name: '赵敏', phone: '+86 139 1234 5678', email: 'zhao.min@example.cn',
    attributes: { id_number: idNo, Passport_No: 'E12345678', city: '上海', docs: { 身份证: idNo } },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.id;
  const noFull = (body, what) => {
    const text = JSON.stringify(body);
    assert.ok(!text.includes('13912345678'), `${what}: full phone in ${text}`);
    assert.ok(!text.includes('199003074514'), `${what}: ID number in ${text}`);
    assert.ok(!text.includes('12345678"'), `${what}: passport number in ${text}`);
  };
  assert.equal(made.body.phone, '+86139****5678');
  assert.equal(made.body.identities.find((i) => i.kind === 'phone').handle, '+86139****5678');
  assert.equal(made.body.attributes.id_number, '110****4514');
  assert.equal(made.body.attributes.city, '上海');
  noFull(made.body, 'create reply');
  noFull((await agent.get(`/api/v1/customers/${id}`)).body, 'get');
  noFull((await agent.get('/api/v1/customers?limit=200')).body, 'list');
  const found = await agent.get(`/api/v1/customers?q=${encodeURIComponent('赵敏')}`);
  assert.equal(found.body.items.length, 1);
  noFull(found.body, 'search');

  assert.equal(srv.sql(`SELECT phone FROM customers WHERE id = ${id}`), full, 'stored whole');
  assert.equal(srv.sql(`SELECT handle FROM customer_identities WHERE customer_id = ${id} AND kind = 'phone'`), full);
  assert.ok(srv.sql(`SELECT attributes FROM customers WHERE id = ${id}`).includes(idNo));

  for (const c of [supervisor, admin]) {
    const g = (await c.get(`/api/v1/customers/${id}`)).body;
    assert.equal(g.phone, full);
    assert.equal(g.identities.find((i) => i.kind === 'phone').handle, full);
    assert.equal(g.attributes.id_number, idNo);
    assert.equal(g.attributes.Passport_No, 'E12345678');
    assert.equal(g.attributes.docs['身份证'], idNo);
  }

  // An edit form sending back what the agent was shown keeps the real data.
  const shown = (await agent.get(`/api/v1/customers/${id}`)).body;
  const edited = await agent.patch(`/api/v1/customers/${id}`, {
    phone: shown.phone, attributes: { ...shown.attributes, city: '杭州' },
  });
  assert.equal(edited.status, 200, JSON.stringify(edited.body));
  noFull(edited.body, 'update reply');
  const after = (await admin.get(`/api/v1/customers/${id}`)).body;
  assert.equal(after.phone, full);
  assert.equal(after.attributes.id_number, idNo);
  assert.equal(after.attributes.docs['身份证'], idNo);
  assert.equal(after.attributes.city, '杭州');

  // The audit log names the change, not the number.
  const log = (await admin.get('/api/v1/audit?action=customer.&limit=200')).body.items;
  const mine = log.filter((e) => e.target_id === id);
  assert.deepEqual(mine.map((e) => e.action).sort(), ['customer.create', 'customer.update']);
  for (const e of mine) noFull(e, e.action);
  assert.equal(mine.find((e) => e.action === 'customer.create').detail.phone, '(changed)');
});

test('a customer of account A is 404 in account B', async () => {
  const acct = await srv.cli(['account', 'create', '--name', 'Other Co 另一家', '--slug', 'other']);
  assert.equal(acct.status, 0, acct.stderr);
  const user = await srv.cli(['user', 'create', '--account', 'other', '--email', 'boss@other.example',
    '--name', 'Other Boss', '--role', 'admin', '--password', 'other-password-1']);
  assert.equal(user.status, 0, user.stderr);
  const b = srv.client();
  assert.equal((await b.login('boss@other.example', 'other-password-1')).status, 200);

  const a = await create(admin, { name: 'A 的客户', email: 'shared@example.net' });
  assertError(await b.get(`/api/v1/customers/${a.id}`), 404, 'not_found');
  assertError(await b.patch(`/api/v1/customers/${a.id}`, { name: 'Hijacked' }), 404, 'not_found');
  assertError(await b.get(`/api/v1/customers/${a.id}/history`), 404, 'not_found');
  assertError(await b.post(`/api/v1/customers/${a.id}/identities`, { kind: 'wechat', handle: 'b-1' }), 404, 'not_found');
  assertError(await b.del(`/api/v1/customers/${a.id}/identities/${a.identities[0].id}`), 404, 'not_found');
  assert.deepEqual((await b.get('/api/v1/customers')).body.items, []);
  assert.deepEqual((await b.get('/api/v1/customers?q=shared')).body.items, []);

  // Identities are unique per account: B may know the same address.
  const mine = await create(b, { name: 'B 的客户', email: 'shared@example.net' });
  assertError(await b.post(`/api/v1/customers/${mine.id}/merge`, { into: a.id }), 404, 'not_found');
  assertError(await b.post(`/api/v1/customers/${a.id}/merge`, { into: mine.id }), 404, 'not_found');
  assertError(await admin.post(`/api/v1/customers/${a.id}/merge`, { into: mine.id }), 404, 'not_found');
  const g = (await admin.get(`/api/v1/customers/${a.id}`)).body;
  assert.equal(g.name, 'A 的客户', 'A is untouched');
  assert.equal(g.merged_into, null);
});

// A ticket with one customer message, written straight to the database so
// this test does not depend on the tickets API.
let ticketNumber = 9000;
function insertTicket(customerId, subject) {
  const now = Date.now();
  ticketNumber++;
  const t = srv.sql(`INSERT INTO tickets (account_id, number, subject, status, status_category, customer_id, origin, created_at, updated_at) VALUES (${DEMO}, ${ticketNumber}, '${subject}', 'open', 'open', ${customerId}, 'email', ${now}, ${now}) RETURNING id`);
  const id = Number(t.split('\n')[0]);
  srv.sql(`INSERT INTO messages (account_id, ticket_id, author_kind, customer_id, direction, text, created_at) VALUES (${DEMO}, ${id}, 'customer', ${customerId}, 'in', '你好，我的订单没到', ${now})`);
  return id;
}

test('history lists tickets and messages across channels', async () => {
  const c = await create(admin, { name: 'History 客户' });
  const empty = await agent.get(`/api/v1/customers/${c.id}/history`);
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.body, { tickets: [], messages: [] });
  assertError(await agent.get('/api/v1/customers/999999/history'), 404, 'not_found');

  const tid = insertTicket(c.id, '订单未到');
  // (an agent sees only the tickets of its teams here: tickets.test.js)
  const h = (await admin.get(`/api/v1/customers/${c.id}/history`)).body;
  assert.equal(h.tickets.length, 1);
  assert.equal(h.tickets[0].id, tid);
  assert.equal(h.tickets[0].subject, '订单未到');
  assert.equal(h.tickets[0].channel, 'email');
  for (const k of ['number', 'status', 'priority', 'created_at', 'updated_at']) assert.ok(k in h.tickets[0], k);
  assert.equal(h.messages.length, 1);
  assert.equal(h.messages[0].ticket_id, tid);
  assert.equal(h.messages[0].text, '你好，我的订单没到');
  assert.equal(h.messages[0].direction, 'in');
  assert.equal(h.messages[0].channel, 'email');
});

test('merge moves identities and tickets; admins can undo it once', async () => {
  const src = await create(admin, { name: '刘洋 (old)', email: 'liu.yang@example.cn', phone: '+8613700001234' });
  const dst = await create(admin, { name: '刘洋', email: 'ly@example.cn' });
  const tid = insertTicket(src.id, '退货');

  const m = await agent.post(`/api/v1/customers/${src.id}/merge`, { into: dst.id });
  assert.equal(m.status, 200, JSON.stringify(m.body));
  assert.ok(Number.isInteger(m.body.merge_id));
  assert.equal(m.body.customer.id, dst.id);
  assert.deepEqual(m.body.customer.identities.map((i) => i.handle).sort(),
    ['+86137****1234', 'liu.yang@example.cn', 'ly@example.cn'], 'moved, and masked for the agent');

  const gs = (await admin.get(`/api/v1/customers/${src.id}`)).body;
  assert.equal(gs.merged_into, dst.id);
  assert.deepEqual(gs.identities, []);
  assert.ok(!(await listAll(admin, 'limit=200')).some((c) => c.id === src.id), 'the source left the list');
  assert.deepEqual((await listAll(admin, 'q=liu.yang')).map((c) => c.id), [dst.id], 'its e-mail finds the target');
  assert.equal(srv.sql(`SELECT customer_id FROM tickets WHERE id = ${tid}`), String(dst.id));
  assert.equal(srv.sql(`SELECT customer_id FROM messages WHERE ticket_id = ${tid}`), String(dst.id));
  assert.deepEqual((await admin.get(`/api/v1/customers/${dst.id}/history`)).body.tickets.map((t) => t.id), [tid]);
  assert.deepEqual((await admin.get(`/api/v1/customers/${src.id}/history`)).body.tickets, []);

  assertError(await admin.patch(`/api/v1/customers/${src.id}`, { name: 'x' }), 404, 'not_found');
  assertError(await admin.post(`/api/v1/customers/${src.id}/merge`, { into: dst.id }), 404, 'not_found');
  assertError(await admin.post(`/api/v1/customers/${dst.id}/merge`, { into: src.id }), 404, 'not_found');
  assertError(await admin.post(`/api/v1/customers/${dst.id}/merge`, { into: dst.id }), 422, 'unprocessable');
  assertError(await admin.post(`/api/v1/customers/${dst.id}/merge`, { into: 'x' }), 400, 'invalid');
  assertError(await admin.post(`/api/v1/customers/${dst.id}/merge`, {}), 400, 'invalid');
  assertError(await admin.post(`/api/v1/customers/${src.id}/identities`, { kind: 'wechat', handle: 'o-merged' }), 404, 'not_found');

  const undo = `/api/v1/customer-merges/${m.body.merge_id}/undo`;
  assertError(await agent.post(undo), 403, 'forbidden');
  assertError(await supervisor.post(undo), 403, 'forbidden');
  const u = await admin.post(undo);
  assert.equal(u.status, 200, JSON.stringify(u.body));
  assert.equal(u.body.id, src.id);
  assert.equal(u.body.merged_into, null);
  assert.deepEqual(u.body.identities.map((i) => i.handle).sort(), ['+8613700001234', 'liu.yang@example.cn']);
  const gd = (await admin.get(`/api/v1/customers/${dst.id}`)).body;
  assert.deepEqual(gd.identities.map((i) => i.handle), ['ly@example.cn']);
  assert.equal(srv.sql(`SELECT customer_id FROM tickets WHERE id = ${tid}`), String(src.id));
  assert.equal(srv.sql(`SELECT customer_id FROM messages WHERE ticket_id = ${tid}`), String(src.id));
  assert.ok((await listAll(admin, 'limit=200')).some((c) => c.id === src.id), 'back in the list');
  assertError(await admin.post(undo), 409, 'conflict');
  assertError(await admin.post('/api/v1/customer-merges/999999/undo'), 404, 'not_found');

  const log = (await admin.get('/api/v1/audit?action=customer.merge&limit=50')).body.items;
  assert.ok(log.some((e) => e.action === 'customer.merge' && e.target_id === src.id && e.detail.merge_id === m.body.merge_id));
  assert.ok(log.some((e) => e.action === 'customer.merge_undo' && e.target_id === m.body.merge_id));
});

test('undo waits for a later merge of the target to be undone first', async () => {
  const a = await create(admin, { name: 'Chain A', email: 'chain.a@example.cn' });
  const b = await create(admin, { name: 'Chain B', email: 'chain.b@example.cn' });
  const c = await create(admin, { name: 'Chain C' });
  const ab = (await admin.post(`/api/v1/customers/${a.id}/merge`, { into: b.id })).body.merge_id;
  const bc = (await admin.post(`/api/v1/customers/${b.id}/merge`, { into: c.id })).body.merge_id;
  assert.equal((await admin.get(`/api/v1/customers/${c.id}`)).body.identities.length, 2);
  assertError(await admin.post(`/api/v1/customer-merges/${ab}/undo`), 409, 'conflict');
  assert.equal((await admin.post(`/api/v1/customer-merges/${bc}/undo`)).status, 200);
  const ra = await admin.post(`/api/v1/customer-merges/${ab}/undo`);
  assert.equal(ra.status, 200);
  assert.deepEqual(ra.body.identities.map((i) => i.handle), ['chain.a@example.cn']);
  assert.deepEqual((await admin.get(`/api/v1/customers/${b.id}`)).body.identities.map((i) => i.handle), ['chain.b@example.cn']);
  assert.deepEqual((await admin.get(`/api/v1/customers/${c.id}`)).body.identities, []);
});

test('bad input is refused with 400 and stores nothing', async () => {
  const keep = await create(admin, { name: 'Keep me', email: 'keep@example.cn', tags: ['a'] });
  const n = countCustomers();
  const tags51 = Array.from({ length: 51 }, (_, i) => `t${i}`);
  const bad = [
    { name: 'Bad mail', email: 'not-an-email' },
    { name: 'Bad mail', email: 'a@b' },
    { name: 'Bad phone', phone: '138-abcd-5678' },
    { name: 'Bad phone', phone: '12' },
    { name: 'Bad tags', tags: 'vip' },
    { name: 'Bad tags', tags: tags51 },
    { name: 'Bad tags', tags: [1, 2] },
    { name: 'Bad tags', tags: [''] },
    { name: 'Bad attrs', attributes: ['x'] },
    { name: 'Bad attrs', attributes: 'x' },
    { name: 'Bad attrs', attributes: null },
    { name: 42 },
    { name: 'x'.repeat(201) },
    { name: 'Bad level', level: '' },
    { name: 'Unknown', vip: true },
  ];
  for (const body of bad) {
    assertError(await admin.post('/api/v1/customers', body), 400, 'invalid');
    assertError(await admin.patch(`/api/v1/customers/${keep.id}`, body), 400, 'invalid');
  }
  assertError(await admin.post('/api/v1/customers', '[1,2]'), 400);
  assertError(await admin.post('/api/v1/customers', '{bad json'), 400);
  assert.equal(countCustomers(), n, 'nothing stored');
  const after = (await admin.get(`/api/v1/customers/${keep.id}`)).body;
  assert.equal(after.name, 'Keep me');
  assert.deepEqual(after.tags, ['a']);
  assert.equal(after.phone, null);
  assert.equal(srv.sql(`SELECT COUNT(*) FROM customer_identities WHERE customer_id = ${keep.id}`), '1');
  const ok = await admin.patch(`/api/v1/customers/${keep.id}`, { tags: tags51.slice(0, 50) });
  assert.equal(ok.status, 200, '50 tags are fine');
});

test('permissions: reading needs customers.read, undo needs account.manage; writes are audited', async () => {
  assertError(await srv.client().get('/api/v1/customers'), 401, 'unauthenticated');
  const role = await admin.post('/api/v1/roles', { name: 'viewer', permissions: ['customers.read'] });
  assert.equal(role.status, 201, JSON.stringify(role.body));
  const u = await admin.post('/api/v1/users', { email: 'viewer@demo.kefu.local', name: 'Viewer', role: 'viewer', password: 'viewer-password-1' });
  assert.equal(u.status, 201);
  const v = srv.client();
  assert.equal((await v.login('viewer@demo.kefu.local', 'viewer-password-1')).status, 200);
  assert.equal((await v.get('/api/v1/customers')).status, 200);
  assertError(await v.post('/api/v1/customers', { name: 'No' }), 403, 'forbidden');
  const someone = (await v.get('/api/v1/customers?limit=1')).body.items[0];
  assertError(await v.patch(`/api/v1/customers/${someone.id}`, { name: 'No' }), 403, 'forbidden');

  const actions = new Set((await listAudit()).map((e) => e.action));
  for (const a of ['customer.create', 'customer.update', 'customer.identity_add',
    'customer.identity_remove', 'customer.merge', 'customer.merge_undo'])
    assert.ok(actions.has(a), a);
  const verify = await srv.cli(['audit', 'verify']);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
});

async function listAudit() {
  const items = [];
  let before = 0;
  for (let i = 0; i < 50; i++) {
    const r = await admin.get(`/api/v1/audit?action=customer.&limit=200${before ? `&before=${before}` : ''}`);
    items.push(...r.body.items);
    if (!r.body.next) break;
    before = r.body.next;
  }
  return items;
}
