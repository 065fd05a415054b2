// i18n/login.js -- the strings of the console's login part, in the three
// languages (see i18n/index.js).
export default {
  'zh-CN': {},
  'zh-TW': {},
  en: {},
};
