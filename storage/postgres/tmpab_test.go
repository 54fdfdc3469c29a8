package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aftersales/aftersales/casework"
)

func TestTmpAB(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	db, _ := openTestDB(t, Options{MaxConns: -1})
	p := registryFixture(t, db)
	day := time.Date(2026, 11, 27, 10, 0, 0, 0, casework.ChinaTime())
	run := func(explicit bool) float64 {
		var n atomic.Int64
		deadline := time.Now().Add(2 * time.Second)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					c := newTestCase(p.ID, day)
					c.Validate()
					c.Version, c.State, c.CreatedAt, c.UpdatedAt = 1, casework.StateRegistered, time.Now(), time.Now()
					dk := db.numbering.Day(c.ReceivedAt)
					var err error
					if explicit {
						err = db.inTx(context.Background(), func(tx pgx.Tx) error { return db.createCase(context.Background(), tx, c, dk) })
					} else {
						err = db.createCase(context.Background(), db.pool, c, dk)
					}
					if err != nil {
						t.Error(err)
						return
					}
					n.Add(1)
				}
			})
		}
		wg.Wait()
		return float64(n.Load()) / 2
	}
	for range 3 {
		t.Logf("batch %6.0f/s   explicit tx %6.0f/s", run(false), run(true))
	}
}
