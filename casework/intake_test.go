package casework_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func TestParseDay(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 1, 10, 15, 0, 0, 0, casework.ChinaTime())
	for in, want := range map[string]string{
		"今天": "2026-01-10", "today": "2026-01-10", "昨天": "2026-01-09", "Yesterday": "2026-01-09", "前天": "2026-01-08",
		"3天前": "2026-01-07", "3 days ago": "2026-01-07", "2025-12-20": "2025-12-20", "2025年12月20日": "2025-12-20",
		"2025/12/20": "2025-12-20", "1月5日": "2026-01-05", "12月20日": "2025-12-20", "12/20": "2025-12-20", "1-5": "2026-01-05",
		"2024-02-29": "2024-02-29",
	} {
		got, ok := casework.ParseDay(in, today)
		if assert.True(t, ok, in) {
			assert.Equal(t, want, got.Format("2006-01-02"), in)
		}
	}
	for _, in := range []string{"", "上个月", "2025-02-29", "13月1日", "2月30日", "long ago", "2026-13-01"} {
		_, ok := casework.ParseDay(in, today)
		assert.False(t, ok, in)
	}
}

func TestParseOccurred(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 1, 10, 15, 0, 0, 0, casework.ChinaTime())

	day, words, err := casework.ParseOccurred("昨天", today)
	require.NoError(t, err)
	require.NotNil(t, day)
	assert.Equal(t, "2026-01-09", day.Format("2006-01-02"))
	assert.Equal(t, "昨天", words, "the day as said")

	day, words, err = casework.ParseOccurred("上个月下大雨以后", today)
	require.NoError(t, err)
	assert.Nil(t, day, "words name no day")
	assert.Equal(t, "上个月下大雨以后", words)

	_, words, err = casework.ParseOccurred(strings.Repeat("漏", 150), today)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("漏", 100), words, "words are kept up to 100 characters")

	_, _, err = casework.ParseOccurred("2026-01-11", today)
	assert.ErrorIs(t, err, casework.ErrOccurredFuture)
	assert.ErrorIs(t, err, casework.ErrInvalid)
	for _, in := range []string{"1990-01-01", "!!", "", "1"} {
		_, _, err = casework.ParseOccurred(in, today)
		assert.ErrorIs(t, err, casework.ErrOccurredDay, in)
		var ve *casework.ValidationError
		require.True(t, errors.As(err, &ve), in)
		assert.Equal(t, "occurred", ve.Field)
	}
}

func TestMediaKindOf(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]casework.MediaKind{
		"image/jpeg": casework.MediaPhoto, "image/heic": casework.MediaPhoto, "video/mp4": casework.MediaVideo,
		"audio/amr": casework.MediaVoice, "application/pdf": casework.MediaDocument, "": casework.MediaDocument,
	} {
		assert.Equal(t, want, casework.MediaKindOf(ct), ct)
	}
}
