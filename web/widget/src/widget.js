// widget.js -- the controller: the widget's state, the desk protocol, and
// the parts that show them, mounted in a shadow root.
//
// Life of a visitor: the config decides what the panel shows (chat, pre-chat
// form, or the "leave a message" form when no agent is online).  A visitor
// session (POST /sessions) is made only when needed -- on load if a token is
// remembered or the page passes a signed identity, else when the visitor
// first sends -- so browsing visitors create nothing on the desk.  With a
// session the widget loads the conversation and keeps one WebSocket open;
// the thread is the server's list of messages (by id, deduplicated) plus the
// visitor's own messages still being sent (the outbox).
//
// The parts (launcher, panel, thread, composer, forms, rating, outbox) get
// this object and read the state from it; whatever changes the state ends
// in render(), which redraws from it.

import { Api, ApiError } from './api.js';
import { Socket, TypingNotifier } from './socket.js';
import { Store } from './store.js';
import { pickText, translator } from './i18n.js';
import { h } from './dom.js';
import { applyColor } from './theme.js';
import { formatSize } from './format.js';
import { agentName, fromDesk, isClosed, isQueued, kindOf } from './model.js';
import { Launcher } from './launcher.js';
import { Panel } from './panel.js';
import { Thread } from './thread.js';
import { Composer } from './composer.js';
import { Forms } from './forms.js';
import { Rating } from './rating.js';
import { Outbox } from './outbox.js';
import css from './widget.css?inline';

