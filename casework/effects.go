package casework

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// What every store does with Effects, whatever its SQL: check them, make the
// copies it writes, list the jobs they cause and hand the written messages
// back once committed.

// Validate checks the messages and timers of e: every message is non-nil
// with a platform, a user and no negative CaseID; every timer has a known
// kind and a time.
func (e Effects) Validate() error {
	for i, m := range e.Messages {
		switch {
		case m == nil:
			return Invalid("message", "message %d is nil", i)
		case m.Platform == "":
			return Invalid("message_platform", "is required")
		case m.UserID == "":
			return Invalid("message_user_id", "is required")
		case m.CaseID < 0:
			return Invalid("message_case", "must not be negative")
		}
	}
	for _, t := range e.Timers {
		if !slices.Contains(TimerKinds, t.Kind) {
			return Invalid("timer_kind", "%q is not one of %v", t.Kind, TimerKinds)
		}
		if t.At.IsZero() {
			return Invalid("timer_at", "is required")
		}
	}
	return nil
}

// Prepare returns what a store writes of e after a change to case caseID
// (0: none), leaving e as it is so that a write that fails changes nothing:
// copies of its messages, pending, with no attempts and created at now, and
// of its timers; in each, a zero CaseID is caseID. The store sets the
// messages' IDs as it writes them, then enqueues Jobs and, once committed,
// gives the copies back with SetWritten.
func (e Effects) Prepare(caseID int64, now time.Time) Effects {
	out := Effects{Messages: make([]*OutboxMessage, len(e.Messages)), Timers: make([]Timer, len(e.Timers))}
	for i, m := range e.Messages {
		w := *m
		if w.CaseID == 0 {
			w.CaseID = caseID
		}
		w.Status, w.Attempts, w.LastError, w.CreatedAt, w.SentAt = OutboxPending, 0, "", now, nil
		out.Messages[i] = &w
	}
	for i, t := range e.Timers {
		if t.CaseID == 0 {
			t.CaseID = caseID
		}
		out.Timers[i] = t
	}
	return out
}

// Jobs returns the durable jobs of e, in order: one JobDeliver per message
// (by its ID, so after the messages are written), then one JobTimer per
// timer.
func (e Effects) Jobs() []Job {
	jobs := make([]Job, 0, len(e.Messages)+len(e.Timers))
	for _, m := range e.Messages {
		jobs = append(jobs, Job{Kind: JobDeliver, OutboxID: m.ID})
	}
	for _, t := range e.Timers {
		jobs = append(jobs, Job{Kind: JobTimer, Timer: t})
	}
	return jobs
}

// SetWritten copies the messages of written, which Prepare made of e and a
// committed write stored, back to e's.
func (e Effects) SetWritten(written Effects) {
	for i, m := range written.Messages {
		*e.Messages[i] = *m
	}
}

// ForTask returns e with taskID as the Ref of its TimerTaskDue timers that
// have none, for the effects of creating that task; e is left as it is.
func (e Effects) ForTask(taskID int64) Effects {
	out := Effects{Messages: e.Messages, Timers: make([]Timer, len(e.Timers))}
	for i, t := range e.Timers {
		if t.Kind == TimerTaskDue && t.Ref == 0 {
			t.Ref = taskID
		}
		out.Timers[i] = t
	}
	return out
}

// MaxDeliveryError bounds, in runes, the delivery error an outbox message
// and its timeline entry keep.
const MaxDeliveryError = 1000

// DeliveryError returns errText as a store keeps it: its first
// MaxDeliveryError runes.
func DeliveryError(errText string) string {
	if utf8.RuneCountInString(errText) <= MaxDeliveryError {
		return errText
	}
	return string([]rune(errText)[:MaxDeliveryError])
}

// DeliveryFailedNote is the note of the EventDeliveryFailed that records
// that m failed for good: its ID, purpose, platform, attempts and last
// error, never its payload.
func (m *OutboxMessage) DeliveryFailedNote() string {
	return fmt.Sprintf("消息发送失败 message %d (%s) to %s failed after %d attempt(s): %s", m.ID, m.Purpose, m.Platform, m.Attempts, m.LastError)
}
