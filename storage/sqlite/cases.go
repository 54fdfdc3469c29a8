package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// caseWritable are the columns of cases every write sets, in the order
// caseValues gives them. The number, created_at and intake_key are set once,
// by createCase, and kept by every later write.
var caseWritable = []string{
	"version", "project_id", "building_id", "unit_id", "owner_id", "owner_name", "owner_phone",
	"location", "location_detail", "description", "occurred_at", "occurred_text", "expectation", "contact_time",
	"channel", "received_at", "received_by", "category", "subcategory", "urgency", "responsibility",
	"decision_reason", "party_id", "assignee_id", "warranty_status", "warranty_until",
	"reporter_platform", "reporter_user_id", "identity_verified", "parent_id",
	"proposed_slots", "appointment_at", "plan", "survey_speed", "survey_attitude", "survey_quality", "survey_comment", "survey_at",
	"escalated_at", "state", "held_from", "repair_count",
	"respond_by", "on_site_by", "resolve_by", "responded_at", "on_site_at", "resolved_at", "closed_at", "updated_at",
}

func caseValues(c *casework.Case) ([]any, error) {
	slots, err := encodeSlots(c.ProposedSlots)
	if err != nil {
		return nil, fmt.Errorf("case %s: proposed slots: %w", c.Number, err)
	}
	plan, err := encodePlan(c.Plan)
	if err != nil {
		return nil, fmt.Errorf("case %s: plan: %w", c.Number, err)
	}
	var speed, attitude, quality, surveyAt any
	var comment string
	if s := c.Survey; s != nil {
		speed, attitude, quality, comment = s.Speed, s.Attitude, s.Quality, s.Comment
		if !s.AnsweredAt.IsZero() {
			surveyAt = encodeTime(s.AnsweredAt)
		}
	}
	return []any{
		c.Version, c.ProjectID, nullID(c.BuildingID), nullID(c.UnitID), nullID(c.OwnerID), c.OwnerName, c.OwnerPhone,
		c.Location, c.LocationDetail, c.Description, encodeTimePtr(c.OccurredAt), c.OccurredText, c.Expectation, c.ContactTime,
		c.Channel, encodeTime(c.ReceivedAt), c.ReceivedBy, c.Category, c.Subcategory, c.Urgency, c.Responsibility,
		c.DecisionReason, nullID(c.PartyID), nullID(c.AssigneeID), c.WarrantyStatus, encodeDate(c.WarrantyUntil),
		c.ReporterPlatform, c.ReporterUserID, c.IdentityVerified, nullID(c.ParentID),
		slots, encodeTimePtr(c.AppointmentAt), plan, speed, attitude, quality, comment, surveyAt,
		encodeTimePtr(c.EscalatedAt), c.State, c.HeldFrom, c.RepairCount,
		encodeTimePtr(c.RespondBy), encodeTimePtr(c.OnSiteBy), encodeTimePtr(c.ResolveBy),
		encodeTimePtr(c.RespondedAt), encodeTimePtr(c.OnSiteAt), encodeTimePtr(c.ResolvedAt), encodeTimePtr(c.ClosedAt),
		encodeTime(c.UpdatedAt),
	}, nil
}

var (
	insertCaseSQL = "INSERT INTO cases (number, created_at, intake_key, " + strings.Join(caseWritable, ", ") +
		") VALUES (?, ?, ?" + strings.Repeat(", ?", len(caseWritable)) + ") RETURNING id"
	updateCaseSQL = "UPDATE cases SET " + strings.Join(caseWritable, " = ?, ") + " = ? WHERE id = ? AND version = ?"
)

const caseColumns = `c.id, c.number, c.intake_key, c.version, c.project_id, c.building_id, c.unit_id, c.owner_id, c.owner_name, c.owner_phone,
	c.location, c.location_detail, c.description, c.occurred_at, c.occurred_text, c.expectation, c.contact_time,
	c.channel, c.received_at, c.received_by, c.category, c.subcategory, c.urgency, c.responsibility,
	c.decision_reason, c.party_id, c.assignee_id, c.warranty_status, c.warranty_until,
	c.reporter_platform, c.reporter_user_id, c.identity_verified, c.parent_id,
	c.proposed_slots, c.appointment_at, c.plan, c.survey_speed, c.survey_attitude, c.survey_quality, c.survey_comment, c.survey_at,
	c.escalated_at, c.state, c.held_from, c.repair_count,
	c.respond_by, c.on_site_by, c.resolve_by, c.responded_at, c.on_site_at, c.resolved_at, c.closed_at, c.created_at, c.updated_at`

