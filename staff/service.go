package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
)

// Session lifetimes, unless configured.
const (
	// DefaultIdleTimeout ends a session nobody used for this long.
	DefaultIdleTimeout = 2 * time.Hour
	// DefaultMaxAge ends a session this long after the login, however
	// active: a day's shift.
	DefaultMaxAge = 12 * time.Hour
	// touchEvery is how stale LastSeenAt may get before a request writes
	// it: one write a minute per session, not one per request.
	touchEvery = time.Minute
)

// Errors of logins and sessions. A failed login never says whether the
// account exists.
var (
	ErrLoginFailed = errors.New("staff: wrong username or password")
	ErrNoSession   = errors.New("staff: not signed in")
)

// TooManyAttemptsError refuses a login over its limit.
type TooManyAttemptsError struct{ RetryAfter time.Duration }

func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("staff: too many login attempts; try again in %v", e.RetryAfter.Round(time.Second))
}

// Config configures a Service.
type Config struct {
	Store   Store
	NowFunc func() time.Time // required: the service's clock
	Logger  *slog.Logger
	// IdleTimeout and MaxAge bound a session; defaults DefaultIdleTimeout
	// and DefaultMaxAge.
	IdleTimeout, MaxAge time.Duration
	// AccountLimit and IPLimit bound the login attempts per username and
	// per address, a wrong or missing authenticator code counted as a wrong
	// password; nil: none.
	AccountLimit, IPLimit bot.Limiter
	// TOTPIssuer names the service in authenticator apps; default
	// DefaultTOTPIssuer.
	TOTPIssuer string
}

// Service signs people in and out, manages accounts and writes the audit
// log.
type Service struct {
	cfg   Config
	dummy string // a hash checked for unknown users, so that they take as long
}

// New returns a Service; it panics without a Store or a clock.
func New(cfg Config) *Service {
	if cfg.Store == nil || cfg.NowFunc == nil {
		panic("staff: Config needs a Store and a NowFunc")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.TOTPIssuer == "" {
		cfg.TOTPIssuer = DefaultTOTPIssuer
	}
	dummy, err := HashPassword(rand.Text())
	if err != nil {
		panic(err)
	}
	return &Service{cfg: cfg, dummy: dummy}
}

// AddUser creates a person's account with password, recorded in the audit
// log as done by actor ("cli" from the command line).
func (s *Service) AddUser(ctx context.Context, u *User, password, actor string) error {
	u.Kind = KindPerson
	if err := u.Validate(); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return casework.Invalid("password", "%v", err)
	}
	u.PasswordHash = hash
	if err := s.cfg.Store.CreateUser(ctx, u); err != nil {
		return err
	}
	return s.Audit(ctx, &AuditEntry{Actor: actor, Action: "user_add", Subject: "user:" + u.Username, Detail: string(u.Role)})
}

// Disable disables the account and ends every session of it.
func (s *Service) Disable(ctx context.Context, username, actor string) error {
	u, err := s.cfg.Store.FindUserByName(ctx, username)
	if err != nil {
		return err
	}
	u.Disabled = true
	if err := s.cfg.Store.UpdateUser(ctx, u); err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteUserSessions(ctx, u.ID); err != nil {
		return err
	}
	return s.Audit(ctx, &AuditEntry{Actor: actor, Action: "user_disable", Subject: "user:" + u.Username})
}

// Users lists every account.
func (s *Service) Users(ctx context.Context) ([]*User, error) { return s.cfg.Store.ListUsers(ctx) }

// User returns the account named username, disabled or not; ErrNotFound if
// there is none.
func (s *Service) User(ctx context.Context, username string) (*User, error) {
	return s.cfg.Store.FindUserByName(ctx, username)
}

