package staff_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/staff"
	"github.com/aftersales/aftersales/storage/sqlite"
)

const password = "correct-horse-battery"

func newService(t *testing.T) (*staff.Service, *testclock.Clock) {
	t.Helper()
	clock := testclock.New(testclock.Start())
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"), sqlite.Options{NowFunc: clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(t.Context()))
	svc := staff.New(staff.Config{Store: db, NowFunc: clock.Now,
		AccountLimit: bot.NewMemoryLimiter(bot.Limit{Burst: 5, Every: 3 * time.Minute}),
		IPLimit:      bot.NewMemoryLimiter(bot.Limit{Burst: 50, Every: 18 * time.Second})})
	require.NoError(t, svc.AddUser(t.Context(), &staff.User{Username: "lihua", DisplayName: "李华", Role: staff.RoleAgent}, password, "test"))
	return svc, clock
}

// TestSessionExpiries: a session ends after 2 hours unused, or 12 hours
// after the sign-in however busy, on the service's clock.
func TestSessionExpiries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	svc, clock := newService(t)

	_, token, err := svc.Login(ctx, "lihua", password, "", "192.0.2.1", "test")
	require.NoError(t, err)
	clock.Advance(2*time.Hour - time.Second)
	u, _, err := svc.Authenticate(ctx, token)
	require.NoError(t, err, "used just before the idle limit")
	assert.Equal(t, "李华", u.Name())
	clock.Advance(2*time.Hour - time.Second)
	_, _, err = svc.Authenticate(ctx, token)
	require.NoError(t, err, "each use pushes the idle limit back")
	clock.Advance(2 * time.Hour)
	_, _, err = svc.Authenticate(ctx, token)
	assert.ErrorIs(t, err, staff.ErrNoSession, "two hours unused")

	_, token, err = svc.Login(ctx, "lihua", password, "", "192.0.2.1", "test")
	require.NoError(t, err)
	for range 12 {
		clock.Advance(time.Hour)
		_, _, err = svc.Authenticate(ctx, token)
	}
	assert.ErrorIs(t, err, staff.ErrNoSession, "12 hours after the sign-in, however busy")

	_, _, err = svc.Authenticate(ctx, "not-a-token")
	assert.ErrorIs(t, err, staff.ErrNoSession)
	_, _, err = svc.Authenticate(ctx, "")
	assert.ErrorIs(t, err, staff.ErrNoSession)
}

// TestLoginRefusals: a wrong password, an unknown or disabled account are
// the same failure; the account's limit holds even for the right password;
// a password change ends the sessions.
func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	svc, clock := newService(t)

	_, _, err := svc.Login(ctx, "nobody", password, "", "192.0.2.1", "")
	assert.ErrorIs(t, err, staff.ErrLoginFailed)
	for range 4 {
		_, _, err = svc.Login(ctx, "lihua", "wrong-password-1", "", "192.0.2.1", "")
		assert.ErrorIs(t, err, staff.ErrLoginFailed)
	}
	_, _, err = svc.Login(ctx, "lihua", password, "", "192.0.2.1", "")
	require.NoError(t, err, "the fifth try is within the limit")
	_, _, err = svc.Login(ctx, "lihua", password, "", "192.0.2.1", "")
	var limited *staff.TooManyAttemptsError
	require.True(t, errors.As(err, &limited), "over the limit: %v", err)
	assert.Equal(t, 3*time.Minute, limited.RetryAfter)
	clock.Advance(3 * time.Minute)
	_, token, err := svc.Login(ctx, "lihua", password, "", "192.0.2.1", "")
	require.NoError(t, err, "one more try after a while")

	require.NoError(t, svc.SetPassword(ctx, "lihua", "a-brand-new-password", "test"))
	_, _, err = svc.Authenticate(ctx, token)
	assert.ErrorIs(t, err, staff.ErrNoSession, "a new password ends the sessions")
	clock.Advance(time.Hour)
	_, _, err = svc.Login(ctx, "lihua", password, "", "192.0.2.1", "")
	assert.ErrorIs(t, err, staff.ErrLoginFailed, "the old password no longer works")

	require.NoError(t, svc.Disable(ctx, "lihua", "test"))
	clock.Advance(time.Hour)
	_, _, err = svc.Login(ctx, "lihua", "a-brand-new-password", "", "192.0.2.1", "")
	assert.ErrorIs(t, err, staff.ErrLoginFailed, "disabled")
	assert.ErrorIs(t, svc.Disable(ctx, "nobody", "test"), casework.ErrNotFound)

	log, err := svc.AuditLog(ctx, staff.AuditFilter{Action: "login_failed"})
	require.NoError(t, err)
	assert.Len(t, log, 7)
	assert.Equal(t, "disabled", log[0].Detail)
}
