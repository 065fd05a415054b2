// The e-mail channel against real mail servers (Dovecot IMAP and LMTP,
// Postfix SMTP: scripts/mail-test.sh): a customer's mail, fetched over IMAP,
// becomes a ticket; an agent's reply goes out through the outbox over SMTP
// and lands in the customer's mailbox threaded, with text, HTML and a
// Chinese-named attachment; the customer's answer and a mail with the
// [#number] token find the ticket again, and further polls import nothing
// twice; a kill -9 in the middle of a poll loses no mail and imports none
// twice; a wrong IMAP password shows on the mailbox until it is fixed; a
// reply to an address the SMTP server refuses fails once, with the server's
// answer, and is not retried.
//
// Both engines run this file at the same time against one pair of mail
// servers (CTest's mail fixture, KEFU_TEST_MAIL_ENV), so each run has
// mailboxes of its own: support-<engine>@kefu.test and so on.  Alone, the
// file starts private servers (as root).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { Server, ENGINE, assertError, until } = require('./lib/harness');
const { mailServers, waitFor } = require('../mail/lib/servers');
const { SmtpClient, sendMail } = require('../mail/lib/smtp');
const { ImapClient } = require('../mail/lib/imap');
const { buildMessage, messageId, decodeWords, parseMime, leaves, parseAddresses, messageIds } =
  require('../mail/lib/mime');

// This run's mailboxes (scripts/mail-test.sh makes them for both engines).
const SUPPORT = `support-${ENGINE}@kefu.test`;   // the helpdesk's mailbox
const CUSTOMER = `customer-${ENGINE}@kefu.test`; // a customer with a mailbox
const BULK = `bulk-${ENGINE}@kefu.test`;         // the kill -9 test's mailbox
const AUTH = `auth-${ENGINE}@kefu.test`;         // the wrong-password test's
// An address Postfix refuses at RCPT (not a test domain: nothing is relayed).
const REFUSED = `nobody-${ENGINE}@elsewhere.test`;

// Generous: the server runs under the sanitizers on a loaded 2-core box,
// next to the other engine's run; the poll interval is 10 s.
const POLL_MS = 120000;     // a requested poll to show its result
const DELIVERY_MS = 120000; // a reply to be sent (or fail)
const MAIL_MS = 60000;      // Postfix to hand a mail to Dovecot

const CUSTOMER_NAME = '王小明';
const SUBJECT = '订单 20261122 退款问题：保温杯破损，请尽快处理 🙏';
const TEXT = '您好，\n\n我上周买的保温杯收到时已经破损，想申请退款。\n訂單號碼：20261122（繁體字也要正確）\n\n王小明';
const REPLY = '王先生您好：\n\n退款已经办理，预计 3 个工作日到账。凭证见附件。\n\n客服 小李';
const ANSWER = '收到，谢谢！钱到账后我再告诉你们。';
const ATTACHMENT_NAME = '退款凭证 2026年11月.pdf';
const ATTACHMENT = Buffer.concat([Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
  crypto.randomBytes(4096), Buffer.from('\n%%EOF\n')]);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// API checks every 250 ms (a tighter loop only loads the server it waits for).
const eventually = (cond, ms, what) => waitFor(cond, { timeoutMs: ms, intervalMs: 250, what });

let mail;
let srv;
let admin;
let ch; // the helpdesk's mailbox: SUPPORT over IMAP and SMTP
before(async () => {
  mail = await mailServers();
  // Whatever an earlier run against the same servers left is not ours.
  for (const user of [SUPPORT, CUSTOMER, BULK, AUTH]) await emptyMailbox(user);
  // A quick retry: a reply that is (wrongly) retried shows within seconds.
  srv = await new Server({ args: ['--delivery-backoff', '1'] }).start();
  admin = await srv.loginAs('admin');
  ch = await createMailbox('Support mail', SUPPORT);
});
after(async () => {
  try {
    if (srv) await srv.stop();
  } finally {
    if (mail) await mail.stop();
  }
});

// ---- The test's side of the mail servers -------------------------------

// An IMAP session (STARTTLS, the servers' certificate verified) as a test
// user with INBOX selected: resolves to fn(imap, box).
async function withImap(user, fn) {
  const imap = await ImapClient.connect({ host: mail.imap.host, port: mail.imap.port, starttls: true, ca: mail.imap.ca });
  try {
    await imap.login(user, mail.password(user));
    const box = await imap.select('INBOX');
    const r = await fn(imap, box);
    await imap.logout();
    return r;
  } catch (err) {
    imap.close();
    err.message += `\nIMAP transcript (${user}):\n${imap.transcript.slice(-30).join('\n')}`;
    throw err;
  }
}

