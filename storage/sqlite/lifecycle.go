package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// JobQueue takes the durable jobs a write causes (casework.Job: deliver an
// outbox message, fire a timer) in the write's own transaction, so that the
// jobs exist if and only if the write is committed. The store knows no job
// library; the service wires one in, sharing DB.WriteDB.
type JobQueue interface {
	// InsertJobsTx inserts jobs, in order, in tx. An error rolls back the
	// whole write.
	InsertJobsTx(ctx context.Context, tx *sql.Tx, jobs []casework.Job) error
}

// ErrNoJobQueue is returned by a write with effects (messages or timers)
// when the DB has no JobQueue: nothing is stored.
var ErrNoJobQueue = errors.New("sqlite: effects need a job queue and none is set (Options.Jobs, DB.SetJobQueue)")

// SetJobQueue sets the queue that takes the jobs of writes with effects. Call
// it after Open and before the DB is used: it is not safe to call
// concurrently with other methods.
func (db *DB) SetJobQueue(q JobQueue) { db.jobs = q }

// checkEffects validates eff before a write and checks that its jobs have a
// queue to go to.
func (db *DB) checkEffects(eff casework.Effects) error {
	if eff.Empty() {
		return nil
	}
	if err := eff.Validate(); err != nil {
		return err
	}
	if db.jobs == nil {
		return ErrNoJobQueue
	}
	return nil
}

// writeEffects writes eff in tx after a change to case caseID (0: none):
// the copies casework.Effects.Prepare makes of its messages go into the
// outbox, then the queue gets their jobs. It returns the copies as written,
// for eff.SetWritten once the transaction commits, so that a write that
// fails leaves eff as it was.
func writeEffects(ctx context.Context, tx *Tx, caseID int64, eff casework.Effects) (casework.Effects, error) {
	if eff.Empty() {
		return casework.Effects{}, nil
	}
	if tx.db.jobs == nil {
		return casework.Effects{}, ErrNoJobQueue
	}
	w := eff.Prepare(caseID, tx.now)
	for _, m := range w.Messages {
		if err := insertOutbox(ctx, tx, m); err != nil {
			return casework.Effects{}, err
		}
	}
	jobs := w.Jobs()
	if err := tx.db.jobs.InsertJobsTx(ctx, tx.Tx, jobs); err != nil {
		return casework.Effects{}, fmt.Errorf("insert %d jobs: %w", len(jobs), err)
	}
	return w, nil
}

// insertOutbox writes m, as casework.Effects.Prepare made it, and sets its ID.
func insertOutbox(ctx context.Context, tx *Tx, m *casework.OutboxMessage) error {
	payload := m.Payload
	if payload == nil {
		payload = []byte{}
	}
	err := tx.QueryRowContext(ctx, `
		INSERT INTO outbox (case_id, platform, user_id, purpose, payload, status, attempts, last_error, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 0, '', ?) RETURNING id`,
		nullID(m.CaseID), m.Platform, m.UserID, m.Purpose, payload, m.Status, encodeTime(m.CreatedAt)).Scan(&m.ID)
	switch {
	case isForeignKeyViolation(err):
		return notFound("case %d of an outbox message", m.CaseID)
	case err != nil:
		return fmt.Errorf("add message for %s to the outbox: %w", m.Platform, err)
	}
	return nil
}

// Enqueue writes eff alone, in a transaction of its own.
func (db *DB) Enqueue(ctx context.Context, eff casework.Effects) error {
	if eff.Empty() {
		return nil
	}
	if err := db.checkEffects(eff); err != nil {
		return err
	}
	written, err := inWriteResult(ctx, db, func(tx *Tx) (casework.Effects, error) { return writeEffects(ctx, tx, 0, eff) })
	if err != nil {
		return err
	}
	eff.SetWritten(written)
	return nil
}

const outboxColumns = "id, case_id, platform, user_id, purpose, payload, status, attempts, last_error, created_at, sent_at, sent_ref"

