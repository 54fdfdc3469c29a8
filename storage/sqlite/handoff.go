package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
)

var _ casework.HandoffStore = (*DB)(nil)

const handoffColumns = `id, platform, user_id, display_name, lang, owner_id, case_id, state, taken_by, taken_at,
	ended_by, ended_at, last_owner_at, last_agent_at, last_bot_at, created_at, updated_at`

func scanHandoff(s scanner) (*casework.Handoff, error) {
	var h casework.Handoff
	err := s.Scan(&h.ID, &h.Platform, &h.UserID, &h.DisplayName, &h.Lang, idCol{&h.OwnerID}, idCol{&h.CaseID}, &h.State,
		&h.TakenBy, nullTimeCol{&h.TakenAt}, &h.EndedBy, nullTimeCol{&h.EndedAt},
		nullTimeCol{&h.LastOwnerAt}, nullTimeCol{&h.LastAgentAt}, nullTimeCol{&h.LastBotAt}, timeCol{&h.CreatedAt}, timeCol{&h.UpdatedAt})
	return &h, err
}

func findHandoff(ctx context.Context, tx *Tx, id int64) (*casework.Handoff, error) {
	return queryOne(ctx, tx, fmt.Sprintf("hand-off %d", id), scanHandoff, "SELECT "+handoffColumns+" FROM handoffs WHERE id = ?", id)
}

func findOpenHandoff(ctx context.Context, tx *Tx, platform, userID string) (*casework.Handoff, error) {
	return queryOne(ctx, tx, fmt.Sprintf("open hand-off of %s account", platform), scanHandoff,
		"SELECT "+handoffColumns+" FROM handoffs WHERE platform = ? AND user_id = ? AND state <> 'ended'", platform, userID)
}

