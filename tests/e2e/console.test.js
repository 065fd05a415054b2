// The agent console in a real browser against the real server with demo
// data: an agent logs in through the login page and lands on the home
// dashboard (figures as the API counts them, today's channels chart, who is
// online); the inbox lists tickets and a new one arrives live; a ticket is
// opened, answered and its status changed (both seen through the API);
// a customer's message arrives live in the open ticket; the language is
// switched, kept after a reload and on the server; and a phone-sized run
// goes inbox -> ticket -> reply.
//
//   KEFU_BIN=build/kefu KEFU_SOURCE_DIR=$PWD node --test tests/e2e/console.test.js
//
// Screenshots go to KEFU_E2E_SHOTS (else a temporary directory); each path
// is printed.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, until } = require('../api/lib/harness');
const { WEB_DIST, ensureWebBuilt, shotsDir } = require('./lib/browser');
const { PHONE, DESKTOP, openPage, loggedOutProbe, logIn, assertNoErrors, shooter, apiChannel, localMidnight } = require('./lib/console');

let srv;
let admin;     // API client: admin (sets things up)
let agentApi;  // API client: the agent the browser logs in as (checks)
let agentLogin;
let me;        // the agent's GET /api/v1/me
let channel;   // an API channel in the agent's team: the customer's side
let ticketId;  // the ticket the desktop run answers (assigned to the agent, urgent)
let phoneTicketId;
let shot;
let page;      // the desktop page, shared by the tests in order
const opened = [];

before(async () => {
  ensureWebBuilt();
  shot = shooter(shotsDir());
  srv = await new Server({ args: ['--web-root', WEB_DIST], demoTickets: 40, demoCustomers: 15 }).start();
  admin = await srv.loginAs('admin');
  agentLogin = srv.logins.agent;
  agentApi = await srv.loginAs('agent');
  me = (await agentApi.get('/api/v1/me')).body;
  assert.ok(me.teams && me.teams.length, `the demo agent has no team: ${JSON.stringify(me)}`);
  channel = await apiChannel(srv, admin, { team_id: me.teams[0].id });

  // Two tickets of the agent's, urgent: one for the desktop, one for the phone.
  const make = async (conv, text) => {
    const r = await channel.inbound(conv, text);
    const p = await admin.patch(`/api/v1/tickets/${r.ticket_id}`, { assignee_id: me.id, priority: 'urgent' });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    return r.ticket_id;
  };
  ticketId = await make('e2e-order-1001', '你好，我的订单 1001 三天了还没发货，请帮忙查一下。');
  phoneTicketId = await make('e2e-order-1002', '收到的杯子碎了，可以换一个吗？');
});

