// realtime.js -- the console's one WebSocket to GET /api/v1/ws
// (docs/realtime.md): events in id order, resumed with ?after= after a
// drop, commands out (activity, typing, viewing, read, presence).
//
//   realtime.start()                     after login
//   const off = realtime.on('message.created', (data, event) => ...)
//   realtime.on('*', fn)                 every event
//   realtime.on('resync', fn)            events were missed for good: reload
//   realtime.send({type: 'viewing', ticket_id: 4, viewing: true})
//   realtime.state.status                'connecting' | 'open' | 'closed'
//   realtime.stop()                      at logout
//
// Reconnects with a growing delay (1 s up to 30 s, reset once open), and
// sends `activity` at most once a minute while the agent uses keyboard or
// mouse, so presence does not go "away" while someone is working.
import { reactive } from 'vue';

const ACTIVITY_EVERY_MS = 60000;

export const realtime = {
  state: reactive({ status: 'closed', lastId: 0 }),
  handlers: new Map(),
  ws: null,
  want: false,
  delay: 1000,
  timer: null,
  lastActivity: 0,
  viewing: new Set(),

  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  },

  emit(type, data, event) {
    for (const key of [type, '*']) {
      for (const fn of this.handlers.get(key) || []) {
        try { fn(data, event); } catch (err) { console.error(err); }
      }
    }
  },

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const after = this.state.lastId ? `?after=${this.state.lastId}` : '';
    return `${proto}//${location.host}/api/v1/ws${after}`;
  },

  start() {
    this.want = true;
    if (!this.ws) this.connect();
    if (!this.listening) {
      this.listening = true;
      const seen = () => this.activity();
      for (const ev of ['keydown', 'mousedown', 'touchstart', 'focus']) window.addEventListener(ev, seen, { passive: true });
    }
  },

  stop() {
    this.want = false;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.state.status = 'closed';
    this.state.lastId = 0;
    this.viewing.clear();
  },

  connect() {
    this.state.status = 'connecting';
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      this.state.status = 'open';
      this.delay = 1000;
      // Tell the others again which tickets are open here.
      for (const id of this.viewing) this.send({ type: 'viewing', ticket_id: id, viewing: true });
      this.emit('open', {});
    };
    ws.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (typeof ev.id === 'number') {
        if (ev.id <= this.state.lastId) return; // replayed twice: once is enough
        this.state.lastId = ev.id;
      }
      this.emit(ev.type, ev.data || {}, ev);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.state.status = 'closed';
      this.emit('close', {});
      if (this.want) {
        this.timer = setTimeout(() => this.connect(), this.delay);
        this.delay = Math.min(this.delay * 2, 30000);
      }
    };
  },

  send(cmd) {
    if (cmd.type === 'viewing') {
      if (cmd.viewing === false) this.viewing.delete(cmd.ticket_id);
      else this.viewing.add(cmd.ticket_id);
    }
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(cmd));
      return true;
    }
    return false;
  },

  activity() {
    const now = Date.now();
    if (now - this.lastActivity < ACTIVITY_EVERY_MS) return;
    if (this.send({ type: 'activity' })) this.lastActivity = now;
  },
};
