// i18n/layout.js -- the strings of the console's layout part, in the three
// languages (see i18n/index.js).
export default {
  'zh-CN': {},
  'zh-TW': {},
  en: {},
};
