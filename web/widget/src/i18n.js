// i18n.js -- every text the widget shows, one table per language, and the
// choice of language: data-lang, else the page's <html lang>, else the
// browser's.  zh-HK/zh-MO/zh-TW (and zh-Hant) read Traditional, other
// Chinese reads Simplified, anything else English.

const zhCN = {
  open: '打开在线客服',
  close: '关闭',
  minimize: '收起聊天窗口',
  title: '在线客服',
  online: '在线 · 通常几分钟内回复',
  offline: '客服暂时不在线',
  servedBy: '客服 {name} 为您服务',
  queue: '正在为您转接客服，您排在第 {n} 位',
  queueMany: '正在为您转接客服，您排在第 {n} 位以后',
  waiting: '正在为您转接客服…',
  typing: '{name} 正在输入…',
  agentDefault: '客服',
  you: '我',
  placeholder: '输入消息，Enter 发送',
  inputLabel: '输入消息（Enter 发送，Shift+Enter 换行）',
  placeholderMobile: '输入消息…',
  send: '发送',
  emoji: '表情',
  attach: '发送图片或文件',
  read: '已读',
  sending: '发送中…',
  failed: '发送失败',
  retry: '重试',
  remove: '删除',
  uploading: '上传中 {p}%',
  tooLarge: '文件“{name}”超过 {max}，无法发送',
  tooLargeServer: '文件太大，服务器拒收。请压缩后再试（上限 {max}）',
  unread: '{n} 条未读消息',
  newMessages: '新消息',
  start: '开始咨询',
  prechatIntro: '为了更好地为您服务，请先留下您的信息。',
  required: '必填',
  fieldRequired: '请填写“{label}”',
  badEmail: '请输入有效的邮箱地址',
  choose: '请选择',
  name: '姓名',
  email: '邮箱',
  phone: '电话',
  message: '留言内容',
  leaveTitle: '留言',
  leaveIntro: '客服暂时不在线。请留言，我们会尽快通过邮件回复您。',
  leaveSend: '提交留言',
  leaveDone: '留言已收到！我们会尽快回复到 {email}。',
  leaveMore: '继续留言',
  offlineBanner: '客服暂时不在线，留言后我们会通过邮件回复您。',
  rateTitle: '请为本次服务打分',
  rateStar: '{n} 星',
  rateLabels: ['非常不满意', '不满意', '一般', '满意', '非常满意'],
  rateComment: '还有什么想告诉我们的吗？（选填）',
  rateSend: '提交评价',
  rateThanks: '感谢您的评价！',
  rateYours: '您的评价',
  ended: '会话已结束，发送新消息将开始新的咨询。',
  errNetwork: '网络连接失败，请检查网络后重试',
  errServer: '服务暂时不可用，请稍后重试',
  errRate: '操作太频繁，请稍后再试',
  errAuth: '身份验证失败，请刷新页面后重试',
  errGeneric: '出错了，请重试',
  errConfig: '客服暂时无法使用',
  reconnecting: '连接已断开，正在重新连接…',
  today: '今天',
  yesterday: '昨天',
  image: '图片',
  file: '文件',
  download: '下载',
  poweredBy: '由 Kefu 提供技术支持',
};

const zhTW = {
  open: '開啟線上客服',
  close: '關閉',
  minimize: '收合聊天視窗',
  title: '線上客服',
  online: '線上 · 通常幾分鐘內回覆',
  offline: '客服暫時不在線',
  servedBy: '客服 {name} 為您服務',
  queue: '正在為您轉接客服，您排在第 {n} 位',
  queueMany: '正在為您轉接客服，您排在第 {n} 位以後',
  waiting: '正在為您轉接客服…',
  typing: '{name} 正在輸入…',
  agentDefault: '客服',
  you: '我',
  placeholder: '輸入訊息，Enter 傳送',
  inputLabel: '輸入訊息（Enter 傳送，Shift+Enter 換行）',
  placeholderMobile: '輸入訊息…',
  send: '傳送',
  emoji: '表情符號',
  attach: '傳送圖片或檔案',
  read: '已讀',
  sending: '傳送中…',
  failed: '傳送失敗',
  retry: '重試',
  remove: '刪除',
  uploading: '上傳中 {p}%',
  tooLarge: '檔案「{name}」超過 {max}，無法傳送',
  tooLargeServer: '檔案太大，伺服器拒收。請壓縮後再試（上限 {max}）',
  unread: '{n} 則未讀訊息',
  newMessages: '新訊息',
  start: '開始諮詢',
  prechatIntro: '為了更好地為您服務，請先留下您的資料。',
  required: '必填',
  fieldRequired: '請填寫「{label}」',
  badEmail: '請輸入有效的電子郵件地址',
  choose: '請選擇',
  name: '姓名',
  email: '電子郵件',
  phone: '電話',
  message: '留言內容',
  leaveTitle: '留言',
  leaveIntro: '客服暫時不在線。請留言，我們會盡快以電子郵件回覆您。',
  leaveSend: '送出留言',
  leaveDone: '已收到您的留言！我們會盡快回覆到 {email}。',
  leaveMore: '繼續留言',
  offlineBanner: '客服暫時不在線，留言後我們會以電子郵件回覆您。',
  rateTitle: '請為本次服務評分',
  rateStar: '{n} 顆星',
  rateLabels: ['非常不滿意', '不滿意', '普通', '滿意', '非常滿意'],
  rateComment: '還有什麼想告訴我們的嗎？（選填）',
  rateSend: '送出評價',
  rateThanks: '感謝您的評價！',
  rateYours: '您的評價',
  ended: '對話已結束，傳送新訊息將開始新的諮詢。',
  errNetwork: '網路連線失敗，請檢查網路後重試',
  errServer: '服務暫時無法使用，請稍後重試',
  errRate: '操作太頻繁，請稍後再試',
  errAuth: '身分驗證失敗，請重新整理頁面後重試',
  errGeneric: '發生錯誤，請重試',
  errConfig: '客服暫時無法使用',
  reconnecting: '連線已中斷，正在重新連線…',
  today: '今天',
  yesterday: '昨天',
  image: '圖片',
  file: '檔案',
  download: '下載',
  poweredBy: '由 Kefu 提供技術支援',
};

