// Package identity decides who a chat account is. An owner's record — their
// name, their cases, their notifications, the right to act on their cases —
// is reached only by an account that proved it holds the phone on the record:
// by sharing its own contact on Telegram, by typing a one-time code sent by
// SMS to that phone, or because staff verified it by hand. Service issues and
// checks the codes within their limits, binds a proven account to its owner,
// and keeps the engineers' bind codes from being guessed.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// Store is what the service needs of the registry.
type Store interface {
	casework.IdentityStore
	FindOwnerByID(ctx context.Context, id int64) (*casework.Owner, error)
	FindOwnersByPhone(ctx context.Context, phone string) ([]*casework.Owner, error)
	UnitOwners(ctx context.Context, unitID int64) ([]*casework.Owner, error)
	CreateOwner(ctx context.Context, o *casework.Owner) error
	BindOwnerUnit(ctx context.Context, ownerID, unitID int64) error
}

// Sender sends a verification code by SMS (package sms has the providers).
type Sender interface {
	SendCode(ctx context.Context, phone, code string) error
}

// Config configures a Service. Zero limits take the defaults named.
type Config struct {
	Store Store
	// Sender sends the codes; nil: SMS is off, and owners prove who they are
	// by Telegram's contact or through staff.
	Sender Sender
	// NowFunc is the service's clock; required.
	NowFunc func() time.Time
	Logger  *slog.Logger

	CodeTTL        time.Duration // how long a code is valid; 5 min
	MaxAttempts    int           // wrong codes before a code is spent; 5
	ResendAfter    time.Duration // the least time between two codes to a phone or an account; 1 min
	DailyLimit     int           // codes to a phone, and for an account, in 24 hours; 5
	MaxBindFails   int           // wrong engineer bind codes an account may type in BindWindow; 5
	BindFailWindow time.Duration // 1 h
}

// The defaults of Config.
const (
	DefaultCodeTTL        = 5 * time.Minute
	DefaultMaxAttempts    = 5
	DefaultResendAfter    = time.Minute
	DefaultDailyLimit     = 5
	DefaultMaxBindFails   = 5
	DefaultBindFailWindow = time.Hour
)

// Service issues and checks codes and binds proven accounts. It is safe for
// concurrent use; one account's messages are handled one at a time by the
// router, which serializes its codes.
type Service struct {
	cfg Config
}

