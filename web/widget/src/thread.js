// thread.js -- the conversation as the visitor sees it: the greeting, day
// separators, the messages (text with links, images, file cards) with
// their time and read mark, the visitor's messages still on their way, the
// "ended" note with the rating card, and the agent's typing dots.
//
// Every event re-renders the whole thread, so each message's element is
// built once and reused: images stay loaded and nothing flickers.
import { h, icon } from './dom.js';
import { formatDay, formatSize, formatTime } from './format.js';
import { isClosed, isImage, kindOf, messageText } from './model.js';

const URL_RE = /\bhttps?:\/\/[^\s<>"'，。！？、；：）】》」』]+/gi;

// Text, with http(s) links made clickable -- built from text nodes only.
function linkify(text) {
  const out = [];
  let last = 0;
  URL_RE.lastIndex = 0;
  let m;
  while ((m = URL_RE.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer nofollow' }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// A text bubble; with attachments, a media bubble with the text as caption.
function bubble(text, atts) {
  if (!atts.length) return text ? h('div', { class: 'kf-bubble' }, linkify(text)) : null;
  return h('div', { class: 'kf-bubble kf-media' },
    h('div', { class: 'kf-att-list' }, atts),
    text ? h('div', { class: 'kf-caption' }, linkify(text)) : null);
}

// A centred note from the widget itself, not a message.
function note(text) {
  return h('div', { class: 'kf-msg kf-sys' }, h('div', { class: 'kf-bubble' }, text));
}

function percent(p) {
  return Math.round(p.progress * 100);
}

export class Thread {
  constructor(w) {
    this.w = w;
    this.views = new Map(); // message id -> {el, meta, showAuthor, sig}
    this.typing = null; // the agent's name while they type
    this.typingTimer = null;
    this.notice = null; // {text, after: message id}, set by the leave-a-message form
    this.el = h('div', { class: 'kf-thread', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-labelledby': 'kf-title' });
    // Follow the newest message unless the visitor has scrolled up to read.
    this.stuck = true;
    this.el.addEventListener('scroll', () => { this.stuck = this.nearBottom(); }, { passive: true });
  }

  nearBottom() {
    const el = this.el;
    return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  }

  scrollToEnd() {
    this.el.scrollTop = this.el.scrollHeight;
    this.stuck = true;
  }

  setTyping(name) {
    clearTimeout(this.typingTimer);
    this.typing = name;
    // A lost "typing: false" must not leave the dots forever.
    if (name) this.typingTimer = setTimeout(() => this.setTyping(null), 8000);
    this.render();
  }

  render() {
    const w = this.w;
    if (w.view !== 'chat') return;
    const stick = this.stuck;
    const nodes = this.messageNodes();
    if (w.cfg.greeting) nodes.unshift(this.greeting());
    if (this.notice) this.placeNotice(nodes);
    for (const p of w.outbox.items) nodes.push(this.pendingView(p));
    if (isClosed(w.conv)) {
      nodes.push(note(w.t('ended')));
      const card = w.rating.card();
      if (card) nodes.push(card);
    }
    if (this.typing) nodes.push(this.typingView());
    this.replace(nodes);
    if (stick) this.scrollToEnd();
  }

  // Keeps the focused element (a star, the comment box) focused.
  replace(nodes) {
    const shadow = this.el.getRootNode();
    const active = shadow.activeElement;
    this.el.replaceChildren(...nodes);
    if (active && this.el.contains(active) && active !== shadow.activeElement) active.focus();
  }

  greeting() {
    const w = this.w;
    return h('div', { class: 'kf-msg kf-in kf-greeting' },
      h('div', { class: 'kf-author' }, w.channelName()),
      h('div', { class: 'kf-bubble' }, w.cfg.greeting));
  }

  // The server's messages in id order, with a day separator where the date
  // changes and the author's name on the first of each run.
  messageNodes() {
    const nodes = [];
    const keep = new Set();
    let day = '';
    let prevAuthor = '';
    for (const m of [...this.w.msgs.values()].sort((a, b) => a.id - b.id)) {
      const d = new Date(m.created_at);
      const dkey = isNaN(d) ? '' : d.toDateString();
      if (dkey && dkey !== day) {
        day = dkey;
        prevAuthor = '';
        nodes.push(h('div', { class: 'kf-day' }, h('span', null, formatDay(d, this.w.lang, this.w.t))));
      }
      const author = `${kindOf(m)}:${m.author && m.author.name}`;
      nodes.push(this.messageView(m, author !== prevAuthor));
      keep.add(m.id);
      prevAuthor = author;
    }
    for (const id of this.views.keys()) if (!keep.has(id)) this.views.delete(id);
    return nodes;
  }

  // The kept element, rebuilt only when its author line comes or goes.
  messageView(m, showAuthor) {
    let v = this.views.get(m.id);
    if (!v || v.showAuthor !== showAuthor) {
      v = this.buildMessage(m, showAuthor);
      this.views.set(m.id, v);
    }
    this.updateMeta(v, m);
    return v.el;
  }

  // "We will answer by e-mail" right after the message left through the form.
  placeNotice(nodes) {
    const after = this.views.get(this.notice.after);
    const at = after ? nodes.indexOf(after.el) : -1;
    nodes.splice(at >= 0 ? at + 1 : nodes.length, 0, note(this.notice.text));
  }

  typingView() {
    return h('div', { class: 'kf-typing' },
      h('span', { class: 'kf-dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')),
      h('span', null, this.w.t('typing', { name: this.typing })));
  }

  buildMessage(m, showAuthor) {
    const t = this.w.t;
    const kind = kindOf(m) || 'system';
    const side = kind === 'customer' ? 'kf-out' : kind === 'agent' ? 'kf-in' : 'kf-sys';
    const atts = Array.isArray(m.attachments) ? m.attachments : [];
    const el = h('div', { class: `kf-msg ${side}`, 'data-id': String(m.id), 'data-kind': kind },
      kind === 'agent' && showAuthor ? h('div', { class: 'kf-author' }, (m.author && m.author.name) || t('agentDefault')) : null,
      bubble(messageText(m), atts.map((a) => this.attachmentView(a))));
    const meta = h('div', { class: 'kf-meta' });
    if (kind !== 'system') el.append(meta);
    return { el, meta, showAuthor };
  }

  // The time, and "read" on the visitor's messages the agent has read;
  // touched only when that changes.
  updateMeta(v, m) {
    const d = new Date(m.created_at);
    const parts = [];
    if (!isNaN(d)) parts.push(h('time', { datetime: m.created_at }, formatTime(d, this.w.lang)));
    if (kindOf(m) === 'customer' && m.read) parts.push(h('span', { class: 'kf-read' }, this.w.t('read')));
    const sig = parts.map((p) => p.textContent).join('|');
    if (v.sig !== sig) {
      v.sig = sig;
      v.meta.replaceChildren(...parts);
    }
  }

  // An image thumbnail or a file card.  a.localUrl is the preview of a file
  // still uploading: shown, but not a link.
  attachmentView(a, progress) {
    const t = this.w.t;
    const url = a.localUrl || this.w.api.attachmentUrl(a.url || '');
    if (isImage(a) && url) {
      const img = h('img', { src: url, alt: a.name || t('image'), loading: 'lazy', decoding: 'async' });
      // An image grows the thread when it loads: stay at the end if we were.
      img.addEventListener('load', () => { if (this.stuck) this.scrollToEnd(); });
      const link = h(a.localUrl ? 'span' : 'a', a.localUrl ? { class: 'kf-thumb' } : { class: 'kf-thumb', href: url, target: '_blank', rel: 'noopener noreferrer', title: a.name || '' }, img);
      if (progress) link.append(progress);
      return link;
    }
    const info = h('span', { class: 'kf-fileinfo' },
      h('span', { class: 'kf-filename', style: 'display:block' }, a.name || t('file')),
      h('span', { class: 'kf-filesize', style: 'display:block' }, formatSize(a.size)),
      progress || null);
    if (!url || a.localUrl) return h('span', { class: 'kf-filecard' }, icon('file'), info);
    return h('a', { class: 'kf-filecard', href: url, target: '_blank', rel: 'noopener noreferrer', download: a.name || '', title: `${t('download')} ${a.name || ''}` }, icon('file'), info);
  }

  // A message from the outbox: its progress while sending, the error with
  // retry and remove when it failed.
  pendingView(p) {
    const el = h('div', { class: `kf-msg kf-out kf-pending${p.state === 'failed' ? ' kf-failed' : ''}`, 'data-client-id': p.clientId },
      bubble(p.text, p.files ? p.files.map((f, i) => this.attachmentView({ name: f.name, size: f.size, content_type: f.type, localUrl: p.previews[i] }, i === 0 ? this.progressBar(p) : null)) : []),
      this.pendingMeta(p));
    p.el = el;
    return el;
  }

  progressBar(p) {
    if (p.state !== 'sending') return null;
    const pct = percent(p);
    return h('div', { class: 'kf-progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct), 'aria-label': this.w.t('uploading', { p: pct }) },
      h('i', { style: `width:${pct}%` }));
  }

  pendingMeta(p) {
    const t = this.w.t;
    const outbox = this.w.outbox;
    const meta = h('div', { class: 'kf-meta' });
    if (p.state === 'sending') meta.append(p.files ? t('uploading', { p: percent(p) }) : t('sending'));
    else if (p.state === 'failed') {
      meta.append(h('span', { class: 'kf-fail', role: 'alert' }, p.error || t('failed')));
      if (p.retryable !== false) meta.append(h('button', { type: 'button', class: 'kf-linkbtn', onclick: () => outbox.deliver(p) }, t('retry')));
      meta.append(h('button', { type: 'button', class: 'kf-linkbtn', onclick: () => outbox.drop(p) }, t('remove')));
    }
    return meta;
  }

  // Upload progress moves the bar and the percentage in place, without a
  // re-render per progress event.
  showProgress(p) {
    const pct = percent(p);
    const bar = p.el && p.el.querySelector('.kf-progress');
    if (bar) {
      bar.firstChild.style.width = pct + '%';
      bar.setAttribute('aria-valuenow', String(pct));
    }
    const meta = p.el && p.el.querySelector('.kf-meta');
    if (meta) meta.textContent = this.w.t('uploading', { p: pct });
  }
}
