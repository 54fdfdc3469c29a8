package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/staff"
	"github.com/aftersales/aftersales/storage/storagetest"
)

// mustOpen opens and migrates a database at path with opts, closed when tb ends.
func mustOpen(tb testing.TB, path string, opts Options) *DB {
	tb.Helper()
	if opts.NowFunc == nil {
		opts.NowFunc = storagetest.Now
	}
	db, err := Open(context.Background(), path, opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { assert.NoError(tb, db.Close()) })
	require.NoError(tb, db.Migrate(context.Background()))
	return db
}

// openTemp opens a fresh database in a temporary directory.
func openTemp(tb testing.TB) casework.Store {
	tb.Helper()
	return mustOpen(tb, filepath.Join(tb.TempDir(), "aftersales.db"), Options{})
}

func TestStore(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, storagetest.Harness{
		Open: openTemp,
		OpenFailing: func(tb testing.TB, err error) (casework.Store, casework.Store) {
			path := filepath.Join(tb.TempDir(), "aftersales.db")
			normal := mustOpen(tb, path, Options{})
			failing := mustOpen(tb, path, Options{failAfterCaseWrite: err})
			return failing, normal
		},
		OpenLifecycle: func(tb testing.TB, jobs *storagetest.JobRecorder) storagetest.LifecycleStore {
			var opts Options
			if jobs != nil {
				opts.Jobs = recordingQueue{jobs}
			}
			return mustOpen(tb, filepath.Join(tb.TempDir(), "aftersales.db"), opts)
		},
		OpenMigrated:    openMigrated,
		DeleteStaffUser: deleteStaffUser,
	})
}

// recordingQueue hands the jobs of a write to a storagetest.JobRecorder,
// which checks that their outbox messages are in the write's transaction.
type recordingQueue struct{ r *storagetest.JobRecorder }

func (q recordingQueue) InsertJobsTx(ctx context.Context, tx *sql.Tx, jobs []casework.Job) error {
	return q.r.Insert(jobs, func(id int64) (ok bool, err error) {
		err = tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = ?)", id).Scan(&ok)
		return ok, err
	})
}

// openMigrated writes a case under migrations 0001 and 0002 only, as a
// database of an earlier release holds it, then migrates to the latest (see
// storagetest.Harness.OpenMigrated).
func openMigrated(tb testing.TB) (casework.Store, string) {
	tb.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(tb.TempDir(), "aftersales.db"), Options{NowFunc: storagetest.Now})
	require.NoError(tb, err)
	tb.Cleanup(func() { assert.NoError(tb, db.Close()) })
	require.NoError(tb, db.migrate(ctx, 2))
	const ts = "2026-11-27T01:30:00.123456Z"
	for _, q := range []string{
		`INSERT INTO projects (code, name, created_at, updated_at) VALUES ('OLD', '旧项目', '` + ts + `', '` + ts + `')`,
		`INSERT INTO case_counters (day, seq) VALUES ('SH-20261127', 1)`,
		`INSERT INTO cases (number, version, project_id, description, channel, received_at, received_by, category, subcategory,
			urgency, responsibility, state, respond_by, created_at, updated_at)
		VALUES ('SH-20261127-0001', 1, (SELECT id FROM projects WHERE code = 'OLD'), '卫生间漏水', 'wechat', '` + ts + `', 'bot',
			'engineering_quality', 'leak', 'normal', 'undetermined', 'registered', '2026-11-28T01:30:00.123456Z', '` + ts + `', '` + ts + `')`,
		`INSERT INTO case_events (case_id, seq, at, actor, kind, to_state)
		VALUES ((SELECT id FROM cases WHERE number = 'SH-20261127-0001'), 1, '` + ts + `', 'bot', 'created', 'registered')`,
	} {
		_, err := db.write.ExecContext(ctx, testclock.Text(q))
		require.NoError(tb, err, q)
	}
	require.NoError(tb, db.Migrate(ctx))
	return db, testclock.Text("SH-20261127-0001")
}

