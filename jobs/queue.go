package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/aftersales/aftersales/casework"
)

// Queue enqueues durable jobs in a store's transactions and works them. TTx
// is the store's transaction type: *sql.Tx on SQLite, pgx.Tx on PostgreSQL.
// A Queue can enqueue as soon as it is made, before Start; it is safe for
// concurrent use.
type Queue[TTx any] struct {
	client *river.Client[TTx]
	driver riverdriver.Driver[TTx]
	cfg    Config
	logger *slog.Logger
	// riverLogger is the logger River gets: warnings and errors only.
	riverLogger *slog.Logger
	now         func() time.Time
	// migrate runs River's migrations, serialized between processes where
	// the database needs it.
	migrate func(ctx context.Context, m *rivermigrate.Migrator[TTx]) (*rivermigrate.MigrateResult, error)
	// count counts jobs by state, and those scheduled at or before now.
	count func(ctx context.Context, now time.Time) (map[string][2]int, error)
}

// The shapes in which the stores call a queue.
var (
	_ interface {
		InsertJobsTx(ctx context.Context, tx *sql.Tx, jobs []casework.Job) error
	} = (*Queue[*sql.Tx])(nil)
	_ interface {
		InsertJobsTx(ctx context.Context, tx pgx.Tx, jobs []casework.Job) error
	} = (*Queue[pgx.Tx])(nil)
)

// NewSQLite returns a Queue whose jobs live in the SQLite database db, the
// store's write pool: it must be limited to one connection
// (db.SetMaxOpenConns(1)), as River advises for SQLite, and River shares it
// with the store. Transactions on it should begin IMMEDIATE (_txlock=immediate).
// River takes the connection only for single statements and short
// transactions of its own, never while a Handler runs, so a Handler can
// write through the same pool.
func NewSQLite(db *sql.DB, cfg Config) (*Queue[*sql.Tx], error) {
	if db == nil {
		return nil, errors.New("new sqlite job queue: no database")
	}
	q, err := newQueue(riversqlite.New(db), cfg, defaultPollIntervalSQLite)
	if err != nil {
		return nil, fmt.Errorf("new sqlite job queue: %w", err)
	}
	q.migrate = func(ctx context.Context, m *rivermigrate.Migrator[*sql.Tx]) (*rivermigrate.MigrateResult, error) {
		// Each migration runs in a transaction of its own, and IMMEDIATE
		// transactions serialize writers, also across processes.
		return m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	}
	q.count = func(ctx context.Context, now time.Time) (map[string][2]int, error) {
		// River keeps SQLite times as text in UTC, with milliseconds.
		rows, err := db.QueryContext(ctx, `SELECT state, count(*), coalesce(sum(CASE WHEN scheduled_at <= ? THEN 1 ELSE 0 END), 0)
			FROM river_job GROUP BY state`, now.UTC().Format("2006-01-02 15:04:05.000"))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		counts := make(map[string][2]int)
		for rows.Next() {
			var (
				state    string
				all, due int
			)
			if err := rows.Scan(&state, &all, &due); err != nil {
				return nil, err
			}
			counts[state] = [2]int{all, due}
		}
		return counts, rows.Err()
	}
	return q, nil
}

// migrateLockKey names the advisory lock that serializes River's migrations
// on PostgreSQL; the schema is added to it.
const migrateLockKey = "aftersales.jobs.migrate:"

// NewPostgres returns a Queue whose jobs live in the PostgreSQL database of
// pool, in the schema first on its search_path. River keeps one connection
// of the pool for LISTEN and takes others briefly.
func NewPostgres(pool *pgxpool.Pool, cfg Config) (*Queue[pgx.Tx], error) {
	if pool == nil {
		return nil, errors.New("new postgres job queue: no pool")
	}
	q, err := newQueue(riverpgxv5.New(pool), cfg, defaultPollIntervalPostgres)
	if err != nil {
		return nil, fmt.Errorf("new postgres job queue: %w", err)
	}
	q.migrate = func(ctx context.Context, m *rivermigrate.Migrator[pgx.Tx]) (*rivermigrate.MigrateResult, error) {
		// River's migrator takes no lock, so that instances starting at once
		// don't apply a migration twice, hold a session lock on a connection
		// of its own while it runs on others.
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext($1 || current_schema()))`, migrateLockKey); err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtext($1 || current_schema()))`, migrateLockKey); err != nil {
				// A lock left on the connection goes with it.
				_ = conn.Hijack().Close(ctx)
			}
		}()
		return m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	}
	q.count = func(ctx context.Context, now time.Time) (map[string][2]int, error) {
		rows, err := pool.Query(ctx, `SELECT state::text, count(*), count(*) FILTER (WHERE scheduled_at <= $1)
			FROM river_job GROUP BY state`, now)
		if err != nil {
			return nil, err
		}
		counts := make(map[string][2]int)
		var (
			state    string
			all, due int
		)
		_, err = pgx.ForEachRow(rows, []any{&state, &all, &due}, func() error {
			counts[state] = [2]int{all, due}
			return nil
		})
		return counts, err
	}
	return q, nil
}