func scanOutbox(s scanner) (*casework.OutboxMessage, error) {
	var m casework.OutboxMessage
	err := s.Scan(&m.ID, idCol{&m.CaseID}, &m.Platform, &m.UserID, &m.Purpose, &m.Payload, &m.Status, &m.Attempts, &m.LastError,
		timeCol{&m.CreatedAt}, nullTimeCol{&m.SentAt}, &m.SentRef)
	if len(m.Payload) == 0 {
		m.Payload = nil
	}
	return &m, err
}

// FindOutboxMessage returns the outbox message with the ID.
func (db *DB) FindOutboxMessage(ctx context.Context, id int64) (*casework.OutboxMessage, error) {
	return readOne(ctx, db, fmt.Sprintf("outbox message %d", id), scanOutbox, "SELECT "+outboxColumns+" FROM outbox WHERE id = ?", id)
}

// ListOutbox returns a case's outbox messages, oldest first.
func (db *DB) ListOutbox(ctx context.Context, caseID int64) ([]*casework.OutboxMessage, error) {
	return readAll(ctx, db, fmt.Sprintf("list outbox of case %d", caseID), scanOutbox,
		"SELECT "+outboxColumns+" FROM outbox WHERE case_id = ? ORDER BY created_at, id", caseID)
}

// ListPendingOutbox returns the pending messages to a chat account with IDs
// up to upTo, oldest first: what must be delivered before message upTo.
func (db *DB) ListPendingOutbox(ctx context.Context, platform, userID string, upTo int64) ([]*casework.OutboxMessage, error) {
	return readAll(ctx, db, fmt.Sprintf("list pending outbox up to %d", upTo), scanOutbox,
		"SELECT "+outboxColumns+" FROM outbox WHERE platform = ? AND user_id = ? AND status = 'pending' AND id <= ? ORDER BY id", platform, userID, upTo)
}

// MarkOutboxSent records that the message was delivered at at (zero: now).
// A message already sent keeps its first SentAt; a failed one becomes sent.
func (db *DB) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	return db.MarkOutboxSentRef(ctx, id, at, "")
}

// MarkOutboxSentRef is MarkOutboxSent that also keeps the platform's
// reference of what it delivered (casework.OutboxMessage.SentRef); a
// message already sent keeps its first SentAt and SentRef.
func (db *DB) MarkOutboxSentRef(ctx context.Context, id int64, at time.Time, ref string) error {
	return db.inWrite(ctx, func(tx *Tx) error {
		if at.IsZero() {
			at = tx.now
		}
		res, err := tx.ExecContext(ctx, "UPDATE outbox SET status = 'sent', sent_at = ?, sent_ref = ? WHERE id = ? AND status <> 'sent'", encodeTime(at), ref, id)
		if err != nil {
			return fmt.Errorf("mark outbox message %d sent: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		return outboxExists(ctx, tx, id)
	})
}

func outboxExists(ctx context.Context, tx *Tx, id int64) error {
	var exists bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = ?)", id).Scan(&exists); err != nil {
		return fmt.Errorf("find outbox message %d: %w", id, err)
	}
	if !exists {
		return notFound("outbox message %d", id)
	}
	return nil
}

// MarkOutboxAttempt records a failed delivery attempt at at (zero: now) and
// its error. When final the message becomes failed and, if it concerns a
// case, an EventDeliveryFailed by casework.ActorSystem naming the platform,
// the purpose and the error (never the payload) joins the case's timeline,
// in the same transaction. A message no longer pending (sent, or failed
// already) is left as it is.
func (db *DB) MarkOutboxAttempt(ctx context.Context, id int64, errText string, final bool, at time.Time) error {
	errText = casework.DeliveryError(errText)
	return db.inWrite(ctx, func(tx *Tx) error {
		if at.IsZero() {
			at = tx.now
		}
		status := casework.OutboxPending
		if final {
			status = casework.OutboxFailed
		}
		var m casework.OutboxMessage
		err := tx.QueryRowContext(ctx, `
			UPDATE outbox SET attempts = attempts + 1, last_error = ?, status = ?
			WHERE id = ? AND status = 'pending'
			RETURNING case_id, platform, purpose, attempts`, errText, status, id).
			Scan(idCol{&m.CaseID}, &m.Platform, &m.Purpose, &m.Attempts)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return outboxExists(ctx, tx, id)
		case err != nil:
			return fmt.Errorf("mark attempt of outbox message %d: %w", id, err)
		case !final || m.CaseID == 0:
			return nil
		}
		m.ID, m.LastError = id, errText
		return recordEvent(ctx, tx, &casework.Event{CaseID: m.CaseID, At: at, Actor: casework.ActorSystem, Kind: casework.EventDeliveryFailed,
			Note: m.DeliveryFailedNote()}, nil)
	})
}

