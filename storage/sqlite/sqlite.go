// Package sqlite keeps the department's registry and cases in an embedded
// SQLite database (modernc.org/sqlite: pure Go, no cgo). It is the default
// backend: one file, no server. It implements casework.Store,
// casework.IdentityStore and casework.LifecycleStore and passes the
// conformance suite in storage/storagetest. Writes with effects hand their
// jobs to a JobQueue in their own transaction (see JobQueue, DB.WriteDB).
// It also keeps the chat page's mailboxes (DB.Mailbox, a bot.Mailbox), and
// for a service without Redis the dialogue sessions and the dedupe marks of
// inbound messages, which a restart keeps (DB.Sessions, DB.Deduper).
//
// The database runs in WAL mode with synchronous=NORMAL, foreign keys on and
// a busy timeout. Writes go through one connection and begin IMMEDIATE
// transactions, so writers in this process queue in Go instead of spinning
// on SQLite's busy handler, and writers in other processes wait for the
// lock; reads go through a pool of read-only connections and see the last
// committed state.
//
// Times are stored as text in UTC with microseconds
// (2026-11-27T01:30:00.123456Z), which sorts and compares like the times it
// stands for, so SQL can compare deadlines; they are returned in UTC.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
)

// Options configures a DB. The zero Options is usable.
type Options struct {
	// Numbering makes case numbers; zero: casework.DefaultNumbering().
	Numbering casework.Numbering
	// Logger receives what the database does (migrations applied); nil: discard.
	Logger *slog.Logger
	// NowFunc is the service's clock, for timestamps and for times left
	// zero; required.
	NowFunc func() time.Time
	// Jobs takes the durable jobs that writes with effects cause (see
	// JobQueue); nil: none yet, set it with DB.SetJobQueue. A write with
	// effects fails with ErrNoJobQueue while there is none.
	Jobs JobQueue

	// failAfterCaseWrite, when set, makes CreateCase, UpdateCase,
	// TransitionCase, and any entry that is a case's first human contact,
	// return it right after the case row is written and before its event
	// is, so that tests can check that neither is kept.
	failAfterCaseWrite error
}

// DB is a SQLite database holding the registry and the cases. It is safe for
// concurrent use.
type DB struct {
	path      string
	write     *sql.DB // one connection; BEGIN IMMEDIATE
	read      *sql.DB // read-only connections
	numbering casework.Numbering
	logger    *slog.Logger
	now       func() time.Time
	jobs      JobQueue
	failAfter error

	mailboxHub bot.WakeHub // the watchers of every Mailbox of the DB
}

var (
	_ casework.Store          = (*DB)(nil)
	_ casework.LifecycleStore = (*DB)(nil)
)

// busyTimeout is how long a statement waits for another process's lock.
const busyTimeout = 5 * time.Second

// Open opens the database file at path, creating it and its parent directory
// when missing. It does not migrate: call Migrate before use.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite database: no path given")
	}
	if opts.NowFunc == nil {
		return nil, errors.New("open sqlite database: no NowFunc: timestamps are written by the service's clock")
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite database %q: give a file path, without a URI scheme, '?' or '#'", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
		}
	}
	db := &DB{
		path:      path,
		numbering: opts.Numbering,
		logger:    opts.Logger,
		now:       opts.NowFunc,
		jobs:      opts.Jobs,
		failAfter: opts.failAfterCaseWrite,
	}
	if db.numbering == (casework.Numbering{}) {
		db.numbering = casework.DefaultNumbering()
	}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}

	params := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=on&_journal_mode=WAL&_synchronous=NORMAL", busyTimeout.Milliseconds())
	var err error
	if db.write, err = openPool(ctx, path+"?"+params+"&_txlock=immediate", 1); err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	if db.read, err = openPool(ctx, path+"?"+params+"&_query_only=on", max(4, runtime.GOMAXPROCS(0))); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	db.logger.Debug("sqlite database opened", slog.String("path", path))
	return db, nil
}

