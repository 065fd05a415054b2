// smoke.test.js -- the test mail servers work end to end: a UTF-8 mail with
// a Chinese subject goes from customer@kefu.test through Postfix (STARTTLS,
// AUTH) into support@kefu.test's INBOX in Dovecot, and is found, read and
// marked \Seen over IMAP, byte for byte as sent.  Proves the infrastructure
// (scripts/mail-test.sh and tests/mail/lib/) that the email tests build on.
//
// Uses the servers of KEFU_TEST_MAIL_ENV when set, else starts its own.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { mailServers, waitFor } = require('./lib/servers');
const { SmtpClient, SmtpError, sendMail } = require('./lib/smtp');
const { ImapClient } = require('./lib/imap');
const { buildMessage, parseMessage, decodeWords, messageId } = require('./lib/mime');

const CUSTOMER = 'customer@kefu.test';
const SUPPORT = 'support@kefu.test';
const SUBJECT = '订单 #20261122 退款问题：商品破损，请尽快处理 🙏';
// A line starting with '.' checks dot-stuffing; the rest, 8-bit UTF-8 text.
const TEXT = [
  '您好，',
  '',
  '我上周买的保温杯收到时已经破损，想申请退款。',
  '.这一行以句点开头。',
  '訂單號碼：20261122（繁體字也要正確）',
  '',
  '张三',
].join('\n');

let mail;
before(async () => { mail = await mailServers(); });
after(async () => { if (mail) await mail.stop(); });

// The UIDs in support's INBOX of the message with this Message-ID.
async function findByMessageId(imap, id) {
  return imap.uidSearch(`HEADER Message-ID "${id}"`);
}

test('a Chinese mail goes through Postfix into Dovecot and is read over IMAP', async () => {
  const id = messageId();
  const raw = buildMessage({
    from: CUSTOMER, fromName: '张三', to: SUPPORT, subject: SUBJECT, text: TEXT, messageId: id,
  });
  // The Subject is RFC 2047-encoded, so the header block is 7-bit.
  const sentHead = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');
  assert.match(sentHead, /^Subject: =\?UTF-8\?B\?/m);
  assert.ok(/^[\x00-\x7f]*$/.test(sentHead), 'header block is ASCII');

  // SMTP: STARTTLS with the servers' certificate verified, then AUTH PLAIN.
  const smtp = await SmtpClient.connect({ host: mail.smtp.host, port: mail.smtp.port, starttls: true, ca: mail.smtp.ca });
  try {
    assert.ok(smtp.conn.encrypted, 'SMTP is encrypted after STARTTLS');
    assert.ok(smtp.has('AUTH') && smtp.capabilities.get('AUTH').includes('PLAIN'), 'AUTH PLAIN offered');
    assert.ok(smtp.has('8BITMIME'), '8BITMIME offered');
    await smtp.auth(CUSTOMER, mail.password(CUSTOMER));
    const r = await smtp.send({ from: CUSTOMER, to: [SUPPORT], raw });
    assert.match(r.text, /queued/i);
    await smtp.quit();
  } catch (err) {
    smtp.close();
    err.message += `\nSMTP transcript:\n${smtp.transcript.join('\n')}`;
    throw err;
  }

  // IMAP: plain-text LOGIN on loopback, as a helpdesk's poller might.
  const imap = await ImapClient.connect({ host: mail.imap.host, port: mail.imap.port });
  try {
    await imap.login(SUPPORT, mail.password(SUPPORT));
    const box = await imap.select('INBOX');
    assert.ok(box.uidValidity > 0, 'UIDVALIDITY reported');
    // Delivery is asynchronous (Postfix queue -> LMTP): poll, bounded.
    const uids = await waitFor(async () => {
      await imap.command('NOOP');
      const found = await findByMessageId(imap, id);
      return found.length ? found : null;
    }, { what: `message ${id} in ${SUPPORT}'s INBOX` });
    assert.equal(uids.length, 1, 'delivered once');
    const uid = uids[0];

    const [msg] = await imap.uidFetch(uid, '(UID FLAGS RFC822.SIZE BODY.PEEK[])');
    assert.equal(msg.uid, uid);
    assert.ok(!msg.flags.includes('\\Seen'), 'BODY.PEEK does not set \\Seen');
    const got = msg['BODY[]'];
    assert.ok(Buffer.isBuffer(got));
    assert.equal(msg['RFC822.SIZE'], got.length);

    // Postfix and Dovecot only prepend trace headers: what we sent is
    // there, byte for byte, at the end of what we fetched.
    assert.ok(got.subarray(got.length - raw.length).equals(raw), 'message arrives unchanged');
    const parsed = parseMessage(got);
    assert.equal(decodeWords(parsed.get('Subject')), SUBJECT);
    assert.equal(decodeWords(parsed.get('From')), `张三 <${CUSTOMER}>`);
    assert.equal(parsed.get('Message-ID'), id);
    assert.equal(parsed.get('To'), `<${SUPPORT}>`);
    const received = parsed.headers.filter((h) => h.name === 'Received').map((h) => h.value);
    assert.ok(received.some((v) => /by mail\.kefu\.test with LMTP/.test(v)), 'Dovecot delivered it');
    assert.ok(received.some((v) => /by mail\.kefu\.test \(Postfix\) with ESMTPSA/.test(v)), 'Postfix took it with TLS and AUTH');
    assert.ok(parsed.headers.some((h) => h.name === 'Return-Path' && h.value === `<${CUSTOMER}>`));
    assert.equal(parsed.body.toString('utf8'), `${TEXT.replace(/\n/g, '\r\n')}\r\n`);

    // Mark it read, as the poller will once the message is committed.
    const flags = await imap.uidStore(uid, '+FLAGS', ['\\Seen']);
    assert.ok(flags.get(uid).includes('\\Seen'));
    const [again] = await imap.uidFetch(uid, '(UID FLAGS)');
    assert.ok(again.flags.includes('\\Seen'), '\\Seen stored');
    assert.deepEqual(await imap.uidSearch(`UNSEEN HEADER Message-ID "${id}"`), []);
    await imap.logout();
  } catch (err) {
    imap.close();
    err.message += `\nIMAP transcript:\n${imap.transcript.join('\n')}`;
    throw err;
  }
});

