package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func testChatIdentity(t *testing.T, h Harness) {
	s := h.Open(t)
	ids, ok := s.(casework.IdentityStore)
	if !ok {
		t.Skipf("%T does not implement casework.IdentityStore", s)
	}
	ctx := t.Context()
	f := newFixture(t, s)

	_, err := ids.FindChatIdentity(ctx, "telegram", "1001")
	requireErrNotFound(t, err)

	id := &casework.ChatIdentity{Platform: "telegram", UserID: "1001", Lang: "zh", DisplayName: "张三"}
	require.NoError(t, ids.SaveChatIdentity(ctx, id))
	requireUTC(t, id.CreatedAt, "CreatedAt")
	requireUTC(t, id.UpdatedAt, "UpdatedAt")
	got, err := ids.FindChatIdentity(ctx, "telegram", "1001")
	require.NoError(t, err)
	require.Equal(t, id, got)

	// Replaced whole, keeping CreatedAt.
	created := id.CreatedAt
	upd := &casework.ChatIdentity{Platform: "telegram", UserID: "1001", OwnerID: f.owner.ID, UnitID: f.unit.ID, Lang: "en",
		DisplayName: "Zhang San", Unreachable: true, LastInboundAt: ptr(at(time.Hour + 7)), HandoffAt: ptr(at(2 * time.Hour))}
	require.NoError(t, ids.SaveChatIdentity(ctx, upd))
	require.True(t, upd.CreatedAt.Equal(created), "a replaced identity keeps its CreatedAt")
	requireStoredTime(t, at(time.Hour+7), *upd.LastInboundAt, "LastInboundAt")
	got, err = ids.FindChatIdentity(ctx, "telegram", "1001")
	require.NoError(t, err)
	require.True(t, got.LastInboundAt.Equal(*upd.LastInboundAt))
	require.True(t, got.HandoffAt.Equal(*upd.HandoffAt))
	require.True(t, got.CreatedAt.Equal(upd.CreatedAt))
	require.True(t, got.UpdatedAt.Equal(upd.UpdatedAt))
	got.LastInboundAt, got.HandoffAt, got.CreatedAt, got.UpdatedAt = upd.LastInboundAt, upd.HandoffAt, upd.CreatedAt, upd.UpdatedAt
	require.Equal(t, upd, got)

	// The same user ID on another platform is another account; an engineer's
	// account names a member.
	wx := &casework.ChatIdentity{Platform: "wechat", UserID: "1001", OwnerID: f.owner.ID}
	require.NoError(t, ids.SaveChatIdentity(ctx, wx))
	eng := &casework.ChatIdentity{Platform: "telegram", UserID: "2002", MemberID: f.member.ID}
	require.NoError(t, ids.SaveChatIdentity(ctx, eng))
	got, err = ids.FindChatIdentity(ctx, "telegram", "2002")
	require.NoError(t, err)
	require.Equal(t, f.member.ID, got.MemberID)

	byOwner, err := ids.FindChatIdentitiesByOwner(ctx, f.owner.ID)
	require.NoError(t, err)
	require.Len(t, byOwner, 2)
	require.Equal(t, "telegram", byOwner[0].Platform, "ordered by platform")
	require.Equal(t, "wechat", byOwner[1].Platform)
	byOwner, err = ids.FindChatIdentitiesByOwner(ctx, f.owner2.ID)
	require.NoError(t, err)
	require.Empty(t, byOwner)

	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "3", OwnerID: 999999}), "owner")
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "3", UnitID: 999999}), "unit")
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "3", MemberID: 999999}), "member")
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{UserID: "3"}), "platform")
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram"}), "user_id")
}

// identityStore opens a store and skips the test unless it is a
// casework.IdentityStore.
func identityStore(t *testing.T, h Harness) (casework.Store, casework.IdentityStore) {
	t.Helper()
	return openAs[casework.IdentityStore](t, h)
}