const DEFAULT_MAX_FILE = 25 * 1024 * 1024; // kefu serve's default --max-upload
const POLL_MS = 15000;
const CONFIG_MAX_AGE_MS = 60000;
// What a conversation.updated event may carry.
const CONV_FIELDS = ['status', 'status_category', 'agent', 'queue_position', 'can_rate', 'rating'];

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
    this.outbox = new Outbox(this);
    this.rating = new Rating(this);
    this.isOpen = false;
    this.view = 'chat';
    this.lastId = 0;
    this.sessionPromise = null;
    this.pollTimer = null;
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

  localize(cfg) {
    const c = { ...(cfg || {}) };
    c.greeting = pickText(c.greeting, this.lang);
    if (Array.isArray(c.prechat)) c.prechat = c.prechat.map((f) => ({ ...f, label: pickText(f && f.label, this.lang) }));
    return c;
  }

  warn(what, e) {
    if (window.console) console.warn('[kefu widget] ' + what + ':', (e && e.message) || e);
  }

  channelName() {
    return (this.cfg.channel && this.cfg.channel.name) || this.t('title');
  }

  // The largest file the desk takes: config.max_upload (bytes) when the
  // server says, else kefu's default.
  maxUpload() {
    return Number(this.cfg.max_upload) || DEFAULT_MAX_FILE;
  }

  // A failed call in words for the visitor.
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
    const r = await this.api.session(body).catch((e) => this.anonymousSession(e, body));
    this.visitor = r.visitor || null;
    this.store.set({ token: r.token, identity: this.identity ? String(this.identity.id) : null });
    return this.visitor;
  }

  // A signature the desk refuses (expired, wrong secret): chat on as an
  // anonymous visitor rather than not at all, and say why in the console.
  anonymousSession(e, body) {
    if (!(e instanceof ApiError) || e.status !== 401 || !this.identity) throw e;
    this.warn('the signed identity was refused; chatting anonymously', e);
    this.identity = null;
    delete body.identity;
    if (this.store.get('identity') != null) delete body.token;
    return this.api.session(body);
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

  // Keeps the socket open once there is a session (after the first send).
  listen() {
    if (this.socket.stopped) this.socket.start();
  }

  // ----------------------------------------------------------- conversation
  async loadConversation(initial) {
    const r = await this.authed(() => this.api.conversation());
    this.setConversation(r.conversation);
    this.msgs.clear();
    for (const m of r.messages || []) this.msgs.set(m.id, m);
    this.outbox.forgetSent();
    if (typeof r.last_event_id === 'number') this.setLastId(initial ? r.last_event_id : Math.max(this.lastId, r.last_event_id));
    this.render();
    this.markRead();
  }

  // Reloads in the background.  quiet: a failure goes unreported (the
  // catch-up reloads: a poll, an event that came before the conversation).
  reload(quiet) {
    this.loadConversation(false).catch((e) => quiet || this.warn('reload failed', e));
  }

  setLastId(id) {
    this.lastId = id;
    this.store.set({ lastId: id });
  }

  setConversation(c) {
    const wasClosed = isClosed(this.conv);
    const prevTicket = this.conv && this.conv.ticket_id;
    this.conv = c || null;
    if (!this.conv) return;
    if (prevTicket && prevTicket !== this.conv.ticket_id) this.rating.reset();
    if (!wasClosed && isClosed(this.conv)) this.rating.done = false;
  }

  // The server's reply to a send: the stored message, the conversation now.
  accept(r) {
    if (r && r.message) this.msgs.set(r.message.id, r.message);
    if (r && r.conversation) this.setConversation(r.conversation);
  }

  onSocketOpen(reconnected) {
    this.startPolling();
    this.panel.setBanner();
    // After a gap, the server replays from ?after=; the conversation is
    // re-fetched as well, in case the gap was longer than it keeps.
    if (reconnected) this.reload();
  }

  onSocketDown() {
    this.panel.setBanner();
    this.startPolling();
  }

  // Every 15 s: while the socket is down, so a reply still shows up (and a
  // look that gets through means the desk is back: reconnect now, not when
  // the backoff says); and while waiting in the queue, so the position
  // moves (the desk only announces changes of the visitor's own ticket).
  startPolling() {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      if (document.visibilityState === 'hidden' || !this.api.token) return;
      const down = !this.socket.isOpen();
      if (!down && !isQueued(this.conv)) return;
      this.loadConversation(false).then(() => { if (down) this.socket.wake(); }, () => {});
    }, POLL_MS);
  }

  onEvent(ev) {
    if (typeof ev.id === 'number' && ev.id > this.lastId) this.setLastId(ev.id);
    const d = ev.data || {};
    if (this.conv && d.ticket_id && d.ticket_id !== this.conv.ticket_id && ev.type !== 'typing') {
      // Another (new) ticket: the server knows what the thread now is.
      this.reload();
      return;
    }
    switch (ev.type) {
      case 'message.created':
        this.onMessage(d.message);
        break;
      case 'conversation.updated':
        this.onConversationUpdated(d);
        break;
      case 'typing':
        if (d.who === 'agent') this.thread.setTyping(d.typing ? (d.name || agentName(this.conv) || this.t('agentDefault')) : null);
        break;
      case 'read':
        this.onRead(d);
        break;
      case 'resync':
        this.reload();
        break;
      default:
        break;
    }
  }

  onMessage(m) {
    if (!m || typeof m.id !== 'number') return;
    const isNew = !this.msgs.has(m.id);
    this.outbox.adopt(m);
    this.msgs.set(m.id, m);
    if (!this.conv) this.reload(true);
    if (kindOf(m) === 'agent') this.thread.setTyping(null);
    this.render();
    if (isNew && fromDesk(m)) {
      this.markRead();
      if (!this.isOpen) this.launcher.dismissed = 0;
    }
  }

  onConversationUpdated(d) {
    if (this.conv) {
      const next = { ...this.conv };
      for (const k of CONV_FIELDS) if (k in d) next[k] = d[k];
      this.setConversation(next);
    } else {
      this.reload(true);
    }
    this.render();
  }

  // The agent has read up to message_id: the visitor's messages show "read".
  onRead(d) {
    if (d.who !== 'agent' || typeof d.message_id !== 'number') return;
    for (const m of this.msgs.values())
      if (kindOf(m) === 'customer' && m.id <= d.message_id) m.read = true;
    this.render();
  }

  // Tells the desk the visitor has read the agent's messages (panel open,
  // page visible).
  markRead() {
    if (!this.isOpen || document.visibilityState === 'hidden' || !this.api.token) {
      this.launcher.render();
      return;
    }
    let maxOther = 0;
    let maxAll = 0;
    for (const m of this.msgs.values()) {
      maxAll = Math.max(maxAll, m.id);
      if (fromDesk(m)) maxOther = Math.max(maxOther, m.id);
    }
    const seen = Number(this.store.get('seen')) || 0;
    if (maxOther > seen) {
      this.store.set({ seen: maxAll });
      this.authed(() => this.api.read(maxAll)).catch(() => { /* a lost read mark is harmless */ });
    }
    this.launcher.render();
  }

  unreadCount() {
    const seen = Number(this.store.get('seen')) || 0;
    let n = 0;
    for (const m of this.msgs.values())
      if (kindOf(m) === 'agent' && !m.read && m.id > seen) n++;
    return n;
  }

  lastAgentId() {
    let id = 0;
    for (const m of this.msgs.values()) if (kindOf(m) === 'agent' && m.id > id) id = m.id;
    return id;
  }

  // ------------------------------------------------------------------ views
  // The chat once there is a thread or the visitor is identified.  Before
  // that: the leave-a-message form when nobody is online, the pre-chat form
  // when the channel has fields the visitor has not filled in yet.
  chooseView() {
    const hasThread = this.msgs.size > 0 || this.outbox.items.length > 0;
    const identified = !!(this.visitor && this.visitor.identified) || !!this.identity;
    if (hasThread || identified) this.view = 'chat';
    else if (this.cfg && this.cfg.online === false) this.view = 'leave';
    else if (this.prechatFields().length && !this.store.get('prechat')) this.view = 'prechat';
    else this.view = 'chat';
  }

  prechatFields() {
    return Array.isArray(this.cfg && this.cfg.prechat) ? this.cfg.prechat.filter((f) => f && f.name) : [];
  }

  // The DOM lives in a shadow root: the page's CSS cannot reach in, ours
  // cannot leak out.
  mount() {
    this.host = h('div', { id: 'kefu-widget', 'data-kefu-widget': '' });
    const shadow = this.host.attachShadow({ mode: 'open' });
    shadow.append(h('style', null, css));
    this.root = h('div', { class: 'kf', lang: this.lang });
    applyColor(this.root, this.cfg.color);
    this.launcher = new Launcher(this);
    this.thread = new Thread(this);
    this.forms = new Forms(this);
    this.composer = new Composer(this);
    this.panel = new Panel(this);
    this.root.append(this.launcher.peek, this.panel.el, this.launcher.el);
    this.root.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape' || !this.isOpen) return;
      if (!this.composer.closeEmoji()) this.close();
      e.stopPropagation();
    });
    shadow.append(this.root);
    document.body.append(this.host);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.markRead();
    });
    if (this.mobile.addEventListener) this.mobile.addEventListener('change', () => this.composer.updatePlaceholder());
  }

  // ------------------------------------------------------------ open/close
  open(focus = true) {
    if (this.isOpen) return;
    this.setOpen(true);
    this.chooseView();
    this.render();
    this.thread.scrollToEnd();
    this.markRead();
    if (focus) this.focusFirst();
    this.refreshConfig();
  }

  close() {
    if (!this.isOpen) return;
    this.setOpen(false);
    this.composer.toggleEmoji(false);
    this.typing.stop();
    this.launcher.dismissed = this.lastAgentId();
    this.render();
    this.launcher.el.focus();
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.open();
  }

  setOpen(open) {
    this.isOpen = open;
    this.store.set({ open });
    this.panel.el.hidden = !open;
    this.root.classList.toggle('kf-open', open);
    this.launcher.setOpen(open);
  }

  // The channel may have come online (or gone offline) since the page loaded.
  refreshConfig() {
    if (this.configAt && Date.now() - this.configAt <= CONFIG_MAX_AGE_MS) return;
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

  // Focus the first thing to use; on a phone only the panel itself, so the
  // keyboard does not jump up and hide the thread.
  focusFirst() {
    const target = this.view === 'chat' ? this.composer.input : this.forms.el.querySelector('input, textarea, select, button');
    if (this.mobile.matches || !target) this.panel.el.focus();
    else target.focus();
  }

  // ---------------------------------------------------------------- render
  render() {
    if (!this.root) return;
    this.panel.renderHead();
    this.panel.setBanner();
    const chat = this.view === 'chat';
    this.thread.el.hidden = !chat;
    this.composer.el.hidden = !chat;
    this.forms.el.hidden = chat;
    if (chat) this.thread.render();
    else this.forms.render();
    this.launcher.render();
  }
}
