package postgres

import (
	"github.com/aftersales/aftersales/storage/storagetest"

	"context"
	"testing"

	"github.com/aftersales/aftersales/internal/pgtest"
)

// Test databases come from internal/pgtest: every test gets a schema of its
// own, created empty and dropped when the test ends, whose connections have
// their search_path set to it; pgtest skips when the database can't be
// reached (fails in CI) and sweeps the schemas a killed run left behind.

// openTestDB opens a migrated DB on a fresh schema; it is closed when the
// test ends. It returns the URL too, so that a test can open more DBs on the
// same schema.
func openTestDB(tb testing.TB, opts Options) (*DB, string) {
	tb.Helper()
	_, dbURL := pgtest.NewSchema(tb)
	switch opts.MaxConns {
	case 0: // tests: small pools, many run at once
		opts.MaxConns = 4
	case -1: // benchmarks: the default pool size, as in production
		opts.MaxConns = 0
	}
	db := mustOpen(tb, dbURL, opts)
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db, dbURL
}

// mustOpen opens a DB at dbURL, closed when the test ends.
func mustOpen(tb testing.TB, dbURL string, opts Options) *DB {
	tb.Helper()
	if opts.NowFunc == nil {
		opts.NowFunc = storagetest.Now
	}
	db, err := Open(context.Background(), dbURL, opts)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}
