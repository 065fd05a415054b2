// Attachments: multipart uploads (several files, Chinese file names, raw
// UTF-8 and RFC 5987), content-addressed storage with deduplication,
// sniffed types and the executable policy, attaching to replies, download
// headers (disposition, nosniff, ETag/304), who may download, and the
// upload size limit of the HTTP layer.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { Server, assertError } = require('./lib/harness');

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const TEXT = Buffer.from('发票号码 No. 2024-0001\n金额: ¥128.00\n', 'utf8');

let srv;
let admin;
let agent;
let teams;
before(async () => {
  srv = await new Server().start();
  admin = await srv.loginAs('admin');
  agent = await srv.loginAs('agent');
  teams = Object.fromEntries((await admin.get('/api/v1/teams')).body.items.map((t) => [t.name, t]));
});
after(async () => { await srv.stop(); });

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

function parse(res, text) {
  return (res.headers.get('content-type') || '').includes('json') && text ? JSON.parse(text) : text;
}

function authHeaders(c, extra = {}) {
  const h = { ...extra };
  if (c.cookie) h.cookie = c.cookie;
  if (c.csrf) h['x-csrf-token'] = c.csrf;
  return h;
}

// POST /api/v1/attachments with a FormData (fetch writes the multipart body
// and its boundary, as a browser does) or a raw body and Content-Type.
async function upload(c, body, contentType) {
  const headers = authHeaders(c, contentType ? { 'content-type': contentType } : {});
  const res = await fetch(`${c.base}/api/v1/attachments`, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, body: parse(res, await res.text()) };
}

function form(...files) {
  const f = new FormData();
  for (const [bytes, name, type] of files)
    f.append('file', new Blob([bytes], { type: type || 'application/octet-stream' }), name);
  return f;
}

// GET (or HEAD) an attachment; the body as bytes.
async function download(c, url, headers = {}, method = 'GET') {
  const res = await fetch(c.base + url, { method, headers: authHeaders(c, headers) });
  const bytes = Buffer.from(await res.arrayBuffer());
  let body = bytes;
  if ((res.headers.get('content-type') || '').includes('json')) body = JSON.parse(bytes.toString('utf8'));
  return { status: res.status, headers: res.headers, bytes, body };
}

// Every blob file under <data>/blobs.
function blobFiles(s = srv) {
  const root = path.join(s.dataDir, 'blobs');
  const out = [];
  const walk = (d) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else out.push(path.join(d, e.name));
    }
  };
  walk(root);
  return out;
}

