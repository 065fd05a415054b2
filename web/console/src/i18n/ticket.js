// i18n/ticket.js -- the strings of the console's ticket part, in the three
// languages (see i18n/index.js).
export default {
  'zh-CN': {},
  'zh-TW': {},
  en: {},
};