// requireSameIdentity checks that got equals want, comparing times with
// Equal and checking that got's are in UTC.
func requireSameIdentity(t testing.TB, want, got *casework.ChatIdentity) {
	t.Helper()
	w, g := *want, *got
	for name, p := range map[string][2]**time.Time{
		"VerifiedAt": {&w.VerifiedAt, &g.VerifiedAt}, "LastInboundAt": {&w.LastInboundAt, &g.LastInboundAt}, "HandoffAt": {&w.HandoffAt, &g.HandoffAt},
	} {
		wp, gp := p[0], p[1]
		require.Equalf(t, *wp == nil, *gp == nil, "%s: want %v, got %v", name, *wp, *gp)
		if *wp != nil {
			requireStoredTime(t, **wp, **gp, name)
		}
		*wp, *gp = nil, nil
	}
	requireStoredTime(t, w.CreatedAt, g.CreatedAt, "CreatedAt")
	requireStoredTime(t, w.UpdatedAt, g.UpdatedAt, "UpdatedAt")
	w.CreatedAt, g.CreatedAt, w.UpdatedAt, g.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	require.Equal(t, w, g)
}

func testChatIdentityVerified(t *testing.T, h Harness) {
	s, ids := identityStore(t, h)
	ctx := t.Context()
	f := newFixture(t, s)

	// An account that proved the owner's phone by SMS.
	id := &casework.ChatIdentity{Platform: "telegram", UserID: "1001", OwnerID: f.owner.ID, UnitID: f.unit.ID,
		VerifiedPhone: f.owner.Phone, VerifiedAt: ptr(at(time.Minute + 7)), VerifiedBy: casework.VerifySMS, Lang: "zh"}
	require.NoError(t, ids.SaveChatIdentity(ctx, id))
	requireStoredTime(t, at(time.Minute+7), *id.VerifiedAt, "VerifiedAt")
	require.True(t, id.Verified())
	got, err := ids.FindChatIdentity(ctx, "telegram", "1001")
	require.NoError(t, err)
	requireSameIdentity(t, id, got)
	require.True(t, got.Verified())
	byOwner, err := ids.FindChatIdentitiesByOwner(ctx, f.owner.ID)
	require.NoError(t, err)
	require.Len(t, byOwner, 1)
	requireSameIdentity(t, id, byOwner[0])

	// Staff verifying by hand, and Telegram's contact, are kept as they are.
	for i, by := range []casework.Actor{casework.Staff("42"), casework.VerifyTelegramContact} {
		id.VerifiedBy, id.VerifiedAt = by, ptr(at(time.Duration(i+2)*time.Hour))
		require.NoError(t, ids.SaveChatIdentity(ctx, id))
		got, err := ids.FindChatIdentity(ctx, "telegram", "1001")
		require.NoError(t, err)
		requireSameIdentity(t, id, got)
	}

	// Replaced by an unverified identity, the account has proved nothing.
	plain := &casework.ChatIdentity{Platform: "telegram", UserID: "1001", UnitID: f.unit.ID, Lang: "zh"}
	require.NoError(t, ids.SaveChatIdentity(ctx, plain))
	got, err = ids.FindChatIdentity(ctx, "telegram", "1001")
	require.NoError(t, err)
	requireSameIdentity(t, plain, got)
	require.False(t, got.Verified())
	require.Empty(t, got.VerifiedPhone)
	require.Empty(t, got.VerifiedBy)
	byOwner, err = ids.FindChatIdentitiesByOwner(ctx, f.owner.ID)
	require.NoError(t, err)
	require.Empty(t, byOwner)

	// When and how go together; a phone is named only when proven.
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "3", VerifiedAt: ptr(t0)}), "verified_by")
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "3", VerifiedBy: casework.VerifySMS}), "verified_at")
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "3", VerifiedPhone: "13812345678"}), "verified_at")
	_, err = ids.FindChatIdentity(ctx, "telegram", "3")
	requireErrNotFound(t, err)
}

