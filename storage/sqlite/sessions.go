package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/conversation"
)

// SessionStore is a conversation.SessionStore in the database (table
// chat_sessions), for a service without Redis: each session is its JSON
// encoding under its user's key until the expiry of its last Save, on the
// DB's clock, so that the dialogues in progress outlive a restart or a
// crash. It is safe for concurrent use.
type SessionStore struct {
	t *expiring
}

var _ conversation.SessionStore = (*SessionStore)(nil)

// Sessions returns the dialogue sessions in the database. Each SessionStore
// sweeps the expired sessions on its own (see expiring): open one for the
// service.
func (db *DB) Sessions() *SessionStore {
	return &SessionStore{t: &expiring{db: db, table: "chat_sessions", sweep: bot.Sweeper{Every: sweepEvery}}}
}

// Load returns the session stored under key, or (nil, nil) when there is
// none or it expired.
func (s *SessionStore) Load(ctx context.Context, key string) (*conversation.Session, error) {
	var data []byte
	err := s.t.readLive(ctx, "SELECT data FROM chat_sessions WHERE key = ? AND expires_at > ?", key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load session %q: %w", key, err)
	}
	sess, err := conversation.UnmarshalSession(data)
	if err != nil {
		return nil, fmt.Errorf("load session %q: %w", key, err)
	}
	return sess, nil
}

// Save stores sess under sess.User.Key(), replacing what was there, for ttl,
// which must be positive.
func (s *SessionStore) Save(ctx context.Context, sess *conversation.Session, ttl time.Duration) error {
	key, data, err := conversation.MarshalSession(sess, ttl)
	if err != nil {
		return fmt.Errorf("save session %q: %w", key, err)
	}
	return s.t.write(ctx, fmt.Sprintf("save session %q", key), func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO chat_sessions (key, data, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
			key, string(data), encodeTime(tx.now.Add(ttl)))
		return err
	})
}

// Delete removes the session stored under key, if any.
func (s *SessionStore) Delete(ctx context.Context, key string) error {
	return s.t.write(ctx, fmt.Sprintf("delete session %q", key), func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM chat_sessions WHERE key = ?", key)
		return err
	})
}

// Deduper is a bot.Deduper in the database (table inbound_dedupe), for a
// service without Redis: a mark is a row that lives until its expiry, on the
// DB's clock, so that the marks of the messages handled outlive a restart
// or a crash. It is safe for concurrent use.
type Deduper struct {
	t *expiring
}

var _ bot.Deduper = (*Deduper)(nil)

// Deduper returns the dedupe marks in the database. Each Deduper sweeps the
// expired marks on its own (see expiring): open one for the service.
func (db *DB) Deduper() *Deduper {
	return &Deduper{t: &expiring{db: db, table: "inbound_dedupe", sweep: bot.Sweeper{Every: sweepEvery}}}
}

// Seen reports whether key was marked and its mark has not expired.
func (d *Deduper) Seen(ctx context.Context, key string) (bool, error) {
	var seen bool
	if err := d.t.readLive(ctx, "SELECT EXISTS (SELECT 1 FROM inbound_dedupe WHERE key = ? AND expires_at > ?)", key).Scan(&seen); err != nil {
		return false, fmt.Errorf("dedupe seen %q: %w", key, err)
	}
	return seen, nil
}

// Mark records key as handled for ttl, which must be positive. A key already
// marked keeps its first expiry (as Redis's SET NX); an expired mark is made
// again.
func (d *Deduper) Mark(ctx context.Context, key string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("dedupe mark %q: ttl %v is not positive", key, ttl)
	}
	return d.t.write(ctx, fmt.Sprintf("dedupe mark %q", key), func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inbound_dedupe (key, expires_at) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE inbound_dedupe.expires_at <= ?`,
			key, encodeTime(tx.now.Add(ttl)), encodeTime(tx.now))
		return err
	})
}

// expiring is a table whose rows, keyed by key, live until their expires_at
// on the DB's clock: chat_sessions or inbound_dedupe. Reads ignore the
// expired rows; a write deletes them too, at most sweepMost of them and at
// most once every sweepEvery.
type expiring struct {
	db    *DB
	table string

	sweep bot.Sweeper // when a write sweeps the table, on the DB's clock
}

// readLive runs query, one statement on the read pool, with key and then
// the DB's now as its arguments.
func (e *expiring) readLive(ctx context.Context, query, key string) *sql.Row {
	return e.db.read.QueryRowContext(ctx, query, key, encodeTime(e.db.now()))
}

// write runs fn in a write transaction, and then the sweep when it is due;
// an error is wrapped as "op: …".
func (e *expiring) write(ctx context.Context, op string, fn func(tx *Tx) error) error {
	err := e.db.inWrite(ctx, func(tx *Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if !e.sweep.Due(tx.now) {
			return nil
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM "+e.table+" WHERE key IN (SELECT key FROM "+e.table+
			" WHERE expires_at <= ? LIMIT ?)", encodeTime(tx.now), sweepMost)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
