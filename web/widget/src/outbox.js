// outbox.js -- the visitor's messages not yet stored by the server.  Each
// shows at once as a pending bubble while it is sent (a file with upload
// progress), and leaves the outbox when the server's copy arrives: in the
// reply to the send, or as its echo on the socket, whichever is first.  A
// failed one stays, with retry and remove.
import { ApiError } from './api.js';
import { isImage, kindOf } from './model.js';
import { uuid } from './uuid.js';

// Statuses that say the message itself is refused: sending it again cannot help.
const FINAL = [400, 413, 415, 422];

export class Outbox {
  constructor(w) {
    this.w = w;
    this.items = [];
  }

  // Queues a text, or one file (one message per file: each gets its own
  // progress and retry); an image file gets a local preview.
  add(text, file) {
    const p = { clientId: uuid(), text, state: 'sending', progress: 0 };
    if (file) {
      p.files = [file];
      p.previews = [isImage({ content_type: file.type }) ? URL.createObjectURL(file) : null];
    }
    this.items.push(p);
    return p;
  }

  // Sends one message (again, on retry: same client_id, so the desk stores
  // it once).
  async deliver(p) {
    const w = this.w;
    p.state = 'sending';
    p.progress = 0;
    p.error = null;
    w.thread.render();
    try {
      await w.ensureSession();
      const r = await w.authed(() => this.post(p));
      const i = this.items.indexOf(p);
      if (i >= 0) this.items.splice(i, 1);
      p.state = 'sent';
      w.accept(r);
      for (const u of p.previews || []) if (u) setTimeout(() => URL.revokeObjectURL(u), 5000);
      w.listen();
      w.render();
      w.thread.scrollToEnd();
    } catch (e) {
      if (this.items.indexOf(p) < 0) return;
      p.state = 'failed';
      p.error = w.friendly(e);
      p.retryable = !(e instanceof ApiError && FINAL.includes(e.status));
      w.thread.render();
    }
  }

  post(p) {
    const { api, thread } = this.w;
    if (!p.files) return api.sendText(p.text, p.clientId);
    return api.sendFiles(p.text, p.clientId, p.files, (f) => {
      p.progress = f;
      thread.showProgress(p);
    });
  }

  drop(p) {
    this.items = this.items.filter((x) => x !== p);
    for (const u of p.previews || []) if (u) URL.revokeObjectURL(u);
    this.w.thread.render();
  }

  // The echo of the visitor's own message replaces its pending bubble.
  adopt(m) {
    if (kindOf(m) !== 'customer') return;
    let i = this.items.findIndex((p) => m.client_id && p.clientId === m.client_id);
    if (i < 0) i = this.items.findIndex((p) => p.state !== 'failed' && !p.files && p.text === (m.text || ''));
    if (i >= 0) {
      this.items[i].state = 'sent';
      this.items.splice(i, 1);
    }
  }

  // A message the server has stored is no longer pending.
  forgetSent() {
    this.items = this.items.filter((p) => p.state !== 'sent');
  }
}