// requireSameCode checks that got equals want, comparing times with Equal
// and checking that got's are in UTC.
func requireSameCode(t testing.TB, want, got *casework.VerificationCode) {
	t.Helper()
	require.NotNil(t, got)
	w, g := *want, *got
	requireStoredTime(t, w.CreatedAt, g.CreatedAt, "CreatedAt")
	requireStoredTime(t, w.ExpiresAt, g.ExpiresAt, "ExpiresAt")
	require.Equalf(t, w.UsedAt == nil, g.UsedAt == nil, "UsedAt: want %v, got %v", w.UsedAt, g.UsedAt)
	if w.UsedAt != nil {
		requireStoredTime(t, *w.UsedAt, *g.UsedAt, "UsedAt")
	}
	w.CreatedAt, g.CreatedAt, w.ExpiresAt, g.ExpiresAt, w.UsedAt, g.UsedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, nil, nil
	require.Equal(t, w, g)
}

func testVerificationCodes(t *testing.T, h Harness) {
	_, ids := identityStore(t, h)
	ctx := t.Context()
	const phoneA, phoneB = "13812345678", "13900001111"

	_, err := ids.LatestVerificationCode(ctx, "telegram", "1001")
	requireErrNotFound(t, err)
	n, err := ids.CountVerificationCodes(ctx, phoneA, "telegram", "1001", at(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, casework.CodeCounts{}, n)

	code := func(platform, userID, phone string, created time.Duration) *casework.VerificationCode {
		t.Helper()
		c := &casework.VerificationCode{Platform: platform, UserID: userID, Phone: phone, CodeHash: "hash-" + phone, Salt: "salt",
			CreatedAt: at(created), ExpiresAt: at(created + 10*time.Minute)}
		require.NoError(t, ids.CreateVerificationCode(ctx, c, time.Time{}, acceptAny))
		require.NotZero(t, c.ID)
		return c
	}
	// A new code starts unused, with no attempts, whatever it carried.
	c1 := &casework.VerificationCode{Platform: "telegram", UserID: "1001", Phone: phoneA, CodeHash: "h1", Salt: "s1",
		Attempts: 3, UsedAt: ptr(t0), CreatedAt: at(3), ExpiresAt: at(10*time.Minute + 3)}
	require.NoError(t, ids.CreateVerificationCode(ctx, c1, time.Time{}, acceptAny))
	require.Zero(t, c1.Attempts)
	require.Nil(t, c1.UsedAt)
	requireStoredTime(t, at(3), c1.CreatedAt, "CreatedAt")
	got, err := ids.LatestVerificationCode(ctx, "telegram", "1001")
	require.NoError(t, err)
	requireSameCode(t, c1, got)

	c2 := code("telegram", "1001", phoneB, 5*time.Minute)
	c3 := code("wechat", "1001", phoneA, 7*time.Minute) // another account: the same user ID on another platform
	c4 := code("telegram", "1001", phoneA, 5*time.Minute)
	require.Greater(t, c4.ID, c2.ID)
	// The newest by CreatedAt, then by ID.
	got, err = ids.LatestVerificationCode(ctx, "telegram", "1001")
	require.NoError(t, err)
	requireSameCode(t, c4, got)
	got, err = ids.LatestVerificationCode(ctx, "wechat", "1001")
	require.NoError(t, err)
	requireSameCode(t, c3, got)

	// Counted since a moment, which counts; Last is the newest code of the
	// phone or the account, whenever it was sent.
	for _, tt := range []struct {
		name                     string
		phone, platform, userID  string
		since                    time.Duration
		byPhone, byAccount, last int
	}{
		{"all", phoneA, "telegram", "1001", 0, 3, 3, 7},
		{"since", phoneA, "telegram", "1001", time.Minute, 2, 2, 7},
		{"since the moment of two", phoneA, "telegram", "1001", 5 * time.Minute, 2, 2, 7},
		{"just after", phoneA, "telegram", "1001", 5*time.Minute + time.Microsecond, 1, 0, 7},
		{"after", phoneA, "telegram", "1001", 8 * time.Minute, 0, 0, 7},
		{"newest of the account", phoneB, "wechat", "1001", 6 * time.Minute, 0, 1, 7},
		{"newest of the phone", phoneB, "telegram", "9", 6 * time.Minute, 0, 0, 5},
		{"unknown", "13700000000", "telegram", "9", 0, 0, 0, -1},
	} {
		n, err := ids.CountVerificationCodes(ctx, tt.phone, tt.platform, tt.userID, at(tt.since))
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.byPhone, n.ByPhone, "%s: ByPhone", tt.name)
		require.Equal(t, tt.byAccount, n.ByAccount, "%s: ByAccount", tt.name)
		if tt.last < 0 {
			require.Nil(t, n.Last, tt.name)
			continue
		}
		require.NotNil(t, n.Last, tt.name)
		requireStoredTime(t, at(time.Duration(tt.last)*time.Minute), *n.Last, tt.name+": Last")
	}

	// Two wrong tries, then the right one.
	for i := 1; i <= 2; i++ {
		got, err := ids.SpendVerificationCode(ctx, c4.ID, false, at(6*time.Minute))
		require.NoError(t, err)
		require.Equal(t, i, got.Attempts)
		require.Nil(t, got.UsedAt)
	}
	used := at(6*time.Minute + 999)
	got, err = ids.SpendVerificationCode(ctx, c4.ID, true, used)
	require.NoError(t, err)
	want := *c4
	want.Attempts, want.UsedAt = 2, &used
	requireSameCode(t, &want, got)
	latest, err := ids.LatestVerificationCode(ctx, "telegram", "1001")
	require.NoError(t, err)
	requireSameCode(t, &want, latest)
	// Used again, it keeps its first UsedAt: the second user can tell.
	got, err = ids.SpendVerificationCode(ctx, c4.ID, true, at(8*time.Minute))
	require.NoError(t, err)
	requireSameCode(t, &want, got)
	// The other codes are untouched.
	for _, c := range []*casework.VerificationCode{c2, c3} {
		got, err := ids.SpendVerificationCode(ctx, c.ID, false, at(9*time.Minute))
		require.NoError(t, err)
		require.Equal(t, 1, got.Attempts)
	}

	_, err = ids.SpendVerificationCode(ctx, 999999, false, at(time.Minute))
	requireErrNotFound(t, err)
	_, err = ids.SpendVerificationCode(ctx, 999999, true, at(time.Minute))
	requireErrNotFound(t, err)

	// A zero CreatedAt is the store's now.
	before := Now()
	now := &casework.VerificationCode{Platform: "web", UserID: "v1", Phone: phoneA, CodeHash: "h", ExpiresAt: at(time.Hour)}
	require.NoError(t, ids.CreateVerificationCode(ctx, now, time.Time{}, acceptAny))
	requireUTC(t, now.CreatedAt, "CreatedAt")
	require.False(t, now.CreatedAt.Before(wantMicroUTC(before)), "CreatedAt %s is the store's now, not before %s", now.CreatedAt, before)
	got, err = ids.LatestVerificationCode(ctx, "web", "v1")
	require.NoError(t, err)
	requireSameCode(t, now, got)

	valid := casework.VerificationCode{Platform: "telegram", UserID: "1001", Phone: phoneA, CodeHash: "h", ExpiresAt: at(time.Hour)}
	for field, mutate := range map[string]func(c *casework.VerificationCode){
		"platform":   func(c *casework.VerificationCode) { c.Platform = "" },
		"user_id":    func(c *casework.VerificationCode) { c.UserID = "" },
		"phone":      func(c *casework.VerificationCode) { c.Phone = "" },
		"code_hash":  func(c *casework.VerificationCode) { c.CodeHash = "" },
		"expires_at": func(c *casework.VerificationCode) { c.ExpiresAt = time.Time{} },
	} {
		c := valid
		mutate(&c)
		requireInvalid(t, ids.CreateVerificationCode(ctx, &c, time.Time{}, acceptAny), field)
		require.Zero(t, c.ID, field)
	}
}