async function emptyMailbox(user) {
  await withImap(user, async (imap, box) => {
    if (!box.exists) return;
    await imap.command('UID STORE', ['1:*', '+FLAGS.SILENT', '(\\Deleted)']);
    await imap.command('EXPUNGE');
  });
}

// Waits until the mail with this Message-ID is in the user's INBOX:
// {uids, uidValidity}.
function waitForMail(user, id) {
  return withImap(user, async (imap, box) => {
    const uids = await until(async () => {
      await imap.command('NOOP');
      const found = await imap.uidSearch(`HEADER Message-ID "${id}"`);
      return found.length ? found : null;
    }, MAIL_MS, `${id} in ${user}'s INBOX`);
    return { uids, uidValidity: box.uidValidity };
  });
}

// The raw mail with this Message-ID in the user's INBOX (waits for it);
// there must be exactly one.
async function fetchMail(user, id) {
  const { uids } = await waitForMail(user, id);
  assert.equal(uids.length, 1, `${id} delivered once to ${user}`);
  return withImap(user, async (imap) => {
    const [m] = await imap.uidFetch(uids[0], '(UID BODY.PEEK[])');
    return m['BODY[]'];
  });
}

// Through Postfix, as a customer's mail program sends: STARTTLS and AUTH.
async function sendAs(from, to, raw) {
  await sendMail({ host: mail.smtp.host, port: mail.smtp.port, starttls: true, ca: mail.smtp.ca,
    user: from, pass: mail.password(from), from, to: [to], raw });
}

// Straight into Dovecot over LMTP (any sender, no queue): [{from, raw}].
async function lmtpDeliver(to, mails) {
  const c = await SmtpClient.connect({ host: mail.imap.host, port: mail.lmtpPort, lmtp: true });
  try {
    for (const m of mails) await c.send({ from: m.from, to: [to], raw: m.raw });
    await c.quit();
  } catch (err) {
    c.close();
    err.message += `\nLMTP transcript:\n${c.transcript.slice(-30).join('\n')}`;
    throw err;
  }
}

// Postfix's refusals of a recipient at RCPT, from its log.
function refusals(rcpt) {
  const log = path.join(mail.dir, 'postfix.log');
  if (!fs.existsSync(log)) return [];
  return fs.readFileSync(log, 'utf8').split('\n')
    .filter((l) => l.includes('NOQUEUE: reject: RCPT') && l.includes(`to=<${rcpt}>`));
}

// ---- Kefu's side ---------------------------------------------------------

// An e-mail channel's config for a test user's mailbox.  verify: false --
// the test servers' certificate is self-signed.
function mailboxConfig(user, { imapPassword = mail.password(user), smtp = true } = {}) {
  const config = {
    address: user,
    name: 'Kefu Support',
    imap: { host: mail.imap.host, port: mail.imap.port, tls: 'starttls', verify: false,
      user, password: imapPassword, folder: 'INBOX', poll_seconds: 10 },
  };
  if (smtp) {
    config.smtp = { host: mail.smtp.host, port: mail.smtp.port, tls: 'starttls', verify: false,
      user, password: mail.password(user) };
  }
  return config;
}

async function createMailbox(name, user, opts) {
  const r = await admin.post('/api/v1/channels', { type: 'email', name, config: mailboxConfig(user, opts) });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.ok(Number.isInteger(r.body.id), JSON.stringify(r.body));
  return r.body;
}