// openHandoff returns hand-off id for a write that needs it open: a
// *casework.ConflictError when it ended.
func openHandoff(ctx context.Context, tx *Tx, id int64) (*casework.Handoff, error) {
	h, err := findHandoff(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !h.State.Open() {
		return nil, conflict("the hand-off %d has ended", id)
	}
	return h, nil
}

// OpenHandoff stores h, waiting, unless the account has an open hand-off,
// which it then sets h to.
func (db *DB) OpenHandoff(ctx context.Context, h *casework.Handoff) (bool, error) {
	if err := h.Validate(); err != nil {
		return false, err
	}
	var out *casework.Handoff
	created := false
	err := db.inWrite(ctx, func(tx *Tx) error {
		open, err := findOpenHandoff(ctx, tx, h.Platform, h.UserID)
		if err == nil {
			out = open
			return nil
		}
		if !errors.Is(err, casework.ErrNotFound) {
			return err
		}
		w := *h
		w.State, w.TakenBy, w.TakenAt, w.EndedBy, w.EndedAt = casework.HandoffWaiting, "", nil, "", nil
		w.LastOwnerAt, w.LastAgentAt, w.LastBotAt = nil, nil, nil
		w.CreatedAt, w.UpdatedAt = tx.now, tx.now
		err = tx.QueryRowContext(ctx, `INSERT INTO handoffs (platform, user_id, display_name, lang, owner_id, case_id, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			w.Platform, w.UserID, w.DisplayName, w.Lang, nullID(w.OwnerID), nullID(w.CaseID), w.State, encodeTime(w.CreatedAt), encodeTime(w.UpdatedAt)).Scan(&w.ID)
		if isForeignKeyViolation(err) {
			return handoffReference(ctx, tx, &w)
		}
		if err != nil {
			return fmt.Errorf("open hand-off: %w", err)
		}
		out, created = &w, true
		return nil
	})
	if err != nil {
		return false, err
	}
	*h = *out
	return created, nil
}

// handoffReference names the reference of h that does not exist.
func handoffReference(ctx context.Context, tx *Tx, h *casework.Handoff) error {
	var n int
	if h.OwnerID != 0 {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM owners WHERE id = ?", h.OwnerID).Scan(&n); err == nil && n == 0 {
			return casework.Invalid("owner", "owner %d does not exist", h.OwnerID)
		}
	}
	return casework.Invalid("case", "case %d does not exist", h.CaseID)
}

// FindHandoff returns the hand-off with the ID.
func (db *DB) FindHandoff(ctx context.Context, id int64) (*casework.Handoff, error) {
	return inRead(ctx, db, func(tx *Tx) (*casework.Handoff, error) { return findHandoff(ctx, tx, id) })
}

// FindOpenHandoff returns the account's hand-off that is not ended.
func (db *DB) FindOpenHandoff(ctx context.Context, platform, userID string) (*casework.Handoff, error) {
	return inRead(ctx, db, func(tx *Tx) (*casework.Handoff, error) { return findOpenHandoff(ctx, tx, platform, userID) })
}

// ListHandoffs returns the hand-offs of f: waiting, taken, ended; the open
// oldest first, the ended latest first.
func (db *DB) ListHandoffs(ctx context.Context, f casework.HandoffFilter) ([]*casework.Handoff, error) {
	if err := f.Normalize(); err != nil {
		return nil, err
	}
	var w where
	if len(f.States) > 0 {
		w.add("state IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.States)), ", ")+")", anys(f.States)...)
	}
	if f.EndedSince != nil {
		w.add("(state <> 'ended' OR ended_at >= ?)", encodeTime(*f.EndedSince))
	}
	return readAll(ctx, db, "list hand-offs", scanHandoff, "SELECT "+handoffColumns+" FROM handoffs WHERE "+w.sql()+`
		ORDER BY CASE state WHEN 'waiting' THEN 0 WHEN 'taken' THEN 1 ELSE 2 END, ended_at DESC, created_at, id LIMIT ?`,
		append(w.args, f.Limit)...)
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
	h, err := inWriteResult(ctx, db, func(tx *Tx) (*casework.Handoff, error) {
		h, err := openHandoff(ctx, tx, m.HandoffID)
		if err != nil {
			return nil, err
		}
		if written, err = addHandoffMessage(ctx, tx, h, &nm, eff); err != nil {
			return nil, err
		}
		return findHandoff(ctx, tx, h.ID)
	})
	if err != nil {
		return nil, err
	}
	eff.SetWritten(written)
	*m = nm
	return h, nil
}

// addHandoffMessage writes eff, then m, to hand-off h, keeps the time of
// m's writer on h, and records m on h's case.
func addHandoffMessage(ctx context.Context, tx *Tx, h *casework.Handoff, m *casework.HandoffMessage, eff casework.Effects) (casework.Effects, error) {
	if m.At.IsZero() {
		m.At = tx.now
	}
	m.At = storedTime(m.At)
	written, err := writeEffects(ctx, tx, h.CaseID, eff)
	if err != nil {
		return casework.Effects{}, err
	}
	m.OutboxID, m.Delivery, m.DeliveryError = 0, "", ""
	if len(written.Messages) > 0 {
		m.OutboxID, m.Delivery = written.Messages[0].ID, casework.OutboxPending
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO handoff_messages (handoff_id, at, sender, actor, text, blob_key, outbox_id)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		h.ID, encodeTime(m.At), m.From, m.Actor, m.Text, m.BlobKey, nullID(m.OutboxID)).Scan(&m.ID)
	if err != nil {
		return casework.Effects{}, fmt.Errorf("add message to hand-off %d: %w", h.ID, err)
	}
	column := map[casework.HandoffFrom]string{casework.FromOwner: "last_owner_at", casework.FromAgent: "last_agent_at", casework.FromBot: "last_bot_at"}[m.From]
	if _, err := tx.ExecContext(ctx, "UPDATE handoffs SET "+column+" = ?, updated_at = ? WHERE id = ?", encodeTime(m.At), encodeTime(tx.now), h.ID); err != nil {
		return casework.Effects{}, fmt.Errorf("update hand-off %d: %w", h.ID, err)
	}
	if h.CaseID == 0 {
		return written, nil
	}
	switch m.From {
	case casework.FromOwner:
		err = recordEvent(ctx, tx, &casework.Event{CaseID: h.CaseID, At: m.At, Actor: m.Actor, Kind: casework.EventNote, Note: m.CaseNote()}, nil)
	case casework.FromAgent:
		err = recordEvent(ctx, tx, &casework.Event{CaseID: h.CaseID, At: m.At, Actor: m.Actor, Kind: casework.EventMessage, Note: m.Text}, nil)
	}
	if err != nil {
		return casework.Effects{}, fmt.Errorf("record hand-off message on case %d: %w", h.CaseID, err)
	}
	return written, nil
}

const handoffMessageColumns = `m.id, m.handoff_id, m.at, m.sender, m.actor, m.text, m.blob_key, m.outbox_id,
	ifnull(o.status, ''), ifnull(o.last_error, '')`

func scanHandoffMessage(s scanner) (*casework.HandoffMessage, error) {
	var m casework.HandoffMessage
	err := s.Scan(&m.ID, &m.HandoffID, timeCol{&m.At}, &m.From, &m.Actor, &m.Text, &m.BlobKey, idCol{&m.OutboxID}, &m.Delivery, &m.DeliveryError)
	return &m, err
}

func listHandoffMessages(ctx context.Context, tx *Tx, handoffID, afterID int64, from casework.HandoffFrom) ([]*casework.HandoffMessage, error) {
	q := "SELECT " + handoffMessageColumns + " FROM handoff_messages m LEFT JOIN outbox o ON o.id = m.outbox_id WHERE m.handoff_id = ? AND m.id > ?"
	args := []any{handoffID, afterID}
	if from != "" {
		q += " AND m.sender = ?"
		args = append(args, from)
	}
	ms, err := queryAll(ctx, tx, scanHandoffMessage, q+" ORDER BY m.id", args...)
	if err != nil {
		return nil, fmt.Errorf("list messages of hand-off %d: %w", handoffID, err)
	}
	return ms, nil
}

// ListHandoffMessages returns the messages after afterID, in order.
func (db *DB) ListHandoffMessages(ctx context.Context, handoffID, afterID int64) ([]*casework.HandoffMessage, error) {
	return inRead(ctx, db, func(tx *Tx) ([]*casework.HandoffMessage, error) {
		return listHandoffMessages(ctx, tx, handoffID, afterID, "")
	})
}

// TakeHandoff gives the hand-off to actor if from still holds it.
func (db *DB) TakeHandoff(ctx context.Context, id int64, actor, from casework.Actor, at time.Time) (*casework.Handoff, error) {
	if actor == "" {
		return nil, casework.Invalid("actor", "is required")
	}
	return inWriteResult(ctx, db, func(tx *Tx) (*casework.Handoff, error) {
		h, err := openHandoff(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if h.State == casework.HandoffTaken && h.TakenBy == actor {
			return h, nil
		}
		if h.TakenBy != from {
			return nil, conflict("the hand-off %d is taken by %s", id, h.TakenBy)
		}
		if at.IsZero() {
			at = tx.now
		}
		if _, err := tx.ExecContext(ctx, "UPDATE handoffs SET state = 'taken', taken_by = ?, taken_at = ?, updated_at = ? WHERE id = ?",
			actor, encodeTime(at), encodeTime(tx.now), id); err != nil {
			return nil, fmt.Errorf("take hand-off %d: %w", id, err)
		}
		return findHandoff(ctx, tx, id)
	})
}

// LinkHandoff links the hand-off to a case and notes the owner's words so
// far on the case.
func (db *DB) LinkHandoff(ctx context.Context, id, caseID int64) (*casework.Handoff, error) {
	return inWriteResult(ctx, db, func(tx *Tx) (*casework.Handoff, error) {
		h, err := openHandoff(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if _, err := findCase(ctx, tx, "c.id = ?", caseID); err != nil {
			return nil, err
		}
		if h.CaseID == caseID {
			return h, nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE handoffs SET case_id = ?, updated_at = ? WHERE id = ?", caseID, encodeTime(tx.now), id); err != nil {
			return nil, fmt.Errorf("link hand-off %d: %w", id, err)
		}
		owners, err := listHandoffMessages(ctx, tx, id, 0, casework.FromOwner)
		if err != nil {
			return nil, err
		}
		if len(owners) > 0 {
			e := &casework.Event{CaseID: caseID, Actor: owners[len(owners)-1].Actor, Kind: casework.EventNote,
				Note: casework.LinkedNote(id, owners, tx.db.numbering.Location)}
			if err := recordEvent(ctx, tx, e, nil); err != nil {
				return nil, fmt.Errorf("note hand-off %d on case %d: %w", id, caseID, err)
			}
		}
		return findHandoff(ctx, tx, id)
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
	h, err := inWriteResult(ctx, db, func(tx *Tx) (*casework.Handoff, error) {
		h, err := findHandoff(ctx, tx, id)
		if err != nil || !h.State.Open() {
			return h, err
		}
		if m != nil {
			if written, err = addHandoffMessage(ctx, tx, h, &nm, eff); err != nil {
				return nil, err
			}
		} else if written, err = writeEffects(ctx, tx, h.CaseID, eff); err != nil {
			return nil, err
		}
		if at.IsZero() {
			at = tx.now
		}
		if _, err := tx.ExecContext(ctx, "UPDATE handoffs SET state = 'ended', ended_by = ?, ended_at = ?, updated_at = ? WHERE id = ?",
			actor, encodeTime(at), encodeTime(tx.now), id); err != nil {
			return nil, fmt.Errorf("end hand-off %d: %w", id, err)
		}
		ended = true
		return findHandoff(ctx, tx, id)
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
