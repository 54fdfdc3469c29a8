package sqlite

import (
	"context"
	"fmt"
	"slices"
	"time"

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
	if err := checkVerified(id); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return saveChatIdentity(ctx, tx, id) })
}

func saveChatIdentity(ctx context.Context, tx *Tx, id *casework.ChatIdentity) error {
	id.LastInboundAt, id.HandoffAt = storedTimePtr(id.LastInboundAt), storedTimePtr(id.HandoffAt)
	id.VerifiedAt = storedTimePtr(id.VerifiedAt)
	id.UpdatedAt = tx.now
	err := tx.QueryRowContext(ctx, `
		INSERT INTO chat_identities (platform, user_id, owner_id, unit_id, verified_phone, verified_at, verified_by,
			member_id, lang, display_name, unreachable, last_inbound_at, handoff_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, user_id) DO UPDATE SET
			owner_id = excluded.owner_id, unit_id = excluded.unit_id, verified_phone = excluded.verified_phone,
			verified_at = excluded.verified_at, verified_by = excluded.verified_by, member_id = excluded.member_id,
			lang = excluded.lang, display_name = excluded.display_name, unreachable = excluded.unreachable,
			last_inbound_at = excluded.last_inbound_at, handoff_at = excluded.handoff_at, updated_at = excluded.updated_at
		RETURNING created_at`,
		id.Platform, id.UserID, nullID(id.OwnerID), nullID(id.UnitID), nullText(id.VerifiedPhone), encodeTimePtr(id.VerifiedAt),
		nullText(string(id.VerifiedBy)), nullID(id.MemberID), id.Lang, id.DisplayName, id.Unreachable,
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

const chatIdentityColumns = `platform, user_id, owner_id, unit_id, ifnull(verified_phone, ''), verified_at, ifnull(verified_by, ''),
	member_id, lang, display_name, unreachable, last_inbound_at, handoff_at, created_at, updated_at`

func scanChatIdentity(s scanner) (*casework.ChatIdentity, error) {
	var id casework.ChatIdentity
	err := s.Scan(&id.Platform, &id.UserID, idCol{&id.OwnerID}, idCol{&id.UnitID}, &id.VerifiedPhone, nullTimeCol{&id.VerifiedAt}, &id.VerifiedBy,
		idCol{&id.MemberID}, &id.Lang, &id.DisplayName, &id.Unreachable,
		nullTimeCol{&id.LastInboundAt}, nullTimeCol{&id.HandoffAt}, timeCol{&id.CreatedAt}, timeCol{&id.UpdatedAt})
	return &id, err
}

// checkVerified checks that an identity says when and how it was verified,
// or neither, and names a phone only when verified.
func checkVerified(id *casework.ChatIdentity) error {
	switch {
	case id.VerifiedAt != nil && id.VerifiedBy == "":
		return casework.Invalid("verified_by", "is required when verified_at is set")
	case id.VerifiedAt == nil && id.VerifiedBy != "":
		return casework.Invalid("verified_at", "is required when verified_by is set")
	case id.VerifiedAt == nil && id.VerifiedPhone != "":
		return casework.Invalid("verified_at", "is required when verified_phone is set")
	}
	return nil
}

// nullText stores an empty string ("none") as NULL.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// --- verification codes ---

// CreateVerificationCode stores c and sets its ID; CreatedAt, when zero, is
// now. A new code has no attempts and is unused, whatever c carried.
func (db *DB) CreateVerificationCode(ctx context.Context, c *casework.VerificationCode, since time.Time, check func(casework.CodeCounts) error) error {
	if err := c.Validate(); err != nil {
		return err
	}
	nc := *c
	// The store's one writer, in an immediate transaction, serializes the
	// count and the insert of every request.
	err := db.inWrite(ctx, func(tx *Tx) error {
		n, err := countCodes(ctx, tx, nc.Phone, nc.Platform, nc.UserID, since)
		if err != nil {
			return err
		}
		if err := check(n); err != nil {
			return err
		}
		if nc.CreatedAt.IsZero() {
			nc.CreatedAt = tx.now
		}
		nc.CreatedAt, nc.ExpiresAt = storedTime(nc.CreatedAt), storedTime(nc.ExpiresAt)
		nc.Attempts, nc.UsedAt = 0, nil
		err = tx.QueryRowContext(ctx, `
			INSERT INTO verification_codes (platform, user_id, phone, code_hash, salt, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			nc.Platform, nc.UserID, nc.Phone, nc.CodeHash, nc.Salt, encodeTime(nc.CreatedAt), encodeTime(nc.ExpiresAt)).Scan(&nc.ID)
		if err != nil {
			return fmt.Errorf("create verification code for %s/%s: %w", nc.Platform, nc.UserID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	*c = nc
	return nil
}

// LatestVerificationCode returns the chat account's newest code (by
// CreatedAt, then ID), or casework.ErrNotFound.
func (db *DB) LatestVerificationCode(ctx context.Context, platform, userID string) (*casework.VerificationCode, error) {
	return readOne(ctx, db, fmt.Sprintf("verification code of %s/%s", platform, userID), scanVerificationCode,
		"SELECT "+verificationCodeColumns+` FROM verification_codes WHERE platform = ? AND user_id = ?
		ORDER BY created_at DESC, id DESC LIMIT 1`, platform, userID)
}

// CountVerificationCodes counts the codes created at or after since sent to
// phone and sent for the chat account; Last is when the newest code of
// either was created, at any time, or nil when there is none.
func (db *DB) CountVerificationCodes(ctx context.Context, phone, platform, userID string, since time.Time) (casework.CodeCounts, error) {
	return inRead(ctx, db, func(tx *Tx) (casework.CodeCounts, error) {
		return countCodes(ctx, tx, phone, platform, userID, since)
	})
}

func countCodes(ctx context.Context, tx *Tx, phone, platform, userID string, since time.Time) (casework.CodeCounts, error) {
	{
		var n casework.CodeCounts
		s := encodeTime(since)
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM verification_codes WHERE phone = ? AND created_at >= ?),
			(SELECT count(*) FROM verification_codes WHERE platform = ? AND user_id = ? AND created_at >= ?),
			(SELECT max(t) FROM (
				SELECT max(created_at) AS t FROM verification_codes WHERE phone = ?
				UNION ALL
				SELECT max(created_at) FROM verification_codes WHERE platform = ? AND user_id = ?))`,
			phone, s, platform, userID, s, phone, platform, userID).Scan(&n.ByPhone, &n.ByAccount, nullTimeCol{&n.Last})
		if err != nil {
			return casework.CodeCounts{}, fmt.Errorf("count verification codes of %s/%s: %w", platform, userID, err)
		}
		return n, nil
	}
}

// SpendVerificationCode records a try of code id at at (zero: now), in one
// statement: a wrong one adds one to Attempts, a right one (used) sets
// UsedAt, keeping the first UsedAt of a code used already. It returns the
// code after the try, or casework.ErrNotFound.
func (db *DB) SpendVerificationCode(ctx context.Context, id int64, used bool, at time.Time) (*casework.VerificationCode, error) {
	return inWriteResult(ctx, db, func(tx *Tx) (*casework.VerificationCode, error) {
		if at.IsZero() {
			at = tx.now
		}
		what := fmt.Sprintf("verification code %d", id)
		if used {
			return queryOne(ctx, tx, what, scanVerificationCode,
				"UPDATE verification_codes SET used_at = ifnull(used_at, ?) WHERE id = ? RETURNING "+verificationCodeColumns,
				encodeTime(at), id)
		}
		return queryOne(ctx, tx, what, scanVerificationCode,
			"UPDATE verification_codes SET attempts = attempts + 1 WHERE id = ? RETURNING "+verificationCodeColumns, id)
	})
}

const verificationCodeColumns = "id, platform, user_id, phone, code_hash, salt, attempts, created_at, expires_at, used_at"

func scanVerificationCode(s scanner) (*casework.VerificationCode, error) {
	var c casework.VerificationCode
	err := s.Scan(&c.ID, &c.Platform, &c.UserID, &c.Phone, &c.CodeHash, &c.Salt, &c.Attempts,
		timeCol{&c.CreatedAt}, timeCol{&c.ExpiresAt}, nullTimeCol{&c.UsedAt})
	return &c, err
}

// --- failed attempts ---

// RecordFailure notes a failed attempt of kind by subject at at (zero: now).
func (db *DB) RecordFailure(ctx context.Context, kind, subject string, at time.Time) error {
	if kind == "" {
		return casework.Invalid("kind", "is required")
	}
	if subject == "" {
		return casework.Invalid("subject", "is required")
	}
	return db.inWrite(ctx, func(tx *Tx) error {
		if at.IsZero() {
			at = tx.now
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO auth_failures (kind, subject, at) VALUES (?, ?, ?)", kind, subject, encodeTime(at)); err != nil {
			return fmt.Errorf("record %s failure of %s: %w", kind, subject, err)
		}
		return nil
	})
}

// CountFailures counts the failed attempts of kind by subject at or after
// since.
func (db *DB) CountFailures(ctx context.Context, kind, subject string, since time.Time) (int, error) {
	return inRead(ctx, db, func(tx *Tx) (int, error) {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM auth_failures WHERE kind = ? AND subject = ? AND at >= ?",
			kind, subject, encodeTime(since)).Scan(&n); err != nil {
			return 0, fmt.Errorf("count %s failures of %s: %w", kind, subject, err)
		}
		return n, nil
	})
}

// --- the owner proven ---

// attachedNote is the note of the EventUpdated AttachReportedCases records.
const attachedNote = "业主身份已验证 owner identity verified"

// AttachReportedCases implements casework.IdentityStore: the account's
// owner-less cases, and its unverified cases already ownerID's, become
// ownerID's and IdentityVerified, each with a new version and an
// EventUpdated by casework.ActorBot, in one transaction. casework.ErrNotFound
// if the owner does not exist.
func (db *DB) AttachReportedCases(ctx context.Context, platform, userID string, ownerID int64) (int, error) {
	if platform == "" || userID == "" {
		return 0, casework.Invalid("reporter", "platform and user id are required")
	}
	return inWriteResult(ctx, db, func(tx *Tx) (int, error) {
		if err := ownerExists(ctx, tx, ownerID); err != nil {
			return 0, err
		}
		ids, err := queryAll(ctx, tx, func(s scanner) (id int64, err error) { return id, s.Scan(&id) }, `
			UPDATE cases SET owner_id = ?, identity_verified = 1, version = version + 1, updated_at = ?
			WHERE reporter_platform = ? AND reporter_user_id = ?
				AND (owner_id IS NULL OR (owner_id = ? AND identity_verified = 0))
			RETURNING id`, ownerID, encodeTime(tx.now), platform, userID, ownerID)
		if err != nil {
			return 0, fmt.Errorf("attach cases of %s/%s to owner %d: %w", platform, userID, ownerID, err)
		}
		slices.Sort(ids)
		for _, id := range ids {
			e := &casework.Event{CaseID: id, At: tx.now, Actor: casework.ActorBot, Kind: casework.EventUpdated, Note: attachedNote}
			if err := recordEvent(ctx, tx, e, nil); err != nil {
				return 0, err
			}
		}
		return len(ids), nil
	})
}

// ownerExists returns casework.ErrNotFound unless the owner exists.
func ownerExists(ctx context.Context, tx *Tx, ownerID int64) error {
	var exists bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM owners WHERE id = ?)", ownerID).Scan(&exists); err != nil {
		return fmt.Errorf("find owner %d: %w", ownerID, err)
	}
	if !exists {
		return notFound("owner %d", ownerID)
	}
	return nil
}

