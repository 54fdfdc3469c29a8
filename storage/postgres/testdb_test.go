package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Test databases. Every test gets a schema of its own in the database at
// AFTERSALES_TEST_DATABASE_URL, created empty, migrated, and dropped when the
// test ends; its pool's connections have their search_path set to it, so
// tests run in parallel and pooled connections see only their test's
// tables. Unlike a transaction rolled back at the end (river's riverdbtest),
// a schema lets the code under test open, commit and run concurrent
// transactions as in production.
//
// When the database can't be reached, tests are skipped with a message that
// names the URL, except in CI (CI=true), where that is a failure.

// defaultTestURL is the database used when AFTERSALES_TEST_DATABASE_URL is unset.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

const testSchemaPrefix = "aftersales_test_"

func testDatabaseURL() string {
	if u := os.Getenv("AFTERSALES_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultTestURL
}

var admin struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

// adminPool returns the pool that creates and drops test schemas, or skips
// (fails, in CI) when the test database can't be reached.
func adminPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	admin.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cfg, err := pgxpool.ParseConfig(testDatabaseURL())
		if err != nil {
			admin.err = err
			return
		}
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second
		cfg.MaxConns = 2
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err == nil {
			if err = pool.Ping(ctx); err != nil {
				pool.Close()
			}
		}
		admin.pool, admin.err = pool, err
		if err == nil {
			dropStaleSchemas(ctx, pool)
		}
	})
	if admin.err != nil {
		msg := "postgres: test database %s unreachable (set AFTERSALES_TEST_DATABASE_URL): %v"
		if os.Getenv("CI") == "true" {
			tb.Fatalf(msg, redactURL(testDatabaseURL()), admin.err)
		}
		tb.Skipf(msg, redactURL(testDatabaseURL()), admin.err)
	}
	return admin.pool
}

func TestMain(m *testing.M) {
	code := m.Run()
	if admin.pool != nil {
		admin.pool.Close()
	}
	os.Exit(code)
}

// redactURL hides the password of a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// dropStaleSchemas drops the test schemas that a test run killed before its
// cleanup left behind: those created more than an hour ago, by the time in
// their name, so that concurrent test runs keep theirs.
func dropStaleSchemas(ctx context.Context, pool *pgxpool.Pool) {
	rows, err := pool.Query(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, testSchemaPrefix)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		created, _, _ := strings.Cut(strings.TrimPrefix(name, testSchemaPrefix), "_")
		sec, err := strconv.ParseInt(created, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) < time.Hour {
			continue
		}
		_, _ = pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
	}
}

// newTestSchema creates an empty schema with a random name, dropped with
// everything in it when the test ends, and returns its name and a URL whose
// connections use it.
func newTestSchema(tb testing.TB) (schema, dbURL string) {
	tb.Helper()
	pool := adminPool(tb)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema = fmt.Sprintf("%s%d_%s", testSchemaPrefix, time.Now().Unix(), hex.EncodeToString(b))
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema, withSearchPath(testDatabaseURL(), schema)
}

// withSearchPath adds search_path to a URL or a keyword/value connection
// string; pgx sends it as a run-time parameter of every connection.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

// openTestDB opens a migrated DB on a fresh schema; it is closed when the
// test ends. It returns the URL too, so that a test can open more DBs on the
// same schema.
func openTestDB(tb testing.TB, opts Options) (*DB, string) {
	tb.Helper()
	_, dbURL := newTestSchema(tb)
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
	db, err := Open(context.Background(), dbURL, opts)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}
