package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aftersales/aftersales/casework"
)

var _ casework.IdentityStore = (*DB)(nil)

const identityCols = `platform, user_id, coalesce(owner_id, 0), coalesce(unit_id, 0),
	coalesce(verified_phone, ''), verified_at, coalesce(verified_by, ''), coalesce(member_id, 0),
	lang, display_name, unreachable, last_inbound_at, handoff_at, created_at, updated_at`

func scanIdentity(row scanner) (*casework.ChatIdentity, error) {
	var id casework.ChatIdentity
	err := row.Scan(&id.Platform, &id.UserID, &id.OwnerID, &id.UnitID, &id.VerifiedPhone, &id.VerifiedAt, &id.VerifiedBy, &id.MemberID,
		&id.Lang, &id.DisplayName, &id.Unreachable, &id.LastInboundAt, &id.HandoffAt, &id.CreatedAt, &id.UpdatedAt)
	if err != nil {
		return nil, err
	}
	id.VerifiedAt = utcPtr(id.VerifiedAt)
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
	if err := checkVerified(id); err != nil {
		return err
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: save chat identity %s/%s", id.Platform, id.UserID),
		func(tx pgx.Tx) error { return db.saveChatIdentity(ctx, tx, id) })
}

func (db *DB) saveChatIdentity(ctx context.Context, tx pgx.Tx, id *casework.ChatIdentity) error {
	now := db.nowUTC()
	lastInbound, handoff, verified := dbTimePtr(id.LastInboundAt), dbTimePtr(id.HandoffAt), dbTimePtr(id.VerifiedAt)
	var created time.Time
	err := tx.QueryRow(ctx, `INSERT INTO chat_identities (platform, user_id, owner_id, unit_id, verified_phone, verified_at, verified_by,
			member_id, lang, display_name, unreachable, last_inbound_at, handoff_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
		ON CONFLICT (platform, user_id) DO UPDATE SET
			owner_id = EXCLUDED.owner_id, unit_id = EXCLUDED.unit_id, verified_phone = EXCLUDED.verified_phone,
			verified_at = EXCLUDED.verified_at, verified_by = EXCLUDED.verified_by, member_id = EXCLUDED.member_id,
			lang = EXCLUDED.lang, display_name = EXCLUDED.display_name, unreachable = EXCLUDED.unreachable,
			last_inbound_at = EXCLUDED.last_inbound_at, handoff_at = EXCLUDED.handoff_at, updated_at = EXCLUDED.updated_at
		RETURNING created_at`,
		id.Platform, id.UserID, nullID(id.OwnerID), nullID(id.UnitID), nullText(id.VerifiedPhone), verified, nullText(string(id.VerifiedBy)),
		nullID(id.MemberID), id.Lang, id.DisplayName, id.Unreachable, lastInbound, handoff, now).Scan(&created)
	if err != nil {
		return err
	}
	id.LastInboundAt, id.HandoffAt, id.VerifiedAt = lastInbound, handoff, verified
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
func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Verification codes.

const codeCols = `id, platform, user_id, phone, code_hash, salt, attempts, created_at, expires_at, used_at`

func scanCode(row scanner) (*casework.VerificationCode, error) {
	var c casework.VerificationCode
	if err := row.Scan(&c.ID, &c.Platform, &c.UserID, &c.Phone, &c.CodeHash, &c.Salt, &c.Attempts, &c.CreatedAt, &c.ExpiresAt, &c.UsedAt); err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC(), utcPtr(c.UsedAt)
	return &c, nil
}

// CreateVerificationCode stores c and sets its ID; CreatedAt, when zero, is
// now. A new code has no attempts and is unused, whatever c carried.
func (db *DB) CreateVerificationCode(ctx context.Context, c *casework.VerificationCode, since time.Time, check func(casework.CodeCounts) error) error {
	if err := c.Validate(); err != nil {
		return err
	}
	nc := *c
	if nc.CreatedAt.IsZero() {
		nc.CreatedAt = db.now()
	}
	nc.CreatedAt, nc.ExpiresAt = dbTime(nc.CreatedAt), dbTime(nc.ExpiresAt)
	nc.Attempts, nc.UsedAt = 0, nil
	op := fmt.Sprintf("postgres: create verification code for %s/%s", nc.Platform, nc.UserID)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// Requests for one phone, and for one account, wait for each other
		// until the transaction ends; the phone's lock is always taken
		// first, so two requests never wait for each other in a circle.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('aftersales.code.phone:' || $1)),
			pg_advisory_xact_lock(hashtext('aftersales.code.account:' || $2 || ':' || $3))`, nc.Phone, nc.Platform, nc.UserID); err != nil {
			return dbErr(op, err)
		}
		n, err := countCodes(ctx, tx, nc.Phone, nc.Platform, nc.UserID, since)
		if err != nil {
			return err
		}
		if err := check(n); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO verification_codes (platform, user_id, phone, code_hash, salt, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			nc.Platform, nc.UserID, nc.Phone, nc.CodeHash, nc.Salt, nc.CreatedAt, nc.ExpiresAt).Scan(&nc.ID)
		if err != nil {
			return dbErr(op, err)
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
	return readOne(ctx, db, fmt.Sprintf("postgres: latest verification code of %s/%s", platform, userID), scanCode,
		`SELECT `+codeCols+` FROM verification_codes WHERE platform = $1 AND user_id = $2
		ORDER BY created_at DESC, id DESC LIMIT 1`, platform, userID)
}

// CountVerificationCodes counts the codes created at or after since sent to
// phone and sent for the chat account; Last is when the newest code of
// either was created, at any time, or nil when there is none.
func (db *DB) CountVerificationCodes(ctx context.Context, phone, platform, userID string, since time.Time) (casework.CodeCounts, error) {
	return countCodes(ctx, db.pool, phone, platform, userID, since)
}

// countCodes counts on q, the pool or a transaction.
func countCodes(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, phone, platform, userID string, since time.Time) (casework.CodeCounts, error) {
	var n casework.CodeCounts
	err := q.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM verification_codes WHERE phone = $1 AND created_at >= $4),
		(SELECT count(*) FROM verification_codes WHERE platform = $2 AND user_id = $3 AND created_at >= $4),
		greatest(
			(SELECT max(created_at) FROM verification_codes WHERE phone = $1),
			(SELECT max(created_at) FROM verification_codes WHERE platform = $2 AND user_id = $3))`,
		phone, platform, userID, since).Scan(&n.ByPhone, &n.ByAccount, &n.Last)
	if err != nil {
		return casework.CodeCounts{}, dbErr(fmt.Sprintf("postgres: count verification codes of %s/%s", platform, userID), err)
	}
	n.Last = utcPtr(n.Last)
	return n, nil
}

