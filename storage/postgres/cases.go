package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/aftersales/aftersales/casework"
)

const caseCols = `id, number, coalesce(intake_key, ''), version, project_id, coalesce(building_id, 0), coalesce(unit_id, 0), coalesce(owner_id, 0),
	owner_name, owner_phone, location, location_detail, description, occurred_at, occurred_text, expectation, contact_time,
	channel, received_at, received_by, category, subcategory, urgency, responsibility, decision_reason,
	coalesce(party_id, 0), coalesce(assignee_id, 0), warranty_status, warranty_until,
	reporter_platform, reporter_user_id, identity_verified, coalesce(parent_id, 0),
	proposed_slots, appointment_at, plan, survey_speed, survey_attitude, survey_quality, survey_comment, survey_at,
	escalated_at, state, held_from, repair_count,
	respond_by, on_site_by, resolve_by, responded_at, on_site_at, resolved_at, closed_at, created_at, updated_at`

func scanCase(row scanner) (*casework.Case, error) {
	var c casework.Case
	var warrantyUntil pgtype.Date
	var plan []byte
	var speed, attitude, quality *int
	var comment string
	var surveyAt *time.Time
	err := row.Scan(&c.ID, &c.Number, &c.IntakeKey, &c.Version, &c.ProjectID, &c.BuildingID, &c.UnitID, &c.OwnerID,
		&c.OwnerName, &c.OwnerPhone, &c.Location, &c.LocationDetail, &c.Description, &c.OccurredAt, &c.OccurredText, &c.Expectation, &c.ContactTime,
		&c.Channel, &c.ReceivedAt, &c.ReceivedBy, &c.Category, &c.Subcategory, &c.Urgency, &c.Responsibility, &c.DecisionReason,
		&c.PartyID, &c.AssigneeID, &c.WarrantyStatus, &warrantyUntil,
		&c.ReporterPlatform, &c.ReporterUserID, &c.IdentityVerified, &c.ParentID,
		&c.ProposedSlots, &c.AppointmentAt, &plan, &speed, &attitude, &quality, &comment, &surveyAt,
		&c.EscalatedAt, &c.State, &c.HeldFrom, &c.RepairCount,
		&c.RespondBy, &c.OnSiteBy, &c.ResolveBy, &c.RespondedAt, &c.OnSiteAt, &c.ResolvedAt, &c.ClosedAt, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	c.WarrantyUntil = fromPgDate(warrantyUntil)
	if plan != nil {
		c.Plan = new(casework.Plan)
		if err := json.Unmarshal(plan, c.Plan); err != nil {
			return nil, fmt.Errorf("case %s: plan: %w", c.Number, err)
		}
	}
	if speed != nil && attitude != nil && quality != nil {
		c.Survey = &casework.Survey{Speed: *speed, Attitude: *attitude, Quality: *quality, Comment: comment}
		if surveyAt != nil {
			c.Survey.AnsweredAt = *surveyAt
		}
	}
	// The times as stored, in UTC.
	c.MapTimes(dbTime)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

// caseMutable are the columns of cases that may change after registration,
// in the order mutableValues gives their values; received_by changes once,
// from the bot to the first person who acts on a chat's case (see
// casework.Case.NoteContact). The others (the number, intake_key,
// project_id, channel, received_at, created_at) are set once, by
// insertCaseSQL.
var caseMutable = []string{
	"building_id", "unit_id", "owner_id", "owner_name", "owner_phone",
	"location", "location_detail", "description", "occurred_at", "occurred_text", "expectation", "contact_time",
	"received_by", "category", "subcategory", "urgency", "responsibility", "decision_reason", "party_id", "assignee_id",
	"warranty_status", "warranty_until", "reporter_platform", "reporter_user_id", "identity_verified", "parent_id",
	"proposed_slots", "appointment_at", "plan", "survey_speed", "survey_attitude", "survey_quality", "survey_comment", "survey_at",
	"escalated_at", "state", "held_from", "repair_count",
	"respond_by", "on_site_by", "resolve_by", "responded_at", "on_site_at", "resolved_at", "closed_at",
}

// mutableValues returns the values of c's caseMutable columns.
func mutableValues(c *casework.Case) ([]any, error) {
	slots := c.ProposedSlots
	if slots == nil {
		slots = []time.Time{} // NOT NULL: none is the empty array
	}
	var plan any
	if c.Plan != nil {
		b, err := json.Marshal(c.Plan)
		if err != nil {
			return nil, fmt.Errorf("case %s: plan: %w", c.Number, err)
		}
		plan = b
	}
	var speed, attitude, quality, surveyAt any
	var comment string
	if s := c.Survey; s != nil {
		speed, attitude, quality, comment = s.Speed, s.Attitude, s.Quality, s.Comment
		if !s.AnsweredAt.IsZero() {
			surveyAt = s.AnsweredAt
		}
	}
	return []any{
		nullID(c.BuildingID), nullID(c.UnitID), nullID(c.OwnerID), c.OwnerName, c.OwnerPhone,
		c.Location, c.LocationDetail, c.Description, c.OccurredAt, c.OccurredText, c.Expectation, c.ContactTime,
		c.ReceivedBy, c.Category, c.Subcategory, c.Urgency, c.Responsibility, c.DecisionReason, nullID(c.PartyID), nullID(c.AssigneeID),
		c.WarrantyStatus, pgDate(c.WarrantyUntil), c.ReporterPlatform, c.ReporterUserID, c.IdentityVerified, nullID(c.ParentID),
		slots, c.AppointmentAt, plan, speed, attitude, quality, comment, surveyAt,
		c.EscalatedAt, c.State, c.HeldFrom, c.RepairCount,
		c.RespondBy, c.OnSiteBy, c.ResolveBy, c.RespondedAt, c.OnSiteAt, c.ResolvedAt, c.ClosedAt,
	}, nil
}

// placeholders returns "$from, $from+1, …", n of them.
func placeholders(from, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(ps, ", ")
}

var (
	// insertCaseSQL numbers and inserts a case: $1 is the day key, $2…$8
	// the columns set once, the rest caseMutable. A case whose intake_key
	// is already a case's violates intakeKeyIndex (see createCase).
	insertCaseSQL = `WITH counter AS (
			INSERT INTO case_counters (day, last) VALUES ($1, 1)
			ON CONFLICT (day) DO UPDATE SET last = case_counters.last + 1
			RETURNING last)
		INSERT INTO cases (number, version, project_id, channel, received_at, created_at, updated_at, intake_key, last_event_seq, ` +
		strings.Join(caseMutable, ", ") + `)
		SELECT ` + numberSQL + `, $2, $3, $4, $5, $6, $7, $8, 1, ` + placeholders(9, len(caseMutable)) + `
		FROM counter
		RETURNING id, number`
	// updateCaseSQL writes the caseMutable columns from $3 on and
	// updated_at if the case ($1) is still at version $2.
	updateCaseSQL = func() string {
		sets := make([]string, len(caseMutable))
		for i, col := range caseMutable {
			sets[i] = col + " = $" + strconv.Itoa(i+3)
		}
		return `UPDATE cases SET version = version + 1, last_event_seq = last_event_seq + 1, ` + strings.Join(sets, ", ") +
			`, updated_at = $` + strconv.Itoa(len(caseMutable)+3) + `
		WHERE id = $1 AND version = $2
		RETURNING last_event_seq`
	}()
)

const mediaCols = `id, case_id, kind, blob_key, content_type, size, created_at`

func scanMedia(row scanner) (casework.MediaRef, error) {
	var m casework.MediaRef
	if err := row.Scan(&m.ID, &m.CaseID, &m.Kind, &m.BlobKey, &m.ContentType, &m.Size, &m.CreatedAt); err != nil {
		return m, err
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}

const eventCols = `id, case_id, seq, at, actor, kind, action, from_state, to_state, note`

func scanEvent(row scanner) (*casework.Event, error) {
	var e casework.Event
	if err := row.Scan(&e.ID, &e.CaseID, &e.Seq, &e.At, &e.Actor, &e.Kind, &e.Action, &e.From, &e.To, &e.Note); err != nil {
		return nil, err
	}
	e.At = e.At.UTC()
	return &e, nil
}

// CreateCase validates c, numbers it and stores it with its media and an
// EventCreated, all in one transaction (see createCase). It sets c's ID,
// Number, Version, State, timestamps and media IDs.
func (db *DB) CreateCase(ctx context.Context, c *casework.Case) error {
	return db.CreateCaseWith(ctx, c, casework.Effects{})
}

// CreateCaseWith is CreateCase that also writes eff (see writeEffects); a
// zero CaseID in eff stands for the new case. Without effects the case's
// batch is sent on the pool, one implicit transaction; with effects, in a
// transaction followed by the effects, which the day's counter row waits for
// (see createCase). A case whose IntakeKey is already a case's violates
// intakeKeyIndex: the transaction rolls back whole (the day's counter, the
// case's event and media, eff) and the error is a
// *casework.DuplicateIntakeError naming the case registered first.
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
	now := db.nowUTC()
	// Work on a copy so that c changes only when the case is stored.
	nc := *c
	nc.Media = append([]casework.MediaRef(nil), c.Media...)
	if nc.ReceivedAt.IsZero() {
		nc.ReceivedAt = now
	}
	nc.MapTimes(dbTime)
	nc.Version, nc.State, nc.HeldFrom, nc.RepairCount = 1, casework.StateRegistered, "", 0
	nc.RespondedAt, nc.OnSiteAt, nc.ResolvedAt, nc.ClosedAt = nil, nil, nil, nil
	nc.CreatedAt, nc.UpdatedAt = now, now
	for i := range nc.Media {
		if nc.Media[i].CreatedAt.IsZero() {
			nc.Media[i].CreatedAt = now
		}
		nc.Media[i].CreatedAt = dbTime(nc.Media[i].CreatedAt)
	}
	day := db.numbering.Day(nc.ReceivedAt)
	op := "postgres: create case of " + day
	if eff.Empty() {
		// Sent on the pool, the batch is one implicit transaction.
		err := db.createCase(ctx, db.pool, &nc, day)
		if errors.Is(err, errIntakeKeyTaken) {
			return db.duplicateIntake(ctx, nc.IntakeKey)
		}
		if err != nil {
			return dbErr(op, err)
		}
		*c = nc
		return nil
	}
	var written casework.Effects
	err := db.inWrite(ctx, op, func(tx pgx.Tx) (err error) {
		if err := db.createCase(ctx, tx, &nc, day); err != nil {
			return err
		}
		written, err = db.writeEffects(ctx, tx, nc.ID, eff)
		return err
	})
	if errors.Is(err, errIntakeKeyTaken) {
		return db.duplicateIntake(ctx, nc.IntakeKey)
	}
	if err != nil {
		return err
	}
	eff.SetWritten(written)
	*c = nc
	return nil
}

// batchSender sends a batch: the pool, where the batch is one implicit
// transaction committed at its end, or a pgx.Tx, where it is part of that
// transaction.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// numberSQL is casework.Numbering.Format in SQL, for the day key $1 and the
// sequence counter.last: the key, a dash and the sequence, at least four
// digits. TestNumberSQLMatchesFormat keeps the two in step.
const numberSQL = `$1 || '-' || CASE WHEN counter.last < 10000 THEN to_char(counter.last, 'FM0000') ELSE counter.last::text END`

// currentCaseID is the ID of the case the batch of createCase inserted: the
// session's current value of the cases ID sequence.
const currentCaseID = `currval(pg_get_serial_sequence('cases', 'id'))`

// createCase numbers and inserts c, its EventCreated and its media, as one
// batch: one round trip, and on the pool one implicit transaction.
//
// Case numbers (诉求编号) are gap-free: the day's counter row in
// case_counters is incremented in the case's own transaction, so a case
// refused by a constraint, or a registration that fails, gives its number
// back (the conformance suite requires it). The price is that writers of one
// day serialise on that row, which stays locked from the increment until the
// transaction commits. So nothing that waits on the client happens in
// between: the increment and the case row are one statement, and the event
// and media rows and the commit follow in the same batch; the lock is held
// only while the server runs them and flushes the commit. Measured with 8
// writers on the 2-core development machine (noisy: other work shared it):
// the increment first in a transaction of separate round trips (BEGIN;
// increment; insert case; insert event; insert media; COMMIT) gave
// 860–1,470 cases/s; this batch inside BEGIN…COMMIT 1,740–2,280/s; the batch
// alone 2,150–2,840/s (BenchmarkStore: 1,680–2,500/s). An increment in a
// short transaction of its own, before the case's, would not serialise
// writers at all (about 1,900–2,800/s) but would leave a gap for every failed
// registration. Those figures predate the console's indexes (migration
// 0009): the text-search index about halves the rate (BenchmarkStore with 8
// writers: about 950 → 530 cases/s), still far above a department's load.
//
// The same holds for a case refused as the duplicate of a report (its
// intake_key is a case's already, errIntakeKeyTaken): the violation of
// intakeKeyIndex aborts the batch and the transaction, counter included.
// Of two registrations of one report at once, the second waits on the
// index entry of the first, or already on the day's counter row, until the
// first ends.
func (db *DB) createCase(ctx context.Context, q batchSender, c *casework.Case, day string) error {
	values, err := mutableValues(c)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	args := append([]any{day, c.Version, c.ProjectID, c.Channel, c.ReceivedAt, c.CreatedAt, c.UpdatedAt, nullText(c.IntakeKey)}, values...)
	b.Queue(insertCaseSQL, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&c.ID, &c.Number) })
	if db.failAfter != nil {
		// The fault the tests inject: after the case row, before the event.
		b.Queue(`DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '` + injectedFaultCode + `', MESSAGE = 'injected fault'; END$$`)
	}
	e := &casework.Event{Seq: 1, At: c.ReceivedAt, Actor: c.ReceivedBy, Kind: casework.EventCreated, To: c.State}
	b.Queue(`INSERT INTO case_events (case_id, seq, at, actor, kind, action, from_state, to_state, note)
		VALUES (`+currentCaseID+`, $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		e.Seq, e.At, e.Actor, e.Kind, e.Action, e.From, e.To, e.Note).
		QueryRow(func(row pgx.Row) error { return row.Scan(&e.ID) })
	for i := range c.Media {
		m := &c.Media[i]
		b.Queue(`INSERT INTO case_media (case_id, kind, blob_key, content_type, size, created_at)
			VALUES (`+currentCaseID+`, $1, $2, $3, $4, $5) RETURNING id, case_id`,
			m.Kind, m.BlobKey, m.ContentType, m.Size, m.CreatedAt).
			QueryRow(func(row pgx.Row) error { return row.Scan(&m.ID, &m.CaseID) })
	}
	err = q.SendBatch(ctx, b).Close()
	if db.failAfter != nil && isInjectedFault(err) {
		return db.failAfter
	}
	if isIntakeKeyTaken(err) {
		return errIntakeKeyTaken
	}
	return err
}

// intakeKeyIndex is the unique index of cases.intake_key (0005): one case
// per report of a dialogue.
const intakeKeyIndex = "cases_intake_key_idx"

// errIntakeKeyTaken is createCase's error for a case whose intake key is
// already a case's; CreateCaseWith, once the transaction is rolled back,
// reads that case (see duplicateIntake).
var errIntakeKeyTaken = errors.New("the intake key is a case's already")

// isIntakeKeyTaken reports whether err is a violation of intakeKeyIndex.
func isIntakeKeyTaken(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == intakeKeyIndex
}

// duplicateIntake returns the *casework.DuplicateIntakeError naming the
// case with the intake key key, after a registration with that key violated
// intakeKeyIndex and was rolled back. The violation is raised once the case
// holding the key is committed (a registration in progress with the key
// makes the others wait for its end), and cases are never deleted, so that
// case is there to read.
func (db *DB) duplicateIntake(ctx context.Context, key string) error {
	dup := &casework.DuplicateIntakeError{}
	err := db.pool.QueryRow(ctx, `SELECT id, number FROM cases WHERE intake_key = $1`, key).Scan(&dup.ID, &dup.Number)
	if err != nil {
		return dbErr("postgres: find the case of an intake key", err)
	}
	return dup
}

// injectedFaultCode is the SQLSTATE of the fault Options.failAfterCaseWrite
// injects.
const injectedFaultCode = "AS001"

func isInjectedFault(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == injectedFaultCode
}

const insertEventSQL = `INSERT INTO case_events (case_id, seq, at, actor, kind, action, from_state, to_state, note)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`

const insertMediaSQL = `INSERT INTO case_media (case_id, kind, blob_key, content_type, size, created_at)
	VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`

func insertEvent(ctx context.Context, tx pgx.Tx, e *casework.Event) error {
	return tx.QueryRow(ctx, insertEventSQL, e.CaseID, e.Seq, e.At, e.Actor, e.Kind, e.Action, e.From, e.To, e.Note).Scan(&e.ID)
}

func insertMedia(ctx context.Context, tx pgx.Tx, m *casework.MediaRef) error {
	return tx.QueryRow(ctx, insertMediaSQL, m.CaseID, m.Kind, m.BlobKey, m.ContentType, m.Size, m.CreatedAt).Scan(&m.ID)
}

// FindCaseByID returns the case with its media.
func (db *DB) FindCaseByID(ctx context.Context, id int64) (*casework.Case, error) {
	c, err := db.findCase(ctx, "id = $1", id)
	return c, dbErr(fmt.Sprintf("postgres: find case %d", id), err)
}

// FindCaseByNumber returns the case with its media.
func (db *DB) FindCaseByNumber(ctx context.Context, number string) (*casework.Case, error) {
	c, err := db.findCase(ctx, "number = $1", number)
	return c, dbErr("postgres: find case "+number, err)
}

// findCase reads a case and its media in one round trip: a batch of two
// queries, which run on one connection in one implicit transaction.
func (db *DB) findCase(ctx context.Context, cond string, arg any) (*casework.Case, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT `+caseCols+` FROM cases WHERE `+cond, arg)
	b.Queue(`SELECT `+mediaCols+` FROM case_media WHERE case_id = (SELECT id FROM cases WHERE `+cond+`) ORDER BY id`, arg)
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	c, err := scanCase(br.QueryRow())
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if c.Media, err = collect(rows, err, scanMedia); err != nil {
		return nil, err
	}
	return c, br.Close()
}