// --- bind codes ---

// CreateBindCode stores b and sets its CreatedAt; UsedAt starts nil.
func (db *DB) CreateBindCode(ctx context.Context, b *casework.BindCode) error {
	if err := b.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error {
		b.ExpiresAt, b.UsedAt, b.CreatedAt = storedTime(b.ExpiresAt), nil, tx.now
		_, err := tx.ExecContext(ctx, `
			INSERT INTO bind_codes (code, member_id, issued_by, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
			b.Code, b.MemberID, b.IssuedBy, encodeTime(b.ExpiresAt), encodeTime(b.CreatedAt))
		switch {
		case isUniqueViolation(err):
			return conflict("bind code %q exists", b.Code)
		case isForeignKeyViolation(err):
			return notFound("member %d", b.MemberID)
		case err != nil:
			return fmt.Errorf("create bind code: %w", err)
		}
		return nil
	})
}

// UseBindCode marks the code used at at and returns it, in one statement:
// of concurrent uses, one wins. A code expires at its ExpiresAt: used then
// or later it is not found.
func (db *DB) UseBindCode(ctx context.Context, code string, at time.Time) (*casework.BindCode, error) {
	return inWriteResult(ctx, db, func(tx *Tx) (*casework.BindCode, error) {
		if at.IsZero() {
			at = tx.now
		}
		when := encodeTime(at)
		return queryOne(ctx, tx, fmt.Sprintf("unused, unexpired bind code %q", code), scanBindCode, `
			UPDATE bind_codes SET used_at = ? WHERE code = ? AND used_at IS NULL AND expires_at > ?
			RETURNING `+bindCodeColumns, when, code, when)
	})
}

const bindCodeColumns = "code, member_id, issued_by, expires_at, used_at, created_at"

func scanBindCode(s scanner) (*casework.BindCode, error) {
	var b casework.BindCode
	err := s.Scan(&b.Code, &b.MemberID, &b.IssuedBy, timeCol{&b.ExpiresAt}, nullTimeCol{&b.UsedAt}, timeCol{&b.CreatedAt})
	return &b, err
}

// FindChatIdentitiesByMember returns the chat accounts bound to a member,
// ordered by platform and user ID.
func (db *DB) FindChatIdentitiesByMember(ctx context.Context, memberID int64) ([]*casework.ChatIdentity, error) {
	return readAll(ctx, db, fmt.Sprintf("find chat identities of member %d", memberID), scanChatIdentity,
		"SELECT "+chatIdentityColumns+" FROM chat_identities WHERE member_id = ? ORDER BY platform, user_id", memberID)
}

// --- coordination tasks ---

// CreateTask validates and stores t, sets its ID and CreatedAt, and records
// an EventNote by t.CreatedBy on its case naming the assignee and the due
// time, with eff, in one transaction. In eff a zero CaseID stands for the
// task's case, and a TimerTaskDue with a zero Ref refers to the new task.
func (db *DB) CreateTask(ctx context.Context, t *casework.Task, eff casework.Effects) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := db.checkEffects(eff); err != nil {
		return err
	}
	nt := *t
	var written casework.Effects
	err := db.inWrite(ctx, func(tx *Tx) error {
		nt.DueAt, nt.DoneAt, nt.CreatedAt = storedTime(nt.DueAt), nil, tx.now
		err := tx.QueryRowContext(ctx, `
			INSERT INTO case_tasks (case_id, assignee, description, due_at, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			nt.CaseID, nt.Assignee, nt.Description, encodeTime(nt.DueAt), nt.CreatedBy, encodeTime(nt.CreatedAt)).Scan(&nt.ID)
		switch {
		case isForeignKeyViolation(err):
			return notFound("case %d", nt.CaseID)
		case err != nil:
			return fmt.Errorf("create task of case %d: %w", nt.CaseID, err)
		}
		e := &casework.Event{CaseID: nt.CaseID, At: nt.CreatedAt, Actor: nt.CreatedBy, Kind: casework.EventNote,
			Note: nt.CreatedNote(tx.db.numbering.Location)}
		if err := recordEvent(ctx, tx, e, nil); err != nil {
			return err
		}
		written, err = writeEffects(ctx, tx, nt.CaseID, eff.ForTask(nt.ID))
		return err
	})
	if err != nil {
		return err
	}
	eff.SetWritten(written)
	*t = nt
	return nil
}