// TestMigrateIdentity checks what 0004 does to what 0003 held: an owner's
// chat account bound by a typed phone loses its owner and keeps its unit; an
// engineer's keeps its member but no owner; a case staff typed in is verified, the bot's
// is not.
func TestMigrateIdentity(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "aftersales.db"), Options{NowFunc: storagetest.Now})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, db.Close()) })
	require.NoError(t, db.migrate(ctx, 3))
	const ts = "'2026-11-27T01:30:00.123456Z'"
	for _, q := range []string{
		`INSERT INTO projects (id, code, name, created_at, updated_at) VALUES (1, 'P', 'p', ` + ts + `, ` + ts + `)`,
		`INSERT INTO buildings (id, project_id, code, created_at, updated_at) VALUES (1, 1, '1', ` + ts + `, ` + ts + `)`,
		`INSERT INTO units (id, project_id, building_id, room, created_at, updated_at) VALUES (1, 1, 1, '101', ` + ts + `, ` + ts + `)`,
		`INSERT INTO owners (id, name, phone, created_at, updated_at) VALUES (1, '张三', '13812345678', ` + ts + `, ` + ts + `)`,
		`INSERT INTO parties (id, code, name, kind, created_at, updated_at) VALUES (1, 'FS', 'f', 'contractor', ` + ts + `, ` + ts + `)`,
		`INSERT INTO members (id, party_id, name, phone, created_at, updated_at) VALUES (1, 1, '王工', '13700002222', ` + ts + `, ` + ts + `)`,
		`INSERT INTO chat_identities (platform, user_id, owner_id, unit_id, created_at, updated_at)
		VALUES ('telegram', 'owner', 1, 1, ` + ts + `, ` + ts + `)`,
		`INSERT INTO chat_identities (platform, user_id, owner_id, member_id, created_at, updated_at)
		VALUES ('telegram', 'engineer', 1, 1, ` + ts + `, ` + ts + `)`,
		`INSERT INTO case_counters (day, seq) VALUES ('SH-20261127', 2)`,
		`INSERT INTO cases (number, version, project_id, description, channel, received_at, received_by, category, subcategory,
			urgency, responsibility, state, reporter_platform, reporter_user_id, created_at, updated_at)
		VALUES ('SH-20261127-0001', 1, 1, '电话报修', 'hotline', ` + ts + `, 'staff:7', 'engineering_quality', 'leak',
			'normal', 'undetermined', 'registered', '', '', ` + ts + `, ` + ts + `),
		       ('SH-20261127-0002', 1, 1, '机器人报修', 'telegram', ` + ts + `, 'bot', 'engineering_quality', 'leak',
			'normal', 'undetermined', 'registered', 'telegram', 'owner', ` + ts + `, ` + ts + `)`,
	} {
		_, err := db.write.ExecContext(ctx, testclock.Text(q))
		require.NoError(t, err, q)
	}
	require.NoError(t, db.Migrate(ctx))

	owner, err := db.FindChatIdentity(ctx, "telegram", "owner")
	require.NoError(t, err)
	require.Zero(t, owner.OwnerID, "a typed phone proved nothing")
	require.Equal(t, int64(1), owner.UnitID)
	require.False(t, owner.Verified())
	require.Equal(t, testclock.Text("2026-11-27T01:30:00.123456Z"), owner.UpdatedAt.Format(timeFormat), "a migration reads no clock")
	engineer, err := db.FindChatIdentity(ctx, "telegram", "engineer")
	require.NoError(t, err)
	require.Zero(t, engineer.OwnerID, "an owner binding never proven, on an engineer's account too")
	require.Equal(t, int64(1), engineer.MemberID)

	staff, err := db.FindCaseByNumber(ctx, testclock.Text("SH-20261127-0001"))
	require.NoError(t, err)
	require.True(t, staff.IdentityVerified)
	bot, err := db.FindCaseByNumber(ctx, testclock.Text("SH-20261127-0002"))
	require.NoError(t, err)
	require.False(t, bot.IdentityVerified)
	require.Zero(t, bot.OwnerID)
}

func TestSetJobQueue(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, filepath.Join(t.TempDir(), "a.db"), Options{})
	p := &casework.Project{Code: "P", Name: "p"}
	require.NoError(t, db.CreateProject(ctx, p))
	c := &casework.Case{ProjectID: p.ID, Description: "d", Channel: casework.ChannelWeb, ReceivedBy: casework.ActorBot, Category: casework.CategoryOther}
	m := &casework.OutboxMessage{Platform: "web", UserID: "v1", Purpose: "owner_update"}
	eff := casework.Effects{Messages: []*casework.OutboxMessage{m}}
	require.ErrorIs(t, db.CreateCaseWith(ctx, c, eff), ErrNoJobQueue)

	jobs := &storagetest.JobRecorder{}
	db.SetJobQueue(recordingQueue{jobs})
	require.NoError(t, db.CreateCaseWith(ctx, c, eff))
	got, calls := jobs.Take()
	require.Equal(t, 1, calls)
	require.Equal(t, []casework.Job{{Kind: casework.JobDeliver, OutboxID: m.ID}}, got)
	require.Equal(t, c.ID, m.CaseID)

	// The writer pool is the one connection the store writes through.
	require.Same(t, db.write, db.WriteDB())
	require.Equal(t, 1, db.WriteDB().Stats().MaxOpenConnections)
}

