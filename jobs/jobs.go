// Package jobs runs the service's durable jobs on River
// (github.com/riverqueue/river): the delivery of outbox messages and the
// timers of cases. A store enqueues them with Queue.InsertJobsTx in the
// transaction of the change that caused them, so that a committed change
// always has its jobs and a rolled-back one has none; workers then call a
// Handler, retrying failures with exponential backoff.
//
// Jobs live in River's tables in the store's database (SQLite or
// PostgreSQL), created by Queue.Migrate. They survive restarts: a Queue
// started over the same database picks up what an earlier one left, and on
// PostgreSQL any number of Queues (instances of the service) share the work,
// each job running once.
//
// Delivery jobs go to the queue "outbox", timer jobs to "timers", each with
// its own workers, so that a slow chat platform does not hold timers back.
// A timer job is scheduled at its Timer.At and runs within River's scheduler
// interval (5 s) of it; a timer whose time has passed runs at once. Timers
// are unique by case, kind, ref and time: inserting the same timer again,
// while it waits, runs or has completed (until River cleans completed jobs
// out, after 24 hours), does not add a job.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// River queue names.
const (
	QueueOutbox = "outbox" // delivery jobs
	QueueTimers = "timers" // timer jobs
)

// Handler does the work of the jobs. Its methods are called concurrently,
// each with a context that is cancelled when the job times out
// (Config.JobTimeout) or the queue is stopped hard.
type Handler interface {
	// Deliver sends outbox message id. attempt counts from 1; final reports
	// whether this is the last attempt River will make. Return nil when done,
	// an error to retry with backoff, or Permanent(err) to give up at once.
	Deliver(ctx context.Context, outboxID int64, attempt int, final bool) error
	// Fire runs a timer; t.At is in UTC, to the microsecond. Return nil when
	// done, an error to retry with backoff (up to Config.TimerAttempts), or
	// Permanent(err) to give up.
	Fire(ctx context.Context, t casework.Timer) error
}

// permanentError marks an error after which a job is not retried.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the worker gives up on the job at once, with
// no further attempts (River cancels it). errors.Is and errors.As still see
// err through it. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, came from
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Config configures a Queue. Zero fields take the defaults of
// DefaultConfig; Handler and NowFunc are required.
type Config struct {
	// Handler does the work; required.
	Handler Handler
	// Logger receives one line per failed attempt (with outbox_id or
	// case_id, never a payload) and River's warnings; nil: discard.
	Logger *slog.Logger

	// DeliverAttempts is how many times a delivery is attempted in all.
	DeliverAttempts int
	// TimerAttempts is how many times a timer is attempted in all.
	TimerAttempts int
	// DeliverWorkers is how many deliveries run at once (queue "outbox").
	DeliverWorkers int
	// TimerWorkers is how many timers run at once (queue "timers").
	TimerWorkers int

	// PollInterval is how often workers look for jobs when no notification
	// told them of one (River's FetchPollInterval); 0: 1 s on PostgreSQL,
	// where LISTEN/NOTIFY wakes them as soon as a job is committed, and
	// 200 ms on SQLite.
	PollInterval time.Duration
	// RetryBackoff is the wait before the first retry; it doubles with each
	// further failed attempt, with ±10 % jitter.
	RetryBackoff time.Duration
	// RetryBackoffMax caps the wait between attempts.
	RetryBackoffMax time.Duration
	// JobTimeout bounds one attempt: its context is cancelled after it.
	JobTimeout time.Duration
	// StopTimeout is how long Stop, or cancelling Start's context, waits for
	// running jobs before cancelling their contexts; 0: wait until they end.
	StopTimeout time.Duration

	// NowFunc is the service's clock; required. River reads the time from
	// it (Config.Test.Time) instead of the database's now(), so that a
	// timer is scheduled, due and retried by the same clock that set it: in
	// a test, when the fake clock passes it. With a clock that stands still,
	// a retry is due only when the clock is moved past its backoff. Jumps
	// make River's leader step down and be elected again, with a warning in
	// the log.
	NowFunc func() time.Time
}

