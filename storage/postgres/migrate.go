package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockClass is the first key of the advisory lock Migrate takes; the
// second is a hash of the schema migrated, so that instances migrating the
// same schema wait for each other and other schemas are not held up.
const migrationLockClass = 0x41465453 // "AFTS"

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Their names are
// NNNN_description.sql; numbers start at 1 and leave no gap.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || path.Ext(name) != ".sql" {
			return nil, fmt.Errorf("migration %s: name is not NNNN_description.sql", name)
		}
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(name, ".sql"), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %04d", m.name, i+1)
		}
	}
	return out, nil
}

// Migrate brings the schema (the first schema of the search_path) up to date:
// it applies, in order, each embedded migration not yet recorded in
// schema_migrations, each in its own transaction together with its record.
// Every transaction first takes a transaction-level advisory lock, so that
// several instances starting together apply each migration once. Running it
// on an up-to-date schema changes nothing.
func (db *DB) Migrate(ctx context.Context) error { return db.migrate(ctx, 0) }

// migrate applies the migrations up to version upTo (0: all of them).
func (db *DB) migrate(ctx context.Context, upTo int) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if upTo > 0 && m.version > upTo {
			break
		}
		var applied bool
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			if err := lockMigrations(ctx, tx); err != nil {
				return err
			}
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.version).Scan(&applied)
			if err != nil || applied {
				return err
			}
			// Without arguments pgx uses the simple protocol, which runs a
			// script of several statements.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.version, db.nowUTC())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migrate: apply %s: %w", m.name, err)
		}
		if !applied {
			db.logger.Info("postgres: migration applied", slog.Int("version", m.version), slog.String("migration", m.name))
		}
	}
	return nil
}

func lockMigrations(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))`, int32(migrationLockClass))
	if err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	return nil
}
