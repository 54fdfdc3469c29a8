package console

import "github.com/aftersales/aftersales/l10n"

// The texts of the hand-off inbox (/console/handoffs, handoff_list.html and
// handoff_show.html), and its quick replies.
func init() {
	addText(map[string]string{
		"nav.handoffs":             "人工会话",
		"dash.handoffs":            "人工会话待回复",
		"handoff.title":            "人工会话",
		"handoff.hint":             "业主转人工后在此等候。等待中的在前，等得最久的在前；页面会自动刷新。",
		"handoff.waiting":          "等待接手",
		"handoff.taken":            "处理中",
		"handoff.ended_recent":     "最近结束（24 小时内）",
		"handoff.none_waiting":     "没有等待接手的会话。",
		"handoff.none_taken":       "没有处理中的会话。",
		"handoff.who":              "业主",
		"handoff.platform":         "渠道",
		"handoff.since":            "转人工时间",
		"handoff.waited":           "已等待",
		"handoff.waited_for":       "等了",
		"handoff.taken_by":         "接手人",
		"handoff.case":             "关联诉求",
		"handoff.no_case":          "未关联",
		"handoff.unanswered":       "业主在等回复",
		"handoff.open":             "打开",
		"handoff.state.waiting":    "等待接手",
		"handoff.state.taken":      "处理中",
		"handoff.state.ended":      "已结束",
		"handoff.unknown":          "未核实身份的聊天用户",
		"handoff.units":            "房号",
		"handoff.take":             "接手",
		"handoff.take_over":        "改由我接手",
		"handoff.taken_by_other":   "{name}正在处理此会话；如需回复，请先改由您接手。",
		"handoff.yours":            "您正在处理此会话。",
		"handoff.reply":            "回复业主",
		"handoff.reply_hint":       "回复通过业主所用的渠道发送（微信须在业主最近一次发消息后 48 小时内）。",
		"handoff.send":             "发送",
		"handoff.quick":            "快捷回复…",
		"handoff.link":             "关联诉求",
		"handoff.link_pick":        "选择业主的诉求…",
		"handoff.link_number":      "或输入诉求编号",
		"handoff.link_hint":        "关联后，业主在本会话中说的话会记到该诉求的处理记录中。",
		"handoff.link_button":      "关联",
		"handoff.end":              "结束会话",
		"handoff.end_confirm":      "结束后业主回到自助服务，并会收到通知。确定结束？",
		"handoff.ended_by_owner":   "业主已回到自助服务，会话已结束。",
		"handoff.ended_by":         "{name}已结束会话，业主已回到自助服务。",
		"handoff.messages":         "对话",
		"handoff.no_messages":      "业主还没有留言。",
		"handoff.from.bot":         "服务助手",
		"handoff.photo":            "图片/视频",
		"handoff.done.take":        "已接手，请回复业主。",
		"handoff.done.takeover":    "已改由您接手。",
		"handoff.done.reply":       "已发送。",
		"handoff.done.link":        "已关联诉求。",
		"handoff.done.end":         "会话已结束，已通知业主。",
		"handoff.back":             "返回会话列表",
		"handoff.error.ended":      "会话已结束，无法再操作。",
		"handoff.changed":          "会话状态已变化，正在刷新…",
		"handoff.wait.moment":      "不到 1 分钟",
		"handoff.wait.minutes":     "{n} 分钟",
		"handoff.wait.hours":       "{h} 小时 {m} 分",
		"handoff.wait.days":        "{d} 天 {h} 小时",
		"purpose.handoff_reply":    "人工客服回复",
		"purpose.handoff_ended":    "人工会话结束",
		"quick.topic.greeting":     "问候",
		"quick.topic.repair":       "报修",
		"quick.topic.progress":     "进度",
		"quick.topic.consultation": "咨询",
		"quick.topic.complaint":    "投诉",
		"quick.topic.closing":      "结束",
	}, map[string]string{
		"nav.handoffs":             "Chats",
		"dash.handoffs":            "Chats waiting for a person",
		"handoff.title":            "Chats with a person",
		"handoff.hint":             "Owners who asked for a person wait here, the waiting first and the longest waiting first; the page refreshes by itself.",
		"handoff.waiting":          "Waiting",
		"handoff.taken":            "In progress",
		"handoff.ended_recent":     "Ended (last 24 hours)",
		"handoff.none_waiting":     "Nobody is waiting.",
		"handoff.none_taken":       "No chat in progress.",
		"handoff.who":              "Owner",
		"handoff.platform":         "Channel",
		"handoff.since":            "Asked at",
		"handoff.waited":           "Waiting for",
		"handoff.waited_for":       "Waited",
		"handoff.taken_by":         "Taken by",
		"handoff.case":             "Case",
		"handoff.no_case":          "none",
		"handoff.unanswered":       "the owner awaits a reply",
		"handoff.open":             "Open",
		"handoff.state.waiting":    "waiting",
		"handoff.state.taken":      "in progress",
		"handoff.state.ended":      "ended",
		"handoff.unknown":          "Chat user, identity not verified",
		"handoff.units":            "Units",
		"handoff.take":             "Take",
		"handoff.take_over":        "Take it over",
		"handoff.taken_by_other":   "{name} is answering this chat; take it over to reply.",
		"handoff.yours":            "You are answering this chat.",
		"handoff.reply":            "Reply to the owner",
		"handoff.reply_hint":       "The reply goes out on the owner's channel (on WeChat, within 48 hours of the owner's last message).",
		"handoff.send":             "Send",
		"handoff.quick":            "Quick reply…",
		"handoff.link":             "Link a case",
		"handoff.link_pick":        "Pick one of the owner's cases…",
		"handoff.link_number":      "or type a case number",
		"handoff.link_hint":        "Once linked, what the owner says in this chat goes on the case's timeline.",
		"handoff.link_button":      "Link",
		"handoff.end":              "End the chat",
		"handoff.end_confirm":      "The owner goes back to self-service and is told so. End the chat?",
		"handoff.ended_by_owner":   "The owner went back to self-service; the chat has ended.",
		"handoff.ended_by":         "{name} ended the chat; the owner is back with self-service.",
		"handoff.messages":         "Conversation",
		"handoff.no_messages":      "The owner has not written yet.",
		"handoff.from.bot":         "Assistant",
		"handoff.photo":            "photo/video",
		"handoff.done.take":        "You took the chat: reply to the owner.",
		"handoff.done.takeover":    "The chat is yours now.",
		"handoff.done.reply":       "Sent.",
		"handoff.done.link":        "The case is linked.",
		"handoff.done.end":         "The chat has ended; the owner was told.",
		"handoff.back":             "Back to the chats",
		"handoff.error.ended":      "The chat has ended; nothing more can be done in it.",
		"handoff.changed":          "The chat changed; reloading…",
		"handoff.wait.moment":      "under a minute",
		"handoff.wait.minutes":     "{n} min",
		"handoff.wait.hours":       "{h} h {m} min",
		"handoff.wait.days":        "{d} d {h} h",
		"purpose.handoff_reply":    "service desk's reply",
		"purpose.handoff_ended":    "chat ended",
		"quick.topic.greeting":     "Greeting",
		"quick.topic.repair":       "Repairs",
		"quick.topic.progress":     "Progress",
		"quick.topic.consultation": "Questions",
		"quick.topic.complaint":    "Complaints",
		"quick.topic.closing":      "Closing",
	})
}

