// channel.js -- a channel type's icon (Element Plus icons) for lists and
// the ticket header; names come from i18n common.channel.
import { Message, ChatDotRound, Connection, Phone, ChatLineSquare, Promotion, Iphone } from '@element-plus/icons-vue';

const ICONS = { email: Message, chat: ChatDotRound, web: ChatDotRound, api: Connection, phone: Phone,
  wechat: ChatLineSquare, weibo: Promotion, telegram: Promotion, sms: Iphone };

export function channelIcon(type) {
  return ICONS[type] || Connection;
}
