package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// migrations returns the embedded migrations in order. Their file names are
// NNNN_name.sql, numbered from 0001 without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []migration
	for i, path := range names {
		base := path[len("migrations/"):]
		m := migrationName.FindStringSubmatch(base)
		if m == nil {
			return nil, fmt.Errorf("migration %s: the name is not NNNN_name.sql", base)
		}
		v, _ := strconv.Atoi(m[1])
		if v != i+1 {
			return nil, fmt.Errorf("migration %s: want number %04d", base, i+1)
		}
		body, err := migrationFS.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	return out, nil
}

// Migrate brings the schema up to date: it applies, in order, each embedded
// migration not yet recorded in schema_migrations, each in its own
// transaction together with its record. Applying it again changes nothing.
// It refuses a database migrated by a newer build.
func (db *DB) Migrate(ctx context.Context) error { return db.migrate(ctx, 0) }

// migrate applies the migrations up to version upTo (0: all of them).
func (db *DB) migrate(ctx context.Context, upTo int) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var latest sql.NullInt64
	if err := db.write.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&latest); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if int(latest.Int64) > len(ms) {
		return fmt.Errorf("migrate: the database is at schema version %d, newer than this build's %d", latest.Int64, len(ms))
	}
	for _, m := range ms {
		if upTo > 0 && m.version > upTo {
			break
		}
		if err := db.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, m migration) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var applied bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)", m.version).Scan(&applied); err != nil {
		return err
	}
	if applied {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", m.version, encodeTime(tx.now)); err != nil {
		return err
	}
	if err := tx.commit(); err != nil {
		return err
	}
	db.logger.Info("sqlite migration applied", slog.Int("version", m.version), slog.String("name", m.name))
	return nil
}
