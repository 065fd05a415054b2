// main.js -- the widget's entry, run by the site's script tag:
//
//   <script src="https://DESK/widget.js" data-key="PUBLIC_KEY" async></script>
//
// Optional: data-lang="zh-CN|zh-TW|en", data-identity='{"id","name","email",
// "timestamp","signature"}' (a visitor the site has signed in, signed by the
// site's backend), or window.KefuWidget = {identity: {...}, lang} set before
// the script.  The desk's address is where this script came from.  Once
// loaded, window.KefuWidget also has open(), close() and toggle().
import { Widget } from './widget.js';
import { pickLang } from './i18n.js';

// Read now: document.currentScript is only set while this script runs.
const script = document.currentScript ||
  [...document.querySelectorAll('script[src*="widget.js"]')].find((s) => s.dataset.key) || null;

function parseIdentity(raw) {
  if (!raw) return null;
  if (typeof raw === 'object') return raw;
  try {
    const v = JSON.parse(raw);
    return v && typeof v === 'object' && v.id !== undefined ? v : null;
  } catch {
    console.warn('[kefu widget] data-identity is not valid JSON');
    return null;
  }
}

function boot() {
  const opts = (window.KefuWidget && typeof window.KefuWidget === 'object') ? window.KefuWidget : {};
  if (opts.__loaded) return;
  const ds = (script && script.dataset) || {};
  const key = ds.key || opts.key;
  if (!key) {
    console.warn('[kefu widget] no data-key on the script tag');
    return;
  }
  let origin;
  try {
    origin = new URL(opts.origin || (script && script.src) || '', location.href).origin;
  } catch {
    console.warn('[kefu widget] cannot tell the desk address from the script src');
    return;
  }
  const lang = pickLang(ds.lang, opts.lang, document.documentElement.lang, navigator.language);
  const identity = parseIdentity(ds.identity) || parseIdentity(opts.identity);
  const w = new Widget({ origin, key, lang, identity });
  const api = opts;
  api.__loaded = true;
  api.open = () => w.root && w.open();
  api.close = () => w.root && w.close();
  api.toggle = () => w.root && w.toggle();
  window.KefuWidget = api;
  w.start().catch((e) => console.warn('[kefu widget] not available:', (e && e.message) || e));
}

if (document.body) boot();
else document.addEventListener('DOMContentLoaded', boot, { once: true });
