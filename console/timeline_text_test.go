package console

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aftersales/aftersales/l10n"
)

func TestNoteText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ note, zh, en string }{
		{"waits for staff: out of warranty", "等待人工处理：", "Waits for staff: "},
		{"work order to HXJS / 吴海涛", "派工给 HXJS 吴海涛", "Work order to HXJS 吴海涛"},
		{"urgent work order not taken within 30m0s", "紧急工单 30 分钟内无人接单，已通知主管", "Urgent work order not taken within 30 min: the supervisors were told"},
		{"resumed after 3d 1m on hold; deadlines moved later: on site 11-30 23:00 → 12-03 23:01: 材料已到",
			"挂起 3 天 1 分钟后恢复处理；时限顺延：上门 11-30 23:00 → 12-03 23:01：材料已到", "Resumed after 3 d 1 min on hold"},
		{"duplicate (SH-20261127-0001): 同一处渗水", "不予受理：重复报修（SH-20261127-0001）：同一处渗水", "Rejected: Duplicate"},
		{"业主催办 urged by the owner (2); alerted: staff in the console, engineer 吴海涛, the supervisors (overdue); the owner says: 还没人来",
			"业主催办（第 2 次）：已通知客服（工作台）、维修人员 吴海涛、主管（已超时）；业主说：还没人来", "The owner urged (time 2): alerted staff (in the console), engineer 吴海涛, the supervisors (overdue)"},
		{"survey answered after it closed: speed 2, attitude 4, quality 3; the owner wrote: 等得久", "评价截止后业主补充评分（作为意见记录）：响应速度 2 分，服务态度 4 分，维修质量 3 分；业主留言：等得久",
			"The owner rated after the survey closed (kept as comments): speed 2, attitude 4, quality 3; the owner wrote: 等得久"},
		{"survey answered after it closed: speed 5, attitude 5, quality 5", "维修质量 5 分", "quality 5"},
		{"withdrawn by the owner in chat: 我自己找人修了", "业主在聊天中撤销：我自己找人修了", "Withdrawn by the owner in chat: 我自己找人修了"},
		{"已电话联系业主，约明天上午", "已电话联系业主，约明天上午", "已电话联系业主，约明天上午"},
	} {
		assert.Contains(t, noteText(l10n.Chinese, tc.note), tc.zh, tc.note)
		assert.Contains(t, noteText(l10n.English, tc.note), tc.en, tc.note)
	}
}

func TestNoteTextUrgentCalls(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "派工给 HXJS 吴海涛；紧急：已短信并电话通知 吴海涛 (139****9002)",
		noteText(l10n.Chinese, "work order to HXJS / 吴海涛; urgent: SMS and call to 吴海涛 (139****9002)"))
	assert.Equal(t, "派工给 GCB 陶然；对方未绑定聊天账号，工单在“待接收工单”中等待；紧急：陶然 无电话记录，未能短信和电话通知",
		noteText(l10n.Chinese, "work order to GCB / 陶然; no chat account bound: the order waits in the staff API; urgent: 陶然 has no phone on record: not texted or called"))
	assert.Equal(t, "紧急工单无人接单：已短信并电话通知 林峰 (139****9009)、无人可短信或电话通知",
		noteText(l10n.Chinese, "urgent order not taken: SMS and call to 林峰 (139****9009); no duty supervisor to text or call"))
}

// TestNoteTextJudgment: the first judgment says what read the owner's
// words and how sure it was; a note written before that says nothing of it.
func TestNoteTextJudgment(t *testing.T) {
	t.Parallel()
	const note = "初步判断 first judgment: engineering_quality/leak, urgent; responsibility developer; suggested party HXJS 华信建设; warranty in 2029-11-16 (leak_5y); signals [active_leak]"
	zh, en := noteText(l10n.Chinese, note+"; read by model 0.93"), noteText(l10n.English, note+"; read by llm 0.80")
	assert.Contains(t, zh, "初步判断：工程质量")
	assert.True(t, strings.HasSuffix(zh, "；由分类模型判断（置信度 0.93）"), zh)
	assert.Contains(t, en, "First judgment: ")
	assert.True(t, strings.HasSuffix(en, "; read by the language model (confidence 0.80)"), en)
	old := noteText(l10n.Chinese, note)
	assert.Contains(t, old, "初步判断：工程质量")
	assert.NotContains(t, old, "置信度")
}
