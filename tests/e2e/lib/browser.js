// browser.js -- Debian's Chromium driven by playwright-core for the browser
// tests.  playwright-core comes from web/node_modules (scripts/web.sh
// installs it); no browser is ever downloaded: the executable is
// /usr/bin/chromium (or KEFU_CHROMIUM), started headless with a fresh
// profile directory per context.
'use strict';
const { createRequire } = require('node:module');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SOURCE_DIR = process.env.KEFU_SOURCE_DIR || path.resolve(__dirname, '../../..');
const WEB_DIR = path.join(SOURCE_DIR, 'web');
// The built web apps the server is given (--web-root): web/dist, or a
// directory of one's own (KEFU_WEB_DIST) while others rebuild web/dist.
const WEB_DIST = process.env.KEFU_WEB_DIST || path.join(WEB_DIR, 'dist');
const CHROMIUM = process.env.KEFU_CHROMIUM || '/usr/bin/chromium';

// web/dist built (the chat widget and the agent console) and
// web/node_modules installed (scripts/web.sh is quick when nothing changed).
function ensureWebBuilt() {
  const built = ['widget.js', 'index.html'].every((f) => fs.existsSync(path.join(WEB_DIST, f)));
  if (!built && process.env.KEFU_WEB_DIST) throw new Error(`KEFU_WEB_DIST=${WEB_DIST} holds no widget.js and index.html`);
  if (!built || !fs.existsSync(path.join(WEB_DIR, 'node_modules', 'playwright-core')))
    execFileSync(path.join(SOURCE_DIR, 'scripts', 'web.sh'), { stdio: 'inherit' });
}

function playwright() {
  const req = createRequire(path.join(WEB_DIR, 'package.json'));
  return req('playwright-core');
}

// A browser context with its own profile: {context, close()}.
// opts: viewport, isMobile, hasTouch, deviceScaleFactor, locale, userAgent.
async function openContext(opts = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kefu-e2e-profile-'));
  const context = await playwright().chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 60000,
    ...opts,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Where screenshots go: KEFU_E2E_SHOTS, else a new temporary directory.
function shotsDir() {
  const dir = process.env.KEFU_E2E_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'kefu-e2e-shots-'));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

module.exports = { SOURCE_DIR, WEB_DIST, ensureWebBuilt, openContext, shotsDir };
