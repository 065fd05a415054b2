// The website chat widget in a real browser against the real server: the
// demo shop page (web/dist/widget-demo.html) loads web/dist/widget.js with
// the demo web channel's public key; a visitor chats, an agent answers
// through the staff API, the reply shows up live, the conversation survives
// a reload, an image is sent and shown, the resolved conversation is rated;
// a phone-sized run (full-screen panel, zh-CN) and a zh-TW run.
//
//   KEFU_BIN=build/kefu KEFU_SOURCE_DIR=$PWD node --test tests/e2e/
//
// Screenshots go to KEFU_E2E_SHOTS (else a temporary directory, printed).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { Server, until } = require('../api/lib/harness');
const { WEB_DIST, SOURCE_DIR, ensureWebBuilt, openContext, shotsDir } = require('./lib/browser');

let srv;
let admin;
let agent; // the staff member who answers: a demo login in the channel's team
let agentUser;
let agentLogin;
let key;
let shots;
let console_; // the agent's "console": a browser page holding the staff WebSocket
const opened = [];
const taken = [];

before(async () => {
  ensureWebBuilt();
  shots = shotsDir();
  srv = await new Server({ args: ['--web-root', WEB_DIST] }).start();
  admin = await srv.loginAs('admin');
  const ch = await admin.get('/api/v1/channels');
  assert.equal(ch.status, 200, JSON.stringify(ch.body));
  const items = Array.isArray(ch.body) ? ch.body : ch.body.items;
  const web = items.find((c) => c.type === 'web' && c.active !== false);
  assert.ok(web, `the demo data has no web chat channel: ${JSON.stringify(items.map((c) => c.type))}`);
  key = web.config && web.config.public_key;
  assert.ok(key, `the web channel shows no config.public_key: ${JSON.stringify(web)}`);
  const team = web.config.team_id;
  const users = (await admin.get('/api/v1/users?limit=200')).body.items;
  for (const role of ['agent', 'supervisor', 'admin']) {
    const u = srv.logins[role] && users.find((x) => x.email === srv.logins[role].email);
    if (u && (!team || (u.teams || []).some((t) => t.id === team))) {
      agentUser = u;
      agentLogin = srv.logins[role];
      agent = await srv.loginAs(role);
      break;
    }
  }
  assert.ok(agent, `no demo login is in the web channel's team ${team}`);
});

// A shop's own web site on another origin: the demo page, pointed at the
// desk, so every widget call is a real cross-origin (CORS) call.
let site;
before(async () => {
  site = http.createServer((req, res) => {
    const html = fs.readFileSync(path.join(WEB_DIST, 'widget-demo.html'), 'utf8')
      .replace('<script>', `<script>window.KEFU_DEMO_DESK = ${JSON.stringify(srv.base)};</script>\n<script>`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
});
after(() => site && site.close());

// The demo page on the shop's site ("localhost", not the desk's 127.0.0.1).
function shopUrl(lang) {
  return `http://localhost:${site.address().port}/widget-demo.html?key=${encodeURIComponent(key)}${lang ? `&lang=${lang}` : ''}`;
}

// The widget's public config, as a visitor's browser gets it.
async function widgetConfig() {
  const r = await fetch(`${srv.base}/widget/v1/config?key=${encodeURIComponent(key)}`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), '*', 'CORS for any site');
  return r.json();
}

after(async () => {
  for (const c of opened) await c.close();
  if (srv) await srv.stop();
  if (taken.length) console.log(`# screenshots in ${shots}: ${taken.join(', ')}`);
});

// A fresh browser profile with one page; page errors fail the test.
async function newPage(opts) {
  const b = await openContext(opts);
  opened.push(b);
  const page = b.context.pages()[0] || await b.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    // a failed request is reported below, with its address
    if (/^Failed to load resource/.test(m.text())) return;
    if (m.type() === 'error' || /\[kefu widget\]/.test(m.text())) page.errors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) page.errors.push(`${r.request().method()} ${r.url()}: ${r.status()}`);
  });
  page.on('requestfailed', (r) => {
    const why = r.failure() && r.failure().errorText;
    if (why !== 'net::ERR_ABORTED') page.errors.push(`${r.method()} ${r.url()}: ${why}`); // aborted: the page went away
  });
  page.setDefaultTimeout(15000);
  return page;
}