// The defaults of DefaultConfig.
const (
	DefaultDeliverAttempts = 10
	DefaultTimerAttempts   = 5
	DefaultDeliverWorkers  = 8
	DefaultTimerWorkers    = 4
	DefaultRetryBackoff    = 2 * time.Second
	DefaultRetryBackoffMax = 10 * time.Minute
	DefaultJobTimeout      = time.Minute

	// River's defaults for keeping finished jobs and for taking a job
	// that has run this long past its timeout as stuck.
	riverRetention          = 24 * time.Hour
	riverDiscardedRetention = 7 * 24 * time.Hour
	riverRescueAfter        = time.Hour

	defaultPollIntervalPostgres = time.Second
	defaultPollIntervalSQLite   = 200 * time.Millisecond
)

// DefaultConfig returns a Config with the defaults set and no Handler.
// PollInterval is left 0: it depends on the database.
func DefaultConfig() Config {
	return Config{
		DeliverAttempts: DefaultDeliverAttempts,
		TimerAttempts:   DefaultTimerAttempts,
		DeliverWorkers:  DefaultDeliverWorkers,
		TimerWorkers:    DefaultTimerWorkers,
		RetryBackoff:    DefaultRetryBackoff,
		RetryBackoffMax: DefaultRetryBackoffMax,
		JobTimeout:      DefaultJobTimeout,
	}
}

// withDefaults returns c with its zero fields set; pollInterval is the
// database's default poll interval.
func (c Config) withDefaults(pollInterval time.Duration) Config {
	d := DefaultConfig()
	c.DeliverAttempts = or(c.DeliverAttempts, d.DeliverAttempts)
	c.TimerAttempts = or(c.TimerAttempts, d.TimerAttempts)
	c.DeliverWorkers = or(c.DeliverWorkers, d.DeliverWorkers)
	c.TimerWorkers = or(c.TimerWorkers, d.TimerWorkers)
	c.PollInterval = or(c.PollInterval, pollInterval)
	c.RetryBackoff = or(c.RetryBackoff, d.RetryBackoff)
	c.RetryBackoffMax = or(c.RetryBackoffMax, max(d.RetryBackoffMax, c.RetryBackoff))
	c.JobTimeout = or(c.JobTimeout, d.JobTimeout)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Validate checks a Config; zero fields are valid and take their defaults.
func (c Config) Validate() error {
	var errs []error
	if c.Handler == nil {
		errs = append(errs, errors.New("no Handler"))
	}
	if c.NowFunc == nil {
		errs = append(errs, errors.New("no NowFunc: the queue schedules by the service's clock"))
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"DeliverAttempts", c.DeliverAttempts},
		{"TimerAttempts", c.TimerAttempts},
		{"DeliverWorkers", c.DeliverWorkers},
		{"TimerWorkers", c.TimerWorkers},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s is negative (%d)", f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{
		{"PollInterval", c.PollInterval},
		{"RetryBackoff", c.RetryBackoff},
		{"RetryBackoffMax", c.RetryBackoffMax},
		{"JobTimeout", c.JobTimeout},
		{"StopTimeout", c.StopTimeout},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s is negative (%s)", f.name, f.v))
		}
	}
	if c.PollInterval > 0 && c.PollInterval < time.Millisecond {
		errs = append(errs, fmt.Errorf("PollInterval %s is under 1ms", c.PollInterval))
	}
	if c.RetryBackoffMax > 0 && c.RetryBackoffMax < c.RetryBackoff {
		errs = append(errs, fmt.Errorf("RetryBackoffMax %s is less than RetryBackoff %s", c.RetryBackoffMax, c.RetryBackoff))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("jobs config: %w", err)
	}
	return nil
}

// Stats counts a queue's jobs by River state.
type Stats struct {
	Available int // ready to run (a short retry waits here too)
	Running   int // being worked
	Scheduled int // timers waiting for their time
	Retryable int // failed, waiting for a retry
	Completed int // done (kept 24 h)
	Cancelled int // given up with Permanent (kept 24 h)
	Discarded int // given up after the last attempt (kept 7 days)
	// Due counts the scheduled and retryable jobs whose time has come by the
	// queue's clock, which River's scheduler has yet to make available.
	Due int
}

// Idle reports whether no job is waiting to run now: none available,
// running or due.
func (s Stats) Idle() bool { return s.Available == 0 && s.Running == 0 && s.Due == 0 }
