// i18n/dashboard.js -- the strings of the console's dashboard part, in the three
// languages (see i18n/index.js).
export default {
  'zh-CN': {},
  'zh-TW': {},
  en: {},
};