// Waits for the widget's open/close animations to finish (not the endless
// ones, such as the typing dots).
async function settled(page) {
  await page.evaluate(() => {
    const all = document.getAnimations().concat(
      [...document.querySelectorAll('#kefu-widget')].flatMap((h) => h.shadowRoot.getAnimations()));
    return Promise.all(all.filter((a) => a.effect && a.effect.getTiming().iterations !== Infinity)
      .map((a) => a.finished.catch(() => {})));
  });
}

async function shot(page, name) {
  await settled(page);
  await page.screenshot({ path: path.join(shots, name) });
  taken.push(name);
}

function demoUrl(lang) {
  return `${srv.base}/widget-demo.html?key=${encodeURIComponent(key)}${lang ? `&lang=${lang}` : ''}`;
}

// Opens the panel if it is not open yet.
async function openPanel(page, tap) {
  const launcher = page.locator('.kf-launcher');
  await launcher.waitFor();
  if (!(await page.locator('.kf-panel').isVisible())) {
    if (tap) await launcher.tap();
    else await launcher.click();
  }
  await page.locator('.kf-panel').waitFor();
}

// Gets from the panel to the chat: fills the pre-chat form or the "leave a
// message" form when the channel shows one.  Returns true when `text` was
// already sent through the leave-a-message form.
async function reachChat(page, text, who) {
  const form = page.locator('.kf-form');
  const chat = page.locator('.kf-text');
  await Promise.race([form.waitFor({ state: 'visible' }), chat.waitFor({ state: 'visible' })]);
  if (!(await form.isVisible())) return false;
  let usedText = false;
  const fields = form.locator('input, textarea, select');
  for (let i = 0; i < await fields.count(); i++) {
    const f = fields.nth(i);
    const tag = await f.evaluate((el) => el.tagName.toLowerCase());
    const name = await f.getAttribute('name');
    const type = (await f.getAttribute('type')) || tag;
    if (tag === 'select') {
      const values = await f.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
      if (values.length) await f.selectOption(values[0]);
    } else if (name === 'message') {
      await f.fill(text);
      usedText = true;
    } else if (type === 'email') await f.fill(who.email);
    else if (type === 'tel') await f.fill('13800138000');
    else if (name === 'name') await f.fill(who.name);
    else await f.fill(`${who.name} test`);
  }
  await form.locator('button[type=submit]').click();
  await chat.waitFor({ state: 'visible' });
  return usedText;
}

// The visitor's own message, stored by the server (not a pending bubble).
function sentBubble(page, text) {
  return page.locator('.kf-msg.kf-out[data-id]', { hasText: text });
}

function agentBubble(page, text) {
  return page.locator('.kf-msg.kf-in[data-id]', { hasText: text });
}

async function findTicket(text) {
  return until(async () => {
    const r = await admin.get('/api/v1/tickets?channel=web&limit=100');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.items.find((t) => `${t.subject || ''} ${t.preview || ''}`.includes(text));
  }, 15000, `a web ticket with "${text}"`);
}

test('language choice: zh-HK/zh-MO/zh-TW read Traditional, other Chinese Simplified, the rest English', async () => {
  const { pickLang, tables } = await import(path.join(SOURCE_DIR, 'web/widget/src/i18n.js'));
  assert.equal(pickLang('zh-TW'), 'zh-TW');
  assert.equal(pickLang('zh_HK'), 'zh-TW');
  assert.equal(pickLang('zh-MO'), 'zh-TW');
  assert.equal(pickLang('zh-Hant-SG'), 'zh-TW');
  assert.equal(pickLang('zh'), 'zh-CN');
  assert.equal(pickLang('zh-SG'), 'zh-CN');
  assert.equal(pickLang('ZH-cn'), 'zh-CN');
  assert.equal(pickLang('fr-FR'), 'en');
  assert.equal(pickLang(undefined, '', 'zh-TW'), 'zh-TW', 'data-lang, else <html lang>, else the browser');
  // one table per language, each with every text
  const keys = Object.keys(tables.en).sort();
  for (const lang of ['zh-CN', 'zh-TW']) assert.deepEqual(Object.keys(tables[lang]).sort(), keys, lang);
});

