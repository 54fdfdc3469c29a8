package casework_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
)

// TestOnDuty: who is on duty at a moment of a week's roster with a turn
// across midnight, a whole day, and a holiday's dated turn that replaces
// the week's turns beginning that day.
func TestOnDuty(t *testing.T) {
	t.Parallel()
	h := time.Hour
	roster := []*casework.Duty{
		{MemberID: 1, Weekday: time.Sunday, From: 8*h + 30*time.Minute, To: 18 * h},
		{MemberID: 2, Weekday: time.Sunday, From: 18 * h, To: 8*h + 30*time.Minute}, // to Monday morning
		{MemberID: 3, Weekday: time.Saturday, From: 0, To: 24 * h},
		{MemberID: 4, Date: testclock.Day(2026, 11, 29), From: 20 * h, To: 23*h + 30*time.Minute}, // a Sunday
	}
	cn := casework.ChinaTime()
	at := func(day, hour, minute int) time.Time { return testclock.Date(2026, 11, day, hour, minute, 0, 0, cn) }
	require.Equal(t, time.Sunday, at(22, 0, 0).Weekday())
	for _, tt := range []struct {
		name string
		at   time.Time
		want []int64
	}{
		{"Sunday 23:00: the night turn", at(22, 23, 0), []int64{2}},
		{"Sunday 18:00: the night turn begins", at(22, 18, 0), []int64{2}},
		{"Sunday 17:59: the day turn", at(22, 17, 59), []int64{1}},
		{"Monday 02:00: Sunday's night turn still", at(23, 2, 0), []int64{2}},
		{"Monday 08:30: it ended", at(23, 8, 30), nil},
		{"Saturday 23:59: the whole day", at(21, 23, 59), []int64{3}},
		{"Sunday 00:00: Saturday's day is over", at(22, 0, 0), nil},
		{"the holiday Sunday 23:00: its dated turn only", at(29, 23, 0), []int64{4}},
		{"the holiday Sunday 10:00: the week's day turn is replaced", at(29, 10, 0), nil},
		{"the Monday after the holiday 02:00: no night turn began", at(30, 2, 0), nil},
		{"the next Sunday: the week's turns again", at(6+30, 23, 0), []int64{2}},
	} {
		assert.Equal(t, tt.want, casework.OnDuty(roster, tt.at, cn), tt.name)
	}
	// The same instant read in UTC: the roster is in the department's time.
	assert.Equal(t, []int64{2}, casework.OnDuty(roster, at(22, 23, 0).UTC(), cn))
	assert.Nil(t, casework.OnDuty(nil, at(22, 23, 0), cn), "no roster: nobody")
}

func TestDutyValidate(t *testing.T) {
	t.Parallel()
	h := time.Hour
	ok := casework.Duty{ProjectID: 1, MemberID: 2, Weekday: time.Friday, From: 18 * h, To: 8 * h}
	require.NoError(t, ok.Validate())
	assert.True(t, ok.Spans())
	assert.Equal(t, 14*h, ok.Length())
	whole := casework.Duty{ProjectID: 1, MemberID: 2, Date: testclock.Day(2026, 10, 1), From: 0, To: 24 * h}
	require.NoError(t, whole.Validate())
	assert.False(t, whole.Spans())
	assert.Equal(t, 24*h, whole.Length())

	for field, d := range map[string]casework.Duty{
		"project": {MemberID: 2, From: 0, To: h},
		"member":  {ProjectID: 1, From: 0, To: h},
		"day":     {ProjectID: 1, MemberID: 2, Weekday: 7, From: 0, To: h},
		"from":    {ProjectID: 1, MemberID: 2, From: 24 * h, To: h},
		"to":      {ProjectID: 1, MemberID: 2, From: 8 * h, To: 8 * h},
	} {
		var ve *casework.ValidationError
		require.ErrorAs(t, d.Validate(), &ve, field)
		assert.Equal(t, field, ve.Field)
	}
	bad := casework.Duty{ProjectID: 1, MemberID: 2, Date: casework.D(2026, 2, 30), From: 0, To: h}
	assert.Error(t, bad.Validate(), "no 30 February")
	assert.Equal(t, "24:00", casework.ClockText(24*h))
	assert.Equal(t, "08:05", casework.ClockText(8*h+5*time.Minute))
}
