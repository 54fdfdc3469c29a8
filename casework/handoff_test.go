package casework_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func TestServiceHours(t *testing.T) {
	t.Parallel()
	cst := casework.ChinaTime()
	friday := func(h, m int) time.Time { return time.Date(2026, 11, 27, h, m, 0, 0, cst) } // a Friday
	def := casework.ServiceHours{}
	for _, tt := range []struct {
		at   time.Time
		open bool
		next time.Time
	}{
		{friday(8, 29), false, friday(8, 30)},
		{friday(8, 30), true, friday(8, 30)},
		{friday(12, 0), true, friday(12, 0)},
		{friday(17, 59), true, friday(17, 59)},
		{friday(18, 0), false, friday(8, 30).AddDate(0, 0, 1)},
		{friday(23, 0), false, friday(8, 30).AddDate(0, 0, 1)},
		{friday(0, 0), false, friday(8, 30)},
	} {
		assert.Equal(t, tt.open, def.IsOpen(tt.at, cst), "open at %s", tt.at)
		assert.Equal(t, tt.next, def.NextOpening(tt.at, cst), "next opening after %s", tt.at)
	}
	// The department's zone, not the server's: 01:00 UTC is 09:00 in China.
	assert.True(t, def.IsOpen(time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC), nil))

	weekdays, err := casework.ParseServiceHours("mon-fri 09:00-17:30")
	require.NoError(t, err)
	assert.True(t, weekdays.IsOpen(friday(17, 0), cst))
	assert.False(t, weekdays.IsOpen(friday(8, 59), cst))
	monday := time.Date(2026, 11, 30, 9, 0, 0, 0, cst)
	assert.Equal(t, monday, weekdays.NextOpening(friday(17, 30), cst), "after Friday's closing: Monday")
	assert.False(t, weekdays.IsOpen(monday.AddDate(0, 0, -1).Add(time.Hour), cst), "not on Sunday")
	assert.Equal(t, "mon,tue,wed,thu,fri 09:00-17:30", weekdays.String())
	open, closing := weekdays.Clock()
	assert.Equal(t, []string{"09:00", "17:30"}, []string{open, closing})

	round, err := casework.ParseServiceHours(weekdays.String())
	require.NoError(t, err)
	assert.Equal(t, weekdays, round)
	weekend, err := casework.ParseServiceHours("sat,sun 10:00-16:00")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 28, 10, 0, 0, 0, cst), weekend.NextOpening(friday(12, 0), cst))
	wrap, err := casework.ParseServiceHours("fri-mon 10:00-16:00")
	require.NoError(t, err)
	assert.Equal(t, "mon,fri,sat,sun 10:00-16:00", wrap.String(), "a range may wrap around the week")

	d, err := casework.ParseServiceHours("")
	require.NoError(t, err)
	assert.Equal(t, "08:30-18:00", d.String())
	assert.Equal(t, "08:30-18:00", casework.ServiceHours{}.String(), "the zero hours are the default")
	for _, bad := range []string{"8-18", "18:00-08:30", "08:30-08:30", "mon-xyz 08:00-17:00", "08:30-24:01", "08:3-18:00", "funday 08:00-17:00"} {
		_, err := casework.ParseServiceHours(bad)
		require.ErrorIs(t, err, casework.ErrInvalid, bad)
	}
}

func TestHandoffWaitedAndUnanswered(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, casework.ChinaTime())
	h := &casework.Handoff{State: casework.HandoffWaiting, CreatedAt: at}
	assert.Equal(t, 7*time.Minute, h.Waited(at.Add(7*time.Minute)), "waiting: until now")
	taken := at.Add(3 * time.Minute)
	h.State, h.TakenAt = casework.HandoffTaken, &taken
	assert.Equal(t, 3*time.Minute, h.Waited(at.Add(time.Hour)), "until a person took it")
	assert.False(t, h.Unanswered(), "the owner said nothing yet")
	owner, agent := at.Add(4*time.Minute), at.Add(5*time.Minute)
	h.LastOwnerAt = &owner
	assert.True(t, h.Unanswered())
	h.LastAgentAt = &agent
	assert.False(t, h.Unanswered())
	h.State = casework.HandoffEnded
	h.LastAgentAt = nil
	assert.False(t, h.Unanswered(), "an ended hand-off waits for nobody")
}

func TestHandoffMessageValidate(t *testing.T) {
	t.Parallel()
	ok := casework.HandoffMessage{From: casework.FromOwner, Actor: "owner:1", Text: "在吗"}
	require.NoError(t, ok.Validate())
	photo := casework.HandoffMessage{From: casework.FromOwner, Actor: "owner:1", BlobKey: "k"}
	require.NoError(t, photo.Validate())
	for name, m := range map[string]casework.HandoffMessage{
		"from":  {From: "x", Actor: "owner:1", Text: "t"},
		"actor": {From: casework.FromAgent, Text: "t"},
		"text":  {From: casework.FromAgent, Actor: "staff:1", Text: "  "},
	} {
		var ve *casework.ValidationError
		require.ErrorAs(t, m.Validate(), &ve, name)
		assert.Equal(t, name, ve.Field)
	}
	long := ok
	long.Text = strings.Repeat("字", casework.MaxHandoffText+1)
	require.ErrorIs(t, long.Validate(), casework.ErrInvalid)
	assert.Contains(t, (&casework.HandoffMessage{HandoffID: 3, Text: "漏水", BlobKey: "k"}).CaseNote(), "人工会话 #3")
}
