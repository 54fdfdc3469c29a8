package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aftersales/aftersales/casework"
)

var _ casework.HandoffStore = (*DB)(nil)

const handoffCols = `id, platform, user_id, display_name, lang, coalesce(owner_id, 0), coalesce(case_id, 0), state, taken_by, taken_at,
	ended_by, ended_at, last_owner_at, last_agent_at, last_bot_at, created_at, updated_at`

func scanHandoff(s scanner) (*casework.Handoff, error) {
	var h casework.Handoff
	if err := s.Scan(&h.ID, &h.Platform, &h.UserID, &h.DisplayName, &h.Lang, &h.OwnerID, &h.CaseID, &h.State, &h.TakenBy, &h.TakenAt,
		&h.EndedBy, &h.EndedAt, &h.LastOwnerAt, &h.LastAgentAt, &h.LastBotAt, &h.CreatedAt, &h.UpdatedAt); err != nil {
		return nil, err
	}
	h.TakenAt, h.EndedAt = utcPtr(h.TakenAt), utcPtr(h.EndedAt)
	h.LastOwnerAt, h.LastAgentAt, h.LastBotAt = utcPtr(h.LastOwnerAt), utcPtr(h.LastAgentAt), utcPtr(h.LastBotAt)
	h.CreatedAt, h.UpdatedAt = h.CreatedAt.UTC(), h.UpdatedAt.UTC()
	return &h, nil
}

// readHandoff reads hand-off id in tx, locking its row when forUpdate.
func readHandoff(ctx context.Context, tx pgx.Tx, id int64, forUpdate bool) (*casework.Handoff, error) {
	q := `SELECT ` + handoffCols + ` FROM handoffs WHERE id = $1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	h, err := scanHandoff(tx.QueryRow(ctx, q, id))
	return h, notFound(err, "hand-off %d", id)
}

// openHandoff locks hand-off id for a write that needs it open: a
// *casework.ConflictError when it ended.
func openHandoff(ctx context.Context, tx pgx.Tx, id int64) (*casework.Handoff, error) {
	h, err := readHandoff(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	if !h.State.Open() {
		return nil, &casework.ConflictError{What: fmt.Sprintf("the hand-off %d has ended", id)}
	}
	return h, nil
}

// handoffErr translates the foreign keys of a new hand-off into the field
// that names what does not exist, and the rest as dbErr does.
func handoffErr(op string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		switch pgErr.ConstraintName {
		case "handoffs_owner_id_fkey":
			return fmt.Errorf("%s: %w", op, casework.Invalid("owner", "%s", pgErr.Detail))
		case "handoffs_case_id_fkey":
			return fmt.Errorf("%s: %w", op, casework.Invalid("case", "%s", pgErr.Detail))
		}
	}
	return dbErr(op, err)
}

// OpenHandoff stores h, waiting, unless the account has an open hand-off,
// which it then sets h to. The unique index of open hand-offs decides
// between requests at once.
func (db *DB) OpenHandoff(ctx context.Context, h *casework.Handoff) (bool, error) {
	if err := h.Validate(); err != nil {
		return false, err
	}
	now := db.nowUTC()
	var out *casework.Handoff
	created := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanHandoff(tx.QueryRow(ctx, `INSERT INTO handoffs (platform, user_id, display_name, lang, owner_id, case_id, state, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'waiting', $7, $7)
			ON CONFLICT (platform, user_id) WHERE state <> 'ended' DO NOTHING RETURNING `+handoffCols,
			h.Platform, h.UserID, h.DisplayName, h.Lang, nullID(h.OwnerID), nullID(h.CaseID), now))
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		out, err = scanHandoff(tx.QueryRow(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE platform = $1 AND user_id = $2 AND state <> 'ended'`,
			h.Platform, h.UserID))
		return err
	})
	if err != nil {
		return false, handoffErr("postgres: open hand-off", err)
	}
	*h = *out
	return created, nil
}

// FindHandoff returns the hand-off with the ID.
func (db *DB) FindHandoff(ctx context.Context, id int64) (*casework.Handoff, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find hand-off %d", id), scanHandoff, `SELECT `+handoffCols+` FROM handoffs WHERE id = $1`, id)
}

// FindOpenHandoff returns the account's hand-off that is not ended.
func (db *DB) FindOpenHandoff(ctx context.Context, platform, userID string) (*casework.Handoff, error) {
	return readOne(ctx, db, "postgres: find open hand-off of "+platform+" account", scanHandoff,
		`SELECT `+handoffCols+` FROM handoffs WHERE platform = $1 AND user_id = $2 AND state <> 'ended'`, platform, userID)
}

