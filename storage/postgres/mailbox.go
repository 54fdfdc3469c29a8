package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aftersales/aftersales/bot"
)

// Mailbox is a bot.Mailbox in the database (tables mailboxes and
// mailbox_entries), shared by every instance of the service, for a chat page
// served without Redis. A Put notifies channel aftersales_mailbox with the
// box's name at its commit; every instance LISTENs on it, on a connection of
// its own, and wakes its watchers of that box. All the Mailboxes of a DB
// share that connection, which DB.Close closes. It is safe for concurrent
// use.
//
// The channel is the database's, not the schema's: instances on other
// schemas of the database wake watchers of boxes with the same names, who
// find nothing new.
type Mailbox struct {
	db   *DB
	l    *listener
	size int
	keep time.Duration

	sweep *bot.Sweeper // when Put sweeps the expired boxes
}

var _ bot.Mailbox = (*Mailbox)(nil)

const (
	// mailboxChannel is the channel a Put notifies with its box's name.
	mailboxChannel = "aftersales_mailbox"
	// sweepEvery is how often, on the callers' clock, Put deletes the boxes
	// untouched for the keep time; sweepMost bounds how many one Put deletes.
	sweepEvery = time.Minute
	sweepMost  = 1000
	// putTries bounds the tries of a Put that loses the race to store the
	// same message (see isDedupeRace).
	putTries = 3
	// listenPing is how long the listener waits for a notification before it
	// checks that its connection is still there.
	listenPing = 30 * time.Second
	// listenRetryMin and listenRetryMax bound the wait before the listener
	// connects again, doubled at each failure in a row.
	listenRetryMin = 250 * time.Millisecond
	listenRetryMax = 30 * time.Second
)

// Mailbox returns a mailbox keeping size entries per box (bot.DefaultMailboxSize
// when size ≤ 0), each box for keep after its last Put (bot.DefaultMailboxKeep
// when keep ≤ 0). The first Mailbox of a DB starts its listener and returns
// once it listens, or once its first try to connect failed: it then tries
// again in the background, and wakes every watcher when it listens at last,
// as it does after a lost connection, for it may have missed their Puts.
func (db *DB) Mailbox(size int, keep time.Duration) *Mailbox {
	size, keep = bot.MailboxLimits(size, keep)
	return &Mailbox{db: db, l: db.mailboxListener(), size: size, keep: keep, sweep: &bot.Sweeper{Every: sweepEvery}}
}

// Put implements bot.Mailbox, in one transaction of three round trips: a box
// untouched for the keep time is forgotten first, so that its numbering
// starts again; Puts to one box then queue on its row. About once a minute
// it also deletes the boxes untouched for the keep time, skipping those
// another transaction holds.
func (m *Mailbox) Put(ctx context.Context, box, dedupe string, body []byte, now time.Time) (int64, bool, error) {
	if body == nil {
		body = []byte{}
	}
	sweep := m.sweep.Due(now)
	for try := 1; ; try++ {
		seq, added, err := m.put(ctx, box, dedupe, body, dbTime(now), sweep)
		if isDedupeRace(err) && try < putTries {
			continue // the next try finds the twin that won
		}
		if err != nil {
			return 0, false, fmt.Errorf("postgres: put to mailbox %s: %w", box, err)
		}
		return seq, added, nil
	}
}

