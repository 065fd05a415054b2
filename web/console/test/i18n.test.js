// The console's strings: every module in src/i18n/ has the same keys in
// zh-CN, zh-TW and en (a key missing in one language anywhere fails here,
// whoever's page it belongs to), with the same {placeholders}; every module
// is registered in i18n/index.js; every literal t('module.key') in the
// sources exists; and the browser's languages map onto ours.
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { i18n, LOCALES, LOCALE_NAMES, browserLocale, setLocale } from '../src/i18n/index.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
const I18N_DIR = path.join(SRC, 'i18n');
const moduleFiles = fs.readdirSync(I18N_DIR).filter((f) => f.endsWith('.js') && f !== 'index.js').sort();

// {a: {b: 'x'}} -> {'a.b': 'x'}; arrays and other non-objects are leaves.
function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

const placeholders = (s) => [...new Set([...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();

const modules = {};
for (const f of moduleFiles) {
  modules[path.basename(f, '.js')] = (await import(pathToFileURL(path.join(I18N_DIR, f)).href)).default;
}

describe('message modules', () => {
  it('finds the modules', () => {
    expect(moduleFiles.length).toBeGreaterThanOrEqual(7);
    for (const m of ['common', 'layout', 'login', 'inbox', 'ticket', 'customer', 'dashboard']) expect(Object.keys(modules)).toContain(m);
  });

  it('knows the three languages', () => {
    expect(LOCALES).toEqual(['zh-CN', 'zh-TW', 'en']);
    for (const l of LOCALES) expect(LOCALE_NAMES[l]).toBeTruthy();
  });

  for (const f of moduleFiles) {
    const name = path.basename(f, '.js');
    describe(`i18n/${f}`, () => {
      it('has exactly the three languages', () => {
        expect(Object.keys(modules[name]).sort()).toEqual([...LOCALES].sort());
      });

      it('has every key in every language', () => {
        const flat = Object.fromEntries(LOCALES.map((l) => [l, flatten(modules[name][l])]));
        const all = new Set(LOCALES.flatMap((l) => Object.keys(flat[l])));
        const missing = [];
        for (const key of [...all].sort()) {
          for (const l of LOCALES) if (!(key in flat[l])) missing.push(`${l}: ${name}.${key}`);
        }
        expect(missing, `keys missing in ${f}`).toEqual([]);
      });

      it('has no empty strings and the same placeholders in every language', () => {
        const flat = Object.fromEntries(LOCALES.map((l) => [l, flatten(modules[name][l])]));
        const bad = [];
        for (const [key, en] of Object.entries(flat.en)) {
          for (const l of LOCALES) {
            const v = flat[l][key];
            if (v === undefined) continue; // reported above
            if (Array.isArray(v)) continue; // e.g. lists of quick replies
            if (typeof v !== 'string' || !v.trim()) { bad.push(`${l}: ${name}.${key} is empty or not a string`); continue; }
            if (typeof en === 'string' && placeholders(v).join() !== placeholders(en).join())
              bad.push(`${l}: ${name}.${key} has {${placeholders(v)}}, en has {${placeholders(en)}}`);
          }
        }
        expect(bad).toEqual([]);
      });

      it('is registered in i18n/index.js under its name', () => {
        for (const l of LOCALES) expect(i18n.global.getLocaleMessage(l)[name]).toEqual(modules[name][l]);
      });
    });
  }
});

// Every t('module.key') / $t("module.key") with a literal key, in every
// source file, names a string that exists in all three languages.
describe('keys used in the sources', () => {
  const files = [];
  (function walk(dir) {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(vue|js)$/.test(e.name) && !p.startsWith(I18N_DIR + path.sep)) files.push(p);
    }
  })(SRC);

  it('exist in every language', () => {
    const used = [];
    const re = /(?<![\w$])\$?t\(\s*(['"])([A-Za-z][\w-]*(?:\.[\w-]+)+)\1/g;
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(re)) used.push({ key: m[2], file: path.relative(SRC, file) });
    }
    expect(used.length).toBeGreaterThan(0);
    const missing = [];
    for (const { key, file } of used) {
      for (const l of LOCALES) {
        const v = key.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), i18n.global.getLocaleMessage(l));
        if (typeof v !== 'string') missing.push(`${file}: ${key} (${l})`);
      }
    }
    expect([...new Set(missing)]).toEqual([]);
  });
});

describe('browserLocale', () => {
  const cases = [
    [['zh-TW'], 'zh-TW'], [['zh-HK'], 'zh-TW'], [['zh-MO'], 'zh-TW'], [['zh-Hant'], 'zh-TW'], [['zh-Hant-CN'], 'zh-TW'],
    [['zh-CN'], 'zh-CN'], [['zh'], 'zh-CN'], [['zh-SG'], 'zh-CN'], [['zh-Hans-HK'], 'zh-CN'], [['ZH-cn'], 'zh-CN'],
    [['en-US'], 'en'], [['en-GB', 'zh-CN'], 'en'], [['fr-FR', 'zh-TW'], 'zh-TW'], [['fr', 'de'], 'en'],
    [[], 'en'], [[undefined, null, ''], 'en'],
  ];
  for (const [langs, want] of cases) {
    it(`${JSON.stringify(langs)} -> ${want}`, () => expect(browserLocale(langs)).toBe(want));
  }

  it('reads navigator.languages by default', () => {
    const orig = Object.getOwnPropertyDescriptor(window.navigator, 'languages');
    Object.defineProperty(window.navigator, 'languages', { value: ['zh-HK', 'en'], configurable: true });
    try {
      expect(browserLocale()).toBe('zh-TW');
    } finally {
      if (orig) Object.defineProperty(window.navigator, 'languages', orig);
      else delete window.navigator.languages;
    }
  });
});

describe('setLocale', () => {
  afterEach(() => setLocale('en'));

  it('switches the language and the page\'s lang', () => {
    expect(setLocale('zh-TW')).toBe('zh-TW');
    expect(i18n.global.locale.value).toBe('zh-TW');
    expect(document.documentElement.lang).toBe('zh-TW');
    expect(i18n.global.t('common.status.pending')).toBe('待回覆');
    setLocale('zh-CN');
    expect(i18n.global.t('common.status.pending')).toBe('待回复');
  });

  it('falls back to the browser\'s language for null or unknown ones', () => {
    expect(setLocale(null)).toBe(browserLocale());
    expect(setLocale('fr')).toBe(browserLocale());
  });
});