test('the bundle is one small script, with a gzip copy', () => {
  const js = fs.statSync(path.join(WEB_DIST, 'widget.js')).size;
  const gz = fs.statSync(path.join(WEB_DIST, 'widget.js.gz')).size;
  console.log(`# widget.js ${js} bytes, gzip ${gz} bytes`);
  assert.ok(js < 80 * 1024, `widget.js grew to ${js} bytes`);
  assert.ok(fs.existsSync(path.join(WEB_DIST, 'widget-demo.html')));
});

test('an agent opens the console (staff WebSocket): the widget config says online', async () => {
  assert.equal((await widgetConfig()).online, false, 'nobody is connected yet');
  const page = await newPage({ viewport: { width: 800, height: 600 } });
  await page.goto(`${srv.base}/widget-demo.html`);
  await page.evaluate(async ({ email, password }) => {
    const r = await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    if (r.status !== 200) throw new Error(`login ${r.status}`);
    window.staffWs = new WebSocket(`ws://${location.host}/api/v1/ws`);
    window.staffEvents = [];
    window.staffWs.onmessage = (e) => window.staffEvents.push(JSON.parse(e.data));
    await new Promise((resolve, reject) => { window.staffWs.onopen = resolve; window.staffWs.onerror = () => reject(new Error('staff ws failed')); });
  }, agentLogin);
  await until(async () => (await widgetConfig()).online === true, 15000, 'the channel to be online');
  console_ = page;
});

let desk; // the desktop run's page and ticket, shared by the tests below
const visitor = { name: 'Alice Walker', email: `alice.${Date.now()}@example.com` };
const first = `Hello, where is my order #${Math.floor(Math.random() * 1e6)}?`;

test('desktop: a visitor opens the widget and sends a message; it becomes a ticket in the queue', async () => {
  const page = await newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(demoUrl('en'));
  const launcher = page.locator('.kf-launcher');
  await launcher.waitFor();
  assert.equal(await launcher.getAttribute('aria-label'), 'Chat with us');
  await shot(page, 'desktop-1-closed.png');
  await launcher.click();
  await page.locator('.kf-panel').waitFor();
  assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
  await shot(page, 'desktop-2-open.png');
  const viaForm = await reachChat(page, first, visitor);
  if (!viaForm) {
    await page.locator('.kf-text').fill(first);
    await page.keyboard.press('Enter');
  }
  await sentBubble(page, first).waitFor();
  assert.equal(await page.locator('.kf-text').inputValue(), '', 'Enter sent the text');
  const ticket = await findTicket(first);
  assert.equal(ticket.status_category === 'new' || ticket.status_category === 'open', true, JSON.stringify(ticket));
  // waiting for an agent: the widget shows the queue position
  await page.locator('.kf-banner', { hasText: /number \d+ in the queue/ }).waitFor();
  await shot(page, 'desktop-3-sent-queue.png');
  desk = { page, ticket };
});

