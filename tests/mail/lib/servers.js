// servers.js -- the test mail servers (Dovecot + Postfix on loopback, see
// scripts/mail-test.sh) as a test sees them.
//
//   const mail = await mailServers()   // started for this file, or shared
//   mail.imap      {host, port, tlsPort, ca}    options for ImapClient.connect
//   mail.smtp      {host, port, tlsPort, ca}    options for SmtpClient.connect
//   mail.lmtpPort                                Dovecot LMTP (bypasses Postfix)
//   mail.users     {'support@kefu.test': 'support-pass-2026', ...}
//   mail.password('support@kefu.test')
//   await mail.stop()                  // only stops what this file started
//
// When KEFU_TEST_MAIL_ENV names an existing env file (CTest's mail fixture
// started the servers for the whole run), those servers are used and stop()
// leaves them running.  Otherwise the script starts a private pair in a
// temporary directory, and stop() stops them and deletes it.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SCRIPT = path.resolve(__dirname, '../../../scripts/mail-test.sh');

// Runs the script, its output to stderr (stdout belongs to the test runner).
function run(args) {
  const out = execFileSync(SCRIPT, args, { stdio: ['ignore', 'pipe', 'inherit'], timeout: 120000 });
  if (out.length) process.stderr.write(out);
}

// KEY=VALUE lines into an object.
function readEnv(file) {
  const env = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return env;
}

function describe(env, owned) {
  const ca = fs.readFileSync(env.KEFU_TEST_MAIL_CA);
  const host = env.KEFU_TEST_IMAP_HOST || '127.0.0.1';
  const users = {};
  for (const pair of (env.KEFU_TEST_MAIL_USERS || '').split(',').filter(Boolean)) {
    const i = pair.indexOf(':');
    users[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return {
    env,
    dir: env.KEFU_TEST_MAIL_DIR,
    imap: { host, port: Number(env.KEFU_TEST_IMAP_PORT), tlsPort: Number(env.KEFU_TEST_IMAPS_PORT), ca },
    smtp: { host: env.KEFU_TEST_SMTP_HOST || host, port: Number(env.KEFU_TEST_SMTP_PORT), tlsPort: Number(env.KEFU_TEST_SMTPS_PORT), ca },
    lmtpPort: Number(env.KEFU_TEST_LMTP_PORT),
    users,
    password(addr) {
      if (!(addr in users)) throw new Error(`no test mail user ${addr}`);
      return users[addr];
    },
    async stop() {
      if (!owned) return;
      try {
        run(['stop', owned]);
      } finally {
        fs.rmSync(owned, { recursive: true, force: true });
      }
    },
  };
}

async function mailServers() {
  const shared = process.env.KEFU_TEST_MAIL_ENV;
  if (shared && fs.existsSync(shared)) return describe(readEnv(shared), null);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kefu-mail-'));
  try {
    run(['start', dir]);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return describe(readEnv(path.join(dir, 'env')), dir);
}

// Calls fn until it returns something truthy (resolving to it), at most
// timeoutMs (default 20 s), pausing intervalMs between tries.  For mail,
// which arrives asynchronously.
async function waitFor(fn, { timeoutMs = 20000, intervalMs = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

module.exports = { mailServers, readEnv, waitFor };
