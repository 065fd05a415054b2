// imap.js -- a minimal IMAP4rev1 client (RFC 3501) for the email tests:
// log in, select a mailbox, search and fetch by UID, set flags, append a
// raw message.  Plain, STARTTLS or implicit TLS.
//
//   const c = await ImapClient.connect({ port, ca })
//   await c.login('support@kefu.test', 'support-pass-2026')
//   const box = await c.select('INBOX')          // {exists, uidValidity, uidNext, ...}
//   const uids = await c.uidSearch('HEADER Message-ID "<x@kefu.test>"')
//   const [m] = await c.uidFetch(uids[0], '(UID FLAGS BODY.PEEK[])')
//   m.uid, m.flags, m['BODY[]']                 // Buffer: the raw message
//   await c.uidStore(uids[0], '+FLAGS', ['\\Seen'])
//   await c.logout()
//
// command() is the general form: it sends one tagged command, answers
// continuation requests for literals, and resolves to
// {status, text, untagged}, where each untagged response is
// {line (text, literals shown as {n}), tokens (parsed, literals as
// Buffers)}.  A NO or BAD throws an ImapError.
'use strict';
const { Conn } = require('./conn');

class ImapError extends Error {
  constructor(command, status, text) {
    super(`IMAP ${command} -> ${status} ${text}`);
    this.status = status;
    this.text = text;
  }
}

