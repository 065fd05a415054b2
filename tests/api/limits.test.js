// Bad input gets a clear JSON error and changes nothing.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { Server, assertError } = require('./lib/harness');

let srv;
let admin;
before(async () => {
  srv = await new Server({ args: ['--max-body', '2048', '--max-header', '4096', '--max-json-depth', '8'] }).start();
  admin = await srv.loginAs('admin');
});
after(async () => { await srv.stop(); });

const count = () => srv.sql('SELECT COUNT(*) FROM teams') + '/' + srv.sql('SELECT COUNT(*) FROM audit_log');

// Raw exchange on one connection: returns everything the server sent
// until it closed or `ms` passed.
function raw(data, ms = 3000) {
  const { hostname, port } = new URL(srv.base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), hostname, () => s.write(data));
    let out = '';
    s.on('data', (d) => { out += d; });
    s.on('error', reject);
    s.on('close', () => resolve(out));
    setTimeout(() => { s.destroy(); resolve(out); }, ms);
  });
}

test('an oversized body is 413 and stores nothing', async () => {
  const before = count();
  const r = await admin.post('/api/v1/teams', { name: 'Big', description: 'x'.repeat(5000) });
  assertError(r, 413, 'payload_too_large');
  assert.equal(count(), before);
});

test('malformed JSON is 400 bad_json and stores nothing', async () => {
  const before = count();
  assertError(await admin.post('/api/v1/teams', '{"name": "Broken",'), 400, 'bad_json');
  assertError(await admin.post('/api/v1/teams', '[1,2]'), 400, 'invalid');
  assertError(await admin.post('/api/v1/teams', ''), 400, 'bad_json');
  assert.equal(count(), before);
});

test('JSON nested deeper than the limit is refused', async () => {
  const deep = '{"name":"Deep","description":' + '['.repeat(20) + ']'.repeat(20) + '}';
  assertError(await admin.post('/api/v1/teams', deep), 400, 'json_too_deep');
});

test('a body that is not JSON is 415', async () => {
  const r = await admin.post('/api/v1/teams', 'name=Form', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assertError(r, 415, 'unsupported_media_type');
});

test('wrong field types and unknown fields are 400 and name the field', async () => {
  const before = count();
  const r = await admin.post('/api/v1/teams', { name: 42 });
  assertError(r, 400, 'invalid');
  assert.match(r.body.error.message, /name/);
  const u = await admin.post('/api/v1/teams', { name: 'Ok', colour: 'blue' });
  assertError(u, 400, 'invalid');
  assert.match(u.body.error.message, /colour/);
  assert.equal(count(), before);
});

test('duplicates are 409 conflict', async () => {
  assert.equal((await admin.post('/api/v1/teams', { name: 'Unique team' })).status, 201);
  assertError(await admin.post('/api/v1/teams', { name: 'Unique team' }), 409, 'conflict');
});

test('unknown routes are 404 JSON, known paths with another method are 405', async () => {
  assertError(await admin.get('/api/v1/nothing-here'), 404, 'not_found');
  const r = await admin.req('DELETE', '/api/v1/me');
  assertError(r, 405, 'method_not_allowed');
  assert.match(r.headers.get('allow'), /GET/);
  assertError(await admin.get('/api/v1/users/not-a-number'), 404, 'not_found');
  assertError(await admin.get('/api/v1/users/999999999'), 404, 'not_found');
});

test('a request head over the limit is 431', async () => {
  const res = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(6000)}\r\n\r\n`);
  assert.match(res, /^HTTP\/1\.1 431 /);
  assert.match(res, /"code":"/);
});

test('garbage on the wire is 400 and the connection closes', async () => {
  const res = await raw('THIS IS NOT HTTP\r\n\r\n');
  assert.match(res, /^HTTP\/1\.1 400 /);
});

test('keep-alive serves pipelined requests in order', async () => {
  const one = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
  const last = 'GET /api/v1/nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const res = await raw(one + one + last);
  const statuses = [...res.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  assert.deepEqual(statuses, ['200', '200', '404']);
});

test('every response carries a request id', async () => {
  const r = await admin.get('/api/v1/me');
  assert.match(r.headers.get('x-request-id'), /^[A-Za-z0-9-]{8,}$/);
});
