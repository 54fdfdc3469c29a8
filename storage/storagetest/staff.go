package storagetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/staff"
)

// createUser stores a person's account of role with the username and fails
// the test on error.
func createUser(t testing.TB, ss staff.Store, username string, role staff.Role, mutate func(u *staff.User)) *staff.User {
	t.Helper()
	u := &staff.User{Username: username, Role: role, Kind: staff.KindPerson, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"}
	if mutate != nil {
		mutate(u)
	}
	require.NoError(t, ss.CreateUser(t.Context(), u), username)
	return u
}

// requireUser checks that the store holds want, as FindUser and
// FindUserByName return it.
func requireUser(t testing.TB, ss staff.Store, want *staff.User) {
	t.Helper()
	got, err := ss.FindUser(t.Context(), want.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = ss.FindUserByName(t.Context(), want.Username)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func testStaffUsers(t *testing.T, h Harness) {
	s, ss := openAs[staff.Store](t, h)
	ctx := t.Context()
	f := newFixture(t, s)

	_, err := ss.FindUser(ctx, 999999)
	requireErrNotFound(t, err)
	_, err = ss.FindUserByName(ctx, "zhangwei")
	requireErrNotFound(t, err)
	users, err := ss.ListUsers(ctx)
	require.NoError(t, err)
	require.Empty(t, users)

	// Projects are kept sorted, without repeats, however given; the
	// timestamps are the store's now.
	before := Now()
	agent := createUser(t, ss, "zhangwei", staff.RoleAgent, func(u *staff.User) {
		u.DisplayName = "张伟"
		u.ProjectIDs = []int64{f.project2.ID, f.project.ID, f.project2.ID}
	})
	require.NotZero(t, agent.ID)
	requireUTC(t, agent.CreatedAt, "CreatedAt")
	require.False(t, agent.CreatedAt.Before(wantMicroUTC(before)), "CreatedAt is the store's now")
	require.Equal(t, agent.CreatedAt, agent.UpdatedAt)
	require.Equal(t, slices.Sorted(slices.Values([]int64{f.project.ID, f.project2.ID})), agent.ProjectIDs)
	requireUser(t, ss, agent)

	admin := createUser(t, ss, "admin", staff.RoleAdmin, func(u *staff.User) { u.ProjectIDs = []int64{} })
	require.Nil(t, admin.ProjectIDs, "no projects: every project")
	requireUser(t, ss, admin)
	// A party account names a party that exists.
	manager := createUser(t, ss, "fs01", staff.RoleParty, func(u *staff.User) { u.PartyID = f.party.ID })
	requireUser(t, ss, manager)
	robot := createUser(t, ss, "erp-sync", staff.RoleAgent, func(u *staff.User) { u.Kind = staff.KindService })
	requireUser(t, ss, robot)
	require.Less(t, admin.ID, robot.ID)

	// Refused, storing nothing.
	requireConflict(t, ss.CreateUser(ctx, &staff.User{Username: "zhangwei", Role: staff.RoleAdmin, Kind: staff.KindPerson}), "a taken username")
	requireInvalid(t, ss.CreateUser(ctx, &staff.User{Username: "ghost", Role: staff.RoleParty, Kind: staff.KindPerson, PartyID: 999999}), "party")
	requireInvalid(t, ss.CreateUser(ctx, &staff.User{Username: "ghost", Role: staff.RoleAgent, Kind: staff.KindPerson,
		ProjectIDs: []int64{f.project.ID, 999999}}), "project")
	requireInvalid(t, ss.CreateUser(ctx, &staff.User{Username: "Ghost", Role: staff.RoleAgent, Kind: staff.KindPerson}), "username")
	requireInvalid(t, ss.CreateUser(ctx, &staff.User{Username: "ghost", Role: "owner", Kind: staff.KindPerson}), "role")
	_, err = ss.FindUserByName(ctx, "ghost")
	requireErrNotFound(t, err, "a refused account is not stored")

	users, err = ss.ListUsers(ctx)
	require.NoError(t, err)
	require.Equal(t, []*staff.User{admin, robot, manager, agent}, users, "by username")

	// Every field but the username is saved.
	upd := *agent
	upd.Username, upd.DisplayName, upd.Role = "lihua", "张伟 (主管)", staff.RoleSupervisor
	upd.ProjectIDs, upd.PasswordHash, upd.Disabled = []int64{f.project2.ID}, "$argon2id$new", true
	require.NoError(t, ss.UpdateUser(ctx, &upd))
	require.Equal(t, "zhangwei", upd.Username, "the username stays")
	require.Equal(t, agent.CreatedAt, upd.CreatedAt)
	requireUTC(t, upd.UpdatedAt, "UpdatedAt")
	require.False(t, upd.UpdatedAt.Before(agent.UpdatedAt))
	require.Equal(t, []int64{f.project2.ID}, upd.ProjectIDs)
	requireUser(t, ss, &upd)

	// A refused update changes nothing, projects included.
	bad := upd
	bad.ProjectIDs = []int64{f.project.ID, 999999}
	requireInvalid(t, ss.UpdateUser(ctx, &bad), "project")
	requireUser(t, ss, &upd)
	requireInvalid(t, ss.UpdateUser(ctx, &staff.User{ID: manager.ID, Username: "fs01", Role: staff.RoleParty, Kind: staff.KindPerson, PartyID: 999999}), "party")
	requireUser(t, ss, manager)

	// Scoped to every project again, and enabled.
	upd.ProjectIDs, upd.Disabled = nil, false
	require.NoError(t, ss.UpdateUser(ctx, &upd))
	requireUser(t, ss, &upd)
	// Another party.
	manager.PartyID = f.party2.ID
	require.NoError(t, ss.UpdateUser(ctx, manager))
	requireUser(t, ss, manager)

	requireErrNotFound(t, ss.UpdateUser(ctx, &staff.User{ID: 999999, Username: "nobody", Role: staff.RoleAgent, Kind: staff.KindPerson}))
}

func testStaffSessions(t *testing.T, h Harness) {
	_, ss := openAs[staff.Store](t, h)
	ctx := t.Context()
	a := createUser(t, ss, "zhangwei", staff.RoleAgent, nil)
	b := createUser(t, ss, "lihua", staff.RoleSupervisor, nil)

	_, err := ss.FindSession(ctx, "unknown")
	requireErrNotFound(t, err)

	// Times are kept as given, to the microsecond, in UTC.
	newSession := func(user *staff.User, hash string, start time.Time) *staff.Session {
		t.Helper()
		s := &staff.Session{TokenHash: hash, UserID: user.ID, CreatedAt: start, LastSeenAt: start,
			ExpiresAt: start.Add(12 * time.Hour), IP: "203.0.113.7", UserAgent: "Mozilla/5.0"}
		require.NoError(t, ss.CreateSession(ctx, s))
		require.NotZero(t, s.ID)
		return s
	}
	a1 := newSession(a, "hash-a1", at(time.Hour+7))
	requireStoredTime(t, at(time.Hour+7), a1.CreatedAt, "CreatedAt")
	requireStoredTime(t, at(13*time.Hour+7), a1.ExpiresAt, "ExpiresAt")
	got, err := ss.FindSession(ctx, "hash-a1")
	require.NoError(t, err)
	require.Equal(t, a1, got)
	a2 := newSession(a, "hash-a2", at(2*time.Hour))
	b1 := newSession(b, "hash-b1", at(2*time.Hour))

	requireConflict(t, ss.CreateSession(ctx, &staff.Session{TokenHash: "hash-a1", UserID: b.ID, ExpiresAt: at(time.Hour)}), "a token hash stored already")
	requireErrNotFound(t, ss.CreateSession(ctx, &staff.Session{TokenHash: "hash-x", UserID: 999999, ExpiresAt: at(time.Hour)}), "an unknown user")
	requireInvalid(t, ss.CreateSession(ctx, &staff.Session{UserID: a.ID, ExpiresAt: at(time.Hour)}), "token_hash")

	require.NoError(t, ss.TouchSession(ctx, a1.ID, at(3*time.Hour+9)))
	got, err = ss.FindSession(ctx, "hash-a1")
	require.NoError(t, err)
	requireStoredTime(t, at(3*time.Hour+9), got.LastSeenAt, "LastSeenAt")
	a1.LastSeenAt = got.LastSeenAt
	require.Equal(t, a1, got, "touching changes LastSeenAt only")
	requireErrNotFound(t, ss.TouchSession(ctx, 999999, at(time.Hour)))

	require.NoError(t, ss.DeleteSession(ctx, a1.ID))
	_, err = ss.FindSession(ctx, "hash-a1")
	requireErrNotFound(t, err)
	require.NoError(t, ss.DeleteSession(ctx, a1.ID), "deleting what is not there")
	requireErrNotFound(t, ss.TouchSession(ctx, a1.ID, at(4*time.Hour)), "an ended session")

	a3 := newSession(a, "hash-a3", at(3*time.Hour))
	require.NoError(t, ss.DeleteUserSessions(ctx, a.ID))
	for _, s := range []*staff.Session{a2, a3} {
		_, err = ss.FindSession(ctx, s.TokenHash)
		requireErrNotFound(t, err, s.TokenHash)
	}
	got, err = ss.FindSession(ctx, "hash-b1")
	require.NoError(t, err)
	require.Equal(t, b1, got, "another user's session stays")
	require.NoError(t, ss.DeleteUserSessions(ctx, a.ID), "a user without sessions")
	require.NoError(t, ss.DeleteUserSessions(ctx, 999999), "an unknown user")
}

func testStaffAudit(t *testing.T, h Harness) {
	_, ss := openAs[staff.Store](t, h)
	ctx := t.Context()
	a := createUser(t, ss, "zhangwei", staff.RoleAgent, nil)
	b := createUser(t, ss, "lihua", staff.RoleAdmin, nil)

	entries, err := ss.ListAudit(ctx, staff.AuditFilter{})
	require.NoError(t, err)
	require.Empty(t, entries)

	add := func(e *staff.AuditEntry) *staff.AuditEntry {
		t.Helper()
		require.NoError(t, ss.AddAudit(ctx, e))
		require.NotZero(t, e.ID)
		return e
	}
	e1 := add(&staff.AuditEntry{At: at(time.Minute + 7), UserID: a.ID, Actor: a.Actor(), Action: "login", IP: "203.0.113.7"})
	requireStoredTime(t, at(time.Minute+7), e1.At, "At")
	e2 := add(&staff.AuditEntry{At: at(2 * time.Minute), Actor: "ghost", Action: "login_failed", Detail: "no such account", IP: "198.51.100.2"})
	e3 := add(&staff.AuditEntry{At: at(3 * time.Minute), UserID: a.ID, Actor: a.Actor(), Action: "case_view", Subject: "SH-20261127-0001"})
	e4 := add(&staff.AuditEntry{At: at(4 * time.Minute), UserID: b.ID, Actor: b.Actor(), Action: "phone_view", Subject: "owner:12"})
	e5 := add(&staff.AuditEntry{At: at(5 * time.Minute), UserID: a.ID, Actor: a.Actor(), Action: "phone_view", Subject: "owner:12"})
	e6 := add(&staff.AuditEntry{At: at(6 * time.Minute), UserID: b.ID, Actor: b.Actor(), Action: "user_disable", Subject: "user:zhangwei"})
	requireInvalid(t, ss.AddAudit(ctx, &staff.AuditEntry{At: at(time.Hour), Actor: "cli"}), "action")

	for _, tt := range []struct {
		name   string
		filter staff.AuditFilter
		want   []*staff.AuditEntry
	}{
		{"all, newest first", staff.AuditFilter{}, []*staff.AuditEntry{e6, e5, e4, e3, e2, e1}},
		{"user", staff.AuditFilter{UserID: a.ID}, []*staff.AuditEntry{e5, e3, e1}},
		{"user without entries", staff.AuditFilter{UserID: 999999}, nil},
		{"action", staff.AuditFilter{Action: "phone_view"}, []*staff.AuditEntry{e5, e4}},
		{"subject", staff.AuditFilter{Subject: "owner:12"}, []*staff.AuditEntry{e5, e4}},
		{"user and action", staff.AuditFilter{UserID: b.ID, Action: "phone_view"}, []*staff.AuditEntry{e4}},
		{"before", staff.AuditFilter{Before: e3.ID}, []*staff.AuditEntry{e2, e1}},
		{"limit", staff.AuditFilter{Limit: 2}, []*staff.AuditEntry{e6, e5}},
		{"next page", staff.AuditFilter{Limit: 2, Before: e5.ID}, []*staff.AuditEntry{e4, e3}},
		{"before with subject", staff.AuditFilter{Subject: "owner:12", Before: e5.ID}, []*staff.AuditEntry{e4}},
		{"no match", staff.AuditFilter{Action: "login", Subject: "owner:12"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ss.ListAudit(ctx, tt.filter)
			require.NoError(t, err)
			if tt.want == nil {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tt.want, got)
		})
	}
	_, err = ss.ListAudit(ctx, staff.AuditFilter{Limit: -1})
	requireInvalid(t, err, "limit")

	// At most 100 unless asked, and never more than 500.
	for i := range 501 - 6 {
		add(&staff.AuditEntry{At: at(time.Hour + time.Duration(i)*time.Second), UserID: b.ID, Actor: b.Actor(), Action: "case_view",
			Subject: fmt.Sprintf("SH-20261127-%04d", i+2)})
	}
	for _, tt := range []struct{ limit, want int }{{0, 100}, {499, 499}, {500, 500}, {501, 500}, {10000, 500}} {
		got, err := ss.ListAudit(ctx, staff.AuditFilter{Limit: tt.limit})
		require.NoError(t, err)
		require.Len(t, got, tt.want, "limit %d", tt.limit)
		require.Greater(t, got[0].ID, e6.ID, "newest first")
	}
}

// testStaffUserDeleted checks what goes with an account's row: its sessions
// and projects; its audit entries stay, and its ID is not used again.
func testStaffUserDeleted(t *testing.T, h Harness) {
	if h.DeleteStaffUser == nil {
		t.Skip("Harness.DeleteStaffUser is nil")
	}
	s, ss := openAs[staff.Store](t, h)
	ctx := t.Context()
	f := newFixture(t, s)
	kept := createUser(t, ss, "lihua", staff.RoleAgent, func(u *staff.User) { u.ProjectIDs = []int64{f.project.ID} })
	gone := createUser(t, ss, "zhangwei", staff.RoleAgent, func(u *staff.User) { u.ProjectIDs = []int64{f.project.ID} })
	for _, u := range []*staff.User{gone, kept} {
		require.NoError(t, ss.CreateSession(ctx, &staff.Session{TokenHash: "hash-" + u.Username, UserID: u.ID, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: at(time.Hour)}))
		require.NoError(t, ss.AddAudit(ctx, &staff.AuditEntry{At: t0, UserID: u.ID, Actor: u.Actor(), Action: "login"}))
	}

	// The account's projects go with it too, or the delete would fail.
	h.DeleteStaffUser(t, s, gone.ID)
	_, err := ss.FindUser(ctx, gone.ID)
	requireErrNotFound(t, err)
	_, err = ss.FindSession(ctx, "hash-zhangwei")
	requireErrNotFound(t, err, "the account's session went with it")
	_, err = ss.FindSession(ctx, "hash-lihua")
	require.NoError(t, err, "another account's session stays")
	requireUser(t, ss, kept)
	entries, err := ss.ListAudit(ctx, staff.AuditFilter{UserID: gone.ID})
	require.NoError(t, err)
	require.Len(t, entries, 1, "the audit log outlives the account")
	require.Equal(t, gone.Actor(), entries[0].Actor)

	// The username is free again. The newest account's ID is not given
	// again, or the audit log would name the new account for the old one's
	// actions; nor are its projects.
	again := createUser(t, ss, "zhangwei", staff.RoleAgent, nil)
	require.Greater(t, again.ID, gone.ID)
	requireUser(t, ss, again)
}

// testStaffServiceAccounts: a service account is found by its token's hash,
// a person's account never is.
func testStaffServiceAccounts(t *testing.T, h Harness) {
	_, ss := openAs[staff.Store](t, h)
	ctx := t.Context()
	const hash = "sha256$0123456789abcdef"
	crm := createUser(t, ss, "crm", staff.RoleAgent, func(u *staff.User) { u.Kind, u.PasswordHash = staff.KindService, hash })
	createUser(t, ss, "person", staff.RoleAgent, func(u *staff.User) { u.PasswordHash = "sha256$fedcba9876543210" })
	got, err := ss.FindServiceAccount(ctx, hash)
	require.NoError(t, err)
	require.Equal(t, crm, got)
	_, err = ss.FindServiceAccount(ctx, "sha256$fedcba9876543210")
	requireErrNotFound(t, err)
	_, err = ss.FindServiceAccount(ctx, "sha256$nothing")
	requireErrNotFound(t, err)
}

// testStaffTOTP: an account's authenticator secrets and its last time step
// are kept; the step only moves forward, by UseTOTPStep once per step
// however many ask at once, and UpdateUser never takes it back; a service
// account has no secret.
func testStaffTOTP(t *testing.T, h Harness) {
	_, ss := openAs[staff.Store](t, h)
	ctx := t.Context()
	const secret, pending = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"

	admin := createUser(t, ss, "admin", staff.RoleAdmin, func(u *staff.User) { u.TOTPPending = pending })
	require.Equal(t, pending, admin.TOTPPending)
	require.Empty(t, admin.TOTPSecret)
	require.Zero(t, admin.TOTPStep)
	requireUser(t, ss, admin)
	admin.TOTPSecret, admin.TOTPPending, admin.TOTPStep = secret, "", 59_000_000
	require.NoError(t, ss.UpdateUser(ctx, admin))
	require.Equal(t, secret, admin.TOTPSecret)
	require.Equal(t, int64(59_000_000), admin.TOTPStep)
	requireUser(t, ss, admin)

	// Refused, storing nothing.
	requireInvalid(t, ss.CreateUser(ctx, &staff.User{Username: "crm", Role: staff.RoleAgent, Kind: staff.KindService, TOTPSecret: secret}), "totp")
	requireInvalid(t, ss.CreateUser(ctx, &staff.User{Username: "crm", Role: staff.RoleAgent, Kind: staff.KindService, TOTPPending: pending}), "totp")
	requireInvalid(t, ss.CreateUser(ctx, &staff.User{Username: "lihua", Role: staff.RoleAgent, Kind: staff.KindPerson, TOTPSecret: "not base32!"}), "totp")
	bad := *admin
	bad.Kind = staff.KindService
	requireInvalid(t, ss.UpdateUser(ctx, &bad), "totp")
	requireUser(t, ss, admin)

	// A step is used once; an earlier one is refused too.
	for _, tc := range []struct {
		step int64
		want bool
	}{{59_000_001, true}, {59_000_001, false}, {59_000_000, false}, {58_999_999, false}, {59_000_003, true}} {
		used, err := ss.UseTOTPStep(ctx, admin.ID, tc.step)
		require.NoError(t, err)
		require.Equal(t, tc.want, used, "step %d", tc.step)
	}
	_, err := ss.UseTOTPStep(ctx, 999999, 59_000_004)
	requireErrNotFound(t, err)

	// An account read before a sign-in and saved after it keeps the step
	// the sign-in used.
	stale := *admin // step 59_000_000
	stale.TOTPSecret = ""
	require.NoError(t, ss.UpdateUser(ctx, &stale))
	require.Empty(t, stale.TOTPSecret, "the authenticator removed")
	require.Equal(t, int64(59_000_003), stale.TOTPStep, "the step never goes back")
	requireUser(t, ss, &stale)

	// Of many sign-ins with one code at once, one uses its step.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var used, refused int
	for range 8 {
		wg.Go(func() {
			ok, err := ss.UseTOTPStep(ctx, admin.ID, 59_000_010)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("UseTOTPStep: %v", err)
			case ok:
				used++
			default:
				refused++
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, used)
	require.Equal(t, 7, refused)
}