func testAuthFailures(t *testing.T, h Harness) {
	_, ids := identityStore(t, h)
	ctx := t.Context()

	n, err := ids.CountFailures(ctx, "bind", "telegram:1001", at(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
	for _, d := range []time.Duration{0, time.Minute, 2*time.Minute + 7} {
		require.NoError(t, ids.RecordFailure(ctx, "bind", "telegram:1001", at(d)))
	}
	require.NoError(t, ids.RecordFailure(ctx, "bind", "wechat:1001", at(time.Minute)))
	require.NoError(t, ids.RecordFailure(ctx, "code", "telegram:1001", at(time.Minute)))

	for _, tt := range []struct {
		kind, subject string
		since         time.Time
		want          int
	}{
		{"bind", "telegram:1001", at(-time.Second), 3},
		{"bind", "telegram:1001", at(time.Minute), 2}, // at since counts
		{"bind", "telegram:1001", at(2*time.Minute + time.Microsecond), 0},
		{"bind", "wechat:1001", at(0), 1},
		{"code", "telegram:1001", at(0), 1},
		{"code", "wechat:1001", at(0), 0},
	} {
		n, err := ids.CountFailures(ctx, tt.kind, tt.subject, tt.since)
		require.NoError(t, err)
		require.Equal(t, tt.want, n, "%s %s since %s", tt.kind, tt.subject, tt.since)
	}

	// A zero time is the store's now.
	before := Now()
	require.NoError(t, ids.RecordFailure(ctx, "bind", "web:v1", time.Time{}))
	n, err = ids.CountFailures(ctx, "bind", "web:v1", before.Add(-time.Microsecond))
	require.NoError(t, err)
	require.Equal(t, 1, n)

	requireInvalid(t, ids.RecordFailure(ctx, "", "web:v1", t0), "kind")
	requireInvalid(t, ids.RecordFailure(ctx, "bind", "", t0), "subject")
}

func testAttachReportedCases(t *testing.T, h Harness) {
	s, ids := identityStore(t, h)
	ctx := t.Context()
	f := newFixture(t, s)

	reported := func(i int, platform, userID string, ownerID int64) *casework.Case {
		t.Helper()
		c := f.newCase(at(time.Duration(i) * time.Hour))
		c.OwnerID, c.ReporterPlatform, c.ReporterUserID = ownerID, platform, userID
		c.OwnerName, c.OwnerPhone = "张先生", "13812345678" // as typed
		if platform != "" {
			c.IntakeKey = fmt.Sprintf("%s:%s:report-%d", platform, userID, i) // kept by the attachment: requireSameCase
		}
		return f.create(t, c)
	}
	mine1 := reported(1, "telegram", "1001", 0)
	mine2 := reported(2, "telegram", "1001", 0)
	mine2 = f.transition(t, mine2.ID, at(2*time.Hour+time.Minute), casework.ActionAccept)
	owned := reported(3, "telegram", "1001", f.owner2.ID) // has an owner already
	otherPlatform := reported(4, "wechat", "1001", 0)
	otherAccount := reported(5, "telegram", "2002", 0)
	staffTyped := reported(6, "", "", 0)
	// Reported under an owner binding made before bindings were proven:
	// the owner proving it is the same owner verifies it.
	legacy := reported(7, "telegram", "1001", f.owner.ID)
	untouched := []*casework.Case{owned, otherPlatform, otherAccount, staffTyped}
	requireUntouched := func() {
		t.Helper()
		for _, c := range untouched {
			got, err := s.FindCaseByID(ctx, c.ID)
			require.NoError(t, err)
			requireSameCase(t, c, got)
		}
	}

	// An owner that does not exist: nothing changes.
	_, err := ids.AttachReportedCases(ctx, "telegram", "1001", 999999)
	requireErrNotFound(t, err)
	for _, c := range []*casework.Case{mine1, mine2} {
		got, err := s.FindCaseByID(ctx, c.ID)
		require.NoError(t, err)
		requireSameCase(t, c, got)
	}
	requireUntouched()
	_, err = ids.AttachReportedCases(ctx, "", "", f.owner.ID)
	requireInvalid(t, err, "reporter")
	_, err = ids.AttachReportedCases(ctx, "telegram", "", f.owner.ID)
	requireInvalid(t, err, "reporter")
	requireUntouched()

	before := Now()
	n, err := ids.AttachReportedCases(ctx, "telegram", "1001", f.owner.ID)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	for _, c := range []*casework.Case{mine1, mine2, legacy} {
		got, err := s.FindCaseByID(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, f.owner.ID, got.OwnerID)
		require.True(t, got.IdentityVerified)
		require.Equal(t, c.Version+1, got.Version)
		requireUTC(t, got.UpdatedAt, "UpdatedAt")
		require.False(t, got.UpdatedAt.Before(wantMicroUTC(before)), "UpdatedAt is the store's now")
		// Nothing else changes: the name and phone stay as typed.
		want := *c
		want.OwnerID, want.IdentityVerified, want.Version, want.UpdatedAt = f.owner.ID, true, c.Version+1, got.UpdatedAt
		requireSameCase(t, &want, got)

		events, err := s.ListCaseEvents(ctx, c.ID)
		require.NoError(t, err)
		last := events[len(events)-1]
		require.Equal(t, len(events), last.Seq)
		require.Equal(t, casework.EventUpdated, last.Kind)
		require.Equal(t, casework.ActorBot, last.Actor)
		require.Equal(t, "业主身份已验证 owner identity verified", last.Note)
		requireStoredTime(t, got.UpdatedAt, last.At, "event At")

		// The case goes on from its new version, its timeline from the
		// entry's Seq.
		e := &casework.Event{CaseID: c.ID, Kind: casework.EventNote, Actor: casework.Staff("7"), Note: "已核实"}
		require.NoError(t, s.AddCaseEvent(ctx, e))
		require.Equal(t, last.Seq+1, e.Seq)
		version := got.Version
		if got.RespondedAt == nil {
			version++ // the note, staff's first entry, is the first human contact
		}
		_, err = s.UpdateCase(ctx, c.ID, c.Version, casework.CaseUpdate{Actor: casework.Staff("7"), ContactTime: ptr("晚上")})
		requireConflict(t, err, "the old version")
		upd, err := s.UpdateCase(ctx, c.ID, version, casework.CaseUpdate{Actor: casework.Staff("7"), ContactTime: ptr("晚上")})
		require.NoError(t, err)
		require.True(t, upd.IdentityVerified, "kept by an update")
		require.Equal(t, f.owner.ID, upd.OwnerID)
		events, err = s.ListCaseEvents(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, last.Seq+2, events[len(events)-1].Seq)
	}
	requireUntouched()
	ownerCases, total := findCaseIDs(t, s, casework.CaseFilter{OwnerID: f.owner.ID})
	require.Equal(t, 3, total)
	require.Equal(t, []int64{legacy.ID, mine2.ID, mine1.ID}, ownerCases)

	// Once attached, the cases have an owner: a second call for another
	// owner takes none of them, and verifies only the case already that
	// owner's.
	n, err = ids.AttachReportedCases(ctx, "telegram", "1001", f.owner2.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err := s.FindCaseByID(ctx, owned.ID)
	require.NoError(t, err)
	require.Equal(t, f.owner2.ID, got.OwnerID)
	require.True(t, got.IdentityVerified)
	n, err = ids.AttachReportedCases(ctx, "telegram", "1001", f.owner.ID)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to attach")
	ownerCases, _ = findCaseIDs(t, s, casework.CaseFilter{OwnerID: f.owner.ID})
	require.Equal(t, []int64{legacy.ID, mine2.ID, mine1.ID}, ownerCases)
	// An account with no cases attaches none.
	n, err = ids.AttachReportedCases(ctx, "telegram", "3003", f.owner.ID)
	require.NoError(t, err)
	require.Zero(t, n)
}

func testOwnerEvents(t *testing.T, h Harness) {
	s, ids := identityStore(t, h)
	ctx := t.Context()
	f := newFixture(t, s)

	events, err := ids.ListOwnerEvents(ctx, f.owner.ID)
	require.NoError(t, err)
	require.Empty(t, events)

	later := &casework.OwnerEvent{OwnerID: f.owner.ID, At: at(2*time.Hour + 7), Actor: casework.VerifySMS, Kind: "identity_verified", Note: "telegram 1001"}
	require.NoError(t, ids.AddOwnerEvent(ctx, later))
	require.NotZero(t, later.ID)
	requireStoredTime(t, at(2*time.Hour+7), later.At, "At")
	earlier := &casework.OwnerEvent{OwnerID: f.owner.ID, At: at(time.Hour), Actor: casework.Staff("42"), Kind: "identity_verified"}
	require.NoError(t, ids.AddOwnerEvent(ctx, earlier))
	other := &casework.OwnerEvent{OwnerID: f.owner2.ID, At: at(time.Hour), Actor: casework.VerifyTelegramContact, Kind: "identity_verified"}
	require.NoError(t, ids.AddOwnerEvent(ctx, other))
	// A zero At is the store's now, before the others here.
	before := Now()
	now := &casework.OwnerEvent{OwnerID: f.owner.ID, Actor: casework.ActorSystem, Kind: "identity_verified"}
	require.NoError(t, ids.AddOwnerEvent(ctx, now))
	requireUTC(t, now.At, "At")
	require.False(t, now.At.Before(wantMicroUTC(before)), "At is the store's now")

	// Oldest first.
	events, err = ids.ListOwnerEvents(ctx, f.owner.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.OwnerEvent{now, earlier, later}, events)
	events, err = ids.ListOwnerEvents(ctx, f.owner2.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.OwnerEvent{other}, events)
	events, err = ids.ListOwnerEvents(ctx, 999999)
	require.NoError(t, err)
	require.Empty(t, events)

	requireErrNotFound(t, ids.AddOwnerEvent(ctx, &casework.OwnerEvent{OwnerID: 999999, Actor: casework.VerifySMS, Kind: "identity_verified"}))
	requireInvalid(t, ids.AddOwnerEvent(ctx, &casework.OwnerEvent{OwnerID: f.owner.ID, Kind: "identity_verified"}), "actor")
	requireInvalid(t, ids.AddOwnerEvent(ctx, &casework.OwnerEvent{OwnerID: f.owner.ID, Actor: casework.VerifySMS}), "kind")
	events, err = ids.ListOwnerEvents(ctx, f.owner.ID)
	require.NoError(t, err)
	require.Len(t, events, 3)
}

// acceptAny is a CreateVerificationCode check that takes any counts.
func acceptAny(casework.CodeCounts) error { return nil }

// testVerificationCodeLimits: the check sees the counts and refuses as it
// says, storing nothing; requests at the same moment for one phone pass a
// limit of one code once, whatever account they come from.
func testVerificationCodeLimits(t *testing.T, h Harness) {
	_, ids := identityStore(t, h)
	ctx := t.Context()
	errFull := errors.New("one code only")
	onlyOne := func(n casework.CodeCounts) error {
		if n.ByPhone >= 1 || n.ByAccount >= 1 {
			return errFull
		}
		return nil
	}
	code := func(platform, user, phone string) *casework.VerificationCode {
		return &casework.VerificationCode{Platform: platform, UserID: user, Phone: phone, CodeHash: "h", Salt: "s", ExpiresAt: at(5 * time.Minute)}
	}

	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = ids.CreateVerificationCode(ctx, code("web", fmt.Sprintf("visitor-%02d", i), "13900000016"), at(-24*time.Hour), onlyOne)
		})
	}
	wg.Wait()
	stored := 0
	for _, err := range errs {
		if err == nil {
			stored++
		} else {
			require.ErrorIs(t, err, errFull, "the check's error as it is")
		}
	}
	require.Equal(t, 1, stored, "one code to the phone, from %d accounts at once", n)
	counts, err := ids.CountVerificationCodes(ctx, "13900000016", "web", "nobody", at(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, counts.ByPhone)

	// The same for one account, whatever phones it asks for.
	for i := range n {
		wg.Go(func() {
			errs[i] = ids.CreateVerificationCode(ctx, code("telegram", "42", fmt.Sprintf("1380000%04d", i)), at(-24*time.Hour), onlyOne)
		})
	}
	wg.Wait()
	stored = 0
	for _, err := range errs {
		if err == nil {
			stored++
		}
	}
	require.Equal(t, 1, stored, "one code for the account, for %d phones at once", n)
}
