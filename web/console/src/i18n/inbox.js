// i18n/inbox.js -- the strings of the console's inbox part, in the three
// languages (see i18n/index.js).
export default {
  'zh-CN': {},
  'zh-TW': {},
  en: {},
};