// recordEvent appends e, its At set, to its case's timeline and writes c,
// the case as the write e records left it, when that write changed it; c is
// nil for an entry that changes nothing of the case's own. It is the one way
// into a timeline after the case's EventCreated (but for the bot's entries
// of AttachReportedCases, written with their cases in one statement): the
// entry is noted on the case (casework.Case.NoteContact), and when it is the
// case's first human contact the case — c, or else the stored case, locked
// — is written with it, with a new version, at now. A case written gives e
// the Seq writeCase reserves and gets its media back with e's insert, in one
// round trip; otherwise reserveSeq gives e its Seq.
func (db *DB) recordEvent(ctx context.Context, tx pgx.Tx, e *casework.Event, c *casework.Case, now time.Time) error {
	changed := c != nil
	if c == nil && e.Actor.IsPerson() {
		var err error
		if c, err = readCase(ctx, tx, e.CaseID, true); err != nil {
			return err
		}
	}
	if c != nil {
		if contact := c.NoteContact(e.Actor, e.At); contact || changed {
			return db.writeCaseEvent(ctx, tx, e, c, now)
		}
	}
	seq, err := reserveSeq(ctx, tx, e.CaseID)
	if err != nil {
		return err
	}
	e.Seq = seq
	return insertEvent(ctx, tx, e)
}

