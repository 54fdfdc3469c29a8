package postgres

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/pgtest"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/staff"
	"github.com/aftersales/aftersales/storage/storagetest"
)

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1; the error comes at once, or after the
	// connect timeout at worst.
	start := time.Now()
	db, err := Open(t.Context(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", Options{NowFunc: storagetest.Now})
	require.Error(t, err)
	require.Nil(t, db)
	assert.Contains(t, err.Error(), "127.0.0.1:1/test")
	assert.Less(t, time.Since(start), 5*time.Second)

	_, err = Open(t.Context(), "postgres://u:secret@127.0.0.1:5432/test?sslmode=bogus", Options{NowFunc: storagetest.Now})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret", "the password is not in the error")

	// A server that accepts the connection and never answers: the connect
	// timeout, or a context that ends first, ends the wait.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	silent := "postgres://postgres@" + ln.Addr().String() + "/test?sslmode=disable"
	start = time.Now()
	_, err = Open(t.Context(), silent+"&connect_timeout=1", Options{NowFunc: storagetest.Now})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 4*time.Second)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = Open(ctx, silent, Options{NowFunc: storagetest.Now})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewSchema(t)
	ms, err := migrations()
	require.NoError(t, err)
	require.Equal(t, "0001_init", ms[0].name)

	// Several instances starting together each apply nothing twice.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		db := mustOpen(t, dbURL, Options{MaxConns: 2})
		wg.Go(func() { errs[i] = db.Migrate(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	db := mustOpen(t, dbURL, Options{MaxConns: 2})
	require.NoError(t, db.Migrate(t.Context()), "idempotent")

	rows, err := db.pool.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	require.NoError(t, err)
	versions, err := collect(rows, err, func(s scanner) (v int, err error) { return v, s.Scan(&v) })
	require.NoError(t, err)
	want := make([]int, len(ms))
	for i, m := range ms {
		want[i] = m.version
	}
	require.Equal(t, want, versions)
}

// TestSchemaChecksMatchDomain checks that the CHECK constraints on enum
// columns list exactly the values the casework package defines.
func TestSchemaChecksMatchDomain(t *testing.T) {
	t.Parallel()
	db, _ := openTestDB(t, Options{})
	strs := func(vs ...[]string) []string { return slices.Concat(vs...) }
	states := toStrings(casework.States)
	checks := map[string][]string{
		"parties_kind_check":           toStrings(casework.PartyKinds),
		"routes_category_check":        strs([]string{""}, toStrings(casework.Categories)),
		"routes_subcategory_check":     strs([]string{""}, allSubcategories()),
		"cases_location_check":         strs([]string{""}, toStrings(casework.Locations)),
		"cases_channel_check":          toStrings(casework.Channels),
		"cases_category_check":         toStrings(casework.Categories),
		"cases_subcategory_check":      allSubcategories(),
		"cases_urgency_check":          toStrings(casework.Urgencies),
		"cases_responsibility_check":   toStrings(casework.Responsibilities),
		"cases_state_check":            states,
		"cases_held_from_check":        strs([]string{""}, slices.DeleteFunc(slices.Clone(states), func(s string) bool { return s == "on_hold" })),
		"case_media_kind_check":        {"photo", "video", "voice", "document"},
		"case_events_kind_check":       toStrings(casework.EventKinds),
		"cases_warranty_status_check":  toStrings([]casework.WarrantyStatus{casework.WarrantyIn, casework.WarrantyOut, casework.WarrantyUnknown, casework.WarrantyNone}),
		"outbox_status_check":          toStrings([]casework.OutboxStatus{casework.OutboxPending, casework.OutboxSent, casework.OutboxFailed}),
		"case_events_action_check":     strs([]string{""}, toStrings(casework.Actions)),
		"case_events_from_state_check": strs([]string{""}, states),
		"case_events_to_state_check":   strs([]string{""}, states),
		"staff_users_role_check":       toStrings(staff.Roles),
		"staff_users_kind_check":       toStrings([]staff.Kind{staff.KindPerson, staff.KindService}),
	}
	for name, want := range checks {
		var def string
		err := db.pool.QueryRow(t.Context(), `SELECT pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conname = $1 AND connamespace = current_schema()::regnamespace`, name).Scan(&def)
		require.NoError(t, err, name)
		// pg_get_constraintdef writes IN (…) as = ANY (ARRAY['a'::text, …]).
		var got []string
		for part := range strings.SplitSeq(def, "'") {
			got = append(got, part)
		}
		var values []string
		for i := 1; i < len(got); i += 2 {
			values = append(values, got[i])
		}
		slices.Sort(values)
		w := slices.Clone(want)
		slices.Sort(w)
		w = slices.Compact(w)
		require.Equal(t, w, values, "%s: %s", name, def)
	}
}

func toStrings[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func allSubcategories() []string {
	var out []string
	for _, subs := range casework.Subcategories {
		out = append(out, toStrings(subs)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// registryFixture stores a project with a building and returns the project.
func registryFixture(t *testing.T, db *DB) *casework.Project {
	t.Helper()
	p := &casework.Project{Code: "HJY", Name: "海景苑"}
	require.NoError(t, db.CreateProject(t.Context(), p))
	return p
}

func newTestCase(projectID int64, receivedAt time.Time) *casework.Case {
	return &casework.Case{
		ProjectID: projectID, Description: "卫生间天花板渗水", Channel: casework.ChannelWeChat,
		ReceivedAt: receivedAt, ReceivedBy: casework.ActorBot,
		Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubLeak,
	}
}

// TestCaseNumbersAcrossInstances creates cases concurrently through two DBs
// on one database, as two instances of the service would: every number is
// used once, with no gap.
func TestCaseNumbersAcrossInstances(t *testing.T) {
	t.Parallel()
	db1, dbURL := openTestDB(t, Options{})
	db2 := mustOpen(t, dbURL, Options{MaxConns: 4})
	p := registryFixture(t, db1)
	day := testclock.Date(2026, 11, 27, 10, 0, 0, 0, casework.ChinaTime())

	const writers, each = 8, 10
	numbers := make(chan string, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		db := db1
		if w%2 == 1 {
			db = db2
		}
		wg.Go(func() {
			for i := range each {
				c := newTestCase(p.ID, day.Add(time.Duration(i)*time.Minute))
				if !assert.NoError(t, db.CreateCase(t.Context(), c)) {
					return
				}
				numbers <- c.Number
			}
		})
	}
	wg.Wait()
	close(numbers)
	var got []string
	for n := range numbers {
		got = append(got, n)
	}
	slices.Sort(got)
	want := make([]string, writers*each)
	for i := range want {
		want[i] = testclock.Text(fmt.Sprintf("SH-20261127-%04d", i+1))
	}
	require.Equal(t, want, got)
}

// TestNumberSQLMatchesFormat checks that numberSQL, which numbers cases
// inside the database, writes what casework.Numbering.Format writes.
func TestNumberSQLMatchesFormat(t *testing.T) {
	t.Parallel()
	db, _ := openTestDB(t, Options{})
	n := casework.DefaultNumbering()
	day := n.Day(testclock.Date(2026, 11, 27, 10, 0, 0, 0, casework.ChinaTime()))
	for _, seq := range []int64{1, 42, 999, 9999, 10000, 123456} {
		var got string
		err := db.pool.QueryRow(t.Context(), `SELECT `+numberSQL+` FROM (SELECT $2::bigint AS last) AS counter`, day, seq).Scan(&got)
		require.NoError(t, err)
		require.Equal(t, n.Format(day, seq), got)
	}
}

// TestFindCasesTextLiteral checks that LIKE's wildcards and escape match
// themselves, and that Chinese text and case-folded Latin letters match.
func TestFindCasesTextLiteral(t *testing.T) {
	t.Parallel()
	db, _ := openTestDB(t, Options{})
	p := registryFixture(t, db)
	descs := []string{`漏水 100% 严重`, `漏水 100 严重`, `a_b`, `axb`, `back\slash`, `Window Frame`}
	ids := map[string]int64{}
	for i, d := range descs {
		c := newTestCase(p.ID, testclock.Date(2026, 11, 27, 10, i, 0, 0, time.UTC))
		c.Description = d
		require.NoError(t, db.CreateCase(t.Context(), c))
		ids[d] = c.ID
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"100%", []string{`漏水 100% 严重`}},
		{"a_b", []string{`a_b`}},
		{`k\s`, []string{`back\slash`}},
		{"漏水", []string{`漏水 100 严重`, `漏水 100% 严重`}},
		{"window frame", []string{`Window Frame`}},
		{"%", []string{`漏水 100% 严重`}},
	} {
		cs, n, err := db.FindCases(t.Context(), casework.CaseFilter{Text: tc.text})
		require.NoError(t, err)
		var got []int64
		for _, c := range cs {
			got = append(got, c.ID)
		}
		var want []int64
		for _, d := range tc.want {
			want = append(want, ids[d])
		}
		require.Equal(t, want, got, "text %q", tc.text)
		require.Equal(t, len(want), n)
	}
}
