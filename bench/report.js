#!/usr/bin/env node
// report.js -- turn one `make bench` result (bench/results/*.json) into its
// Markdown section of docs/benchmarks.md, with the design's performance
// targets (../shared/DESIGN.md §7) checked against it.
//
//   node bench/report.js RESULT.json docs/benchmarks.md
//
// The section for the result's database (SQLite or PostgreSQL) replaces the
// one between <!-- bench:DB:begin --> and <!-- bench:DB:end -->; the rest
// of the page is left as it is.  The targets and their verdicts are also
// written back into RESULT.json ("targets").
'use strict';
const fs = require('node:fs');

const [resultPath, mdPath] = process.argv.slice(2);
if (!resultPath || !mdPath) {
  console.error('usage: report.js RESULT.json BENCHMARKS.md');
  process.exit(2);
}
const r = JSON.parse(fs.readFileSync(resultPath, 'utf8'));

// ---- formatting ----

const fmt = (v, digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? '–'
  : Number(v).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ms = (us) => (us === null || us === undefined ? '–' : fmt(us / 1000, us < 10000 ? 2 : 1));
const mb = (kb) => (kb ? fmt(kb / 1024, 1) : '–');
const pct = (x) => (x === null || x === undefined ? '–' : `${fmt(x * 100, 1)} %`);
const row = (cells) => `| ${cells.join(' | ')} |`;
const table = (head, rows) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const median = (a) => {
  if (!a || !a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor((s.length - 1) / 2)];
};

// ---- HTTP ----

const http = r.http || [];
const byName = Object.fromEntries(http.map((h) => [h.name, h]));
const ceilingFor = (h) => byName[`ceiling-${h.conns}`];
const share = (h) => {
  const c = ceilingFor(h);
  return h.group !== 'ceiling' && c && c.rps ? h.rps / c.rps : null;
};
const SCENARIOS = {
  ceiling: 'ceiling: fixed JSON, same HTTP server (bench/ceiling.c)',
  read: 'ticket by id `GET /api/v1/tickets/{id}`',
  inbox: 'inbox `GET /api/v1/tickets?view=all&status=unresolved&limit=50`',
  search: 'full-text search `GET /api/v1/tickets?q=…` (中文, English)',
  overview: 'dashboard figures `GET /api/v1/tickets/overview`',
  create: 'ticket + first message `POST /api/v1/tickets` (committed)',
};
const errors = (e) => {
  if (!e) return '–';
  const n = e.connect + e.read + e.write + e.status + e.timeout;
  if (!n) return '0';
  return Object.entries(e).filter(([, v]) => v).map(([k, v]) => `${v} ${k === 'status' ? 'non-2xx' : k}`).join(', ');
};
for (const h of http) h.share_of_ceiling = share(h);

function httpTable() {
  const pg = r.db === 'postgres';
  return table(['scenario', 'conns', 'req/s', 'share of ceiling', 'p50 ms', 'p99 ms', 'p99.9 ms',
    'server CPU µs/req', ...(pg ? ['PostgreSQL CPU µs/req'] : []), 'server RSS MB (peak)', 'errors'],
  http.map((h) => [SCENARIOS[h.group] || h.group, h.conns, fmt(h.rps), h.group === 'ceiling' ? '100 %' : pct(h.share_of_ceiling),
    ms(h.latency_us.p50), ms(h.latency_us.p99), ms(h.latency_us.p999), fmt(h.server_cpu_us_per_req, 1),
    ...(pg ? [fmt(h.db_cpu_us_per_req, 1)] : []), `${mb(h.rss_kb)} (${mb(h.hwm_kb)})`, errors(h.errors)]));
}

// ---- chat ----

const chat = r.chat || [];
const lat = (d) => (d && d.count ? `${fmt(d.p50_ms, 1)} / ${fmt(d.p99_ms, 1)} / ${fmt(d.p999_ms, 1)}` : '–');

function chatTable() {
  return table(['visitors + agents', 'open', 'connect s', 'bytes per visitor WS', 'bytes per agent WS',
    'server RSS MB open (peak)', 'visitor → agent msgs/s', 'deliveries', 'p50 / p99 / p99.9 ms',
    'agent → visitor msgs/s', 'p50 / p99 / p99.9 ms', 'storm: account events while away', 'deliveries expected', 'lost', 'reconnected / caught up s'],
  chat.map((c) => [`${fmt(c.customers)} + ${c.agents}`, `${fmt(c.customers_ready)} + ${c.agents_ready}`,
    fmt(c.connect_s, 2), fmt(c.bytes_per_customer_ws), fmt(c.bytes_per_agent_ws),
    `${mb(c.rss_open_kb)} (${mb(c.hwm_kb)})`, fmt(c.c2a.rate), fmt(c.c2a.delivered.count), lat(c.c2a.delivered),
    fmt(c.a2c.rate), lat(c.a2c.delivered), fmt(c.storm.gap_events), fmt(c.storm.expected),
    `${fmt(c.storm.lost)}${c.storm.lost ? ` (${fmt(c.storm.lost_at_agents)} at agents, ${fmt(c.storm.lost_at_visitors)} at visitors)` : ''}${c.storm.extra ? ` (+${c.storm.extra} extra)` : ''}${c.storm.resyncs ? `, ${c.storm.resyncs} resyncs` : ''}${c.storm.order_errors ? `, ${c.storm.order_errors} out of order` : ''}`,
    `${fmt(c.storm.reconnect_s, 2)} / ${fmt(c.storm.catchup_s, 2)}`]));
}

// ---- targets (DESIGN §7) ----

function targets() {
  const t = [];
  const add = (target, measured, met, gap = '') => t.push({ target, measured, met, gap });
  const read = byName['read-64'];
  if (read) {
    add('ticket read API ≥ 30,000 req/s at 64 connections', `${fmt(read.rps)} req/s`, read.rps >= 30000,
      read.rps >= 30000 ? '' : `${fmt(30000 - read.rps)} req/s short (${pct(read.rps / 30000)} of the target)`);
    const p99 = read.latency_us.p99 / 1000;
    add('ticket read p99 < 5 ms at 64 connections', `${fmt(p99, 2)} ms`, p99 < 5,
      p99 < 5 ? '' : `${fmt(p99 - 5, 2)} ms over`);
  }
  const creates = http.filter((h) => h.group === 'create');
  if (creates.length) {
    const best = creates.reduce((a, b) => (b.rps > a.rps ? b : a));
    add('durable ticket creation ≥ 5,000/s', `${fmt(best.rps)}/s (${best.conns} conns)`, best.rps >= 5000,
      best.rps >= 5000 ? '' : `${fmt(5000 - best.rps)}/s short (${pct(best.rps / 5000)} of the target)`);
  }
  const c10k = chat.find((c) => c.customers >= 10000);
  if (c10k) {
    const rss = c10k.rss_open_kb / 1024;
    add('10,000 chat WebSockets in < 300 MB RSS', `${fmt(rss, 1)} MB with ${fmt(c10k.customers_ready)} visitors + ${c10k.agents_ready} agents open`,
      rss < 300, rss < 300 ? '' : `${fmt(rss - 300, 1)} MB over`);
  } else {
    add('10,000 chat WebSockets in < 300 MB RSS', 'not measured (10,000 did not fit)', null, 'not measured');
  }
  const big = chat.length ? chat[chat.length - 1] : null;
  if (big) {
    for (const [dir, d] of [['visitor → agent', big.c2a], ['agent → visitor', big.a2c]]) {
      const p99 = d.delivered.p99_ms;
      const rateOk = d.rate >= 0.95 * r.settings.chat_rate;
      const ok = p99 < 25 && rateOk;
      const gaps = [];
      if (p99 >= 25) gaps.push(`p99 ${fmt(p99 - 25, 1)} ms over`);
      if (!rateOk) gaps.push(`${fmt(d.rate)} of ${fmt(r.settings.chat_rate)} messages/s reached`);
      add(`message delivery p99 < 25 ms at 2,000 messages/s (${dir}, ${fmt(big.customers)} visitors)`,
        `p99 ${fmt(p99, 1)} ms at ${fmt(d.rate)} messages/s`, ok, gaps.join('; '));
    }
    const lost = chat.reduce((a, c) => a + c.storm.lost + c.storm.resyncs + c.storm.order_errors, 0);
    add('reconnect storm: no event lost (issue 7)', `${fmt(lost)} lost, resynced or out of order over ${chat.length} storm(s)`,
      lost === 0, lost === 0 ? '' : `${fmt(lost)} events`);
  }
  add('knowledge search over 200,000 articles p95 < 10 ms', 'not measured: Kefu has no knowledge base yet', null, 'not measured');
  const ov = byName['overview-1'];
  if (ov) {
    const p99 = ov.latency_us.p99 / 1000;
    const n = r.data.tickets;
    add('dashboard KPIs over 1M tickets < 300 ms', `p99 ${fmt(p99, 1)} ms over ${fmt(n)} tickets`,
      n >= 1000000 ? p99 < 300 : null,
      n >= 1000000 ? (p99 < 300 ? '' : `${fmt(p99 - 300, 1)} ms over`) : `data set has ${fmt(n)} tickets, not 1M`);
  }
  if (r.server.idle_rss_kb) {
    const rss = r.server.idle_rss_kb / 1024;
    add('idle RSS < 30 MB', `${fmt(rss, 1)} MB (fresh server, ${fmt(r.data.tickets)} tickets)`, rss < 30,
      rss < 30 ? '' : `${fmt(rss - 30, 1)} MB over`);
  }
  const st = median(r.server.startup_ms);
  if (st !== null) {
    add('start-up < 100 ms', `${fmt(st, 0)} ms (median of ${r.server.startup_ms.length}, until listening)`, st < 100,
      st < 100 ? '' : `${fmt(st - 100, 0)} ms over`);
  }
  return t;
}

function targetsTable(t) {
  const verdict = (m) => (m === true ? 'met' : m === false ? '**not met**' : 'not measured');
  return table(['target', 'measured', 'verdict', 'gap'], t.map((x) => [x.target, x.measured, verdict(x.met), x.gap || '']));
}

// ---- e-mail ----

function mailTable() {
  const m = r.mail;
  return table(['intake', 'messages', 'messages/s', 'seconds', 'notes'], [
    ['`kefu mail-in` (one process per message, as an MTA pipe)', fmt(m.mail_in.messages), fmt(m.mail_in.per_second, 1),
      fmt(m.mail_in.seconds, 1), m.mail_in.failed ? `${m.mail_in.failed} failed` : ''],
    ['IMAP poller of `kefu serve` (Dovecot on loopback)', fmt(m.imap.messages), fmt(m.imap.per_second, 1),
      fmt(m.imap.seconds, 1), `${fmt(m.imap.stored)} stored; server RSS ${mb(m.imap.server_rss_kib)} MB`],
  ]);
}

// ---- the section ----

const dbName = r.db === 'postgres' ? `PostgreSQL ${r.versions.postgresql || ''}`.trim() : `SQLite ${r.versions.sqlite}`;
const t = targets();
r.targets = t;
fs.writeFileSync(resultPath, JSON.stringify(r, null, 2) + '\n');

const s = r.settings;
const notMet = t.filter((x) => x.met === false);
const lines = [
  `## ${r.db === 'postgres' ? 'PostgreSQL' : 'SQLite'}: ${r.date.slice(0, 10)} on ${r.host}`,
  '',
  `- **Machine**: ${r.machine.cpu}, ${r.machine.cores} cores, ${fmt(r.machine.ram_mb / 1024, 1)} GB RAM, ` +
    `Linux ${r.machine.kernel}, Debian ${r.machine.debian}. Server and load generators share the machine ` +
    `(load average ${r.machine.loadavg_start} before the run, ${r.machine.loadavg_end} after).`,
  `- **Versions**: ${r.versions.kefu} (commit ${r.versions.commit}), ${dbName}, wrk ${r.versions.wrk}, ` +
    `libuv ${r.versions.libuv}, ${r.versions.cc}.`,
  `- **Data**: ${fmt(r.data.tickets)} tickets, ${fmt(r.data.customers)} customers (\`${r.data.command}\`, ` +
    `${fmt(r.data.seconds, 1)} s); ${dbName} in a fresh data directory.`,
  `- **Run**: \`make bench${r.db === 'postgres' ? ' DB=postgres' : ''}\`, ${fmt(r.wall_s)} s in all ` +
    `(result: \`bench/results/${resultPath.split('/').pop()}\`).`,
  ...(parseFloat(r.machine.loadavg_start) > 0.5
    ? [`- **Caution**: the machine was not idle when the run started (load average ${r.machine.loadavg_start}, ` +
       'which may be the tail of a run just before); any other work takes CPU from the figures below.']
    : []),
  '',
  '### Targets (DESIGN §7)',
  '',
  r.db === 'postgres' ? 'The targets are stated for SQLite; they are checked here all the same.\n' : '',
  targetsTable(t),
  '',
  notMet.length ? `Not met: ${notMet.length} of ${t.filter((x) => x.met !== null).length} measured targets.` : 'Every measured target is met.',
  '',
  '### HTTP API',
  '',
  `wrk, ${s.wrk_threads} threads, ${s.warmup_s} s warm-up then ${s.duration_s} s per row, an API token ` +
    '(`Authorization: Bearer`), access log off. *Share of ceiling*: requests/s against the ceiling server ' +
    'at the same connections in the same run. *Server CPU*: utime + stime of the server process ' +
    `(/proc/PID/stat) during the run, per request${r.db === 'postgres' ? '; *PostgreSQL CPU* the same for the PostgreSQL server and its backends' : ''}. ` +
    'Latencies are wrk\'s (from the client, so they include its own queueing on the shared CPUs).',
  '',
  httpTable(),
  '',
  '### Chat',
  '',
  `Per row a fresh \`kefu serve\`; ${s.agents} agent WebSockets (one API token, data scope *all*, so every ` +
    'event reaches each) and the visitors\' widget WebSockets, all through `bench/wsload`. *Bytes per WS*: ' +
    'server RSS growth when they opened, divided by their number. Messages for ' +
    `${s.duration_s} s each way at a target of ${fmt(s.chat_rate)}/s (wrk, 32 connections, paced): ` +
    'visitors `POST /widget/v1/messages`, agents `POST /api/v1/tickets/{id}/messages`; each text carries ' +
    'its send time and *p50 / p99 / p99.9* is send → arrival at every WebSocket it reached. *Storm*: ' +
    `every WebSocket drops at once, ${s.storm} agent replies and ${s.storm} visitor messages are sent ` +
    'while they are away, then all reconnect with `?after=` their last event id; *account events* is how ' +
    'many events the account had meanwhile (past 512 the replay comes from the events table, not the ' +
    'hub\'s memory), *deliveries expected* what all connections together should then receive of the ' +
    'storm\'s messages, *lost* what they did not have 3 s after the last one came; *reconnected / ' +
    'caught up*: seconds from the reconnect until all were open again, and until the last storm message arrived.',
  '',
  chat.length ? chatTable() : '(no chat size fitted)',
  '',
];
if (r.mail) {
  lines.push('### E-mail intake', '', `\`node bench/mail-intake.js --count ${s.mail_count}\`: real-world messages ` +
    `from ../shared/corpora/email, each new (engine: ${r.mail.engine}).`, '', mailTable(), '');
}
lines.push('### Server', '',
  `- Start-up until listening: ${(r.server.startup_ms || []).map((x) => fmt(x, 0)).join(', ')} ms ` +
    '(measured by the harness polling the log every 5 ms, so up to about 10 ms high).',
  `- Idle RSS of a fresh server: ${mb(r.server.idle_rss_kb)} MB.`, '');
if (r.notes && r.notes.length) {
  lines.push('### Notes', '', ...r.notes.map((n) => `- ${n}`), '');
}
lines.push('### Commands', '', '```sh',
  `${r.data.generator === 'gen' ? 'kefu demo --tickets 0 --customers 0; ' : ''}${r.data.command}   # data`,
  'build/bench/ceiling --listen 127.0.0.1:0   # ceiling-*',
  `${s.serve || 'kefu serve'} --listen 127.0.0.1:0 --data …   # everything else`,
  ...http.map((h) => `${h.command}   # ${h.name}`),
  `wsload -n ${s.agents} -H 'Authorization: Bearer …' --stamp c2a@ --count-match storm@ --stdin   # agents`,
  'wsload -T tokens -p /widget/v1/ws --after N --stamp a2c@ --count-match storm@ --stdin   # visitors',
  `BENCH_RATE=${s.chat_rate} wrk -t${s.wrk_threads} -c32 -d${s.duration_s}s -s bench/wrk/widget-message.lua   # visitor → agent`,
  `BENCH_RATE=${s.chat_rate} wrk -t${s.wrk_threads} -c32 -d${s.duration_s}s -s bench/wrk/agent-reply.lua      # agent → visitor`,
  '```', '');

const section = lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');

// ---- into the page ----

const key = r.db === 'postgres' ? 'postgres' : 'sqlite';
const begin = `<!-- bench:${key}:begin -->`;
const end = `<!-- bench:${key}:end -->`;
let md = fs.existsSync(mdPath) ? fs.readFileSync(mdPath, 'utf8') : '# Benchmarks\n\n';
const block = `${begin}\n${section}\n${end}`;
const a = md.indexOf(begin);
const b = md.indexOf(end);
if (a >= 0 && b > a) md = md.slice(0, a) + block + md.slice(b + end.length);
else md = md.replace(/\n*$/, '\n\n') + block + '\n';
fs.writeFileSync(mdPath, md);
console.log(`report: ${mdPath} (${key}); ${notMet.length} target(s) not met`);