// Login checks a person's username and password, and the code of their
// authenticator when they have one, and opens a session; it returns the
// session's token, for the cookie. A wrong password is ErrLoginFailed,
// whatever the code; the right one of an account with an authenticator is
// ErrCodeRequired without a code, ErrBadCode with a wrong one or one used
// before. Attempts are limited per username and per address, whatever
// failed; every attempt is in the audit log.
func (s *Service) Login(ctx context.Context, username, password, code, ip, userAgent string) (*User, string, error) {
	now := s.cfg.NowFunc()
	for _, l := range []struct {
		lim bot.Limiter
		key string
	}{{s.cfg.AccountLimit, "user:" + username}, {s.cfg.IPLimit, "ip:" + ip}} {
		if l.lim == nil {
			continue
		}
		ok, wait, err := l.lim.Allow(ctx, l.key, now)
		if err != nil {
			s.cfg.Logger.WarnContext(ctx, "login limit unavailable; the attempt is checked", "error", err)
			continue
		}
		if !ok {
			_ = s.Audit(ctx, &AuditEntry{Actor: truncate(username, 64), Action: "login_limited", IP: ip})
			return nil, "", &TooManyAttemptsError{RetryAfter: wait}
		}
	}
	u, err := s.cfg.Store.FindUserByName(ctx, username)
	if errors.Is(err, casework.ErrNotFound) {
		_, _ = CheckPassword(s.dummy, password)
		_ = s.Audit(ctx, &AuditEntry{Actor: truncate(username, 64), Action: "login_failed", Detail: "no such account", IP: ip})
		return nil, "", ErrLoginFailed
	}
	if err != nil {
		return nil, "", err
	}
	ok, err := CheckPassword(u.PasswordHash, password)
	if err != nil && !errors.Is(err, ErrBadHash) {
		return nil, "", err
	}
	if !ok || u.Disabled || u.Kind != KindPerson {
		detail := "wrong password"
		if u.Disabled {
			detail = "disabled"
		}
		_ = s.Audit(ctx, &AuditEntry{UserID: u.ID, Actor: u.Actor(), Action: "login_failed", Detail: detail, IP: ip})
		return nil, "", ErrLoginFailed
	}
	if u.TOTPEnabled() {
		if detail, err := s.checkTOTP(ctx, u, code, now); err != nil {
			if detail != "" {
				_ = s.Audit(ctx, &AuditEntry{UserID: u.ID, Actor: u.Actor(), Action: "login_failed", Detail: detail, IP: ip})
			}
			return nil, "", err
		}
	}
	token := rand.Text() + rand.Text()
	sess := &Session{
		TokenHash: hashToken(token), UserID: u.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.MaxAge), IP: ip, UserAgent: truncate(userAgent, 256),
	}
	if err := s.cfg.Store.CreateSession(ctx, sess); err != nil {
		return nil, "", err
	}
	if err := s.Audit(ctx, &AuditEntry{UserID: u.ID, Actor: u.Actor(), Action: "login", IP: ip}); err != nil {
		return nil, "", err
	}
	return u, token, nil
}

// Authenticate returns the user and session of a cookie's token, or
// ErrNoSession when the session does not exist, expired (idle or absolute),
// or its user is disabled.
func (s *Service) Authenticate(ctx context.Context, token string) (*User, *Session, error) {
	if token == "" {
		return nil, nil, ErrNoSession
	}
	sess, err := s.cfg.Store.FindSession(ctx, hashToken(token))
	if errors.Is(err, casework.ErrNotFound) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.cfg.NowFunc()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(s.cfg.IdleTimeout)) {
		_ = s.cfg.Store.DeleteSession(ctx, sess.ID)
		return nil, nil, ErrNoSession
	}
	u, err := s.cfg.Store.FindUser(ctx, sess.UserID)
	if errors.Is(err, casework.ErrNotFound) || (err == nil && u.Disabled) {
		_ = s.cfg.Store.DeleteSession(ctx, sess.ID)
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.cfg.Store.TouchSession(ctx, sess.ID, now); errors.Is(err, casework.ErrNotFound) {
			return nil, nil, ErrNoSession // signed out meanwhile
		} else if err != nil {
			return nil, nil, err
		}
		sess.LastSeenAt = now
	}
	return u, sess, nil
}

// Logout ends the session of a token.
func (s *Service) Logout(ctx context.Context, token, ip string) error {
	u, sess, err := s.Authenticate(ctx, token)
	if errors.Is(err, ErrNoSession) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteSession(ctx, sess.ID); err != nil {
		return err
	}
	return s.Audit(ctx, &AuditEntry{UserID: u.ID, Actor: u.Actor(), Action: "logout", IP: ip})
}

