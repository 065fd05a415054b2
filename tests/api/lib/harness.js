// harness.js -- start the real kefu binary for an API test and talk HTTP to it.
//
// Each test file gets its own server on a free port with a fresh database:
// a temporary SQLite file, or a fresh database in the throwaway PostgreSQL
// server that scripts/pg-test.sh started (KEFU_TEST_ENGINE=pg).  The demo
// data is loaded first, so the demo logins are available.
'use strict';
const { spawn, execFileSync, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');

const BIN = process.env.KEFU_BIN || path.resolve(__dirname, '../../../build/kefu');
const ENGINE = process.env.KEFU_TEST_ENGINE || 'sqlite';

function pgAdminUrl() {
  const envFile = process.env.KEFU_TEST_PG_ENV;
  if (!envFile || !fs.existsSync(envFile))
    throw new Error(`KEFU_TEST_ENGINE=pg but no PostgreSQL env file (${envFile})`);
  const line = fs.readFileSync(envFile, 'utf8').split('\n')
    .find((l) => l.startsWith('KEFU_TEST_PG_URL='));
  return line.slice('KEFU_TEST_PG_URL='.length).trim();
}

// A new empty database URL for this engine.
function freshDatabase(dataDir) {
  if (ENGINE === 'sqlite') return `sqlite://${dataDir}/kefu.db`;
  const admin = pgAdminUrl();
  const name = `kefu_api_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  execFileSync('psql', [admin, '-q', '-c', `CREATE DATABASE ${name}`]);
  return { url: admin.replace(/\/[^/]*$/, `/${name}`), name, admin };
}

function dropDatabase(db) {
  if (typeof db === 'string') return;
  spawnSync('psql', [db.admin, '-q', '-c', `DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`]);
}

// Runs a kefu command to completion: resolves to {status, stdout, stderr}.
// input (optional, string or Buffer) is written to its stdin.  Asynchronous
// on purpose: a spawnSync blocks Node's event loop, so a pooled keep-alive
// connection the server closed as idle meanwhile still looks open and the
// next request is sent into a closed socket.  With the loop running, the
// client's own idle timer (4 s) retires the connection long before the
// server's (75 s).
function run(bin, args, env = {}, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (status) => resolve({
      status,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
    }));
    // A command that exits without reading its input closes the pipe first.
    child.stdin.on('error', () => {});
    child.stdin.end(input === undefined ? undefined : input);
  });
}

function kefu(args, env = {}, input) {
  return run(BIN, args, env, input);
}

class Server {
  constructor(opts = {}) {
    this.opts = opts;
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kefu-api-'));
    this.db = freshDatabase(this.dataDir);
    this.dbUrl = typeof this.db === 'string' ? this.db : this.db.url;
    this.logins = {};
  }

  // Arguments every command needs to find this server's data.
  args() {
    return ['--data', this.dataDir, '--database', this.dbUrl];
  }

  cli(args, env, input) {
    return kefu([...args, ...this.args()], env, input);
  }

  async start() {
    const demo = await this.cli(['demo', '--tickets', String(this.opts.demoTickets || 0), '--customers', String(this.opts.demoCustomers || 0)]);
    assert.equal(demo.status, 0, `kefu demo failed: ${demo.stderr}`);
    for (const line of demo.stdout.split('\n')) {
      const m = line.match(/^login: (\S+) (\S+) (\S+)$/);
      if (m) this.logins[m[3]] = this.logins[m[3]] || { email: m[1], password: m[2] };
      const k = line.match(/^chat widget key: (\S+)$/);
      if (k) this.widgetKey = k[1];
    }
    const extra = this.opts.args || [];
    this.proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--access-log', 'off',
      '--log-level', 'warn', ...this.args(), ...extra],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(this.opts.env || {}) } });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
    this.base = await new Promise((resolve, reject) => {
      let out = '';
      // Generous: under the sanitizers on a loaded 2-core machine a start
      // has taken 20 s.  A server that does not come up is killed, so the
      // test fails instead of hanging.
      const timer = setTimeout(() => {
        this.proc.kill('SIGKILL');
        reject(new Error(`kefu did not start: ${this.stderr}`));
      }, 90000);
      this.proc.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/listening on (http:\/\/\S+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      this.exited.then(({ code }) => reject(new Error(`kefu exited ${code}: ${this.stderr}`)));
    });
    return this;
  }

  // SIGTERM, then the process must drain and exit 0 (under the sanitizers
  // that also means no leak was found).
  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      // A server that does not drain in 30 s is a failure, not a hang.
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 30000);
      const { code, sig } = await this.exited;
      clearTimeout(timer);
      assert.equal(code, 0, `kefu exited with ${code ?? sig}: ${this.stderr}`);
    }
    dropDatabase(this.db);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  // SIGKILL: the process dies at once, mid-work -- no drain, no cleanup.
  async kill() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }

  // Kill the process and start a new one on the same data directory and
  // database (what a crash and a supervisor's restart look like).  The new
  // process listens on a new port: make new clients (sessions survive).
  async restart() {
    await this.kill();
    return this.start();
  }

  client() {
    return new Client(this.base);
  }

  // Another kefu process on the same database and data directory: a
  // second node of a cluster (meaningful on PostgreSQL).  Resolves to
  // {base, stop()}.
  async startNode() {
    const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--access-log', 'off',
      '--log-level', 'warn', ...this.args()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
    const base = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`node did not start: ${err}`)); }, 90000);
      proc.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/listening on (http:\/\/\S+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      exited.then(({ code }) => reject(new Error(`node exited ${code}: ${err}`)));
    });
    return {
      base,
      client: () => new Client(base),
      async stop() {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 30000);
        const { code, sig } = await exited;
        clearTimeout(timer);
        assert.equal(code, 0, `second node exited with ${code ?? sig}: ${err}`);
      },
    };
  }

  async loginAs(role) {
    const c = this.client();
    const l = this.logins[role];
    const r = await c.login(l.email, l.password);
    assert.equal(r.status, 200, `login as ${role}: ${JSON.stringify(r.body)}`);
    return c;
  }

  // Run SQL against this server's database (for checks and tampering).
  sql(statement) {
    if (ENGINE === 'sqlite')
      return execFileSync('sqlite3', [`${this.dataDir}/kefu.db`, statement], { encoding: 'utf8' }).trim();
    return execFileSync('psql', [this.dbUrl, '-At', '-q', '-c', statement], { encoding: 'utf8' }).trim();
  }
}

class Client {
  constructor(base) {
    this.base = base;
    this.cookie = null;
    this.csrf = null;
    this.token = null;
  }

  async login(email, password, extra = {}) {
    const r = await this.req('POST', '/api/v1/auth/login', { email, password, ...extra });
    if (r.status === 200) {
      this.csrf = r.body.csrf_token;
    }
    return r;
  }

  // One request.  body: object (sent as JSON), string/Buffer (raw) or
  // undefined.  Returns {status, headers, body (parsed JSON or text)}.
  async req(method, urlPath, body, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    if (this.cookie && !opts.noCookie) headers.cookie = this.cookie;
    if (this.csrf && !opts.noCsrf && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload;
    if (body !== undefined && (typeof body === 'string' || Buffer.isBuffer(body))) {
      payload = body;
      if (!headers['content-type']) headers['content-type'] = 'application/json';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    let res;
    try {
      res = await fetch(this.base + urlPath, { method, headers, body: payload });
    } catch (err) {
      // A pooled keep-alive connection the server closed as idle, picked up
      // before Node saw the close (the event loop was blocked, e.g. by a
      // spawnSync): what any HTTP client does, retry a safe request once.
      if (method !== 'GET' && method !== 'HEAD') throw err;
      res = await fetch(this.base + urlPath, { method, headers, body: payload });
    }
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) {
      const m = setCookie.match(/kefu_session=([^;]*)/);
      if (m) this.cookie = m[1] ? `kefu_session=${m[1]}` : null;
    }
    const text = await res.text();
    let parsed = text;
    if ((res.headers.get('content-type') || '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed };
  }

  get(p, o) { return this.req('GET', p, undefined, o); }
  post(p, b, o) { return this.req('POST', p, b, o); }
  patch(p, b, o) { return this.req('PATCH', p, b, o); }
  put(p, b, o) { return this.req('PUT', p, b, o); }
  del(p, o) { return this.req('DELETE', p, undefined, o); }
}

// Asserts the JSON error shape and code.
function assertError(r, status, code) {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status} ${JSON.stringify(r.body)}`);
  assert.equal(typeof r.body, 'object', `error body must be JSON: ${r.body}`);
  assert.equal(typeof r.body.error.message, 'string');
  if (code) assert.equal(r.body.error.code, code);
}

