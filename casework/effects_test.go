package casework_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func TestEffectsValidate(t *testing.T) {
	t.Parallel()
	msg := func() *casework.OutboxMessage { return &casework.OutboxMessage{Platform: "web", UserID: "v1"} }
	timer := func() casework.Timer { return casework.Timer{Kind: casework.TimerReturnVisit, At: t0} }
	require.NoError(t, casework.Effects{}.Validate())
	require.NoError(t, casework.Effects{Messages: []*casework.OutboxMessage{msg()}, Timers: []casework.Timer{timer()}}.Validate())

	for _, tt := range []struct {
		field string
		eff   func() casework.Effects
	}{
		{"message", func() casework.Effects { return casework.Effects{Messages: []*casework.OutboxMessage{msg(), nil}} }},
		{"message_platform", func() casework.Effects {
			m := msg()
			m.Platform = ""
			return casework.Effects{Messages: []*casework.OutboxMessage{m}}
		}},
		{"message_user_id", func() casework.Effects {
			m := msg()
			m.UserID = ""
			return casework.Effects{Messages: []*casework.OutboxMessage{m}}
		}},
		{"message_case", func() casework.Effects {
			m := msg()
			m.CaseID = -1
			return casework.Effects{Messages: []*casework.OutboxMessage{m}}
		}},
		{"timer_kind", func() casework.Effects {
			tm := timer()
			tm.Kind = "alarm"
			return casework.Effects{Timers: []casework.Timer{tm}}
		}},
		{"timer_at", func() casework.Effects {
			tm := timer()
			tm.At = time.Time{}
			return casework.Effects{Timers: []casework.Timer{tm}}
		}},
	} {
		t.Run(tt.field, func(t *testing.T) {
			t.Parallel()
			err := tt.eff().Validate()
			var ve *casework.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.ErrorIs(t, err, casework.ErrInvalid)
		})
	}
}

func TestEffectsPrepareJobsSetWritten(t *testing.T) {
	t.Parallel()
	sent := t0.Add(-time.Hour)
	own := &casework.OutboxMessage{CaseID: 9, Platform: "wechat", UserID: "o1", Purpose: "escalation",
		Status: casework.OutboxFailed, Attempts: 3, LastError: "x", SentAt: &sent}
	other := &casework.OutboxMessage{Platform: "web", UserID: "v1", Purpose: "owner_update", Payload: []byte("p")}
	eff := casework.Effects{
		Messages: []*casework.OutboxMessage{own, other},
		Timers: []casework.Timer{
			{Kind: casework.TimerRespondDeadline, At: t0},
			{CaseID: 9, Kind: casework.TimerReturnVisit, At: t0, Ref: 2},
		},
	}
	before := casework.Effects{Messages: []*casework.OutboxMessage{ptr(*own), ptr(*other)}, Timers: append([]casework.Timer(nil), eff.Timers...)}

	w := eff.Prepare(7, t0)
	assert.Equal(t, before, eff, "Prepare leaves e as it is")
	require.Len(t, w.Messages, 2)
	for i, m := range w.Messages {
		assert.NotSame(t, eff.Messages[i], m)
		assert.Equal(t, casework.OutboxPending, m.Status)
		assert.Zero(t, m.Attempts)
		assert.Empty(t, m.LastError)
		assert.Equal(t, t0, m.CreatedAt)
		assert.Nil(t, m.SentAt)
	}
	assert.Equal(t, int64(9), w.Messages[0].CaseID, "a CaseID of its own is kept")
	assert.Equal(t, int64(7), w.Messages[1].CaseID, "a zero CaseID is the change's case")
	assert.Equal(t, []byte("p"), w.Messages[1].Payload)
	assert.Equal(t, []casework.Timer{
		{CaseID: 7, Kind: casework.TimerRespondDeadline, At: t0},
		{CaseID: 9, Kind: casework.TimerReturnVisit, At: t0, Ref: 2},
	}, w.Timers)

	w.Messages[0].ID, w.Messages[1].ID = 11, 12
	assert.Equal(t, []casework.Job{
		{Kind: casework.JobDeliver, OutboxID: 11},
		{Kind: casework.JobDeliver, OutboxID: 12},
		{Kind: casework.JobTimer, Timer: w.Timers[0]},
		{Kind: casework.JobTimer, Timer: w.Timers[1]},
	}, w.Jobs())

	eff.SetWritten(w)
	assert.Equal(t, *w.Messages[0], *own)
	assert.Equal(t, *w.Messages[1], *other)
	assert.Equal(t, before.Timers, eff.Timers, "timers are not written back")

	none := casework.Effects{}.Prepare(7, t0)
	assert.Empty(t, none.Jobs())
	casework.Effects{}.SetWritten(none)
}

func TestEffectsForTask(t *testing.T) {
	t.Parallel()
	m := &casework.OutboxMessage{Platform: "web", UserID: "v1"}
	eff := casework.Effects{Messages: []*casework.OutboxMessage{m}, Timers: []casework.Timer{
		{Kind: casework.TimerTaskDue, At: t0},
		{Kind: casework.TimerTaskDue, At: t0, Ref: 3},
		{Kind: casework.TimerReturnVisit, At: t0},
	}}
	got := eff.ForTask(5)
	assert.Same(t, m, got.Messages[0])
	assert.Equal(t, []int64{5, 3, 0}, []int64{got.Timers[0].Ref, got.Timers[1].Ref, got.Timers[2].Ref})
	assert.Zero(t, eff.Timers[0].Ref, "e is left as it is")
}

func TestDeliveryErrorAndNote(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "timeout", casework.DeliveryError("timeout"))
	long := strings.Repeat("错", casework.MaxDeliveryError+5)
	assert.Equal(t, strings.Repeat("错", casework.MaxDeliveryError), casework.DeliveryError(long))

	m := &casework.OutboxMessage{ID: 4, Platform: "telegram", Purpose: "survey", Attempts: 3, LastError: "blocked", Payload: []byte("secret")}
	assert.Equal(t, "消息发送失败 message 4 (survey) to telegram failed after 3 attempt(s): blocked", m.DeliveryFailedNote())
}

func TestBindCodeValidate(t *testing.T) {
	t.Parallel()
	valid := func() *casework.BindCode {
		return &casework.BindCode{Code: "ABC123", MemberID: 1, IssuedBy: casework.Staff("s1"), ExpiresAt: t0}
	}
	require.NoError(t, valid().Validate())
	for field, mutate := range map[string]func(*casework.BindCode){
		"code":       func(b *casework.BindCode) { b.Code = "" },
		"issued_by":  func(b *casework.BindCode) { b.IssuedBy = "" },
		"expires_at": func(b *casework.BindCode) { b.ExpiresAt = time.Time{} },
	} {
		b := valid()
		mutate(b)
		var ve *casework.ValidationError
		require.ErrorAs(t, b.Validate(), &ve, field)
		assert.Equal(t, field, ve.Field)
	}
}

func TestTaskNotes(t *testing.T) {
	t.Parallel()
	task := &casework.Task{ID: 6, Assignee: "物业", Description: "开通水阀", DueAt: time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)}
	assert.Equal(t, "外部协调 task 6: 物业, due 2026-11-28 10:00 CST: 开通水阀", task.CreatedNote(nil))
	assert.Equal(t, "外部协调 task 6: 物业, due 2026-11-28 02:00 UTC: 开通水阀", task.CreatedNote(time.UTC))
	assert.Equal(t, "外部协调完成 task 6 done: 物业", task.DoneNote())
}

func ptr[T any](v T) *T { return &v }
