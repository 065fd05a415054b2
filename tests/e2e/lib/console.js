// console.js -- what the agent console's browser tests share: a page in a
// fresh Chromium profile that records its errors, logging in through the
// login page, screenshots with their paths printed, and an API channel to
// play the customer through.
'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');
const { openContext } = require('./browser');

// The console in a phone's shape (an iPhone 12-15 sized viewport).
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const DESKTOP = { viewport: { width: 1440, height: 900 } };

// Opens a fresh profile (opts as browser.openContext) with one page whose
// script errors, console errors, failed requests and HTTP errors are kept
// in page.errors.  `expected(method, url, status)` says which HTTP errors
// are part of the test (e.g. the 401 of GET /api/v1/me before logging in).
async function openPage(opened, opts = {}, expected = () => false) {
  const b = await openContext(opts);
  opened.push(b);
  const page = b.context.pages()[0] || await b.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.stack || e}`));
  page.on('console', (m) => {
    if (/^Failed to load resource/.test(m.text())) return; // reported below with the address
    if (m.type() === 'error') page.errors.push(`console.error: ${m.text()}`);
  });
  page.on('response', (r) => {
    const method = r.request().method();
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico') && !expected(method, r.url(), r.status()))
      page.errors.push(`${method} ${r.url()}: ${r.status()}`);
  });
  page.on('requestfailed', (r) => {
    const why = r.failure() && r.failure().errorText;
    if (why !== 'net::ERR_ABORTED') page.errors.push(`${r.method()} ${r.url()}: ${why}`);
  });
  page.setDefaultTimeout(15000);
  return page;
}

// Before login the console asks GET /api/v1/me and is told 401: expected.
const loggedOutProbe = (method, url, status) => status === 401 && method === 'GET' && /\/api\/v1\/me$/.test(url);

// Through the login page: e-mail, password, submit; resolves once the app
// has left #/login.
async function logIn(page, base, login) {
  await page.goto(`${base}/`);
  await page.waitForURL(/#\/login/);
  await page.locator('input[name=email]').fill(login.email);
  await page.locator('input[name=password]').fill(login.password);
  await page.locator('button[type=submit]').click();
  await page.waitForURL((u) => !/#\/login/.test(String(u)), { timeout: 20000 });
}

function assertNoErrors(page, what) {
  assert.deepEqual(page.errors, [], `${what}: the page reported errors`);
}

// Screenshots into dir, each path printed as it is taken.
function shooter(dir) {
  const taken = [];
  async function shot(page, name, opts = {}) {
    // let transitions and chart animations finish
    await page.evaluate(() => Promise.all(document.getAnimations()
      .filter((a) => a.effect && a.effect.getTiming().iterations !== Infinity)
      .map((a) => a.finished.catch(() => {}))));
    await page.waitForTimeout(opts.settle ?? 400);
    const file = path.join(dir, name);
    await page.screenshot({ path: file, fullPage: !!opts.fullPage });
    taken.push(file);
    console.log(`# screenshot: ${file}`);
    return file;
  }
  shot.taken = taken;
  return shot;
}

// An API channel (type api) for the customer's side: inbound(conversation,
// text) posts a customer message the way a shop's backend would.
async function apiChannel(srv, admin, config = {}) {
  const r = await admin.post('/api/v1/channels', { type: 'api', name: 'E2E 网店 Shop', config });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const ch = r.body;
  let n = 0;
  ch.inbound = async (conversation, text, customer = { id: `cust-${conversation}`, name: '陈静 Chen Jing' }) => {
    n += 1;
    const res = await fetch(`${srv.base}/api/v1/channels/${ch.id}/inbound`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ch.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ external_id: `e2e-${Date.now()}-${n}`, conversation_id: conversation, customer, text }),
    });
    const body = await res.json();
    assert.ok(res.status === 200 || res.status === 201 || res.status === 202, `inbound: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  return ch;
}

// The start of today in this machine's time zone (the browser's too).
function localMidnight() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

module.exports = { PHONE, DESKTOP, openPage, loggedOutProbe, logIn, assertNoErrors, shooter, apiChannel, localMidnight };
