package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aftersales/aftersales/casework"
)

// JobQueue takes the durable jobs a write causes (casework.Job: deliver an
// outbox message, fire a timer) in the write's own transaction, so that the
// jobs exist if and only if the write is committed. The store knows no job
// library; the service wires one in, sharing DB.Pool.
type JobQueue interface {
	// InsertJobsTx inserts jobs, in order, in tx. An error rolls back the
	// whole write.
	InsertJobsTx(ctx context.Context, tx pgx.Tx, jobs []casework.Job) error
}

// ErrNoJobQueue is returned by a write with effects (messages or timers)
// when the DB has no JobQueue: nothing is stored.
var ErrNoJobQueue = errors.New("postgres: effects need a job queue and none is set (Options.Jobs, DB.SetJobQueue)")

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
// outbox (one batch, one round trip), then the queue gets their jobs. It
// returns the copies as written, for eff.SetWritten once the transaction
// commits, so that a write that fails leaves eff as it was.
func (db *DB) writeEffects(ctx context.Context, tx pgx.Tx, caseID int64, eff casework.Effects) (casework.Effects, error) {
	if eff.Empty() {
		return casework.Effects{}, nil
	}
	if db.jobs == nil {
		return casework.Effects{}, ErrNoJobQueue
	}
	w := eff.Prepare(caseID, db.nowUTC())
	if len(w.Messages) > 0 {
		b := &pgx.Batch{}
		for _, m := range w.Messages {
			payload := m.Payload
			if payload == nil {
				payload = []byte{}
			}
			b.Queue(`INSERT INTO outbox (case_id, platform, user_id, purpose, payload, status, attempts, last_error, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, 0, '', $7) RETURNING id`,
				nullID(m.CaseID), m.Platform, m.UserID, m.Purpose, payload, m.Status, m.CreatedAt).
				QueryRow(func(row pgx.Row) error { return row.Scan(&m.ID) })
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return casework.Effects{}, fmt.Errorf("add %d messages to the outbox: %w", len(w.Messages), err)
		}
	}
	jobs := w.Jobs()
	if err := db.jobs.InsertJobsTx(ctx, tx, jobs); err != nil {
		return casework.Effects{}, fmt.Errorf("insert %d jobs: %w", len(jobs), err)
	}
	return w, nil
}

// Enqueue writes eff alone, in a transaction of its own.
func (db *DB) Enqueue(ctx context.Context, eff casework.Effects) error {
	if eff.Empty() {
		return nil
	}
	if err := db.checkEffects(eff); err != nil {
		return err
	}
	written, err := inWriteResult(ctx, db, "postgres: enqueue", func(tx pgx.Tx) (casework.Effects, error) {
		return db.writeEffects(ctx, tx, 0, eff)
	})
	if err != nil {
		return err
	}
	eff.SetWritten(written)
	return nil
}

const outboxCols = `id, coalesce(case_id, 0), platform, user_id, purpose, payload, status, attempts, last_error, created_at, sent_at, sent_ref`

func scanOutbox(row scanner) (*casework.OutboxMessage, error) {
	var m casework.OutboxMessage
	if err := row.Scan(&m.ID, &m.CaseID, &m.Platform, &m.UserID, &m.Purpose, &m.Payload, &m.Status, &m.Attempts, &m.LastError,
		&m.CreatedAt, &m.SentAt, &m.SentRef); err != nil {
		return nil, err
	}
	if len(m.Payload) == 0 {
		m.Payload = nil
	}
	m.CreatedAt, m.SentAt = m.CreatedAt.UTC(), utcPtr(m.SentAt)
	return &m, nil
}

// FindOutboxMessage returns the outbox message with the ID.
func (db *DB) FindOutboxMessage(ctx context.Context, id int64) (*casework.OutboxMessage, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find outbox message %d", id), scanOutbox,
		`SELECT `+outboxCols+` FROM outbox WHERE id = $1`, id)
}

// ListOutbox returns a case's outbox messages, oldest first.
func (db *DB) ListOutbox(ctx context.Context, caseID int64) ([]*casework.OutboxMessage, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: list outbox of case %d", caseID), scanOutbox,
		`SELECT `+outboxCols+` FROM outbox WHERE case_id = $1 ORDER BY created_at, id`, caseID)
}