// ListHandoffs returns the hand-offs of f: waiting, taken, ended; the open
// oldest first, the ended latest first.
func (db *DB) ListHandoffs(ctx context.Context, f casework.HandoffFilter) ([]*casework.Handoff, error) {
	if err := f.Normalize(); err != nil {
		return nil, err
	}
	states := make([]string, len(f.States))
	for i, s := range f.States {
		states[i] = string(s)
	}
	return readAll(ctx, db, "postgres: list hand-offs", scanHandoff, `SELECT `+handoffCols+` FROM handoffs
		WHERE (cardinality($1::text[]) = 0 OR state = ANY($1)) AND ($2::timestamptz IS NULL OR state <> 'ended' OR ended_at >= $2)
		ORDER BY CASE state WHEN 'waiting' THEN 0 WHEN 'taken' THEN 1 ELSE 2 END, ended_at DESC NULLS LAST, created_at, id LIMIT $3`,
		states, dbTimePtr(f.EndedSince), f.Limit)
}

// AddHandoffMessage appends m to its open hand-off with eff, and notes it
// on the hand-off's case.
func (db *DB) AddHandoffMessage(ctx context.Context, m *casework.HandoffMessage, eff casework.Effects) (*casework.Handoff, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := db.checkEffects(eff); err != nil {
		return nil, err
	}
	nm := *m
	var written casework.Effects
	h, err := inWriteResult(ctx, db, fmt.Sprintf("postgres: add message to hand-off %d", m.HandoffID), func(tx pgx.Tx) (*casework.Handoff, error) {
		h, err := openHandoff(ctx, tx, m.HandoffID)
		if err != nil {
			return nil, err
		}
		if written, err = db.addHandoffMessage(ctx, tx, h, &nm, eff); err != nil {
			return nil, err
		}
		return readHandoff(ctx, tx, h.ID, false)
	})
	if err != nil {
		return nil, err
	}
	eff.SetWritten(written)
	*m = nm
	return h, nil
}

