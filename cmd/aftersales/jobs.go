package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/jobs"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/storage/postgres"
	"github.com/aftersales/aftersales/storage/sqlite"
)

// jobQueue is the durable job queue as Main runs it, whatever the database.
type jobQueue interface {
	Migrate(ctx context.Context) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Stats(ctx context.Context) (jobs.Stats, error)
	WaitIdle(ctx context.Context) error
}

// jobHandler hands the queue's jobs to the lifecycle service, which is made
// after the queue (the store needs the queue, the service the store).
type jobHandler struct{ svc *lifecycle.Service }

func (h *jobHandler) Deliver(ctx context.Context, id int64, attempt int, final bool) error {
	if h.svc == nil {
		return errors.New("the lifecycle service is not running")
	}
	err := h.svc.Deliver(ctx, id, attempt, final)
	var p *lifecycle.Permanent
	if errors.As(err, &p) {
		return jobs.Permanent(err)
	}
	return err
}

func (h *jobHandler) Fire(ctx context.Context, t casework.Timer) error {
	if h.svc == nil {
		return errors.New("the lifecycle service is not running")
	}
	return h.svc.Fire(ctx, t)
}

// openJobs makes the job queue (River) on the store's database, applies its
// migrations and gives it to the store, which enqueues jobs in the
// transactions of case changes.
func (m *Main) openJobs(ctx context.Context) error {
	m.jobHandler = &jobHandler{}
	cfg := jobs.Config{Handler: m.jobHandler, Logger: m.Logger, NowFunc: m.now, StopTimeout: 10 * time.Second}
	switch db := m.Store.(type) {
	case *sqlite.DB:
		q, err := jobs.NewSQLite(db.WriteDB(), cfg)
		if err != nil {
			return err
		}
		db.SetJobQueue(q)
		m.jobs = q
	case *postgres.DB:
		q, err := jobs.NewPostgres(db.Pool(), cfg)
		if err != nil {
			return err
		}
		db.SetJobQueue(q)
		m.jobs = q
	default:
		return fmt.Errorf("no job queue for a store of type %T", m.Store)
	}
	if err := m.jobs.Migrate(ctx); err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	return nil
}

// startJobs starts working the queue; the returned function stops it
// gracefully, waiting for running jobs (Close calls it before it closes the
// channels and the store they use).
func (m *Main) startJobs() (stop func() error, err error) {
	if err := m.jobs.Start(context.Background()); err != nil {
		return nil, err
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return m.jobs.Stop(ctx)
	}, nil
}
