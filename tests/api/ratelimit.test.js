// Login attempts per IP are rate limited (429 with Retry-After).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, assertError } = require('./lib/harness');

let srv;
before(async () => { srv = await new Server({ args: ['--login-rate', '3'] }).start(); });
after(async () => { await srv.stop(); });

test('the fourth login attempt in a minute from one address is refused', async () => {
  const c = srv.client();
  for (let i = 0; i < 3; i++)
    assertError(await c.login('someone@example.com', 'wrong-password'), 401, 'invalid_credentials');
  const r = await c.login(srv.logins.admin.email, srv.logins.admin.password);
  assertError(r, 429, 'rate_limited');
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
});
