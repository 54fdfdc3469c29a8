package identity_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/identity"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/storage/sqlite"
)

// fakeSMS records the codes it was asked to send, or fails with err.
type fakeSMS struct {
	mu   sync.Mutex
	sent map[string][]string // by phone
	err  error
}

func (f *fakeSMS) SendCode(_ context.Context, phone, code string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.sent == nil {
		f.sent = map[string][]string{}
	}
	f.sent[phone] = append(f.sent[phone], code)
	return nil
}

func (f *fakeSMS) last(t *testing.T, phone string) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	codes := f.sent[phone]
	require.NotEmpty(t, codes, "no code sent to %s", phone)
	return codes[len(codes)-1]
}

// env is a Service on the example project (海景苑) in SQLite, with a fake
// SMS sender and a clock standing at the tests' start.
type env struct {
	store *sqlite.DB
	sms   *fakeSMS
	clock *testclock.Clock
	svc   *identity.Service
}

// The register of unit 3-1-201: 林晓峰, 13900000016.
const (
	linPhone = "13900000016"
	linName  = "林晓峰"
)

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	clock := testclock.New(testclock.Start())
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"), sqlite.Options{NowFunc: clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	batch, err := testclock.ExampleBatch()
	require.NoError(t, err)
	_, err = db.Import(ctx, batch)
	require.NoError(t, err)
	e := &env{store: db, sms: &fakeSMS{}, clock: clock}
	e.svc = identity.New(identity.Config{Store: db, Sender: e.sms, NowFunc: clock.Now})
	return e
}

// unit returns the example unit with label (3-1-201).
func (e *env) unit(t *testing.T, label string) *casework.Unit {
	t.Helper()
	units, _, err := e.store.FindUnits(context.Background(), casework.UnitFilter{Building: "3", Limit: 1000})
	require.NoError(t, err)
	for _, u := range units {
		if u.Label() == label {
			return u
		}
	}
	t.Fatalf("no unit %s", label)
	return nil
}

var stranger = identity.Account{Platform: "web", UserID: "visitor_0123456789ab"}

func TestCodeRightOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.svc.SendCode(ctx, stranger, linPhone))
	code := e.sms.last(t, linPhone)
	require.Len(t, code, 6)

	vc, err := e.store.LatestVerificationCode(ctx, stranger.Platform, stranger.UserID)
	require.NoError(t, err)
	assert.NotContains(t, vc.CodeHash+vc.Salt, code, "only a hash of the code is stored")
	pending, err := e.svc.PendingPhone(ctx, stranger)
	require.NoError(t, err)
	assert.Equal(t, linPhone, pending)

	phone, err := e.svc.CheckCode(ctx, stranger, code)
	require.NoError(t, err)
	assert.Equal(t, linPhone, phone)
	_, err = e.svc.CheckCode(ctx, stranger, code)
	assert.ErrorIs(t, err, identity.ErrNoCode, "a code proves once")
}

func TestWrongCodesSpendTheCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.svc.SendCode(ctx, stranger, linPhone))
	code := e.sms.last(t, linPhone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for left := 4; left >= 1; left-- {
		_, err := e.svc.CheckCode(ctx, stranger, wrong)
		var w *identity.WrongCodeError
		require.ErrorAs(t, err, &w)
		assert.Equal(t, left, w.Left)
	}
	_, err := e.svc.CheckCode(ctx, stranger, wrong)
	require.ErrorIs(t, err, identity.ErrTooManyAttempts, "the fifth wrong code")
	_, err = e.svc.CheckCode(ctx, stranger, code)
	require.ErrorIs(t, err, identity.ErrTooManyAttempts, "the right code no longer works")
}

func TestCodeExpiresAfterFiveMinutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.svc.SendCode(ctx, stranger, linPhone))
	code := e.sms.last(t, linPhone)
	e.clock.Advance(5 * time.Minute)
	_, err := e.svc.CheckCode(ctx, stranger, code)
	require.ErrorIs(t, err, identity.ErrExpired)
	_, err = e.svc.CheckCode(context.Background(), identity.Account{Platform: "web", UserID: "nobody_0123456789abc"}, code)
	require.ErrorIs(t, err, identity.ErrNoCode)
}

func TestSendLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.svc.SendCode(ctx, stranger, linPhone))
	err := e.svc.SendCode(ctx, stranger, linPhone)
	var soon *identity.TooSoonError
	require.ErrorAs(t, err, &soon, "one a minute")
	assert.Equal(t, time.Minute, soon.Wait)
	e.clock.Advance(30 * time.Second)
	other := identity.Account{Platform: "telegram", UserID: "42"}
	require.ErrorAs(t, e.svc.SendCode(ctx, other, linPhone), &soon, "one a minute to a phone, whoever asks")
	require.ErrorAs(t, e.svc.SendCode(ctx, stranger, "13800000001"), &soon, "one a minute for an account, whatever the phone")

	for range 4 {
		e.clock.Advance(time.Minute)
		require.NoError(t, e.svc.SendCode(ctx, stranger, linPhone))
	}
	e.clock.Advance(time.Minute)
	require.ErrorIs(t, e.svc.SendCode(ctx, stranger, linPhone), identity.ErrDailyLimit, "5 to a phone in 24 hours")
	require.ErrorIs(t, e.svc.SendCode(ctx, other, linPhone), identity.ErrDailyLimit, "whoever asks")
	require.ErrorIs(t, e.svc.SendCode(ctx, stranger, "13800000001"), identity.ErrDailyLimit, "5 for an account in 24 hours")
	require.NoError(t, e.svc.SendCode(ctx, other, "13800000001"), "another account, another phone")

	e.clock.Advance(24 * time.Hour)
	require.NoError(t, e.svc.SendCode(ctx, stranger, linPhone), "a day later")
}

func TestSendFailureAndSMSOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.sms.err = errors.New("provider: isv.BUSINESS_LIMIT_CONTROL")
	err := e.svc.SendCode(ctx, stranger, linPhone)
	require.ErrorIs(t, err, identity.ErrSendFailed)
	assert.ErrorContains(t, err, "BUSINESS_LIMIT_CONTROL")

	pending, err := e.svc.PendingPhone(ctx, stranger)
	require.NoError(t, err)
	assert.Empty(t, pending, "a code that was not sent cannot be typed")
	e.sms.err = nil
	var soon *identity.TooSoonError
	require.ErrorAs(t, e.svc.SendCode(ctx, stranger, linPhone), &soon, "but it counts towards the limits")

	off := identity.New(identity.Config{Store: e.store, NowFunc: e.clock.Now})
	assert.False(t, off.SMSOn())
	require.ErrorIs(t, off.SendCode(ctx, stranger, linPhone), identity.ErrSMSOff)
}

func TestProveBindsTheOwnerOfThePhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	u := e.unit(t, "3-1-201")

	// Before proving, the account reported a case with no owner.
	c := &casework.Case{ProjectID: u.ProjectID, BuildingID: u.BuildingID, UnitID: u.ID, Description: "卫生间漏水",
		Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubLeak,
		Channel: casework.ChannelWeb, ReceivedBy: casework.ActorBot, ReporterPlatform: stranger.Platform, ReporterUserID: stranger.UserID}
	require.NoError(t, e.store.CreateCase(ctx, c))

	id := &casework.ChatIdentity{Platform: stranger.Platform, UserID: stranger.UserID}
	require.NoError(t, e.store.SaveChatIdentity(ctx, id))
	res, err := e.svc.Prove(ctx, id, linPhone, casework.VerifySMS, identity.Claim{Name: "随便写的名字", UnitID: u.ID})
	require.NoError(t, err)
	assert.Equal(t, linName, res.Owner.Name, "the owner on the unit's register, whatever name was typed")
	assert.True(t, res.OnRegister)
	assert.Equal(t, 1, res.Attached)

	stored, err := e.store.FindChatIdentity(ctx, stranger.Platform, stranger.UserID)
	require.NoError(t, err)
	assert.Equal(t, res.Owner.ID, stored.OwnerID)
	assert.True(t, stored.Verified())
	assert.Equal(t, linPhone, stored.VerifiedPhone)
	assert.Equal(t, casework.VerifySMS, stored.VerifiedBy)

	got, err := e.store.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, res.Owner.ID, got.OwnerID, "the case reported before is the owner's now")
	assert.True(t, got.IdentityVerified)

	events, err := e.store.ListOwnerEvents(ctx, res.Owner.ID)
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, "identity_verified", events[0].Kind)
	assert.Equal(t, casework.VerifySMS, events[0].Actor)
	assert.Contains(t, events[0].Note, "web:"+stranger.UserID)
}

func TestProveOffTheRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	u := e.unit(t, "3-1-201")

	// 林晓峰 proves his phone but claims a unit he is not on the register of.
	other := e.unit(t, "3-1-601")
	id := &casework.ChatIdentity{Platform: "telegram", UserID: "7001"}
	res, err := e.svc.Prove(ctx, id, linPhone, casework.VerifyTelegramContact, identity.Claim{Name: linName, UnitID: other.ID})
	require.NoError(t, err)
	assert.Equal(t, linName, res.Owner.Name, "the same owner, not a second one")
	assert.False(t, res.OnRegister, "staff check a unit the owner is not on the register of")
	units, err := e.store.OwnerUnits(ctx, res.Owner.ID)
	require.NoError(t, err)
	require.Len(t, units, 1, "a proven phone puts no one on a unit's register")
	assert.Equal(t, u.Label(), units[0].Label())
	holders, err := e.store.UnitOwners(ctx, other.ID)
	require.NoError(t, err)
	for _, h := range holders {
		assert.NotEqual(t, res.Owner.ID, h.ID)
	}
	assert.Zero(t, id.UnitID, "the account's default unit is one on the register")

	// A phone on no record registers a new owner under the typed name.
	id2 := &casework.ChatIdentity{Platform: "telegram", UserID: "7002"}
	res, err = e.svc.Prove(ctx, id2, "13811112222", casework.VerifySMS, identity.Claim{Name: "新业主", UnitID: other.ID})
	require.NoError(t, err)
	assert.Equal(t, "新业主", res.Owner.Name)
	assert.False(t, res.OnRegister)

	// Without a name, a phone on no record binds no one.
	_, err = e.svc.Prove(ctx, &casework.ChatIdentity{Platform: "web", UserID: "v3_0123456789abcdef"}, "13811113333", casework.VerifySMS, identity.Claim{})
	require.ErrorIs(t, err, casework.ErrNotFound)
}

func TestVerifyByStaff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	owners, err := e.store.FindOwnersByPhone(ctx, linPhone)
	require.NoError(t, err)
	require.Len(t, owners, 1)

	_, _, err = e.svc.VerifyByStaff(ctx, stranger, owners[0].ID, casework.Staff("7"))
	require.ErrorIs(t, err, casework.ErrNotFound, "an account that never wrote")

	require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: stranger.Platform, UserID: stranger.UserID}))
	id, _, err := e.svc.VerifyByStaff(ctx, stranger, owners[0].ID, casework.Staff("7"))
	require.NoError(t, err)
	assert.Equal(t, owners[0].ID, id.OwnerID)
	assert.Equal(t, casework.Staff("7"), id.VerifiedBy)
	events, err := e.store.ListOwnerEvents(ctx, owners[0].ID)
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, casework.Staff("7"), events[0].Actor, "the timeline says who verified")

	_, _, err = e.svc.VerifyByStaff(ctx, stranger, 999999, casework.Staff("7"))
	require.ErrorIs(t, err, casework.ErrNotFound)
	require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "9", MemberID: 1}))
	_, _, err = e.svc.VerifyByStaff(ctx, identity.Account{Platform: "telegram", UserID: "9"}, owners[0].ID, casework.Staff("7"))
	var ve *casework.ValidationError
	require.ErrorAs(t, err, &ve, "an engineer's account is not an owner's")
	_, err = e.svc.Prove(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "9", MemberID: 1}, linPhone, casework.VerifySMS, identity.Claim{})
	require.ErrorAs(t, err, &ve, "nor by a code")
}

// TestSendLimitsHoldAtTheSameMoment: sixty accounts asking for a code to one
// phone at once get one code sent.
func TestSendLimitsHoldAtTheSameMoment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			_ = e.svc.SendCode(ctx, identity.Account{Platform: "web", UserID: fmt.Sprintf("visitor_%02d_0123456789", i)}, linPhone)
		})
	}
	wg.Wait()
	e.sms.mu.Lock()
	defer e.sms.mu.Unlock()
	assert.Len(t, e.sms.sent[linPhone], 1)
}

func TestBindCodeTriesAreLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for range 5 {
		require.NoError(t, e.svc.BindAllowed(ctx, stranger))
		require.NoError(t, e.svc.BindFailed(ctx, stranger))
	}
	require.ErrorIs(t, e.svc.BindAllowed(ctx, stranger), identity.ErrBindLocked)
	require.NoError(t, e.svc.BindAllowed(ctx, identity.Account{Platform: "web", UserID: "other_0123456789abcd"}), "per account")
	e.clock.Advance(time.Hour + time.Second)
	require.NoError(t, e.svc.BindAllowed(ctx, stranger), "an hour later")
}

func TestCodeIn(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"123456": "123456", " 123 456 ": "123456", "验证码：１２３４５６": "123456", "123456，谢谢": "123456",
		"my code is 654-321": "654321",
	} {
		got, ok := identity.CodeIn(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "12345", "1234567", "13900000016", "abc", "12 34 5"} {
		_, ok := identity.CodeIn(in)
		assert.False(t, ok, in)
	}
}
