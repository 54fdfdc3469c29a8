package casework

import (
	"context"
	"fmt"
	"time"
)

// Effects are what a change to a case causes beyond the case itself:
// messages to send and timers to set. A store writes them in the same
// transaction as the change, so that a committed change always has its
// messages queued and its timers set, and a change that failed has neither.
// In Effects given to CreateCaseWith, a zero CaseID stands for the new case.
type Effects struct {
	Messages []*OutboxMessage
	Timers   []Timer
}

// Empty reports whether e holds nothing.
func (e Effects) Empty() bool { return len(e.Messages) == 0 && len(e.Timers) == 0 }

// Add appends other's messages and timers to e.
func (e *Effects) Add(other Effects) {
	e.Messages = append(e.Messages, other.Messages...)
	e.Timers = append(e.Timers, other.Timers...)
}

// OutboxStatus is where an outbound message is in its delivery.
type OutboxStatus string

// The delivery states of an outbound message.
const (
	OutboxPending OutboxStatus = "pending" // queued, or waiting for a retry
	OutboxSent    OutboxStatus = "sent"    // the platform accepted it
	OutboxFailed  OutboxStatus = "failed"  // given up: final error or retries exhausted
)

// OutboxMessage is one message for one chat account, queued in the outbox
// (发件箱) in the transaction of the change that caused it and delivered by a
// job with retries. A message that failed for good stays visible on its case.
type OutboxMessage struct {
	ID       int64
	CaseID   int64  // 0 when it concerns no case
	Platform string // telegram, wechat, web
	UserID   string // the platform's user id
	// Purpose names why it is sent (owner_update, work_order, survey,
	// return_visit, escalation…), for the timeline and for statistics.
	Purpose string
	// Payload is the message itself, encoded by the sender (the lifecycle
	// service); the store keeps it as it is.
	Payload   []byte
	Status    OutboxStatus
	Attempts  int
	LastError string
	CreatedAt time.Time
	SentAt    *time.Time
	// SentRef is the platform's reference of the message it delivered
	// (bot.RefSender: Telegram's "chat_id:message_id"), by which the message
	// can be edited later (its buttons taken away); "" when the platform gave
	// none or the message is not sent.
	SentRef string
}

// TimerKind names a durable timer of a case.
type TimerKind string

// The timers of the lifecycle. When a timer fires its handler checks the
// case again: a timer whose reason passed (the case was answered, the survey
// was answered) does nothing.
const (
	TimerRespondDeadline     TimerKind = "respond_deadline"     // the response time limit passed
	TimerOnSiteDeadline      TimerKind = "on_site_deadline"     // the on-site time limit passed
	TimerResolveDeadline     TimerKind = "resolve_deadline"     // the resolution time limit passed
	TimerAcceptEscalation    TimerKind = "accept_escalation"    // an urgent work order was not taken in time
	TimerAppointmentReminder TimerKind = "appointment_reminder" // the visit is near
	TimerDisruptionWarning   TimerKind = "disruption_warning"   // noisy, dusty or cut-off work is near
	TimerSurveyExpiry        TimerKind = "survey_expiry"        // the survey went unanswered
	TimerReturnVisit         TimerKind = "return_visit"         // time for the return visit (回访)
	TimerTaskDue             TimerKind = "task_due"             // a coordination task is due
	TimerAnswerExpiry        TimerKind = "answer_expiry"        // the owner said nothing of an answer: settled
	TimerResumeDue           TimerKind = "resume_due"           // a case on hold was to resume by now
)

// TimerKinds lists every TimerKind.
var TimerKinds = []TimerKind{
	TimerRespondDeadline, TimerOnSiteDeadline, TimerResolveDeadline, TimerAcceptEscalation,
	TimerAppointmentReminder, TimerDisruptionWarning, TimerSurveyExpiry, TimerReturnVisit, TimerTaskDue,
	TimerAnswerExpiry, TimerResumeDue,
}

// Timer is a durable timer: at At, the handler of Kind runs for the case.
// Ref tells which instance it belongs to when a case can have several (the
// case version that set it, a task's ID), so that a stale one is ignored.
type Timer struct {
	CaseID int64
	Kind   TimerKind
	At     time.Time
	Ref    int64
}

// JobKind is the kind of a durable job.
type JobKind string

// The kinds of durable jobs a store enqueues.
const (
	JobDeliver JobKind = "deliver" // deliver an outbox message
	JobTimer   JobKind = "timer"   // fire a timer
)

// Job is a durable job as a store hands it to the job queue in its
// transaction: a delivery of an outbox message, or a timer.
type Job struct {
	Kind     JobKind
	OutboxID int64 // JobDeliver
	Timer    Timer // JobTimer
}

// Disruption is what repair work will disturb (施工影响).
type Disruption string

