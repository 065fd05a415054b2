// lib/realtime.js against a fake WebSocket: resuming with ?after= after a
// drop, duplicate event ids dropped, `viewing` sent again on reopen, the
// growing reconnect delay, stop(), and the throttled `activity`.
import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import { realtime } from '../src/lib/realtime.js';

class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static all = [];

  constructor(url) {
    this.url = url;
    this.readyState = FakeSocket.CONNECTING;
    this.sent = [];
    this.closedWith = null;
    FakeSocket.all.push(this);
  }

  // What the server does.
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen && this.onopen({});
  }
  deliver(frame) {
    this.onmessage && this.onmessage({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }
  drop() {
    this.readyState = FakeSocket.CLOSED;
    this.onclose && this.onclose({ code: 1006 });
  }

  // What the client does.
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code) {
    this.closedWith = code;
    this.readyState = FakeSocket.CLOSED;
    this.onclose && this.onclose({ code });
  }
}

const last = () => FakeSocket.all[FakeSocket.all.length - 1];
const offs = [];
const listen = (type) => {
  const got = [];
  offs.push(realtime.on(type, (data, ev) => got.push({ data, ev })));
  return got;
};

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
  vi.stubGlobal('WebSocket', FakeSocket);
});
afterEach(() => {
  realtime.stop();
  while (offs.length) offs.pop()();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('realtime', () => {
  it('connects to /api/v1/ws on this host and hands events to their handlers', () => {
    const created = listen('ticket.created');
    const every = listen('*');
    realtime.start();
    expect(FakeSocket.all).toHaveLength(1);
    expect(last().url).toBe(`ws://${location.host}/api/v1/ws`);
    expect(realtime.state.status).toBe('connecting');
    last().open();
    expect(realtime.state.status).toBe('open');
    last().deliver({ id: 3, type: 'ticket.created', data: { ticket: { id: 9 } } });
    expect(created).toHaveLength(1);
    expect(created[0].data).toEqual({ ticket: { id: 9 } });
    expect(created[0].ev.id).toBe(3);
    expect(every.filter((e) => e.ev).map((e) => e.ev.type)).toEqual(['ticket.created']);
    expect(realtime.state.lastId).toBe(3);
    // not JSON: ignored; a handler that throws does not stop the others
    last().deliver('not json');
    offs.push(realtime.on('ticket.updated', () => { throw new Error('boom'); }));
    const updated = listen('ticket.updated');
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    last().deliver({ id: 4, type: 'ticket.updated', data: {} });
    expect(updated).toHaveLength(1);
    expect(err).toHaveBeenCalled();
    err.mockRestore();
  });

  it('resumes with ?after= the last id after a drop', () => {
    const events = listen('message.created');
    const closes = listen('close');
    const opens = listen('open');
    realtime.start();
    last().open();
    last().deliver({ id: 10, type: 'message.created', data: { n: 1 } });
    last().deliver({ id: 12, type: 'message.created', data: { n: 2 } });
    last().drop();
    expect(realtime.state.status).toBe('closed');
    expect(closes).toHaveLength(1);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(last().url).toBe(`ws://${location.host}/api/v1/ws?after=12`);
    last().open();
    expect(opens).toHaveLength(2);
    last().deliver({ id: 13, type: 'message.created', data: { n: 3 } });
    expect(events.map((e) => e.data.n)).toEqual([1, 2, 3]);
  });

  it('drops events it has already seen (a replay overlapping live ones)', () => {
    const events = listen('message.created');
    const pongs = listen('pong');
    realtime.start();
    last().open();
    for (const id of [1, 2, 2, 1, 3]) last().deliver({ id, type: 'message.created', data: { id } });
    // frames without an id (answers to commands) always pass
    last().deliver({ type: 'pong' });
    last().deliver({ type: 'pong' });
    last().drop();
    vi.advanceTimersByTime(1000);
    last().open();
    for (const id of [2, 3, 4]) last().deliver({ id, type: 'message.created', data: { id } });
    expect(events.map((e) => e.data.id)).toEqual([1, 2, 3, 4]);
    expect(pongs).toHaveLength(2);
  });

  it('says again which tickets are open here when the socket reopens', () => {
    realtime.start();
    // before the socket is open nothing can go out, but it is remembered
    expect(realtime.send({ type: 'viewing', ticket_id: 4, viewing: true })).toBe(false);
    last().open();
    expect(last().sent).toEqual([{ type: 'viewing', ticket_id: 4, viewing: true }]);
    expect(realtime.send({ type: 'viewing', ticket_id: 7, viewing: true })).toBe(true);
    expect(realtime.send({ type: 'typing', ticket_id: 7, typing: true })).toBe(true);
    last().drop();
    vi.advanceTimersByTime(1000);
    last().open();
    expect(last().sent).toEqual([
      { type: 'viewing', ticket_id: 4, viewing: true },
      { type: 'viewing', ticket_id: 7, viewing: true },
    ]);
    // a ticket left is not announced again
    realtime.send({ type: 'viewing', ticket_id: 4, viewing: false });
    last().drop();
    vi.advanceTimersByTime(1000);
    last().open();
    expect(last().sent).toEqual([{ type: 'viewing', ticket_id: 7, viewing: true }]);
  });

  it('waits longer after each failed attempt, up to 30 s, and starts over once open', () => {
    realtime.start();
    last().open();
    last().drop();
    const waits = [];
    for (let i = 0; i < 7; i++) {
      const n = FakeSocket.all.length;
      let waited = 0;
      while (FakeSocket.all.length === n) { vi.advanceTimersByTime(500); waited += 500; }
      waits.push(waited);
      last().drop(); // refused again
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    vi.advanceTimersByTime(30000);
    last().open();
    last().drop();
    const n = FakeSocket.all.length;
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all.length).toBe(n + 1);
  });

  it('passes resync on, so pages reload what they show', () => {
    const resync = listen('resync');
    realtime.start();
    last().open();
    last().deliver({ id: 58211, type: 'resync', data: {} });
    expect(resync).toHaveLength(1);
    expect(realtime.state.lastId).toBe(58211);
  });

  it('stop() closes for good and forgets the position', () => {
    realtime.start();
    last().open();
    last().deliver({ id: 5, type: 'x', data: {} });
    realtime.send({ type: 'viewing', ticket_id: 1, viewing: true });
    const ws = last();
    realtime.stop();
    expect(ws.closedWith).toBe(1000);
    expect(realtime.state.status).toBe('closed');
    expect(realtime.state.lastId).toBe(0);
    vi.advanceTimersByTime(60000);
    expect(FakeSocket.all).toHaveLength(1);
    // a new login starts from the live end, viewing nothing
    realtime.start();
    expect(last().url).toBe(`ws://${location.host}/api/v1/ws`);
    last().open();
    expect(last().sent).toEqual([]);
  });

  it('sends activity at most once a minute while the agent works', () => {
    vi.setSystemTime(new Date(2026, 10, 22, 9, 0, 0));
    realtime.lastActivity = 0;
    realtime.start();
    last().open();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' }));
    window.dispatchEvent(new MouseEvent('mousedown'));
    expect(last().sent).toEqual([{ type: 'activity' }]);
    vi.advanceTimersByTime(59000);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'b' }));
    expect(last().sent).toHaveLength(1);
    vi.advanceTimersByTime(2000);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'c' }));
    expect(last().sent).toEqual([{ type: 'activity' }, { type: 'activity' }]);
  });
});