const en = {
  open: 'Chat with us',
  close: 'Close',
  minimize: 'Minimize chat',
  title: 'Customer service',
  online: 'Online · we usually reply in a few minutes',
  offline: 'We are away right now',
  servedBy: '{name} is helping you',
  queue: 'Connecting you to an agent: you are number {n} in the queue',
  queueMany: 'Connecting you to an agent: you are number {n} or later in the queue',
  waiting: 'Connecting you to an agent…',
  typing: '{name} is typing…',
  agentDefault: 'Agent',
  you: 'You',
  placeholder: 'Type a message…',
  inputLabel: 'Message (Enter to send, Shift+Enter for a new line)',
  placeholderMobile: 'Type a message…',
  send: 'Send',
  emoji: 'Emoji',
  attach: 'Send an image or file',
  read: 'Read',
  sending: 'Sending…',
  failed: 'Not sent',
  retry: 'Retry',
  remove: 'Remove',
  uploading: 'Uploading {p}%',
  tooLarge: '“{name}” is larger than {max} and cannot be sent',
  tooLargeServer: 'That file is too large for the server. Please make it smaller (limit {max}).',
  unread: '{n} unread messages',
  newMessages: 'New messages',
  start: 'Start chat',
  prechatIntro: 'Tell us a little about yourself so we can help you better.',
  required: 'required',
  fieldRequired: 'Please fill in “{label}”',
  badEmail: 'Please enter a valid e-mail address',
  choose: 'Choose…',
  name: 'Name',
  email: 'E-mail',
  phone: 'Phone',
  message: 'Message',
  leaveTitle: 'Leave a message',
  leaveIntro: 'No one is available right now. Leave a message and we will answer by e-mail.',
  leaveSend: 'Send message',
  leaveDone: 'Thank you! We will reply to {email} as soon as we can.',
  leaveMore: 'Add more',
  offlineBanner: 'We are away right now: leave a message and we will answer by e-mail.',
  rateTitle: 'How did we do?',
  rateStar: '{n} stars',
  rateLabels: ['Very poor', 'Poor', 'OK', 'Good', 'Excellent'],
  rateComment: 'Anything else you would like to tell us? (optional)',
  rateSend: 'Send rating',
  rateThanks: 'Thank you for your feedback!',
  rateYours: 'Your rating',
  ended: 'This conversation has ended. A new message starts a new one.',
  errNetwork: 'Could not connect. Check your connection and try again.',
  errServer: 'The service is unavailable right now. Please try again shortly.',
  errRate: 'Too many requests. Please wait a moment and try again.',
  errAuth: 'We could not verify who you are. Please reload the page.',
  errGeneric: 'Something went wrong. Please try again.',
  errConfig: 'Chat is unavailable right now',
  reconnecting: 'Connection lost, reconnecting…',
  today: 'Today',
  yesterday: 'Yesterday',
  image: 'Image',
  file: 'File',
  download: 'Download',
  poweredBy: 'Powered by Kefu',
};

export const tables = { 'zh-CN': zhCN, 'zh-TW': zhTW, en };

// A BCP 47 tag (any case, _ or -) to one of our three languages.
export function pickLang(...candidates) {
  for (const c of candidates) {
    if (!c || typeof c !== 'string') continue;
    const tag = c.trim().replace(/_/g, '-').toLowerCase();
    if (!tag) continue;
    if (tag === 'zh' || tag.startsWith('zh-')) {
      if (/^zh-(hant|tw|hk|mo)\b/.test(tag) || /-hant\b/.test(tag)) return 'zh-TW';
      return 'zh-CN';
    }
    return 'en';
  }
  return 'en';
}

// t('queue', {n: 3}) in the chosen language.
export function translator(lang) {
  const table = tables[lang] || en;
  return (key, vars) => {
    let s = table[key] ?? en[key] ?? key;
    if (vars && typeof s === 'string')
      s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m));
    return s;
  };
}

// A text the server did not resolve to one language ({"zh-CN": …, "en": …}):
// this language, its base, English, or any.
export function pickText(v, lang) {
  if (typeof v === 'string' || v == null) return v || '';
  if (typeof v !== 'object') return String(v);
  return v[lang] || v[lang.split('-')[0]] || v.en || Object.values(v).find((x) => typeof x === 'string') || '';
}