// The channel's mailbox state (GET /api/v1/channels/{id} .mailbox).
async function mailbox(channel) {
  const r = await admin.get(`/api/v1/channels/${channel.id}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.ok(r.body.mailbox && typeof r.body.mailbox === 'object', `no mailbox state: ${JSON.stringify(r.body)}`);
  return r.body.mailbox;
}

// POST /poll: a poll now.
async function requestPoll(channel) {
  const r = await admin.post(`/api/v1/channels/${channel.id}/poll`);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.deepEqual(r.body, { queued: true });
}

// Asks for a poll and waits until one has ended after the request (a new
// last_ok_at, or one more failure): resolves to the mailbox state then.
async function pollNow(channel) {
  const before = await mailbox(channel);
  // Timestamps may have whole seconds: let the next one differ.
  const last = before.last_ok_at ? Date.parse(before.last_ok_at) : 0;
  if (Date.now() - last < 1100) await sleep(1100 - (Date.now() - last));
  await requestPoll(channel);
  return eventually(async () => {
    const m = await mailbox(channel);
    const ok = m.last_ok_at && m.last_ok_at !== before.last_ok_at;
    return (ok || m.failures > before.failures) && m;
  }, POLL_MS, `a poll of channel ${channel.id} to end`);
}

// The tickets that came in on a channel, oldest first.
async function channelTickets(channel) {
  const r = await admin.get('/api/v1/tickets?channel=email&limit=200&sort=created_asc');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.items.filter((t) => t.channel && t.channel.id === channel.id);
}

async function messages(ticketId) {
  const r = await admin.get(`/api/v1/tickets/${ticketId}/messages`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.items;
}

// A message's wait for its delivery_status to become `want` ('sent' or
// 'failed'); the other final state fails at once.
function deliveryOf(ticketId, msgId, want) {
  return eventually(async () => {
    const m = (await messages(ticketId)).find((x) => x.id === msgId);
    assert.ok(m, `message ${msgId} on ticket ${ticketId}`);
    const other = want === 'sent' ? 'failed' : 'sent';
    assert.notEqual(m.delivery_status, other, `delivery ${other}: ${m.delivery_error}`);
    return m.delivery_status === want && m;
  }, DELIVERY_MS, `message ${msgId} to be ${want}`);
}

// POST /api/v1/attachments with one file (a FormData, as a browser sends).
async function upload(c, bytes, filename, type) {
  const f = new FormData();
  f.append('file', new Blob([bytes], { type }), filename);
  const res = await fetch(`${c.base}/api/v1/attachments`, {
    method: 'POST', headers: { cookie: c.cookie, 'x-csrf-token': c.csrf }, body: f,
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.items[0];
}

const bare = (id) => id.replace(/^<|>$/g, '');
const isIso = (s) => typeof s === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(s) && !Number.isNaN(Date.parse(s));

// ---- The tests -------------------------------------------------------------

let first; // {ticket, id (its Message-ID, with brackets)}
test('a customer\'s mail is fetched over IMAP and becomes a ticket', async () => {
  const id = messageId();
  await sendAs(CUSTOMER, SUPPORT, buildMessage({
    from: CUSTOMER, fromName: CUSTOMER_NAME, to: SUPPORT, subject: SUBJECT, text: TEXT, messageId: id,
  }));
  const { uids, uidValidity } = await waitForMail(SUPPORT, id);

  await requestPoll(ch);
  const ticket = await eventually(async () => (await channelTickets(ch)).find((t) => t.subject === SUBJECT),
    POLL_MS, 'a ticket for the mail');
  first = { ticket, id };
  assert.equal(ticket.channel.type, 'email');
  assert.equal(ticket.customer.email, CUSTOMER);
  assert.equal(ticket.customer.name, CUSTOMER_NAME);

  // The customer, found by e-mail address.
  const found = (await admin.get(`/api/v1/customers?q=${encodeURIComponent(CUSTOMER)}`)).body.items
    .filter((c) => c.email === CUSTOMER);
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.equal(found[0].id, ticket.customer.id);
  const c = (await admin.get(`/api/v1/customers/${found[0].id}`)).body;
  assert.ok(c.identities.some((i) => i.kind === 'email' && i.handle === CUSTOMER), JSON.stringify(c));

  const msgs = await messages(ticket.id);
  assert.equal(msgs.length, 1, JSON.stringify(msgs));
  const [m] = msgs;
  assert.equal(m.direction, 'in');
  assert.equal(m.channel_id, ch.id);
  assert.equal(m.external_id, bare(id));
  // Decoded right (what a quote or signature heuristic might trim aside).
  for (const line of TEXT.split('\n').slice(0, 4).filter(Boolean)) assert.ok(m.text.includes(line), `${line} in ${m.text}`);
  assert.equal(m.author.kind, 'customer');

  const box = await mailbox(ch);
  assert.equal(box.state, 'ok', JSON.stringify(box));
  assert.equal(box.error, null);
  assert.equal(box.failures, 0);
  assert.ok(box.last_uid >= uids[0] && box.last_uid >= 1, JSON.stringify(box));
  assert.equal(box.uidvalidity, uidValidity);
  for (const k of ['last_poll_at', 'last_ok_at', 'next_poll_at']) assert.ok(isIso(box[k]), `${k}: ${box[k]}`);
});

let reply; // {message (as the API shows it once sent), id (its Message-ID), subject (decoded)}
test('an agent\'s reply goes out over SMTP, threaded, with text, HTML and a Chinese-named attachment', async () => {
  assert.ok(first, 'needs the ticket of the first test');
  const att = await upload(admin, ATTACHMENT, ATTACHMENT_NAME, 'application/pdf');
  const r = await admin.post(`/api/v1/tickets/${first.ticket.id}/messages`, { text: REPLY, attachments: [att.id] });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.delivery_status, 'pending');
  const sent = await deliveryOf(first.ticket.id, r.body.id, 'sent');
  assert.equal(sent.delivery_error, null);
  assert.equal(sent.direction, 'out');
  assert.match(sent.external_id || '', /^[^<>\s@]+@[^<>\s@]+$/, 'a Message-ID without brackets');
  const id = `<${sent.external_id}>`;

  // In the customer's INBOX, once.
  const raw = await fetchMail(CUSTOMER, id);
  const head = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');
  assert.ok(/^[\x00-\x7f]*$/.test(head), `the header block is 7-bit:\n${head}`);
  const msg = parseMime(raw);
  assert.deepEqual(parseAddresses(msg.get('From')), [{ name: 'Kefu Support', address: SUPPORT }]);
  assert.deepEqual(parseAddresses(msg.get('To')).map((a) => a.address), [CUSTOMER]);
  const subject = `Re: ${SUBJECT} [#${first.ticket.number}]`;
  assert.match(msg.get('Subject'), /=\?utf-8\?[bq]\?/i, 'the Chinese subject is RFC 2047-encoded');
  assert.equal(decodeWords(msg.get('Subject')), subject);
  assert.equal(msg.get('Message-ID'), id);
  assert.deepEqual(messageIds(msg.get('In-Reply-To')), [first.id]);
  assert.ok(messageIds(msg.get('References')).includes(first.id), `References: ${msg.get('References')}`);
  const date = Date.parse(msg.get('Date'));
  assert.ok(Math.abs(Date.now() - date) < 3600e3, `Date: ${msg.get('Date')}`);
  assert.equal(msg.get('MIME-Version'), '1.0');

  // multipart/mixed: multipart/alternative (text/plain, text/html), then the file.
  assert.equal(msg.type, 'multipart/mixed', msg.get('Content-Type'));
  const alt = msg.parts.find((p) => p.type === 'multipart/alternative');
  assert.ok(alt, `no multipart/alternative in ${msg.parts.map((p) => p.type)}`);
  assert.deepEqual(alt.parts.map((p) => p.type), ['text/plain', 'text/html']);
  const [plain, html] = alt.parts;
  assert.ok(plain.text.replace(/\r\n/g, '\n').includes(REPLY), plain.text);
  for (const line of REPLY.split('\n').filter(Boolean)) assert.ok(html.text.includes(line), `${line} in ${html.text}`);
  const files = leaves(msg).filter((p) => p.filename);
  assert.deepEqual(files.map((p) => p.filename), [ATTACHMENT_NAME]);
  assert.equal(files[0].disposition, 'attachment');
  assert.ok(files[0].body.equals(ATTACHMENT), 'the attachment arrives byte for byte');
  reply = { message: sent, id, subject };
});

test('the customer\'s answer and a mail with [#number] land on the same ticket; more polls import nothing twice', async () => {
  assert.ok(reply, 'needs the reply of the second test');
  const answerId = messageId();
  await sendAs(CUSTOMER, SUPPORT, buildMessage({
    from: CUSTOMER, fromName: CUSTOMER_NAME, to: SUPPORT, subject: `Re: ${reply.subject}`, text: ANSWER,
    messageId: answerId, inReplyTo: reply.id, references: `${first.id} ${reply.id}`,
  }));
  // A new mail (no In-Reply-To, no References) naming the ticket.
  const tokenId = messageId();
  await sendAs(CUSTOMER, SUPPORT, buildMessage({
    from: CUSTOMER, fromName: CUSTOMER_NAME, to: SUPPORT, subject: `补充一张照片 [#${first.ticket.number}]`,
    text: '忘了说：杯盖也裂了。', messageId: tokenId,
  }));
  await waitForMail(SUPPORT, answerId);
  const { uids } = await waitForMail(SUPPORT, tokenId);

  await requestPoll(ch);
  const incoming = (ms) => ms.filter((m) => m.direction === 'in');
  const msgs = await eventually(async () => {
    const ms = await messages(first.ticket.id);
    return incoming(ms).length >= 3 && ms;
  }, POLL_MS, 'both mails on the ticket');
  assert.deepEqual(incoming(msgs).map((m) => m.external_id).sort(), [first.id, answerId, tokenId].map(bare).sort());
  const answer = msgs.find((m) => m.external_id === bare(answerId));
  assert.equal(answer.text.trim(), ANSWER);
  assert.equal((await channelTickets(ch)).length, 1, 'no new ticket');

  // Two more polls (the mails are still in the mailbox): nothing new.
  for (let i = 0; i < 2; i++) {
    const box = await pollNow(ch);
    assert.equal(box.state, 'ok', JSON.stringify(box));
    assert.ok(box.last_uid >= uids[0], JSON.stringify(box));
  }
  const later = await messages(first.ticket.id);
  assert.deepEqual(later.map((m) => m.id), msgs.map((m) => m.id));
  assert.equal((await channelTickets(ch)).length, 1);
});

test('kill -9 in the middle of a poll: after the restart every mail is in, none twice', async (t) => {
  const N = 30;
  // Distinct senders (a flooding sender's mails would pile on one ticket);
  // bodies long enough that importing them takes a while.
  const ids = [];
  const mails = [];
  for (let i = 0; i < N; i++) {
    const from = `sender-${i}-${ENGINE}@example.net`;
    const id = messageId('example.net');
    const text = Array.from({ length: 120 },
      (_, k) => `第 ${i + 1} 封信，第 ${k + 1} 行：发票抬头写错了，请帮忙重新开具增值税专用发票。`).join('\n');
    ids.push(id);
    mails.push({ from, raw: buildMessage({ from, fromName: `客户 ${i + 1}`, to: BULK,
      subject: `批量 ${i + 1}/${N}：发票抬头写错了`, text, messageId: id, encoding: 'base64' }) });
  }
  await lmtpDeliver(BULK, mails);
  assert.equal(await withImap(BULK, (imap, box) => box.exists), N);

  const bulk = await createMailbox('Bulk mail', BULK, { smtp: false });
  await requestPoll(bulk);
  // Kill the moment the first mail shows as a ticket: the poll is under way.
  const seen = await until(async () => (await channelTickets(bulk)).length, POLL_MS, 'the first mail to come in');
  await srv.kill();
  t.diagnostic(`killed with ${seen} of ${N} mails seen imported`);

  const restarted = Date.now();
  await srv.start(); // same data; polls its mailboxes at start
  admin = await srv.loginAs('admin'); // the restart reset the demo logins
  await eventually(async () => (await channelTickets(bulk)).length >= N, 3 * POLL_MS, `all ${N} mails to come in`);
  t.diagnostic(`all ${N} in ${Math.round((Date.now() - restarted) / 1000)} s after the restart`);
  for (let i = 0; i < 2; i++) assert.equal((await pollNow(bulk)).state, 'ok');

  const tickets = await channelTickets(bulk);
  const got = [];
  for (const tk of tickets) {
    for (const m of await messages(tk.id)) if (m.direction === 'in') got.push(m.external_id);
  }
  assert.equal(got.length, N, `${got.length} messages for ${N} mails`);
  assert.deepEqual([...new Set(got)].sort(), ids.map(bare).sort(), 'each mail exactly once');
  assert.equal(tickets.length, N);
});

test('a wrong IMAP password shows on the mailbox until it is fixed; then the waiting mail comes in', async () => {
  const WRONG = 'not-the-password-2026';
  const id = messageId();
  await sendAs(CUSTOMER, AUTH, buildMessage({
    from: CUSTOMER, fromName: CUSTOMER_NAME, to: AUTH, subject: '这封信等着密码改好', text: '请查收。', messageId: id,
  }));
  await waitForMail(AUTH, id);

  const box = await createMailbox('Login test', AUTH, { imapPassword: WRONG, smtp: false });
  await requestPoll(box);
  const bad = await eventually(async () => {
    const m = await mailbox(box);
    return m.state === 'error' && m;
  }, POLL_MS, 'the mailbox to show the error');
  assert.match(bad.error || '', /authenticat/i);
  assert.ok(bad.failures >= 1, JSON.stringify(bad));
  assert.equal(bad.last_ok_at, null);
  assert.ok(isIso(bad.last_poll_at), JSON.stringify(bad));
  assert.equal((await channelTickets(box)).length, 0);
  const shown = JSON.stringify((await admin.get(`/api/v1/channels/${box.id}`)).body);
  assert.ok(!shown.includes(WRONG) && !shown.includes(mail.password(AUTH)), `a password shown: ${shown}`);

  const p = await admin.patch(`/api/v1/channels/${box.id}`, { config: mailboxConfig(AUTH, { smtp: false }) });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  await requestPoll(box);
  const ok = await eventually(async () => {
    const m = await mailbox(box);
    return m.state === 'ok' && m;
  }, POLL_MS, 'the mailbox to be ok');
  assert.equal(ok.error, null);
  assert.ok(isIso(ok.last_ok_at));
  const [ticket] = await eventually(async () => {
    const ts = await channelTickets(box);
    return ts.length && ts;
  }, POLL_MS, 'the waiting mail to come in');
  assert.deepEqual((await messages(ticket.id)).map((m) => m.external_id), [bare(id)]);

  // Nothing to poll without IMAP settings; only for those who manage channels.
  const sendOnly = await admin.post('/api/v1/channels', { type: 'email', name: 'Send only',
    config: { address: `sendonly-${ENGINE}@kefu.test`, smtp: mailboxConfig(SUPPORT).smtp } });
  assert.equal(sendOnly.status, 201, JSON.stringify(sendOnly.body));
  assertError(await admin.post(`/api/v1/channels/${sendOnly.body.id}/poll`), 409);
  const agent = await srv.loginAs('agent');
  assertError(await agent.post(`/api/v1/channels/${box.id}/poll`), 403, 'forbidden');
});

test('a reply to an address the SMTP server refuses fails once, with the server\'s answer', async () => {
  const id = messageId('elsewhere.test');
  // Over LMTP: Postfix would take the mail too, but this is quicker and
  // leaves its log to the reply.
  await lmtpDeliver(SUPPORT, [{ from: REFUSED, raw: buildMessage({
    from: REFUSED, fromName: '外部客户', to: SUPPORT, subject: '请回复到这个地址', text: '这个地址收不到回信。', messageId: id,
  }) }]);
  await requestPoll(ch);
  const ticket = await eventually(async () => (await channelTickets(ch)).find((tk) => tk.customer.email === REFUSED),
    POLL_MS, 'a ticket for the mail');

  const before = refusals(REFUSED).length;
  const r = await admin.post(`/api/v1/tickets/${ticket.id}/messages`, { text: '这封回复会被拒收。' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const failed = await deliveryOf(ticket.id, r.body.id, 'failed');
  // The answer Postfix gave, e.g. "550 5.7.1 <nobody-…>: Recipient address rejected: …".
  const lines = await until(() => refusals(REFUSED).length > before && refusals(REFUSED), 10000, 'Postfix to log its refusal');
  const answer = /: (5\d\d \d\.\d\.\d+) /.exec(lines[lines.length - 1]);
  assert.ok(answer, lines[lines.length - 1]);
  assert.ok((failed.delivery_error || '').includes(answer[1]), `delivery_error ${failed.delivery_error} names ${answer[1]}`);

  // A permanent refusal is not retried: with --delivery-backoff 1 a retry
  // would have come within a few seconds.
  await sleep(6000);
  assert.equal(refusals(REFUSED).length, before + 1, 'one attempt only');
  const again = (await messages(ticket.id)).find((m) => m.id === r.body.id);
  assert.equal(again.delivery_status, 'failed');
  assert.equal(again.delivery_error, failed.delivery_error);
});

// ---- Chat replies by e-mail --------------------------------------------

// The widget's own calls, as a page or an app makes them.
async function widget(method, p, { token, body } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(srv.base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

// A visitor who gave CUSTOMER's address in the chat form writes; an agent
// answers.  Resolves to {token, ticketId, reply}.
async function chatAndAnswer(words) {
  const s = await widget('POST', '/widget/v1/sessions',
    { body: { key: srv.widgetKey, lang: 'zh-CN', fields: { name: CUSTOMER_NAME, email: CUSTOMER } } });
  assert.equal(s.status, 200, JSON.stringify(s.body));
  const said = await widget('POST', '/widget/v1/messages', { token: s.body.token, body: { text: words, client_id: messageId() } });
  assert.ok(said.status === 200 || said.status === 201, JSON.stringify(said.body));
  const ticketId = said.body.conversation.ticket_id;
  const reply = await admin.post(`/api/v1/tickets/${ticketId}/messages`, { text: `回复：${words}` });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return { token: s.body.token, ticketId, reply: reply.body };
}

// The outbox row of a reply's e-mail copy: {status, note}.
function chatEmail(msgId) {
  const row = srv.sql(`SELECT o.status || '|' || COALESCE((SELECT a.error FROM outbox_attempts a WHERE a.outbox_id = o.id ORDER BY a.id DESC LIMIT 1), '') FROM outbox o WHERE o.kind = 'chat_email' AND o.ref_id = ${msgId}`);
  if (!row) return null;
  const [status, note] = row.split('|');
  return { status, note };
}

test('a chat reply the visitor has not read is e-mailed; the answer by mail lands on the chat ticket', async () => {
  const web = (await admin.get('/api/v1/channels')).body.items.find((c) => c.type === 'web');
  const full = (await admin.get(`/api/v1/channels/${web.id}`)).body;
  const config = { ...full.config, email_channel_id: ch.id, email_after_seconds: 1 };
  delete config.public_key;
  assertError(await admin.patch(`/api/v1/channels/${web.id}`, { config: { ...config, email_after_seconds: -1 } }), 400, 'invalid');
  assert.equal((await admin.patch(`/api/v1/channels/${web.id}`, { config })).status, 200);

  // Not read: after a second the copy goes out through the mailbox.
  const unread = await chatAndAnswer('在线客服：保温杯什么时候发货？');
  await eventually(async () => { const o = chatEmail(unread.reply.id); return o && o.status === 'delivered' && o; },
    DELIVERY_MS, 'the chat reply to be e-mailed');
  const sentId = (await messages(unread.ticketId)).find((m) => m.id === unread.reply.id).external_id;
  assert.ok(sentId, 'the reply got a Message-ID');
  const raw = await fetchMail(CUSTOMER, `<${sentId}>`);
  const sent = parseMime(raw);
  const number = (await admin.get(`/api/v1/tickets/${unread.ticketId}`)).body.number;
  assert.ok(decodeWords(sent.get('Subject')).endsWith(`[#${number}]`), sent.get('Subject'));
  assert.equal(parseAddresses(sent.get('From'))[0].address, SUPPORT);
  assert.deepEqual(parseAddresses(sent.get('To')).map((a) => a.address), [CUSTOMER]);

  // The visitor answers by mail: it joins the chat ticket.
  const answerId = messageId();
  await sendAs(CUSTOMER, SUPPORT, buildMessage({
    from: CUSTOMER, fromName: CUSTOMER_NAME, to: SUPPORT, subject: 'Re: chat', text: '下周一可以吗？',
    messageId: answerId, inReplyTo: `<${sentId}>`,
  }));
  await waitForMail(SUPPORT, answerId);
  await requestPoll(ch);
  await eventually(async () => (await messages(unread.ticketId)).some((m) => m.external_id === bare(answerId)),
    POLL_MS, 'the answer on the chat ticket');

  // Read in the chat before the delay is over: nothing is e-mailed.
  config.email_after_seconds = 5;
  assert.equal((await admin.patch(`/api/v1/channels/${web.id}`, { config })).status, 200);
  const read = await chatAndAnswer('在线客服：可以开发票吗？');
  assert.equal((await widget('POST', '/widget/v1/read', { token: read.token, body: { message_id: read.reply.id } })).status, 204);
  const done = await eventually(async () => { const o = chatEmail(read.reply.id); return o && o.status === 'delivered' && o; },
    DELIVERY_MS, 'the read reply to be settled');
  assert.match(done.note, /read in the chat/);
  const notSent = (await messages(read.ticketId)).find((m) => m.id === read.reply.id).external_id;
  await withImap(CUSTOMER, async (imap) => {
    assert.deepEqual(await imap.uidSearch(`HEADER Message-ID "${notSent}"`), []);
  });
});
