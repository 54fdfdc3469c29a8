package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/aftersales/aftersales/casework"
)

// deliverArgs are the arguments of a delivery job, as River stores them.
type deliverArgs struct {
	OutboxID int64 `json:"outbox_id"`
}

// Kind is the River job kind of a delivery.
func (deliverArgs) Kind() string { return string(casework.JobDeliver) }

// timerArgs are the arguments of a timer job, as River stores them. All of
// them make the job unique.
type timerArgs struct {
	CaseID    int64     `json:"case_id"`
	TimerKind string    `json:"kind"`
	Ref       int64     `json:"ref"`
	At        time.Time `json:"at"`
}

// Kind is the River job kind of a timer.
func (timerArgs) Kind() string { return string(casework.JobTimer) }

// deliverWorker works delivery jobs.
type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	handler Handler
	logger  *slog.Logger
}

// Work calls Handler.Deliver.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	final := job.Attempt >= job.MaxAttempts
	err := w.handler.Deliver(ctx, job.Args.OutboxID, job.Attempt, final)
	return outcome(ctx, w.logger, err, job.JobRow, "delivery", slog.Int64("outbox_id", job.Args.OutboxID))
}

// timerWorker works timer jobs.
type timerWorker struct {
	river.WorkerDefaults[timerArgs]
	handler Handler
	logger  *slog.Logger
}

// Work calls Handler.Fire.
func (w *timerWorker) Work(ctx context.Context, job *river.Job[timerArgs]) error {
	a := job.Args
	err := w.handler.Fire(ctx, casework.Timer{CaseID: a.CaseID, Kind: casework.TimerKind(a.TimerKind), At: a.At, Ref: a.Ref})
	return outcome(ctx, w.logger, err, job.JobRow, "timer",
		slog.Int64("case_id", a.CaseID), slog.String("timer_kind", a.TimerKind), slog.Int64("ref", a.Ref))
}

// outcome logs a failed attempt, once, and turns a Permanent error into
// River's cancellation.
func outcome(ctx context.Context, logger *slog.Logger, err error, job *rivertype.JobRow, what string, attrs ...slog.Attr) error {
	if err == nil {
		return nil
	}
	attrs = append(attrs,
		slog.Int("attempt", job.Attempt),
		slog.Int("max_attempts", job.MaxAttempts),
		slog.Int64("job_id", job.ID),
		slog.String("error", err.Error()),
	)
	switch {
	case IsPermanent(err):
		logger.LogAttrs(ctx, slog.LevelError, what+" failed for good; giving up", attrs...)
		return river.JobCancel(err)
	case job.Attempt >= job.MaxAttempts:
		logger.LogAttrs(ctx, slog.LevelError, what+" failed on its last attempt; giving up", attrs...)
	default:
		logger.LogAttrs(ctx, slog.LevelWarn, what+" failed; will retry", attrs...)
	}
	return err
}

// panicLogger is River's ErrorHandler: errors were logged by the workers;
// a panic in a Handler is logged here, and retried like an error.
type panicLogger struct {
	logger *slog.Logger
}

// HandleError does nothing: outcome logged the error.
func (*panicLogger) HandleError(context.Context, *rivertype.JobRow, error) *river.ErrorHandlerResult {
	return nil
}

// HandlePanic logs a panic in a Handler with the job's ids (its arguments
// hold only ids) and the stack.
func (p *panicLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	p.logger.LogAttrs(ctx, slog.LevelError, "job panicked",
		slog.String("job_kind", job.Kind),
		slog.Int64("job_id", job.ID),
		slog.String("args", string(job.EncodedArgs)),
		slog.Int("attempt", job.Attempt),
		slog.Int("max_attempts", job.MaxAttempts),
		slog.String("panic", fmt.Sprint(panicVal)),
		slog.String("stack", trace),
	)
	return nil
}
