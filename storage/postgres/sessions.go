package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
// none or it expired. It is one statement.
func (s *SessionStore) Load(ctx context.Context, key string) (*conversation.Session, error) {
	var data []byte
	err := s.t.readLive(ctx, "SELECT data FROM chat_sessions WHERE key = $1 AND expires_at > $2", key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: load session %q: %w", key, err)
	}
	sess, err := conversation.UnmarshalSession(data)
	if err != nil {
		return nil, fmt.Errorf("postgres: load session %q: %w", key, err)
	}
	return sess, nil
}

// Save stores sess under sess.User.Key(), replacing what was there, for ttl,
// which must be positive. It is one statement, or one round trip of two
// when it sweeps.
func (s *SessionStore) Save(ctx context.Context, sess *conversation.Session, ttl time.Duration) error {
	key, data, err := conversation.MarshalSession(sess, ttl)
	if err != nil {
		return fmt.Errorf("postgres: save session %q: %w", key, err)
	}
	now := s.t.db.nowUTC()
	return s.t.write(ctx, fmt.Sprintf("postgres: save session %q", key), now,
		`INSERT INTO chat_sessions (key, data, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
		key, data, now.Add(ttl))
}

// Delete removes the session stored under key, if any.
func (s *SessionStore) Delete(ctx context.Context, key string) error {
	return s.t.write(ctx, fmt.Sprintf("postgres: delete session %q", key), s.t.db.nowUTC(),
		"DELETE FROM chat_sessions WHERE key = $1", key)
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
	if err := d.t.readLive(ctx, "SELECT EXISTS (SELECT 1 FROM inbound_dedupe WHERE key = $1 AND expires_at > $2)", key).Scan(&seen); err != nil {
		return false, fmt.Errorf("postgres: dedupe seen %q: %w", key, err)
	}
	return seen, nil
}

// Mark records key as handled for ttl, which must be positive. A key already
// marked keeps its first expiry (as Redis's SET NX); an expired mark is made
// again.
func (d *Deduper) Mark(ctx context.Context, key string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("postgres: dedupe mark %q: ttl %v is not positive", key, ttl)
	}
	now := d.t.db.nowUTC()
	return d.t.write(ctx, fmt.Sprintf("postgres: dedupe mark %q", key), now,
		`INSERT INTO inbound_dedupe (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE inbound_dedupe.expires_at <= $3`,
		key, now.Add(ttl), now)
}

// expiring is a table whose rows, keyed by key, live until their expires_at
// on the DB's clock: chat_sessions or inbound_dedupe. Reads ignore the
// expired rows; a write deletes them too, at most sweepMost of them, at most
// once every sweepEvery, skipping the rows another transaction holds.
type expiring struct {
	db    *DB
	table string

	sweep bot.Sweeper // when a write sweeps the table, on the DB's clock
}

// readLive runs query, one statement, with key and then the DB's now as its
// arguments.
func (e *expiring) readLive(ctx context.Context, query, key string) pgx.Row {
	return e.db.pool.QueryRow(ctx, query, key, e.db.nowUTC())
}

// write runs query with args, one statement; when the sweep is due at now,
// the sweep follows it in the same round trip and the same implicit
// transaction. The write comes first: a transaction waits for another's
// lock only while it holds none, and the sweep waits for none. An error is
// wrapped as "op: …".
func (e *expiring) write(ctx context.Context, op string, now time.Time, query string, args ...any) error {
	var err error
	if e.sweep.Due(now) {
		b := &pgx.Batch{}
		b.Queue(query, args...)
		b.Queue("DELETE FROM "+e.table+" WHERE key IN (SELECT key FROM "+e.table+
			" WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)", now, sweepMost)
		err = e.db.pool.SendBatch(ctx, b).Close()
	} else {
		_, err = e.db.pool.Exec(ctx, query, args...)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
