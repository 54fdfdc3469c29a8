package jobs

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/pgtest"
	"github.com/aftersales/aftersales/internal/testclock"
)

// Each test runs on both databases, like river's driver conformance suite:
// a backend is one database, shared by the test's queues and its "store"
// (the tables effects and handled below), as in production.

// testQueue is a Queue of either transaction type, with a way to enqueue in
// a store transaction.
type testQueue struct {
	*queueAPI
	// insert enqueues jobs in a transaction of the database that also
	// writes a row of the store, and commits it, or rolls it back.
	insert func(ctx context.Context, jobs []casework.Job, commit bool) error
	// exec runs River's driver queries outside River, for benchmarks.
	exec riverdriver.Executor
}

// queueAPI is what the tests call on a Queue, whatever its TTx.
type queueAPI struct {
	Start    func(context.Context) error
	Stop     func(context.Context) error
	Stats    func(context.Context) (Stats, error)
	WaitIdle func(context.Context) error
	Migrate  func(context.Context) error
}

func apiOf[TTx any](q *Queue[TTx]) *queueAPI {
	return &queueAPI{Start: q.Start, Stop: q.Stop, Stats: q.Stats, WaitIdle: q.WaitIdle, Migrate: q.Migrate}
}

// backend is a database the tests run on.
type backend struct {
	name string
	// newQueue returns a migrated, stopped Queue on the database, as a new
	// instance of the service would make it (on PostgreSQL, with a pool of
	// its own). It is stopped when the test ends.
	newQueue func(tb testing.TB, cfg Config) *testQueue
	// record writes that a job ran to the store's table handled; handlers
	// call it, so that they write through the pool River uses.
	record func(ctx context.Context, kind string, id int64, attempt int) error
	// handled counts the rows of the table handled.
	handled func(ctx context.Context) (int, error)
}

const storeTables = `CREATE TABLE effects (n integer NOT NULL);
CREATE TABLE handled (kind text NOT NULL, id bigint NOT NULL, attempt integer NOT NULL)`

// forEachBackend runs fn as parallel subtests, once on SQLite and once on
// PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, b *backend)) {
	t.Helper()
	for _, db := range []struct {
		name string
		open func(testing.TB) *backend
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			fn(t, db.open(t))
		})
	}
}

// openSQLite opens a database file in a temporary directory as
// storage/sqlite opens its write pool: WAL, IMMEDIATE transactions, one
// connection.
func openSQLite(tb testing.TB) *backend {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "aftersales.db")
	db, err := sql.Open("sqlite", path+"?_busy_timeout=5000&_foreign_keys=on&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate")
	require.NoError(tb, err)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	_, err = db.ExecContext(context.Background(), storeTables)
	require.NoError(tb, err)

	return &backend{
		name: "sqlite",
		newQueue: func(tb testing.TB, cfg Config) *testQueue {
			tb.Helper()
			q, err := NewSQLite(db, cfg)
			require.NoError(tb, err)
			return setUp(tb, apiOf(q), q.client.Driver().GetExecutor(), func(ctx context.Context, jobs []casework.Job, commit bool) error {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
				if _, err := tx.ExecContext(ctx, `INSERT INTO effects (n) VALUES (?)`, len(jobs)); err != nil {
					return err
				}
				if err := q.InsertJobsTx(ctx, tx, jobs); err != nil {
					return err
				}
				if !commit {
					return tx.Rollback()
				}
				return tx.Commit()
			})
		},
		record: func(ctx context.Context, kind string, id int64, attempt int) error {
			_, err := db.ExecContext(ctx, `INSERT INTO handled (kind, id, attempt) VALUES (?, ?, ?)`, kind, id, attempt)
			return err
		},
		handled: func(ctx context.Context) (n int, err error) {
			err = db.QueryRowContext(ctx, `SELECT count(*) FROM handled`).Scan(&n)
			return n, err
		},
	}
}

// openPostgres makes a schema of the test database, each queue with a pool
// of its own on it.
func openPostgres(tb testing.TB) *backend {
	tb.Helper()
	_, dbURL := pgtest.NewSchema(tb)
	store := pgtest.Open(tb, dbURL, 0)
	_, err := store.Exec(context.Background(), storeTables)
	require.NoError(tb, err)

	return &backend{
		name: "postgres",
		newQueue: func(tb testing.TB, cfg Config) *testQueue {
			tb.Helper()
			pool := pgtest.Open(tb, dbURL, 0)
			q, err := NewPostgres(pool, cfg)
			require.NoError(tb, err)
			return setUp(tb, apiOf(q), q.client.Driver().GetExecutor(), func(ctx context.Context, jobs []casework.Job, commit bool) error {
				return insertPostgres(ctx, pool, q, jobs, commit)
			})
		},
		record: func(ctx context.Context, kind string, id int64, attempt int) error {
			_, err := store.Exec(ctx, `INSERT INTO handled (kind, id, attempt) VALUES ($1, $2, $3)`, kind, id, attempt)
			return err
		},
		handled: func(ctx context.Context) (n int, err error) {
			err = store.QueryRow(ctx, `SELECT count(*) FROM handled`).Scan(&n)
			return n, err
		},
	}
}

