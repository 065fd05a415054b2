/* demo_vocab.c -- see demo_vocab.h. */
#include "demo_vocab.h"

#define VOCAB(name, ...)                                                  \
	static const char *const name##_words[] = {__VA_ARGS__};          \
	const struct vocab name = {name##_words,                          \
				   sizeof name##_words / sizeof *name##_words}

VOCAB(vocab_surnames, "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
      "马", "朱", "胡", "郭", "何", "林", "罗", "高");
VOCAB(vocab_given, "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰",
      "娟", "涛", "明", "超", "秀英", "桂英", "建华", "晓东", "海燕");
VOCAB(vocab_first_en, "James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emma",
      "Daniel", "Olivia", "Kevin", "Grace");
VOCAB(vocab_last_en, "Smith", "Johnson", "Brown", "Wong", "Chan", "Lee", "Taylor", "Martin",
      "Clark", "Lewis");

VOCAB(vocab_products, "蓝牙耳机", "智能手表", "扫地机器人", "空气净化器", "电动牙刷", "咖啡机",
      "儿童安全座椅", "机械键盘", "移动电源", "智能门锁", "iPhone 15 Pro", "MacBook Air",
      "AirPods Pro", "Kindle Paperwhite", "Switch OLED", "小米手环8", "华为Mate 60",
      "wireless earbuds", "standing desk", "air fryer", "robot vacuum", "4K monitor");
VOCAB(vocab_cities, "上海", "北京", "深圳", "广州", "杭州", "成都", "南京", "武汉", "西安",
      "香港", "台北", "Singapore");

VOCAB(vocab_customer_chase_zh, "还是不行，请再帮我看一下。", "请问大概什么时候能处理好？",
      "我已经按照你们说的操作了，问题依旧。", "能不能加急处理？我比较着急。", "收到，我等你们的消息。",
      "截图已经上传，请查看附件。", "已经三天了还没有结果，请尽快回复。", "麻烦给我打个电话说明一下。");
VOCAB(vocab_customer_chase_en, "Still not working, could you check again?", "Any update on this?",
      "I followed your steps but nothing changed.", "Can you escalate this please? It is urgent.",
      "Got it, I will wait for your reply.", "I attached a screenshot of the error.");
VOCAB(vocab_customer_thanks_zh, "好的，谢谢！", "问题解决了，非常感谢！", "收到了，服务很好，点赞。");
VOCAB(vocab_customer_thanks_en, "Thanks, that works.", "All good now, thank you!",
      "Received it today, thanks for the quick help.");
VOCAB(vocab_agent_more_zh, "您好，已经为您加急处理，请耐心等待。", "麻烦您提供一下订单截图，我们进一步核实。",
      "已联系仓库核实，今天会给您答复。", "抱歉给您带来不便，我们已补偿您一张20元优惠券。",
      "技术同事正在排查，有进展第一时间通知您。", "请您清除缓存后重新登录试试。",
      "已为您重新发货，新的快递单号稍后短信通知。");
VOCAB(vocab_agent_more_en, "We have escalated this and will get back to you shortly.",
      "Could you send us a screenshot of the order page?",
      "Our warehouse is checking, we will reply today.",
      "Sorry for the trouble, we added a $10 voucher to your account.",
      "Please clear the app cache and sign in again.",
      "A replacement has been shipped, tracking number to follow.");
VOCAB(vocab_agent_close_zh, "请问还有其他可以帮您的吗？如无其他问题，本工单将为您关闭。",
      "问题已处理完毕，感谢您的耐心，祝您生活愉快！", "如有其他问题欢迎随时联系我们。");
VOCAB(vocab_agent_close_en, "Is there anything else I can help with? Closing this ticket for now.",
      "Glad we could sort this out. Have a great day!",
      "Feel free to reach out if anything else comes up.");
VOCAB(vocab_notes, "客户情绪较大，建议主管跟进。", "已和仓库确认，周五到货。", "疑似重复下单，已提醒财务核对。",
      "VIP客户，优先处理。", "Checked the logs: the payment callback timed out.",
      "Refund approved by finance, waiting for the bank.", "@张主管 请帮忙审批这笔退款。",
      "Known issue, see the engineering ticket.");

VOCAB(vocab_praise, "客服很耐心，解决得很快！", "回复及时，点赞", "Very helpful, thanks!",
      "Quick and friendly.");
VOCAB(vocab_complaints, "等了太久才有人回复。", "问题没有真正解决。", "Took too long to get an answer.");

const struct demo_topic demo_topics[] = {
	{"申请退款", "我要退款，收到的商品有质量问题。", "您好，已为您提交退款申请，预计3-5个工作日到账。", "售后", "售后", "退款", 0, 1},
	{"订单还没发货", "我三天前下的订单，到现在还没有发货，请帮忙查一下。", "您好，您的订单已经出库，快递单号稍后短信通知您。", "物流", "售后", "物流", 0, 1},
	{"退货流程咨询", "请问退貨要怎么操作？需要自己付运费吗？", "您好，七天无理由退货的运费由我们承担，请在订单页面申请。", "售后", "售后", "退货", 0, 1},
	{"无法登录账号", "登录的时候一直提示密码错误，重置密码也收不到验证码。", "您好，已为您解除账号锁定，请重新获取验证码。", "账号", "技术支持", "账号", 0, 0},
	{"发票开具", "请帮我开具增值税专用发票，公司信息如下。", "您好，电子发票已发送到您的邮箱。", "财务", "售后", "发票", 0, 1},
	{"产品价格咨询", "请问企业版一年多少钱？有没有团购优惠？", "您好，企业版报价单已发给您，十人以上可享九折。", "售前", "售前", "报价", 0, 0},
	{"设备无法开机", "新买的设备充电后还是无法开机，指示灯也不亮。", "您好，请长按电源键15秒强制重启，如仍无法开机我们安排换新。", "技术支持", "技术支持", "故障", 0, 1},
	{"Refund request", "I would like a refund for my order, the item arrived damaged.", "Sorry about that! We have issued a full refund to your card.", "售后", "售后", "退款", 1, 1},
	{"Delivery delayed", "My package was supposed to arrive yesterday but tracking has not moved.", "We contacted the courier; your parcel will arrive tomorrow.", "物流", "售后", "物流", 1, 1},
	{"Cannot reset password", "The password reset e-mail never arrives, I checked spam too.", "We have resent the link from a different mail server, please try again.", "账号", "技术支持", "账号", 1, 0},
	{"API integration question", "How do I receive agent replies on my server through the API channel?", "Set a callback_url on the channel; replies are POSTed there, signed.", "技术支持", "技术支持", "集成", 1, 0},
	{"会员积分没有到账", "上周消费的积分到现在还没有到账。", "您好，积分已手动补发，请刷新查看。", "会员", "售后", "积分", 0, 1},
	{"商品破损", "快递送到的时候外包装破了，里面的商品也摔坏了。", "非常抱歉，我们马上为您补发一件新的，破损件无需寄回。", "售后", "售后", "破损", 0, 1},
	{"修改收货地址", "下单的时候地址填错了，能帮我改成公司地址吗？", "您好，订单还未发货，收货地址已为您修改。", "物流", "售后", "地址", 0, 1},
	{"优惠券无法使用", "结算的时候优惠券显示不可用，明明还没过期。", "您好，该优惠券需满300元可用，已为您补发一张无门槛券。", "售前", "售前", "优惠券", 0, 1},
	{"保修期咨询", "我的设备买了一年半，现在屏幕有问题，还在保修期内吗？", "您好，整机保修两年，请预约上门检测。", "售后", "售后", "保修", 0, 0},
	{"蓝牙连接不上", "耳机和手机配对成功了，但是一直断断续续，听歌会卡顿。", "您好，请在蓝牙设置中忽略设备后重新配对，并把固件升级到最新版本。", "技术支持", "技术支持", "故障", 0, 0},
	{"Invoice needed for my company", "Could you send a VAT invoice with our company name for the last order?", "The invoice is attached; it is also available under Orders in your account.", "财务", "售后", "发票", 1, 1},
	{"Bulk order discount", "We want to buy 200 units for our office. Do you offer volume pricing?", "Yes: 15% off above 100 units. A quote is on its way to your inbox.", "售前", "售前", "报价", 1, 0},
	{"App keeps crashing", "The app crashes every time I open the order history on Android 14.", "Thanks for the report, version 5.2.1 fixes this crash; please update.", "技术支持", "技术支持", "故障", 1, 0},
};
const size_t demo_ntopics = sizeof demo_topics / sizeof *demo_topics;
