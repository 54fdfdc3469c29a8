package testclock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseShift(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int{"": 0, "0": 0, "-28y": -28, "+56y": 56, "28y": 28, " -84y ": -84} {
		got, err := ParseShift(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"-400d", "-1y", "27y", "y", "-28", "twenty-eight years", "28yy"} {
		_, err := ParseShift(s)
		assert.Error(t, err, s)
	}
}

// TestACycleKeepsTheCalendar: 28 years on, every day of the tests' decades
// falls on the same weekday and every month has as many days, which is what
// lets a shifted run compute the same deadlines and labels.
func TestACycleKeepsTheCalendar(t *testing.T) {
	t.Parallel()
	for d := time.Date(1960, 1, 1, 12, 0, 0, 0, time.UTC); d.Year() < 2070; d = d.AddDate(0, 0, 1) {
		for _, n := range []int{-cycle, cycle} {
			e := d.AddDate(n, 0, 0)
			require.Equal(t, d.Weekday(), e.Weekday(), "%s and %s", d, e)
			require.Equal(t, d.Day(), e.Day(), "%s and %s: a leap day lost", d, e)
		}
	}
}

func TestTextMovesDatesOnly(t *testing.T) {
	t.Parallel()
	const in = "SH-20261127-0042 至 2029-11-16，2026/11/27 的照片，2026年，11月20日，20971520 字节，13900000016，Token2026"
	assert.Equal(t, "SH-19981127-0042 至 2001-11-16，1998/11/27 的照片，1998年，11月20日，20971520 字节，13900000016，Token2026",
		text(in, -28))
	assert.Equal(t, in, text(in, 0))
}
