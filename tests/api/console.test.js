// What the agent console needs of the API beyond tickets themselves: each
// user's console settings (language, preferences) kept on the server, and
// the home dashboard's figures in the caller's data scope.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, assertError } = require('./lib/harness');

let srv;
before(async () => { srv = await new Server({ demoTickets: 60, demoCustomers: 12 }).start(); });
after(async () => { await srv.stop(); });

test('language and preferences are kept per user and validated', async () => {
  const agent = await srv.loginAs('agent');
  const admin = await srv.loginAs('admin');
  assert.equal((await agent.get('/api/v1/me')).body.locale, null);
  assert.deepEqual((await agent.get('/api/v1/me')).body.preferences, {});
  const prefs = { notify_sound: false, notify_desktop: true, quick_replies: ['您好，请稍等。', 'Thanks!'] };
  const r = await agent.patch('/api/v1/me', { locale: 'zh-TW', preferences: prefs });
  assert.equal(r.status, 200);
  assert.equal(r.body.locale, 'zh-TW');
  assert.deepEqual(r.body.preferences, prefs);
  // Another user's settings are their own.
  assert.equal((await admin.get('/api/v1/me')).body.locale, null);
  // Bad values change nothing.
  assertError(await agent.patch('/api/v1/me', { locale: 'fr' }), 400, 'invalid');
  assertError(await agent.patch('/api/v1/me', { preferences: ['x'] }), 400, 'invalid');
  assertError(await agent.patch('/api/v1/me', { preferences: { big: 'x'.repeat(20000) } }), 400, 'invalid');
  assertError(await agent.patch('/api/v1/me', { locale: 3 }), 400, 'invalid');
  const same = (await agent.get('/api/v1/me')).body;
  assert.equal(same.locale, 'zh-TW');
  assert.deepEqual(same.preferences, prefs);
  // Only the language changes; null goes back to the browser's.
  assert.deepEqual((await agent.patch('/api/v1/me', { locale: 'en' })).body.preferences, prefs);
  assert.equal((await agent.patch('/api/v1/me', { locale: null })).body.locale, null);
});

test('the dashboard overview counts within the caller\'s scope', async () => {
  const admin = await srv.loginAs('admin');
  const agent = await srv.loginAs('agent');
  const all = await admin.get('/api/v1/tickets/overview?since=2000-01-01');
  assert.equal(all.status, 200);
  const o = all.body;
  for (const k of ['mine_new', 'mine_open', 'mine_pending', 'unassigned', 'urgent', 'open', 'created_today'])
    assert.equal(typeof o[k], 'number', k);
  // Every demo ticket was made after 2000: by channel they add up.
  const byChannel = Object.values(o.created_today_by_channel).reduce((a, b) => a + b, 0);
  assert.equal(byChannel, o.created_today);
  assert.ok(o.created_today >= 60);
  const counts = (await admin.get('/api/v1/tickets/counts')).body;
  assert.equal(o.open, counts.all);
  assert.equal(o.unassigned, counts.unassigned);
  // An agent sees fewer (their teams and their own).
  const mine = (await agent.get('/api/v1/tickets/overview?since=2000-01-01')).body;
  assert.ok(mine.open <= o.open && mine.created_today <= o.created_today);
  assert.equal(mine.open, (await agent.get('/api/v1/tickets/counts')).body.all);
  // A new ticket counts today; "since" in the future counts nothing.
  const now = Date.now();
  const t = await admin.post('/api/v1/tickets', { subject: '今天的新工单', customer: { name: '新客户', email: 'new-today@example.cn' }, message: 'hi' });
  assert.equal(t.status, 201, JSON.stringify(t.body));
  const today = (await admin.get(`/api/v1/tickets/overview?since=${now - 1000}`)).body;
  assert.equal(today.created_today, 1);
  assert.equal((await admin.get(`/api/v1/tickets/overview?since=${now + 3600e3}`)).body.created_today, 0);
  assertError(await admin.get('/api/v1/tickets/overview?since=yesterday'), 400, 'invalid');
});

test('status=unresolved lists what the counts count', async () => {
  const admin = await srv.loginAs('admin');
  const counts = (await admin.get('/api/v1/tickets/counts')).body;
  const seen = [];
  let cursor;
  do {
    const page = await admin.get(`/api/v1/tickets?view=all&status=unresolved&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(page.status, 200);
    seen.push(...page.body.items);
    cursor = page.body.next;
  } while (cursor);
  assert.equal(seen.length, counts.all);
  assert.ok(seen.every((t) => ['new', 'open', 'pending'].includes(t.status_category || t.status)), 'only unresolved');
});
