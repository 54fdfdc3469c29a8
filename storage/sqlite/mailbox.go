package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/aftersales/aftersales/bot"
)

// Mailbox is a bot.Mailbox in the database (tables mailboxes and
// mailbox_entries), for a chat page served without Redis. SQLite serves one
// process, so its watchers are woken in this process, after the Put's commit:
// every Mailbox of one DB shares the DB's WakeHub, so that a Put through one
// wakes the watchers of another. It is safe for concurrent use.
type Mailbox struct {
	*bot.WakeHub
	db   *DB
	size int
	keep time.Duration

	sweep *bot.Sweeper // when Put sweeps the expired boxes
}

var _ bot.Mailbox = (*Mailbox)(nil)

// sweepEvery is how often, on the callers' clock, Put deletes the boxes
// untouched for the keep time; sweepMost bounds how many one Put deletes.
const (
	sweepEvery = time.Minute
	sweepMost  = 1000
)

// Mailbox returns a mailbox keeping size entries per box (bot.DefaultMailboxSize
// when size ≤ 0), each box for keep after its last Put (bot.DefaultMailboxKeep
// when keep ≤ 0).
func (db *DB) Mailbox(size int, keep time.Duration) *Mailbox {
	size, keep = bot.MailboxLimits(size, keep)
	return &Mailbox{WakeHub: &db.mailboxHub, db: db, size: size, keep: keep, sweep: &bot.Sweeper{Every: sweepEvery}}
}

// Put implements bot.Mailbox, in one write transaction: a box untouched for
// the keep time is forgotten first, so that its numbering starts again.
// About once a minute it also deletes every such box.
func (m *Mailbox) Put(ctx context.Context, box, dedupe string, body []byte, now time.Time) (int64, bool, error) {
	if body == nil {
		body = []byte{}
	}
	var seq int64
	var added bool
	sweep := m.sweep.Due(now)
	err := m.db.inWrite(ctx, func(tx *Tx) (err error) {
		seq, added, err = m.put(ctx, tx, box, dedupe, body, now, sweep)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("put to mailbox %s: %w", box, err)
	}
	if added {
		m.Wake(box)
	}
	return seq, added, nil
}

func (m *Mailbox) put(ctx context.Context, tx *Tx, box, dedupe string, body []byte, now time.Time, sweep bool) (int64, bool, error) {
	expired := encodeTime(now.Add(-m.keep))
	if _, err := tx.ExecContext(ctx, "DELETE FROM mailboxes WHERE box = ? AND touched_at <= ?", box, expired); err != nil {
		return 0, false, err
	}
	if sweep {
		if _, err := tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE box IN (
			SELECT box FROM mailboxes WHERE touched_at <= ? LIMIT ?)`, expired, sweepMost); err != nil {
			return 0, false, err
		}
	}
	if dedupe != "" {
		var kept int64
		err := tx.QueryRowContext(ctx, "SELECT seq FROM mailbox_entries WHERE box = ? AND dedupe = ?", box, dedupe).Scan(&kept)
		switch {
		case err == nil:
			return kept, false, nil
		case !errors.Is(err, sql.ErrNoRows):
			return 0, false, err
		}
	}
	var seq int64
	err := tx.QueryRowContext(ctx, `INSERT INTO mailboxes (box, last_seq, touched_at) VALUES (?, 1, ?)
		ON CONFLICT (box) DO UPDATE SET last_seq = last_seq + 1, touched_at = max(touched_at, excluded.touched_at)
		RETURNING last_seq`, box, encodeTime(now)).Scan(&seq)
	if err != nil {
		return 0, false, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO mailbox_entries (box, seq, dedupe, body) VALUES (?, ?, ?, ?)",
		box, seq, nullText(dedupe), body); err != nil {
		return 0, false, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM mailbox_entries WHERE box = ? AND seq <= ?", box, seq-int64(m.size)); err != nil {
		return 0, false, err
	}
	return seq, true, nil
}

// After implements bot.Mailbox, in one statement.
func (m *Mailbox) After(ctx context.Context, box string, after int64, now time.Time) ([]bot.MailboxEntry, int64, error) {
	rows, err := readAll(ctx, m.db, "read mailbox "+box, func(s scanner) (bot.MailboxRow, error) {
		var r bot.MailboxRow
		var seq sql.NullInt64
		var dedupe sql.NullString
		var body []byte
		if err := s.Scan(&r.Last, &seq, &dedupe, &body); err != nil || !seq.Valid {
			return r, err
		}
		r.Entry = &bot.MailboxEntry{Seq: seq.Int64, Dedupe: dedupe.String, Body: body}
		return r, nil
	}, `SELECT m.last_seq, e.seq, e.dedupe, e.body FROM mailboxes m
		LEFT JOIN mailbox_entries e ON e.box = m.box AND e.seq > ?
		WHERE m.box = ? AND m.touched_at > ?
		ORDER BY e.seq`, after, box, encodeTime(now.Add(-m.keep)))
	if err != nil {
		return nil, 0, err
	}
	entries, last := bot.MailboxRows(rows)
	return entries, last, nil
}
