// Package pgtest gives tests a PostgreSQL schema of their own. Every call to
// Pool or NewSchema creates an empty schema with a random name in the
// database at AFTERSALES_TEST_DATABASE_URL (default DefaultURL), dropped with
// everything in it when the test ends; pools opened on it set search_path to
// it on every connection, so tests run in parallel and see only their own
// tables. Unlike a transaction rolled back at the end (river's riverdbtest),
// a schema lets the code under test open, commit and run concurrent
// transactions as in production.
//
// When the database can't be reached, tests are skipped with a message that
// names the URL, except in CI (CI=true), where that is a failure.
//
// Schemas are named aftersales_test_<unix time>_<random>; the first test of
// a binary to ask for one drops those more than an hour old, which a killed
// test run left behind.
package pgtest

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

// DefaultURL is the test database used when AFTERSALES_TEST_DATABASE_URL is
// unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// SchemaPrefix starts the name of every test schema.
const SchemaPrefix = "aftersales_test_"

// DefaultMaxConns caps the pools that Pool and Open return unless told
// otherwise: small, as many tests hold pools at once.
const DefaultMaxConns = 5

// URL returns the test database's URL.
func URL() string {
	if u := os.Getenv("AFTERSALES_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var admin struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

// adminPool returns the pool that creates and drops test schemas, or skips
// (fails, in CI) when the test database can't be reached. It lives as long
// as the test binary.
func adminPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	admin.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cfg, err := pgxpool.ParseConfig(URL())
		if err != nil {
			admin.err = err
			return
		}
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second
		cfg.MaxConns = 2
		cfg.MaxConnIdleTime = 10 * time.Second
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
		msg := "pgtest: test database %s unreachable (set AFTERSALES_TEST_DATABASE_URL): %v"
		if os.Getenv("CI") == "true" {
			tb.Fatalf(msg, redactURL(URL()), admin.err)
		}
		tb.Skipf(msg, redactURL(URL()), admin.err)
	}
	return admin.pool
}

// NewSchema creates an empty schema with a random name, dropped with
// everything in it when the test ends, and returns its name and a URL whose
// connections use it. Close every pool on it before the test ends: Open does.
func NewSchema(tb testing.TB) (schema, dbURL string) {
	tb.Helper()
	pool := adminPool(tb)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema = fmt.Sprintf("%s%d_%s", SchemaPrefix, time.Now().Unix(), hex.EncodeToString(b))
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return schema, WithSearchPath(URL(), schema)
}

// Open opens a pool of at most maxConns connections (0: DefaultMaxConns) at
// dbURL, closed when the test ends.
func Open(tb testing.TB, dbURL string, maxConns int32) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		tb.Fatalf("pgtest: parse URL %s: %v", redactURL(dbURL), err)
	}
	cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	cfg.MaxConns = DefaultMaxConns
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("pgtest: open %s: %v", redactURL(dbURL), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		tb.Fatalf("pgtest: ping %s: %v", redactURL(dbURL), err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// Pool returns a pool of DefaultMaxConns connections on a fresh, empty
// schema; the pool is closed and the schema dropped when the test ends.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	_, dbURL := NewSchema(tb)
	return Open(tb, dbURL, 0)
}

// WithSearchPath adds search_path to a URL or a keyword/value connection
// string; pgx sends it as a run-time parameter of every connection.
func WithSearchPath(dsn, schema string) string {
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
	rows, err := pool.Query(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, SchemaPrefix)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		created, _, _ := strings.Cut(strings.TrimPrefix(name, SchemaPrefix), "_")
		sec, err := strconv.ParseInt(created, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) < time.Hour {
			continue
		}
		_, _ = pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
	}
}
