// smtp.js -- a minimal SMTP client (RFC 5321) for the email tests: enough to
// hand a raw message to the test Postfix, with STARTTLS (RFC 3207) or
// implicit TLS and AUTH PLAIN / LOGIN (RFC 4954).  Also speaks LMTP
// (RFC 2033: LHLO, one reply per recipient after DATA) to drop a raw
// message straight into Dovecot.
//
//   const c = await SmtpClient.connect({ port, starttls: true, ca })
//   await c.auth('customer@kefu.test', 'customer-pass-2026')
//   await c.send({ from, to: [addr, ...], raw })   // raw: Buffer or string
//   await c.quit()
//
// or in one go: await sendMail({ port, starttls, ca, user, pass, from, to, raw }).
// A reply other than the expected one throws an SmtpError carrying .code
// and .text, so a test can assert on refusals (e.g. 554 relay denied).
'use strict';
const { Conn } = require('./conn');

class SmtpError extends Error {
  constructor(command, reply) {
    super(`SMTP ${command} -> ${reply.code} ${reply.text}`);
    this.code = reply.code;
    this.text = reply.text;
  }
}

class SmtpClient {
  constructor(conn, opts) {
    this.conn = conn;
    this.opts = opts;
    this.lmtp = !!opts.lmtp;
    this.capabilities = new Map(); // EHLO keyword -> its parameters
    this.transcript = [];          // every line, '> ' sent, '< ' received
  }

  // Connects, reads the greeting, says EHLO (LHLO for LMTP), and with
  // `starttls` upgrades the connection and says EHLO again.  Options:
  // host (127.0.0.1), port, tls (implicit TLS), starttls, ca (PEM to verify
  // the server with), helo (name sent), lmtp, timeoutMs.
  static async connect(opts) {
    const conn = await Conn.open(opts);
    const c = new SmtpClient(conn, opts);
    try {
      await c.expect('greeting', [220]);
      await c.ehlo();
      if (opts.starttls) await c.starttls();
      return c;
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  // One reply, possibly multi-line ("250-..." lines, then "250 ...").
  async reply() {
    const lines = [];
    for (;;) {
      const line = (await this.conn.readLine()).toString('utf8');
      this.transcript.push(`< ${line}`);
      const m = /^(\d{3})([- ]?)(.*)$/.exec(line);
      if (!m) throw new Error(`bad SMTP reply line: ${line}`);
      lines.push(m[3]);
      if (m[2] !== '-') return { code: Number(m[1]), lines, text: lines.join('\n') };
    }
  }

  async expect(what, codes) {
    const r = await this.reply();
    if (!codes.includes(r.code)) throw new SmtpError(what, r);
    return r;
  }

  // Sends one command line and checks its reply code.
  async command(line, codes, shown = line) {
    this.transcript.push(`> ${shown}`);
    this.conn.write(`${line}\r\n`);
    return this.expect(shown.split(' ')[0], codes);
  }

  async ehlo() {
    const verb = this.lmtp ? 'LHLO' : 'EHLO';
    const r = await this.command(`${verb} ${this.opts.helo || 'kefu-test.localhost'}`, [250]);
    this.capabilities.clear();
    for (const l of r.lines.slice(1)) {
      const [kw, ...params] = l.trim().split(/\s+/);
      this.capabilities.set(kw.toUpperCase(), params);
    }
    return this.capabilities;
  }

  has(keyword) {
    return this.capabilities.has(keyword.toUpperCase());
  }

  async starttls() {
    if (!this.has('STARTTLS')) throw new Error('server does not offer STARTTLS');
    await this.command('STARTTLS', [220]);
    await this.conn.startTls(this.opts);
    await this.ehlo();
  }

  // AUTH PLAIN (default) or LOGIN.  The password never enters the transcript.
  async auth(user, pass, mech = 'PLAIN') {
    const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
    if (mech === 'PLAIN') {
      await this.command(`AUTH PLAIN ${b64(`\0${user}\0${pass}`)}`, [235], 'AUTH PLAIN ***');
    } else if (mech === 'LOGIN') {
      await this.command('AUTH LOGIN', [334]);
      await this.command(b64(user), [334], '*** (user)');
      await this.command(b64(pass), [235], '*** (password)');
    } else {
      throw new Error(`unsupported AUTH mechanism ${mech}`);
    }
  }

  // One message: MAIL FROM, RCPT TO each recipient, DATA with dot-stuffing.
  // `raw` is the whole message (headers, blank line, body); bare LF line
  // ends are turned into CRLF.  BODY=8BITMIME is declared when the message
  // has 8-bit bytes and the server offers it.  Returns the final reply (for
  // LMTP, the list of per-recipient replies).  A refused recipient throws.
  async send({ from, to, raw }) {
    const recipients = Array.isArray(to) ? to : [to];
    let data = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
    const eightBit = data.some((b) => b > 0x7f);
    const body = eightBit && this.has('8BITMIME') ? ' BODY=8BITMIME' : '';
    await this.command(`MAIL FROM:<${from}>${body}`, [250]);
    for (const rcpt of recipients) await this.command(`RCPT TO:<${rcpt}>`, [250, 251]);
    await this.command('DATA', [354]);
    this.transcript.push(`> (${data.length} bytes of message)`);
    this.conn.write(dotStuff(data));
    this.conn.write('.\r\n');
    if (!this.lmtp) return this.expect('DATA', [250]);
    const replies = [];
    for (let i = 0; i < recipients.length; i++) replies.push(await this.expect('DATA', [250]));
    return replies;
  }

  async quit() {
    try {
      await this.command('QUIT', [221]);
    } finally {
      this.conn.close();
    }
  }

  close() {
    this.conn.close();
  }
}

// CRLF line ends, a leading '.' doubled, and a final CRLF.
function dotStuff(data) {
  const text = data.toString('latin1').replace(/\r?\n/g, '\r\n');
  let out = text.replace(/(^|\r\n)\./g, '$1..');
  if (!out.endsWith('\r\n')) out += '\r\n';
  return Buffer.from(out, 'latin1');
}

// Connect, optionally authenticate, send one message, quit.
async function sendMail({ user, pass, mech, from, to, raw, ...opts }) {
  const c = await SmtpClient.connect(opts);
  try {
    if (user) await c.auth(user, pass, mech);
    const r = await c.send({ from, to, raw });
    await c.quit();
    return r;
  } catch (err) {
    c.close();
    throw err;
  }
}

module.exports = { SmtpClient, SmtpError, sendMail, dotStuff };