// Kinds of disruption an owner is warned of ahead of the work.
const (
	DisruptionNoise    Disruption = "noise"
	DisruptionDust     Disruption = "dust"
	DisruptionWaterCut Disruption = "water_cut"
	DisruptionPowerCut Disruption = "power_cut"
)

// Disruptions lists every Disruption.
var Disruptions = []Disruption{DisruptionNoise, DisruptionDust, DisruptionWaterCut, DisruptionPowerCut}

// Plan is the engineer's findings on site and the repair plan (维修方案) the
// owner must agree to before work starts.
type Plan struct {
	Cause          string         `json:"cause"`          // what caused the problem
	Responsibility Responsibility `json:"responsibility"` // as found on site
	Content        string         `json:"content"`        // the work to do
	Duration       string         `json:"duration"`       // "2 days", "半天"
	Disruptions    []Disruption   `json:"disruptions,omitempty"`
	StartAt        *time.Time     `json:"start_at,omitempty"` // when work starts, when known
	// ProposedAt is when the plan was put to the owner; a revised plan
	// has a new one, so an old message's agreement is not taken for it.
	ProposedAt *time.Time `json:"proposed_at,omitempty"`
}

// Validate checks a plan as an engineer reports it.
func (p *Plan) Validate() error {
	if err := validText("plan_cause", p.Cause, 1000, true); err != nil {
		return err
	}
	if err := validText("plan_content", p.Content, 2000, true); err != nil {
		return err
	}
	if err := validText("plan_duration", p.Duration, 100, false); err != nil {
		return err
	}
	if p.Responsibility == "" {
		p.Responsibility = ResponsibilityUndetermined
	}
	if !p.Responsibility.Valid() {
		return Invalid("plan_responsibility", "%q is not one of %v", p.Responsibility, Responsibilities)
	}
	for _, d := range p.Disruptions {
		switch d {
		case DisruptionNoise, DisruptionDust, DisruptionWaterCut, DisruptionPowerCut:
		default:
			return Invalid("plan_disruptions", "%q is not one of %v", d, Disruptions)
		}
	}
	return nil
}

// Survey is the owner's satisfaction survey (满意度回访): 1–5 for response
// speed, attitude and the quality of the repair, and a comment.
type Survey struct {
	Speed      int       `json:"speed"`
	Attitude   int       `json:"attitude"`
	Quality    int       `json:"quality"`
	Comment    string    `json:"comment,omitempty"`
	AnsweredAt time.Time `json:"answered_at"`
}

// Validate checks the scores and the comment.
func (s *Survey) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"survey_speed", s.Speed}, {"survey_attitude", s.Attitude}, {"survey_quality", s.Quality}} {
		if f.v < 1 || f.v > 5 {
			return Invalid(f.name, "must be from 1 to 5")
		}
	}
	return validText("survey_comment", s.Comment, 1000, false)
}

// Lowest returns the lowest of the three scores.
func (s *Survey) Lowest() int { return min(s.Speed, s.Attitude, s.Quality) }

