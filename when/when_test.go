package when_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/when"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cn := casework.ChinaTime()
	// Tuesday 8 December, 10:00 in the department's zone.
	now := testclock.Date(2026, 12, 8, 10, 0, 0, 0, cn)
	at := func(month time.Month, day, hour, minute int) time.Time {
		return testclock.Date(2026, month, day, hour, minute, 0, 0, cn)
	}
	tests := []struct {
		in   string
		want time.Time
		err  error
	}{
		// Chinese, a day named.
		{"今晚8点", at(12, 8, 20, 0), nil},
		{"今天晚上7点半", at(12, 8, 19, 30), nil},
		{"今天下午3点15分", at(12, 8, 15, 15), nil},
		{"今天中午12点", at(12, 8, 12, 0), nil},
		{"今晚", at(12, 8, 19, 0), nil},
		{"明天下午两点", at(12, 9, 14, 0), nil},
		{"明天下午两点到四点", at(12, 9, 14, 0), nil},
		{"明天两点", at(12, 9, 14, 0), nil},
		{"明天上午十点一刻", at(12, 9, 10, 15), nil},
		{"明早", at(12, 9, 9, 0), nil},
		{"明晚七点", at(12, 9, 19, 0), nil},
		{"明天晚上7点", at(12, 9, 19, 0), nil},
		{"后天上午10点", at(12, 10, 10, 0), nil},
		{"大后天下午", at(12, 11, 14, 0), nil},
		{"周六上午", at(12, 12, 9, 0), nil},
		{"星期日晚上八点", at(12, 13, 20, 0), nil},
		{"下周一下午", at(12, 14, 14, 0), nil},
		{"周二晚上", at(12, 8, 19, 0), nil}, // today is a Tuesday
		{"12-08 19:30", at(12, 8, 19, 30), nil},
		{"12月8日19:30", at(12, 8, 19, 30), nil},
		{"12月10号 下午三点半", at(12, 10, 15, 30), nil},
		{"１２月９日　１９：００", at(12, 9, 19, 0), nil}, // full-width
		{"01-05 9:00", testclock.Date(2027, 1, 5, 9, 0, 0, 0, cn), nil},
		// Chinese, no day: today, or tomorrow once the time has passed.
		{"晚上8点", at(12, 8, 20, 0), nil},
		{"下午两点半", at(12, 8, 14, 30), nil},
		{"8点", at(12, 9, 8, 0), nil},
		{"19:00", at(12, 8, 19, 0), nil},
		// English.
		{"12/8 7pm", at(12, 8, 19, 0), nil},
		{"tomorrow 7pm", at(12, 9, 19, 0), nil},
		{"Tomorrow at 9:30 am", at(12, 9, 9, 30), nil},
		{"today 8:30pm", at(12, 8, 20, 30), nil},
		{"Saturday morning", at(12, 12, 9, 0), nil},
		{"sat afternoon", at(12, 12, 14, 0), nil},
		{"next monday 10am", at(12, 14, 10, 0), nil},
		{"tonight 8", at(12, 8, 20, 0), nil},
		{"tonight", at(12, 8, 19, 0), nil},
		{"tonight 8pm", at(12, 8, 20, 0), nil},
		{"今晚8点半", at(12, 8, 20, 30), nil},
		{"tomorrow 7-9pm", at(12, 9, 19, 0), nil},
		{"day after tomorrow noon", at(12, 10, 12, 0), nil},
		{"8pm", at(12, 8, 20, 0), nil},
		// Past, with the day named: returned with ErrPast, not moved.
		{"今天早上8点", at(12, 8, 8, 0), when.ErrPast},
		{"today 9am", at(12, 8, 9, 0), when.ErrPast},
		{"12-08 09:30", at(12, 8, 9, 30), when.ErrPast},
		{"周二上午", at(12, 8, 9, 0), when.ErrPast},
		// Refused.
		{"", time.Time{}, when.ErrUnreadable},
		{"明天", time.Time{}, when.ErrUnreadable},
		{"tomorrow", time.Time{}, when.ErrUnreadable},
		{"随便", time.Time{}, when.ErrUnreadable},
		{"工作日晚上7点后", time.Time{}, when.ErrUnreadable},
		{"上午14点", time.Time{}, when.ErrUnreadable},
		{"25:00", time.Time{}, when.ErrUnreadable},
		{"2月30日 上午", time.Time{}, when.ErrUnreadable},
		{"明天 12-09 9点", time.Time{}, when.ErrUnreadable},
		{"whenever you like", time.Time{}, when.ErrUnreadable},
		{"next week", time.Time{}, when.ErrUnreadable},
		{"tomorrow morning 8pm", time.Time{}, when.ErrUnreadable},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := when.Parse(tt.in, now)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want.Format(time.DateTime), got.Format(time.DateTime))
			if !got.IsZero() {
				assert.Equal(t, cn, got.Location())
			}
		})
	}
}

// TestParseZone reads the day in now's zone, not the server's: 23:30 UTC is
// already the next morning in China.
func TestParseZone(t *testing.T) {
	t.Parallel()
	cn := casework.ChinaTime()
	now := testclock.Date(2026, 12, 7, 23, 30, 0, 0, time.UTC).In(cn)
	got, err := when.Parse("今晚8点", now)
	require.NoError(t, err)
	assert.Equal(t, testclock.Date(2026, 12, 8, 20, 0, 0, 0, cn), got)
}
