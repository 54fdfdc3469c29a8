package lifecycle_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
)

// shenChat is the WeChat account of 沈静, a second supervisor of GCB.
const shenChat = "sup-shen"

// withRoster adds 沈静 to GCB as a supervisor with a WeChat account and
// gives 海景苑 its roster: 沈静 on Sunday nights to Monday 08:30, 林峰 on
// Saturday nights.
func (e *env) withRoster(t *testing.T, bindShen bool) *casework.Member {
	t.Helper()
	shen := &casework.Member{PartyID: e.parties["GCB"].ID, Name: "沈静", Phone: "13900009011", Role: casework.RoleSupervisor}
	require.NoError(t, e.store.CreateMember(t.Context(), shen))
	e.members[shen.Name] = shen
	if bindShen {
		e.bind(t, "沈静", "wechat:"+shenChat, "zh")
	}
	h := time.Hour
	require.NoError(t, e.store.ReplaceRoster(t.Context(), []int64{e.project.ID}, []*casework.Duty{
		{ProjectID: e.project.ID, MemberID: shen.ID, Weekday: time.Sunday, From: 18 * h, To: 8*h + 30*time.Minute},
		{ProjectID: e.project.ID, MemberID: e.member(t, "林峰").ID, Weekday: time.Saturday, From: 18 * h, To: 8*h + 30*time.Minute},
	}))
	return shen
}

// toldAbout returns the chat accounts told about c as supervisors are, in
// order.
func (e *env) toldAbout(t *testing.T, c *casework.Case, purpose string) []string {
	t.Helper()
	var out []string
	for _, m := range byPurpose(e.outbox(t, c.ID), purpose) {
		if (m.UserID == supervisorChat || m.UserID == shenChat) && !slices.Contains(out, m.UserID) {
			out = append(out, m.UserID)
		}
	}
	return out
}

// inChina returns the time of day on a day of the test's week in March
// 2026 (the 15th is a Sunday), in China.
func inChina(day, hour, minute int) time.Time {
	return testclock.Date(2026, 3, day, hour, minute, 0, 0, casework.ChinaTime())
}

// TestRosterDecidesWhoIsToldOutOfHours: a case waiting for staff is told to
// every supervisor in the department's hours, and out of them to the one on
// duty for its project — across midnight too; nobody on duty, or the one on
// duty with no chat, every supervisor is told.
func TestRosterDecidesWhoIsToldOutOfHours(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withRoster(t, true)
	require.Equal(t, time.Sunday, inChina(15, 23, 0).Weekday())
	for _, tt := range []struct {
		name string
		at   time.Time
		want []string
	}{
		{"Sunday 23:00: 沈静's night", inChina(15, 23, 0), []string{shenChat}},
		{"Monday 02:00: still her night", inChina(16, 2, 0), []string{shenChat}},
		{"Saturday 19:00: 林峰's night", inChina(14, 19, 0), []string{supervisorChat}},
		{"Sunday 10:00: office hours, everyone", inChina(15, 10, 0), []string{supervisorChat, shenChat}},
		{"Monday 08:30: office hours again", inChina(16, 8, 30), []string{supervisorChat, shenChat}},
		{"Monday 23:00: nobody on duty, everyone", inChina(16, 23, 0), []string{supervisorChat, shenChat}},
	} {
		e.clock.Set(tt.at)
		c := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut })
		_, err := e.svc.Triage(t.Context(), c)
		require.NoError(t, err)
		assert.Equal(t, tt.want, e.toldAbout(t, c, "triage"), tt.name)
	}

	// The roster cleared: everyone.
	e.clock.Set(inChina(15, 23, 0))
	other := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut })
	require.NoError(t, e.store.ReplaceRoster(t.Context(), []int64{e.project.ID}, nil))
	_, err := e.svc.Triage(t.Context(), other)
	require.NoError(t, err)
	assert.Equal(t, []string{supervisorChat, shenChat}, e.toldAbout(t, other, "triage"), "no roster: everyone")
}

// TestRosterOnDutyWithoutChatFallsBack: the supervisor on duty has no chat
// account: every supervisor is told rather than nobody.
func TestRosterOnDutyWithoutChatFallsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withRoster(t, false)
	e.clock.Set(inChina(15, 23, 0))
	c := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut })
	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	assert.Equal(t, []string{supervisorChat}, e.toldAbout(t, c, "triage"))
}

// TestRosterDecidesWhoIsCalled: an urgent order nobody took on a Sunday
// night rings the phone of the supervisor on duty only, and her chat gets
// the notice with its buttons.
func TestRosterDecidesWhoIsCalled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	shen := e.withRoster(t, true)
	e.clock.Set(inChina(15, 22, 50))
	c := e.notTaken(t) // at 23:21
	var phones []string
	for _, m := range phoneCalls(e.outbox(t, c.ID)) {
		if m.Purpose == lifecycle.PurposeUrgentCall && m.Messages[0].Template == lifecycle.NoticeNotTaken {
			phones = append(phones, m.UserID)
		}
	}
	assert.Equal(t, []string{shen.Phone}, phones, "her phone only")
	assert.Equal(t, []string{shenChat}, e.toldAbout(t, c, "escalation"))
	var note string
	for _, ev := range e.events(t, c.ID) {
		if ev.Kind == casework.EventNote && ev.Actor == casework.ActorSystem {
			note = ev.Note
		}
	}
	assert.Equal(t, "urgent order not taken: SMS and call to 沈静 (139****9011)", note)
	for _, m := range byPurpose(e.outbox(t, c.ID), "escalation") {
		if m.UserID == shenChat {
			assert.Contains(t, labels(m.Messages[0].Choices), "派给值班单位")
		}
	}
}

// TestOfficeHoursAreConfigured: the department's hours come from the
// configuration; a night shop's "always open" tells everyone at night.
func TestOfficeHoursAreConfigured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *lifecycle.Config) { c.OfficeHoursFunc = func(time.Time) bool { return true } })
	e.withRoster(t, true)
	e.clock.Set(inChina(15, 23, 0))
	c := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut })
	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	assert.Equal(t, []string{supervisorChat, shenChat}, e.toldAbout(t, c, "triage"))

	in := lifecycle.DefaultOfficeHours(casework.ChinaTime())
	assert.True(t, in(inChina(15, 8, 30)))
	assert.True(t, in(inChina(15, 17, 59)))
	assert.False(t, in(inChina(15, 18, 0)))
	assert.False(t, in(inChina(15, 8, 29)))
}