// BindCode is a one-time code staff issue so that a party's member can bind
// a chat account to their membership (/bind CODE).
type BindCode struct {
	Code      string
	MemberID  int64
	IssuedBy  Actor
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// Validate checks a bind code before it is stored.
func (b *BindCode) Validate() error {
	switch {
	case b.Code == "":
		return Invalid("code", "is required")
	case b.IssuedBy == "":
		return Invalid("issued_by", "is required")
	case b.ExpiresAt.IsZero():
		return Invalid("expires_at", "is required")
	}
	return nil
}

// Task is an external coordination task (外部协调) of a case: something
// property management, a utility or a government office must do, with who
// follows it up and by when.
type Task struct {
	ID          int64
	CaseID      int64
	Assignee    string // the organisation or person outside the department
	Description string
	DueAt       time.Time
	DoneAt      *time.Time
	CreatedBy   Actor
	CreatedAt   time.Time
}

// Validate checks a task before it is stored.
func (t *Task) Validate() error {
	if err := validText("task_assignee", t.Assignee, 100, true); err != nil {
		return err
	}
	if err := validText("task_description", t.Description, 1000, true); err != nil {
		return err
	}
	if t.DueAt.IsZero() {
		return Invalid("task_due_at", "is required")
	}
	if t.CreatedBy == "" {
		return Invalid("task_created_by", "is required")
	}
	return nil
}

// CreatedNote is the timeline note of a new task: its ID, assignee and due
// time in loc (nil: ChinaTime), and what is to be done.
func (t *Task) CreatedNote(loc *time.Location) string {
	if loc == nil {
		loc = ChinaTime()
	}
	return fmt.Sprintf("外部协调 task %d: %s, due %s: %s", t.ID, t.Assignee, t.DueAt.In(loc).Format("2006-01-02 15:04 MST"), t.Description)
}

// DoneNote is the timeline note of a task done: its ID and assignee.
func (t *Task) DoneNote() string {
	return fmt.Sprintf("外部协调完成 task %d done: %s", t.ID, t.Assignee)
}

// LifecycleStore keeps what the lifecycle adds to cases: changes with their
// effects, the outbox, bind codes and coordination tasks.
type LifecycleStore interface {
	// CreateCaseWith is CreateCase that also writes eff in the transaction.
	CreateCaseWith(ctx context.Context, c *Case, eff Effects) error
	// TransitionCaseWith is TransitionCase that also writes eff.
	TransitionCaseWith(ctx context.Context, id int64, version int, t Transition, eff Effects) (*Case, error)
	// UpdateCaseWith is UpdateCase that also writes eff.
	UpdateCaseWith(ctx context.Context, id int64, version int, upd CaseUpdate, eff Effects) (*Case, error)
	// AddCaseEventWith is AddCaseEvent that also writes eff.
	AddCaseEventWith(ctx context.Context, e *Event, eff Effects) error
	// Enqueue writes eff alone, in a transaction of its own (messages that
	// concern no case change, such as a reply to staff).
	Enqueue(ctx context.Context, eff Effects) error

	// FindOutboxMessage returns ErrNotFound if there is none.
	FindOutboxMessage(ctx context.Context, id int64) (*OutboxMessage, error)
	// MarkOutboxSent records a delivery; marking a sent message again is not
	// an error.
	MarkOutboxSent(ctx context.Context, id int64, at time.Time) error
	// MarkOutboxSentRef is MarkOutboxSent that also keeps ref, the
	// platform's reference of what it delivered (OutboxMessage.SentRef; ""
	// for none). A message sent already keeps its first SentAt and SentRef.
	MarkOutboxSentRef(ctx context.Context, id int64, at time.Time, ref string) error
	// MarkOutboxAttempt records a failed attempt and its error. When final,
	// the message becomes OutboxFailed and, if it concerns a case, an
	// EventDeliveryFailed is added to the case's timeline.
	MarkOutboxAttempt(ctx context.Context, id int64, errText string, final bool, at time.Time) error
	// ListOutbox returns a case's outbox messages, oldest first.
	ListOutbox(ctx context.Context, caseID int64) ([]*OutboxMessage, error)
	// ListPendingOutbox returns the pending messages to a chat account with
	// IDs up to upTo, oldest first: what must be delivered before message
	// upTo, so that one person's messages arrive in order.
	ListPendingOutbox(ctx context.Context, platform, userID string, upTo int64) ([]*OutboxMessage, error)

	// CreateBindCode stores a code. Returns a *ConflictError if the code
	// exists, ErrNotFound if the member does not.
	CreateBindCode(ctx context.Context, b *BindCode) error
	// UseBindCode marks the code used at at and returns it. Returns
	// ErrNotFound if the code is unknown, used or expired at at.
	UseBindCode(ctx context.Context, code string, at time.Time) (*BindCode, error)
	// FindChatIdentitiesByMember returns the chat accounts bound to a member.
	FindChatIdentitiesByMember(ctx context.Context, memberID int64) ([]*ChatIdentity, error)

	// CreateTask stores a coordination task and records an EventNote on its
	// case, with eff, in one transaction.
	CreateTask(ctx context.Context, t *Task, eff Effects) error
	// CompleteTask marks a task done. ErrNotFound if it does not exist.
	CompleteTask(ctx context.Context, id int64, at time.Time, actor Actor) error
	// FindTaskByID returns ErrNotFound if the task does not exist.
	FindTaskByID(ctx context.Context, id int64) (*Task, error)
	// ListTasks returns a case's tasks ordered by due time.
	ListTasks(ctx context.Context, caseID int64) ([]*Task, error)
	// ListDueTasks returns the tasks not done and due at or before before,
	// of every case, soonest first, at most limit (1–500).
	ListDueTasks(ctx context.Context, before time.Time, limit int) ([]*Task, error)

	// CaseStats computes the department's statistics over the cases received
	// in [from, to) (zero times: unbounded), as seen at now.
	CaseStats(ctx context.Context, from, to, now time.Time) (*Stats, error)
}

// Stats are the department's figures (统计).
type Stats struct {
	Total      int
	ByState    map[State]int
	ByCategory map[Category]int
	ByProject  map[int64]int
	ByParty    map[int64]int // dispatched cases by party; 0: none yet
	// Median times from receipt to the first response — the first human
	// contact, Case.RespondedAt — and to resolution, over the cases that
	// have one.
	MedianResponse   time.Duration
	MedianResolution time.Duration
	// BreachRate is the share of cases that missed a service level
	// (Case.Breaches) by now.
	BreachRate float64
	// Satisfaction is the share of 4 and 5 among every score of the answered
	// surveys (three dimensions each); Surveys counts the surveys.
	Satisfaction float64
	Surveys      int
	// RepeatRepairRate is the share of repaired cases that needed more than
	// one repair (RepairCount > 0).
	RepeatRepairRate float64
}
