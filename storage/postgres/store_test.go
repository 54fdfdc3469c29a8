package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/pgtest"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/storage/storagetest"
)

// TestStore runs the conformance suite; every subtest gets its own schema.
func TestStore(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, storagetest.Harness{
		Open: func(t testing.TB) casework.Store {
			db, _ := openTestDB(t, Options{})
			return db
		},
		OpenFailing: func(t testing.TB, err error) (failing, normal casework.Store) {
			db, dbURL := openTestDB(t, Options{})
			return mustOpen(t, dbURL, Options{MaxConns: 4, failAfterCaseWrite: err}), db
		},
		OpenLifecycle: func(t testing.TB, jobs *storagetest.JobRecorder) storagetest.LifecycleStore {
			db, _ := openTestDB(t, Options{})
			if jobs != nil {
				db.SetJobQueue(recordingQueue{jobs})
			}
			return db
		},
		OpenMigrated:    openMigrated,
		DeleteStaffUser: deleteStaffUser,
	})
}

// recordingQueue hands the jobs of a write to a storagetest.JobRecorder,
// which checks that their outbox messages are in the write's transaction.
type recordingQueue struct{ r *storagetest.JobRecorder }

func (q recordingQueue) InsertJobsTx(ctx context.Context, tx pgx.Tx, jobs []casework.Job) error {
	return q.r.Insert(jobs, func(id int64) (ok bool, err error) {
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)`, id).Scan(&ok)
		return ok, err
	})
}

// openMigrated writes a case under migrations 0001 and 0002 only, as a
// database of an earlier release holds it, then migrates to the latest (see
// storagetest.Harness.OpenMigrated).
func openMigrated(t testing.TB) (casework.Store, string) {
	t.Helper()
	ctx := context.Background()
	_, dbURL := pgtest.NewSchema(t)
	db := mustOpen(t, dbURL, Options{MaxConns: 4})
	if err := db.migrate(ctx, 2); err != nil {
		t.Fatalf("migrate to 0002: %v", err)
	}
	const ts = "2026-11-27T01:30:00.123456Z"
	for _, q := range []string{
		`INSERT INTO projects (code, name, created_at, updated_at) VALUES ('OLD', '旧项目', '` + ts + `', '` + ts + `')`,
		`INSERT INTO case_counters (day, last) VALUES ('SH-20261127', 1)`,
		`INSERT INTO cases (number, version, project_id, description, channel, received_at, received_by, category, subcategory,
			urgency, responsibility, state, respond_by, created_at, updated_at, last_event_seq)
		VALUES ('SH-20261127-0001', 1, (SELECT id FROM projects WHERE code = 'OLD'), '卫生间漏水', 'wechat', '` + ts + `', 'bot',
			'engineering_quality', 'leak', 'normal', 'undetermined', 'registered', '2026-11-28T01:30:00.123456Z', '` + ts + `', '` + ts + `', 1)`,
		`INSERT INTO case_events (case_id, seq, at, actor, kind, to_state)
		VALUES ((SELECT id FROM cases WHERE number = 'SH-20261127-0001'), 1, '` + ts + `', 'bot', 'created', 'registered')`,
	} {
		if _, err := db.pool.Exec(ctx, testclock.Text(q)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db, testclock.Text("SH-20261127-0001")
}

// TestMigrateIdentity checks what 0004 does to what 0003 held: an owner's
// chat account bound by a typed phone loses its owner and keeps its unit; an
// engineer's keeps its member but no owner; a case staff typed in is verified, the bot's
// is not.
func TestMigrateIdentity(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, dbURL := pgtest.NewSchema(t)
	db := mustOpen(t, dbURL, Options{MaxConns: 2})
	require.NoError(t, db.migrate(ctx, 3))
	const ts = "'2026-11-27T01:30:00.123456Z'"
	for _, q := range []string{
		`INSERT INTO projects (code, name, created_at, updated_at) VALUES ('P', 'p', ` + ts + `, ` + ts + `)`,
		`INSERT INTO buildings (project_id, code, created_at, updated_at) SELECT id, '1', ` + ts + `, ` + ts + ` FROM projects`,
		`INSERT INTO units (project_id, building_id, building, room, created_at, updated_at)
		SELECT project_id, id, '1', '101', ` + ts + `, ` + ts + ` FROM buildings`,
		`INSERT INTO owners (name, phone, created_at, updated_at) VALUES ('张三', '13812345678', ` + ts + `, ` + ts + `)`,
		`INSERT INTO parties (code, name, kind, created_at, updated_at) VALUES ('FS', 'f', 'contractor', ` + ts + `, ` + ts + `)`,
		`INSERT INTO members (party_id, name, phone, created_at, updated_at) SELECT id, '王工', '13700002222', ` + ts + `, ` + ts + ` FROM parties`,
		`INSERT INTO chat_identities (platform, user_id, owner_id, unit_id, created_at, updated_at)
		SELECT 'telegram', 'owner', (SELECT id FROM owners), (SELECT id FROM units), ` + ts + `, ` + ts,
		`INSERT INTO chat_identities (platform, user_id, owner_id, member_id, created_at, updated_at)
		SELECT 'telegram', 'engineer', (SELECT id FROM owners), (SELECT id FROM members), ` + ts + `, ` + ts,
		`INSERT INTO case_counters (day, last) VALUES ('SH-20261127', 2)`,
		`INSERT INTO cases (number, version, project_id, description, channel, received_at, received_by, category, subcategory,
			urgency, responsibility, state, reporter_platform, reporter_user_id, created_at, updated_at)
		SELECT v.number, 1, p.id, v.description, v.channel, ` + ts + `, v.received_by, 'engineering_quality', 'leak',
			'normal', 'undetermined', 'registered', v.platform, v.user_id, ` + ts + `, ` + ts + `
		FROM projects p, (VALUES ('SH-20261127-0001', '电话报修', 'hotline', 'staff:7', '', ''),
			('SH-20261127-0002', '机器人报修', 'telegram', 'bot', 'telegram', 'owner')) AS v (number, description, channel, received_by, platform, user_id)`,
	} {
		_, err := db.pool.Exec(ctx, testclock.Text(q))
		require.NoError(t, err, q)
	}
	require.NoError(t, db.Migrate(ctx))

	var ownerID, unitID, memberID int64
	require.NoError(t, db.pool.QueryRow(ctx, `SELECT (SELECT id FROM owners), (SELECT id FROM units), (SELECT id FROM members)`).Scan(&ownerID, &unitID, &memberID))
	owner, err := db.FindChatIdentity(ctx, "telegram", "owner")
	require.NoError(t, err)
	require.Zero(t, owner.OwnerID, "a typed phone proved nothing")
	require.Equal(t, unitID, owner.UnitID)
	require.False(t, owner.Verified())
	require.True(t, testclock.Date(2026, 11, 27, 1, 30, 0, 123456000, time.UTC).Equal(owner.UpdatedAt), "a migration reads no clock: %s", owner.UpdatedAt)
	engineer, err := db.FindChatIdentity(ctx, "telegram", "engineer")
	require.NoError(t, err)
	require.Zero(t, engineer.OwnerID, "an owner binding never proven, on an engineer's account too")
	require.Equal(t, memberID, engineer.MemberID)

	staff, err := db.FindCaseByNumber(ctx, testclock.Text("SH-20261127-0001"))
	require.NoError(t, err)
	require.True(t, staff.IdentityVerified)
	bot, err := db.FindCaseByNumber(ctx, testclock.Text("SH-20261127-0002"))
	require.NoError(t, err)
	require.False(t, bot.IdentityVerified)
	require.Zero(t, bot.OwnerID)
}

func TestJobQueueOptions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	jobs := &storagetest.JobRecorder{}
	db, dbURL := openTestDB(t, Options{})
	withJobs := mustOpen(t, dbURL, Options{MaxConns: 2, Jobs: recordingQueue{jobs}})
	p := registryFixture(t, db)
	c := newTestCase(p.ID, testclock.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	m := &casework.OutboxMessage{Platform: "web", UserID: "v1", Purpose: "owner_update"}
	eff := casework.Effects{Messages: []*casework.OutboxMessage{m}}
	require.ErrorIs(t, db.CreateCaseWith(ctx, c, eff), ErrNoJobQueue)
	require.Zero(t, m.ID)

	require.NoError(t, withJobs.CreateCaseWith(ctx, c, eff))
	got, calls := jobs.Take()
	require.Equal(t, 1, calls)
	require.Equal(t, []casework.Job{{Kind: casework.JobDeliver, OutboxID: m.ID}}, got)
	require.Equal(t, c.ID, m.CaseID)
	require.Same(t, withJobs.pool, withJobs.Pool())
}

// BenchmarkStore measures the backend with the suite's workload:
//
//	go test ./storage/postgres/ -run xxx -bench . -benchtime 3s
func BenchmarkStore(b *testing.B) {
	storagetest.Bench(b, func(b testing.TB) casework.Store {
		db, _ := openTestDB(b, Options{MaxConns: -1})
		return db
	})
}