test('desktop: the agent takes the ticket and replies; the widget shows it live, internal notes never', async () => {
  const { page, ticket } = desk;
  const a = await admin.patch(`/api/v1/tickets/${ticket.id}`, { assignee_id: agentUser.id });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  await page.locator('.kf-status', { hasText: `${agentUser.name} is helping you` }).waitFor();
  const note = await agent.post(`/api/v1/tickets/${ticket.id}/messages`, { text: 'INTERNAL: customer looks unhappy', internal: true });
  assert.equal(note.status, 201, JSON.stringify(note.body));
  // the agent reads the visitor's message and starts typing
  const mine = await sentBubble(page, first).getAttribute('data-id');
  assert.equal((await agent.post(`/api/v1/tickets/${ticket.id}/read`, { message_id: Number(mine) })).status, 204);
  await sentBubble(page, first).locator('.kf-read', { hasText: 'Read' }).waitFor();
  assert.equal((await agent.post(`/api/v1/tickets/${ticket.id}/typing`, { typing: true })).status, 204);
  await page.locator('.kf-typing', { hasText: `${agentUser.name} is typing` }).waitFor();
  await shot(page, 'desktop-4-read-typing.png');
  const reply = 'Hi Alice! Your order left our warehouse this morning 🚚';
  const r = await agent.post(`/api/v1/tickets/${ticket.id}/messages`, { text: reply, internal: false });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await agentBubble(page, reply).waitFor();
  await page.locator('.kf-typing').waitFor({ state: 'detached' });
  assert.equal(await page.locator('.kf-msg', { hasText: 'INTERNAL' }).count(), 0, 'an internal note reached the widget');
  // the visitor types: the agent's console hears it over its WebSocket (a
  // few seconds of typing, as the widget repeats "typing" every 3 s and the
  // server takes one every 2 s)
  await page.locator('.kf-text').pressSequentially('Thanks, and can I change the address?', { delay: 110 });
  await console_.waitForFunction((id) => window.staffEvents.some((e) => e.type === 'typing' && e.data.ticket_id === id && e.data.who === 'customer' && e.data.typing), ticket.id);
  await page.locator('.kf-text').fill('');
  // the panel is open: the visitor has read it, so the desk is told
  await until(() => srv.sql(`SELECT COALESCE(customer_read_id, 0) FROM tickets WHERE id = ${ticket.id}`) === String(r.body.id),
    10000, 'the customer read mark');
  await shot(page, 'desktop-5-agent-reply.png');
});

test('desktop: closed panel shows an unread badge for a new reply; opening clears it; Escape closes', async () => {
  const { page, ticket } = desk;
  await page.locator('.kf-head-btn').click();
  await page.locator('.kf-panel').waitFor({ state: 'hidden' });
  const reply = 'The tracking number is SF1234567890.';
  assert.equal((await agent.post(`/api/v1/tickets/${ticket.id}/messages`, { text: reply })).status, 201);
  await page.locator('.kf-badge', { hasText: '1' }).waitFor();
  await page.locator('.kf-peek', { hasText: reply }).waitFor();
  await shot(page, 'desktop-6-unread-badge.png');
  await page.locator('.kf-launcher').click();
  await agentBubble(page, reply).waitFor();
  await page.locator('.kf-badge').waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.querySelector('#kefu-widget').shadowRoot.activeElement?.className), 'kf-text', 'focus moves into the panel');
  await page.keyboard.press('Escape');
  await page.locator('.kf-panel').waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.querySelector('#kefu-widget').shadowRoot.activeElement?.className), 'kf-launcher', 'focus returns to the button');
});

test('desktop: a reload resumes the same conversation', async () => {
  const { page } = desk;
  await page.reload();
  await openPanel(page);
  await sentBubble(page, first).waitFor();
  await agentBubble(page, 'Your order left our warehouse').waitFor();
  await agentBubble(page, 'SF1234567890').waitFor();
  assert.equal(await page.locator('.kf-msg[data-id]', { hasText: first }).count(), 1, 'no duplicates');
  await shot(page, 'desktop-7-after-reload.png');
});

test('desktop: an image is uploaded and shown as a thumbnail; the agent sees the attachment', async () => {
  const { page, ticket } = desk;
  // a real PNG: a corner of the page itself
  const png = await page.screenshot({ clip: { x: 0, y: 0, width: 320, height: 200 } });
  await page.locator('.kf-composer input[type=file]').setInputFiles({ name: 'order-photo.png', mimeType: 'image/png', buffer: png });
  const img = page.locator('.kf-msg.kf-out[data-id] .kf-thumb img').last();
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0 && !el.src.startsWith('blob:'), await img.elementHandle());
  const tl = (await admin.get(`/api/v1/tickets/${ticket.id}/timeline`)).body.items;
  const withFile = tl.find((x) => x.type === 'message' && (x.attachments || []).some((at) => at.filename === 'order-photo.png' || at.name === 'order-photo.png'));
  assert.ok(withFile, 'the image reached the ticket');
  await shot(page, 'desktop-8-image.png');
});

