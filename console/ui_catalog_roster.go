package console

import (
	"regexp"

	"github.com/aftersales/aftersales/lifecycle"
)

// The duty roster's page (roster.html, roster_list.go) and the timeline's
// words for what the supervisors do from their chat (lifecycle's
// supervisor.go).
func init() {
	addText(map[string]string{
		"roster.title":          "主管值班表",
		"roster.link":           "主管值班表",
		"roster.about":          "工作时间内，提醒和升级发给所有主管；工作时间外，只发给当班主管，并由其接听紧急工单的电话通知；无人当班时发给所有主管。值班表用 aftersales roster import 导入。",
		"roster.day":            "值班日",
		"roster.hours":          "时段",
		"roster.member":         "值班主管",
		"roster.none":           "尚未导入值班表：工作时间外也通知所有主管。",
		"roster.hours_same_day": "{from}–{to}",
		"roster.hours_next_day": "{from}–次日 {to}",
		"note.phone_shown_chat": "在聊天中查看了业主电话",
	}, map[string]string{
		"roster.title":          "Supervisors' duty roster",
		"roster.link":           "Supervisors' duty roster",
		"roster.about":          "In office hours every supervisor is told of escalations; out of them only the supervisor on duty, who also gets the calls about urgent orders nobody took; with nobody on duty, every supervisor. The roster is loaded with aftersales roster import.",
		"roster.day":            "Day",
		"roster.hours":          "Hours",
		"roster.member":         "Supervisor on duty",
		"roster.none":           "No duty roster yet: every supervisor is told out of hours too.",
		"roster.hours_same_day": "{from}–{to}",
		"roster.hours_next_day": "{from}–{to} next day",
		"note.phone_shown_chat": "Viewed the owner's phone in the chat",
	})
	noteShapes = append(noteShapes, shape(`^`+regexp.QuoteMeta(lifecycle.PhoneShownNote)+`$`, "phone_shown_chat", nil))
}