// addHandoffMessage writes eff, then m, to hand-off h, locked, keeps the
// time of m's writer on h, and records m on h's case.
func (db *DB) addHandoffMessage(ctx context.Context, tx pgx.Tx, h *casework.Handoff, m *casework.HandoffMessage, eff casework.Effects) (casework.Effects, error) {
	now := db.nowUTC()
	if m.At.IsZero() {
		m.At = now
	}
	m.At = dbTime(m.At)
	written, err := db.writeEffects(ctx, tx, h.CaseID, eff)
	if err != nil {
		return casework.Effects{}, err
	}
	m.OutboxID, m.Delivery, m.DeliveryError = 0, "", ""
	if len(written.Messages) > 0 {
		m.OutboxID, m.Delivery = written.Messages[0].ID, casework.OutboxPending
	}
	if err := tx.QueryRow(ctx, `INSERT INTO handoff_messages (handoff_id, at, sender, actor, text, blob_key, outbox_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		h.ID, m.At, m.From, m.Actor, m.Text, m.BlobKey, nullID(m.OutboxID)).Scan(&m.ID); err != nil {
		return casework.Effects{}, fmt.Errorf("add message: %w", err)
	}
	column := map[casework.HandoffFrom]string{casework.FromOwner: "last_owner_at", casework.FromAgent: "last_agent_at", casework.FromBot: "last_bot_at"}[m.From]
	if _, err := tx.Exec(ctx, `UPDATE handoffs SET `+column+` = $1, updated_at = $2 WHERE id = $3`, m.At, now, h.ID); err != nil {
		return casework.Effects{}, fmt.Errorf("update hand-off: %w", err)
	}
	if h.CaseID == 0 {
		return written, nil
	}
	switch m.From {
	case casework.FromOwner:
		err = db.recordEvent(ctx, tx, &casework.Event{CaseID: h.CaseID, At: m.At, Actor: m.Actor, Kind: casework.EventNote, Note: m.CaseNote()}, nil, now)
	case casework.FromAgent:
		err = db.recordEvent(ctx, tx, &casework.Event{CaseID: h.CaseID, At: m.At, Actor: m.Actor, Kind: casework.EventMessage, Note: m.Text}, nil, now)
	}
	if err != nil {
		return casework.Effects{}, fmt.Errorf("record the message on case %d: %w", h.CaseID, err)
	}
	return written, nil
}

const handoffMessageCols = `m.id, m.handoff_id, m.at, m.sender, m.actor, m.text, m.blob_key, coalesce(m.outbox_id, 0),
	coalesce(o.status, ''), coalesce(o.last_error, '')`

func scanHandoffMessage(s scanner) (*casework.HandoffMessage, error) {
	var m casework.HandoffMessage
	if err := s.Scan(&m.ID, &m.HandoffID, &m.At, &m.From, &m.Actor, &m.Text, &m.BlobKey, &m.OutboxID, &m.Delivery, &m.DeliveryError); err != nil {
		return nil, err
	}
	m.At = m.At.UTC()
	return &m, nil
}

const listHandoffMessagesSQL = `SELECT ` + handoffMessageCols + ` FROM handoff_messages m LEFT JOIN outbox o ON o.id = m.outbox_id
	WHERE m.handoff_id = $1 AND m.id > $2 AND ($3 = '' OR m.sender = $3) ORDER BY m.id`

// ListHandoffMessages returns the messages after afterID, in order.
func (db *DB) ListHandoffMessages(ctx context.Context, handoffID, afterID int64) ([]*casework.HandoffMessage, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: list messages of hand-off %d", handoffID), scanHandoffMessage,
		listHandoffMessagesSQL, handoffID, afterID, "")
}

// TakeHandoff gives the hand-off to actor if from still holds it.
func (db *DB) TakeHandoff(ctx context.Context, id int64, actor, from casework.Actor, at time.Time) (*casework.Handoff, error) {
	if actor == "" {
		return nil, casework.Invalid("actor", "is required")
	}
	return inWriteResult(ctx, db, fmt.Sprintf("postgres: take hand-off %d", id), func(tx pgx.Tx) (*casework.Handoff, error) {
		h, err := openHandoff(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if h.State == casework.HandoffTaken && h.TakenBy == actor {
			return h, nil
		}
		if h.TakenBy != from {
			return nil, &casework.ConflictError{What: fmt.Sprintf("the hand-off %d is taken by %s", id, h.TakenBy)}
		}
		if at.IsZero() {
			at = db.now()
		}
		return scanHandoff(tx.QueryRow(ctx, `UPDATE handoffs SET state = 'taken', taken_by = $1, taken_at = $2, updated_at = $3
			WHERE id = $4 RETURNING `+handoffCols, actor, dbTime(at), db.nowUTC(), id))
	})
}

// LinkHandoff links the hand-off to a case and notes the owner's words so
// far on the case.
func (db *DB) LinkHandoff(ctx context.Context, id, caseID int64) (*casework.Handoff, error) {
	return inWriteResult(ctx, db, fmt.Sprintf("postgres: link hand-off %d to case %d", id, caseID), func(tx pgx.Tx) (*casework.Handoff, error) {
		h, err := openHandoff(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if _, err := readCase(ctx, tx, caseID, false); err != nil {
			return nil, err
		}
		if h.CaseID == caseID {
			return h, nil
		}
		now := db.nowUTC()
		if _, err := tx.Exec(ctx, `UPDATE handoffs SET case_id = $1, updated_at = $2 WHERE id = $3`, caseID, now, id); err != nil {
			return nil, err
		}
		rows, err := tx.Query(ctx, listHandoffMessagesSQL, id, 0, string(casework.FromOwner))
		owners, err := collect(rows, err, scanHandoffMessage)
		if err != nil {
			return nil, err
		}
		if len(owners) > 0 {
			e := &casework.Event{CaseID: caseID, At: now, Actor: owners[len(owners)-1].Actor, Kind: casework.EventNote,
				Note: casework.LinkedNote(id, owners, db.numbering.Location)}
			if err := db.recordEvent(ctx, tx, e, nil, now); err != nil {
				return nil, err
			}
		}
		return readHandoff(ctx, tx, id, false)
	})
}

// EndHandoff ends the hand-off, after m, with eff.
func (db *DB) EndHandoff(ctx context.Context, id int64, actor casework.Actor, at time.Time, m *casework.HandoffMessage, eff casework.Effects) (*casework.Handoff, bool, error) {
	if actor == "" {
		return nil, false, casework.Invalid("actor", "is required")
	}
	var nm casework.HandoffMessage
	if m != nil {
		nm = *m
		nm.HandoffID = id
		if err := nm.Validate(); err != nil {
			return nil, false, err
		}
	}
	if err := db.checkEffects(eff); err != nil {
		return nil, false, err
	}
	var written casework.Effects
	ended := false
	h, err := inWriteResult(ctx, db, fmt.Sprintf("postgres: end hand-off %d", id), func(tx pgx.Tx) (*casework.Handoff, error) {
		h, err := readHandoff(ctx, tx, id, true)
		if err != nil || !h.State.Open() {
			return h, err
		}
		if m != nil {
			if written, err = db.addHandoffMessage(ctx, tx, h, &nm, eff); err != nil {
				return nil, err
			}
		} else if written, err = db.writeEffects(ctx, tx, h.CaseID, eff); err != nil {
			return nil, err
		}
		if at.IsZero() {
			at = db.now()
		}
		ended = true
		return scanHandoff(tx.QueryRow(ctx, `UPDATE handoffs SET state = 'ended', ended_by = $1, ended_at = $2, updated_at = $3
			WHERE id = $4 RETURNING `+handoffCols, actor, dbTime(at), db.nowUTC(), id))
	})
	if err != nil {
		return nil, false, err
	}
	if ended {
		eff.SetWritten(written)
		if m != nil {
			*m = nm
		}
	}
	return h, ended, nil
}
