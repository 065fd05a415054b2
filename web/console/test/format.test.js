// lib/format.js: numbers, times and ages in the console's language.
import { describe, it, expect, afterEach } from 'vitest';
import { i18n } from '../src/i18n/index.js';
import { formatNumber, formatDateTime, formatTime, formatAge } from '../src/lib/format.js';

const use = (l) => { i18n.global.locale.value = l; };
afterEach(() => use('en'));

describe('formatNumber', () => {
  it('groups thousands in every language', () => {
    for (const l of ['zh-CN', 'zh-TW', 'en']) {
      use(l);
      expect(formatNumber(1234567)).toBe('1,234,567');
      expect(formatNumber(0)).toBe('0');
    }
  });
  it('shows nothing as 0', () => {
    expect(formatNumber(null)).toBe('0');
    expect(formatNumber(undefined)).toBe('0');
  });
});

describe('formatAge', () => {
  const now = new Date(2026, 10, 22, 20, 0, 0).getTime();
  const ago = (ms) => new Date(now - ms).toISOString();

  it('says minutes, hours and days ago in the language', () => {
    use('zh-CN');
    expect(formatAge(ago(5 * 60e3), now)).toMatch(/^5\s?分钟前$/);
    expect(formatAge(ago(3 * 3600e3), now)).toMatch(/^3\s?小时前$/);
    expect(formatAge(ago(24 * 3600e3), now)).toBe('昨天');
    use('zh-TW');
    expect(formatAge(ago(5 * 60e3), now)).toMatch(/^5\s?分鐘前$/);
    use('en');
    expect(formatAge(ago(5 * 60e3), now)).toMatch(/^5 min\.? ago$/);
    expect(formatAge(ago(24 * 3600e3), now)).toBe('yesterday');
    expect(formatAge(ago(30e3), now)).toMatch(/30 sec/);
  });

  it('gives the date itself beyond a week, and nothing for nothing', () => {
    use('en');
    const old = ago(10 * 86400e3);
    expect(formatAge(old, now)).toBe(formatDateTime(old));
    expect(formatAge(null, now)).toBe('');
  });
});

describe('formatDateTime and formatTime', () => {
  it('leaves out this year, shows another', () => {
    use('zh-CN');
    const thisYear = new Date(new Date().getFullYear(), 0, 2, 8, 5).toISOString();
    const lastYear = new Date(new Date().getFullYear() - 1, 0, 2, 8, 5).toISOString();
    expect(formatDateTime(thisYear)).toContain('1月2日');
    expect(formatDateTime(thisYear)).not.toContain(String(new Date().getFullYear()));
    expect(formatDateTime(lastYear)).toContain(`${new Date().getFullYear() - 1}年`);
    use('en');
    expect(formatDateTime(thisYear)).toMatch(/^Jan 2, 0?8:05/);
    expect(formatDateTime('')).toBe('');
  });

  it('formats a time of day', () => {
    const iso = new Date(2026, 10, 22, 20, 15).toISOString();
    use('zh-CN');
    expect(formatTime(iso)).toBe('20:15');
    use('en');
    expect(formatTime(iso)).toMatch(/^0?8:15\sPM$/);
    expect(formatTime(null)).toBe('');
  });
});
