// /healthz, /readyz and /metrics; graceful shutdown; migrations from empty.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, kefu, ENGINE } = require('./lib/harness');

let srv;
before(async () => { srv = await new Server().start(); });
after(async () => { await srv.stop(); });

test('healthz and readyz answer without login', async () => {
  const c = srv.client();
  const h = await c.get('/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.body.status, 'ok');
  const r = await c.get('/readyz');
  assert.equal(r.status, 200);
  assert.equal(r.body.database, ENGINE === 'pg' ? 'postgres' : 'sqlite');
});

test('metrics count requests by route and status', async () => {
  const c = srv.client();
  for (let i = 0; i < 3; i++) await c.get('/healthz');
  await c.get('/api/v1/me');
  const m = await c.get('/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type'), /^text\/plain/);
  const line = m.body.split('\n').find((l) => l.startsWith('kefu_http_requests_total{') &&
    l.includes('route="/healthz"') && l.includes('status="200"'));
  assert.ok(line, m.body);
  assert.ok(Number(line.split(' ').pop()) >= 3);
  assert.ok(m.body.split('\n').some((l) => l.includes('route="/api/v1/me"') && l.includes('status="401"')));
  assert.match(m.body, /kefu_http_request_duration_seconds_bucket\{route="\/healthz",le="\+Inf"\} \d+/);
  assert.match(m.body, /kefu_http_connections_open \d+/);
  assert.match(m.body, /kefu_http_pool_queue_depth \d+/);
});

test('kefu migrate on an empty database applies every migration once', async () => {
  const fresh = new Server();
  try {
    const first = await fresh.cli(['migrate']);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /schema version \d+/);
    const tables = ENGINE === 'pg'
      ? fresh.sql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")
      : fresh.sql("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)");
    for (const t of ['accounts', 'users', 'roles', 'teams', 'team_members', 'sessions', 'api_tokens', 'audit_log', 'audit_heads', 'schema_migrations'])
      assert.ok(tables.split(',').includes(t), `${t} in ${tables}`);
    const applied = fresh.sql('SELECT COUNT(*) FROM schema_migrations');
    const again = await fresh.cli(['migrate']);
    assert.equal(again.status, 0);
    assert.equal(fresh.sql('SELECT COUNT(*) FROM schema_migrations'), applied);
  } finally {
    await fresh.stop();
  }
});

test('the CLI documents every setting and rejects unknown ones', async () => {
  const help = await kefu(['serve', '--help']);
  assert.equal(help.status, 0);
  for (const s of ['--listen', 'KEFU_LISTEN', '--data', 'KEFU_DATA', '--database', 'KEFU_DATABASE', '--workers', '--max-body'])
    assert.ok(help.stdout.includes(s), s);
  assert.match((await kefu(['version'])).stdout, /^kefu \d+\.\d+\.\d+/);
  const bad = await kefu(['serve', '--no-such-setting', '1']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown option --no-such-setting/);
});

test('a bad database URL is a clear error', async () => {
  const r = await kefu(['migrate', '--database', 'mysql://nope']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unsupported database URL/);
});

test('SIGTERM drains an in-flight request before exiting', async () => {
  const s = await new Server().start();
  const c = await s.loginAs('admin');
  // start a slow request (password hashing) and stop while it runs
  const pending = c.post('/api/v1/users', { email: 'drain@demo.kefu.local', name: 'Drain', role: 'agent', password: 'drain-password' });
  await new Promise((r) => setTimeout(r, 20));
  s.proc.kill('SIGTERM');
  const res = await pending;
  assert.equal(res.status, 201);
  const { code } = await s.exited;
  assert.equal(code, 0);
  await s.stop();
});