// ListPendingOutbox returns the pending messages to a chat account with IDs
// up to upTo, oldest first: what must be delivered before message upTo.
func (db *DB) ListPendingOutbox(ctx context.Context, platform, userID string, upTo int64) ([]*casework.OutboxMessage, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: list pending outbox up to %d", upTo), scanOutbox,
		`SELECT `+outboxCols+` FROM outbox WHERE platform = $1 AND user_id = $2 AND status = 'pending' AND id <= $3 ORDER BY id`, platform, userID, upTo)
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
	if at.IsZero() {
		at = db.now()
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: mark outbox message %d sent", id), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET status = 'sent', sent_at = $2, sent_ref = $3 WHERE id = $1 AND status <> 'sent'`, id, dbTime(at), ref)
		if err != nil || tag.RowsAffected() > 0 {
			return err
		}
		return outboxExists(ctx, tx, id)
	})
}

func outboxExists(ctx context.Context, tx pgx.Tx, id int64) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM outbox WHERE id = $1`, id).Scan(&one)
	return notFound(err, "outbox message %d", id)
}

// MarkOutboxAttempt records a failed delivery attempt at at (zero: now) and
// its error. When final the message becomes failed and, if it concerns a
// case, an EventDeliveryFailed by casework.ActorSystem naming the platform,
// the purpose and the error (never the payload) joins the case's timeline,
// in the same transaction. A message no longer pending (sent, or failed
// already) is left as it is.
func (db *DB) MarkOutboxAttempt(ctx context.Context, id int64, errText string, final bool, at time.Time) error {
	errText = casework.DeliveryError(errText)
	if at.IsZero() {
		at = db.now()
	}
	status := casework.OutboxPending
	if final {
		status = casework.OutboxFailed
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: mark attempt of outbox message %d", id), func(tx pgx.Tx) error {
		var m casework.OutboxMessage
		err := tx.QueryRow(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2, status = $3
			WHERE id = $1 AND status = 'pending'
			RETURNING coalesce(case_id, 0), platform, purpose, attempts`, id, errText, status).
			Scan(&m.CaseID, &m.Platform, &m.Purpose, &m.Attempts)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return outboxExists(ctx, tx, id)
		case err != nil:
			return err
		case !final || m.CaseID == 0:
			return nil
		}
		m.ID, m.LastError = id, errText
		return db.recordEvent(ctx, tx, &casework.Event{CaseID: m.CaseID, At: dbTime(at), Actor: casework.ActorSystem,
			Kind: casework.EventDeliveryFailed, Note: m.DeliveryFailedNote()}, nil, db.nowUTC())
	})
}

// Bind codes.