// Audit records e at the service's time.
func (s *Service) Audit(ctx context.Context, e *AuditEntry) error {
	e.At = s.cfg.NowFunc()
	if err := s.cfg.Store.AddAudit(ctx, e); err != nil {
		return fmt.Errorf("staff: audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog returns audit entries, newest first.
func (s *Service) AuditLog(ctx context.Context, f AuditFilter) ([]*AuditEntry, error) {
	return s.cfg.Store.ListAudit(ctx, f)
}

// hashToken is what the store keeps of a session's token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// SetPassword replaces a person's password and ends their sessions.
func (s *Service) SetPassword(ctx context.Context, username, password, actor string) error {
	u, err := s.cfg.Store.FindUserByName(ctx, username)
	if err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return casework.Invalid("password", "%v", err)
	}
	u.PasswordHash = hash
	if err := s.cfg.Store.UpdateUser(ctx, u); err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteUserSessions(ctx, u.ID); err != nil {
		return err
	}
	return s.Audit(ctx, &AuditEntry{Actor: actor, Action: "password_set", Subject: "user:" + u.Username})
}

// Service accounts: an integration calls the API with a bearer token; the
// account holds the token's SHA-256 (a token is random and long, so a slow
// hash adds nothing), and its actions are recorded under its name.

// tokenHash is what a service account keeps of its token.
func tokenHash(token string) string { return "sha256$" + hashToken(token) }

// MinTokenLen is the shortest API token accepted.
const MinTokenLen = 24

// EnsureServiceAccount creates or updates the service account u, whose
// bearer token is token: the configured API tokens become accounts at
// start, so that every API action names one.
func (s *Service) EnsureServiceAccount(ctx context.Context, u *User, token string) error {
	if len(token) < MinTokenLen {
		return casework.Invalid("token", "at least %d characters", MinTokenLen)
	}
	u.Kind, u.PasswordHash = KindService, tokenHash(token)
	if err := u.Validate(); err != nil {
		return err
	}
	old, err := s.cfg.Store.FindUserByName(ctx, u.Username)
	switch {
	case errors.Is(err, casework.ErrNotFound):
		if err := s.cfg.Store.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.Audit(ctx, &AuditEntry{Actor: "config", Action: "user_add", Subject: "user:" + u.Username, Detail: string(u.Role) + " service account"})
	case err != nil:
		return err
	case old.Kind != KindService:
		return casework.Invalid("username", "%s is a person's account", u.Username)
	}
	if old.PasswordHash == u.PasswordHash && old.Role == u.Role && old.PartyID == u.PartyID && !old.Disabled &&
		slices.Equal(old.ProjectIDs, u.ProjectIDs) {
		*u = *old
		return nil
	}
	u.ID, u.CreatedAt = old.ID, old.CreatedAt
	return s.cfg.Store.UpdateUser(ctx, u)
}

// NewServiceAccount creates a service account and returns its new random
// token, shown once.
func (s *Service) NewServiceAccount(ctx context.Context, u *User, actor string) (string, error) {
	token := rand.Text() + rand.Text()
	u.Kind, u.PasswordHash = KindService, tokenHash(token)
	if err := u.Validate(); err != nil {
		return "", err
	}
	if err := s.cfg.Store.CreateUser(ctx, u); err != nil {
		return "", err
	}
	return token, s.Audit(ctx, &AuditEntry{Actor: actor, Action: "user_add", Subject: "user:" + u.Username, Detail: string(u.Role) + " service account"})
}

// AuthenticateToken returns the active service account whose token this
// is, or ErrNoSession. The account is looked up by the token's SHA-256: a
// token is random and long, so its hash names it, and the lookup tells an
// attacker nothing a guess of the token would not.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (*User, error) {
	if token == "" {
		return nil, ErrNoSession
	}
	u, err := s.cfg.Store.FindServiceAccount(ctx, tokenHash(token))
	switch {
	case errors.Is(err, casework.ErrNotFound):
		return nil, ErrNoSession
	case err != nil:
		return nil, err
	case u.Disabled:
		return nil, ErrNoSession
	}
	return u, nil
}

// views returns the store's saved views.
func (s *Service) views() (ViewStore, error) {
	vs, ok := s.cfg.Store.(ViewStore)
	if !ok {
		return nil, errors.New("staff: the store keeps no saved views")
	}
	return vs, nil
}

// Views returns the user's saved case lists by name.
func (s *Service) Views(ctx context.Context, u *User) ([]*View, error) {
	vs, err := s.views()
	if err != nil {
		return nil, err
	}
	return vs.ListViews(ctx, u.ID)
}

// SaveView saves the user's case list query under name, replacing the
// view of that name.
func (s *Service) SaveView(ctx context.Context, u *User, name, query string) (*View, error) {
	vs, err := s.views()
	if err != nil {
		return nil, err
	}
	v := &View{UserID: u.ID, Name: strings.TrimSpace(name), Query: query}
	return v, vs.SaveView(ctx, v)
}

// DeleteView deletes one of the user's views.
func (s *Service) DeleteView(ctx context.Context, u *User, id int64) error {
	vs, err := s.views()
	if err != nil {
		return err
	}
	return vs.DeleteView(ctx, u.ID, id)
}