// A local HTTP endpoint that records every request it gets (for outgoing
// webhooks and channel replies).  `status` is a number or a function
// (request, body) -> number, decided when the request arrives; the answer
// is sent after `delayMs`.  Each record: {method, path, headers, body
// (Buffer), text, json (parsed or null), status, at}.
class Receiver {
  constructor() {
    this.requests = [];
    this.status = 200;
    this.delayMs = 0;
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (d) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = typeof this.status === 'function' ? this.status(req, body) : this.status;
        let json = null;
        try { json = JSON.parse(body.toString('utf8')); } catch { /* not JSON */ }
        this.requests.push({ method: req.method, path: req.url, headers: req.headers, body,
          text: body.toString('utf8'), json, status, at: Date.now() });
        setTimeout(() => {
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end(status < 300 ? 'ok' : 'not now');
        }, this.delayMs);
      });
    });
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  // The requests sent to one path.
  to(p) {
    return this.requests.filter((r) => r.path === p);
  }

  async close() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

// True when a recorded request carries a valid Kefu signature for secret:
// X-Kefu-Signature = "sha256=" + hex HMAC-SHA256("<X-Kefu-Timestamp>.<body>").
function kefuSignatureOk(rec, secret) {
  const ts = rec.headers['x-kefu-timestamp'];
  if (!/^[0-9]+$/.test(ts || '')) return false;
  const mac = crypto.createHmac('sha256', secret).update(`${ts}.`).update(rec.body).digest('hex');
  return rec.headers['x-kefu-signature'] === `sha256=${mac}`;
}

// Polls cond() (may be async) every 50 ms until it is truthy; fails after ms.
async function until(cond, ms = 10000, what = 'the condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

module.exports = { Server, Client, kefu, run, assertError, ENGINE, BIN, Receiver, kefuSignatureOk, until };
