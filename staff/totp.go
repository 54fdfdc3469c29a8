package staff

// A person's second factor: the six-digit code of an authenticator app
// (TOTP, RFC 6238; SHA-1, 30-second steps, as Google Authenticator and its
// likes use by default). It is optional, offered to admins: once an account
// has one confirmed, its password alone opens no session.

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/aftersales/aftersales/casework"
)

// TOTP parameters: the apps' defaults.
const (
	// totpPeriod is the length of a time step, in seconds.
	totpPeriod = 30
	// totpSkew is how many steps before or after the service's time a
	// code is still accepted: a phone's clock a little off, a code typed
	// as it changes.
	totpSkew = 1
	// DefaultTOTPIssuer names the service in the authenticator app.
	DefaultTOTPIssuer = "aftersales"
)

// Errors of the second factor. Login returns them only after the right
// password of an active account; each attempt counts against the same
// limits as a wrong password.
var (
	ErrCodeRequired = errors.New("staff: the authenticator code is required")
	ErrBadCode      = errors.New("staff: wrong or used authenticator code")
)

// TOTPEnrolment is a secret just made for an account, to add to an
// authenticator app: scan URL's QR code, or type Secret.
type TOTPEnrolment struct {
	Secret string // base32, without padding
	URL    string // otpauth://totp/ISSUER:USERNAME?secret=…&issuer=…
}

// TOTPEnabled reports whether the account signs in with a code too.
func (u *User) TOTPEnabled() bool { return u.TOTPSecret != "" }

// validateTOTP checks the second factor's fields: base32 secrets, and none
// on a service account.
func (u *User) validateTOTP() error {
	if u.Kind == KindService && (u.TOTPSecret != "" || u.TOTPPending != "") {
		return casework.Invalid("totp", "a service account has no authenticator")
	}
	for _, s := range []string{u.TOTPSecret, u.TOTPPending} {
		if s == "" {
			continue
		}
		if b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s); err != nil || len(b) < 10 || len(s) > 128 {
			return casework.Invalid("totp", "a secret is base32, 10 to 80 bytes")
		}
	}
	if u.TOTPStep < 0 {
		return casework.Invalid("totp", "a time step is not negative")
	}
	return nil
}

// totpState is the second factor as `user list` shows it.
func (u *User) totpState() string {
	switch {
	case u.Kind == KindService:
		return "-"
	case u.TOTPEnabled():
		return "totp on"
	case u.TOTPPending != "":
		return "totp pending"
	}
	return "totp off"
}

// EnrolTOTP makes a new secret for a person's account and returns it, to
// add to an authenticator app. It signs nobody in until ConfirmTOTP checks a
// code of it; until then, an authenticator confirmed before stays the one
// that counts. Enrolling again replaces a secret not yet confirmed.
func (s *Service) EnrolTOTP(ctx context.Context, username, actor string) (*TOTPEnrolment, error) {
	u, err := s.cfg.Store.FindUserByName(ctx, username)
	if err != nil {
		return nil, err
	}
	if u.Kind != KindPerson {
		return nil, casework.Invalid("totp", "%s is a service account: it has no authenticator", username)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.TOTPIssuer, AccountName: u.Username})
	if err != nil {
		return nil, fmt.Errorf("staff: new authenticator secret: %w", err)
	}
	u.TOTPPending = key.Secret()
	if err := s.cfg.Store.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := s.Audit(ctx, &AuditEntry{Actor: actor, Action: "totp_enrol", Subject: "user:" + u.Username}); err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP checks a code of the secret EnrolTOTP made and makes it the
// account's second factor; that code is then used. ErrBadCode when the code
// is not the secret's now; a *casework.ValidationError "totp" when nothing
// is being enrolled.
func (s *Service) ConfirmTOTP(ctx context.Context, username, code, actor string) error {
	u, err := s.cfg.Store.FindUserByName(ctx, username)
	if err != nil {
		return err
	}
	if u.TOTPPending == "" {
		return casework.Invalid("totp", "%s has no authenticator being set up: enrol first", username)
	}
	step, ok := matchTOTP(u.TOTPPending, code, s.cfg.NowFunc())
	if !ok {
		_ = s.Audit(ctx, &AuditEntry{Actor: actor, Action: "totp_confirm_failed", Subject: "user:" + u.Username})
		return ErrBadCode
	}
	u.TOTPSecret, u.TOTPPending, u.TOTPStep = u.TOTPPending, "", step
	if err := s.cfg.Store.UpdateUser(ctx, u); err != nil {
		return err
	}
	return s.Audit(ctx, &AuditEntry{Actor: actor, Action: "totp_confirm", Subject: "user:" + u.Username})
}

// DisableTOTP removes the account's authenticator, confirmed or being set
// up: its password alone signs it in again. It is an admin's or the
// command line's to do, recorded as actor's.
func (s *Service) DisableTOTP(ctx context.Context, username, actor string) error {
	u, err := s.cfg.Store.FindUserByName(ctx, username)
	if err != nil {
		return err
	}
	u.TOTPSecret, u.TOTPPending = "", ""
	if err := s.cfg.Store.UpdateUser(ctx, u); err != nil {
		return err
	}
	return s.Audit(ctx, &AuditEntry{Actor: actor, Action: "totp_disable", Subject: "user:" + u.Username})
}

// checkTOTP is Login's second step for an account with an authenticator:
// the code must be one of secret's within the skew, of a later step than
// the last accepted, and the store must take its step first.
func (s *Service) checkTOTP(ctx context.Context, u *User, code string, now time.Time) (detail string, err error) {
	if strings.TrimSpace(code) == "" {
		return "code required", ErrCodeRequired
	}
	step, ok := matchTOTP(u.TOTPSecret, code, now)
	if !ok {
		return "wrong code", ErrBadCode
	}
	if step <= u.TOTPStep {
		return "code used", ErrBadCode
	}
	used, err := s.cfg.Store.UseTOTPStep(ctx, u.ID, step)
	if err != nil {
		return "", err
	}
	if !used {
		return "code used", ErrBadCode // by another sign-in, meanwhile
	}
	return "", nil
}

// totpStep is the time step of t: whole periods since the Unix epoch.
func totpStep(t time.Time) int64 {
	sec := t.Unix()
	step := sec / totpPeriod
	if sec%totpPeriod < 0 {
		step--
	}
	return step
}

// matchTOTP returns the latest time step within totpSkew of now whose code
// of secret is code; ok is false when there is none. Spaces and dashes in
// code are ignored ("123 456"). Each code is compared in constant time.
func matchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	opts := hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	cur := totpStep(now)
	for step := cur + totpSkew; step >= cur-totpSkew; step-- {
		if step < 0 {
			break
		}
		if match, err := hotp.ValidateCustom(code, uint64(step), secret, opts); err == nil && match {
			return step, true
		}
	}
	return 0, false
}