// CreateBindCode stores b and sets its CreatedAt; UsedAt starts nil.
func (db *DB) CreateBindCode(ctx context.Context, b *casework.BindCode) error {
	if err := b.Validate(); err != nil {
		return err
	}
	nb := *b
	nb.ExpiresAt, nb.UsedAt, nb.CreatedAt = dbTime(nb.ExpiresAt), nil, db.nowUTC()
	_, err := db.pool.Exec(ctx, `INSERT INTO bind_codes (code, member_id, issued_by, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
		nb.Code, nb.MemberID, nb.IssuedBy, nb.ExpiresAt, nb.CreatedAt)
	if err != nil {
		return dbErr("postgres: create bind code", err)
	}
	*b = nb
	return nil
}

// UseBindCode marks the code used at at and returns it, in one statement:
// of concurrent uses, one wins. A code expires at its ExpiresAt: used then
// or later it is not found.
func (db *DB) UseBindCode(ctx context.Context, code string, at time.Time) (*casework.BindCode, error) {
	if at.IsZero() {
		at = db.now()
	}
	at = dbTime(at)
	return readOne(ctx, db, "postgres: use bind code: unused, unexpired code", scanBindCode,
		`UPDATE bind_codes SET used_at = $2 WHERE code = $1 AND used_at IS NULL AND expires_at > $2
		RETURNING `+bindCodeCols, code, at)
}

const bindCodeCols = `code, member_id, issued_by, expires_at, used_at, created_at`

func scanBindCode(row scanner) (*casework.BindCode, error) {
	var b casework.BindCode
	if err := row.Scan(&b.Code, &b.MemberID, &b.IssuedBy, &b.ExpiresAt, &b.UsedAt, &b.CreatedAt); err != nil {
		return nil, err
	}
	b.ExpiresAt, b.UsedAt, b.CreatedAt = b.ExpiresAt.UTC(), utcPtr(b.UsedAt), b.CreatedAt.UTC()
	return &b, nil
}

// FindChatIdentitiesByMember returns the chat accounts bound to a member,
// ordered by platform and user ID.
func (db *DB) FindChatIdentitiesByMember(ctx context.Context, memberID int64) ([]*casework.ChatIdentity, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: chat identities of member %d", memberID), scanIdentity,
		`SELECT `+identityCols+` FROM chat_identities WHERE member_id = $1 ORDER BY platform, user_id`, memberID)
}

// Coordination tasks.

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
	nt.DueAt, nt.DoneAt, nt.CreatedAt = dbTime(nt.DueAt), nil, db.nowUTC()
	var written casework.Effects
	err := db.inWrite(ctx, fmt.Sprintf("postgres: create task of case %d", t.CaseID), func(tx pgx.Tx) error {
		// The entry first: it locks the case (ErrNotFound if none) before
		// the task's foreign key share-locks it, so that tasks created at
		// once on a case queue rather than deadlock.
		e := &casework.Event{CaseID: nt.CaseID, At: nt.CreatedAt, Actor: nt.CreatedBy, Kind: casework.EventNote,
			Note: nt.CreatedNote(db.numbering.Location)}
		if err := db.recordEvent(ctx, tx, e, nil, nt.CreatedAt); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO case_tasks (case_id, assignee, description, due_at, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			nt.CaseID, nt.Assignee, nt.Description, nt.DueAt, nt.CreatedBy, nt.CreatedAt).Scan(&nt.ID)
		if err != nil {
			return err
		}
		written, err = db.writeEffects(ctx, tx, nt.CaseID, eff.ForTask(nt.ID))
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
	if at.IsZero() {
		at = db.now()
	}
	at = dbTime(at)
	return db.inWrite(ctx, fmt.Sprintf("postgres: complete task %d", id), func(tx pgx.Tx) error {
		t := casework.Task{ID: id}
		err := tx.QueryRow(ctx, `UPDATE case_tasks SET done_at = $2 WHERE id = $1 AND done_at IS NULL RETURNING case_id, assignee`, id, at).
			Scan(&t.CaseID, &t.Assignee)
		if errors.Is(err, pgx.ErrNoRows) {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM case_tasks WHERE id = $1`, id).Scan(&one)
			return notFound(err, "task %d", id)
		}
		if err != nil {
			return err
		}
		return db.recordEvent(ctx, tx, &casework.Event{CaseID: t.CaseID, At: at, Actor: actor, Kind: casework.EventNote,
			Note: t.DoneNote()}, nil, db.nowUTC())
	})
}

const taskCols = `id, case_id, assignee, description, due_at, done_at, created_by, created_at`

func scanTask(row scanner) (*casework.Task, error) {
	var t casework.Task
	if err := row.Scan(&t.ID, &t.CaseID, &t.Assignee, &t.Description, &t.DueAt, &t.DoneAt, &t.CreatedBy, &t.CreatedAt); err != nil {
		return nil, err
	}
	t.DueAt, t.DoneAt, t.CreatedAt = t.DueAt.UTC(), utcPtr(t.DoneAt), t.CreatedAt.UTC()
	return &t, nil
}

// FindTaskByID returns the task with the ID.
func (db *DB) FindTaskByID(ctx context.Context, id int64) (*casework.Task, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find task %d", id), scanTask, `SELECT `+taskCols+` FROM case_tasks WHERE id = $1`, id)
}

// ListDueTasks returns the tasks not done and due at or before before, of
// every case, soonest first, at most limit.
func (db *DB) ListDueTasks(ctx context.Context, before time.Time, limit int) ([]*casework.Task, error) {
	if limit < 1 || limit > 500 {
		return nil, casework.Invalid("limit", "must be 1 to 500")
	}
	return readAll(ctx, db, "postgres: list due tasks", scanTask,
		`SELECT `+taskCols+` FROM case_tasks WHERE done_at IS NULL AND due_at <= $1 ORDER BY due_at, id LIMIT $2`, dbTime(before), limit)
}

// ListTasks returns a case's tasks ordered by due time, then ID.
func (db *DB) ListTasks(ctx context.Context, caseID int64) ([]*casework.Task, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: list tasks of case %d", caseID), scanTask,
		`SELECT `+taskCols+` FROM case_tasks WHERE case_id = $1 ORDER BY due_at, id`, caseID)
}
