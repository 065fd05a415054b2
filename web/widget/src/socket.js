// socket.js -- the one WebSocket to the desk, kept open.
//
// Connects with ?after=<last event id seen>, so the server replays what was
// missed; on a drop it reconnects with exponential backoff and jitter
// (1 s, 2 s, 4 s … capped at 30 s, each scaled by a random 0.5–1), at once
// when the browser says it is back online or the page becomes visible.
// onOpen(reconnected) lets the owner re-fetch the conversation after a gap.

const BASE_MS = 1000;
const MAX_MS = 30000;

export class Socket {
  // urlFor(after) -> ws URL; lastId() -> highest event id seen so far.
  constructor({ urlFor, lastId, onEvent, onOpen, onDown }) {
    this.urlFor = urlFor;
    this.lastId = lastId;
    this.onEvent = onEvent;
    this.onOpen = onOpen;
    this.onDown = onDown;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.everOpen = false;
    this.wake = () => {
      if (!this.stopped && !this.isOpen() && document.visibilityState !== 'hidden') this.connectNow();
    };
  }

  isOpen() {
    return !!this.ws && this.ws.readyState === 1;
  }

  // Was connected, lost it, and is trying again.
  reconnecting() {
    return this.everOpen && !this.isOpen() && !this.stopped;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.wake);
    document.addEventListener('visibilitychange', this.wake);
    this.connectNow();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.wake);
    document.removeEventListener('visibilitychange', this.wake);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = ws.onerror = ws.onmessage = ws.onopen = null;
      try { ws.close(1000); } catch { /* already closed */ }
    }
  }

  connectNow() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.ws && this.ws.readyState <= 1) return;
    let ws;
    try {
      ws = new WebSocket(this.urlFor(this.lastId()));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const reconnected = this.everOpen || this.attempt > 0;
      this.everOpen = true;
      this.attempt = 0;
      if (this.onOpen) this.onOpen(reconnected);
    };
    ws.onmessage = (e) => {
      let ev;
      try { ev = JSON.parse(e.data); } catch { return; }
      if (ev && typeof ev === 'object' && typeof ev.type === 'string') this.onEvent(ev);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.onDown) this.onDown();
      if (!this.stopped) this.scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  scheduleReconnect() {
    if (this.stopped || this.timer) return;
    const delay = Math.min(MAX_MS, BASE_MS * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt = Math.min(this.attempt + 1, 10);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connectNow();
    }, delay);
  }

  send(obj) {
    if (!this.isOpen()) return false;
    try {
      this.ws.send(JSON.stringify(obj));
      return true;
    } catch {
      return false;
    }
  }
}

// Typing notices to the agent: at most one "true" every 3 s while the
// visitor types, "false" after 5 s without a keystroke or when they send.
export class TypingNotifier {
  constructor(send) {
    this.send = send;
    this.lastTrue = 0;
    this.active = false;
    this.idle = null;
  }

  input() {
    const now = Date.now();
    if (now - this.lastTrue >= 3000) {
      this.lastTrue = now;
      this.active = true;
      this.send(true);
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), 5000);
  }

  stop() {
    clearTimeout(this.idle);
    this.idle = null;
    if (this.active) {
      this.active = false;
      this.lastTrue = 0;
      this.send(false);
    }
  }
}