// writeCaseEvent writes c (see writeCase), stops there if the store is to
// fail, then inserts e with the Seq reserved and reads c's media, which the
// write returns with the case, in one round trip.
func (db *DB) writeCaseEvent(ctx context.Context, tx pgx.Tx, e *casework.Event, c *casework.Case, now time.Time) error {
	seq, err := db.writeCase(ctx, tx, c, now)
	if err != nil {
		return err
	}
	if db.failAfter != nil {
		return db.failAfter
	}
	e.Seq = seq
	b := &pgx.Batch{}
	b.Queue(insertEventSQL, e.CaseID, e.Seq, e.At, e.Actor, e.Kind, e.Action, e.From, e.To, e.Note).
		QueryRow(func(row pgx.Row) error { return row.Scan(&e.ID) })
	b.Queue(`SELECT `+mediaCols+` FROM case_media WHERE case_id = $1 ORDER BY id`, c.ID).
		Query(func(rows pgx.Rows) (err error) { c.Media, err = collect(rows, nil, scanMedia); return err })
	return tx.SendBatch(ctx, b).Close()
}

// readCase reads a case for a write. With forUpdate, it locks the row until
// the transaction ends; without, the write relies on the version check in
// writeCase.
func readCase(ctx context.Context, tx pgx.Tx, id int64, forUpdate bool) (*casework.Case, error) {
	q := `SELECT ` + caseCols + ` FROM cases WHERE id = $1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	c, err := scanCase(tx.QueryRow(ctx, q, id))
	return c, notFound(err, "case %d", id)
}

func versionConflict(c *casework.Case, version int) error {
	return &casework.ConflictError{What: fmt.Sprintf("case %s is at version %d, not %d", c.Number, c.Version, version)}
}

// writeCase writes the fields of c that may change after registration if its
// stored version is still c.Version, then increments c.Version and reserves
// the Seq of the next timeline entry, which it returns. A version that moved
// on gives a *casework.ConflictError.
func (db *DB) writeCase(ctx context.Context, tx pgx.Tx, c *casework.Case, now time.Time) (seq int, err error) {
	c.MapTimes(dbTime)
	values, err := mutableValues(c)
	if err != nil {
		return 0, err
	}
	args := append(append([]any{c.ID, c.Version}, values...), now)
	err = tx.QueryRow(ctx, updateCaseSQL, args...).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		// Written by another transaction since it was read.
		return 0, &casework.ConflictError{What: fmt.Sprintf("case %s changed since version %d", c.Number, c.Version)}
	}
	if err != nil {
		return 0, err
	}
	c.Version++
	c.UpdatedAt = now
	return seq, nil
}

// UpdateCase applies upd to the case if it is still at version, and records
// an EventUpdated, in one transaction.
func (db *DB) UpdateCase(ctx context.Context, id int64, version int, upd casework.CaseUpdate) (*casework.Case, error) {
	return db.UpdateCaseWith(ctx, id, version, upd, casework.Effects{})
}

// UpdateCaseWith is UpdateCase that also writes eff in the transaction; a
// zero CaseID in eff stands for the case updated.
func (db *DB) UpdateCaseWith(ctx context.Context, id int64, version int, upd casework.CaseUpdate, eff casework.Effects) (*casework.Case, error) {
	return db.writeCaseWith(ctx, fmt.Sprintf("postgres: update case %d", id), id, eff,
		func(tx pgx.Tx) (*casework.Case, error) { return db.updateCase(ctx, tx, id, version, upd) })
}

// writeCaseWith runs fn, a change to case id, and writes eff after it, in
// one transaction.
func (db *DB) writeCaseWith(ctx context.Context, op string, id int64, eff casework.Effects, fn func(tx pgx.Tx) (*casework.Case, error)) (*casework.Case, error) {
	if err := db.checkEffects(eff); err != nil {
		return nil, err
	}
	var written casework.Effects
	c, err := inWriteResult(ctx, db, op, func(tx pgx.Tx) (*casework.Case, error) {
		c, err := fn(tx)
		if err != nil {
			return nil, err
		}
		written, err = db.writeEffects(ctx, tx, id, eff)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	eff.SetWritten(written)
	return c, nil
}

func (db *DB) updateCase(ctx context.Context, tx pgx.Tx, id int64, version int, upd casework.CaseUpdate) (*casework.Case, error) {
	c, err := readCase(ctx, tx, id, false)
	if err != nil {
		return nil, err
	}
	if c.Version != version {
		return nil, versionConflict(c, version)
	}
	if err := upd.Apply(c); err != nil {
		return nil, err
	}
	now := db.nowUTC()
	e := &casework.Event{CaseID: c.ID, At: now, Actor: upd.Actor, Kind: casework.EventUpdated, Note: upd.Note}
	if err := db.recordEvent(ctx, tx, e, c, now); err != nil {
		return nil, err
	}
	return c, nil
}

// TransitionCase performs t on the case if it is still at version (0:
// whatever it is), and records an EventTransition, in one transaction.
func (db *DB) TransitionCase(ctx context.Context, id int64, version int, t casework.Transition) (*casework.Case, error) {
	return db.TransitionCaseWith(ctx, id, version, t, casework.Effects{})
}

// TransitionCaseWith is TransitionCase that also writes eff in the
// transaction; a zero CaseID in eff stands for the case changed.
func (db *DB) TransitionCaseWith(ctx context.Context, id int64, version int, t casework.Transition, eff casework.Effects) (*casework.Case, error) {
	return db.writeCaseWith(ctx, fmt.Sprintf("postgres: %s case %d", t.Action, id), id, eff,
		func(tx pgx.Tx) (*casework.Case, error) { return db.transitionCase(ctx, tx, id, version, t) })
}

func (db *DB) transitionCase(ctx context.Context, tx pgx.Tx, id int64, version int, t casework.Transition) (*casework.Case, error) {
	// Without a version the caller wants the action done whatever the case
	// is at: lock the row so that a concurrent write can't turn that into a
	// conflict.
	c, err := readCase(ctx, tx, id, version == 0)
	if err != nil {
		return nil, err
	}
	if version != 0 && c.Version != version {
		return nil, versionConflict(c, version)
	}
	now := db.nowUTC()
	if t.At.IsZero() {
		t.At = now
	}
	t.At = dbTime(t.At)
	from, err := t.Apply(c)
	if err != nil {
		return nil, err
	}
	if err := db.recordEvent(ctx, tx, t.Event(c, from), c, now); err != nil {
		return nil, err
	}
	return c, nil
}

// reserveSeq locks the case and hands out the Seq of its next timeline
// entry; ErrNotFound if there is no case.
func reserveSeq(ctx context.Context, tx pgx.Tx, caseID int64) (int, error) {
	var seq int
	err := tx.QueryRow(ctx, `UPDATE cases SET last_event_seq = last_event_seq + 1 WHERE id = $1 RETURNING last_event_seq`, caseID).Scan(&seq)
	return seq, notFound(err, "case %d", caseID)
}

// AddCaseEvent appends a timeline entry that changes no state (a note, an
// urge, a message…); it sets e.ID, e.Seq and, when zero, e.At.
func (db *DB) AddCaseEvent(ctx context.Context, e *casework.Event) error {
	return db.AddCaseEventWith(ctx, e, casework.Effects{})
}

// AddCaseEventWith is AddCaseEvent that also writes eff in the transaction;
// a zero CaseID in eff stands for the event's case.
func (db *DB) AddCaseEventWith(ctx context.Context, e *casework.Event, eff casework.Effects) error {
	if e.Actor == "" {
		return casework.Invalid("actor", "is required")
	}
	if !e.Kind.Direct() {
		return casework.Invalid("kind", "%q is not added directly: only entries that change nothing else are", e.Kind)
	}
	if err := db.checkEffects(eff); err != nil {
		return err
	}
	ne := *e
	if ne.At.IsZero() {
		ne.At = db.now()
	}
	ne.At = dbTime(ne.At)
	var written casework.Effects
	err := db.inWrite(ctx, fmt.Sprintf("postgres: add %s event to case %d", e.Kind, e.CaseID), func(tx pgx.Tx) (err error) {
		if err := db.recordEvent(ctx, tx, &ne, nil, db.nowUTC()); err != nil {
			return err
		}
		written, err = db.writeEffects(ctx, tx, ne.CaseID, eff)
		return err
	})
	if err != nil {
		return err
	}
	eff.SetWritten(written)
	*e = ne
	return nil
}

// AddCaseMedia attaches m to its case and records an EventMedia by actor.
func (db *DB) AddCaseMedia(ctx context.Context, m *casework.MediaRef, actor casework.Actor) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if actor == "" {
		return casework.Invalid("actor", "is required")
	}
	nm := *m
	if nm.CreatedAt.IsZero() {
		nm.CreatedAt = db.now()
	}
	nm.CreatedAt = dbTime(nm.CreatedAt)
	err := db.inWrite(ctx, fmt.Sprintf("postgres: add media to case %d", m.CaseID), func(tx pgx.Tx) error {
		e := &casework.Event{CaseID: nm.CaseID, At: nm.CreatedAt, Actor: actor, Kind: casework.EventMedia, Note: string(nm.Kind)}
		if err := db.recordEvent(ctx, tx, e, nil, db.nowUTC()); err != nil {
			return err
		}
		return insertMedia(ctx, tx, &nm)
	})
	if err != nil {
		return err
	}
	*m = nm
	return nil
}

// ListCaseEvents returns a case's timeline, Seq ascending.
func (db *DB) ListCaseEvents(ctx context.Context, caseID int64) ([]*casework.Event, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: list events of case %d", caseID), scanEvent,
		`SELECT `+eventCols+` FROM case_events WHERE case_id = $1 ORDER BY seq`, caseID)
}

// UrgeCounts returns how often and when last the owner urged each of the
// cases ids that was urged (the index case_events_urge_idx holds them).
func (db *DB) UrgeCounts(ctx context.Context, ids []int64) (map[int64]casework.UrgeCount, error) {
	out := map[int64]casework.UrgeCount{}
	if len(ids) == 0 {
		return out, nil
	}
	type row struct {
		id int64
		n  casework.UrgeCount
	}
	rows, err := readAll(ctx, db, "postgres: count urges", func(r scanner) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.n.N, &x.n.Last)
		return x, err
	}, `SELECT case_id, count(*), max(at) FROM case_events WHERE kind = 'urge' AND case_id = ANY($1) GROUP BY case_id`, ids)
	for _, x := range rows {
		out[x.id] = x.n
	}
	return out, err
}

// likeEscaper escapes the wildcards of LIKE so that text matches literally.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// caseTextGrams is the expression of the index cases_text_grams_idx (0009):
// the characters and the pairs of adjacent characters of the columns the
// text search looks in, lowered as ILIKE lowers them (see the migration).
const caseTextGrams = `case_text_grams(lower(
	number COLLATE "default" || E'\n' || owner_name || E'\n' || description || E'\n' || location_detail || E'\n' || expectation))`

// textPairs returns the distinct pairs of adjacent characters of s, or s
// when it is one character: what caseTextGrams holds, once lowered, of every
// case that contains s. Lowering works character by character, so a pair
// lowered is a pair of the text lowered.
func textPairs(s string) []string {
	rs := []rune(s)
	if len(rs) < 2 {
		return []string{s}
	}
	out := make([]string, 0, len(rs)-1)
	seen := make(map[string]bool, len(rs)-1)
	for i := range len(rs) - 1 {
		if p := string(rs[i : i+2]); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// FindCases returns the cases that match f, newest first (received_at, then
// ID, descending), without media, and the number that match without paging.
func (db *DB) FindCases(ctx context.Context, f casework.CaseFilter) ([]*casework.Case, int, error) {
	if err := f.Normalize(); err != nil {
		return nil, 0, err
	}
	if (f.ReporterPlatform == "") != (f.ReporterUserID == "") {
		return nil, 0, casework.Invalid("reporter", "platform and user id go together")
	}
	var w where
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, s := range f.States {
			states[i] = string(s)
		}
		w.add("state = ANY(?)", states)
	}
	for _, c := range []struct {
		col string
		v   string
	}{{"urgency", string(f.Urgency)}, {"category", string(f.Category)}, {"channel", string(f.Channel)},
		{"reporter_platform", f.ReporterPlatform}, {"reporter_user_id", f.ReporterUserID}} {
		if c.v != "" {
			w.add(c.col+" = ?", c.v)
		}
	}
	for _, c := range []struct {
		col string
		id  int64
	}{{"project_id", f.ProjectID}, {"building_id", f.BuildingID}, {"unit_id", f.UnitID}, {"owner_id", f.OwnerID}, {"party_id", f.PartyID}, {"assignee_id", f.AssigneeID}} {
		if c.id != 0 {
			w.add(c.col+" = ?", c.id)
		}
	}
	if len(f.ProjectIDs) > 0 {
		w.add("project_id = ANY(?)", f.ProjectIDs)
	}
	if f.OverdueAt != nil {
		// casework.Case.Overdue; cases_open_idx holds the open, unresolved
		// cases in list order with the columns compared, and the partial
		// indexes cases_overdue_* match these conditions.
		w.add(`resolved_at IS NULL AND state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold')
			AND ((responded_at IS NULL AND respond_by < ?) OR (on_site_at IS NULL AND on_site_by < ?) OR resolve_by < ?)`,
			*f.OverdueAt, *f.OverdueAt, *f.OverdueAt)
	}
	if f.Urged {
		w.add("id IN (SELECT case_id FROM case_events WHERE kind = 'urge')")
	}
	if f.Unanswered {
		w.add("responded_at IS NULL")
	}
	if f.Text != "" {
		// The index cases_text_grams_idx finds the cases that hold every
		// character pair of the text, lowered; ILIKE keeps those that
		// contain it. The description first: the longest column, and the
		// one that matches most often, so that OR stops there.
		pairs := textPairs(f.Text)
		args := make([]any, 0, len(pairs)+5)
		for _, p := range pairs {
			args = append(args, p)
		}
		pat := "%" + likeEscaper.Replace(f.Text) + "%"
		args = append(args, pat, pat, pat, pat, pat)
		w.add(caseTextGrams+` @> ARRAY[lower(?::text)`+strings.Repeat(`, lower(?::text)`, len(pairs)-1)+`]
			AND (description ILIKE ? OR owner_name ILIKE ? OR location_detail ILIKE ? OR expectation ILIKE ? OR number ILIKE ?)`, args...)
	}
	var cases []*casework.Case
	var n int
	b := newReadBatch()
	b.Queue(`SELECT count(*) FROM cases`+w.sql(), w.args...).QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	// The page's IDs first, then its rows: where an index holds the list
	// order, the IDs and what the filter compares (cases_received_idx,
	// cases_urgency_idx, cases_open_idx…), the pages before and the cases
	// filtered out are skipped in the index, without reading their rows.
	// As an array, the IDs are read by the primary key whatever the plan
	// guesses of a page's length.
	args := append(w.args, f.Limit, f.Offset)
	order := ` ORDER BY received_at DESC, id DESC`
	switch f.Order {
	case casework.OrderOldest:
		order = ` ORDER BY received_at, id` // the same indexes, read backwards
	case casework.OrderDue:
		order = ` ORDER BY ` + nextDeadlineSQL + ` NULLS LAST, received_at, id` // cases_next_deadline_idx
	}
	b.Queue(`SELECT `+caseCols+` FROM cases WHERE id = ANY(ARRAY(SELECT id FROM cases`+w.sql()+
		order+fmt.Sprintf(` LIMIT $%d OFFSET $%d))`, len(args)-1, len(args))+order, args...).
		Query(func(rows pgx.Rows) (err error) { cases, err = collect(rows, nil, scanCase); return err })
	err := db.readBatch(ctx, b)
	return cases, n, dbErr("postgres: find cases", err)
}

// nextDeadlineSQL is casework.Case.NextDeadline of a row (LEAST passes over
// NULLs); the index cases_next_deadline_idx holds it, in the same words.
const nextDeadlineSQL = `(CASE WHEN resolved_at IS NULL AND state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold')
	THEN LEAST(CASE WHEN responded_at IS NULL THEN respond_by END, CASE WHEN on_site_at IS NULL THEN on_site_by END, resolve_by) END)`