// openPool opens a pool of at most n connections and checks that the file is
// a database that can be read.
func openPool(ctx context.Context, dsn string, n int) (*sql.DB, error) {
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(0)
	pool.SetConnMaxLifetime(0)
	// Opening a connection applies the pragmas; reading the schema finds a
	// file that is not a database.
	var v int
	if err := pool.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&v); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// WriteDB returns the pool of the one connection that writes. SQLite allows
// one writer at a time, so a job queue that keeps its jobs in this database
// shares it rather than opening a writer of its own; the transactions it
// begins are IMMEDIATE, as the DB's are.
func (db *DB) WriteDB() *sql.DB { return db.write }

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var v int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&v); err != nil {
		return fmt.Errorf("ping sqlite database: %w", err)
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.write.Close(), db.read.Close())
}

// Tx is a transaction with the moment it began, the time stamped on what it
// writes.
type Tx struct {
	*sql.Tx
	db  *DB
	now time.Time
}

// beginWrite begins an IMMEDIATE transaction on the write connection.
func (db *DB) beginWrite(ctx context.Context) (*Tx, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin write transaction: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: storedTime(db.now())}, nil
}

// beginRead begins a read-only transaction: one snapshot for its queries.
func (db *DB) beginRead(ctx context.Context) (*Tx, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin read transaction: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: storedTime(db.now())}, nil
}

// commit commits tx.
func (tx *Tx) commit() error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// inWrite runs fn in a write transaction (beginWrite) and commits it when fn
// returns nil; otherwise it rolls it back and returns fn's error as it is.
func (db *DB) inWrite(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.commit()
}

// inWriteResult is inWrite for a fn with a result, which it returns once the
// transaction is committed; with an error, it returns the zero T.
func inWriteResult[T any](ctx context.Context, db *DB, fn func(tx *Tx) (T, error)) (T, error) {
	var v T
	err := db.inWrite(ctx, func(tx *Tx) (err error) {
		v, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// inRead runs fn in a read transaction (beginRead), rolled back after, and
// returns what fn returns.
func inRead[T any](ctx context.Context, db *DB, fn func(tx *Tx) (T, error)) (T, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	defer tx.Rollback()
	return fn(tx)
}

// errorCode returns the SQLite (extended) result code of err, or 0.
func errorCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUniqueViolation(err error) bool {
	c := errorCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKeyViolation reports whether err is a FOREIGN KEY violation.
func isForeignKeyViolation(err error) bool {
	return errorCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// notFound wraps casework.ErrNotFound with what was looked for.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), casework.ErrNotFound)
}

// conflict returns a *casework.ConflictError.
func conflict(format string, args ...any) error {
	return &casework.ConflictError{What: fmt.Sprintf(format, args...)}
}

// timeFormat is how times are stored: UTC, microseconds, fixed width.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// storedTime returns t as the database keeps it.
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// storedTimePtr returns a new pointer to *t as the database keeps it, or nil.
func storedTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := storedTime(*t)
	return &s
}

func encodeTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func encodeTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return encodeTime(*t)
}

func encodeDate(d casework.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

// nullID stores an ID of 0 ("none") as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// timeCol scans a NOT NULL time column.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("scan time: unexpected %T", v)
	}
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	*c.t = t
	return nil
}

// nullTimeCol scans a nullable time column into a *time.Time.
type nullTimeCol struct{ t **time.Time }

func (c nullTimeCol) Scan(v any) error {
	if v == nil {
		*c.t = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(v); err != nil {
		return err
	}
	*c.t = &t
	return nil
}

// dateCol scans a nullable date column; NULL is the zero Date.
type dateCol struct{ d *casework.Date }

func (c dateCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.d = casework.Date{}
		return nil
	case string:
		d, err := casework.ParseDate(v)
		if err != nil {
			return fmt.Errorf("scan date: %w", err)
		}
		*c.d = d
		return nil
	}
	return fmt.Errorf("scan date: unexpected %T", v)
}

// idCol scans a nullable ID column; NULL is 0.
type idCol struct{ id *int64 }

func (c idCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.id = 0
		return nil
	case int64:
		*c.id = v
		return nil
	}
	return fmt.Errorf("scan id: unexpected %T", v)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }
