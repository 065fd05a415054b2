// conn.js -- a buffered line/byte reader over a TCP or TLS socket, shared by
// the SMTP and IMAP test clients (smtp.js, imap.js).
//
//   const c = await Conn.open({ host, port, tls, ca, servername, timeoutMs })
//   await c.readLine()        // one line without its CRLF, as a Buffer
//   await c.readBytes(n)      // exactly n bytes (IMAP literals)
//   c.write(bufOrString)
//   await c.startTls(opts)    // upgrade in place (STARTTLS)
//   c.close()
//
// Every read has a deadline (timeoutMs, default 15 s): a server that stops
// answering fails the test instead of hanging it.  With `ca` (PEM) the
// server's certificate is verified against it (the test servers' self-signed
// certificate names localhost and 127.0.0.1); without it, not at all.
'use strict';
const net = require('node:net');
const tls = require('node:tls');

function tlsOptions(opts) {
  const o = { servername: opts.servername || 'localhost' };
  if (opts.ca) o.ca = opts.ca;
  else o.rejectUnauthorized = false;
  return o;
}

class Conn {
  constructor(socket, timeoutMs) {
    this.timeoutMs = timeoutMs;
    this.buf = Buffer.alloc(0);
    this.waiter = null; // resolve function of a read waiting for data
    this.error = null;
    this.ended = false;
    this._attach(socket);
  }

  // Connects; `tls: true` means TLS from the first byte (IMAPS, SMTPS).
  static open({ host = '127.0.0.1', port, tls: implicitTls = false, ca, servername, timeoutMs = 15000 }) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      const onConnect = () => {
        clearTimeout(timer);
        sock.removeListener('error', onError);
        resolve(new Conn(sock, timeoutMs));
      };
      const onError = (err) => { clearTimeout(timer); reject(err); };
      const sock = implicitTls
        ? tls.connect({ host, port, ...tlsOptions({ ca, servername }) }, onConnect)
        : net.connect({ host, port }, onConnect);
      sock.once('error', onError);
    });
  }

  _attach(socket) {
    this.socket = socket;
    socket.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this._wake();
    });
    socket.on('error', (err) => { this.error = err; this._wake(); });
    socket.on('close', () => { this.ended = true; this._wake(); });
  }

  _wake() {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  // Waits until `ready()` returns a value other than undefined, or fails.
  async _until(ready, what) {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const v = ready();
      if (v !== undefined) return v;
      if (this.error) throw this.error;
      if (this.ended) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${this.timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => { clearTimeout(t); resolve(); };
      });
    }
  }

  readLine() {
    return this._until(() => {
      const i = this.buf.indexOf('\r\n');
      if (i < 0) return undefined;
      const line = this.buf.subarray(0, i);
      this.buf = this.buf.subarray(i + 2);
      return line;
    }, 'a line');
  }

  readBytes(n) {
    return this._until(() => {
      if (this.buf.length < n) return undefined;
      const b = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
      return b;
    }, `${n} bytes`);
  }

  write(data) {
    this.socket.write(data);
  }

  // Replaces the plain socket by a TLS one over it (after the server said
  // go ahead to STARTTLS).  Anything buffered before is dropped, as RFC 3207
  // and RFC 3501 require.
  startTls({ ca, servername } = {}) {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('error');
    plain.removeAllListeners('close');
    this.buf = Buffer.alloc(0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { plain.destroy(); reject(new Error('TLS handshake timed out')); }, this.timeoutMs);
      const sock = tls.connect({ socket: plain, ...tlsOptions({ ca, servername }) }, () => {
        clearTimeout(timer);
        sock.removeListener('error', onError);
        this._attach(sock);
        resolve();
      });
      const onError = (err) => { clearTimeout(timer); reject(err); };
      sock.once('error', onError);
    });
  }

  get encrypted() {
    return this.socket instanceof tls.TLSSocket;
  }

  close() {
    this.socket.destroy();
  }
}

module.exports = { Conn };
