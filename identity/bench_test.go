package identity_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/identity"
	"github.com/aftersales/aftersales/internal/pgtest"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/storage/postgres"
	"github.com/aftersales/aftersales/storage/sqlite"
)

// BenchmarkSendAndCheckCode measures what proving a phone costs the store:
// a code sent (the limits counted and the code stored in one serialized
// transaction) and then typed right, for a new account and phone each time,
// on SQLite and PostgreSQL. The SMS provider's own time is not in it.
func BenchmarkSendAndCheckCode(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			clock := testclock.NewRunning(testclock.Start())
			var store identity.Store
			switch backend {
			case "sqlite":
				db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "a.db"), sqlite.Options{NowFunc: clock.Now})
				require.NoError(b, err)
				b.Cleanup(func() { _ = db.Close() })
				require.NoError(b, db.Migrate(ctx))
				store = db
			case "postgres":
				_, url := pgtest.NewSchema(b)
				db, err := postgres.Open(ctx, url, postgres.Options{NowFunc: clock.Now})
				require.NoError(b, err)
				b.Cleanup(func() { _ = db.Close() })
				require.NoError(b, db.Migrate(ctx))
				store = db
			}
			sms := &fakeSMS{}
			svc := identity.New(identity.Config{Store: store, Sender: sms, NowFunc: clock.Now})
			i := 0
			for b.Loop() {
				i++
				acct := identity.Account{Platform: "web", UserID: fmt.Sprintf("bench-%d", i)}
				phone := fmt.Sprintf("138%08d", i)
				if err := svc.SendCode(ctx, acct, phone); err != nil {
					b.Fatal(err)
				}
				sms.mu.Lock()
				code := sms.sent[phone][0]
				sms.mu.Unlock()
				if _, err := svc.CheckCode(ctx, acct, code); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