// quickReply is a canned text a person sends an owner, in the owner's
// language.
type quickReply struct {
	zh, en string
}

// quickTopic is a topic of quick replies: its label's key and its texts.
type quickTopic struct {
	key     string
	replies []quickReply
}

// quickReplies is the catalogue of quick replies (快捷回复), by topic, in the
// order the reply box offers them.
var quickReplies = []quickTopic{
	{"quick.topic.greeting", []quickReply{
		{"您好，我是售后服务部客服，很高兴为您服务。请问有什么可以帮您？", "Hello, this is the after-sales service desk. How can I help you?"},
		{"您好，让您久等了，我来为您处理。", "Hello, sorry to keep you waiting. I'll take care of this for you."},
	}},
	{"quick.topic.repair", []quickReply{
		{"请问问题具体在哪个位置？方便的话请拍一张照片发给我们。", "Where exactly is the problem? If you can, please send us a photo."},
		{"请问这个情况是从什么时候开始的？", "Since when has this been happening?"},
		{"已为您登记报修，维修人员会尽快与您联系预约上门时间。", "Your repair is registered; an engineer will contact you soon to book a visit."},
		{"如有漏水，请先关闭总水阀并注意用电安全，我们会尽快安排人员处理。", "If water is leaking, please turn off the main valve and mind electrical safety; we will send someone as soon as we can."},
	}},
	{"quick.topic.progress", []quickReply{
		{"我帮您查一下处理进度，请稍等。", "Let me check the progress for you, one moment please."},
		{"我已提醒负责人加快处理，有进展会第一时间通知您。", "I have asked the person responsible to speed it up; we will tell you as soon as there is news."},
	}},
	{"quick.topic.consultation", []quickReply{
		{"产权证办理进度需与不动产登记中心核实，我们核实后会尽快答复您。", "The property certificate depends on the real-estate registration centre; we will check with them and get back to you."},
		{"关于费用问题，我们会请相关同事核实后回复您。", "About the fees, a colleague will check and reply to you."},
	}},
	{"quick.topic.complaint", []quickReply{
		{"非常抱歉给您带来不便，我们会认真核实并尽快给您答复。", "We are very sorry for the trouble. We will look into it carefully and reply as soon as possible."},
		{"您反映的情况我们已记录，将在 24 小时内联系您。", "We have recorded what you told us and will contact you within 24 hours."},
	}},
	{"quick.topic.closing", []quickReply{
		{"请问还有其他可以帮您的吗？", "Is there anything else I can help you with?"},
		{"感谢您的耐心，如有需要随时回复“人工”联系我们。", "Thank you for your patience. Reply \"agent\" whenever you need us again."},
	}},
}

// text returns the reply in lang.
func (q quickReply) text(lang l10n.Lang) string {
	if lang == l10n.English {
		return q.en
	}
	return q.zh
}
