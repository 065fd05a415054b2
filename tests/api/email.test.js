// The e-mail channel's MTA pipe: `kefu mail-in --channel ID` reads one raw
// message on stdin and stores it through the one ingest path --
// deduplicated, threaded (In-Reply-To/References, then a [#number] token),
// every charset decoded, the raw message kept, noise flagged.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Server, assertError, run, BIN } = require('./lib/harness');

const CORPORA = path.join(process.env.KEFU_SOURCE_DIR || path.resolve(__dirname, '../..'),
  '..', 'shared', 'corpora', 'email');
const corpus = (p) => fs.readFileSync(path.join(CORPORA, p));

let srv;
let admin;
let ch;
before(async () => {
  srv = await new Server().start();
  admin = await srv.loginAs('admin');
});
after(async () => { await srv.stop(); });

function mailIn(raw, channel = ch.id, extra = []) {
  return srv.cli(['mail-in', '--channel', String(channel), '--json', ...extra], {}, raw);
}

// Delivered (exit 0): the parsed --json result.
async function deliver(raw, channel) {
  const r = await mailIn(raw, channel);
  assert.equal(r.status, 0, `mail-in exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function mail({ from = 'Li Lei <lilei@example.cn>', subject = 'Hello', id, headers = [], body = 'Hello there\n',
  type = 'text/plain; charset=utf-8', cte = '8bit' } = {}) {
  const head = [`From: ${from}`, 'To: support@shop.example', `Subject: ${subject}`,
    'Date: Mon, 02 Mar 2026 10:00:00 +0800', ...(id ? [`Message-ID: <${id}>`] : []),
    ...headers, 'MIME-Version: 1.0', `Content-Type: ${type}`, `Content-Transfer-Encoding: ${cte}`];
  const h = Buffer.from(head.join('\r\n') + '\r\n\r\n');
  return Buffer.concat([h, Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

async function messages(ticketId) {
  const r = await admin.get(`/api/v1/tickets/${ticketId}/messages`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.items;
}

test('an email channel is created through the API; passwords are never shown', async () => {
  const r = await admin.post('/api/v1/channels', {
    type: 'email', name: 'Support mailbox',
    config: {
      address: 'Support@Shop.Example', name: 'Shop 客服', signature: '-- \nShop',
      imap: { host: 'imap.shop.example', port: 993, tls: 'tls', user: 'support', password: 'imap-pass-1', folder: 'INBOX', poll_seconds: 60 },
      smtp: { host: 'smtp.shop.example', port: 587, tls: 'starttls', user: 'support', password: 'smtp-pass-2' },
    },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  ch = r.body;
  const got = (await admin.get(`/api/v1/channels/${ch.id}`)).body;
  assert.equal(got.type, 'email');
  assert.equal(got.config.address, 'support@shop.example');
  assert.equal(got.config.imap.password, 'set');
  assert.equal(got.config.smtp.password, 'set');
  const text = JSON.stringify(got);
  assert.ok(!text.includes('imap-pass-1') && !text.includes('smtp-pass-2'), text);
  assert.ok(!srv.sql('SELECT config FROM channels').includes('imap-pass'), 'stored in clear');
  const key = fs.statSync(path.join(srv.dataDir, 'secret.key'));
  assert.equal(key.mode & 0o777, 0o600);
  assert.equal(key.size, 32);
  // Sent back as shown, the config keeps its passwords.
  const again = await admin.patch(`/api/v1/channels/${ch.id}`, { config: got.config });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal((await admin.get(`/api/v1/channels/${ch.id}`)).body.config.imap.password_sealed,
    got.config.imap.password_sealed);
  // "set" without the sealed value, bad settings: refused.
  assertError(await admin.post('/api/v1/channels', { type: 'email', name: 'x', config: { address: 'a@b.c', imap: { host: 'h', password: 'set' } } }), 400, 'invalid');
  assertError(await admin.post('/api/v1/channels', { type: 'email', name: 'x', config: {} }), 400, 'invalid');
  assertError(await admin.post('/api/v1/channels', { type: 'email', name: 'x', config: { address: 'not-an-address' } }), 400, 'invalid');
  assertError(await admin.post('/api/v1/channels', { type: 'email', name: 'x', config: { address: 'a@b.c', imap: { host: 'h', tls: 'ssl3' } } }), 400, 'invalid');
});

let first;
test('a new mail becomes a ticket; the customer is found by e-mail; a re-delivery is stored once', async () => {
  const raw = mail({ id: 'first-1@example.cn', subject: 'Re: 订单 42 没有收到', body: '我的订单还没到。\n\nOn Mon, Li wrote:\n> old\n' });
  first = await deliver(raw);
  assert.equal(first.new_ticket, true);
  const t = (await admin.get(`/api/v1/tickets/${first.ticket_id}`)).body;
  assert.equal(t.subject, '订单 42 没有收到');
  const c = (await admin.get(`/api/v1/customers/${first.customer_id}`)).body;
  assert.ok(c.identities.some((i) => i.kind === 'email' && i.handle === 'lilei@example.cn'), JSON.stringify(c));
  assert.equal(c.name, 'Li Lei');
  const msgs = await messages(first.ticket_id);
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0].text, '我的订单还没到。');
  const eml = msgs[0].attachments.find((a) => a.filename === 'message.eml');
  assert.ok(eml, JSON.stringify(msgs[0].attachments));
  assert.equal(eml.content_type, 'message/rfc822');
  const dl = await fetch(srv.base + eml.url, { headers: { cookie: admin.cookie } });
  assert.equal(dl.status, 200);
  assert.ok(Buffer.from(await dl.arrayBuffer()).equals(raw), 'message.eml is byte-identical');

  const plain = await srv.cli(['mail-in', '--channel', String(ch.id)], {}, raw);
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.stdout.trim(), String(first.ticket_id));
  const dup = await deliver(raw);
  assert.equal(dup.duplicate, true);
  assert.equal(dup.message_id, first.message_id);
  assert.equal((await messages(first.ticket_id)).length, 1);
  assert.equal(srv.sql(`SELECT COUNT(*) FROM attachments WHERE filename = 'message.eml'`), '1');
});

test('a mail without Message-ID is deduplicated by its bytes', async () => {
  const raw = mail({ from: 'anon@example.org', subject: 'no id', body: 'who am I\n' });
  const a = await deliver(raw);
  const b = await deliver(raw);
  assert.equal(b.duplicate, true);
  assert.equal(a.ticket_id, b.ticket_id);
});

test('a reply threads by In-Reply-To, a new mail with [#number] by the token', async () => {
  const reply = await deliver(mail({ id: 'reply-2@example.cn', subject: 'Re: Re: 订单 42 没有收到',
    headers: ['In-Reply-To: <first-1@example.cn>', 'References: <first-1@example.cn>'], body: '还是没到\n' }));
  assert.equal(reply.ticket_id, first.ticket_id);
  assert.equal(reply.new_ticket, false);
  // References only, pointing at the reply (not the root).
  const deep = await deliver(mail({ id: 'reply-3@example.cn', subject: 'again', headers: ['References: <reply-2@example.cn>'], body: '?\n' }));
  assert.equal(deep.ticket_id, first.ticket_id);
  const other = await deliver(mail({ from: 'hanmeimei@example.cn', id: 'tok-1@example.cn',
    subject: `Question about [#${first.ticket_number}]`, body: 'about that ticket\n' }));
  assert.equal(other.ticket_id, first.ticket_id);
  const fresh = await deliver(mail({ from: 'hanmeimei@example.cn', id: 'tok-2@example.cn', subject: 'Something else', body: 'new\n' }));
  assert.notEqual(fresh.ticket_id, first.ticket_id);
  assert.equal(fresh.new_ticket, true);
});

test('a reply to a closed ticket opens a linked one, or reopens it when the account says so', async () => {
  const base = await deliver(mail({ from: 'closer@example.cn', id: 'closed-1@example.cn', subject: 'Close me', body: 'one\n' }));
  assert.equal((await admin.patch(`/api/v1/tickets/${base.ticket_id}`, { status: 'closed' })).status, 200);
  assert.equal((await admin.get('/api/v1/account')).body.reply_to_closed, 'new');
  const again = await deliver(mail({ from: 'closer@example.cn', id: 'closed-2@example.cn', subject: 'Re: Close me',
    headers: ['In-Reply-To: <closed-1@example.cn>'], body: 'two\n' }));
  assert.notEqual(again.ticket_id, base.ticket_id);
  assert.equal(again.new_ticket, true);
  const linked = (await admin.get(`/api/v1/tickets/${again.ticket_id}`)).body;
  assert.deepEqual(linked.links.map((l) => l.ticket.id), [base.ticket_id]);

  assertError(await admin.patch('/api/v1/account', { reply_to_closed: 'sometimes' }), 400, 'invalid');
  const acct = await admin.patch('/api/v1/account', { reply_to_closed: 'reopen' });
  assert.equal(acct.status, 200);
  assert.equal(acct.body.reply_to_closed, 'reopen');
  assert.equal((await admin.patch(`/api/v1/tickets/${again.ticket_id}`, { status: 'closed' })).status, 200);
  const third = await deliver(mail({ from: 'closer@example.cn', id: 'closed-3@example.cn', subject: 'Re: Close me',
    headers: ['In-Reply-To: <closed-2@example.cn>'], body: 'three\n' }));
  assert.equal(third.ticket_id, again.ticket_id);
  assert.equal(third.new_ticket, false);
  const t = (await admin.get(`/api/v1/tickets/${again.ticket_id}`)).body;
  assert.equal(t.status, 'open');
  assert.equal(t.closed_at, null);
  assert.equal((await admin.patch('/api/v1/account', { reply_to_closed: 'new' })).status, 200);
});

test('GBK, Big5 and ISO-2022-JP mail reads correctly', async () => {
  const zh = '您好，我想退货。谢谢！';
  const gbk = execFileSync('iconv', ['-f', 'UTF-8', '-t', 'GBK'], { input: zh + '\n' });
  const subj = '=?gb2312?B?' + execFileSync('iconv', ['-f', 'UTF-8', '-t', 'GB2312'], { input: '退货申请' }).toString('base64') + '?=';
  const g = await deliver(mail({ id: 'gbk-1@example.cn', subject: subj, type: 'text/plain; charset=gb2312', body: gbk }));
  assert.equal((await admin.get(`/api/v1/tickets/${g.ticket_id}`)).body.subject, '退货申请');
  assert.equal((await messages(g.ticket_id))[0].text, zh);

  const big5 = corpus('gmime-charsets/chinese.big5.txt');
  // The pair's UTF-8 side has kanji Big5 lacks: compare with iconv's reading.
  const big5Utf8 = execFileSync('iconv', ['-f', 'BIG5-HKSCS', '-t', 'UTF-8'], { input: big5 }).toString('utf8');
  const b = await deliver(mail({ id: 'big5-1@example.tw', subject: 'big5', type: 'text/plain; charset=big5', body: big5 }));
  const bt = (await messages(b.ticket_id))[0].text;
  assert.equal(bt.slice(0, 40), big5Utf8.slice(0, 40));
  assert.ok(!bt.includes('\ufffd'), 'no replacement characters');

  const jp = await deliver(corpus('mikel-mail/spec/fixtures/emails/multi_charset/japanese_iso_2022.eml'));
  assert.equal((await admin.get(`/api/v1/tickets/${jp.ticket_id}`)).body.subject, 'まみむめも');
  assert.equal((await messages(jp.ticket_id))[0].text, 'すみません。');
});

test('HTML with a cid: image: the image is an attachment and the HTML points at it', async () => {
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  const body = [
    '--b1', 'Content-Type: text/html; charset=utf-8', '',
    '<p>See <b>this</b>: <img src="cid:logo@shop" alt="logo"></p><script>alert(1)</script>',
    '--b1', 'Content-Type: image/png; name="logo.png"', 'Content-Transfer-Encoding: base64',
    'Content-ID: <logo@shop>', 'Content-Disposition: inline; filename="logo.png"', '',
    png.toString('base64'), '--b1--', ''].join('\r\n');
  const r = await deliver(mail({ id: 'html-1@example.cn', subject: 'pic', type: 'multipart/related; boundary="b1"', body }));
  const m = (await messages(r.ticket_id))[0];
  const img = m.attachments.find((a) => a.filename === 'logo.png');
  assert.ok(img, JSON.stringify(m.attachments));
  assert.equal(img.content_type, 'image/png');
  assert.ok(m.html.includes(`/api/v1/attachments/${img.id}`), m.html);
  assert.ok(!m.html.includes('<script'), m.html);
  assert.ok(m.text.includes('See this'), m.text);
  const dl = await fetch(srv.base + img.url, { headers: { cookie: admin.cookie } });
  assert.ok(Buffer.from(await dl.arrayBuffer()).equals(png));
});

test('an auto-reply is stored but flagged; a bounce marks the bounced message failed', async () => {
  const ar = await deliver(mail({ from: 'boss@example.cn', id: 'ooo-1@example.cn', subject: 'Out of Office: away',
    headers: ['Auto-Submitted: auto-replied'], body: 'I am away\n' }));
  assert.equal(ar.auto_reply, true);
  assert.match(srv.sql(`SELECT flags FROM messages WHERE id = ${ar.message_id}`), /auto_reply/);

  const dsn = [
    '--dsn', 'Content-Type: text/plain; charset=us-ascii', '', 'Delivery failed.', '',
    '--dsn', 'Content-Type: message/delivery-status', '',
    'Reporting-MTA: dns; mx.shop.example', '', 'Final-Recipient: rfc822; lilei@example.cn',
    'Action: failed', 'Status: 5.1.1', '',
    '--dsn', 'Content-Type: text/rfc822-headers', '',
    'Message-ID: <first-1@example.cn>', 'Subject: x', '', '--dsn--', ''].join('\r\n');
  const b = await deliver(mail({ from: 'Mail Delivery System <MAILER-DAEMON@mx.shop.example>', id: 'dsn-1@mx.shop.example',
    subject: 'Undelivered Mail Returned to Sender', headers: ['Auto-Submitted: auto-replied'],
    type: 'multipart/report; report-type=delivery-status; boundary="dsn"', body: dsn }));
  assert.equal(b.dsn, true);
  assert.equal(b.bounced_message_id, first.message_id);
  assert.equal(b.ticket_id, first.ticket_id);
  const m = (await messages(first.ticket_id)).find((x) => x.id === first.message_id);
  assert.equal(m.delivery_status, 'failed');
  assert.match(m.delivery_error, /5\.1\.1/);
});

test('a flooding sender lands on their open ticket', async () => {
  let firstTicket;
  const tickets = new Set();
  for (let i = 0; i < 23; i++) {
    const r = await deliver(mail({ from: 'flood@example.net', id: `flood-${i}@example.net`, subject: `spam ${i}`, body: `n ${i}\n` }));
    if (i === 0) firstTicket = r.ticket_id;
    tickets.add(r.ticket_id);
    if (i >= 20) assert.equal(r.flooded, true, `message ${i}`);
  }
  assert.equal(tickets.size, 20);
  assert.ok(firstTicket);
});

test('real corpus messages go in without error', async () => {
  for (const f of ['php-imap/tests/messages/multiple_nested_attachments.eml', 'php-imap/tests/messages/example_bounce.eml',
    'php-imap/tests/messages/ks_c_5601-1987_headers.eml', 'mikel-mail/spec/fixtures/emails/multi_charset/japanese_shift_jis.eml',
    'php-imap/tests/messages/html_only.eml', 'php-imap/tests/messages/thread_my_topic.eml', 'php-imap/tests/messages/thread_re_my_topic.eml']) {
    const raw = corpus(f);
    const r = await deliver(raw);
    const m = (await messages(r.ticket_id)).find((x) => x.id === r.message_id);
    const eml = m.attachments.find((a) => a.filename === 'message.eml');
    const dl = await fetch(srv.base + eml.url, { headers: { cookie: admin.cookie } });
    assert.ok(Buffer.from(await dl.arrayBuffer()).equals(raw), f);
  }
  const nf = await deliver(corpus('php-imap/tests/messages/multiple_nested_attachments.eml'));
  assert.equal(nf.duplicate, true, 'no From: kept under an unknown sender');
  const ex = await deliver(corpus('php-imap/tests/messages/example_bounce.eml'));
  assert.equal(ex.duplicate, true);
  assert.equal(ex.dsn, true);
});

test('exit codes an MTA understands', async () => {
  let r = await mailIn(mail({ id: 'x-1@example.cn' }), 999999);
  assert.equal(r.status, 65, r.stderr);
  const api = await admin.post('/api/v1/channels', { type: 'api', name: 'not mail' });
  r = await mailIn(mail({ id: 'x-2@example.cn' }), api.body.id);
  assert.equal(r.status, 65, r.stderr);
  r = await mailIn(Buffer.from('this is not mail at all\n'));
  assert.equal(r.status, 65, r.stderr);
  r = await mailIn(Buffer.alloc(0));
  assert.equal(r.status, 65, r.stderr);
  const off = await admin.post('/api/v1/channels', { type: 'email', name: 'off', config: { address: 'off@shop.example' } });
  assert.equal((await admin.patch(`/api/v1/channels/${off.body.id}`, { active: false })).status, 200);
  r = await mailIn(mail({ id: 'x-3@example.cn' }), off.body.id);
  assert.equal(r.status, 65, r.stderr);
  // Unreachable databases: try again later.
  const mailIn4 = (args) => run(BIN, ['mail-in', '--channel', String(ch.id), ...args], {}, mail({ id: 'x-4@example.cn' }));
  r = await mailIn4(['--data', srv.dataDir, '--database', 'postgres://kefu@127.0.0.1:1/x']);
  assert.equal(r.status, 75, String(r.stderr));
  // A data directory that cannot be made (its parent is a file: refused
  // even to root, unlike a read-only directory).
  const file = path.join(srv.dataDir, 'not-a-dir');
  fs.writeFileSync(file, 'x');
  r = await mailIn4(['--data', path.join(file, 'data'), '--database', `sqlite://${file}/data/kefu.db`]);
  assert.equal(r.status, 75, String(r.stderr));
});