func scanCase(s scanner) (*casework.Case, error) {
	var c casework.Case
	var intakeKey, slots, plan sql.NullString
	var speed, attitude, quality sql.NullInt64
	var comment string
	var surveyAt *time.Time
	err := s.Scan(&c.ID, &c.Number, &intakeKey, &c.Version, &c.ProjectID, idCol{&c.BuildingID}, idCol{&c.UnitID}, idCol{&c.OwnerID}, &c.OwnerName, &c.OwnerPhone,
		&c.Location, &c.LocationDetail, &c.Description, nullTimeCol{&c.OccurredAt}, &c.OccurredText, &c.Expectation, &c.ContactTime,
		&c.Channel, timeCol{&c.ReceivedAt}, &c.ReceivedBy, &c.Category, &c.Subcategory, &c.Urgency, &c.Responsibility,
		&c.DecisionReason, idCol{&c.PartyID}, idCol{&c.AssigneeID}, &c.WarrantyStatus, dateCol{&c.WarrantyUntil},
		&c.ReporterPlatform, &c.ReporterUserID, &c.IdentityVerified, idCol{&c.ParentID},
		&slots, nullTimeCol{&c.AppointmentAt}, &plan, &speed, &attitude, &quality, &comment, nullTimeCol{&surveyAt},
		nullTimeCol{&c.EscalatedAt}, &c.State, &c.HeldFrom, &c.RepairCount,
		nullTimeCol{&c.RespondBy}, nullTimeCol{&c.OnSiteBy}, nullTimeCol{&c.ResolveBy},
		nullTimeCol{&c.RespondedAt}, nullTimeCol{&c.OnSiteAt}, nullTimeCol{&c.ResolvedAt}, nullTimeCol{&c.ClosedAt},
		timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt})
	if err != nil {
		return nil, err
	}
	c.IntakeKey = intakeKey.String
	if c.ProposedSlots, err = decodeSlots(slots.String); err != nil {
		return nil, fmt.Errorf("case %s: proposed slots: %w", c.Number, err)
	}
	if plan.Valid {
		c.Plan = new(casework.Plan)
		if err := json.Unmarshal([]byte(plan.String), c.Plan); err != nil {
			return nil, fmt.Errorf("case %s: plan: %w", c.Number, err)
		}
		c.Plan.StartAt = storedTimePtr(c.Plan.StartAt)
	}
	if speed.Valid {
		c.Survey = &casework.Survey{Speed: int(speed.Int64), Attitude: int(attitude.Int64), Quality: int(quality.Int64), Comment: comment}
		if surveyAt != nil {
			c.Survey.AnsweredAt = *surveyAt
		}
	}
	return &c, nil
}

