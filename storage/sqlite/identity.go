package sqlite

import (
	"context"
	"fmt"

	"github.com/aftersales/aftersales/casework"
)

var _ casework.IdentityStore = (*DB)(nil)

// SaveChatIdentity inserts or replaces the identity keyed by (Platform,
// UserID) and sets its timestamps; a replaced identity keeps its CreatedAt.
// Returns a *casework.ValidationError when the owner, unit or member it names
// does not exist.
func (db *DB) SaveChatIdentity(ctx context.Context, id *casework.ChatIdentity) error {
	if id.Platform == "" {
		return casework.Invalid("platform", "is required")
	}
	if id.UserID == "" {
		return casework.Invalid("user_id", "is required")
	}
	return db.inWrite(ctx, func(tx *Tx) error { return saveChatIdentity(ctx, tx, id) })
}

func saveChatIdentity(ctx context.Context, tx *Tx, id *casework.ChatIdentity) error {
	id.LastInboundAt, id.HandoffAt = storedTimePtr(id.LastInboundAt), storedTimePtr(id.HandoffAt)
	id.UpdatedAt = tx.now
	err := tx.QueryRowContext(ctx, `
		INSERT INTO chat_identities (platform, user_id, owner_id, unit_id, member_id, lang, display_name, unreachable,
			last_inbound_at, handoff_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, user_id) DO UPDATE SET
			owner_id = excluded.owner_id, unit_id = excluded.unit_id, member_id = excluded.member_id,
			lang = excluded.lang, display_name = excluded.display_name, unreachable = excluded.unreachable,
			last_inbound_at = excluded.last_inbound_at, handoff_at = excluded.handoff_at, updated_at = excluded.updated_at
		RETURNING created_at`,
		id.Platform, id.UserID, nullID(id.OwnerID), nullID(id.UnitID), nullID(id.MemberID), id.Lang, id.DisplayName, id.Unreachable,
		encodeTimePtr(id.LastInboundAt), encodeTimePtr(id.HandoffAt), encodeTime(tx.now), encodeTime(tx.now),
	).Scan(timeCol{&id.CreatedAt})
	if isForeignKeyViolation(err) {
		for _, r := range []struct {
			field, table string
			id           int64
		}{{"owner", "owners", id.OwnerID}, {"unit", "units", id.UnitID}, {"member", "members", id.MemberID}} {
			var exists bool
			if r.id == 0 {
				continue
			}
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+r.table+" WHERE id = ?)", r.id).Scan(&exists); err != nil {
				return fmt.Errorf("save chat identity %s/%s: %w", id.Platform, id.UserID, err)
			}
			if !exists {
				return casework.Invalid(r.field, "%s %d does not exist", r.field, r.id)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("save chat identity %s/%s: %w", id.Platform, id.UserID, err)
	}
	return nil
}

// FindChatIdentity returns the identity of a platform's user, or
// casework.ErrNotFound.
func (db *DB) FindChatIdentity(ctx context.Context, platform, userID string) (*casework.ChatIdentity, error) {
	return readOne(ctx, db, fmt.Sprintf("chat identity %s/%s", platform, userID), scanChatIdentity,
		"SELECT "+chatIdentityColumns+" FROM chat_identities WHERE platform = ? AND user_id = ?", platform, userID)
}

// FindChatIdentitiesByOwner returns the chat accounts bound to an owner,
// ordered by platform and user ID.
func (db *DB) FindChatIdentitiesByOwner(ctx context.Context, ownerID int64) ([]*casework.ChatIdentity, error) {
	return readAll(ctx, db, fmt.Sprintf("find chat identities of owner %d", ownerID), scanChatIdentity,
		"SELECT "+chatIdentityColumns+" FROM chat_identities WHERE owner_id = ? ORDER BY platform, user_id", ownerID)
}

const chatIdentityColumns = `platform, user_id, owner_id, unit_id, member_id, lang, display_name, unreachable,
	last_inbound_at, handoff_at, created_at, updated_at`

func scanChatIdentity(s scanner) (*casework.ChatIdentity, error) {
	var id casework.ChatIdentity
	err := s.Scan(&id.Platform, &id.UserID, idCol{&id.OwnerID}, idCol{&id.UnitID}, idCol{&id.MemberID}, &id.Lang, &id.DisplayName, &id.Unreachable,
		nullTimeCol{&id.LastInboundAt}, nullTimeCol{&id.HandoffAt}, timeCol{&id.CreatedAt}, timeCol{&id.UpdatedAt})
	return &id, err
}