// newQueue makes the River client over driver: insert-capable at once,
// working jobs once started.
func newQueue[TTx any](driver riverdriver.Driver[TTx], cfg Config, pollInterval time.Duration) (*Queue[TTx], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults(pollInterval)
	q := &Queue[TTx]{driver: driver, cfg: cfg, logger: cfg.Logger, now: cfg.NowFunc}

	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{handler: cfg.Handler, logger: q.logger}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &timerWorker{handler: cfg.Handler, logger: q.logger}); err != nil {
		return nil, err
	}
	// River logs every failed attempt at info level; the workers log them
	// once, with the job's ids, so River speaks only of trouble.
	q.riverLogger = slog.New(minLevel{cfg.Logger.Handler(), slog.LevelWarn}).With(slog.String("component", "river"))
	rcfg := &river.Config{
		ErrorHandler:      &panicLogger{logger: q.logger},
		FetchCooldown:     min(river.FetchCooldownDefault, cfg.PollInterval),
		FetchPollInterval: cfg.PollInterval,
		JobTimeout:        cfg.JobTimeout,
		Logger:            q.riverLogger,
		Queues: map[string]river.QueueConfig{
			QueueOutbox: {MaxWorkers: cfg.DeliverWorkers},
			QueueTimers: {MaxWorkers: cfg.TimerWorkers},
		},
		RetryPolicy:     &backoff{base: cfg.RetryBackoff, max: cfg.RetryBackoffMax, now: q.now},
		SoftStopTimeout: cfg.StopTimeout,
		Workers:         workers,
	}
	rcfg.Test.Time = clock(cfg.NowFunc)
	// River's maintenance — the cleaner of finished jobs and the rescuer of
	// stuck ones — reads the system clock, not Test.Time, while the jobs'
	// times are written by the service's clock. A service clock behind the
	// system's (a test dated in the past) would make every finished job look
	// old enough to delete, so that a timer set again runs again, and every
	// running job stuck, so that it runs twice. Their periods are lengthened
	// by that lag, so that they count by the service's clock. A clock ahead
	// makes them act late, never early. In production the two are one.
	lag := max(0, time.Since(cfg.NowFunc()))
	rcfg.CancelledJobRetentionPeriod = riverRetention + lag
	rcfg.CompletedJobRetentionPeriod = riverRetention + lag
	rcfg.DiscardedJobRetentionPeriod = riverDiscardedRetention + lag
	rcfg.RescueStuckJobsAfter = cfg.JobTimeout + riverRescueAfter + lag
	client, err := river.NewClient(driver, rcfg)
	if err != nil {
		return nil, err
	}
	q.client = client
	return q, nil
}

// Migrate creates or updates River's tables to the latest version. It is
// idempotent, and safe to run from several instances at once.
func (q *Queue[TTx]) Migrate(ctx context.Context) error {
	m, err := rivermigrate.New(q.driver, &rivermigrate.Config{Logger: q.riverLogger})
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	res, err := q.migrate(ctx, m)
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	for _, v := range res.Versions {
		q.logger.InfoContext(ctx, "job queue migrated", slog.Int("version", v.Version), slog.String("name", v.Name))
	}
	return nil
}

// InsertJobsTx enqueues jobs in tx, the caller's transaction: they exist
// once tx commits, and never if it rolls back. Deliveries are available at
// once; a timer is scheduled at its At, or available at once when At has
// passed. A timer already waiting, running or completed with the same case,
// kind, ref and At is not enqueued again. An unknown job kind fails the
// whole call.
func (q *Queue[TTx]) InsertJobsTx(ctx context.Context, tx TTx, jobs []casework.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(jobs))
	seen := make(map[timerArgs]bool)
	now := q.now()
	for i, j := range jobs {
		switch j.Kind {
		case casework.JobDeliver:
			if j.OutboxID <= 0 {
				return fmt.Errorf("insert jobs: job %d: delivery without an outbox message id", i)
			}
			params = append(params, river.InsertManyParams{
				Args:       deliverArgs{OutboxID: j.OutboxID},
				InsertOpts: &river.InsertOpts{Queue: QueueOutbox, MaxAttempts: q.cfg.DeliverAttempts},
			})
		case casework.JobTimer:
			t := j.Timer
			if t.Kind == "" {
				return fmt.Errorf("insert jobs: job %d: timer without a kind (case %d)", i, t.CaseID)
			}
			// Microseconds, as PostgreSQL keeps them, so the same timer read
			// back from a store is the same job.
			args := timerArgs{CaseID: t.CaseID, TimerKind: string(t.Kind), Ref: t.Ref, At: t.At.UTC().Truncate(time.Microsecond)}
			if seen[args] {
				continue // River rejects a batch that holds a unique job twice
			}
			seen[args] = true
			opts := &river.InsertOpts{
				Queue:       QueueTimers,
				MaxAttempts: q.cfg.TimerAttempts,
				UniqueOpts:  river.UniqueOpts{ByArgs: true},
			}
			if args.At.After(now) {
				// River makes a job with ScheduledAt "scheduled" even when
				// its time has passed; only one in the future is.
				opts.ScheduledAt = args.At
			}
			params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts})
		default:
			return fmt.Errorf("insert jobs: job %d: unknown kind %q", i, j.Kind)
		}
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("insert %d jobs: %w", len(params), err)
	}
	return nil
}

