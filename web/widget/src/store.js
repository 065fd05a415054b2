// store.js -- what the widget remembers in the page's localStorage, one
// JSON record per public key: the visitor token, the highest event id seen,
// whom the token was issued for (a signed identity's id, or null), whether
// the pre-chat form was filled, the last message id the visitor has seen.
// Storage that is blocked (privacy modes) falls back to memory: the chat
// still works, it just does not survive a reload.

const memory = new Map();

function storage() {
  try {
    const s = window.localStorage;
    const probe = '__kefu_probe__';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null;
  }
}

export class Store {
  constructor(key) {
    this.name = 'kefu-widget:' + key;
    this.ls = storage();
    this.data = {};
    try {
      const raw = this.ls ? this.ls.getItem(this.name) : memory.get(this.name);
      const v = raw ? JSON.parse(raw) : null;
      if (v && typeof v === 'object') this.data = v;
    } catch { /* corrupt: start again */ }
  }

  get(k) {
    return this.data[k];
  }

  set(patch) {
    Object.assign(this.data, patch);
    const raw = JSON.stringify(this.data);
    try {
      if (this.ls) this.ls.setItem(this.name, raw);
      else memory.set(this.name, raw);
    } catch { /* full: keep it in memory for this page */ }
  }

  clear() {
    this.data = {};
    try {
      if (this.ls) this.ls.removeItem(this.name);
    } catch { /* ignore */ }
    memory.delete(this.name);
  }
}
