#!/usr/bin/env node
// mail-intake.js -- messages per second through Kefu's two e-mail intakes,
// on a fresh SQLite data directory (PostgreSQL with KEFU_TEST_ENGINE=pg and
// KEFU_TEST_PG_ENV, as the API tests), with real-world mail:
//
//   mail-in   one `kefu mail-in` process per message (what an MTA pipe does)
//   imap      the IMAP poller of `kefu serve` reading a Dovecot mailbox on
//             loopback (what a polled mailbox does: one process, one
//             connection, a STATUS, a UID SEARCH and per message a FETCH,
//             a commit and a STORE \Seen)
//
// The messages are the .eml files of ../shared/corpora/email (several
// hundred from four projects' test suites: many charsets, attachments,
// HTML), each with a fresh Message-ID and sender so every one is new, cycled
// up to --count.  Needs root (the test mail servers, scripts/mail-test.sh).
//
//   node bench/mail-intake.js [--count 600] [--bin build/kefu] [--json FILE]
//
// Bounded: --count messages (at most 5000), each phase stops after 10 min.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { mailServers } = require('../tests/mail/lib/servers');
const { Server, until } = require('../tests/api/lib/harness');

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const COUNT = Math.min(Number(opt('count', 600)), 5000);
const BIN = path.resolve(opt('bin', path.join(__dirname, '../build/kefu')));
const CORPUS = path.resolve(__dirname, '../../shared/corpora/email');
const PHASE_MS = 10 * 60 * 1000;
process.env.KEFU_BIN = BIN;

function corpus() {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.eml')) out.push(fs.readFileSync(p));
    }
  };
  walk(CORPUS);
  return out;
}

// The i-th message: a corpus mail with its Message-ID and From replaced.
function message(mails, i) {
  const raw = mails[i % mails.length];
  let split = raw.indexOf('\r\n\r\n');
  let nl = '\r\n';
  if (split < 0) { split = raw.indexOf('\n\n'); nl = '\n'; }
  if (split < 0) split = raw.length;
  const head = raw.subarray(0, split).toString('latin1').split(nl)
    .filter((l, k, all) => {
      // drop Message-ID and From with their folded continuation lines
      for (let j = k; j >= 0; j--) {
        if (!/^[ \t]/.test(all[j])) return !/^(message-id|from):/i.test(all[j]);
      }
      return true;
    });
  head.unshift(`From: Customer ${i} <customer${i}@bench.example>`, `Message-ID: <bench-${i}-${process.pid}@bench.example>`);
  return Buffer.concat([Buffer.from(head.join(nl), 'latin1'), raw.subarray(split)]);
}

function runOne(args, input) {
  return new Promise((resolve) => {
    const p = spawn(BIN, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, err }));
    p.stdin.on('error', () => {});
    p.stdin.end(input);
  });
}

async function channel(srv, admin, config) {
  const r = await admin.post('/api/v1/channels', { type: 'email', name: 'Bench', config });
  if (r.status !== 201) throw new Error(`channel: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

async function benchMailIn(mails) {
  const srv = await new Server().start();
  const admin = await srv.loginAs('admin');
  const id = await channel(srv, admin, { address: 'bench@kefu.test' });
  srv.proc.kill('SIGTERM'); // mail-in alone, as an MTA runs it
  await srv.exited;
  const t0 = process.hrtime.bigint();
  let failed = 0, n = 0;
  for (; n < COUNT && Number(process.hrtime.bigint() - t0) / 1e6 < PHASE_MS; n++) {
    const r = await runOne(['mail-in', '--channel', String(id), ...srv.args()], message(mails, n));
    if (r.code !== 0) failed++;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.rmSync(srv.dataDir, { recursive: true, force: true });
  return { messages: n, failed, seconds: +s.toFixed(2), per_second: +(n / s).toFixed(1) };
}

async function benchImap(mails, mail) {
  // Straight into the Maildir (as LMTP would leave them), owned by the
  // mail user Dovecot runs as.
  const user = 'support@kefu.test';
  const box = path.join(mail.env.KEFU_TEST_MAIL_MAILDIR, 'kefu.test', 'support', 'Maildir');
  const owner = fs.statSync(path.dirname(path.dirname(box))); // the domain directory
  for (const d of [path.dirname(box), box, ...['new', 'cur', 'tmp'].map((x) => path.join(box, x)) ]) {
    fs.mkdirSync(d, { recursive: true });
    fs.chownSync(d, owner.uid, owner.gid);
  }
  for (let i = 0; i < COUNT; i++) {
    const f = path.join(box, 'new', `${Date.now()}.bench${i}.${os.hostname()}`);
    fs.writeFileSync(f, message(mails, 100000 + i));
    fs.chownSync(f, owner.uid, owner.gid);
  }
  const srv = await new Server({ args: ['--log-level', 'warn'] }).start();
  const admin = await srv.loginAs('admin');
  const t0 = process.hrtime.bigint();
  const id = await channel(srv, admin, {
    address: user,
    imap: { host: mail.imap.host, port: mail.imap.port, tls: 'starttls', verify: false, user, password: mail.password(user) },
  });
  const st = await until(async () => {
    const c = (await admin.get(`/api/v1/channels/${id}`)).body.mailbox;
    return c && c.last_uid >= COUNT ? c : null;
  }, PHASE_MS, 'the poller to take every message');
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const stored = Number(srv.sql(`SELECT COUNT(*) FROM messages WHERE channel_id = ${id}`));
  const rss = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(srv.proc.pid)]).toString().trim());
  await srv.stop();
  fs.rmSync(srv.dataDir, { recursive: true, force: true });
  return { messages: COUNT, stored, state: st.state, seconds: +s.toFixed(2), per_second: +(COUNT / s).toFixed(1), server_rss_kib: rss };
}

(async () => {
  const mails = corpus();
  const mail = await mailServers();
  try {
    const result = {
      date: new Date().toISOString(), host: os.hostname(), cpus: os.cpus().length,
      corpus_messages: mails.length, count: COUNT, engine: process.env.KEFU_TEST_ENGINE || 'sqlite',
      mail_in: await benchMailIn(mails),
      imap: await benchImap(mails, mail),
    };
    const out = JSON.stringify(result, null, 2);
    console.log(out);
    const file = opt('json', null);
    if (file) fs.writeFileSync(file, out + '\n');
  } finally {
    await mail.stop();
  }
})().catch((err) => { console.error(err); process.exit(1); });