test('desktop: a resolved conversation asks for a rating; 5 stars and a comment reach the ticket', async () => {
  const { page, ticket } = desk;
  const r = await admin.patch(`/api/v1/tickets/${ticket.id}`, { status: 'resolved' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const card = page.locator('.kf-rate');
  await card.waitFor();
  await shot(page, 'desktop-9-rating-prompt.png');
  await card.locator('.kf-star[data-score="5"]').click();
  await card.locator('textarea').fill('Fast and friendly, thank you!');
  await card.locator('.kf-primary').click();
  await page.locator('.kf-rated', { hasText: 'Thank you for your feedback!' }).waitFor();
  const t = (await admin.get(`/api/v1/tickets/${ticket.id}`)).body;
  assert.equal(t.rating && t.rating.score, 5, JSON.stringify(t.rating));
  assert.equal(t.rating.comment, 'Fast and friendly, thank you!');
  await shot(page, 'desktop-10-rated.png');
  assert.deepEqual(page.errors, []);
});

test('phone (390x844, zh-CN) on the shop\'s own site: full-screen panel, Simplified Chinese, cross-origin calls', async () => {
  const page = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await page.goto(shopUrl(''));
  assert.notEqual(new URL(page.url()).origin, new URL(srv.base).origin);
  const launcher = page.locator('.kf-launcher');
  await launcher.waitFor();
  assert.equal(await launcher.getAttribute('aria-label'), '打开在线客服');
  const lb = await launcher.boundingBox();
  assert.ok(lb.width >= 44 && lb.height >= 44, 'a large tap target');
  await shot(page, 'phone-1-closed.png');
  await openPanel(page, true);
  await settled(page);
  const box = await page.locator('.kf-panel').boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 390, 844], 'full screen');
  await shot(page, 'phone-2-open.png');
  const text = '你好，我想咨询一下退货流程';
  const viaForm = await reachChat(page, text, { name: '王小明', email: `wang.${Date.now()}@example.cn` });
  assert.equal(await page.locator('.kf-text').getAttribute('placeholder'), '输入消息…');
  if (!viaForm) {
    await page.locator('.kf-text').fill(text);
    await page.locator('.kf-send').tap();
  }
  await sentBubble(page, text).waitFor();
  const t = await findTicket(text);
  await admin.patch(`/api/v1/tickets/${t.id}`, { assignee_id: agentUser.id });
  assert.equal((await agent.post(`/api/v1/tickets/${t.id}/messages`, { text: '您好！退货请在订单详情页点击“申请退货”，我们会安排快递上门取件。' })).status, 201);
  await agentBubble(page, '申请退货').waitFor();
  await page.locator('.kf-status', { hasText: '为您服务' }).waitFor();
  // a photo from the phone, shown from the desk's origin
  const png = await page.screenshot({ clip: { x: 0, y: 0, width: 390, height: 260 } });
  await page.locator('.kf-composer input[type=file]').setInputFiles({ name: '快递单.png', mimeType: 'image/png', buffer: png });
  const img = page.locator('.kf-msg.kf-out[data-id] .kf-thumb img').last();
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0 && !el.src.startsWith('blob:'), await img.elementHandle());
  await shot(page, 'phone-3-chat.png');
  await page.locator('.kf-head-btn').tap();
  await page.locator('.kf-panel').waitFor({ state: 'hidden' });
  await launcher.waitFor();
  assert.deepEqual(page.errors, []);
});