// SpendVerificationCode records a try of code id at at (zero: now), in one
// statement: a wrong one adds one to Attempts, a right one (used) sets
// UsedAt, keeping the first UsedAt of a code used already. It returns the
// code after the try, or casework.ErrNotFound.
func (db *DB) SpendVerificationCode(ctx context.Context, id int64, used bool, at time.Time) (*casework.VerificationCode, error) {
	op := fmt.Sprintf("postgres: spend verification code %d", id)
	if !used {
		return readOne(ctx, db, op, scanCode,
			`UPDATE verification_codes SET attempts = attempts + 1 WHERE id = $1 RETURNING `+codeCols, id)
	}
	if at.IsZero() {
		at = db.now()
	}
	return readOne(ctx, db, op, scanCode,
		`UPDATE verification_codes SET used_at = coalesce(used_at, $2) WHERE id = $1 RETURNING `+codeCols, id, dbTime(at))
}

// Failed attempts.

// RecordFailure notes a failed attempt of kind by subject at at (zero: now).
func (db *DB) RecordFailure(ctx context.Context, kind, subject string, at time.Time) error {
	if kind == "" {
		return casework.Invalid("kind", "is required")
	}
	if subject == "" {
		return casework.Invalid("subject", "is required")
	}
	if at.IsZero() {
		at = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO auth_failures (kind, subject, at) VALUES ($1, $2, $3)`, kind, subject, dbTime(at))
	return dbErr(fmt.Sprintf("postgres: record %s failure of %s", kind, subject), err)
}

// CountFailures counts the failed attempts of kind by subject at or after
// since.
func (db *DB) CountFailures(ctx context.Context, kind, subject string, since time.Time) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM auth_failures WHERE kind = $1 AND subject = $2 AND at >= $3`,
		kind, subject, since).Scan(&n)
	return n, dbErr(fmt.Sprintf("postgres: count %s failures of %s", kind, subject), err)
}

// The owner proven.

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
	var n int
	err := db.inWrite(ctx, fmt.Sprintf("postgres: attach cases of %s/%s to owner %d", platform, userID, ownerID), func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM owners WHERE id = $1)`, ownerID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("owner %d: %w", ownerID, casework.ErrNotFound)
		}
		// Each case's version and last_event_seq move on together, and its
		// entry takes that seq (see reserveSeq).
		tag, err := tx.Exec(ctx, `WITH attached AS (
				UPDATE cases SET owner_id = $3, identity_verified = true, version = version + 1,
					last_event_seq = last_event_seq + 1, updated_at = $4
				WHERE reporter_platform = $1 AND reporter_user_id = $2
					AND (owner_id IS NULL OR (owner_id = $3 AND NOT identity_verified))
				RETURNING id, last_event_seq)
			INSERT INTO case_events (case_id, seq, at, actor, kind, note)
			SELECT id, last_event_seq, $4::timestamptz, $5::text, $6::text, $7::text FROM attached ORDER BY id`,
			platform, userID, ownerID, db.nowUTC(), casework.ActorBot, casework.EventUpdated, attachedNote)
		n = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
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
	if ne.At.IsZero() {
		ne.At = db.now()
	}
	ne.At = dbTime(ne.At)
	err := db.pool.QueryRow(ctx, `INSERT INTO owner_events (owner_id, at, actor, kind, note) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		ne.OwnerID, ne.At, ne.Actor, ne.Kind, ne.Note).Scan(&ne.ID)
	if err != nil {
		return dbErr(fmt.Sprintf("postgres: add event to owner %d", ne.OwnerID), err)
	}
	*e = ne
	return nil
}

// ListOwnerEvents returns an owner's timeline, oldest first (by At, then
// ID); an unknown owner's is empty.
func (db *DB) ListOwnerEvents(ctx context.Context, ownerID int64) ([]*casework.OwnerEvent, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: list events of owner %d", ownerID), func(row scanner) (*casework.OwnerEvent, error) {
		var e casework.OwnerEvent
		if err := row.Scan(&e.ID, &e.OwnerID, &e.At, &e.Actor, &e.Kind, &e.Note); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		return &e, nil
	}, `SELECT id, owner_id, at, actor, kind, note FROM owner_events WHERE owner_id = $1 ORDER BY at, id`, ownerID)
}
