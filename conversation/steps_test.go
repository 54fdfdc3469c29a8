package conversation_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
)

// TestStepValidation answers each question of the report flow with good and
// bad answers and checks which are taken (the dialogue moves to the next
// step) and which are asked again with a reason (it stays, and the failure
// count grows).
func TestStepValidation(t *testing.T) {
	t.Parallel()
	// path leads a new owner to a step.
	path := map[string][]string{
		"name":         {"报修"},
		"unit":         {"报修", "林晓峰"},
		"phone":        {"报修", "林晓峰", "3-1-201"},
		"category":     {"报修", "林晓峰", "3-1-201", "@contact:+8613900000016:true"},
		"verify_code":  {"报修", "林晓峰", "3-1-201", "13900000016"},
		"location":     {"报修", "林晓峰", "3-1-201", "@contact:+8613900000016:true", "!cat:engineering_quality/crack"},
		"description":  {"报修", "林晓峰", "3-1-201", "@contact:+8613900000016:true", "!cat:engineering_quality/crack", "!loc:bedroom"},
		"occurred":     {"报修", "林晓峰", "3-1-201", "@contact:+8613900000016:true", "!cat:engineering_quality/crack", "!loc:bedroom", "墙面有一条裂缝"},
		"media":        {"报修", "林晓峰", "3-1-201", "@contact:+8613900000016:true", "!cat:engineering_quality/crack", "!loc:bedroom", "墙面有一条裂缝", "!occ:today"},
		"expectation":  {"报修", "林晓峰", "3-1-201", "@contact:+8613900000016:true", "!cat:engineering_quality/crack", "!loc:bedroom", "墙面有一条裂缝", "!occ:today", "!media:skip"},
		"contact_time": {"报修", "林晓峰", "3-1-201", "@contact:+8613900000016:true", "!cat:engineering_quality/crack", "!loc:bedroom", "墙面有一条裂缝", "!occ:today", "!media:skip", "!exp:repair"},
	}
	type answer struct {
		input string // "!payload" for a button, "@contact:PHONE:own" for a contact
		next  string // the step after it; "" = asked again
	}
	tests := map[string][]answer{
		"name": {{"林晓峰", "unit"}, {"Wei Zhang", "unit"}, {"😡😡", ""}, {"...", ""}, {strings.Repeat("名", 41), ""}, {"!loc:bathroom", ""}},
		"unit": {{"3-1-201", "phone"}, {"3栋1单元201", "phone"}, {"building 3 unit 1 room 201", "phone"}, {"三栋一单元201", "phone"},
			{"99-9-999", ""}, {"我家", ""}, {"1502", "unit"} /* ambiguous: choices, no failure */},
		"phone": {{"13900000016", "verify_code"}, {"+44 7700 900123", "verify_code"}, {"139 0000 0016", "verify_code"},
			{"12345", ""}, {"phone", ""}, {"@contact:13900000016:false", ""}, {"@contact:+8613900000016:true", "category"}},
		"verify_code": {{"!verify:skip", "category"}, {"!verify:resend", "verify_code"}, {"验证码", ""}, {"123", ""}, {"1234567", ""},
			{"@contact:+8613900000016:true", "category"}},
		"category": {{"!cat:engineering_quality/leak", "location"}, {"!cat:design_defect/other", "location"}, {"!cat:nonsense/x", ""},
			{"。", ""}, {"卫生间墙角渗水发霉", "category_ok"}},
		"location":     {{"!loc:kitchen", "description"}, {"主卧飘窗", "description"}, {"somewhere odd", "description"}, {"!loc:attic", ""}, {"!!", ""}},
		"description":  {{"墙面有一条很长的裂缝", "occurred"}, {"裂", ""}, {"😭😭😭", ""}, {"!occ:today", ""}},
		"occurred":     {{"!occ:week", "media"}, {"昨天", "media"}, {"2026-11-01", "media"}, {"上个月月底", "media"}, {"2099-01-01", ""}, {"!", ""}},
		"media":        {{"!media:done", "expectation"}, {"!media:skip", "expectation"}, {"hello", ""}},
		"expectation":  {{"!exp:replace", "contact_time"}, {"修好就行", "contact_time"}, {"。", ""}},
		"contact_time": {{"!ct:evening", "summary"}, {"周末上午", "summary"}, {".", ""}},
	}
	for step, answers := range tests {
		for i, a := range answers {
			t.Run(fmt.Sprintf("%s/%d", step, i), func(t *testing.T) {
				t.Parallel()
				w := newWorld(t)
				u := w.user("3001", "zh-hans")
				for _, m := range path[step] {
					deliver(u, m)
				}
				before := session(t, w, u)
				require.Equal(t, step, before.Step, "the path leads to %s", step)
				deliver(u, a.input)
				after := session(t, w, u)
				if a.next == "" {
					assert.Equal(t, step, after.Step, "%q must be asked again", a.input)
					assert.Equal(t, before.Failures+1, after.Failures, "%q counts as a failed answer", a.input)
					require.NotEmpty(t, w.lastOut)
					return
				}
				assert.Equal(t, a.next, after.Step, "%q must be taken", a.input)
				assert.Zero(t, after.Failures)
			})
		}
	}
}

func deliver(u *user, m string) {
	switch {
	case strings.HasPrefix(m, "!"):
		u.deliver(&bot.Inbound{Kind: bot.KindButton, Payload: m[1:]})
	case strings.HasPrefix(m, "@contact:"):
		parts := strings.Split(m, ":")
		u.contact(parts[1], parts[2] == "true")
	default:
		u.say(m)
	}
}

func session(t *testing.T, w *world, u *user) struct {
	Step     string
	Failures int
} {
	t.Helper()
	s, err := w.sessions.Load(context.Background(), u.ref.Key())
	require.NoError(t, err)
	require.NotNil(t, s)
	return struct {
		Step     string
		Failures int
	}{s.Step, s.Failures}
}