// insertPostgres enqueues jobs in a store transaction on pool.
func insertPostgres(ctx context.Context, pool *pgxpool.Pool, q *Queue[pgx.Tx], jobs []casework.Job, commit bool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit, a no-op
	if _, err := tx.Exec(ctx, `INSERT INTO effects (n) VALUES ($1)`, len(jobs)); err != nil {
		return err
	}
	if err := q.InsertJobsTx(ctx, tx, jobs); err != nil {
		return err
	}
	if !commit {
		return tx.Rollback(ctx)
	}
	return tx.Commit(ctx)
}

// setUp migrates a new queue and stops it when the test ends.
func setUp(tb testing.TB, api *queueAPI, exec riverdriver.Executor, insert func(context.Context, []casework.Job, bool) error) *testQueue {
	tb.Helper()
	require.NoError(tb, api.Migrate(context.Background()))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(tb, api.Stop(ctx))
	})
	return &testQueue{queueAPI: api, insert: insert, exec: exec}
}

// testConfig returns a Config for tests: a handler, a logger to the test's
// output, short polls and backoffs, and a clock that runs from the tests'
// date (a test that moves the clock sets one of its own).
func testConfig(tb testing.TB, h Handler) Config {
	tb.Helper()
	return Config{
		Handler:      h,
		Logger:       slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
		PollInterval: 50 * time.Millisecond,
		RetryBackoff: time.Millisecond,
		NowFunc:      testclock.NewRunning(testDate).Now,
	}
}

// newFakeClock returns a clock that moves only when told, at the jobs'
// tests' date.
func newFakeClock() *testclock.Clock { return testclock.New(testDate) }

// testDate is the jobs' tests' date, shifted with the rest of the suite's.
var testDate = testclock.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// delivery is one call of Handler.Deliver.
type delivery struct {
	Attempt int
	Final   bool
}

// recorder is a Handler that records its calls, in memory and in the
// store's table handled.
type recorder struct {
	b *backend
	// deliverFunc, when set, decides what Deliver returns.
	deliverFunc func(outboxID int64, attempt int, final bool) error
	// fireFunc, when set, decides what Fire returns; attempt counts Fire's
	// calls for the timer, from 1.
	fireFunc func(t casework.Timer, attempt int) error

	mu         sync.Mutex
	deliveries map[int64][]delivery
	fired      map[casework.Timer]int
	firedN     int
}

func newRecorder(b *backend) *recorder {
	return &recorder{b: b, deliveries: make(map[int64][]delivery), fired: make(map[casework.Timer]int)}
}

func (r *recorder) Deliver(ctx context.Context, outboxID int64, attempt int, final bool) error {
	if err := r.b.record(ctx, "deliver", outboxID, attempt); err != nil {
		return err
	}
	r.mu.Lock()
	r.deliveries[outboxID] = append(r.deliveries[outboxID], delivery{attempt, final})
	r.mu.Unlock()
	if r.deliverFunc != nil {
		return r.deliverFunc(outboxID, attempt, final)
	}
	return nil
}

func (r *recorder) Fire(ctx context.Context, t casework.Timer) error {
	t.At = t.At.UTC()
	r.mu.Lock()
	r.fired[t]++
	r.firedN++
	n := r.fired[t]
	r.mu.Unlock()
	if err := r.b.record(ctx, "timer", t.CaseID, n); err != nil {
		return err
	}
	if r.fireFunc != nil {
		return r.fireFunc(t, n)
	}
	return nil
}

// delivered returns the calls of Deliver for outbox message id.
func (r *recorder) delivered(id int64) []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.deliveries[id]...)
}

// deliveredCounts counts the calls of Deliver by outbox message.
func (r *recorder) deliveredCounts() map[int64]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[int64]int, len(r.deliveries))
	for id, ds := range r.deliveries {
		m[id] = len(ds)
	}
	return m
}

// firedCount returns how many times t fired.
func (r *recorder) firedCount(t casework.Timer) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fired[t]
}

// firedTotal returns how many times Fire was called.
func (r *recorder) firedTotal() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firedN
}

func deliverJob(id int64) casework.Job {
	return casework.Job{Kind: casework.JobDeliver, OutboxID: id}
}

func timerJob(t casework.Timer) casework.Job {
	return casework.Job{Kind: casework.JobTimer, Timer: t}
}

// waitIdle waits for q to be idle, failing the test after 20 s.
func waitIdle(tb testing.TB, q *testQueue) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 20*time.Second)
	defer cancel()
	require.NoError(tb, q.WaitIdle(ctx))
}

// stats returns q's counts.
func stats(tb testing.TB, q *testQueue) Stats {
	tb.Helper()
	s, err := q.Stats(tb.Context())
	require.NoError(tb, err)
	return s
}
