package staff_test

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/staff"
)

// code is the code an authenticator app shows at t for secret.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	require.NoError(t, err)
	return c
}

// wrongCode is a code of none of the steps within a step of at.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	near := []string{code(t, secret, at.Add(-30*time.Second)), code(t, secret, at), code(t, secret, at.Add(30*time.Second))}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i); !slices.Contains(near, c) {
			return c
		}
	}
}

// newAdmin adds the admin "wangfang" to svc, with an authenticator
// confirmed at the clock's time, and returns its secret.
func newAdmin(t *testing.T, svc *staff.Service, clock *testclock.Clock) string {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, svc.AddUser(ctx, &staff.User{Username: "wangfang", Role: staff.RoleAdmin}, password, "test"))
	enrol, err := svc.EnrolTOTP(ctx, "wangfang", "cli")
	require.NoError(t, err)
	require.NoError(t, svc.ConfirmTOTP(ctx, "wangfang", code(t, enrol.Secret, clock.Now()), "cli"))
	return enrol.Secret
}

// TestTOTPEnrol: a secret enrolled signs in nobody until a code of it is
// confirmed; its URL is the apps' otpauth:// one; a service account has
// none.
func TestTOTPEnrol(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	svc, clock := newService(t)
	require.NoError(t, svc.AddUser(ctx, &staff.User{Username: "wangfang", Role: staff.RoleAdmin}, password, "test"))

	enrol, err := svc.EnrolTOTP(ctx, "wangfang", "cli")
	require.NoError(t, err)
	u, err := url.Parse(enrol.URL)
	require.NoError(t, err)
	assert.Equal(t, "otpauth", u.Scheme)
	assert.Equal(t, "totp", u.Host)
	assert.Equal(t, "/aftersales:wangfang", u.Path)
	assert.Equal(t, enrol.Secret, u.Query().Get("secret"))
	assert.Equal(t, "aftersales", u.Query().Get("issuer"))
	assert.Len(t, enrol.Secret, 32, "20 random bytes in base32")

	user, err := svc.User(ctx, "wangfang")
	require.NoError(t, err)
	assert.False(t, user.TOTPEnabled(), "not before it is confirmed")
	assert.Contains(t, user.String(), "\ttotp pending")
	_, _, err = svc.Login(ctx, "wangfang", password, "", "192.0.2.1", "")
	require.NoError(t, err, "the password alone, until the code is confirmed")

	assert.ErrorIs(t, svc.ConfirmTOTP(ctx, "wangfang", wrongCode(t, enrol.Secret, clock.Now()), "cli"), staff.ErrBadCode)
	assert.ErrorIs(t, svc.ConfirmTOTP(ctx, "wangfang", code(t, enrol.Secret, clock.Now().Add(-2*time.Minute)), "cli"), staff.ErrBadCode,
		"a code of two minutes ago")
	require.NoError(t, svc.ConfirmTOTP(ctx, "wangfang", code(t, enrol.Secret, clock.Now()), "cli"))
	user, err = svc.User(ctx, "wangfang")
	require.NoError(t, err)
	assert.True(t, user.TOTPEnabled())
	assert.Equal(t, enrol.Secret, user.TOTPSecret)
	assert.Empty(t, user.TOTPPending)
	assert.Contains(t, user.String(), "\ttotp on")
	var invalid *casework.ValidationError
	require.ErrorAs(t, svc.ConfirmTOTP(ctx, "wangfang", code(t, enrol.Secret, clock.Now()), "cli"), &invalid, "nothing to confirm")
	assert.Equal(t, "totp", invalid.Field)

	// Enrolling again keeps the confirmed secret until the new one is.
	again, err := svc.EnrolTOTP(ctx, "wangfang", "cli")
	require.NoError(t, err)
	assert.NotEqual(t, enrol.Secret, again.Secret)
	clock.Advance(30 * time.Second)
	_, _, err = svc.Login(ctx, "wangfang", password, code(t, again.Secret, clock.Now()), "192.0.2.1", "")
	assert.ErrorIs(t, err, staff.ErrBadCode, "the new secret, not confirmed")
	_, _, err = svc.Login(ctx, "wangfang", password, code(t, enrol.Secret, clock.Now()), "192.0.2.1", "")
	require.NoError(t, err, "the confirmed one")

	// A service account has no authenticator.
	_, err = svc.NewServiceAccount(ctx, &staff.User{Username: "crm", Role: staff.RoleAgent}, "cli")
	require.NoError(t, err)
	_, err = svc.EnrolTOTP(ctx, "crm", "cli")
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, "totp", invalid.Field)
	_, err = svc.EnrolTOTP(ctx, "nobody", "cli")
	assert.ErrorIs(t, err, casework.ErrNotFound)

	log, err := svc.AuditLog(ctx, staff.AuditFilter{Subject: "user:wangfang"})
	require.NoError(t, err)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	assert.Equal(t, []string{"totp_enrol", "totp_confirm", "totp_confirm_failed", "totp_confirm_failed", "totp_enrol", "user_add"}, actions)
}