func (m *Mailbox) put(ctx context.Context, box, dedupe string, body []byte, now time.Time, sweep bool) (seq int64, added bool, err error) {
	expired := now.Add(-m.keep)
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(`DELETE FROM mailboxes WHERE box = $1 AND touched_at <= $2`, box, expired)
	if sweep {
		b.Queue(`DELETE FROM mailboxes WHERE box IN (
			SELECT box FROM mailboxes WHERE touched_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, expired, sweepMost)
	}
	if dedupe != "" {
		b.Queue(`SELECT seq FROM mailbox_entries WHERE box = $1 AND dedupe = $2`, box, dedupe).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&seq); !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			return nil
		})
	}
	br := m.db.pool.SendBatch(ctx, b)
	err = br.Close()
	tx := br.Tx()
	defer func() { _ = tx.Rollback(ctx) }() // once committed, a no-op
	if err != nil {
		return 0, false, err
	}
	if seq != 0 {
		return seq, false, tx.Commit(ctx)
	}

	b = &pgx.Batch{}
	b.Queue(`INSERT INTO mailboxes (box, last_seq, touched_at) VALUES ($1, 1, $2)
		ON CONFLICT (box) DO UPDATE SET last_seq = mailboxes.last_seq + 1,
			touched_at = greatest(mailboxes.touched_at, excluded.touched_at)
		RETURNING last_seq`, box, now).QueryRow(func(row pgx.Row) error { return row.Scan(&seq) })
	b.Queue(`INSERT INTO mailbox_entries (box, seq, dedupe, body)
		VALUES ($1, (SELECT last_seq FROM mailboxes WHERE box = $1), $2, $3)`, box, nullText(dedupe), body)
	b.Queue(`DELETE FROM mailbox_entries WHERE box = $1 AND seq <= (SELECT last_seq FROM mailboxes WHERE box = $1) - $2`, box, m.size)
	b.Queue(`SELECT pg_notify('`+mailboxChannel+`', $1)`, box) // sent at the commit
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, false, err
	}
	return seq, true, tx.Commit(ctx)
}

// isDedupeRace reports whether err is the violation of
// mailbox_entries_dedupe_idx: a Put of the same message to the same box,
// which read no such entry either, committed first. Puts that read the
// entry don't add it again; the index catches those that ran together.
func isDedupeRace(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "mailbox_entries_dedupe_idx"
}

// After implements bot.Mailbox, in one statement.
func (m *Mailbox) After(ctx context.Context, box string, after int64, now time.Time) ([]bot.MailboxEntry, int64, error) {
	rows, err := readAll(ctx, m.db, "postgres: read mailbox "+box, func(s scanner) (bot.MailboxRow, error) {
		var r bot.MailboxRow
		var seq *int64
		var dedupe *string
		var body []byte
		if err := s.Scan(&r.Last, &seq, &dedupe, &body); err != nil || seq == nil {
			return r, err
		}
		r.Entry = &bot.MailboxEntry{Seq: *seq, Body: body}
		if dedupe != nil {
			r.Entry.Dedupe = *dedupe
		}
		return r, nil
	}, `SELECT m.last_seq, e.seq, e.dedupe, e.body FROM mailboxes m
		LEFT JOIN mailbox_entries e ON e.box = m.box AND e.seq > $1
		WHERE m.box = $2 AND m.touched_at > $3
		ORDER BY e.seq`, after, box, dbTime(now.Add(-m.keep)))
	if err != nil {
		return nil, 0, err
	}
	entries, last := bot.MailboxRows(rows)
	return entries, last, nil
}

// Watch implements bot.Mailbox.
func (m *Mailbox) Watch(box string) (<-chan struct{}, func()) { return m.l.watch(box) }

// --- the listener ---

// listenState is a DB's listener, started by its first Mailbox and stopped
// by Close.
type listenState struct {
	mu     sync.Mutex
	l      *listener
	closed bool
}

// mailboxListener returns the DB's listener, started on the first call. On a
// closed DB it returns one that never listens.
func (db *DB) mailboxListener() *listener {
	s := &db.listen
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.l == nil {
		ctx, cancel := context.WithCancel(context.Background())
		if s.closed {
			cancel()
		}
		s.l = startListener(ctx, cancel, db.pool.Config().ConnConfig, db.logger, listenPing)
	}
	return s.l
}

// stopListener stops the DB's listener, if it has one, and keeps Mailbox
// from starting another.
func (db *DB) stopListener() {
	s := &db.listen
	s.mu.Lock()
	s.closed = true
	l := s.l
	s.mu.Unlock()
	if l != nil {
		l.cancel()
		<-l.done
	}
}

// listener LISTENs on mailboxChannel on a connection of its own, outside the
// pool (which it would otherwise hold a connection of for good), and wakes
// the watchers of the box each notification names.
type listener struct {
	hub     bot.WakeHub
	mu      sync.Mutex
	watched map[string]int // the boxes watched, with their number of watchers
	pid     atomic.Uint32  // the backend of the connection listening, for tests
	cancel  context.CancelFunc
	done    chan struct{}
}

// startListener starts a listener that runs until ctx ends (cancel ends it),
// and returns once it listens or its first try failed, within the connect
// timeout of cfg or a little more. It checks its connection after ping
// without a notification.
func startListener(ctx context.Context, cancel context.CancelFunc, cfg *pgx.ConnConfig, logger *slog.Logger, ping time.Duration) *listener {
	l := &listener{watched: make(map[string]int), cancel: cancel, done: make(chan struct{})}
	ready := make(chan struct{})
	go l.run(ctx, cfg, logger, ping, sync.OnceFunc(func() { close(ready) }))
	t := time.NewTimer(cfg.ConnectTimeout + 5*time.Second)
	defer t.Stop()
	select {
	case <-ready:
	case <-t.C:
	}
	return l
}

// run listens until ctx ends, connecting again after a lost connection. It
// calls ready once its first try listens or fails.
func (l *listener) run(ctx context.Context, cfg *pgx.ConnConfig, logger *slog.Logger, ping time.Duration, ready func()) {
	defer close(l.done)
	defer ready()
	retry := listenRetryMin
	for {
		listened, err := l.listen(ctx, cfg, ping, ready)
		if ctx.Err() != nil {
			return
		}
		ready()
		if listened {
			retry = listenRetryMin
		}
		logger.Warn("postgres: mailbox listener lost its connection; watchers wake when it is back",
			slog.Any("error", err), slog.Duration("retry_in", retry))
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
		retry = min(2*retry, listenRetryMax)
	}
}

// listen connects, LISTENs, wakes every watcher (their Puts may have come
// while no one listened), then wakes the watchers of each box notified until
// the connection fails or ctx ends. listened says whether it got that far.
func (l *listener) listen(ctx context.Context, cfg *pgx.ConnConfig, ping time.Duration, ready func()) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(ctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+mailboxChannel); err != nil {
		return false, err
	}
	l.pid.Store(conn.PgConn().PID())
	ready()
	l.wakeAll()
	for {
		wait, cancel := context.WithTimeout(ctx, ping)
		n, err := conn.WaitForNotification(wait)
		quiet := errors.Is(wait.Err(), context.DeadlineExceeded)
		cancel()
		switch {
		case err == nil:
			l.hub.Wake(n.Payload)
		case ctx.Err() != nil:
			return true, ctx.Err()
		case quiet: // a timeout leaves the connection usable
			if err := conn.Ping(ctx); err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}

// watch is bot.WakeHub.Watch, noting the box for wakeAll.
func (l *listener) watch(box string) (<-chan struct{}, func()) {
	l.mu.Lock()
	l.watched[box]++
	l.mu.Unlock()
	wake, stop := l.hub.Watch(box)
	return wake, sync.OnceFunc(func() {
		stop()
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.watched[box]--; l.watched[box] == 0 {
			delete(l.watched, box)
		}
	})
}

// wakeAll wakes the watchers of every box.
func (l *listener) wakeAll() {
	l.mu.Lock()
	boxes := slices.Collect(maps.Keys(l.watched))
	l.mu.Unlock()
	for _, box := range boxes {
		l.hub.Wake(box)
	}
}
