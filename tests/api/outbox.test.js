// Nothing outbound is lost: webhook deliveries that pile up while the
// receiver refuses them survive a kill -9 of the server -- including the
// ones whose request was in flight -- and arrive exactly once, signed, after
// the restart.  A delivered item is never sent again.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Server, Receiver, kefuSignatureOk, until } = require('./lib/harness');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Longer than a restart takes here (a few seconds under the sanitizers), so
// the leases the killed server left are still running when it is back.
const LEASE_S = 8;

let srv;
let rcv;
before(async () => {
  rcv = await new Receiver().start();
  srv = await new Server({ args: ['--delivery-lease', String(LEASE_S), '--delivery-timeout', '2',
    '--delivery-backoff', '1', '--delivery-max-attempts', '100'] }).start();
});
after(async () => {
  await srv.stop();
  await rcv.close();
});

const deliveryId = (r) => Number(r.headers['x-kefu-delivery']);

test('deliveries survive kill -9 and arrive exactly once', async () => {
  const admin = await srv.loginAs('admin');
  const w = (await admin.post('/api/v1/webhooks', { url: `${rcv.url}/restart`, events: ['ticket.created'] })).body;
  assert.ok(w.secret);
  // Refused, slowly: a request is in flight for 700 ms.
  let accepting = false;
  rcv.delayMs = 700;
  rcv.status = () => (accepting ? 200 : 503);

  const N = 10;
  for (let i = 0; i < N; i++) {
    const r = await admin.post('/api/v1/tickets', {
      subject: `重启测试 Restart ${i}`,
      customer: { name: '赵六', email: `zhao.${i}.${Date.now()}@example.cn` },
      message: { text: `message ${i}` },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const seen = () => new Set(rcv.to('/restart').map(deliveryId));
  await until(() => seen().size === N, 15000, 'every item to be tried once');

  // Kill the moment a request arrives: its item is certainly leased.
  const count = rcv.requests.length;
  await until(() => rcv.requests.length > count, 5000, 'a request in flight');
  await srv.kill();
  assert.equal(srv.sql("SELECT COUNT(*) FROM outbox WHERE status = 'delivered'"), '0');
  const leased = srv.sql(`SELECT id || ' ' || locked_until FROM outbox WHERE kind = 'webhook' AND status = 'pending' AND locked_until > ${Date.now()}`)
    .split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));
  assert.ok(leased.length >= 1, 'the killed server left leased items');
  assert.equal(rcv.to('/restart').filter((r) => r.status < 300).length, 0);

  accepting = true;
  rcv.delayMs = 0;
  await srv.start();
  const accepted = () => rcv.to('/restart').filter((r) => r.status < 300);
  await until(() => new Set(accepted().map(deliveryId)).size === N, 20000, 'every item to arrive');
  // Long enough for a duplicate to show: a backoff and then some.
  await sleep(2000);

  const ids = accepted().map(deliveryId);
  assert.equal(ids.length, N, `each item accepted exactly once: ${ids.sort()}`);
  assert.equal(new Set(ids).size, N);
  for (const r of rcv.to('/restart')) {
    assert.ok(kefuSignatureOk(r, w.secret), `signature of delivery ${deliveryId(r)}`);
    assert.equal(String(r.json.delivery_id), r.headers['x-kefu-delivery']);
    assert.equal(r.json.event, 'ticket.created');
  }
  // An item that was leased when the server died waited for its lease.
  for (const [id, lockedUntil] of leased) {
    const ok = accepted().find((r) => deliveryId(r) === id);
    assert.ok(ok.at >= lockedUntil - 50, `delivery ${id} sent ${lockedUntil - ok.at} ms before its lease ended`);
  }
  assert.equal(srv.sql("SELECT COUNT(*) FROM outbox WHERE kind = 'webhook' AND status = 'delivered'"), String(N));
  assert.equal(srv.sql('SELECT COUNT(DISTINCT outbox_id) FROM outbox_attempts WHERE http_status = 200'), String(N));

  // The log shows the refused attempts before the one that got through.
  const again = await srv.loginAs('admin');
  const log = (await again.get(`/api/v1/webhooks/${w.id}/deliveries?limit=${N}`)).body.items;
  assert.equal(log.length, N);
  for (const d of log) {
    assert.equal(d.status, 'delivered');
    assert.equal(d.attempts[0].http_status, 200);
    assert.ok(d.attempts.slice(1).every((a) => a.http_status === 503 || a.http_status === null));
  }

  // Delivered items are never sent again, not even after another crash.
  const total = rcv.requests.length;
  await srv.restart();
  await sleep(2000);
  assert.equal(rcv.requests.length, total);
});