// New returns a Service. It panics without cfg.Store or cfg.NowFunc.
func New(cfg Config) *Service {
	if cfg.Store == nil || cfg.NowFunc == nil {
		panic("identity.New: Config.Store and Config.NowFunc are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defN := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&cfg.CodeTTL, DefaultCodeTTL)
	def(&cfg.ResendAfter, DefaultResendAfter)
	def(&cfg.BindFailWindow, DefaultBindFailWindow)
	defN(&cfg.MaxAttempts, DefaultMaxAttempts)
	defN(&cfg.DailyLimit, DefaultDailyLimit)
	defN(&cfg.MaxBindFails, DefaultMaxBindFails)
	return &Service{cfg: cfg}
}

// SMSOn reports whether codes can be sent.
func (s *Service) SMSOn() bool { return s.cfg.Sender != nil }

// CodeTTL is how long a code is valid.
func (s *Service) CodeTTL() time.Duration { return s.cfg.CodeTTL }

// Account names a chat account.
type Account struct{ Platform, UserID string }

func (a Account) String() string { return a.Platform + ":" + a.UserID }

// Errors of SendCode and CheckCode.
var (
	ErrSMSOff          = errors.New("identity: SMS is not configured")
	ErrDailyLimit      = errors.New("identity: too many codes in 24 hours")
	ErrNoCode          = errors.New("identity: no code to check")
	ErrExpired         = errors.New("identity: the code expired")
	ErrTooManyAttempts = errors.New("identity: too many wrong codes")
	ErrSendFailed      = errors.New("identity: the code could not be sent")
	ErrBindLocked      = errors.New("identity: too many wrong bind codes")
)

// TooSoonError is returned by SendCode within ResendAfter of the last code.
type TooSoonError struct{ Wait time.Duration }

func (e *TooSoonError) Error() string {
	return fmt.Sprintf("identity: a code was sent less than a minute ago; wait %s", e.Wait.Round(time.Second))
}

// WrongCodeError is returned by CheckCode for a wrong code that leaves tries.
type WrongCodeError struct{ Left int }

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("identity: wrong code, %d tries left", e.Left)
}

// SendCode sends a new 6-digit code to phone for the account, within the
// limits: one a minute and DailyLimit in 24 hours, to the phone and for the
// account alike. A code that could not be sent still counts, so that a
// failing provider is not hammered; the error wraps ErrSendFailed and the
// provider's error.
func (s *Service) SendCode(ctx context.Context, acct Account, phone string) error {
	if s.cfg.Sender == nil {
		return ErrSMSOff
	}
	now := s.cfg.NowFunc()
	code, err := newCode()
	if err != nil {
		return err
	}
	salt, err := randomHex(16)
	if err != nil {
		return err
	}
	vc := &casework.VerificationCode{
		Platform: acct.Platform, UserID: acct.UserID, Phone: phone,
		Salt: salt, CodeHash: hashCode(salt, code), CreatedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL),
	}
	// The limits are checked and the code stored in one transaction of
	// the store, so that requests at the same moment cannot pass them
	// together.
	within := func(counts casework.CodeCounts) error {
		if counts.Last != nil {
			if wait := counts.Last.Add(s.cfg.ResendAfter).Sub(now); wait > 0 {
				return &TooSoonError{Wait: wait}
			}
		}
		if counts.ByPhone >= s.cfg.DailyLimit || counts.ByAccount >= s.cfg.DailyLimit {
			return ErrDailyLimit
		}
		return nil
	}
	err = s.cfg.Store.CreateVerificationCode(ctx, vc, now.Add(-24*time.Hour), within)
	var soon *TooSoonError
	switch {
	case errors.As(err, &soon), errors.Is(err, ErrDailyLimit):
		return err
	case err != nil:
		return fmt.Errorf("store code: %w", err)
	}
	if err := s.cfg.Sender.SendCode(ctx, phone, code); err != nil {
		s.cfg.Logger.Error("verification code not sent", "platform", acct.Platform, "phone", casework.MaskPhone(phone), "error", err)
		// A code that never left cannot be typed: it is spent, and still
		// counts towards the limits.
		if _, serr := s.cfg.Store.SpendVerificationCode(ctx, vc.ID, true, now); serr != nil {
			s.cfg.Logger.Error("unsent verification code not spent", "error", serr)
		}
		return fmt.Errorf("%w: %w", ErrSendFailed, err)
	}
	s.cfg.Logger.Info("verification code sent", "platform", acct.Platform, "phone", casework.MaskPhone(phone))
	return nil
}

// CheckCode checks a code the account typed against its newest code and
// returns the phone it proves. Wrong codes count: after MaxAttempts the
// code is spent (ErrTooManyAttempts); a wrong code before that returns a
// *WrongCodeError with the tries left. The comparison takes the same time
// whatever the code.
func (s *Service) CheckCode(ctx context.Context, acct Account, code string) (phone string, err error) {
	vc, err := s.latestUsable(ctx, acct)
	if err != nil {
		return "", err
	}
	now := s.cfg.NowFunc()
	right := subtle.ConstantTimeCompare([]byte(hashCode(vc.Salt, code)), []byte(vc.CodeHash)) == 1
	after, err := s.cfg.Store.SpendVerificationCode(ctx, vc.ID, right, now)
	if err != nil {
		return "", fmt.Errorf("spend code: %w", err)
	}
	if right {
		return vc.Phone, nil
	}
	left := s.cfg.MaxAttempts - after.Attempts
	if left <= 0 {
		s.cfg.Logger.Warn("verification code spent by wrong tries", "platform", acct.Platform, "phone", casework.MaskPhone(vc.Phone))
		return "", ErrTooManyAttempts
	}
	return "", &WrongCodeError{Left: left}
}

// PendingPhone returns the phone of the account's newest code while it can
// still be typed, or "".
func (s *Service) PendingPhone(ctx context.Context, acct Account) (string, error) {
	vc, err := s.latestUsable(ctx, acct)
	switch {
	case errors.Is(err, ErrNoCode), errors.Is(err, ErrTooManyAttempts), errors.Is(err, ErrExpired):
		return "", nil
	case err != nil:
		return "", err
	}
	return vc.Phone, nil
}

