// theme.js -- the channel's brand colour (config.color) as the CSS
// variables widget.css is written against: the colour, a darker shade for
// hover, light tints for backgrounds and lines, and a text colour that stays
// readable on it.  A colour we cannot read keeps the stylesheet's default.

// #rgb / #rrggbb -> [r, g, b], or null.
function parseHex(c) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(c || '').trim());
  if (!m) return null;
  let s = m[1];
  if (s.length === 3) s = s.replace(/./g, (d) => d + d);
  return [0, 2, 4].map((i) => parseInt(s.slice(i, i + 2), 16));
}

export function applyColor(el, color) {
  const rgb = parseHex(color);
  if (!rgb) return;
  const [r, g, b] = rgb;
  const dark = rgb.map((v) => Math.round(v * 0.82));
  const lum = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
  const st = el.style;
  st.setProperty('--kf-color', `rgb(${r}, ${g}, ${b})`);
  st.setProperty('--kf-color-dark', `rgb(${dark.join(', ')})`);
  st.setProperty('--kf-color-soft', `rgba(${r}, ${g}, ${b}, .08)`);
  st.setProperty('--kf-color-line', `rgba(${r}, ${g}, ${b}, .25)`);
  // Dark text on a light brand colour (yellow, white), white on the rest.
  st.setProperty('--kf-on-color', lum > 0.7 ? '#1f2329' : '#fff');
}
