package casework

import (
	"context"
	"time"
)

// ChatIdentity is a chat account on a messaging platform (a Telegram user, a
// WeChat OpenID, a web chat visitor) and what the department knows of it: the
// owner and default unit it was bound to in the dialogue, or the member of a
// party it belongs to; its language; whether it can still be reached.
type ChatIdentity struct {
	Platform string // telegram, wechat, web
	UserID   string
	// OwnerID is the owner the account proved to be: 0 until it proved it
	// holds the phone on the owner's record (Verified*). An account that
	// did not reaches only the cases it reported itself.
	OwnerID int64
	UnitID  int64 // the unit the owner reports for by default
	// VerifiedPhone is the phone the account proved to hold, when, and how:
	// VerifyTelegramContact, VerifySMS or Staff(id).
	VerifiedPhone string
	VerifiedAt    *time.Time
	VerifiedBy    Actor
	MemberID      int64 // set when the account is an engineer's
	Lang          string
	DisplayName   string
	Unreachable   bool       // blocked the bot / unsubscribed
	LastInboundAt *time.Time // the user's last message (WeChat's 48-hour window)
	HandoffAt     *time.Time // asked for a person; nil when the bot is in charge
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// How a chat account proved the phone on an owner's record
// (ChatIdentity.VerifiedBy); staff verifying by hand are Staff(id).
const (
	// VerifyTelegramContact: the account shared its own contact, whose
	// number Telegram vouches for (Contact.UserID is the sender).
	VerifyTelegramContact Actor = "telegram_contact"
	// VerifySMS: the account typed the one-time code sent to the phone.
	VerifySMS Actor = "sms"
)

// Verified reports whether the account proved who it is.
func (id *ChatIdentity) Verified() bool { return id.VerifiedAt != nil }

// VerificationCode is a one-time code sent by SMS to prove a chat account
// holds a phone number. Only a hash of the code is stored.
type VerificationCode struct {
	ID        int64
	Platform  string // the chat account it was sent for
	UserID    string
	Phone     string
	CodeHash  string // hex SHA-256 of the salt and the code
	Salt      string
	Attempts  int // wrong codes typed so far
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// Validate checks a code as the stores take it: the account, the phone,
// the hash and the expiry are required.
func (c *VerificationCode) Validate() error {
	for _, f := range []struct{ field, v string }{
		{"platform", c.Platform}, {"user_id", c.UserID}, {"phone", c.Phone}, {"code_hash", c.CodeHash},
	} {
		if f.v == "" {
			return Invalid(f.field, "is required")
		}
	}
	if c.ExpiresAt.IsZero() {
		return Invalid("expires_at", "is required")
	}
	return nil
}

// CodeCounts counts the codes sent since a moment: to a phone, and for a
// chat account, and when the newest of either was sent.
type CodeCounts struct {
	ByPhone, ByAccount int
	Last               *time.Time
}

// OwnerEvent is an entry of an owner's timeline: who proved to be them, and
// how, or who verified them by hand.
type OwnerEvent struct {
	ID      int64
	OwnerID int64
	At      time.Time
	Actor   Actor
	Kind    string // identity_verified
	Note    string
}

// IdentityStore keeps chat identities.
type IdentityStore interface {
	// SaveChatIdentity inserts or replaces the identity keyed by (Platform,
	// UserID) and sets its timestamps.
	SaveChatIdentity(ctx context.Context, id *ChatIdentity) error
	// FindChatIdentity returns ErrNotFound when the account is unknown.
	FindChatIdentity(ctx context.Context, platform, userID string) (*ChatIdentity, error)
	// FindChatIdentitiesByOwner returns the chat accounts bound to an owner.
	FindChatIdentitiesByOwner(ctx context.Context, ownerID int64) ([]*ChatIdentity, error)

	// CreateVerificationCode stores a code about to be sent and sets its
	// ID, once check accepted the counts of the codes created since since
	// for the code's phone and account (see CountVerificationCodes). The
	// count, the check and the insert are one transaction, serialized per
	// phone and per account, so that requests at the same moment cannot
	// pass one limit together. An error of check is returned as it is, and
	// nothing is stored.
	CreateVerificationCode(ctx context.Context, c *VerificationCode, since time.Time, check func(CodeCounts) error) error
	// LatestVerificationCode returns the newest code of the chat account,
	// or ErrNotFound.
	LatestVerificationCode(ctx context.Context, platform, userID string) (*VerificationCode, error)
	// CountVerificationCodes counts the codes created since since for phone
	// and for the chat account.
	CountVerificationCodes(ctx context.Context, phone, platform, userID string, since time.Time) (CodeCounts, error)
	// SpendVerificationCode records one try of code id at at: a wrong one
	// adds to Attempts, a right one (used) sets UsedAt. It returns the code
	// as it is after the try, or ErrNotFound.
	SpendVerificationCode(ctx context.Context, id int64, used bool, at time.Time) (*VerificationCode, error)

	// RecordFailure notes a failed attempt of kind (such as "bind") by
	// subject (a chat account) at at; CountFailures counts them since since.
	RecordFailure(ctx context.Context, kind, subject string, at time.Time) error
	CountFailures(ctx context.Context, kind, subject string, since time.Time) (int, error)

	// AttachReportedCases gives the cases that the chat account reported
	// with no owner to ownerID, once the account proved to be that owner,
	// and marks them and the account's unverified cases already ownerID's
	// (reported under a binding made before bindings were proven)
	// IdentityVerified; it returns how many it changed.
	AttachReportedCases(ctx context.Context, platform, userID string, ownerID int64) (int, error)

	// AddOwnerEvent appends to an owner's timeline and sets the event's ID;
	// ListOwnerEvents returns the timeline, oldest first.
	AddOwnerEvent(ctx context.Context, e *OwnerEvent) error
	ListOwnerEvents(ctx context.Context, ownerID int64) ([]*OwnerEvent, error)
}