// An IMAP quoted string (RFC 3501 section 4.3); 8-bit text goes as a literal.
function quote(s) {
  return `"${String(s).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// Parses one response (its text segments and literals) into tokens:
// atoms and numbers as strings, quoted strings as strings, literals as
// Buffers, NIL as null, parenthesized lists as arrays.  A bracketed part
// such as BODY[HEADER.FIELDS (SUBJECT)] or [UIDVALIDITY 7] stays one atom.
function tokenize(segments) {
  const root = [];
  const stack = [root];
  const top = () => stack[stack.length - 1];
  for (const seg of segments) {
    const s = seg.text;
    let i = 0;
    while (i < s.length) {
      const ch = s[i];
      if (ch === ' ') { i++; continue; }
      if (ch === '(') { const l = []; top().push(l); stack.push(l); i++; continue; }
      if (ch === ')') { if (stack.length > 1) stack.pop(); i++; continue; }
      if (ch === '"') {
        let out = '';
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\') i++;
          out += s[i++];
        }
        i++;
        top().push(out);
        continue;
      }
      if (ch === '{' && /^\{\d+\+?\}$/.test(s.slice(i)) && seg.literal) {
        top().push(seg.literal);
        i = s.length;
        continue;
      }
      let j = i;
      let depth = 0;
      while (j < s.length) {
        const c = s[j];
        if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (depth === 0 && (c === ' ' || c === '(' || c === ')')) break;
        j++;
      }
      const atom = s.slice(i, j);
      top().push(atom.toUpperCase() === 'NIL' ? null : atom);
      i = j;
    }
  }
  return root;
}

class ImapClient {
  constructor(conn, opts) {
    this.conn = conn;
    this.opts = opts;
    this.seq = 0;
    this.capabilities = new Set();
    this.transcript = []; // lines, '> ' sent and '< ' received (no passwords, no literals)
  }

  // Connects and reads the greeting.  Options: host (127.0.0.1), port,
  // tls (implicit TLS), starttls, ca (PEM to verify the server with),
  // timeoutMs.
  static async connect(opts) {
    const conn = await Conn.open(opts);
    const c = new ImapClient(conn, opts);
    try {
      const greeting = await c._response();
      if (!/^\* (OK|PREAUTH)\b/i.test(greeting.line))
        throw new Error(`IMAP greeting: ${greeting.line}`);
      c._noteCapabilities(greeting.line);
      if (opts.starttls) {
        await c.command('STARTTLS');
        await conn.startTls(opts);
        await c.capability();
      }
      return c;
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  // One whole response: a line, and for each literal announced at its end
  // ({n}), the n bytes and the line that goes on after them.
  async _response() {
    const segments = [];
    for (;;) {
      const text = (await this.conn.readLine()).toString('utf8');
      const m = /\{(\d+)\+?\}$/.exec(text);
      if (!m) {
        segments.push({ text });
        break;
      }
      const literal = await this.conn.readBytes(Number(m[1]));
      segments.push({ text, literal });
    }
    const line = segments.map((s) => s.text).join('');
    this.transcript.push(`< ${line}`);
    return { line, segments };
  }

  _noteCapabilities(line) {
    const m = /\[CAPABILITY ([^\]]*)\]/i.exec(line) || /^\* CAPABILITY (.*)$/i.exec(line);
    if (m) this.capabilities = new Set(m[1].toUpperCase().split(/\s+/));
  }

  // Sends one command.  `args` are pieces joined by spaces: strings as they
  // are (quote() them where needed), Buffers as literals (the server's "+"
  // is awaited before each).  `shown` replaces the command in the transcript.
  async command(verb, args = [], shown) {
    const tag = `K${++this.seq}`;
    const pieces = [`${tag} ${verb}`, ...args];
    this.transcript.push(`> ${shown ? `${tag} ${shown}` : pieces.map((p) => (Buffer.isBuffer(p) ? `{${p.length}}` : p)).join(' ')}`);
    let pending = '';
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i];
      const sep = i === 0 ? '' : ' ';
      if (!Buffer.isBuffer(p)) { pending += sep + p; continue; }
      this.conn.write(`${pending}${sep}{${p.length}}\r\n`);
      pending = '';
      // Wait for the continuation; untagged responses may come first.
      for (;;) {
        const r = await this._response();
        if (r.line.startsWith('+')) break;
        if (r.line.startsWith(`${tag} `)) throw new ImapError(verb, r.line.split(' ')[1], r.line);
      }
      this.conn.write(p);
    }
    this.conn.write(`${pending}\r\n`);
    const untagged = [];
    for (;;) {
      const r = await this._response();
      if (r.line.startsWith('* ')) {
        this._noteCapabilities(r.line);
        untagged.push({ line: r.line, tokens: tokenize(r.segments).slice(1) });
        continue;
      }
      if (r.line.startsWith('+')) continue; // not expected here; ignore
      const m = /^(\S+) (OK|NO|BAD)\b ?(.*)$/i.exec(r.line);
      if (!m || m[1] !== tag) throw new Error(`unexpected IMAP line: ${r.line}`);
      const status = m[2].toUpperCase();
      this._noteCapabilities(r.line);
      if (status !== 'OK') throw new ImapError(verb, status, m[3]);
      return { status, text: m[3], untagged };
    }
  }

  async capability() {
    await this.command('CAPABILITY');
    return this.capabilities;
  }

  login(user, pass) {
    return this.command('LOGIN', [quote(user), quote(pass)], `LOGIN ${quote(user)} ***`);
  }

  // SELECT (or EXAMINE with readOnly): {exists, recent, uidValidity,
  // uidNext, flags, readOnly}.
  async select(mailbox = 'INBOX', { readOnly = false } = {}) {
    const r = await this.command(readOnly ? 'EXAMINE' : 'SELECT', [quote(mailbox)]);
    const box = { readOnly: /\[READ-ONLY\]/i.test(r.text) };
    for (const u of r.untagged) {
      let m;
      if ((m = /^\* (\d+) EXISTS/i.exec(u.line))) box.exists = Number(m[1]);
      else if ((m = /^\* (\d+) RECENT/i.exec(u.line))) box.recent = Number(m[1]);
      else if ((m = /\[UIDVALIDITY (\d+)\]/i.exec(u.line))) box.uidValidity = Number(m[1]);
      else if ((m = /\[UIDNEXT (\d+)\]/i.exec(u.line))) box.uidNext = Number(m[1]);
      else if (/^\* FLAGS /i.test(u.line)) box.flags = u.tokens[1];
    }
    return box;
  }

  // UID SEARCH with criteria as IMAP text, e.g. 'UNSEEN' or
  // 'HEADER Message-ID "<a@b>"'.  Resolves to the UIDs, as numbers.
  async uidSearch(criteria) {
    const r = await this.command('UID SEARCH', [criteria]);
    const uids = [];
    for (const u of r.untagged) {
      if (/^\* SEARCH\b/i.test(u.line)) uids.push(...u.tokens.slice(1).map(Number));
    }
    return uids;
  }

  // UID FETCH: one object per message, its data items by name in capitals
  // (UID and RFC822.SIZE as numbers, FLAGS as an array of strings,
  // BODY[...] as a Buffer), e.g. uidFetch('3', '(UID FLAGS BODY.PEEK[])').
  async uidFetch(uidSet, items) {
    const r = await this.command('UID FETCH', [String(uidSet), items]);
    const out = [];
    for (const u of r.untagged) {
      if (u.tokens[1] !== 'FETCH' && String(u.tokens[1]).toUpperCase() !== 'FETCH') continue;
      const list = u.tokens[2] || [];
      const msg = { seq: Number(u.tokens[0]) };
      for (let i = 0; i + 1 < list.length; i += 2) {
        const key = String(list[i]).toUpperCase();
        let val = list[i + 1];
        if (key === 'UID' || key === 'RFC822.SIZE') val = Number(val);
        else if (typeof val === 'string' && key.startsWith('BODY[')) val = Buffer.from(val, 'utf8');
        msg[key] = val;
      }
      if (msg.UID !== undefined) msg.uid = msg.UID;
      if (msg.FLAGS !== undefined) msg.flags = msg.FLAGS;
      out.push(msg);
    }
    return out;
  }

  // UID STORE, e.g. uidStore(7, '+FLAGS', ['\\Seen']).  Resolves to the
  // messages' new flags as the server reports them (by UID).
  async uidStore(uidSet, action, flags) {
    const r = await this.command('UID STORE', [String(uidSet), action, `(${flags.join(' ')})`]);
    const result = new Map();
    for (const u of r.untagged) {
      const list = u.tokens[2];
      if (String(u.tokens[1]).toUpperCase() !== 'FETCH' || !Array.isArray(list)) continue;
      const m = {};
      for (let i = 0; i + 1 < list.length; i += 2) m[String(list[i]).toUpperCase()] = list[i + 1];
      if (m.UID !== undefined) result.set(Number(m.UID), m.FLAGS);
    }
    return result;
  }

  // APPEND a raw message (Buffer or string) to a mailbox, with flags
  // (e.g. ['\\Seen']).  Resolves to the new UID when the server says
  // (UIDPLUS), else undefined.
  async append(mailbox, raw, flags = []) {
    const data = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
    const args = [quote(mailbox)];
    if (flags.length) args.push(`(${flags.join(' ')})`);
    args.push(data);
    const r = await this.command('APPEND', args);
    const m = /\[APPENDUID \d+ (\d+)\]/i.exec(r.text);
    return m ? Number(m[1]) : undefined;
  }

  async logout() {
    try {
      await this.command('LOGOUT');
    } finally {
      this.conn.close();
    }
  }

  close() {
    this.conn.close();
  }
}

module.exports = { ImapClient, ImapError, quote, tokenize };