test('zh-TW page on the shop\'s site, nobody online: Traditional texts, the leave-a-message form, emoji picker', async () => {
  await console_.evaluate(() => window.staffWs.close());
  await until(async () => (await widgetConfig()).online === false, 15000, 'the channel to be offline');
  const page = await newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(shopUrl('zh-TW'));
  const launcher = page.locator('.kf-launcher');
  await launcher.waitFor();
  assert.equal(await launcher.getAttribute('aria-label'), '開啟線上客服');
  await launcher.click();
  await page.locator('.kf-panel').waitFor();
  assert.equal(await page.locator('.kf-status').textContent(), '客服暫時不在線');
  const form = page.locator('.kf-form');
  await form.locator('text=客服暫時不在線。請留言，我們會盡快以電子郵件回覆您。').waitFor();
  // required fields are checked before anything is sent
  await form.locator('button[type=submit]').click();
  await form.locator('.kf-field-err', { hasText: '請填寫「姓名」' }).waitFor();
  await shot(page, 'zh-TW-1-leave-form.png');
  const email = `chan.${Date.now()}@example.hk`;
  const text = '請問可以開立發票嗎？';
  assert.equal(await reachChat(page, text, { name: '陳大文', email }), true, 'the message went with the form');
  await sentBubble(page, text).waitFor();
  await page.locator('.kf-msg.kf-sys', { hasText: `我們會盡快回覆到 ${email}` }).waitFor();
  await page.locator('.kf-banner', { hasText: '客服暫時不在線，留言後我們會以電子郵件回覆您。' }).waitFor();
  await findTicket(text);
  assert.equal(await page.locator('.kf-text').getAttribute('placeholder'), '輸入訊息，Enter 傳送');
  assert.equal(await page.locator('.kf-send').getAttribute('aria-label'), '傳送');
  await page.locator('.kf-text').fill('謝謝');
  await page.locator('.kf-tool[aria-haspopup]').click();
  await page.locator('.kf-emoji').waitFor();
  await shot(page, 'zh-TW-2-emoji.png');
  await page.locator('.kf-emoji button', { hasText: '👍' }).click();
  assert.equal(await page.locator('.kf-text').inputValue(), '謝謝👍');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('第二行');
  assert.equal(await page.locator('.kf-text').inputValue(), '謝謝👍\n第二行', 'Shift+Enter is a new line');
  await page.keyboard.press('Enter');
  await sentBubble(page, '第二行').waitFor();
  await shot(page, 'zh-TW-3-sent.png');
  assert.deepEqual(page.errors, []);
});

test('the desk restarts: the widget says it is reconnecting, reconnects by itself, and misses nothing', async () => {
  // a desk of its own on a fixed port, so it comes back at the same address
  const port = await new Promise((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const p = probe.address().port;
      probe.close(() => resolve(p));
    });
  });
  const desk2 = await new Server({ args: ['--web-root', WEB_DIST, '--listen', `127.0.0.1:${port}`] }).start();
  try {
    assert.equal(new URL(desk2.base).port, String(port));
    const admin2 = await desk2.loginAs('admin');
    const key2 = (await admin2.get('/api/v1/channels')).body.items.find((c) => c.type === 'web').config.public_key;
    const page = await newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${desk2.base}/widget-demo.html?key=${encodeURIComponent(key2)}&lang=en`);
    await openPanel(page);
    const text = `Is anyone there? ${Date.now()}`;
    if (!(await reachChat(page, text, { name: 'Carol', email: `carol.${Date.now()}@example.com` }))) {
      await page.locator('.kf-text').fill(text);
      await page.keyboard.press('Enter');
    }
    await sentBubble(page, text).waitFor();
    const list = (await admin2.get('/api/v1/tickets?channel=web&limit=100')).body.items;
    const ticket = list.find((t) => `${t.subject || ''} ${t.preview || ''}`.includes(text));
    assert.ok(ticket);
    await desk2.kill();
    await page.locator('.kf-banner', { hasText: 'Connection lost, reconnecting' }).waitFor();
    await shot(page, 'reconnect-1-down.png');
    await desk2.start();
    assert.equal(new URL(desk2.base).port, String(port));
    // a reply written right after the restart reaches the widget once it is back
    const admin3 = await desk2.loginAs('admin');
    assert.equal((await admin3.post(`/api/v1/tickets/${ticket.id}/messages`, { text: 'Sorry for the wait, we are back!' })).status, 201);
    await agentBubble(page, 'we are back').waitFor({ timeout: 30000 });
    await page.locator('.kf-banner', { hasText: 'reconnecting' }).waitFor({ state: 'hidden', timeout: 45000 });
    assert.equal(await agentBubble(page, 'we are back').count(), 1, 'shown once');
    await shot(page, 'reconnect-2-back.png');
    // the only failures allowed are the ones of the desk being down
    assert.deepEqual(page.errors.filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket connection/.test(e)), []);
  } finally {
    await desk2.stop();
  }
});
