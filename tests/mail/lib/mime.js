// mime.js -- just enough MIME for the email tests to write a message and
// read one back: RFC 2047 encoded-words (UTF-8, B encoding) both ways, a
// single-part text/plain message builder, a header splitter, and a reader
// for what a helpdesk sends (multipart trees, base64 and quoted-printable,
// RFC 2231 parameters such as a Chinese attachment's file name, addresses).
'use strict';
const crypto = require('node:crypto');

// RFC 2047 encoded-words for a header value: ASCII text is left as it is;
// anything else becomes =?UTF-8?B?...?= words of at most 75 characters,
// never splitting a character, joined by folding whitespace (CRLF SP).
function encodeWords(text) {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words = [];
  let chunk = '';
  const wordLength = (s) => 12 + Math.ceil(Buffer.byteLength(s, 'utf8') / 3) * 4; // =?UTF-8?B??=
  for (const ch of text) { // by code point: surrogate pairs stay together
    if (chunk && wordLength(chunk + ch) > 75) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

// Decodes RFC 2047 encoded-words (B and Q; UTF-8, US-ASCII, ISO-8859-1 --
// what the tests themselves write) in an unfolded header value.  Whitespace
// between two adjacent encoded-words is dropped, as the RFC says.
function decodeWords(value) {
  const unfolded = value.replace(/\r?\n[ \t]/g, ' ');
  const re = /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g;
  return unfolded
    .replace(/(\?=)\s+(?==\?)/g, '$1')
    .replace(re, (_, charset, enc, data) => {
      const bytes = enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64')
        : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g,
          (__, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      const cs = charset.toLowerCase().replace(/\*.*$/, '');
      return new TextDecoder(cs === 'us-ascii' ? 'utf-8' : cs).decode(bytes);
    });
}

// An address with an optional display name: `"Name" <addr>`, the name
// encoded when it is not plain ASCII.
function mailbox(addr, name) {
  if (!name) return `<${addr}>`;
  if (/^[\x20-\x7e]*$/.test(name)) return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}" <${addr}>`;
  return `${encodeWords(name)} <${addr}>`;
}

// A fresh Message-ID in the given domain: <kefu-test-...@domain>.
function messageId(domain = 'kefu.test') {
  return `<kefu-test-${Date.now()}-${crypto.randomBytes(6).toString('hex')}@${domain}>`;
}

// A single-part text/plain UTF-8 message as a Buffer with CRLF line ends.
// opts: from, fromName, to (address or list), subject, text, messageId,
// date (Date), inReplyTo, references, headers (extra [name, value] pairs,
// written as given), encoding ('8bit', the default, or 'base64').
function buildMessage(opts) {
  const to = Array.isArray(opts.to) ? opts.to : [opts.to];
  const encoding = opts.encoding || '8bit';
  const h = [
    ['From', mailbox(opts.from, opts.fromName)],
    ['To', to.map((a) => `<${a}>`).join(', ')],
    ['Subject', encodeWords(opts.subject || '')],
    ['Date', (opts.date || new Date()).toUTCString().replace('GMT', '+0000')],
    ['Message-ID', opts.messageId || messageId()],
  ];
  if (opts.inReplyTo) h.push(['In-Reply-To', opts.inReplyTo]);
  if (opts.references) h.push(['References', opts.references]);
  h.push(['MIME-Version', '1.0'],
    ['Content-Type', 'text/plain; charset=UTF-8'],
    ['Content-Transfer-Encoding', encoding]);
  for (const extra of opts.headers || []) h.push(extra);
  const text = (opts.text || '').replace(/\r?\n/g, '\r\n');
  const body = encoding === 'base64'
    ? Buffer.from(text, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n')
    : text;
  const head = h.map(([k, v]) => `${k}: ${v}`).join('\r\n');
  return Buffer.from(`${head}\r\n\r\n${body}${body.endsWith('\r\n') ? '' : '\r\n'}`, 'utf8');
}

// Splits a raw message into {headers, body}: headers as a list of
// {name, value} (unfolded, undecoded, in order), body as a Buffer.
// get(name) gives the first value of a header, case-insensitively.
function parseMessage(raw) {
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
  let end = buf.indexOf('\r\n\r\n');
  let sep = 4;
  if (end < 0) { end = buf.indexOf('\n\n'); sep = 2; }
  if (end < 0) { end = buf.length; sep = 0; }
  const head = buf.subarray(0, end).toString('utf8').replace(/\r?\n(?=[ \t])/g, '');
  const headers = head.split(/\r?\n/).filter(Boolean).map((line) => {
    const i = line.indexOf(':');
    return { name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() };
  });
  const get = (name) => {
    const found = headers.find((x) => x.name.toLowerCase() === name.toLowerCase());
    return found ? found.value : undefined;
  };
  return { headers, get, body: buf.subarray(end + sep) };
}

// A header value with parameters (Content-Type, Content-Disposition):
// {value (lower case), params (names in lower case)}.  RFC 2231 is undone:
// continuations (name*0, name*1*, ...) are joined and extended values
// (name*=charset'lang'percent-encoded) decoded; a plain value that holds
// RFC 2047 encoded-words (what many mailers write in name="...") is decoded
// too.
function parseParams(header) {
  const out = { value: '', params: {} };
  if (!header) return out;
  const s = header.replace(/\r?\n[ \t]/g, ' ');
  let i = 0;
  const skipWs = () => { while (i < s.length && /[ \t]/.test(s[i])) i++; };
  const readValue = () => {
    skipWs();
    if (s[i] === '"') {
      let v = '';
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\') i++;
        v += s[i++];
      }
      i++;
      return v;
    }
    const j = s.indexOf(';', i);
    const v = s.slice(i, j < 0 ? s.length : j).trim();
    i = j < 0 ? s.length : j;
    return v;
  };
  const semi = s.indexOf(';');
  out.value = s.slice(0, semi < 0 ? s.length : semi).trim().toLowerCase();
  i = semi < 0 ? s.length : semi;
  const pieces = {}; // name -> [{index, extended, value}]
  while (i < s.length) {
    if (s[i] === ';') { i++; continue; }
    skipWs();
    const eq = s.indexOf('=', i);
    if (eq < 0) break;
    const rawName = s.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    const value = readValue();
    skipWs();
    const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(rawName);
    if (!m) continue;
    (pieces[m[1]] = pieces[m[1]] || []).push({ index: Number(m[2] || 0), extended: !!m[3], value });
  }
  for (const [name, list] of Object.entries(pieces)) {
    list.sort((a, b) => a.index - b.index);
    let charset = null;
    const bytes = [];
    list.forEach((p, n) => {
      let v = p.value;
      if (p.extended && n === 0) {
        const q = /^([^']*)'[^']*'(.*)$/.exec(v);
        if (q) { charset = q[1] || 'us-ascii'; v = q[2]; }
      }
      bytes.push(p.extended
        ? Buffer.from(v.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1')
        : Buffer.from(v, 'utf8'));
    });
    const joined = Buffer.concat(bytes);
    const text = charset ? new TextDecoder(/ascii/i.test(charset) ? 'utf-8' : charset).decode(joined) : joined.toString('utf8');
    out.params[name] = charset ? text : decodeWords(text);
  }
  return out;
}

// Undoes a Content-Transfer-Encoding: base64 and quoted-printable decoded,
// anything else (7bit, 8bit, binary) as it is.
function decodeTransfer(body, cte) {
  const enc = (cte || '7bit').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (enc === 'quoted-printable') {
    const s = body.toString('latin1').replace(/[ \t]+(?=\r?\n)/g, '').replace(/=\r?\n/g, '');
    return Buffer.from(s.replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  }
  return body;
}

// The parts of a multipart body: what lies between the delimiter lines
// "--boundary" (the CRLF before each belongs to the delimiter), up to
// "--boundary--".  Preamble and epilogue are dropped.
function splitMultipart(body, boundary) {
  const s = body.toString('latin1');
  const delim = `--${boundary}`;
  const parts = [];
  // Delimiter lines only: at the start of the body or after a line end.
  const at = (from) => {
    if (from === 0 && s.startsWith(delim)) return 0;
    const k = s.indexOf(`\n${delim}`, Math.max(0, from - 1));
    return k < 0 ? -1 : k + 1;
  };
  let d = at(0);
  while (d >= 0) {
    const after = d + delim.length;
    if (s.startsWith('--', after)) break; // the close delimiter
    const eol = s.indexOf('\n', after);
    if (eol < 0) break;
    const start = eol + 1;
    const next = at(start);
    if (next < 0) { parts.push(body.subarray(start)); break; } // unterminated: take the rest
    let end = next - 1; // the LF before the delimiter
    if (end > start && s[end - 1] === '\r') end--;
    parts.push(body.subarray(start, Math.max(start, end)));
    d = next;
  }
  return parts;
}

// A whole message (or one body part) as a tree:
//   {headers, get(name), type ('text/plain', lower case), params (of
//    Content-Type), disposition ('attachment', 'inline' or ''),
//    filename (decoded: Content-Disposition filename, else Content-Type
//    name; null when neither), parts (children of a multipart, else []),
//    body (the decoded content of a leaf, a Buffer), text (a text/* leaf
//    decoded with its charset, else null)}
// A part without Content-Type is text/plain, or message/rfc822 inside
// multipart/digest (not needed here).
function parseMime(raw) {
  const msg = parseMessage(raw);
  const ct = parseParams(msg.get('Content-Type') || 'text/plain; charset=us-ascii');
  const cd = parseParams(msg.get('Content-Disposition'));
  const node = {
    headers: msg.headers,
    get: msg.get,
    type: ct.value || 'text/plain',
    params: ct.params,
    disposition: cd.value,
    filename: cd.params.filename ?? ct.params.name ?? null,
    parts: [],
    body: null,
    text: null,
  };
  if (node.type.startsWith('multipart/')) {
    node.parts = splitMultipart(msg.body, ct.params.boundary || '').map(parseMime);
    return node;
  }
  node.body = decodeTransfer(msg.body, msg.get('Content-Transfer-Encoding'));
  if (node.type.startsWith('text/')) {
    const cs = (ct.params.charset || 'us-ascii').toLowerCase();
    node.text = new TextDecoder(cs === 'us-ascii' ? 'utf-8' : cs).decode(node.body);
  }
  return node;
}

// Every leaf of a parseMime tree, depth first.
function leaves(node) {
  return node.parts.length ? node.parts.flatMap(leaves) : [node];
}

// Mailboxes of an address header (From, To, Cc): [{name, address}], names
// decoded (RFC 2047) and unquoted, addresses in lower case.  Groups and
// comments beyond the simple forms are not handled.
function parseAddresses(value) {
  if (!value) return [];
  const s = value.replace(/\r?\n[ \t]/g, ' ');
  const out = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  const flush = () => {
    const t = cur.trim();
    cur = '';
    if (!t) return;
    const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(t);
    let name = m ? m[1].trim() : '';
    const address = (m ? m[2] : t).trim().toLowerCase();
    if (name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/\\(.)/g, '$1');
    out.push({ name: decodeWords(name), address });
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && quoted) { cur += ch + (s[++i] || ''); continue; }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') angle = true;
    else if (!quoted && ch === '>') angle = false;
    if (ch === ',' && !quoted && !angle) { flush(); continue; }
    cur += ch;
  }
  flush();
  return out;
}

// The Message-IDs in a header such as References or In-Reply-To, each with
// its angle brackets.
function messageIds(value) {
  return (value || '').match(/<[^<>\s]+>/g) || [];
}

module.exports = {
  encodeWords, decodeWords, mailbox, messageId, buildMessage, parseMessage,
  parseParams, decodeTransfer, splitMultipart, parseMime, leaves, parseAddresses, messageIds,
};