// CompleteTask marks a task done at at (zero: now) and records an EventNote
// by actor on its case. A task done already keeps its first DoneAt.
func (db *DB) CompleteTask(ctx context.Context, id int64, at time.Time, actor casework.Actor) error {
	if actor == "" {
		return casework.Invalid("actor", "is required")
	}
	return db.inWrite(ctx, func(tx *Tx) error {
		if at.IsZero() {
			at = tx.now
		}
		t := casework.Task{ID: id}
		err := tx.QueryRowContext(ctx, `UPDATE case_tasks SET done_at = ? WHERE id = ? AND done_at IS NULL RETURNING case_id, assignee`,
			encodeTime(at), id).Scan(&t.CaseID, &t.Assignee)
		if errors.Is(err, sql.ErrNoRows) {
			var exists bool
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM case_tasks WHERE id = ?)", id).Scan(&exists); err != nil {
				return fmt.Errorf("find task %d: %w", id, err)
			}
			if !exists {
				return notFound("task %d", id)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("complete task %d: %w", id, err)
		}
		return recordEvent(ctx, tx, &casework.Event{CaseID: t.CaseID, At: at, Actor: actor, Kind: casework.EventNote,
			Note: t.DoneNote()}, nil)
	})
}

const taskColumns = "id, case_id, assignee, description, due_at, done_at, created_by, created_at"

func scanTask(s scanner) (*casework.Task, error) {
	var t casework.Task
	err := s.Scan(&t.ID, &t.CaseID, &t.Assignee, &t.Description, timeCol{&t.DueAt}, nullTimeCol{&t.DoneAt}, &t.CreatedBy, timeCol{&t.CreatedAt})
	return &t, err
}

// FindTaskByID returns the task with the ID.
func (db *DB) FindTaskByID(ctx context.Context, id int64) (*casework.Task, error) {
	return readOne(ctx, db, fmt.Sprintf("task %d", id), scanTask, "SELECT "+taskColumns+" FROM case_tasks WHERE id = ?", id)
}

// ListDueTasks returns the tasks not done and due at or before before, of
// every case, soonest first, at most limit.
func (db *DB) ListDueTasks(ctx context.Context, before time.Time, limit int) ([]*casework.Task, error) {
	if limit < 1 || limit > 500 {
		return nil, casework.Invalid("limit", "must be 1 to 500")
	}
	return readAll(ctx, db, "list due tasks", scanTask,
		"SELECT "+taskColumns+" FROM case_tasks WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?", encodeTime(before), limit)
}

// ListTasks returns a case's tasks ordered by due time, then ID.
func (db *DB) ListTasks(ctx context.Context, caseID int64) ([]*casework.Task, error) {
	return readAll(ctx, db, fmt.Sprintf("list tasks of case %d", caseID), scanTask,
		"SELECT "+taskColumns+" FROM case_tasks WHERE case_id = ? ORDER BY due_at, id", caseID)
}
