// Package postgres is the PostgreSQL implementation of casework.Store, on
// github.com/jackc/pgx/v5 with a connection pool. Its schema comes from
// embedded, numbered, forward-only migrations (see DB.Migrate) that carry the
// same numbers as storage/sqlite's. It also implements
// casework.IdentityStore and casework.LifecycleStore, and passes the
// conformance suite in storage/storagetest. Writes with effects hand their
// jobs to a JobQueue in their own transaction (see JobQueue, DB.Pool).
// It also keeps the chat page's mailboxes, shared by every instance
// (DB.Mailbox, a bot.Mailbox), and for a service without Redis the dialogue
// sessions and the dedupe marks of inbound messages, which a restart keeps
// (DB.Sessions, DB.Deduper).
//
// Every public method runs in one transaction and calls lowercase helpers
// that take the transaction, so that helpers compose.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aftersales/aftersales/casework"
)

// DefaultConnectTimeout bounds how long Open and every new pooled connection
// wait for the server when the URL sets no connect_timeout.
const DefaultConnectTimeout = 5 * time.Second

// Options configure a DB. The zero value is usable.
type Options struct {
	// Numbering makes case numbers; zero: casework.DefaultNumbering().
	Numbering casework.Numbering
	// Logger receives migration and connection messages; nil: discarded.
	Logger *slog.Logger
	// NowFunc is the service's clock, for timestamps and for times left
	// zero; required.
	NowFunc func() time.Time
	// MaxConns caps the pool; 0: the greater of 4 and the number of CPUs
	// (pgxpool's default). It can also be set in the URL (pool_max_conns).
	MaxConns int32
	// Jobs takes the durable jobs that writes with effects cause (see
	// JobQueue); nil: none yet, set it with DB.SetJobQueue. A write with
	// effects fails with ErrNoJobQueue while there is none.
	Jobs JobQueue

	// failAfterCaseWrite, when set, makes CreateCase, UpdateCase,
	// TransitionCase, and any entry that is a case's first human contact,
	// fail with it right after the case row is written and before its
	// event is: the conformance suite checks that neither is stored. Set
	// only by this package's tests.
	failAfterCaseWrite error
}

// DB is a PostgreSQL-backed casework.Store. It is safe for concurrent use.
type DB struct {
	pool      *pgxpool.Pool
	numbering casework.Numbering
	logger    *slog.Logger
	now       func() time.Time
	jobs      JobQueue
	failAfter error

	listen listenState // the Mailboxes' LISTEN, started by the first, stopped by Close
}

var (
	_ casework.Store          = (*DB)(nil)
	_ casework.LifecycleStore = (*DB)(nil)
)

// Open connects to the database at url (postgres://user@host:5432/db?…) and
// checks that it answers. It does not migrate: call Migrate. A database that
// is down gives an error after the connect timeout (connect_timeout in the
// URL, else DefaultConnectTimeout) or when ctx ends, whichever comes first.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if opts.NowFunc == nil {
		return nil, errors.New("postgres: no NowFunc: timestamps are written by the service's clock")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "aftersales"
	}
	db := &DB{
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
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	db.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", where, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, cfg.ConnConfig.ConnectTimeout+time.Second)
	defer cancel()
	if err := db.pool.Ping(pingCtx); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", where, err)
	}
	db.logger.Debug("postgres: connected", slog.String("database", where), slog.Int("max_conns", int(cfg.MaxConns)))
	return db, nil
}

// Pool returns the DB's connection pool, for a job queue that keeps its jobs
// in the same database and runs its own queries and transactions on it.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close stops the Mailboxes' listener and closes every connection of the
// pool, waiting for those in use to be released.
func (db *DB) Close() error {
	db.stopListener()
	db.pool.Close()
	return nil
}

// nowUTC returns the current time as stored: in UTC, to the microsecond.
func (db *DB) nowUTC() time.Time { return dbTime(db.now()) }

// dbTime returns t as PostgreSQL keeps it: truncated to the microsecond, in UTC.
func dbTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := dbTime(*t)
	return &u
}

// utcPtr converts a time read from the database to UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// nullID stores a zero ID as NULL.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// inTx runs fn in a read-write transaction, committed when fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// inWrite runs fn in a read-write transaction (see inTx) and translates its
// error with dbErr, naming op.
func (db *DB) inWrite(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	return dbErr(op, db.inTx(ctx, fn))
}