// latestUsable returns the account's newest code while it can still be
// typed: ErrNoCode when there is none or it was used (or never sent),
// ErrTooManyAttempts, ErrExpired.
func (s *Service) latestUsable(ctx context.Context, acct Account) (*casework.VerificationCode, error) {
	vc, err := s.cfg.Store.LatestVerificationCode(ctx, acct.Platform, acct.UserID)
	switch {
	case errors.Is(err, casework.ErrNotFound):
		return nil, ErrNoCode
	case err != nil:
		return nil, fmt.Errorf("find code: %w", err)
	case vc.UsedAt != nil:
		return nil, ErrNoCode
	case vc.Attempts >= s.cfg.MaxAttempts:
		return nil, ErrTooManyAttempts
	case !s.cfg.NowFunc().Before(vc.ExpiresAt):
		return nil, ErrExpired
	}
	return vc, nil
}

// Claim is what an account said of itself before it proved its phone: the
// name it typed and the unit it reports for.
type Claim struct {
	Name   string
	UnitID int64
}

// Result is what Prove bound.
type Result struct {
	Owner *casework.Owner
	// OnRegister is false when the owner is not on the register of the
	// claimed unit: staff check the case.
	OnRegister bool
	// Attached counts the account's earlier cases now given to the owner.
	Attached int
}

// Prove binds id, the account that proved it holds phone (by Telegram's
// contact or a code), to the owner of that phone. Among owners with the
// phone it takes the one on the claimed unit's register, else the one with
// the claimed name, else the first; when none has the phone and a name was
// claimed, it registers the owner. A proven phone does not put anyone on a
// unit's register: a claimed unit the owner is not on the register of stays
// off it, OnRegister false, for staff to check. id is saved with its new binding, the
// owner's timeline records it, and the cases the account reported before it
// proved who it is go to the owner. Without an owner to bind (no owner has
// the phone and no name was claimed) it returns casework.ErrNotFound.
func (s *Service) Prove(ctx context.Context, id *casework.ChatIdentity, phone string, by casework.Actor, claim Claim) (Result, error) {
	if id.MemberID != 0 {
		return Result{}, casework.Invalid("chat_account", "is an engineer's account")
	}
	owner, onRegister, err := s.ownerOf(ctx, phone, claim)
	if err != nil {
		return Result{}, err
	}
	if owner == nil {
		return Result{}, casework.ErrNotFound
	}
	if onRegister && claim.UnitID != 0 {
		id.UnitID = claim.UnitID
	}
	res, err := s.bind(ctx, id, owner, phone, by, string(by))
	if err != nil {
		return Result{}, err
	}
	res.OnRegister = onRegister
	return res, nil
}

// ownerOf finds the owner of phone for claim; onRegister tells whether the
// owner is on the claimed unit's register (true when no unit is claimed).
func (s *Service) ownerOf(ctx context.Context, phone string, claim Claim) (owner *casework.Owner, onRegister bool, err error) {
	st := s.cfg.Store
	if claim.UnitID != 0 {
		holders, err := st.UnitOwners(ctx, claim.UnitID)
		if err != nil {
			return nil, false, fmt.Errorf("unit owners: %w", err)
		}
		for _, o := range holders {
			if o.Phone == phone {
				return o, true, nil
			}
		}
	}
	byPhone, err := st.FindOwnersByPhone(ctx, phone)
	if err != nil {
		return nil, false, fmt.Errorf("owners by phone: %w", err)
	}
	onRegister = claim.UnitID == 0
	for _, o := range byPhone {
		if claim.Name != "" && strings.EqualFold(o.Name, claim.Name) {
			return o, onRegister, nil
		}
	}
	if len(byPhone) > 0 {
		return byPhone[0], onRegister, nil
	}
	if claim.Name == "" {
		return nil, false, nil
	}
	o := &casework.Owner{Name: claim.Name, Phone: phone}
	if err := st.CreateOwner(ctx, o); err != nil {
		return nil, false, fmt.Errorf("create owner: %w", err)
	}
	return o, onRegister, nil
}

