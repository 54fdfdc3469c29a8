package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aftersales/aftersales/casework"
)

var _ casework.IdentityStore = (*DB)(nil)

const identityCols = `platform, user_id, coalesce(owner_id, 0), coalesce(unit_id, 0), coalesce(member_id, 0),
	lang, display_name, unreachable, last_inbound_at, handoff_at, created_at, updated_at`

func scanIdentity(row scanner) (*casework.ChatIdentity, error) {
	var id casework.ChatIdentity
	err := row.Scan(&id.Platform, &id.UserID, &id.OwnerID, &id.UnitID, &id.MemberID,
		&id.Lang, &id.DisplayName, &id.Unreachable, &id.LastInboundAt, &id.HandoffAt, &id.CreatedAt, &id.UpdatedAt)
	if err != nil {
		return nil, err
	}
	id.LastInboundAt, id.HandoffAt = utcPtr(id.LastInboundAt), utcPtr(id.HandoffAt)
	id.CreatedAt, id.UpdatedAt = id.CreatedAt.UTC(), id.UpdatedAt.UTC()
	return &id, nil
}

// SaveChatIdentity inserts or replaces the identity keyed by (Platform,
// UserID) and sets its timestamps; a replaced identity keeps its CreatedAt.
// An owner, unit or member that does not exist gives a
// *casework.ValidationError naming it.
func (db *DB) SaveChatIdentity(ctx context.Context, id *casework.ChatIdentity) error {
	if id.Platform == "" {
		return casework.Invalid("platform", "is required")
	}
	if id.UserID == "" {
		return casework.Invalid("user_id", "is required")
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: save chat identity %s/%s", id.Platform, id.UserID),
		func(tx pgx.Tx) error { return db.saveChatIdentity(ctx, tx, id) })
}

func (db *DB) saveChatIdentity(ctx context.Context, tx pgx.Tx, id *casework.ChatIdentity) error {
	now := db.nowUTC()
	lastInbound, handoff := dbTimePtr(id.LastInboundAt), dbTimePtr(id.HandoffAt)
	var created time.Time
	err := tx.QueryRow(ctx, `INSERT INTO chat_identities (platform, user_id, owner_id, unit_id, member_id, lang, display_name,
			unreachable, last_inbound_at, handoff_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
		ON CONFLICT (platform, user_id) DO UPDATE SET
			owner_id = EXCLUDED.owner_id, unit_id = EXCLUDED.unit_id, member_id = EXCLUDED.member_id,
			lang = EXCLUDED.lang, display_name = EXCLUDED.display_name, unreachable = EXCLUDED.unreachable,
			last_inbound_at = EXCLUDED.last_inbound_at, handoff_at = EXCLUDED.handoff_at, updated_at = EXCLUDED.updated_at
		RETURNING created_at`,
		id.Platform, id.UserID, nullID(id.OwnerID), nullID(id.UnitID), nullID(id.MemberID), id.Lang, id.DisplayName,
		id.Unreachable, lastInbound, handoff, now).Scan(&created)
	if err != nil {
		return err
	}
	id.LastInboundAt, id.HandoffAt = lastInbound, handoff
	id.CreatedAt, id.UpdatedAt = created.UTC(), now
	return nil
}

// FindChatIdentity returns the identity of a platform's user, or
// casework.ErrNotFound.
func (db *DB) FindChatIdentity(ctx context.Context, platform, userID string) (*casework.ChatIdentity, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find chat identity %s/%s", platform, userID), scanIdentity,
		`SELECT `+identityCols+` FROM chat_identities
		WHERE platform = $1 AND user_id = $2`, platform, userID)
}

// FindChatIdentitiesByOwner returns the chat accounts bound to an owner,
// ordered by platform and user ID.
func (db *DB) FindChatIdentitiesByOwner(ctx context.Context, ownerID int64) ([]*casework.ChatIdentity, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: chat identities of owner %d", ownerID), scanIdentity,
		`SELECT `+identityCols+` FROM chat_identities
		WHERE owner_id = $1 ORDER BY platform, user_id`, ownerID)
}
