// i18n/index.js -- the console's three languages (简体中文, 繁體中文,
// English).  Each part of the console keeps its strings in its own module
// here (common, layout, login, inbox, ticket, customer, dashboard), each
// exporting {'zh-CN': {...}, 'zh-TW': {...}, en: {...}}; they are merged
// under their module's name, so a page says t('inbox.title').  Dates and
// numbers go through lib/format.js (Intl, in the same locale).
import { createI18n } from 'vue-i18n';
import common from './common.js';
import layout from './layout.js';
import login from './login.js';
import inbox from './inbox.js';
import ticket from './ticket.js';
import customer from './customer.js';
import dashboard from './dashboard.js';

export const LOCALES = ['zh-CN', 'zh-TW', 'en'];
export const LOCALE_NAMES = { 'zh-CN': '简体中文', 'zh-TW': '繁體中文', en: 'English' };

const modules = { common, layout, login, inbox, ticket, customer, dashboard };

function messages() {
  const out = {};
  for (const locale of LOCALES) {
    out[locale] = {};
    for (const [name, mod] of Object.entries(modules)) out[locale][name] = mod[locale] || {};
  }
  return out;
}

// The browser's choice among ours: Traditional for zh-TW/HK/MO/Hant,
// Simplified for other Chinese, else English.
export function browserLocale(langs = typeof navigator === 'undefined' ? [] : navigator.languages || [navigator.language]) {
  for (const raw of langs) {
    const l = String(raw || '').toLowerCase();
    if (/^zh-(tw|hk|mo)|^zh-hant/.test(l)) return 'zh-TW';
    if (l.startsWith('zh')) return 'zh-CN';
    if (l.startsWith('en')) return 'en';
  }
  return 'en';
}

export const i18n = createI18n({
  legacy: false,
  locale: browserLocale(),
  fallbackLocale: 'en',
  messages: messages(),
});

export function setLocale(locale) {
  const l = LOCALES.includes(locale) ? locale : browserLocale();
  i18n.global.locale.value = l;
  if (typeof document !== 'undefined') document.documentElement.lang = l;
  return l;
}