// bind saves id bound to owner as proven by by, records it on the owner's
// timeline with who, and gives the account's earlier cases to the owner.
func (s *Service) bind(ctx context.Context, id *casework.ChatIdentity, owner *casework.Owner, phone string, by casework.Actor, how string) (Result, error) {
	st := s.cfg.Store
	now := s.cfg.NowFunc()
	id.OwnerID, id.VerifiedPhone, id.VerifiedAt, id.VerifiedBy = owner.ID, phone, &now, by
	if err := st.SaveChatIdentity(ctx, id); err != nil {
		return Result{}, fmt.Errorf("save identity: %w", err)
	}
	note := fmt.Sprintf("%s:%s 已验证为业主本人（%s） verified as the owner by %s", id.Platform, id.UserID, how, how)
	if err := st.AddOwnerEvent(ctx, &casework.OwnerEvent{OwnerID: owner.ID, At: now, Actor: by, Kind: "identity_verified", Note: note}); err != nil {
		return Result{}, fmt.Errorf("owner timeline: %w", err)
	}
	n, err := st.AttachReportedCases(ctx, id.Platform, id.UserID, owner.ID)
	if err != nil {
		return Result{}, fmt.Errorf("attach cases: %w", err)
	}
	s.cfg.Logger.Info("owner identity verified", "platform", id.Platform, "owner_id", owner.ID, "by", string(by), "phone", casework.MaskPhone(phone), "cases_attached", n)
	return Result{Owner: owner, OnRegister: true, Attached: n}, nil
}

// VerifyByStaff binds the chat account to the owner on staff's word, for an
// owner without a reachable phone. The account must have written to the bot
// before (casework.ErrNotFound otherwise), and must not be an engineer's.
func (s *Service) VerifyByStaff(ctx context.Context, acct Account, ownerID int64, staff casework.Actor) (*casework.ChatIdentity, Result, error) {
	st := s.cfg.Store
	id, err := st.FindChatIdentity(ctx, acct.Platform, acct.UserID)
	if err != nil {
		return nil, Result{}, fmt.Errorf("chat account %s: %w", acct, err)
	}
	if id.MemberID != 0 {
		return nil, Result{}, casework.Invalid("chat_account", "is an engineer's account")
	}
	owner, err := st.FindOwnerByID(ctx, ownerID)
	if err != nil {
		return nil, Result{}, fmt.Errorf("owner %d: %w", ownerID, err)
	}
	res, err := s.bind(ctx, id, owner, owner.Phone, staff, string(staff))
	if err != nil {
		return nil, Result{}, err
	}
	return id, res, nil
}

// BindAllowed tells whether the account may try an engineer's bind code:
// ErrBindLocked after MaxBindFails wrong codes within BindFailWindow.
func (s *Service) BindAllowed(ctx context.Context, acct Account) error {
	n, err := s.cfg.Store.CountFailures(ctx, "bind", acct.String(), s.cfg.NowFunc().Add(-s.cfg.BindFailWindow))
	if err != nil {
		return fmt.Errorf("count bind failures: %w", err)
	}
	if n >= s.cfg.MaxBindFails {
		return ErrBindLocked
	}
	return nil
}

// BindFailed records a wrong bind code typed by the account.
func (s *Service) BindFailed(ctx context.Context, acct Account) error {
	if err := s.cfg.Store.RecordFailure(ctx, "bind", acct.String(), s.cfg.NowFunc()); err != nil {
		return fmt.Errorf("record bind failure: %w", err)
	}
	s.cfg.Logger.Warn("wrong bind code", "platform", acct.Platform)
	return nil
}

// newCode returns 6 random digits.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("random code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random salt: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func hashCode(salt, code string) string {
	h := sha256.Sum256([]byte(salt + ":" + code))
	return hex.EncodeToString(h[:])
}

// CodeIn finds a 6-digit code in what the owner typed: "123456",
// "123 456", "验证码：１２３４５６".
func CodeIn(text string) (string, bool) {
	var digits []rune
	for _, r := range text {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, r)
		case r >= '０' && r <= '９':
			digits = append(digits, '0'+(r-'０'))
		case r == ' ' || r == '-' || r == '\u00a0' || r == '　':
		default:
			if len(digits) > 0 && len(digits) != 6 {
				digits = digits[:0]
			}
		}
	}
	if len(digits) != 6 {
		return "", false
	}
	return string(digits), true
}