test('implicit TLS (SMTPS, IMAPS) and AUTH LOGIN work; APPEND works', async () => {
  const id = messageId();
  const raw = buildMessage({ from: SUPPORT, to: CUSTOMER, subject: 'Re: 退款 [#42]', text: '已为您办理退款。', messageId: id, encoding: 'base64' });
  await sendMail({
    host: mail.smtp.host, port: mail.smtp.tlsPort, tls: true, ca: mail.smtp.ca,
    user: SUPPORT, pass: mail.password(SUPPORT), mech: 'LOGIN', from: SUPPORT, to: [CUSTOMER], raw,
  });
  const imap = await ImapClient.connect({ host: mail.imap.host, port: mail.imap.tlsPort, tls: true, ca: mail.imap.ca });
  try {
    assert.ok(imap.conn.encrypted);
    await imap.login(CUSTOMER, mail.password(CUSTOMER));
    await imap.select('INBOX');
    const uids = await waitFor(async () => {
      await imap.command('NOOP');
      const found = await findByMessageId(imap, id);
      return found.length ? found : null;
    }, { what: `message ${id} in ${CUSTOMER}'s INBOX` });
    const [msg] = await imap.uidFetch(uids[0], '(BODY.PEEK[TEXT])');
    assert.equal(Buffer.from(msg['BODY[TEXT]'].toString('latin1'), 'base64').toString('utf8'), '已为您办理退款。');

    // APPEND (a literal) into Sent, as a sender that keeps a copy would.
    const copy = buildMessage({ from: SUPPORT, to: CUSTOMER, subject: '副本', text: '抄送', messageId: messageId() });
    const newUid = await imap.append('Sent', copy, ['\\Seen']);
    await imap.select('Sent');
    const [stored] = await imap.uidFetch(newUid || '*', '(FLAGS BODY.PEEK[])');
    assert.ok(stored['BODY[]'].equals(copy));
    assert.ok(stored.flags.includes('\\Seen'));
    await imap.logout();
  } catch (err) {
    imap.close();
    err.message += `\nIMAP transcript:\n${imap.transcript.join('\n')}`;
    throw err;
  }
});

test('nothing is relayed: other domains and unknown users are refused', async () => {
  const raw = buildMessage({ from: CUSTOMER, to: 'someone@example.com', subject: 'relay?', text: 'no' });
  // Not authenticated: relaying denied.
  await assert.rejects(
    sendMail({ host: mail.smtp.host, port: mail.smtp.port, from: CUSTOMER, to: ['someone@example.com'], raw }),
    (err) => err instanceof SmtpError && err.code === 554);
  // Authenticated: still nowhere to go but the test domains.
  await assert.rejects(
    sendMail({ host: mail.smtp.host, port: mail.smtp.port, user: CUSTOMER, pass: mail.password(CUSTOMER),
      from: CUSTOMER, to: ['someone@example.com'], raw }),
    (err) => err instanceof SmtpError && err.code >= 500);
  // An unknown user of a test domain.
  await assert.rejects(
    sendMail({ host: mail.smtp.host, port: mail.smtp.port, from: CUSTOMER, to: ['nobody@kefu.test'], raw }),
    (err) => err instanceof SmtpError && err.code === 550);
  // A wrong password.
  await assert.rejects(
    sendMail({ host: mail.smtp.host, port: mail.smtp.port, user: CUSTOMER, pass: 'wrong', from: CUSTOMER, to: [SUPPORT], raw }),
    (err) => err instanceof SmtpError && err.code === 535);
});