func BenchmarkStore(b *testing.B) {
	storagetest.Bench(b, openTemp)
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()

	// The parent is a file, so the directory can't be made.
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	_, err := Open(ctx, filepath.Join(file, "sub", "a.db"), Options{NowFunc: storagetest.Now})
	require.ErrorContains(t, err, "open sqlite database")

	// A directory where the file should be.
	_, err = Open(ctx, dir, Options{NowFunc: storagetest.Now})
	require.ErrorContains(t, err, "open sqlite database")

	// A file that is not a database.
	notDB := filepath.Join(dir, "not.db")
	require.NoError(t, os.WriteFile(notDB, []byte(strings.Repeat("not a database ", 100)), 0o600))
	_, err = Open(ctx, notDB, Options{NowFunc: storagetest.Now})
	require.ErrorContains(t, err, "open sqlite database")

	for _, p := range []string{"", "a.db?mode=ro", "file:a.db"} {
		_, err = Open(ctx, p, Options{NowFunc: storagetest.Now})
		require.Error(t, err, p)
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data", "nested", "aftersales.db")
	db := mustOpen(t, path, Options{})
	require.NoError(t, db.Ping(t.Context()))
	_, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, path, db.Path())

	var mode string
	require.NoError(t, db.read.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode))
	require.Equal(t, "wal", mode)
	var fk, sync int
	require.NoError(t, db.write.QueryRowContext(t.Context(), "PRAGMA foreign_keys").Scan(&fk))
	require.Equal(t, 1, fk)
	require.NoError(t, db.write.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&sync))
	require.Equal(t, 1, sync, "NORMAL")
	_, err = db.read.ExecContext(t.Context(), "DELETE FROM projects")
	require.Error(t, err, "the read pool is read-only")
}

func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, filepath.Join(t.TempDir(), "a.db"), Options{})
	require.NoError(t, db.Migrate(ctx), "a second run changes nothing")

	ms, err := migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	var versions []int
	rows, err := db.read.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	require.Len(t, versions, len(ms))
	for i, m := range ms {
		require.Equal(t, m.version, versions[i])
	}

	// A database from a newer build is refused.
	_, err = db.write.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, '2030-01-01T00:00:00.000000Z')", len(ms)+1)
	require.NoError(t, err)
	require.ErrorContains(t, db.Migrate(ctx), "newer than this build")
}