async function newTicket(c, team) {
  const r = await c.post('/api/v1/tickets', {
    subject: '发票问题 Invoice question',
    customer: { name: '陈静', email: `chen.${Math.random().toString(36).slice(2)}@example.cn` },
    message: '请帮我看一下附件',
    ...(team ? { team_id: teams[team].id } : {}),
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

// One multipart body written by hand (CRLF lines).
function rawMultipart(boundary, parts, close = true) {
  const chunks = [];
  for (const { headers, data } of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(data) ? data : Buffer.from(data));
    chunks.push(Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

test('upload a PNG and a text file with a Chinese name; read both back byte-exact', async () => {
  const r = await upload(admin, form([PNG, 'pixel.png', 'image/png'], [TEXT, '发票.pdf', 'application/pdf']));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.items.length, 2);
  const [png, txt] = r.body.items;
  assert.deepEqual(Object.keys(png).sort(), ['content_type', 'filename', 'id', 'sha256', 'size', 'url']);
  assert.equal(png.filename, 'pixel.png');
  assert.equal(png.content_type, 'image/png');
  assert.equal(png.size, PNG.length);
  assert.equal(png.sha256, sha256(PNG));
  assert.equal(png.url, `/api/v1/attachments/${png.id}`);
  assert.equal(txt.filename, '发票.pdf');
  assert.equal(txt.content_type, 'text/plain', 'the sniffed type, not the declared application/pdf');
  assert.equal(txt.size, TEXT.length);

  const p = await download(admin, png.url);
  assert.equal(p.status, 200);
  assert.ok(p.bytes.equals(PNG));
  assert.equal(p.headers.get('content-type'), 'image/png');
  assert.equal(p.headers.get('content-length'), String(PNG.length));
  assert.equal(p.headers.get('content-disposition'), 'inline; filename="pixel.png"; filename*=UTF-8\'\'pixel.png');
  assert.equal(p.headers.get('x-content-type-options'), 'nosniff');
  assert.match(p.headers.get('cache-control'), /^private, max-age=\d+$/);
  assert.equal(p.headers.get('etag'), `"${sha256(PNG)}"`);

  const t = await download(admin, txt.url);
  assert.equal(t.status, 200);
  assert.ok(t.bytes.equals(TEXT));
  assert.equal(t.headers.get('content-type'), 'text/plain');
  assert.equal(t.headers.get('content-length'), String(TEXT.length));
  assert.equal(t.headers.get('content-disposition'),
    'attachment; filename="__.pdf"; filename*=UTF-8\'\'%E5%8F%91%E7%A5%A8.pdf');
  assert.equal(t.headers.get('x-content-type-options'), 'nosniff');
  assert.match(t.headers.get('content-security-policy'), /sandbox/);

  // HEAD: the same head, no body
  const h = await download(admin, txt.url, {}, 'HEAD');
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('content-length'), String(TEXT.length));
  assert.equal(h.bytes.length, 0);

  // the upload is audited
  const log = (await admin.get('/api/v1/audit?limit=10')).body.items;
  const entry = log.find((x) => x.action === 'attachment.upload' && x.target_id === txt.id);
  assert.ok(entry, JSON.stringify(log.map((x) => x.action)));
});

test('filename*=UTF-8\'\' (RFC 5987) and path-laden names are decoded and cleaned', async () => {
  const body = rawMultipart('kefu-b0undary', [
    { headers: ['Content-Disposition: form-data; name="file"; filename="x.txt"; filename*=UTF-8\'\'%E6%94%B6%E6%8D%AE%20%E2%84%962.txt',
      'Content-Type: text/plain'], data: 'receipt' },
    { headers: ['Content-Disposition: form-data; name="file"; filename="C:\\Users\\li\\报价单.txt"'], data: 'quote' },
  ]);
  const r = await upload(admin, body, 'multipart/form-data; boundary=kefu-b0undary');
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(r.body.items.map((x) => x.filename), ['收据 №2.txt', '报价单.txt']);
  const d = await download(admin, r.body.items[0].url);
  assert.equal(d.bytes.toString(), 'receipt');
  assert.equal(d.headers.get('content-disposition'),
    'attachment; filename="__ _2.txt"; filename*=UTF-8\'\'%E6%94%B6%E6%8D%AE%20%E2%84%962.txt');
});

test('the same content uploaded twice is stored once on disk', async () => {
  // Bytes without a header: application/octet-stream.  These 16 first
  // bytes make libmagic guess a DOS .COM program (it does so for 1-2% of
  // random data); only an MZ header counts as a program.
  const bytes = Buffer.concat([Buffer.from('8ccd35e4f902bd74a50a5ffdb665bf3f', 'hex'), crypto.randomBytes(3000)]);
  const before = blobFiles().length;
  const a = await upload(admin, form([bytes, 'one.bin']));
  const b = await upload(agent, form([bytes, 'two.bin']));
  assert.equal(a.status, 201, JSON.stringify(a.body));
  assert.equal(b.status, 201, JSON.stringify(b.body));
  assert.notEqual(a.body.items[0].id, b.body.items[0].id, 'two attachments');
  assert.equal(a.body.items[0].sha256, b.body.items[0].sha256);
  assert.equal(a.body.items[0].content_type, 'application/octet-stream');
  const files = blobFiles();
  assert.equal(files.length, before + 1, 'one blob');
  const hex = sha256(bytes);
  const file = path.join(srv.dataDir, 'blobs', hex.slice(0, 2), hex.slice(2, 4), hex);
  assert.ok(files.includes(file), `${file} in ${files}`);
  assert.ok(fs.readFileSync(file).equals(bytes));
  assert.ok(files.every((f) => /^[0-9a-f]{64}$/.test(path.basename(f))), `no temporary files left: ${files}`);
  // both download the same bytes
  assert.ok((await download(admin, a.body.items[0].url)).bytes.equals(bytes));
  assert.ok((await download(agent, b.body.items[0].url)).bytes.equals(bytes));
});

test('attach to a reply; the message lists it; visible to the ticket\'s team', async () => {
  const t = await newTicket(admin, '售后');
  const up = await upload(admin, form([PNG, '截图.png', 'image/png']));
  const att = up.body.items[0];
  const reply = await admin.post(`/api/v1/tickets/${t.id}/messages`, { text: '请查看截图', attachments: [att.id] });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  assert.deepEqual(reply.body.attachments.map((x) => x.id), [att.id]);
  const msgs = (await admin.get(`/api/v1/tickets/${t.id}/messages`)).body.items;
  const m = msgs.find((x) => x.id === reply.body.id);
  assert.deepEqual(m.attachments, [{ id: att.id, filename: '截图.png', content_type: 'image/png', size: PNG.length, url: att.url }]);
  // the agent (team 售后) may now read it
  const d = await download(agent, att.url);
  assert.equal(d.status, 200);
  assert.ok(d.bytes.equals(PNG));
  // an attachment belongs to one message
  assertError(await admin.post(`/api/v1/tickets/${t.id}/messages`, { text: 'again', attachments: [att.id] }), 400, 'invalid');
});

test('who may download: the ticket\'s visibility, the uploader while unattached, the account', async () => {
  const foreign = await newTicket(admin, '售前'); // the demo agent is in 售后 only
  const up = await upload(admin, form([TEXT, '报价.txt']));
  const att = up.body.items[0];
  // unattached: only its uploader
  assert.equal((await download(admin, att.url)).status, 200);
  assertError(await download(agent, att.url), 404, 'not_found');
  // attached to a ticket the agent cannot see: still 404
  assert.equal((await admin.post(`/api/v1/tickets/${foreign.id}/messages`, { text: '报价单', attachments: [att.id] })).status, 201);
  assertError(await download(agent, att.url), 404, 'not_found');
  const sup = await srv.loginAs('supervisor');
  assert.equal((await download(sup, att.url)).status, 200, 'a supervisor of all teams sees it');
  // nobody logged in
  assertError(await download(srv.client(), att.url), 401, 'unauthenticated');
  // junk and unknown ids
  assertError(await download(admin, '/api/v1/attachments/999999'), 404, 'not_found');
  assertError(await download(admin, '/api/v1/attachments/abc'), 404, 'not_found');
  // another account: 404, as if it did not exist
  assert.equal((await srv.cli(['account', 'create', '--name', 'Other Co', '--slug', 'other-att'])).status, 0);
  const made = await srv.cli(['user', 'create', '--account', 'other-att', '--email', 'boss@other-att.example',
    '--name', 'Other Boss', '--role', 'admin', '--password', 'other-password-1']);
  assert.equal(made.status, 0, made.stderr);
  const other = srv.client();
  assert.equal((await other.login('boss@other-att.example', 'other-password-1')).status, 200);
  assertError(await download(other, att.url), 404, 'not_found');
  // nor can the other account attach it to its own messages
  const ot = await other.post('/api/v1/tickets', { subject: 'x', customer: { name: 'X' }, message: 'x' });
  assert.equal(ot.status, 201, JSON.stringify(ot.body));
  const unattached = (await upload(admin, form([Buffer.from('mine'), 'mine.txt']))).body.items[0];
  assertError(await other.post(`/api/v1/tickets/${ot.body.id}/messages`, { text: 'x', attachments: [unattached.id] }), 400, 'invalid');
});

test('uploading needs tickets.write', async () => {
  const role = await admin.post('/api/v1/roles', { name: 'Reader', permissions: ['tickets.read'], data_scope: 'all' });
  assert.equal(role.status, 201, JSON.stringify(role.body));
  const u = await admin.post('/api/v1/users', { email: 'reader@demo.kefu.local', name: 'Reader', role: role.body.id, password: 'reader-password' });
  assert.equal(u.status, 201, JSON.stringify(u.body));
  const reader = srv.client();
  assert.equal((await reader.login('reader@demo.kefu.local', 'reader-password')).status, 200);
  assertError(await upload(reader, form([PNG, 'a.png'])), 403, 'forbidden');
  assertError(await upload(srv.client(), form([PNG, 'a.png'])), 401, 'unauthenticated');
});

test('ETag and If-None-Match: 304 without a body', async () => {
  const att = (await upload(admin, form([PNG, 'etag.png']))).body.items[0];
  const tag = `"${att.sha256}"`;
  for (const inm of [tag, `W/${tag}`, `"nope", ${tag}`, '*']) {
    const r = await download(admin, att.url, { 'if-none-match': inm });
    assert.equal(r.status, 304, inm);
    assert.equal(r.bytes.length, 0);
    assert.equal(r.headers.get('etag'), tag);
    assert.match(r.headers.get('cache-control'), /^private/);
  }
  const r = await download(admin, att.url, { 'if-none-match': '"something-else"' });
  assert.equal(r.status, 200);
  assert.ok(r.bytes.equals(PNG));
  // a 304 never tells a stranger the attachment exists
  assertError(await download(agent, att.url, { 'if-none-match': tag }), 404, 'not_found');
});

test('programs and scripts are refused with 415 and nothing is stored', async () => {
  const rows = srv.sql('SELECT COUNT(*) FROM attachments');
  const files = blobFiles().length;
  const elf = fs.readFileSync('/bin/true');
  assert.equal(elf.subarray(0, 4).toString('latin1'), '\x7fELF');
  // the head of a Windows PE32+ program
  const pe = Buffer.alloc(256);
  pe.write('MZ', 0, 'latin1');
  pe.writeUInt16LE(0x40, 0x18);
  pe.writeUInt32LE(0x80, 0x3c);
  pe.write('PE\0\0', 0x80, 'latin1');
  pe.writeUInt16LE(0x8664, 0x84);
  pe.writeUInt16LE(1, 0x86);
  pe.writeUInt16LE(0xf0, 0x94);
  pe.writeUInt16LE(0x22, 0x96);
  pe.writeUInt16LE(0x20b, 0x98);
  const cases = [
    [elf, 'photo.jpg', 'image/jpeg'],
    [pe, 'invoice.pdf', 'application/pdf'],
    [Buffer.from('#!/bin/sh\nrm -rf ~\n'), 'notes.txt', 'text/plain'],
    [Buffer.from('#!/usr/bin/env python3\nimport os\nos.system("x")\n'), 'data.csv', 'text/csv'],
  ];
  for (const c of cases) {
    const r = await upload(admin, form(c));
    assertError(r, 415, 'unsupported_media_type');
  }
  // one bad file refuses the whole upload
  assertError(await upload(admin, form([PNG, 'ok.png'], [elf, 'bad.bin'])), 415, 'unsupported_media_type');
  assert.equal(srv.sql('SELECT COUNT(*) FROM attachments'), rows);
  assert.equal(blobFiles().length, files);
});

test('HTML and SVG are stored but only ever downloaded as attachments', async () => {
  const html = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>');
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>');
  const r = await upload(admin, form([html, 'invoice.png', 'image/png'], [svg, 'logo.svg', 'image/svg+xml']));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(r.body.items.map((x) => x.content_type), ['text/html', 'image/svg+xml']);
  for (const item of r.body.items) {
    const d = await download(admin, item.url);
    assert.equal(d.status, 200);
    assert.equal(d.headers.get('content-type'), item.content_type);
    assert.match(d.headers.get('content-disposition'), /^attachment; /);
    assert.equal(d.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(d.headers.get('content-security-policy'), "default-src 'none'; sandbox");
  }
});

test('malformed multipart is 400 bad_multipart; other content types 415', async () => {
  const rows = srv.sql('SELECT COUNT(*) FROM attachments');
  const part = { headers: ['Content-Disposition: form-data; name="file"; filename="a.txt"'], data: 'abc' };
  const bad = [
    [rawMultipart('xyz', [part], false), 'multipart/form-data; boundary=xyz'], // no closing boundary
    [rawMultipart('xyz', [part]), 'multipart/form-data'],                       // no boundary parameter
    [rawMultipart('xyz', [part]), 'multipart/form-data; boundary=other'],       // wrong boundary
    [rawMultipart('xyz', [{ headers: ['Content-Disposition: form-data; filename="a.txt"'], data: 'x' }]), 'multipart/form-data; boundary=xyz'],
    [Buffer.concat([Buffer.from('--xyz\r\nContent-Disposition: form-data; name="file"; filename="'), Buffer.from([0xb7, 0xa2]),
      Buffer.from('.txt"\r\n\r\nx\r\n--xyz--\r\n')]), 'multipart/form-data; boundary=xyz'], // a GBK name
    [Buffer.from('--xyz--\r\n'), 'multipart/form-data; boundary=xyz'],
  ];
  for (const [body, ct] of bad) {
    const r = await upload(admin, body, ct);
    assertError(r, 400, 'bad_multipart');
  }
  // well-formed, but not what this endpoint takes
  assertError(await upload(admin, rawMultipart('xyz', [{ headers: ['Content-Disposition: form-data; name="photo"; filename="a.png"'], data: PNG }]),
    'multipart/form-data; boundary=xyz'), 400, 'invalid');
  assertError(await upload(admin, rawMultipart('xyz', [{ headers: ['Content-Disposition: form-data; name="file"'], data: 'text' }]),
    'multipart/form-data; boundary=xyz'), 400, 'invalid');
  // the wrong content type
  assertError(await admin.post('/api/v1/attachments', { file: 'x' }), 415, 'unsupported_media_type');
  assertError(await upload(admin, 'file=x', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
  assertError(await upload(admin, rawMultipart('xyz', [part]), 'multipart/mixed; boundary=xyz'), 415, 'unsupported_media_type');
  assert.equal(srv.sql('SELECT COUNT(*) FROM attachments'), rows);
});

// Sends a request head only and reads the answer (the body is never sent).
function headOnly(base, head) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname, () => sock.write(head));
    let data = '';
    sock.setTimeout(5000, () => { sock.destroy(); reject(new Error(`no answer: ${data}`)); });
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
}

test('the upload limit (--max-upload) is not the JSON body limit, and is enforced before buffering', async () => {
  const s = await new Server({ args: ['--max-upload', '64K', '--max-body', '16K'] }).start();
  try {
    const a = await s.loginAs('admin');
    // over the body limit, under the upload limit
    const mid = crypto.randomBytes(40 * 1024);
    const ok = await upload(a, form([mid, 'mid.bin']));
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(blobFiles(s).length, 1);
    assert.equal(s.sql('SELECT COUNT(*) FROM attachments'), '1');
    // a JSON body of the same size elsewhere is refused
    assertError(await a.post('/api/v1/teams', { name: 'x'.repeat(20 * 1024) }), 413, 'payload_too_large');
    // over the upload limit: 413 and nothing stored
    const big = await upload(a, form([crypto.randomBytes(100 * 1024), 'big.bin']));
    assertError(big, 413, 'payload_too_large');
    assert.equal(s.sql('SELECT COUNT(*) FROM attachments'), '1');
    assert.equal(blobFiles(s).length, 1);
    // decided from the head: a huge Content-Length is answered at once,
    // before any body byte is sent
    const answer = await headOnly(s.base, 'POST /api/v1/attachments HTTP/1.1\r\nHost: x\r\n'
      + 'Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 104857600\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /payload_too_large/);
    assert.match(answer, /65536 bytes/);
  } finally {
    await s.stop();
  }
});

test('an upload can only be sent by the one who uploaded it', async () => {
  const admin = await srv.loginAs('admin');
  const sup = await srv.loginAs('supervisor');
  const form = new FormData();
  form.append('file', new Blob([Buffer.from('private notes of the admin')], { type: 'text/plain' }), 'admin-only.txt');
  const up = await fetch(`${srv.base}/api/v1/attachments`, {
    method: 'POST', body: form, headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
  });
  assert.equal(up.status, 201);
  const id = (await up.json()).items[0].id;
  const t = await sup.post('/api/v1/tickets', { subject: 'Steal attempt', customer: { name: 'X' }, message: 'x' });
  assertError(await sup.post(`/api/v1/tickets/${t.body.id}/messages`, { text: 'look', attachments: [id] }), 400, 'invalid');
  const own = await admin.post(`/api/v1/tickets/${t.body.id}/messages`, { text: 'mine', attachments: [id] });
  assert.equal(own.status, 201, JSON.stringify(own.body));
  assert.equal(own.body.attachments[0].id, id);
});