// encodeSlots stores visit times as a JSON array of stored times.
func encodeSlots(ts []time.Time) (string, error) {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = encodeTime(t)
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// decodeSlots reads what encodeSlots stored; no slots are nil.
func decodeSlots(s string) ([]time.Time, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var strs []string
	if err := json.Unmarshal([]byte(s), &strs); err != nil {
		return nil, err
	}
	out := make([]time.Time, len(strs))
	for i, v := range strs {
		if err := (timeCol{&out[i]}).Scan(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// encodePlan stores a plan as JSON; no plan is NULL.
func encodePlan(p *casework.Plan) (any, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// CreateCase validates and registers c with a new number, its media and an
// EventCreated, in one transaction.
func (db *DB) CreateCase(ctx context.Context, c *casework.Case) error {
	return db.CreateCaseWith(ctx, c, casework.Effects{})
}

// CreateCaseWith is CreateCase that also writes eff in the transaction (see
// writeEffects); a zero CaseID in eff stands for the new case. A case whose
// IntakeKey is already a case's stores nothing, eff included, takes no
// number, and returns a *casework.DuplicateIntakeError naming that case
// (see takenBy).
func (db *DB) CreateCaseWith(ctx context.Context, c *casework.Case, eff casework.Effects) error {
	if err := c.Validate(); err != nil {
		return err
	}
	for i := range c.Media {
		if err := c.Media[i].Validate(); err != nil {
			return err
		}
	}
	if err := db.checkEffects(eff); err != nil {
		return err
	}
	// Work on a copy so that c changes only when the case is stored.
	nc := *c
	nc.Media = slices.Clone(c.Media)
	var written casework.Effects
	err := db.inWrite(ctx, func(tx *Tx) (err error) {
		if err := createCase(ctx, tx, &nc); err != nil {
			return err
		}
		written, err = writeEffects(ctx, tx, nc.ID, eff)
		return err
	})
	if err != nil {
		return err
	}
	*c = nc
	eff.SetWritten(written)
	return nil
}

func createCase(ctx context.Context, tx *Tx, c *casework.Case) error {
	if c.ReceivedAt.IsZero() {
		c.ReceivedAt = tx.now
	}
	c.Version, c.State, c.HeldFrom, c.RepairCount = 1, casework.StateRegistered, "", 0
	c.RespondedAt, c.OnSiteAt, c.ResolvedAt, c.ClosedAt = nil, nil, nil, nil
	c.MapTimes(storedTime)
	c.CreatedAt, c.UpdatedAt = tx.now, tx.now

	day := tx.db.numbering.Day(c.ReceivedAt)
	var seq int64
	if err := tx.QueryRowContext(ctx, `
		INSERT INTO case_counters (day, seq) VALUES (?, 1)
		ON CONFLICT (day) DO UPDATE SET seq = seq + 1
		RETURNING seq`, day).Scan(&seq); err != nil {
		return fmt.Errorf("number case: %w", err)
	}
	c.Number = tx.db.numbering.Format(day, seq)

	values, err := caseValues(c)
	if err != nil {
		return err
	}
	args := append([]any{c.Number, encodeTime(c.CreatedAt), nullText(c.IntakeKey)}, values...)
	err = tx.QueryRowContext(ctx, insertCaseSQL, args...).Scan(&c.ID)
	switch {
	case isForeignKeyViolation(err):
		return missingReference(ctx, tx, c, err)
	case isUniqueViolation(err):
		return takenBy(ctx, tx, c)
	case err != nil:
		return fmt.Errorf("create case %s: %w", c.Number, err)
	}
	for i := range c.Media {
		c.Media[i].CaseID = c.ID
		if err := insertMedia(ctx, tx, &c.Media[i]); err != nil {
			return err
		}
	}
	if err := tx.db.failAfter; err != nil {
		return err
	}
	return insertEvent(ctx, tx, &casework.Event{CaseID: c.ID, At: c.ReceivedAt, Actor: c.ReceivedBy, Kind: casework.EventCreated, To: c.State})
}

// takenBy returns, after inserting c violated a unique index, the
// *casework.DuplicateIntakeError naming the case registered first with c's
// IntakeKey (cases_intake_key_idx), or the conflict on c's number when no
// case has that key. The transaction holds the write lock, so the case the
// index found is still there; returning an error rolls back the
// transaction, and with it the increment of the day's counter: the
// duplicate takes no number.
func takenBy(ctx context.Context, tx *Tx, c *casework.Case) error {
	if c.IntakeKey != "" {
		dup := &casework.DuplicateIntakeError{}
		err := tx.QueryRowContext(ctx, "SELECT id, number FROM cases WHERE intake_key = ?", c.IntakeKey).Scan(&dup.ID, &dup.Number)
		switch {
		case err == nil:
			return dup
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("case %s: find the case of its intake key: %w", c.Number, err)
		}
	}
	return conflict("case number %s is taken", c.Number)
}

// missingReference returns the *casework.ValidationError naming the
// reference of c that does not exist, after err, a foreign key violation.
func missingReference(ctx context.Context, tx *Tx, c *casework.Case, err error) error {
	refs := []struct {
		field, table string
		id           int64
	}{
		{"project", "projects", c.ProjectID}, {"building", "buildings", c.BuildingID}, {"unit", "units", c.UnitID},
		{"owner", "owners", c.OwnerID}, {"party", "parties", c.PartyID}, {"assignee", "members", c.AssigneeID},
		{"parent", "cases", c.ParentID},
	}
	for _, r := range refs {
		if r.id == 0 {
			continue
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+r.table+" WHERE id = ?)", r.id).Scan(&exists); err != nil {
			return fmt.Errorf("case %s: %w", c.Number, err)
		}
		if !exists {
			return casework.Invalid(r.field, "%s %d does not exist", r.field, r.id)
		}
	}
	return fmt.Errorf("case %s: %w", c.Number, err)
}

func insertMedia(ctx context.Context, tx *Tx, m *casework.MediaRef) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = tx.now
	}
	m.CreatedAt = storedTime(m.CreatedAt)
	err := tx.QueryRowContext(ctx, `
		INSERT INTO case_media (case_id, kind, blob_key, content_type, size, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		m.CaseID, m.Kind, m.BlobKey, m.ContentType, m.Size, encodeTime(m.CreatedAt)).Scan(&m.ID)
	switch {
	case isForeignKeyViolation(err):
		return notFound("case %d", m.CaseID)
	case err != nil:
		return fmt.Errorf("add media to case %d: %w", m.CaseID, err)
	}
	return nil
}

// recordEvent appends e to its case's timeline (a zero e.At is now) and
// writes c, the case as the write e records left it, when that write
// changed it; c is nil for an entry that changes nothing of the case's own.
// It is the one way into a timeline after the case's EventCreated: the
// entry is noted on the case (casework.Case.NoteContact), and when it is
// the case's first human contact the case — c, or else the stored case — is
// written with it, with a new version.
func recordEvent(ctx context.Context, tx *Tx, e *casework.Event, c *casework.Case) error {
	if e.At.IsZero() {
		e.At = tx.now
	}
	e.At = storedTime(e.At)
	changed := c != nil
	if c == nil && e.Actor.IsPerson() {
		var err error
		if c, err = findCase(ctx, tx, "c.id = ?", e.CaseID); err != nil {
			return err
		}
	}
	if c != nil {
		if contact := c.NoteContact(e.Actor, e.At); contact || changed {
			if err := writeCase(ctx, tx, c); err != nil {
				return err
			}
		}
	}
	return insertEvent(ctx, tx, e)
}

// insertEvent inserts e, its At set, numbering it after the last entry of
// its case's timeline. Only createCase calls it directly; every later entry
// goes through recordEvent.
func insertEvent(ctx context.Context, tx *Tx, e *casework.Event) error {
	err := tx.QueryRowContext(ctx, `
		INSERT INTO case_events (case_id, seq, at, actor, kind, action, from_state, to_state, note)
		VALUES (?, (SELECT ifnull(max(seq), 0) + 1 FROM case_events WHERE case_id = ?), ?, ?, ?, ?, ?, ?, ?)
		RETURNING id, seq`,
		e.CaseID, e.CaseID, encodeTime(e.At), e.Actor, e.Kind, e.Action, e.From, e.To, e.Note).Scan(&e.ID, &e.Seq)
	switch {
	case isForeignKeyViolation(err):
		return notFound("case %d", e.CaseID)
	case err != nil:
		return fmt.Errorf("add event to case %d: %w", e.CaseID, err)
	}
	return nil
}

// FindCaseByID returns the case with its media.
func (db *DB) FindCaseByID(ctx context.Context, id int64) (*casework.Case, error) {
	return inRead(ctx, db, func(tx *Tx) (*casework.Case, error) { return findCase(ctx, tx, "c.id = ?", id) })
}

// FindCaseByNumber returns the case with its media.
func (db *DB) FindCaseByNumber(ctx context.Context, number string) (*casework.Case, error) {
	return inRead(ctx, db, func(tx *Tx) (*casework.Case, error) { return findCase(ctx, tx, "c.number = ?", number) })
}

// findCase returns the one case that matches where, with its media.
func findCase(ctx context.Context, tx *Tx, where string, arg any) (*casework.Case, error) {
	c, err := queryOne(ctx, tx, fmt.Sprintf("case %v", arg), scanCase, "SELECT "+caseColumns+" FROM cases c WHERE "+where, arg)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, case_id, kind, blob_key, content_type, size, created_at FROM case_media WHERE case_id = ? ORDER BY id", c.ID)
	if err != nil {
		return nil, fmt.Errorf("find media of case %s: %w", c.Number, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m casework.MediaRef
		if err := rows.Scan(&m.ID, &m.CaseID, &m.Kind, &m.BlobKey, &m.ContentType, &m.Size, timeCol{&m.CreatedAt}); err != nil {
			return nil, fmt.Errorf("find media of case %s: %w", c.Number, err)
		}
		c.Media = append(c.Media, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find media of case %s: %w", c.Number, err)
	}
	return c, nil
}

// overdueSQL keeps the cases overdue at the time bound three times: the SQL
// form of casework.(*Case).Overdue. Its first terms are those of the partial
// index cases_open_idx.
const overdueSQL = `c.resolved_at IS NULL AND c.state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold')
	AND ((c.respond_by < ? AND c.responded_at IS NULL) OR (c.on_site_by < ? AND c.on_site_at IS NULL) OR c.resolve_by < ?)`

// FindCases returns the cases that match f, newest first, without media, and
// how many match without paging.
func (db *DB) FindCases(ctx context.Context, f casework.CaseFilter) ([]*casework.Case, int, error) {
	if err := f.Normalize(); err != nil {
		return nil, 0, err
	}
	if (f.ReporterPlatform == "") != (f.ReporterUserID == "") {
		return nil, 0, casework.Invalid("reporter", "platform and user id go together")
	}
	var w where
	if len(f.States) > 0 {
		w.add("c.state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")", anys(f.States)...)
	}
	if f.Urgency != "" {
		w.add("c.urgency = ?", f.Urgency)
	}
	if f.Category != "" {
		w.add("c.category = ?", f.Category)
	}
	if f.ProjectID != 0 {
		w.add("c.project_id = ?", f.ProjectID)
	}
	if len(f.ProjectIDs) > 0 {
		w.add("c.project_id IN (?"+strings.Repeat(", ?", len(f.ProjectIDs)-1)+")", anys(f.ProjectIDs)...)
	}
	if f.BuildingID != 0 {
		w.add("c.building_id = ?", f.BuildingID)
	}
	if f.UnitID != 0 {
		w.add("c.unit_id = ?", f.UnitID)
	}
	if f.OwnerID != 0 {
		w.add("c.owner_id = ?", f.OwnerID)
	}
	if f.PartyID != 0 {
		w.add("c.party_id = ?", f.PartyID)
	}
	if f.AssigneeID != 0 {
		w.add("c.assignee_id = ?", f.AssigneeID)
	}
	if f.Channel != "" {
		w.add("c.channel = ?", f.Channel)
	}
	if f.ReporterPlatform != "" {
		w.add("c.reporter_platform = ? AND c.reporter_user_id = ?", f.ReporterPlatform, f.ReporterUserID)
	}
	if f.OverdueAt != nil {
		at := encodeTime(*f.OverdueAt)
		w.add(overdueSQL, at, at, at)
	}
	if f.Urged {
		w.add("c.id IN (SELECT case_id FROM case_events WHERE kind = 'urge')")
	}
	if f.Unanswered {
		w.add("c.responded_at IS NULL")
	}
	if f.Text != "" {
		// instr matches literally, so % and _ need no escaping; SQLite's
		// lower() folds ASCII letters only, and so does asciiLower.
		q := asciiLower(f.Text)
		w.add(`(instr(lower(c.number), ?) > 0 OR instr(lower(c.owner_name), ?) > 0 OR instr(lower(c.description), ?) > 0
			OR instr(lower(c.location_detail), ?) > 0 OR instr(lower(c.expectation), ?) > 0)`, q, q, q, q, q)
	}
	cond, args := w.sql(), w.args

	var total int
	cases, err := inRead(ctx, db, func(tx *Tx) ([]*casework.Case, error) {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM cases c WHERE "+cond, args...).Scan(&total); err != nil {
			return nil, fmt.Errorf("count cases: %w", err)
		}
		if f.Offset >= total {
			return nil, nil
		}
		order := " ORDER BY c.received_at DESC, c.id DESC"
		switch f.Order {
		case casework.OrderOldest:
			order = " ORDER BY c.received_at, c.id"
		case casework.OrderDue:
			order = " ORDER BY " + nextDeadlineSQL + " NULLS LAST, c.received_at, c.id"
		}
		cases, err := queryAll(ctx, tx, scanCase,
			"SELECT "+caseColumns+" FROM cases c WHERE "+cond+order+" LIMIT ? OFFSET ?",
			append(args, f.Limit, f.Offset)...)
		if err != nil {
			return nil, fmt.Errorf("find cases: %w", err)
		}
		return cases, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return cases, total, nil
}

// where gathers the conditions of a query, joined with AND, and their
// arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds, w.args = append(w.conds, cond), append(w.args, args...)
}

// sql returns the conditions, or "1 = 1" when there are none.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return "1 = 1"
	}
	return strings.Join(w.conds, " AND ")
}

func anys[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// asciiLower lowers the ASCII letters of s, as SQLite's lower() does.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// UpdateCase applies upd to the case if its version is still version,
// increments the version and records an EventUpdated, in one transaction.
func (db *DB) UpdateCase(ctx context.Context, id int64, version int, upd casework.CaseUpdate) (*casework.Case, error) {
	return db.UpdateCaseWith(ctx, id, version, upd, casework.Effects{})
}

// UpdateCaseWith is UpdateCase that also writes eff in the transaction; a
// zero CaseID in eff stands for the case updated.
func (db *DB) UpdateCaseWith(ctx context.Context, id int64, version int, upd casework.CaseUpdate, eff casework.Effects) (*casework.Case, error) {
	return db.writeCaseWith(ctx, id, eff, func(tx *Tx) (*casework.Case, error) { return updateCase(ctx, tx, id, version, upd) })
}

// writeCaseWith runs fn, a change to case id, and writes eff after it, in
// one write transaction.
func (db *DB) writeCaseWith(ctx context.Context, id int64, eff casework.Effects, fn func(tx *Tx) (*casework.Case, error)) (*casework.Case, error) {
	if err := db.checkEffects(eff); err != nil {
		return nil, err
	}
	var written casework.Effects
	c, err := inWriteResult(ctx, db, func(tx *Tx) (*casework.Case, error) {
		c, err := fn(tx)
		if err != nil {
			return nil, err
		}
		written, err = writeEffects(ctx, tx, id, eff)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	eff.SetWritten(written)
	return c, nil
}

func updateCase(ctx context.Context, tx *Tx, id int64, version int, upd casework.CaseUpdate) (*casework.Case, error) {
	c, err := findCase(ctx, tx, "c.id = ?", id)
	if err != nil {
		return nil, err
	}
	if c.Version != version {
		return nil, conflict("case %s is at version %d, not %d", c.Number, c.Version, version)
	}
	if err := upd.Apply(c); err != nil {
		return nil, err
	}
	if err := recordEvent(ctx, tx, &casework.Event{CaseID: c.ID, Actor: upd.Actor, Kind: casework.EventUpdated, Note: upd.Note}, c); err != nil {
		return nil, err
	}
	return c, nil
}

// TransitionCase performs t on the case if its version is still version (0:
// whatever it is), increments the version and records an EventTransition,
// in one transaction.
func (db *DB) TransitionCase(ctx context.Context, id int64, version int, t casework.Transition) (*casework.Case, error) {
	return db.TransitionCaseWith(ctx, id, version, t, casework.Effects{})
}

// TransitionCaseWith is TransitionCase that also writes eff in the
// transaction; a zero CaseID in eff stands for the case changed.
func (db *DB) TransitionCaseWith(ctx context.Context, id int64, version int, t casework.Transition, eff casework.Effects) (*casework.Case, error) {
	return db.writeCaseWith(ctx, id, eff, func(tx *Tx) (*casework.Case, error) { return transitionCase(ctx, tx, id, version, t) })
}

func transitionCase(ctx context.Context, tx *Tx, id int64, version int, t casework.Transition) (*casework.Case, error) {
	c, err := findCase(ctx, tx, "c.id = ?", id)
	if err != nil {
		return nil, err
	}
	if version != 0 && c.Version != version {
		return nil, conflict("case %s is at version %d, not %d", c.Number, c.Version, version)
	}
	if t.At.IsZero() {
		t.At = tx.now
	}
	t.At = storedTime(t.At)
	from, err := t.Apply(c)
	if err != nil {
		return nil, err
	}
	if err := recordEvent(ctx, tx, t.Event(c, from), c); err != nil {
		return nil, err
	}
	return c, nil
}

// writeCase writes c over the stored case of the version before c's next,
// then stops if the store is to fail there.
func writeCase(ctx context.Context, tx *Tx, c *casework.Case) error {
	c.MapTimes(storedTime)
	c.Version++
	c.UpdatedAt = tx.now
	values, err := caseValues(c)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, updateCaseSQL, append(values, c.ID, c.Version-1)...)
	if isForeignKeyViolation(err) {
		return missingReference(ctx, tx, c, err)
	}
	if err != nil {
		return fmt.Errorf("update case %s: %w", c.Number, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return conflict("case %s changed since version %d", c.Number, c.Version-1)
	}
	return tx.db.failAfter
}

// AddCaseEvent appends a timeline entry that changes no state (a note, an
// urge, a message…) to a case's timeline.
func (db *DB) AddCaseEvent(ctx context.Context, e *casework.Event) error {
	return db.AddCaseEventWith(ctx, e, casework.Effects{})
}

// AddCaseEventWith is AddCaseEvent that also writes eff in the transaction;
// a zero CaseID in eff stands for the event's case.
func (db *DB) AddCaseEventWith(ctx context.Context, e *casework.Event, eff casework.Effects) error {
	if !e.Kind.Direct() {
		return casework.Invalid("kind", "%q is not added directly: only entries that change nothing else are", e.Kind)
	}
	if e.Actor == "" {
		return casework.Invalid("actor", "is required")
	}
	if err := db.checkEffects(eff); err != nil {
		return err
	}
	var written casework.Effects
	err := db.inWrite(ctx, func(tx *Tx) (err error) {
		if err := recordEvent(ctx, tx, e, nil); err != nil {
			return err
		}
		written, err = writeEffects(ctx, tx, e.CaseID, eff)
		return err
	})
	if err != nil {
		return err
	}
	eff.SetWritten(written)
	return nil
}

// AddCaseMedia attaches a media reference to a case and records an EventMedia.
func (db *DB) AddCaseMedia(ctx context.Context, m *casework.MediaRef, actor casework.Actor) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if actor == "" {
		return casework.Invalid("actor", "is required")
	}
	return db.inWrite(ctx, func(tx *Tx) error {
		if err := insertMedia(ctx, tx, m); err != nil {
			return err
		}
		return recordEvent(ctx, tx, &casework.Event{CaseID: m.CaseID, At: m.CreatedAt, Actor: actor, Kind: casework.EventMedia, Note: string(m.Kind)}, nil)
	})
}

// UrgeCounts returns how often and when last the owner urged each of the
// cases ids that was urged (the index case_events_urge_idx holds them).
func (db *DB) UrgeCounts(ctx context.Context, ids []int64) (map[int64]casework.UrgeCount, error) {
	out := map[int64]casework.UrgeCount{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	type row struct {
		id int64
		n  casework.UrgeCount
	}
	rows, err := readAll(ctx, db, "count urges", func(s scanner) (row, error) {
		var x row
		err := s.Scan(&x.id, &x.n.N, timeCol{&x.n.Last})
		return x, err
	}, "SELECT case_id, count(*), max(at) FROM case_events WHERE kind = 'urge' AND case_id IN (?"+strings.Repeat(", ?", len(ids)-1)+") GROUP BY case_id", args...)
	for _, x := range rows {
		out[x.id] = x.n
	}
	return out, err
}

// ListCaseEvents returns a case's timeline in order.
func (db *DB) ListCaseEvents(ctx context.Context, caseID int64) ([]*casework.Event, error) {
	return readAll(ctx, db, fmt.Sprintf("list events of case %d", caseID), func(s scanner) (*casework.Event, error) {
		var e casework.Event
		err := s.Scan(&e.ID, &e.CaseID, &e.Seq, timeCol{&e.At}, &e.Actor, &e.Kind, &e.Action, &e.From, &e.To, &e.Note)
		return &e, err
	}, "SELECT id, case_id, seq, at, actor, kind, action, from_state, to_state, note FROM case_events WHERE case_id = ? ORDER BY seq", caseID)
}

// nextDeadlineSQL is casework.Case.NextDeadline of a row. SQLite's min() of
// several values is NULL when one is, so a missing deadline counts as 'z',
// later than every stored time, and a case with none is NULL again.
const nextDeadlineSQL = `(CASE WHEN c.resolved_at IS NULL AND c.state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold')
	THEN nullif(min(CASE WHEN c.responded_at IS NULL THEN coalesce(c.respond_by, 'z') ELSE 'z' END,
		CASE WHEN c.on_site_at IS NULL THEN coalesce(c.on_site_by, 'z') ELSE 'z' END, coalesce(c.resolve_by, 'z')), 'z') END)`