after(async () => {
  for (const b of opened) await b.close();
  if (srv) await srv.stop();
  if (shot && shot.taken.length) console.log(`# screenshots:\n${shot.taken.map((f) => `#   ${f}`).join('\n')}`);
});

// True once the value of [data-test=stat-KEY] has loaded; resolves to it.
async function statValue(p, key) {
  const loc = p.locator(`[data-test=stat-${key}]`);
  await until(async () => (await loc.getAttribute('data-value')) !== '', 15000, `stat-${key} to load`);
  return Number(await loc.getAttribute('data-value'));
}

test('log in through the login page and land on the dashboard', async () => {
  page = await openPage(opened, { ...DESKTOP, locale: 'zh-CN' }, loggedOutProbe);
  await page.goto(`${srv.base}/`);
  await page.waitForURL(/#\/login/);
  await page.locator('input[name=email]').waitFor();
  await shot(page, 'console-login-1440.png');
  await logIn(page, srv.base, agentLogin);
  await page.waitForURL(/#\/home/);

  // The figures are the API's, for today from the browser's midnight.
  const o = (await agentApi.get(`/api/v1/tickets/overview?since=${localMidnight()}`)).body;
  for (const key of ['mine_new', 'mine_open', 'mine_pending', 'unassigned', 'urgent', 'open'])
    assert.equal(await statValue(page, key), o[key], `stat-${key}`);
  assert.ok(o.mine_new + o.mine_open + o.mine_pending >= 2, 'the two tickets made for the agent count as theirs');
  // Each figure leads to its inbox view.
  assert.equal(await page.locator('[data-test=stat-unassigned]').getAttribute('href'), '#/inbox/unassigned');
  assert.equal(await page.locator('[data-test=stat-mine_open]').getAttribute('href'), '#/inbox/mine?status=open');
  // Today's chart: drawn on a canvas (two tickets came in on the API channel today).
  assert.ok(o.created_today >= 2 && o.created_today_by_channel.api >= 2, JSON.stringify(o));
  await page.locator('[data-test=chart-channels] canvas').first().waitFor();
  assert.equal(await page.locator('[data-test=created-today]').getAttribute('data-value'), String(o.created_today));
  // The agent is online (their console's WebSocket) and shown so.
  await page.locator(`[data-test=agents-online] [data-test=agent][data-user-id="${me.id}"][data-status=online]`).waitFor();
  const presence = (await agentApi.get('/api/v1/presence')).body.items;
  assert.equal(await page.locator('[data-test=agents-online] [data-test=agent]').count(), Math.min(8, presence.length));
  // My urgent tickets include the ones made for me.
  await page.locator(`[data-test=urgent-ticket][data-ticket-id="${ticketId}"]`).waitFor();
  await page.locator(`[data-test=urgent-ticket][data-ticket-id="${phoneTicketId}"]`).waitFor();
  await shot(page, 'console-dashboard-1440.png');

  // Live: a new ticket today moves the figures without a reload.
  await page.evaluate(() => { window.__kefuE2eNoReload = true; });
  const before = await statValue(page, 'unassigned');
  await channel.inbound('e2e-order-1003', '发票抬头开错了，能重开吗？');
  await until(async () => Number(await page.locator('[data-test=stat-unassigned]').getAttribute('data-value')) === before + 1,
    10000, 'the unassigned figure to go up live');
  assert.equal(await page.evaluate(() => window.__kefuE2eNoReload), true, 'the page was not reloaded');
  assertNoErrors(page, 'dashboard');
});

test('the inbox lists tickets; a new ticket arrives live', async () => {
  await page.goto(`${srv.base}/#/inbox/mine`);
  await page.locator('[data-test=ticket-row]').first().waitFor();
  // Every row is one of mine, and the two made for me are there.
  const mine = (await agentApi.get('/api/v1/tickets?view=mine&limit=200')).body.items.map((t) => String(t.id));
  const rows = await page.locator('[data-test=ticket-row]').evaluateAll((els) => els.map((e) => e.getAttribute('data-ticket-id')));
  assert.ok(rows.length > 0);
  for (const id of rows) assert.ok(mine.includes(id), `row ${id} is not in view=mine`);
  await page.locator(`[data-test=ticket-row][data-ticket-id="${ticketId}"]`).waitFor();
  await shot(page, 'console-inbox-1440.png');

  // A customer writes in about something new: it shows up in the team's
  // unassigned tickets without a reload.
  await page.goto(`${srv.base}/#/inbox/unassigned`);
  await page.locator('[data-test=ticket-row]').first().waitFor();
  await page.evaluate(() => { window.__kefuE2eNoReload = true; });
  const r = await channel.inbound('e2e-order-1004', '请问周末发货吗？');
  assert.equal(r.new_ticket, true);
  await page.locator(`[data-test=ticket-row][data-ticket-id="${r.ticket_id}"]`).waitFor({ timeout: 10000 });
  assert.equal(await page.evaluate(() => window.__kefuE2eNoReload), true, 'the page was not reloaded');
  await shot(page, 'console-inbox-live-1440.png');
  assertNoErrors(page, 'inbox');
});

test('open a ticket, reply, the customer answers live, change the status', async () => {
  await page.goto(`${srv.base}/#/inbox/mine`);
  const row = page.locator(`[data-test=ticket-row][data-ticket-id="${ticketId}"]`);
  await row.click();
  await page.waitForURL(new RegExp(`#/tickets/${ticketId}$`));
  await page.locator('[data-test=message]', { hasText: '三天了还没发货' }).waitFor();

  // Reply: shown in the conversation and stored as the agent's public reply.
  const reply = `您好，订单 1001 已经发出，快递单号 SF${Date.now() % 1e8}。`;
  await page.locator('[data-test=reply-text]').fill(reply);
  await page.locator('[data-test=reply-send]').click();
  await page.locator('[data-test=message]', { hasText: reply }).waitFor();
  assert.equal(await page.locator('[data-test=reply-text]').inputValue(), '', 'the reply box is emptied');
  const stored = await until(async () => {
    const m = (await agentApi.get(`/api/v1/tickets/${ticketId}/messages?limit=200`)).body;
    const items = Array.isArray(m) ? m : m.items;
    return items.find((x) => x.text === reply);
  }, 10000, 'the reply through the API');
  assert.equal(stored.internal, false);
  assert.equal(stored.author.kind, 'agent');
  assert.equal(stored.author.id ?? stored.author.user_id, me.id);

  // Meanwhile the customer writes again: it appears without a reload.
  await page.evaluate(() => { window.__kefuE2eNoReload = true; });
  const answer = '收到，谢谢！大概几天能到？';
  await channel.inbound('e2e-order-1001', answer);
  await page.locator('[data-test=message]', { hasText: answer }).waitFor({ timeout: 10000 });
  assert.equal(await page.evaluate(() => window.__kefuE2eNoReload), true, 'the page was not reloaded');
  await shot(page, 'console-ticket-1440.png');

  // Status: chosen in the ticket's properties, seen through the API.
  const now = (await agentApi.get(`/api/v1/tickets/${ticketId}`)).body.status;
  const target = now === 'pending' ? 'resolved' : 'pending';
  await chooseStatus(page, target);
  await until(async () => (await agentApi.get(`/api/v1/tickets/${ticketId}`)).body.status === target,
    10000, `status ${target} through the API`);
  await shot(page, 'console-ticket-status-1440.png');
  assertNoErrors(page, 'ticket');
});

// The status select ([data-test=ticket-status]): a native <select>, or an
// Element Plus select whose options are [data-test=status-option][data-status].
async function chooseStatus(p, status) {
  const control = p.locator('[data-test=ticket-status]').first();
  if (!(await control.isVisible())) {
    const props = p.locator('[data-test=open-properties]');
    if (await props.count()) await props.first().click();
  }
  await control.waitFor({ state: 'visible' });
  if ((await control.evaluate((e) => e.tagName)) === 'SELECT') {
    await control.selectOption(status);
    return;
  }
  await control.click();
  await p.locator(`[data-test=status-option][data-status="${status}"]:visible`).click();
}

test('switching the language changes the text and is kept (reload, server, another browser)', async () => {
  await page.goto(`${srv.base}/#/home`);
  const heading = page.locator('[data-test=urgent-tickets] h3');
  await heading.waitFor();
  assert.equal((await heading.textContent()).trim(), '我的紧急工单');

  await page.locator('[data-test=lang-switch]').click();
  await page.locator('[data-test=lang-en]').click();
  await until(async () => (await heading.textContent()).trim() === 'My urgent tickets', 5000, 'the English heading');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await until(async () => (await agentApi.get('/api/v1/me')).body.locale === 'en', 5000, 'locale en on the server');
  await page.reload();
  await until(async () => (await heading.textContent().catch(() => '')).trim() === 'My urgent tickets', 10000, 'English after the reload');
  await statValue(page, 'open');
  await shot(page, 'console-dashboard-en-1440.png');

  await page.locator('[data-test=lang-switch]').click();
  await page.locator('[data-test=lang-zh-TW]').click();
  await until(async () => (await heading.textContent()).trim() === '我的緊急工單', 5000, 'the zh-TW heading');
  await until(async () => (await agentApi.get('/api/v1/me')).body.locale === 'zh-TW', 5000, 'locale zh-TW on the server');
  await page.reload();
  await until(async () => (await heading.textContent().catch(() => '')).trim() === '我的緊急工單', 10000, 'zh-TW after the reload');
  await statValue(page, 'open');
  await shot(page, 'console-dashboard-zh-TW-1440.png');
  assertNoErrors(page, 'language');

  // A browser that never saw the choice (English) gets it from the server at login.
  const other = await openPage(opened, { ...DESKTOP, locale: 'en-US' }, loggedOutProbe);
  await logIn(other, srv.base, agentLogin);
  const h = other.locator('[data-test=urgent-tickets] h3');
  await until(async () => (await h.textContent().catch(() => '')).trim() === '我的緊急工單', 10000, 'zh-TW in another browser');
  assertNoErrors(other, 'language in another browser');
});

test('phone-sized (390x844): dashboard, inbox -> ticket -> reply', async () => {
  // Back to Simplified Chinese for this agent (kept on the server).
  assert.equal((await agentApi.patch('/api/v1/me', { locale: 'zh-CN' })).status, 200);
  const phone = await openPage(opened, { ...PHONE, locale: 'zh-CN' }, loggedOutProbe);
  await logIn(phone, srv.base, agentLogin);
  await phone.waitForURL(/#\/home/);
  await statValue(phone, 'mine_open');
  await phone.locator('[data-test=chart-channels] canvas').first().waitFor();
  await phone.locator(`[data-test=agents-online] [data-test=agent][data-user-id="${me.id}"]`).waitFor();
  // Nothing sticks out sideways.
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the dashboard is ${overflow}px wider than the phone`);
  await shot(phone, 'console-dashboard-390.png');
  await phone.locator('[data-test=agents-online]').scrollIntoViewIfNeeded();
  await shot(phone, 'console-dashboard-390-bottom.png');

  await phone.goto(`${srv.base}/#/inbox/mine`);
  const row = phone.locator(`[data-test=ticket-row][data-ticket-id="${phoneTicketId}"]`);
  await row.waitFor();
  await shot(phone, 'console-inbox-390.png');
  await row.tap();
  await phone.waitForURL(new RegExp(`#/tickets/${phoneTicketId}$`));
  await phone.locator('[data-test=message]', { hasText: '杯子碎了' }).waitFor();
  const reply = '非常抱歉！我们马上给您补发一个新的杯子。';
  await phone.locator('[data-test=reply-text]').fill(reply);
  await phone.locator('[data-test=reply-send]').tap();
  await phone.locator('[data-test=message]', { hasText: reply }).waitFor();
  await until(async () => {
    const m = (await agentApi.get(`/api/v1/tickets/${phoneTicketId}/messages?limit=200`)).body;
    return (Array.isArray(m) ? m : m.items).some((x) => x.text === reply && !x.internal);
  }, 10000, 'the phone reply through the API');
  await shot(phone, 'console-ticket-390.png');
  assertNoErrors(phone, 'phone');
});
