// ws.js -- a small WebSocket client for the tests, on a raw TCP socket.
//
// Written here rather than taken from npm so the tests can also misbehave
// on purpose: unmasked or malformed frames, invalid UTF-8, oversize
// messages, a client that stops reading.  It masks what it sends (as every
// real client must), answers pings, and collects every text message the
// server sends, parsed as JSON.
'use strict';
const net = require('node:net');
const crypto = require('node:crypto');

// One frame: opcode, payload (Buffer or string), options {fin, mask, rsv}.
function frame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0 } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = data.length;
  const head = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 255);
  else {
    head.push(m | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = crypto.randomBytes(4);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = data[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(head), key, body]);
}

class WsClient {
  // Resolves once the server answered 101; rejects with {status, body}
  // (the HTTP answer) otherwise.
  static connect(base, path, { cookie, headers = {} } = {}) {
    const u = new URL(base);
    const key = crypto.randomBytes(16).toString('base64');
    const lines = [`GET ${path} HTTP/1.1`, `Host: ${u.host}`, 'Upgrade: websocket',
      'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13'];
    if (cookie) lines.push(`Cookie: ${cookie}`);
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    const c = new WsClient();
    c.sock = net.connect(Number(u.port), u.hostname);
    c.sock.on('error', () => {});
    return new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (d) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        c.sock.off('data', onData);
        const text = head.slice(0, end).toString();
        const status = Number(text.split(' ')[1]);
        if (status !== 101) {
          const m = text.match(/content-length: *(\d+)/i);
          const want = m ? Number(m[1]) : 0;
          let body = head.slice(end + 4);
          const finish = () => {
            c.sock.destroy();
            let parsed = body.toString();
            try { parsed = JSON.parse(parsed); } catch (_) { /* not JSON */ }
            reject(Object.assign(new Error(`HTTP ${status}`), { status, body: parsed }));
          };
          if (body.length >= want) return finish();
          c.sock.on('data', (x) => { body = Buffer.concat([body, x]); if (body.length >= want) finish(); });
          return undefined;
        }
        const accept = crypto.createHash('sha1')
          .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        if (!text.includes(`Sec-WebSocket-Accept: ${accept}`))
          return reject(new Error(`bad Sec-WebSocket-Accept in ${text}`));
        c.start(head.slice(end + 4));
        resolve(c);
        return undefined;
      };
      c.sock.on('data', onData);
      c.sock.on('close', () => reject(new Error('closed before the handshake')));
      c.sock.write(lines.join('\r\n') + '\r\n\r\n');
    });
  }

  constructor() {
    this.messages = [];   // every JSON text message, in order
    this.waiters = [];
    this.buf = Buffer.alloc(0);
    this.closeCode = null;
    this.closed = new Promise((r) => { this.onClosed = r; });
  }

  start(rest) {
    this.sock.on('data', (d) => this.feed(d));
    this.sock.on('close', () => this.onClosed({ code: this.closeCode ?? 1006 }));
    if (rest.length) this.feed(rest);
  }

  feed(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const op = this.buf[0] & 15;
      let len = this.buf[1] & 127, off = 2;
      if (len === 126) { if (this.buf.length < 4) return; len = this.buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this.buf.length < 10) return; len = Number(this.buf.readBigUInt64BE(2)); off = 10; }
      if (this.buf.length < off + len) return;
      const payload = this.buf.slice(off, off + len);
      this.buf = this.buf.slice(off + len);
      this.onFrame(op, payload);
    }
  }

  onFrame(op, payload) {
    if (op === 1) {
      const m = JSON.parse(payload.toString('utf8'));
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => !w(m));
    } else if (op === 9) {
      this.sock.write(frame(10, payload));
    } else if (op === 8) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      if (!this.sentClose) this.sock.write(frame(8, payload.slice(0, 2)));
      this.sock.end();
    }
  }

  send(obj) { this.sock.write(frame(1, typeof obj === 'string' ? obj : JSON.stringify(obj))); }
  sendRaw(b) { this.sock.write(b); }

  close(code = 1000) {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    this.sentClose = true;
    this.sock.write(frame(8, p));
    return this.closed;
  }

  destroy() { this.sock.destroy(); }

  // The first message (already received or coming) that matches pred.
  waitFor(pred, ms = 10000, what = 'a message') {
    const have = this.messages.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ` +
        JSON.stringify(this.messages.slice(-5)))), ms);
      this.waiters.push((m) => { if (!pred(m)) return false; clearTimeout(t); resolve(m); return true; });
    });
  }

  // Events (messages with an id), in order.
  events() { return this.messages.filter((m) => typeof m.id === 'number'); }
  lastId() { const e = this.events(); return e.length ? e[e.length - 1].id : 0; }
}

module.exports = { WsClient, frame };
