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
	Platform      string // telegram, wechat, web
	UserID        string
	OwnerID       int64 // 0 until the owner identified themself
	UnitID        int64 // the unit the owner reports for by default
	MemberID      int64 // set when the account is an engineer's
	Lang          string
	DisplayName   string
	Unreachable   bool       // blocked the bot / unsubscribed
	LastInboundAt *time.Time // the user's last message (WeChat's 48-hour window)
	HandoffAt     *time.Time // asked for a person; nil when the bot is in charge
	CreatedAt     time.Time
	UpdatedAt     time.Time
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
}
