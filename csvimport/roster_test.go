package csvimport

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// TestParseRoster: a roster written as people write one — Chinese or
// English headers, weekdays in words or numbers, a holiday's date, times
// across midnight, the next day said or not.
func TestParseRoster(t *testing.T) {
	t.Parallel()
	const file = "\ufeff项目编码,值班人,值班日,开始时间,结束时间\r\n" +
		"HJY,林峰,周五,18:00,次日08:30\r\n" +
		"HJY,139 0000 9011,星期日,18：00,8:30\r\n" +
		"\r\n" +
		"HJY,沈静,2026年10月1日,00:00,24:00\r\n" +
		"ＨＪＹ,沈静,sat,8点30,18点00\r\n" +
		"LSY,林峰,7,20:00,00:00\r\n"
	recs, err := ParseRoster(strings.NewReader(file))
	require.NoError(t, err)
	h, m := time.Hour, time.Minute
	assert.Equal(t, []casework.DutyRecord{
		{Line: 2, ProjectCode: "HJY", Member: "林峰", Weekday: time.Friday, From: 18 * h, To: 8*h + 30*m},
		{Line: 3, ProjectCode: "HJY", Member: "139 0000 9011", Weekday: time.Sunday, From: 18 * h, To: 8*h + 30*m},
		{Line: 5, ProjectCode: "HJY", Member: "沈静", Date: casework.D(2026, 10, 1), From: 0, To: 24 * h},
		{Line: 6, ProjectCode: "HJY", Member: "沈静", Weekday: time.Saturday, From: 8*h + 30*m, To: 18 * h},
		{Line: 7, ProjectCode: "LSY", Member: "林峰", Weekday: time.Sunday, From: 20 * h, To: 24 * h},
	}, recs)

	english := "project_code,member,day,from,to\nHJY,13900009009,Monday,18:00,+1 08:00\n"
	recs, err = ParseRoster(strings.NewReader(english))
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, time.Monday, recs[0].Weekday)
	assert.Equal(t, 8*h, recs[0].To)
}

// TestParseRosterProblems: every bad line is refused, by its line and
// column, and nothing is returned.
func TestParseRosterProblems(t *testing.T) {
	t.Parallel()
	const header = "project_code,member,day,from,to\n"
	for _, tt := range []struct {
		name  string
		input string
		want  []problem
	}{
		{"a missing column", "project_code,member,day,from\nHJY,林峰,周一,18:00\n",
			[]problem{{1, "", "missing required column(s): to (结束时间)"}}},
		{"bad values", header +
			"HJY,林峰,周八,18:00,08:30\n" + // line 2
			"HJY,林峰,周一,25:00,08:30\n" + // 3
			"HJY,林峰,周一,18:00,8点\n" + // 4
			"HJY,林峰,周一,18:00,18:00\n" + // 5
			"HJY,林峰,周一,08:00,次日09:00\n" + // 6
			"HJY,,周一,18:00,08:30\n" + // 7
			"HJY,林峰,2026-02-30,18:00,08:30\n" + // 8
			"HJY,林峰,周二,24:00,08:30\n" + // 9
			"HJ Y,林峰,周二,18:00,08:30\n", // 10
			[]problem{
				{2, "day", `"周八" is neither a weekday`},
				{3, "from", `"25:00" is not a time of day`},
				{4, "to", `"8点" is not a time of day`},
				{5, "to", "the turn ends when it begins"},
				{6, "to", "the turn would last more than a day"},
				{7, "member", "is required"},
				{8, "day", `"2026-02-30" is neither a weekday`},
				{9, "from", `"24:00" is not a time of day from 00:00 to 23:59`},
				{10, "project_code", ""},
			}},
		{"a turn twice", header + "HJY,林峰,周一,18:00,08:30\nHJY,林峰,星期一,18:00,08:00\n",
			[]problem{{3, "", "the turn of 林峰 on Monday from 18:00 is already on line 2"}}},
		{"no rows", header, []problem{{1, "", "no data rows"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := ParseRoster(strings.NewReader(tt.input))
			require.Error(t, err)
			assert.Nil(t, recs)
			var ie *casework.ImportError
			require.ErrorAs(t, err, &ie)
			requireProblems(t, tt.want, ie.Lines)
		})
	}
	// A phone in a duplicate's message is masked.
	_, err := ParseRoster(strings.NewReader(header + "HJY,13900009009,周一,18:00,08:30\nHJY,13900009009,周一,18:00,08:30\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "139****9009")
	assert.NotContains(t, err.Error(), "13900009009")
}

// TestExampleRoster: the demo's roster parses; its turns are 林峰's, by
// name and by phone, every night of the week.
func TestExampleRoster(t *testing.T) {
	t.Parallel()
	recs, err := ExampleRoster()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	nights := map[time.Weekday]bool{}
	for _, r := range recs {
		assert.Equal(t, "HJY", r.ProjectCode)
		assert.Contains(t, []string{"林峰", "13900009009"}, r.Member)
		if r.From == 18*time.Hour {
			nights[r.Weekday] = true
		}
	}
	assert.Len(t, nights, 7, "every night of the week has its turn")
}
