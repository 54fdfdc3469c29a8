package telegram

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/stretchr/testify/assert"

	"github.com/aftersales/aftersales/bot"
)

func TestSplitText(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"短消息"}, splitText("短消息", maxText))
	assert.Equal(t, []string{" "}, splitText("", maxText), "Telegram refuses an empty text")

	long := strings.Repeat("第一行内容\n", 1000) // 6,000 UTF-16 units
	parts := splitText(long, maxText)
	assert.Len(t, parts, 2)
	for _, p := range parts {
		assert.LessOrEqual(t, len(utf16.Encode([]rune(p))), maxText)
		assert.True(t, strings.HasSuffix(p, "第一行内容") || strings.HasSuffix(p, "\n"), "cut at a line break")
	}
	assert.Equal(t, strings.ReplaceAll(long, "\n", ""), strings.ReplaceAll(strings.Join(parts, ""), "\n", ""), "nothing lost")

	emoji := strings.Repeat("😀", 3000) // 6,000 UTF-16 units, no line breaks
	parts = splitText(emoji, maxText)
	assert.Equal(t, emoji, strings.Join(parts, ""))
	for _, p := range parts {
		assert.LessOrEqual(t, len(utf16.Encode([]rune(p))), maxText)
	}
}

func TestInlineKeyboardLayout(t *testing.T) {
	t.Parallel()
	kb := inlineKeyboard([]bot.Choice{
		{Label: "客厅", Payload: "loc:living_room"}, {Label: "卧室", Payload: "loc:bedroom"},
		{Label: "厨房", Payload: "loc:kitchen"},
		{Label: "电梯/消防/门禁等设施 and more words", Payload: "cat:facilities_equipment/other"},
		{Label: "x", Payload: strings.Repeat("p", 80)},
	})
	rows := kb.InlineKeyboard
	assert.Len(t, rows, 4)
	assert.Len(t, rows[0], 2, "short labels two to a row")
	assert.Len(t, rows[1], 1, "a long label gets its own row")
	assert.Len(t, rows[2], 1)
	assert.Equal(t, 64, len(*rows[3][0].CallbackData), "callback data fits Telegram's 64 bytes")
}

func TestRedactRemovesTheToken(t *testing.T) {
	t.Parallel()
	a := &Adapter{cfg: Config{Token: "123456:SECRET-token_value-abcdefghij"}}
	err := a.redact(errors.New(`Post "https://api.telegram.org/bot123456:SECRET-token_value-abcdefghij/getMe": dial tcp: refused`))
	assert.NotContains(t, err.Error(), "SECRET")
	assert.Contains(t, err.Error(), "<token>")
	plain := errors.New("plain")
	assert.Same(t, plain, a.redact(plain))
}

func TestFinalRefusals(t *testing.T) {
	t.Parallel()
	blocked := final(&tgbotapi.Error{Code: 403, Message: "Forbidden: bot was blocked by the user"})
	assert.ErrorIs(t, blocked, ErrUnreachable)
	assert.ErrorIs(t, blocked, bot.ErrUndeliverable, "the outbox fails it at once")
	bad := final(&tgbotapi.Error{Code: 400, Message: "Bad Request: chat not found"})
	assert.ErrorIs(t, bad, bot.ErrUndeliverable)
	assert.NotErrorIs(t, bad, ErrUnreachable)
	var te *tgbotapi.Error
	assert.ErrorAs(t, bad, &te, "the API's error is kept")
	busy := &tgbotapi.Error{Code: 429, Message: "Too Many Requests"}
	assert.Same(t, error(busy), final(busy), "tried again later")
	other := errors.New("telegram: gave up")
	assert.Same(t, other, final(other))
}