// Start starts working jobs, in goroutines of its own, and returns. ctx
// bounds the queue's life: cancelling it stops the queue as Stop does (jobs
// still running get StopTimeout, when set, before their contexts are
// cancelled). A Queue that was stopped can be started again.
func (q *Queue[TTx]) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for the running ones to finish (up to
// StopTimeout, when set, before their contexts are cancelled), and for their
// results to be recorded. If ctx ends first, Stop returns its error and can
// be called again. A job that was running when the process died is retried
// by River after an hour (River's RescueStuckJobsAfter).
func (q *Queue[TTx]) Stop(ctx context.Context) error {
	if err := q.client.Stop(ctx); err != nil {
		return fmt.Errorf("stop job queue: %w", err)
	}
	return nil
}

// Stats counts the queue's jobs by state. It reads the database, so it
// counts the jobs of every Queue on it.
func (q *Queue[TTx]) Stats(ctx context.Context) (Stats, error) {
	counts, err := q.count(ctx, q.now())
	if err != nil {
		return Stats{}, fmt.Errorf("count jobs: %w", err)
	}
	s := Stats{
		Available: counts[string(rivertype.JobStateAvailable)][0],
		Running:   counts[string(rivertype.JobStateRunning)][0],
		Scheduled: counts[string(rivertype.JobStateScheduled)][0],
		Retryable: counts[string(rivertype.JobStateRetryable)][0],
		Completed: counts[string(rivertype.JobStateCompleted)][0],
		Cancelled: counts[string(rivertype.JobStateCancelled)][0],
		Discarded: counts[string(rivertype.JobStateDiscarded)][0],
		Due:       counts[string(rivertype.JobStateScheduled)][1] + counts[string(rivertype.JobStateRetryable)][1],
	}
	return s, nil
}

// Timers returns the timers of the case that are waiting to fire (scheduled,
// available or waiting for a retry), soonest first. It reads the database,
// so it sees the timers of every Queue on it.
func (q *Queue[TTx]) Timers(ctx context.Context, caseID int64) ([]casework.Timer, error) {
	params := river.NewJobListParams().
		Kinds(string(casework.JobTimer)).
		States(rivertype.JobStateScheduled, rivertype.JobStateAvailable, rivertype.JobStateRetryable).
		First(1000)
	var timers []casework.Timer
	for {
		res, err := q.client.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("list timers of case %d: %w", caseID, err)
		}
		for _, j := range res.Jobs {
			var a timerArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				return nil, fmt.Errorf("list timers of case %d: job %d: %w", caseID, j.ID, err)
			}
			if a.CaseID == caseID {
				timers = append(timers, casework.Timer{CaseID: a.CaseID, Kind: casework.TimerKind(a.TimerKind), Ref: a.Ref, At: a.At})
			}
		}
		if res.LastCursor == nil || len(res.Jobs) == 0 {
			break
		}
		params = params.After(res.LastCursor)
	}
	slices.SortStableFunc(timers, func(a, b casework.Timer) int { return a.At.Compare(b.At) })
	return timers, nil
}

// idlePoll is how often WaitIdle reads the counts.
const idlePoll = 20 * time.Millisecond

// WaitIdle waits until no job is waiting to run now (Stats.Idle): every job
// that was due has finished or is waiting for a retry or its time. It is
// for tests and benchmarks; it returns ctx's error if ctx ends first. Jobs
// are worked only while some Queue on the database is started.
func (q *Queue[TTx]) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(idlePoll)
	defer t.Stop()
	for {
		s, err := q.Stats(ctx)
		if err != nil {
			return err
		}
		if s.Idle() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for idle job queue (%+v): %w", s, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// clock is the service's clock as River takes it (rivertype.TimeGenerator).
// It says the time is always stubbed, so River writes its timestamps from it
// instead of the database's now().
type clock func() time.Time

func (c clock) Now() time.Time { return c() }

func (c clock) NowOrNil() *time.Time {
	t := c()
	return &t
}

// backoff is the retry policy: base, doubled for each further failed
// attempt, capped at max, with ±10 % jitter.
type backoff struct {
	base, max time.Duration
	now       func() time.Time
}

// NextRetry returns when a job that just failed its attempt job.Attempt
// runs again.
func (b *backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return b.now().Add(b.delay(job.Attempt))
}

// delay returns the wait after failed attempt n (1 for the first).
func (b *backoff) delay(n int) time.Duration {
	d := b.base
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	jitter := time.Duration(float64(d) * 0.1 * (2*rand.Float64() - 1))
	return max(d+jitter, 0)
}

// minLevel is a slog.Handler that drops records below a level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
