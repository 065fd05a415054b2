// widget.js -- the chat widget: state, the desk protocol, and the DOM in
// its shadow root.
//
// Life of a visitor: the config decides what the panel shows (chat, pre-chat
// form, or the "leave a message" form when no agent is online).  A visitor
// session (POST /sessions) is made only when needed -- on load if a token is
// remembered or the page passes a signed identity, else when the visitor
// first sends -- so browsing visitors create nothing on the desk.  With a
// session the widget loads the conversation and keeps one WebSocket open;
// the thread is the server's list of messages (by id, deduplicated) plus the
// visitor's own messages still being sent.

import { Api, ApiError } from './api.js';
import { Socket, TypingNotifier } from './socket.js';
import { Store } from './store.js';
import { translator } from './i18n.js';
import { EMOJI } from './emoji.js';
import { h, icon } from './dom.js';
import css from './widget.css?inline';

const DEFAULT_MAX_FILE = 25 * 1024 * 1024; // kefu serve's default --max-upload
const POLL_MS = 15000;

function uuid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function formatSize(n) {
  if (!(n >= 0)) return '';
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + ' KB';
  return (n / 1024 / 1024).toFixed(1).replace(/\.0$/, '') + ' MB';
}

// #rgb / #rrggbb -> [r, g, b], or null.
function parseHex(c) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(c || '').trim());
  if (!m) return null;
  let s = m[1];
  if (s.length === 3) s = s.replace(/./g, (d) => d + d);
  return [0, 2, 4].map((i) => parseInt(s.slice(i, i + 2), 16));
}