// TestSchemaChecksMatchDomain keeps the CHECK constraints of the migrations
// in step with the casework enumerations: every value of the domain is
// listed, and bad values are refused by the database itself.
func TestSchemaChecksMatchDomain(t *testing.T) {
	t.Parallel()
	ms, err := migrations()
	require.NoError(t, err)
	var schema strings.Builder
	for _, m := range ms {
		schema.WriteString(m.sql)
	}
	quoted := regexp.MustCompile(`'([a-z_]+)'`)
	listed := map[string]bool{}
	for _, m := range quoted.FindAllStringSubmatch(schema.String(), -1) {
		listed[m[1]] = true
	}
	var values []string
	add := func(vs ...string) { values = append(values, vs...) }
	for _, v := range casework.States {
		add(string(v))
	}
	for _, v := range casework.Actions {
		add(string(v))
	}
	for _, v := range casework.Categories {
		add(string(v))
		for _, s := range casework.Subcategories[v] {
			add(string(s))
		}
	}
	for _, v := range casework.Urgencies {
		add(string(v))
	}
	for _, v := range casework.Responsibilities {
		add(string(v))
	}
	for _, v := range casework.Channels {
		add(string(v))
	}
	for _, v := range casework.Locations {
		add(string(v))
	}
	for _, v := range casework.PartyKinds {
		add(string(v))
	}
	for _, v := range casework.MediaKinds {
		add(string(v))
	}
	for _, v := range casework.EventKinds {
		add(string(v))
	}
	for _, v := range []casework.WarrantyStatus{casework.WarrantyIn, casework.WarrantyOut, casework.WarrantyUnknown, casework.WarrantyNone} {
		add(string(v))
	}
	for _, v := range []casework.OutboxStatus{casework.OutboxPending, casework.OutboxSent, casework.OutboxFailed} {
		add(string(v))
	}
	for _, v := range staff.Roles {
		add(string(v))
	}
	add(string(staff.KindPerson), string(staff.KindService))
	for _, v := range values {
		assert.True(t, listed[v], "%q is not listed in a CHECK constraint", v)
	}

	db := mustOpen(t, filepath.Join(t.TempDir(), "a.db"), Options{})
	ctx := t.Context()
	_, err = db.write.ExecContext(ctx, `INSERT INTO parties (code, name, kind, created_at, updated_at) VALUES ('X', 'x', 'builder', '', '')`)
	require.Error(t, err, "unknown party kind")
	_, err = db.write.ExecContext(ctx, `INSERT INTO projects (code, name, warranty, created_at, updated_at) VALUES ('X', 'x', 'not json', '', '')`)
	require.Error(t, err, "warranty terms that are not JSON")
	_, err = db.write.ExecContext(ctx, `INSERT INTO projects (code, name, completion_date, created_at, updated_at) VALUES ('X', 'x', '30/06/2024', '', '')`)
	require.Error(t, err, "a date in another format")

	// A valid case, then each enumeration column set to a bad value.
	s := casework.Store(db)
	p := &casework.Project{Code: "P", Name: "p"}
	require.NoError(t, s.CreateProject(ctx, p))
	c := &casework.Case{ProjectID: p.ID, Description: "d", Channel: casework.ChannelWeb, ReceivedBy: casework.ActorBot, Category: casework.CategoryOther}
	require.NoError(t, s.CreateCase(ctx, c))
	for _, col := range []string{"state", "held_from", "channel", "category", "subcategory", "urgency", "responsibility", "location", "warranty_status"} {
		_, err := db.write.ExecContext(ctx, "UPDATE cases SET "+col+" = 'bogus' WHERE id = ?", c.ID)
		require.Error(t, err, col)
	}
	_, err = db.write.ExecContext(ctx, "UPDATE cases SET state = 'on_hold' WHERE id = ?", c.ID)
	require.Error(t, err, "on hold without a state to resume")
	_, err = db.write.ExecContext(ctx, "UPDATE cases SET unit_id = 999999 WHERE id = ?", c.ID)
	require.Error(t, err, "foreign keys are enforced")
	for _, set := range []string{"warranty_until = '2024/06/30'", "reporter_platform = 'telegram'", "proposed_slots = 'not json'",
		"proposed_slots = '{}'", "plan = 'not json'", "survey_speed = 6", "survey_speed = 4", "parent_id = 999999", "identity_verified = 2",
		"intake_key = ''"} {
		_, err := db.write.ExecContext(ctx, "UPDATE cases SET "+set+" WHERE id = ?", c.ID)
		require.Error(t, err, set)
	}
	_, err = db.write.ExecContext(ctx, "INSERT INTO outbox (platform, user_id, payload, status, created_at) VALUES ('telegram', '1', x'', 'lost', '')")
	require.Error(t, err, "unknown outbox status")
	_, err = db.write.ExecContext(ctx, "INSERT INTO outbox (platform, user_id, payload, status, created_at) VALUES ('telegram', '1', x'', 'sent', '')")
	require.Error(t, err, "sent without sent_at")
	for _, col := range []string{"kind", "action", "from_state", "to_state"} {
		_, err := db.write.ExecContext(ctx, "UPDATE case_events SET "+col+" = 'bogus' WHERE case_id = ?", c.ID)
		require.Error(t, err, col)
	}
	for _, vs := range []string{"'x', 'bogus', 'person', NULL, 0", "'x', 'agent', 'bogus', NULL, 0", "'x', 'party', 'person', NULL, 0",
		"'x', 'agent', 'person', NULL, 2", "'', 'agent', 'person', NULL, 0"} {
		_, err := db.write.ExecContext(ctx, "INSERT INTO staff_users (username, role, kind, party_id, disabled, created_at, updated_at) VALUES ("+vs+", '', '')")
		require.Error(t, err, "staff user %s", vs)
	}
}
