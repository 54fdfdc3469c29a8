package conversation_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/internal/pgtest"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/jobs"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/storage/postgres"
)

// errCrash stands for the process dying at a point of the submit: what was
// committed stays, nothing after it happens, and the platform (or the chat
// page) sends the same message again.
var errCrash = errors.New("crash")

// crashingStore is the store, of either backend, with a crash injected
// once, after the case's commit or after the first judgment's.
type crashingStore struct {
	lifecycle.Store
	afterCase, afterJudgment atomic.Bool
}

func (s *crashingStore) CreateCaseWith(ctx context.Context, c *casework.Case, eff casework.Effects) error {
	if err := s.Store.CreateCaseWith(ctx, c, eff); err != nil {
		return err
	}
	if s.afterCase.CompareAndSwap(true, false) {
		return errCrash
	}
	return nil
}

func (s *crashingStore) AddCaseEvent(ctx context.Context, e *casework.Event) error {
	if err := s.Store.AddCaseEvent(ctx, e); err != nil {
		return err
	}
	if strings.HasPrefix(e.Note, "初步判断") && s.afterJudgment.CompareAndSwap(true, false) {
		return errCrash
	}
	return nil
}

// crashingSessions crashes once before the session of the submit is saved.
type crashingSessions struct {
	*conversation.MemoryStore
	beforeSave atomic.Bool
}

func (s *crashingSessions) Save(ctx context.Context, ss *conversation.Session, ttl time.Duration) error {
	if ss.Flow == "" && s.beforeSave.CompareAndSwap(true, false) {
		return errCrash
	}
	return s.MemoryStore.Save(ctx, ss, ttl)
}

// crashBackends are the stores TestOneCasePerReportThroughACrash runs on.
// Each open gives a store on the clock now, migrated, loaded with the example
// project and with a job queue, closed when the test ends; PostgreSQL's is
// in a schema of its own (internal/pgtest: the test skips when the database
// is unreachable, and fails in CI).
var crashBackends = []struct {
	name string
	open func(t testing.TB, now func() time.Time) lifecycle.Store
}{
	{"sqlite", func(t testing.TB, now func() time.Time) lifecycle.Store {
		db := openSQLite(t, now)
		q, err := jobs.NewSQLite(db.WriteDB(), jobs.Config{Handler: noJobs{}, NowFunc: now})
		db.SetJobQueue(migrated(t, q, err))
		return db
	}},
	{"postgres", func(t testing.TB, now func() time.Time) lifecycle.Store {
		_, dbURL := pgtest.NewSchema(t)
		db, err := postgres.Open(context.Background(), dbURL, postgres.Options{Numbering: casework.DefaultNumbering(), NowFunc: now, MaxConns: 4})
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		loadExample(t, db)
		q, err := jobs.NewPostgres(db.Pool(), jobs.Config{Handler: noJobs{}, NowFunc: now})
		db.SetJobQueue(migrated(t, q, err))
		return db
	}},
}

// migrated returns the job queue q, made with err, after River's migrations.
func migrated[TTx any](t testing.TB, q *jobs.Queue[TTx], err error) *jobs.Queue[TTx] {
	t.Helper()
	require.NoError(t, err)
	require.NoError(t, q.Migrate(context.Background()))
	return q
}

// TestOneCasePerReportThroughACrash: the service dies at each point between
// the case's commit and the dialogue's save, and the owner's 提交 comes
// again with the same message id: there is one case, fully triaged, with
// its first judgment, and the owner is told its number.
func TestOneCasePerReportThroughACrash(t *testing.T) {
	for _, backend := range crashBackends {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			for _, point := range []string{"after the case's commit", "after the first judgment", "before the session's save"} {
				t.Run(point, func(t *testing.T) {
					t.Parallel()
					testOneCasePerReportThroughACrash(t, backend.open, point)
				})
			}
		})
	}
}

// testOneCasePerReportThroughACrash is TestOneCasePerReportThroughACrash on
// the store that open gives, with the crash at point.
func testOneCasePerReportThroughACrash(t *testing.T, open func(testing.TB, func() time.Time) lifecycle.Store, point string) {
	ctx := context.Background()
	clock := testclock.New(start)
	w := newWorldOn(t, clock, open(t, clock.Now))
	store := &crashingStore{Store: w.db}
	sessions := &crashingSessions{MemoryStore: w.sessions}
	w.reconfigure(func(c *conversation.Config) {
		c.Store, c.Sessions = store, sessions
		c.Lifecycle = lifecycle.New(lifecycle.Config{Store: store, NowFunc: w.clock.Now})
	})
	u := w.user("7001", "zh-hans")
	u.describeLeak()
	u.send(bot.KindPhoto, "leak.png", png, 0)
	u.press("media:done")
	u.press("exp:repair")
	u.press("ct:evening")

	switch point {
	case "after the case's commit":
		store.afterCase.Store(true)
	case "after the first judgment":
		store.afterJudgment.Store(true)
	case "before the session's save":
		sessions.beforeSave.Store(true)
	}
	submit := &bot.Inbound{User: u.ref, MessageID: "submit-1", Time: w.clock.Now(), Kind: bot.KindButton, Payload: "sum:submit", Language: u.lang}
	err := w.router.Dispatch(ctx, submit)
	require.ErrorIs(t, err, errCrash, "the first try dies")

	w.rec.mu.Lock()
	w.rec.out = nil
	w.rec.mu.Unlock()
	retry := *submit
	require.NoError(t, w.router.Dispatch(ctx, &retry), "the same message again")
	w.rec.mu.Lock()
	var told strings.Builder
	for _, o := range w.rec.out {
		told.WriteString(o.Text + "\n")
	}
	w.rec.mu.Unlock()

	cases, n, err := w.db.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, n, "one case for one report")
	c, err := w.db.FindCaseByID(ctx, cases[0].ID)
	require.NoError(t, err)
	assert.Contains(t, told.String(), c.Number, "the owner is told the number")
	assert.Len(t, c.Media, 1, "the photo is on the case")
	assert.Equal(t, casework.StateDispatched, c.State, "triaged: an in-warranty leak is dispatched")
	events, err := w.db.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	judgments := 0
	for _, e := range events {
		if strings.HasPrefix(e.Note, "初步判断") {
			judgments++
		}
	}
	assert.Equal(t, 1, judgments, "one first judgment")
}