// inWriteResult is inWrite for a fn with a result, which it returns once the
// transaction is committed; with an error, it returns the zero T.
func inWriteResult[T any](ctx context.Context, db *DB, op string, fn func(pgx.Tx) (T, error)) (T, error) {
	var v T
	err := db.inWrite(ctx, op, func(tx pgx.Tx) (err error) {
		v, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// readOne runs query on the pool, one statement in its own implicit
// transaction, and scans its row with scan; an error goes through dbErr,
// naming op, so that no row is casework.ErrNotFound.
func readOne[T any](ctx context.Context, db *DB, op string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(db.pool.QueryRow(ctx, query, args...))
	return v, dbErr(op, err)
}

// readAll is readOne for every row of query.
func readAll[T any](ctx context.Context, db *DB, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	vs, err := collect(rows, err, scan)
	return vs, dbErr(op, err)
}

// readBatch sends the queries queued on b (after b.BeginTx, which it calls)
// in a read-only REPEATABLE READ transaction, so that they see one snapshot
// (a page of cases and their count) and cost one round trip, plus one for
// the commit.
func (db *DB) readBatch(ctx context.Context, b *pgx.Batch) error {
	br := db.pool.SendBatch(ctx, b)
	err := br.Close()
	tx := br.Tx()
	if tx == nil {
		return err
	}
	if err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// newReadBatch returns a batch that begins the transaction readBatch needs.
func newReadBatch() *pgx.Batch {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	return b
}

// constraintWhat describes, for a *casework.ConflictError, what a unique
// constraint of the schema protects.
var constraintWhat = map[string]string{
	"projects_code_key":                        "a project with this code exists",
	"buildings_project_code_key":               "the project has a building with this code",
	"units_project_building_entrance_room_key": "the project has this building, entrance and room",
	"parties_code_key":                         "a party with this code exists",
	"routes_key":                               "an identical route exists",
	"cases_number_key":                         "a case with this number exists",
	"cases_intake_key_idx":                     "the report is registered already",
	"case_events_case_seq_key":                 "the case's timeline moved on",
	"owner_units_pkey":                         "the owner already holds the unit",
	"chat_identities_pkey":                     "the chat identity exists",
	"bind_codes_pkey":                          "the bind code exists",
	"staff_users_username_key":                 "a user with this username exists",
	"staff_sessions_token_hash_key":            "the session token exists",
}

// refField names, for a *casework.ValidationError, the field whose foreign
// key failed, for the references of a case, a chat identity or a staff
// account: a case that names a missing project, unit… is invalid input, not
// a missing case.
var refField = map[string]string{
	"cases_project_id_fkey":               "project",
	"cases_building_id_fkey":              "building",
	"cases_unit_id_fkey":                  "unit",
	"cases_owner_id_fkey":                 "owner",
	"cases_party_id_fkey":                 "party",
	"cases_assignee_id_fkey":              "assignee",
	"cases_parent_id_fkey":                "parent",
	"chat_identities_owner_id_fkey":       "owner",
	"chat_identities_unit_id_fkey":        "unit",
	"chat_identities_member_id_fkey":      "member",
	"staff_users_party_id_fkey":           "party",
	"staff_user_projects_project_id_fkey": "project",
}

// dbErr translates an error of a helper, once, at the public method that
// called it: a unique violation becomes a *casework.ConflictError; a foreign
// key naming a missing parent casework.ErrNotFound, except those in
// refField, which are a *casework.ValidationError naming the field; a
// CHECK violation a *casework.ValidationError; a missing row
// casework.ErrNotFound. op says what was being done.
func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, casework.ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			what := constraintWhat[pgErr.ConstraintName]
			if what == "" {
				what = pgErr.ConstraintName
			}
			return fmt.Errorf("%s: %w", op, &casework.ConflictError{What: what})
		case "23503": // foreign_key_violation
			if field, ok := refField[pgErr.ConstraintName]; ok {
				return fmt.Errorf("%s: %w", op, casework.Invalid(field, "%s", pgErr.Detail))
			}
			return fmt.Errorf("%s: %s (%s): %w", op, pgErr.Detail, pgErr.ConstraintName, casework.ErrNotFound)
		case "23514", "23502", "22001": // check_violation, not_null_violation, string_data_right_truncation
			field := pgErr.ColumnName
			if field == "" {
				field = pgErr.ConstraintName
			}
			return fmt.Errorf("%s: %w", op, casework.Invalid(field, "%s", pgErr.Message))
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// notFound turns pgx.ErrNoRows into casework.ErrNotFound naming what is
// missing; it returns other errors as they are.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf(format+": %w", append(args, casework.ErrNotFound)...)
	}
	return err
}