function isClosed(conv) {
  return !!conv && (conv.status_category === 'resolved' || conv.status_category === 'closed');
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const URL_RE = /\bhttps?:\/\/[^\s<>"'，。！？、；：）】》」』]+/gi;

export class Widget {
  constructor({ origin, key, lang, identity }) {
    this.lang = lang;
    this.t = translator(lang);
    this.identity = identity || null;
    this.api = new Api(origin, key);
    this.store = new Store(key);
    this.cfg = null;
    this.visitor = null;
    this.conv = null;
    this.msgs = new Map(); // id -> message
    this.views = new Map(); // id -> {el, meta}
    this.pending = []; // the visitor's messages not yet stored by the server
    this.isOpen = false;
    this.view = 'chat';
    this.lastId = 0;
    this.typingTimer = null;
    this.agentTyping = null;
    this.rating = { score: 0, sending: false };
    this.sessionPromise = null;
    this.pollTimer = null;
    this.peekDismissed = 0;
    this.mobile = window.matchMedia ? window.matchMedia('(max-width: 480px)') : { matches: false };
    this.socket = new Socket({
      urlFor: (after) => this.api.socketUrl(after),
      lastId: () => this.lastId,
      onEvent: (ev) => this.onEvent(ev),
      onOpen: (reconnected) => this.onSocketOpen(reconnected),
      onDown: () => this.onSocketDown(),
    });
    this.typing = new TypingNotifier((on) => this.socket.send({ type: 'typing', typing: on }));
  }

  // ------------------------------------------------------------------ start
  async start() {
    this.cfg = this.localize(await this.api.config(this.lang));
    this.configAt = Date.now();
    this.mount();
    // A remembered token belongs to one visitor: a page that now signs in a
    // different person (or signs out) must not resume someone else's chat.
    const saved = this.store.get('token');
    const savedFor = this.store.get('identity') ?? null;
    const now = this.identity ? String(this.identity.id) : null;
    if (saved && savedFor !== null && savedFor !== now) this.store.clear();
    this.lastId = Number(this.store.get('lastId')) || 0;
    if (this.store.get('token') || this.identity) {
      try {
        await this.ensureSession();
        await this.loadConversation(true);
        this.socket.start();
      } catch (e) {
        this.warn('could not resume the conversation', e);
      }
    }
    this.chooseView();
    this.render();
    if (this.store.get('open') && !this.mobile.matches) this.open(false);
  }

  // Texts the server did not resolve to one language ({"zh-CN": …, "en": …})
  // are picked here: this language, its base, English, or any.
  pickText(v) {
    if (typeof v === 'string' || v == null) return v || '';
    if (typeof v !== 'object') return String(v);
    return v[this.lang] || v[this.lang.split('-')[0]] || v.en || Object.values(v).find((x) => typeof x === 'string') || '';
  }

  localize(cfg) {
    const c = { ...(cfg || {}) };
    c.greeting = this.pickText(c.greeting);
    if (Array.isArray(c.prechat)) c.prechat = c.prechat.map((f) => ({ ...f, label: this.pickText(f && f.label) }));
    return c;
  }

  warn(what, e) {
    if (window.console) console.warn('[kefu widget] ' + what + ':', (e && e.message) || e);
  }

  // ---------------------------------------------------------------- session
  // The visitor session: resumes the remembered token, or makes a new one.
  // fields (pre-chat or leave-a-message values) force a new call so the
  // desk stores them.
  ensureSession(fields) {
    if (this.api.token && !fields) return Promise.resolve(this.visitor);
    if (this.sessionPromise && !fields) return this.sessionPromise;
    const p = this.createSession(fields).finally(() => {
      if (this.sessionPromise === p) this.sessionPromise = null;
    });
    this.sessionPromise = p;
    return p;
  }

  async createSession(fields) {
    const body = {
      lang: this.lang,
      page: { url: location.href, title: document.title },
    };
    // Form values start a new visitor when there is no conversation yet (a
    // resumed session keeps the profile it has); otherwise resume.
    const token = fields && !this.conv ? null : this.api.token || this.store.get('token');
    if (token) body.token = token;
    if (this.identity) body.identity = this.identity;
    if (fields) body.fields = fields;
    let r;
    try {
      r = await this.api.session(body);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401 || !this.identity) throw e;
      // A signature the desk refuses (expired, wrong secret): chat on as an
      // anonymous visitor rather than not at all, and say why in the console.
      this.warn('the signed identity was refused; chatting anonymously', e);
      this.identity = null;
      delete body.identity;
      if (this.store.get('identity') != null) delete body.token;
      r = await this.api.session(body);
    }
    this.visitor = r.visitor || null;
    this.store.set({ token: r.token, identity: this.identity ? String(this.identity.id) : null });
    return this.visitor;
  }

  // Runs fn; a 401 (the token expired or was revoked) gets one new session
  // and one more try.
  async authed(fn) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      this.api.token = null;
      this.store.set({ token: null });
      await this.ensureSession();
      return fn();
    }
  }

  // ----------------------------------------------------------- conversation
  async loadConversation(initial) {
    const r = await this.authed(() => this.api.conversation());
    this.setConversation(r.conversation);
    this.msgs.clear();
    for (const m of r.messages || []) this.msgs.set(m.id, m);
    // A message the server has stored is no longer pending.
    this.pending = this.pending.filter((p) => p.state !== 'sent');
    if (typeof r.last_event_id === 'number') {
      this.lastId = initial ? r.last_event_id : Math.max(this.lastId, r.last_event_id);
      this.store.set({ lastId: this.lastId });
    }
    this.render();
    this.markRead();
  }

  setConversation(c) {
    const wasClosed = isClosed(this.conv);
    const prevTicket = this.conv && this.conv.ticket_id;
    this.conv = c || null;
    if (!this.conv) return;
    if (prevTicket && prevTicket !== this.conv.ticket_id) {
      this.rating = { score: 0, sending: false };
      this.ratingEl = null;
    }
    if (!wasClosed && isClosed(this.conv)) this.rating.done = false;
  }

  onSocketOpen(reconnected) {
    this.stopPolling();
    this.setBanner();
    // After a gap, the server replays from ?after=; the conversation is
    // re-fetched as well, in case the gap was longer than it keeps.
    if (reconnected) this.loadConversation(false).catch((e) => this.warn('reload failed', e));
  }

  onSocketDown() {
    this.setBanner();
    this.startPolling();
  }

  // While the socket is down, look every 15 s so a reply still shows up.
  startPolling() {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      if (document.visibilityState === 'hidden' || this.socket.isOpen() || !this.api.token) return;
      this.loadConversation(false).catch(() => {});
    }, POLL_MS);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  onEvent(ev) {
    if (typeof ev.id === 'number' && ev.id > this.lastId) {
      this.lastId = ev.id;
      this.store.set({ lastId: ev.id });
    }
    const d = ev.data || {};
    if (this.conv && d.ticket_id && d.ticket_id !== this.conv.ticket_id && ev.type !== 'typing') {
      // Another (new) ticket: the server knows what the thread now is.
      this.loadConversation(false).catch((e) => this.warn('reload failed', e));
      return;
    }
    switch (ev.type) {
      case 'message.created': {
        const m = d.message;
        if (!m || typeof m.id !== 'number') return;
        const isNew = !this.msgs.has(m.id);
        this.adoptPending(m);
        this.msgs.set(m.id, m);
        if (!this.conv) this.loadConversation(false).catch(() => {});
        if (m.author && m.author.kind === 'agent') this.setAgentTyping(null);
        this.render();
        if (isNew && m.author && m.author.kind !== 'customer') {
          this.markRead();
          if (!this.isOpen) this.peekDismissed = 0;
        }
        break;
      }
      case 'conversation.updated':
        if (this.conv) {
          const next = { ...this.conv };
          for (const k of ['status', 'status_category', 'agent', 'queue_position', 'can_rate', 'rating'])
            if (k in d) next[k] = d[k];
          this.setConversation(next);
        } else {
          this.loadConversation(false).catch(() => {});
        }
        this.render();
        break;
      case 'typing':
        if (d.who === 'agent') this.setAgentTyping(d.typing ? (d.name || (this.conv && this.conv.agent && this.conv.agent.name) || this.t('agentDefault')) : null);
        break;
      case 'read':
        if (d.who === 'agent' && typeof d.message_id === 'number') {
          for (const m of this.msgs.values())
            if (m.author && m.author.kind === 'customer' && m.id <= d.message_id) m.read = true;
          this.render();
        }
        break;
      case 'resync':
        this.loadConversation(false).catch((e) => this.warn('reload failed', e));
        break;
      default:
        break;
    }
  }

  // The echo of the visitor's own message replaces its pending bubble.
  adoptPending(m) {
    if (!m.author || m.author.kind !== 'customer') return;
    let i = this.pending.findIndex((p) => m.client_id && p.clientId === m.client_id);
    if (i < 0) i = this.pending.findIndex((p) => p.state !== 'failed' && !p.files && p.text === (m.text || ''));
    if (i >= 0) {
      this.pending[i].state = 'sent';
      this.pending.splice(i, 1);
    }
  }

  setAgentTyping(name) {
    clearTimeout(this.typingTimer);
    this.agentTyping = name;
    // A lost "typing: false" must not leave the dots forever.
    if (name) this.typingTimer = setTimeout(() => this.setAgentTyping(null), 8000);
    this.renderThread();
  }

  // Tells the desk the visitor has read the agent's messages (panel open,
  // page visible).
  markRead() {
    if (!this.isOpen || document.visibilityState === 'hidden' || !this.api.token) {
      this.renderBadge();
      return;
    }
    let maxOther = 0;
    let maxAll = 0;
    for (const m of this.msgs.values()) {
      maxAll = Math.max(maxAll, m.id);
      if (m.author && m.author.kind !== 'customer') maxOther = Math.max(maxOther, m.id);
    }
    const seen = Number(this.store.get('seen')) || 0;
    if (maxOther > seen) {
      this.store.set({ seen: maxAll });
      this.authed(() => this.api.read(maxAll)).catch(() => { /* a lost read mark is harmless */ });
    }
    this.renderBadge();
  }

  unreadCount() {
    const seen = Number(this.store.get('seen')) || 0;
    let n = 0;
    for (const m of this.msgs.values())
      if (m.author && m.author.kind === 'agent' && !m.read && m.id > seen) n++;
    return n;
  }

  // ------------------------------------------------------------------ views
  // Pre-chat form before the first message (fields configured, visitor not
  // identified); the leave-a-message form when nobody is online and there is
  // no conversation yet; otherwise the chat.
  chooseView() {
    const hasThread = this.msgs.size > 0 || this.pending.length > 0;
    const identified = !!(this.visitor && this.visitor.identified) || !!this.identity;
    if (!hasThread && this.cfg && this.cfg.online === false && !identified) this.view = 'leave';
    else if (!hasThread && this.cfg && this.cfg.online === false && identified) this.view = 'chat';
    else if (!hasThread && !identified && this.prechatFields().length && !this.store.get('prechat')) this.view = 'prechat';
    else this.view = 'chat';
  }

  prechatFields() {
    return Array.isArray(this.cfg && this.cfg.prechat) ? this.cfg.prechat.filter((f) => f && f.name) : [];
  }

  // -------------------------------------------------------------- DOM: shell
  mount() {
    const t = this.t;
    this.host = h('div', { id: 'kefu-widget', 'data-kefu-widget': '' });
    const shadow = this.host.attachShadow({ mode: 'open' });
    shadow.append(h('style', null, css));
    this.root = h('div', { class: 'kf', lang: this.lang });
    this.applyColor(this.cfg.color);

    this.badge = h('span', { class: 'kf-badge', 'aria-hidden': 'true', hidden: true });
    this.launcher = h('button', {
      class: 'kf-launcher', type: 'button', 'aria-label': t('open'), 'aria-expanded': 'false',
      'aria-controls': 'kf-panel', title: t('open'),
      onclick: () => this.toggle(),
    }, icon('chat'), this.badge);

    this.peek = h('div', { class: 'kf-peek', hidden: true });

    this.avatar = h('div', { class: 'kf-avatar', 'aria-hidden': 'true' }, icon('agent'));
    this.titleEl = h('h2', { class: 'kf-title', id: 'kf-title' });
    this.statusEl = h('div', { class: 'kf-status', 'aria-live': 'polite' });
    const head = h('header', { class: 'kf-head' },
      this.avatar,
      h('div', { class: 'kf-head-text' }, this.titleEl, this.statusEl),
      h('button', { class: 'kf-head-btn', type: 'button', 'aria-label': t('minimize'), title: t('minimize'), onclick: () => this.close() }, icon('minimize')),
    );
    this.banner = h('div', { class: 'kf-banner', role: 'status', hidden: true });
    this.thread = h('div', { class: 'kf-thread', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-labelledby': 'kf-title' });
    // Follow the newest message unless the visitor has scrolled up to read.
    this.stuck = true;
    this.thread.addEventListener('scroll', () => { this.stuck = this.nearBottom(); }, { passive: true });
    this.formBox = h('div', { class: 'kf-form', hidden: true });
    this.toast = h('div', { class: 'kf-toast', role: 'alert', hidden: true });
    this.body = h('div', { class: 'kf-body' }, this.thread, this.formBox, this.toast);
    this.composer = this.buildComposer();
    this.panel = h('section', {
      class: 'kf-panel', id: 'kf-panel', role: 'dialog', 'aria-labelledby': 'kf-title', tabindex: '-1', hidden: true,
    }, head, this.banner, this.body, this.composer);

    this.root.append(this.peek, this.panel, this.launcher);
    this.root.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape' || !this.isOpen) return;
      if (!this.emojiBox.hidden) {
        this.toggleEmoji(false);
        this.input.focus();
      } else {
        this.close();
      }
      e.stopPropagation();
    });
    shadow.append(this.root);
    document.body.append(this.host);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.markRead();
    });
    if (this.mobile.addEventListener) this.mobile.addEventListener('change', () => this.updatePlaceholder());
  }

  applyColor(color) {
    const rgb = parseHex(color);
    if (!rgb) return;
    const [r, g, b] = rgb;
    const dark = rgb.map((v) => Math.round(v * 0.82));
    const lum = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    const st = this.root.style;
    st.setProperty('--kf-color', `rgb(${r}, ${g}, ${b})`);
    st.setProperty('--kf-color-dark', `rgb(${dark.join(', ')})`);
    st.setProperty('--kf-color-soft', `rgba(${r}, ${g}, ${b}, .08)`);
    st.setProperty('--kf-color-line', `rgba(${r}, ${g}, ${b}, .25)`);
    st.setProperty('--kf-on-color', lum > 0.7 ? '#1f2329' : '#fff');
  }

  buildComposer() {
    const t = this.t;
    this.input = h('textarea', {
      class: 'kf-text', rows: '1', 'aria-label': t('inputLabel'), enterkeyhint: 'send', maxlength: '5000',
      oninput: () => this.onInput(),
      onkeydown: (e) => this.onKey(e),
      onpaste: (e) => this.onPaste(e),
    });
    this.updatePlaceholder();
    this.fileInput = h('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1', 'aria-hidden': 'true', onchange: () => this.onFiles() });
    this.emojiBtn = h('button', { class: 'kf-tool', type: 'button', 'aria-label': t('emoji'), title: t('emoji'), 'aria-expanded': 'false', 'aria-haspopup': 'true', onclick: () => this.toggleEmoji() }, icon('emoji'));
    this.attachBtn = h('button', { class: 'kf-tool', type: 'button', 'aria-label': t('attach'), title: t('attach'), onclick: () => this.fileInput.click() }, icon('attach'));
    this.sendBtn = h('button', { class: 'kf-send', type: 'button', 'aria-label': t('send'), title: t('send'), disabled: true, onclick: () => this.submitText() }, icon('send'));
    this.emojiBox = h('div', { class: 'kf-emoji', role: 'group', 'aria-label': t('emoji'), hidden: true },
      EMOJI.map((e) => h('button', { type: 'button', 'aria-label': e, onclick: () => this.insertEmoji(e) }, e)));
    return h('footer', { class: 'kf-composer' },
      this.emojiBox,
      h('div', { class: 'kf-row' }, this.emojiBtn, this.attachBtn, this.input, this.sendBtn),
      this.fileInput);
  }

  updatePlaceholder() {
    this.input.placeholder = this.t(this.mobile.matches ? 'placeholderMobile' : 'placeholder');
  }

  // ------------------------------------------------------------ open/close
  open(focus = true) {
    if (this.isOpen) return;
    this.isOpen = true;
    this.store.set({ open: true });
    this.panel.hidden = false;
    this.root.classList.add('kf-open');
    this.launcher.setAttribute('aria-expanded', 'true');
    this.launcher.setAttribute('aria-label', this.t('close'));
    this.launcher.title = this.t('close');
    this.launcher.replaceChildren(icon('close'), this.badge);
    this.chooseView();
    this.render();
    this.scrollToEnd();
    this.markRead();
    if (focus) this.focusFirst();
    // The channel may have come online (or gone offline) since the page loaded.
    if (!this.configAt || Date.now() - this.configAt > 60000) {
      this.configAt = Date.now();
      this.api.config(this.lang).then((raw) => {
        const c = this.localize(raw);
        const changed = c.online !== this.cfg.online;
        this.cfg = c;
        if (changed) {
          this.chooseView();
          this.render();
        }
      }).catch(() => {});
    }
  }

  close() {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.store.set({ open: false });
    this.panel.hidden = true;
    this.toggleEmoji(false);
    this.root.classList.remove('kf-open');
    this.launcher.setAttribute('aria-expanded', 'false');
    this.launcher.setAttribute('aria-label', this.t('open'));
    this.launcher.title = this.t('open');
    this.launcher.replaceChildren(icon('chat'), this.badge);
    this.typing.stop();
    this.peekDismissed = this.lastAgentId();
    this.render();
    this.launcher.focus();
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.open();
  }

  // Focus the first thing to use; on a phone only the panel itself, so the
  // keyboard does not jump up and hide the thread.
  focusFirst() {
    const target = this.view === 'chat' ? this.input : this.formBox.querySelector('input, textarea, select, button');
    if (this.mobile.matches || !target) this.panel.focus();
    else target.focus();
  }

  // ---------------------------------------------------------------- render
  render() {
    if (!this.root) return;
    const t = this.t;
    const c = this.conv;
    const online = this.cfg.online !== false;
    this.titleEl.textContent = (this.cfg.channel && this.cfg.channel.name) || t('title');
    let status;
    if (c && c.agent && c.agent.name && !isClosed(c)) status = t('servedBy', { name: c.agent.name });
    else if (!online) status = t('offline');
    else if (c && typeof c.queue_position === 'number' && c.queue_position > 0 && !isClosed(c)) status = t('waiting');
    else status = t('online');
    this.statusEl.textContent = status;
    const agentName = c && c.agent && c.agent.name;
    this.avatar.classList.toggle('kf-on', online || !!agentName);
    this.avatar.replaceChildren(agentName ? agentName.trim().slice(0, 1).toUpperCase() : icon('agent'));
    this.setBanner();

    const chat = this.view === 'chat';
    this.thread.hidden = !chat;
    this.composer.hidden = !chat;
    this.formBox.hidden = chat;
    if (chat) this.renderThread();
    else this.renderForm();
    this.renderBadge();
  }

  setBanner() {
    if (!this.banner) return;
    const t = this.t;
    let text = '';
    let info = false;
    if (this.api.token && this.socket.everOpen && !this.socket.isOpen() && !this.socket.stopped) text = t('reconnecting');
    else if (this.cfg.online === false && this.view === 'chat' && !(this.conv && this.conv.agent)) text = t('offlineBanner');
    else if (this.conv && !isClosed(this.conv) && !this.conv.agent && typeof this.conv.queue_position === 'number' && this.conv.queue_position > 0) {
      text = t('queue', { n: this.conv.queue_position });
      info = true;
    }
    this.banner.textContent = text;
    this.banner.classList.toggle('kf-info', info);
    this.banner.hidden = !text;
  }

  renderBadge() {
    if (!this.badge) return;
    const n = this.isOpen ? 0 : this.unreadCount();
    this.badge.hidden = n === 0;
    this.badge.textContent = n > 99 ? '99+' : String(n);
    if (!this.isOpen) {
      this.launcher.setAttribute('aria-label', n ? `${this.t('open')} (${this.t('unread', { n })})` : this.t('open'));
    }
    this.renderPeek(n);
  }

  lastAgentId() {
    let id = 0;
    for (const m of this.msgs.values()) if (m.author && m.author.kind === 'agent' && m.id > id) id = m.id;
    return id;
  }

  // The newest unread agent message beside the closed button.
  renderPeek(unread) {
    const last = this.lastAgentId();
    const m = this.msgs.get(last);
    if (this.isOpen || !unread || !m || last <= this.peekDismissed) {
      this.peek.hidden = true;
      return;
    }
    const text = (m.text || '').trim() || (m.attachments && m.attachments.length ? `[${this.t(this.isImage(m.attachments[0]) ? 'image' : 'file')}]` : '');
    this.peek.replaceChildren(
      h('button', { type: 'button', class: 'kf-peek-open', onclick: () => this.open() },
        h('div', { class: 'kf-peek-name' }, (m.author && m.author.name) || this.t('agentDefault')),
        h('div', { class: 'kf-peek-text' }, text)),
      h('button', {
        type: 'button', class: 'kf-peek-x', 'aria-label': this.t('close'),
        onclick: () => { this.peekDismissed = last; this.peek.hidden = true; },
      }, icon('close', 16)),
    );
    this.peek.hidden = false;
  }

  nearBottom() {
    const el = this.thread;
    return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  }

  scrollToEnd() {
    this.thread.scrollTop = this.thread.scrollHeight;
    this.stuck = true;
  }

  renderThread() {
    if (!this.thread || this.view !== 'chat') return;
    const stick = this.stuck;
    const nodes = [];
    if (this.cfg.greeting) {
      nodes.push(h('div', { class: 'kf-msg kf-in kf-greeting' },
        h('div', { class: 'kf-author' }, (this.cfg.channel && this.cfg.channel.name) || this.t('title')),
        h('div', { class: 'kf-bubble' }, this.cfg.greeting)));
    }
    const list = [...this.msgs.values()].sort((a, b) => a.id - b.id);
    let day = '';
    let prevAuthor = '';
    const keep = new Set();
    for (const m of list) {
      const d = new Date(m.created_at);
      const dkey = isNaN(d) ? '' : d.toDateString();
      if (dkey && dkey !== day) {
        day = dkey;
        prevAuthor = '';
        nodes.push(h('div', { class: 'kf-day' }, h('span', null, this.formatDay(d))));
      }
      const author = `${m.author && m.author.kind}:${m.author && m.author.name}`;
      let v = this.views.get(m.id);
      if (!v || v.showAuthor !== (author !== prevAuthor)) {
        v = this.buildMessage(m, author !== prevAuthor);
        this.views.set(m.id, v);
      }
      this.updateMeta(v, m);
      keep.add(m.id);
      nodes.push(v.el);
      prevAuthor = author;
    }
    for (const id of this.views.keys()) if (!keep.has(id)) this.views.delete(id);
    // "We will answer by e-mail" right after the message left through the form.
    if (this.leftNotice) {
      const after = this.views.get(this.leftNotice.after);
      const notice = h('div', { class: 'kf-msg kf-sys' }, h('div', { class: 'kf-bubble' }, this.leftNotice.text));
      const at = after ? nodes.indexOf(after.el) : -1;
      if (at >= 0) nodes.splice(at + 1, 0, notice);
      else nodes.push(notice);
    }
    for (const p of this.pending) nodes.push(this.pendingView(p));
    if (isClosed(this.conv)) {
      nodes.push(h('div', { class: 'kf-msg kf-sys' }, h('div', { class: 'kf-bubble' }, this.t('ended'))));
      const card = this.ratingCard();
      if (card) nodes.push(card);
    }
    if (this.agentTyping) {
      nodes.push(h('div', { class: 'kf-typing' },
        h('span', { class: 'kf-dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')),
        h('span', null, this.t('typing', { name: this.agentTyping }))));
    }
    // Keep the focused element (a star, the comment box) focused.
    const active = this.root.getRootNode().activeElement;
    this.thread.replaceChildren(...nodes);
    if (active && this.thread.contains(active) && active !== this.root.getRootNode().activeElement) active.focus();
    if (stick) this.scrollToEnd();
  }

  formatDay(d) {
    const today = new Date();
    const y = new Date(today);
    y.setDate(today.getDate() - 1);
    if (d.toDateString() === today.toDateString()) return this.t('today');
    if (d.toDateString() === y.toDateString()) return this.t('yesterday');
    try {
      return new Intl.DateTimeFormat(this.lang, { year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric', month: 'short', day: 'numeric' }).format(d);
    } catch {
      return d.toLocaleDateString();
    }
  }

  formatTime(d) {
    try {
      return new Intl.DateTimeFormat(this.lang, { hour: '2-digit', minute: '2-digit', hour12: false }).format(d);
    } catch {
      return d.toTimeString().slice(0, 5);
    }
  }

  // Text, with http(s) links made clickable -- built from text nodes only.
  textNodes(text) {
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

  // The message's text.  A message with only HTML (an e-mail) is shown as
  // the text of the server's sanitized HTML, parsed inert: never as markup.
  messageText(m) {
    if (typeof m.text === 'string' && m.text.trim()) return m.text;
    if (typeof m.html === 'string' && m.html) {
      try {
        const doc = new DOMParser().parseFromString(m.html, 'text/html');
        for (const br of doc.querySelectorAll('br')) br.replaceWith('\n');
        for (const b of doc.querySelectorAll('p, div, li, tr, h1, h2, h3, h4, h5, h6')) b.append('\n');
        return (doc.body.textContent || '').replace(/\n{3,}/g, '\n\n').trim();
      } catch {
        return '';
      }
    }
    return '';
  }

  isImage(a) {
    return /^image\/(png|jpe?g|gif|webp|bmp|avif)$/i.test(a.content_type || '');
  }

  attachmentView(a, progress) {
    const url = a.localUrl || this.api.attachmentUrl(a.url || '');
    if (this.isImage(a) && url) {
      const img = h('img', { src: url, alt: a.name || this.t('image'), loading: 'lazy', decoding: 'async' });
      img.addEventListener('load', () => { if (this.stuck) this.scrollToEnd(); });
      const link = h(a.localUrl ? 'span' : 'a', a.localUrl ? { class: 'kf-thumb' } : { class: 'kf-thumb', href: url, target: '_blank', rel: 'noopener noreferrer', title: a.name || '' }, img);
      if (progress) link.append(progress);
      return link;
    }
    const info = h('span', { class: 'kf-fileinfo' },
      h('span', { class: 'kf-filename', style: 'display:block' }, a.name || this.t('file')),
      h('span', { class: 'kf-filesize', style: 'display:block' }, formatSize(a.size)),
      progress || null);
    if (!url || a.localUrl) return h('span', { class: 'kf-filecard' }, icon('file'), info);
    return h('a', { class: 'kf-filecard', href: url, target: '_blank', rel: 'noopener noreferrer', download: a.name || '', title: `${this.t('download')} ${a.name || ''}` }, icon('file'), info);
  }

  buildMessage(m, showAuthor) {
    const kind = (m.author && m.author.kind) || 'system';
    const side = kind === 'customer' ? 'kf-out' : kind === 'agent' ? 'kf-in' : 'kf-sys';
    const el = h('div', { class: `kf-msg ${side}`, 'data-id': String(m.id), 'data-kind': kind });
    if (kind === 'agent' && showAuthor) el.append(h('div', { class: 'kf-author' }, (m.author && m.author.name) || this.t('agentDefault')));
    const text = this.messageText(m);
    const atts = Array.isArray(m.attachments) ? m.attachments : [];
    if (text && !atts.length) el.append(h('div', { class: 'kf-bubble' }, this.textNodes(text)));
    else if (atts.length) {
      el.append(h('div', { class: 'kf-bubble kf-media' },
        h('div', { class: 'kf-att-list' }, atts.map((a) => this.attachmentView(a))),
        text ? h('div', { class: 'kf-caption' }, this.textNodes(text)) : null));
    }
    const meta = h('div', { class: 'kf-meta' });
    if (kind !== 'system') el.append(meta);
    return { el, meta, showAuthor };
  }

  updateMeta(v, m) {
    const d = new Date(m.created_at);
    const parts = [];
    if (!isNaN(d)) parts.push(h('time', { datetime: m.created_at }, this.formatTime(d)));
    if (m.author && m.author.kind === 'customer' && m.read) parts.push(h('span', { class: 'kf-read' }, this.t('read')));
    const sig = parts.map((p) => p.textContent).join('|');
    if (v.sig !== sig) {
      v.sig = sig;
      v.meta.replaceChildren(...parts);
    }
  }

  pendingView(p) {
    const t = this.t;
    const el = h('div', { class: `kf-msg kf-out kf-pending${p.state === 'failed' ? ' kf-failed' : ''}`, 'data-client-id': p.clientId });
    if (p.files) {
      const progress = p.state === 'sending' ? h('div', { class: 'kf-progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(p.progress * 100)), 'aria-label': t('uploading', { p: Math.round(p.progress * 100) }) }, h('i', { style: `width:${Math.round(p.progress * 100)}%` })) : null;
      el.append(h('div', { class: 'kf-bubble kf-media' },
        h('div', { class: 'kf-att-list' }, p.files.map((f, i) => this.attachmentView({ name: f.name, size: f.size, content_type: f.type, localUrl: p.previews[i] }, i === 0 ? progress : null))),
        p.text ? h('div', { class: 'kf-caption' }, p.text) : null));
    } else {
      el.append(h('div', { class: 'kf-bubble' }, this.textNodes(p.text)));
    }
    const meta = h('div', { class: 'kf-meta' });
    if (p.state === 'sending') meta.append(p.files ? t('uploading', { p: Math.round(p.progress * 100) }) : t('sending'));
    else if (p.state === 'failed') {
      meta.append(h('span', { class: 'kf-fail', role: 'alert' }, p.error || t('failed')));
      if (p.retryable !== false) meta.append(h('button', { type: 'button', class: 'kf-linkbtn', onclick: () => this.deliver(p) }, t('retry')));
      meta.append(h('button', { type: 'button', class: 'kf-linkbtn', onclick: () => this.dropPending(p) }, t('remove')));
    }
    el.append(meta);
    p.el = el;
    return el;
  }

  // ------------------------------------------------------------- composing
  onInput() {
    const el = this.input;
    el.style.height = 'auto';
    el.style.height = Math.min(el.scrollHeight, 120) + 'px';
    this.sendBtn.disabled = !el.value.trim();
    if (el.value.trim() && this.api.token) this.typing.input();
  }

  onKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      this.submitText();
    }
  }

  onPaste(e) {
    const files = [...((e.clipboardData && e.clipboardData.files) || [])];
    if (files.length) {
      e.preventDefault();
      this.sendFiles(files);
    }
  }

  onFiles() {
    const files = [...this.fileInput.files];
    this.fileInput.value = '';
    if (files.length) this.sendFiles(files);
  }

  toggleEmoji(force) {
    const show = force === undefined ? this.emojiBox.hidden : force;
    this.emojiBox.hidden = !show;
    this.emojiBtn.setAttribute('aria-expanded', String(show));
    if (show) this.emojiBox.querySelector('button').focus();
  }

  insertEmoji(e) {
    const el = this.input;
    const s = el.selectionStart ?? el.value.length;
    const end = el.selectionEnd ?? el.value.length;
    el.value = el.value.slice(0, s) + e + el.value.slice(end);
    el.focus();
    el.selectionStart = el.selectionEnd = s + e.length;
    this.toggleEmoji(false);
    this.onInput();
  }

  submitText() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = '';
    this.onInput();
    this.typing.stop();
    this.toggleEmoji(false);
    const p = { clientId: uuid(), text, state: 'sending', progress: 0 };
    this.pending.push(p);
    this.renderThread();
    this.scrollToEnd();
    this.deliver(p);
  }

  sendFiles(files) {
    const max = this.maxUpload();
    const ok = [];
    for (const f of files) {
      if (f.size > max) this.showToast(this.t('tooLarge', { name: f.name, max: formatSize(max) }));
      else ok.push(f);
    }
    if (!ok.length) return;
    // One message per file: each gets its own progress and retry.
    for (const f of ok) {
      const preview = this.isImage({ content_type: f.type }) ? URL.createObjectURL(f) : null;
      const p = { clientId: uuid(), text: '', files: [f], previews: [preview], state: 'sending', progress: 0 };
      this.pending.push(p);
      this.deliver(p);
    }
    this.renderThread();
    this.scrollToEnd();
  }

  // The largest file the desk takes: config.max_upload (bytes) when the
  // server says, else kefu's default.
  maxUpload() {
    return Number(this.cfg.max_upload) || DEFAULT_MAX_FILE;
  }

  dropPending(p) {
    this.pending = this.pending.filter((x) => x !== p);
    for (const u of p.previews || []) if (u) URL.revokeObjectURL(u);
    this.renderThread();
  }

  // Sends one pending message (again, on retry: same client_id, so the desk
  // stores it once).
  async deliver(p) {
    p.state = 'sending';
    p.progress = 0;
    p.error = null;
    this.renderThread();
    try {
      await this.ensureSession();
      const r = await this.authed(() => (p.files
        ? this.api.sendFiles(p.text, p.clientId, p.files, (f) => this.onProgress(p, f))
        : this.api.sendText(p.text, p.clientId)));
      const i = this.pending.indexOf(p);
      if (i >= 0) this.pending.splice(i, 1);
      p.state = 'sent';
      if (r && r.message) this.msgs.set(r.message.id, r.message);
      if (r && r.conversation) this.setConversation(r.conversation);
      for (const u of p.previews || []) if (u) setTimeout(() => URL.revokeObjectURL(u), 5000);
      if (this.socket.stopped) this.socket.start();
      this.render();
      this.scrollToEnd();
    } catch (e) {
      if (this.pending.indexOf(p) < 0) return;
      p.state = 'failed';
      p.error = this.friendly(e);
      p.retryable = !(e instanceof ApiError && (e.status === 413 || e.status === 415 || e.status === 400 || e.status === 422));
      this.renderThread();
    }
  }

  onProgress(p, f) {
    p.progress = f;
    const bar = p.el && p.el.querySelector('.kf-progress');
    if (bar) {
      bar.firstChild.style.width = Math.round(f * 100) + '%';
      bar.setAttribute('aria-valuenow', String(Math.round(f * 100)));
    }
    const meta = p.el && p.el.querySelector('.kf-meta');
    if (meta) meta.textContent = this.t('uploading', { p: Math.round(f * 100) });
  }

  friendly(e) {
    const t = this.t;
    if (!(e instanceof ApiError)) return t('errGeneric');
    if (e.status === 0) return t('errNetwork');
    if (e.status === 413) return t('tooLargeServer', { max: formatSize(this.maxUpload()) });
    if (e.status === 429) return t('errRate');
    if (e.status === 401 || e.status === 403) return t('errAuth');
    if (e.status >= 500) return t('errServer');
    return t('errGeneric');
  }

  showToast(text) {
    clearTimeout(this.toastTimer);
    this.toast.textContent = text;
    this.toast.hidden = false;
    this.toastTimer = setTimeout(() => { this.toast.hidden = true; }, 6000);
  }

  // ----------------------------------------------------------------- rating
  ratingCard() {
    const c = this.conv;
    const t = this.t;
    if (!c) return null;
    if (c.rating && typeof c.rating.score === 'number') {
      return h('div', { class: 'kf-card kf-rated' },
        h('h3', null, this.rating.done ? t('rateThanks') : t('rateYours')),
        this.stars(c.rating.score, true),
        c.rating.comment ? h('div', { class: 'kf-star-label' }, c.rating.comment) : null);
    }
    if (!c.can_rate) return null;
    if (this.ratingEl) return this.ratingEl;
    const label = h('div', { class: 'kf-star-label', 'aria-live': 'polite' });
    const comment = h('textarea', { class: 'kf-input', rows: '2', placeholder: t('rateComment'), 'aria-label': t('rateComment'), maxlength: '1000' });
    const send = h('button', { class: 'kf-primary', type: 'button', disabled: true }, t('rateSend'));
    const stars = this.stars(0, false, (n) => {
      this.rating.score = n;
      label.textContent = t('rateLabels')[n - 1];
      send.disabled = false;
    });
    send.addEventListener('click', async () => {
      if (!this.rating.score || this.rating.sending) return;
      this.rating.sending = true;
      send.disabled = true;
      try {
        const r = await this.authed(() => this.api.rate(this.rating.score, comment.value.trim()));
        this.conv = { ...this.conv, rating: (r && r.rating) || { score: this.rating.score, comment: comment.value.trim() }, can_rate: false };
        this.rating.done = true;
        this.ratingEl = null;
        this.renderThread();
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          this.conv = { ...this.conv, can_rate: false };
          this.ratingEl = null;
          this.renderThread();
        } else {
          this.showToast(this.friendly(e));
          send.disabled = false;
        }
      } finally {
        this.rating.sending = false;
      }
    });
    this.ratingEl = h('div', { class: 'kf-card kf-rate' }, h('h3', { id: 'kf-rate-title' }, t('rateTitle')), stars, label, comment, h('div', { style: 'height:10px' }), send);
    return this.ratingEl;
  }

  // Five stars: a radio group (arrow keys move) or a read-only display.
  stars(score, readonly, onPick) {
    const t = this.t;
    if (readonly) {
      return h('div', { class: 'kf-stars kf-stars-ro', role: 'img', 'aria-label': t('rateStar', { n: score }) },
        [1, 2, 3, 4, 5].map((n) => h('span', { class: `kf-star${n <= score ? ' kf-lit' : ''}` }, icon('star'))));
    }
    const group = h('div', { class: 'kf-stars', role: 'radiogroup', 'aria-labelledby': 'kf-rate-title' });
    const btns = [1, 2, 3, 4, 5].map((n) => h('button', {
      type: 'button', class: 'kf-star', role: 'radio', 'aria-checked': 'false', 'aria-label': t('rateStar', { n }),
      title: t('rateLabels')[n - 1], 'data-score': String(n), tabindex: n === 1 ? '0' : '-1',
      onclick: () => pick(n),
      onmouseenter: () => paint(n),
      onmouseleave: () => paint(current),
      onkeydown: (e) => {
        if (e.key === 'ArrowRight' || e.key === 'ArrowUp') { e.preventDefault(); pick(Math.min(5, (current || 0) + 1)); btns[current - 1].focus(); }
        if (e.key === 'ArrowLeft' || e.key === 'ArrowDown') { e.preventDefault(); pick(Math.max(1, (current || 2) - 1)); btns[current - 1].focus(); }
      },
    }, icon('star')));
    let current = score;
    const paint = (k) => btns.forEach((b, i) => b.classList.toggle('kf-lit', i < k));
    const pick = (n) => {
      current = n;
      paint(n);
      btns.forEach((b, i) => {
        b.setAttribute('aria-checked', String(i === n - 1));
        b.tabIndex = i === n - 1 ? 0 : -1;
      });
      onPick(n);
    };
    group.append(...btns);
    return group;
  }

  // ------------------------------------------------------------------ forms
  renderForm() {
    if (this.formBuiltFor === this.view) return;
    this.formBuiltFor = this.view;
    if (this.view === 'prechat') this.buildPrechat();
    else if (this.view === 'leave') this.buildLeave();
  }

  field(def, idBase) {
    const t = this.t;
    const id = `kf-f-${idBase}-${def.name}`;
    const type = ['text', 'email', 'tel', 'textarea', 'select'].includes(def.type) ? def.type : 'text';
    const attrs = { class: 'kf-input', id, name: def.name, required: !!def.required, 'aria-required': def.required ? 'true' : null };
    let input;
    if (type === 'textarea') input = h('textarea', { ...attrs, rows: '3', maxlength: '5000' });
    else if (type === 'select') {
      input = h('select', attrs, h('option', { value: '' }, t('choose')),
        (Array.isArray(def.options) ? def.options : []).map((o) => h('option', { value: String(o) }, String(o))));
    } else {
      input = h('input', {
        ...attrs, type, maxlength: '200',
        autocomplete: type === 'email' ? 'email' : type === 'tel' ? 'tel' : def.name === 'name' ? 'name' : 'on',
        inputmode: type === 'tel' ? 'tel' : type === 'email' ? 'email' : null,
      });
    }
    const err = h('div', { class: 'kf-field-err', id: id + '-err', hidden: true });
    input.setAttribute('aria-describedby', id + '-err');
    const label = def.label || t(def.name) || def.name;
    const wrap = h('div', { class: 'kf-field' },
      h('label', { class: 'kf-label', for: id }, label, def.required ? h('span', { class: 'kf-req', 'aria-hidden': 'true' }, '*') : null),
      input, err);
    return { def: { ...def, type, label }, input, err, wrap };
  }

  // Checks every field; shows the first problem of each and focuses the
  // first bad one.  Returns {name: value} or null.
  collect(fields) {
    const t = this.t;
    const out = {};
    let first = null;
    for (const f of fields) {
      const v = f.input.value.trim();
      let msg = '';
      if (f.def.required && !v) msg = t('fieldRequired', { label: f.def.label });
      else if (v && f.def.type === 'email' && !EMAIL_RE.test(v)) msg = t('badEmail');
      f.err.textContent = msg;
      f.err.hidden = !msg;
      f.input.setAttribute('aria-invalid', msg ? 'true' : 'false');
      if (msg && !first) first = f.input;
      if (v) out[f.def.name] = v;
    }
    if (first) {
      first.focus();
      return null;
    }
    return out;
  }

  buildPrechat() {
    const t = this.t;
    const fields = this.prechatFields().map((d) => this.field(d, 'pre'));
    const submit = h('button', { class: 'kf-primary', type: 'submit' }, t('start'));
    const form = h('form', { novalidate: true },
      h('p', { class: 'kf-intro' }, t('prechatIntro')),
      fields.map((f) => f.wrap), submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const values = this.collect(fields);
      if (!values) return;
      submit.disabled = true;
      try {
        await this.ensureSession(values);
        this.store.set({ prechat: true });
        if (this.socket.stopped) this.socket.start();
        await this.loadConversation(false).catch(() => {});
        this.view = 'chat';
        this.render();
        this.focusFirst();
      } catch (err) {
        this.showToast(this.friendly(err));
      } finally {
        submit.disabled = false;
      }
    });
    this.formBox.replaceChildren(form);
  }

  buildLeave() {
    const t = this.t;
    const fields = [
      this.field({ name: 'name', label: t('name'), type: 'text', required: true }, 'leave'),
      this.field({ name: 'email', label: t('email'), type: 'email', required: true }, 'leave'),
      this.field({ name: 'message', label: t('message'), type: 'textarea', required: true }, 'leave'),
    ];
    const submit = h('button', { class: 'kf-primary', type: 'submit' }, t('leaveSend'));
    const form = h('form', { novalidate: true },
      h('p', { class: 'kf-intro' }, t('leaveIntro')),
      fields.map((f) => f.wrap), submit);
    const clientId = uuid();
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const values = this.collect(fields);
      if (!values) return;
      submit.disabled = true;
      try {
        await this.ensureSession({ name: values.name, email: values.email });
        const r = await this.authed(() => this.api.sendText(values.message, clientId));
        if (r && r.message) this.msgs.set(r.message.id, r.message);
        if (r && r.conversation) this.setConversation(r.conversation);
        this.store.set({ prechat: true });
        if (this.socket.stopped) this.socket.start();
        this.leftNotice = { text: t('leaveDone', { email: values.email }), after: r && r.message && r.message.id };
        this.view = 'chat';
        this.render();
        this.scrollToEnd();
      } catch (err) {
        this.showToast(this.friendly(err));
      } finally {
        submit.disabled = false;
      }
    });
    this.formBox.replaceChildren(form);
  }
}