// AddOwnerEvent appends e to its owner's timeline and sets its ID; At, when
// zero, is now. casework.ErrNotFound if the owner does not exist.
func (db *DB) AddOwnerEvent(ctx context.Context, e *casework.OwnerEvent) error {
	if e.Actor == "" {
		return casework.Invalid("actor", "is required")
	}
	if e.Kind == "" {
		return casework.Invalid("kind", "is required")
	}
	ne := *e
	err := db.inWrite(ctx, func(tx *Tx) error {
		if ne.At.IsZero() {
			ne.At = tx.now
		}
		ne.At = storedTime(ne.At)
		err := tx.QueryRowContext(ctx, "INSERT INTO owner_events (owner_id, at, actor, kind, note) VALUES (?, ?, ?, ?, ?) RETURNING id",
			ne.OwnerID, encodeTime(ne.At), ne.Actor, ne.Kind, ne.Note).Scan(&ne.ID)
		switch {
		case isForeignKeyViolation(err):
			return notFound("owner %d", ne.OwnerID)
		case err != nil:
			return fmt.Errorf("add event to owner %d: %w", ne.OwnerID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	*e = ne
	return nil
}

// ListOwnerEvents returns an owner's timeline, oldest first (by At, then
// ID); an unknown owner's is empty.
func (db *DB) ListOwnerEvents(ctx context.Context, ownerID int64) ([]*casework.OwnerEvent, error) {
	return readAll(ctx, db, fmt.Sprintf("list events of owner %d", ownerID), func(s scanner) (*casework.OwnerEvent, error) {
		var e casework.OwnerEvent
		err := s.Scan(&e.ID, &e.OwnerID, timeCol{&e.At}, &e.Actor, &e.Kind, &e.Note)
		return &e, err
	}, "SELECT id, owner_id, at, actor, kind, note FROM owner_events WHERE owner_id = ? ORDER BY at, id", ownerID)
}
