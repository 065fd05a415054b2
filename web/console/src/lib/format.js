// format.js -- dates, times and numbers in the console's language (Intl):
// absolute ("2026/11/22 20:15", "Nov 22, 8:15 PM"), relative ("3 分钟前",
// "3 min. ago") and counts ("1,234").
import { i18n } from '../i18n/index.js';

const locale = () => i18n.global.locale.value;

export function formatDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const sameYear = d.getFullYear() === new Date().getFullYear();
  return new Intl.DateTimeFormat(locale(), {
    year: sameYear ? undefined : 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(d);
}

export function formatTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

// "5 分钟前" / "5 min. ago"; beyond a week the date itself.
export function formatAge(iso, now = Date.now()) {
  if (!iso) return '';
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(s);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto', style: 'short' });
  if (abs < 60) return rtf.format(Math.round(s), 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  if (abs < 7 * 86400) return rtf.format(Math.round(s / 86400), 'day');
  return formatDateTime(iso);
}

export function formatNumber(n) {
  return new Intl.NumberFormat(locale()).format(n || 0);
}
