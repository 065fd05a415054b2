// format.js -- numbers and dates as the visitor reads them: file sizes, and
// the day separators and message times in the widget's language.

export function formatSize(n) {
  if (!(n >= 0)) return '';
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + ' KB';
  return (n / 1024 / 1024).toFixed(1).replace(/\.0$/, '') + ' MB';
}

// "Today", "Yesterday", else a short date (the year only when it is not
// this year).  Intl can throw on a language tag it does not know.
export function formatDay(d, lang, t) {
  const today = new Date();
  const y = new Date(today);
  y.setDate(today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return t('today');
  if (d.toDateString() === y.toDateString()) return t('yesterday');
  try {
    return new Intl.DateTimeFormat(lang, { year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric', month: 'short', day: 'numeric' }).format(d);
  } catch {
    return d.toLocaleDateString();
  }
}

export function formatTime(d, lang) {
  try {
    return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hour12: false }).format(d);
  } catch {
    return d.toTimeString().slice(0, 5);
  }
}
