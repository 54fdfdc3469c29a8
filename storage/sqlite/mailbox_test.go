package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/mailboxtest"
)

// TestMailbox runs the conformance suite on two Mailboxes of one DB, as
// SQLite serves one process: a Put through one wakes the other's watchers
// through the DB's hub.
func TestMailbox(t *testing.T) {
	t.Parallel()
	mailboxtest.Run(t, func(t *testing.T, size int, keep time.Duration) (bot.Mailbox, bot.Mailbox) {
		db := mustOpen(t, filepath.Join(t.TempDir(), "aftersales.db"), Options{})
		return db.Mailbox(size, keep), db.Mailbox(size, keep)
	})
}

// TestMailboxSweep checks that a Put deletes the boxes untouched for the
// keep time, with their entries, at most once a minute.
func TestMailboxSweep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, filepath.Join(t.TempDir(), "aftersales.db"), Options{})
	m := db.Mailbox(0, time.Hour)
	count := func(box string) (n int) {
		t.Helper()
		require.NoError(t, db.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM mailboxes WHERE box = ?)
			+ (SELECT count(*) FROM mailbox_entries WHERE box = ?)`, box, box).Scan(&n))
		return n
	}
	mailboxtest.Sweep(t, m, sweepEvery, count)
}

// BenchmarkMailboxPutAfter puts a visitor's message and reads the last 20 of
// the box, as the chat page does for each message.
func BenchmarkMailboxPutAfter(b *testing.B) {
	m := mustOpen(b, filepath.Join(b.TempDir(), "aftersales.db"), Options{}).Mailbox(0, 0)
	mailboxtest.Bench(b, m)
}
