// mime.js -- just enough MIME for the email tests to write a message and
// read headers back: RFC 2047 encoded-words (UTF-8, B encoding) both ways,
// a single-part text/plain message builder, and a header splitter.
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

module.exports = { encodeWords, decodeWords, mailbox, messageId, buildMessage, parseMessage };
