package bot_test

import (
	"testing"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/mailboxtest"
)

func TestMemoryMailbox(t *testing.T) {
	mailboxtest.Run(t, func(t *testing.T, size int, keep time.Duration) (bot.Mailbox, bot.Mailbox) {
		m := bot.NewMemoryMailbox(size, 0, keep)
		return m, m
	})
}