// TestTOTPLogin: with an authenticator, the password alone opens no
// session; a code is good within a step either side of the service's clock,
// and once: neither it nor a code of an earlier step signs in again.
func TestTOTPLogin(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	svc, clock := newService(t)
	secret := newAdmin(t, svc, clock)
	login := func(password, code string) error {
		t.Helper()
		_, _, err := svc.Login(ctx, "wangfang", password, code, "192.0.2.1", "")
		return err
	}
	rest := func() { clock.Advance(15 * time.Minute) } // the account's limit, 5 tries, is full again
	rest()

	assert.ErrorIs(t, login(password, ""), staff.ErrCodeRequired)
	assert.ErrorIs(t, login(password, "  "), staff.ErrCodeRequired)
	assert.ErrorIs(t, login(password, "12345"), staff.ErrBadCode)
	assert.ErrorIs(t, login("wrong-password-1", code(t, secret, clock.Now())), staff.ErrLoginFailed,
		"a wrong password with the right code")
	rest()

	// Once only: the same code again, and a code of an earlier step.
	now := clock.Now()
	require.NoError(t, login(password, code(t, secret, now)))
	clock.Set(now.Add(10 * time.Second))
	assert.ErrorIs(t, login(password, code(t, secret, now)), staff.ErrBadCode, "the same code again")
	clock.Set(now.Add(30 * time.Second))
	assert.ErrorIs(t, login(password, code(t, secret, now)), staff.ErrBadCode, "within the skew, but used")
	require.NoError(t, login(password, code(t, secret, clock.Now().Add(30*time.Second))), "a step ahead: a phone a little fast")
	assert.ErrorIs(t, login(password, code(t, secret, clock.Now())), staff.ErrBadCode, "a step before the one used")
	rest()

	assert.ErrorIs(t, login(password, code(t, secret, clock.Now().Add(-time.Minute))), staff.ErrBadCode, "two steps behind")
	assert.ErrorIs(t, login(password, code(t, secret, clock.Now().Add(time.Minute))), staff.ErrBadCode, "two steps ahead")
	c := code(t, secret, clock.Now().Add(-30*time.Second))
	require.NoError(t, login(password, c[:3]+" "+c[3:]), "a step behind: a phone a little slow; typed 123 456")

	log, err := svc.AuditLog(ctx, staff.AuditFilter{Action: "login_failed"})
	require.NoError(t, err)
	var details []string
	for _, e := range log {
		details = append(details, e.Detail)
	}
	assert.Equal(t, []string{"wrong code", "wrong code", "code used", "code used", "code used", "wrong password", "wrong code",
		"code required", "code required"}, details)

	// Removed, the password alone signs in again.
	require.NoError(t, svc.DisableTOTP(ctx, "wangfang", "admin"))
	rest()
	require.NoError(t, login(password, ""))
	user, err := svc.User(ctx, "wangfang")
	require.NoError(t, err)
	assert.False(t, user.TOTPEnabled())
	assert.Contains(t, user.String(), "\ttotp off")
	log, err = svc.AuditLog(ctx, staff.AuditFilter{Action: "totp_disable"})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, "admin", log[0].Actor)
	assert.Equal(t, "user:wangfang", log[0].Subject)
	assert.ErrorIs(t, svc.DisableTOTP(ctx, "nobody", "cli"), casework.ErrNotFound)
}

// TestTOTPLoginIsLimited: a missing or wrong code counts against the
// account's limit as a wrong password does; over it, even the right code
// is refused.
func TestTOTPLoginIsLimited(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	svc, clock := newService(t)
	secret := newAdmin(t, svc, clock)
	clock.Advance(15 * time.Minute)
	for _, c := range []string{"", wrongCode(t, secret, clock.Now()), "", "12345", wrongCode(t, secret, clock.Now())} {
		_, _, err := svc.Login(ctx, "wangfang", password, c, "192.0.2.1", "")
		require.Error(t, err)
	}
	_, _, err := svc.Login(ctx, "wangfang", password, code(t, secret, clock.Now()), "192.0.2.1", "")
	var limited *staff.TooManyAttemptsError
	require.True(t, errors.As(err, &limited), "over the limit: %v", err)
	clock.Advance(limited.RetryAfter)
	_, _, err = svc.Login(ctx, "wangfang", password, code(t, secret, clock.Now()), "192.0.2.1", "")
	require.NoError(t, err)
}
