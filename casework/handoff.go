package casework

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HandoffState is where a hand-off (转人工) is:
//
//	waiting ──take──▶ taken ──end──▶ ended
//	   └─────────────end──────────────▲
//
// A taken hand-off may be taken over by another person (take again); an
// ended one changes no more. A chat account has at most one hand-off that is
// not ended.
type HandoffState string

// The states of a hand-off.
const (
	// HandoffWaiting: the owner asked for a person and nobody took the
	// conversation yet.
	HandoffWaiting HandoffState = "waiting"
	// HandoffTaken: a person of the department answers the owner.
	HandoffTaken HandoffState = "taken"
	// HandoffEnded: the bot is in charge again — the person ended the
	// conversation, or the owner went back to the menu.
	HandoffEnded HandoffState = "ended"
)

// HandoffStates lists every HandoffState; the stores' CHECK constraints
// allow exactly these.
var HandoffStates = []HandoffState{HandoffWaiting, HandoffTaken, HandoffEnded}

// Valid reports whether s is one of the states.
func (s HandoffState) Valid() bool {
	return s == HandoffWaiting || s == HandoffTaken || s == HandoffEnded
}

// Open reports whether a person may still answer: waiting or taken.
func (s HandoffState) Open() bool { return s == HandoffWaiting || s == HandoffTaken }

// Handoff is a chat handed to a person of the department (转人工): the chat
// account it comes from, the owner when the account proved to be one, the
// case it is about once a person linked one, who took it, and the times of
// its last words each way. Its messages are HandoffMessages.
type Handoff struct {
	ID       int64
	Platform string // telegram, wechat, web
	UserID   string // the platform's user id
	// DisplayName is the name the platform gave the account, if any; Lang
	// the language the owner was speaking (zh, en).
	DisplayName string
	Lang        string
	OwnerID     int64 // 0: unknown (the account proved to be no owner)
	CaseID      int64 // 0: none linked yet
	State       HandoffState
	TakenBy     Actor // who answers; "" while waiting
	TakenAt     *time.Time
	EndedBy     Actor // the person who ended it, or the owner's actor
	EndedAt     *time.Time
	// The last message of the owner, of a person of the department, and of
	// the bot (its acknowledgements), kept by the store as messages are
	// added.
	LastOwnerAt, LastAgentAt, LastBotAt *time.Time
	CreatedAt                           time.Time
	UpdatedAt                           time.Time
}

// Validate checks a new hand-off as the stores take it.
func (h *Handoff) Validate() error {
	switch {
	case strings.TrimSpace(h.Platform) == "":
		return Invalid("platform", "is required")
	case strings.TrimSpace(h.UserID) == "":
		return Invalid("user_id", "is required")
	case h.OwnerID < 0:
		return Invalid("owner", "must not be negative")
	case h.CaseID < 0:
		return Invalid("case", "must not be negative")
	}
	return validText("display_name", h.DisplayName, 100, false)
}

// Waited returns how long the owner has waited for a person at now: until
// the hand-off was taken or ended, or until now.
func (h *Handoff) Waited(now time.Time) time.Duration {
	end := now
	switch {
	case h.TakenAt != nil:
		end = *h.TakenAt
	case h.EndedAt != nil:
		end = *h.EndedAt
	}
	if end.Before(h.CreatedAt) {
		return 0
	}
	return end.Sub(h.CreatedAt)
}

// Unanswered reports whether the owner's last words came after the last
// answer of a person: the owner waits for one.
func (h *Handoff) Unanswered() bool {
	return h.State.Open() && h.LastOwnerAt != nil && (h.LastAgentAt == nil || h.LastOwnerAt.After(*h.LastAgentAt))
}

// HandoffFrom says who wrote a message of a hand-off.
type HandoffFrom string

// Who writes in a hand-off.
const (
	FromOwner HandoffFrom = "owner" // the owner, from their chat account
	FromAgent HandoffFrom = "agent" // a person of the department, from the console
	FromBot   HandoffFrom = "bot"   // the bot: what it told the owner (when a person answers, acknowledgements)
)

// Valid reports whether f is one of the writers.
func (f HandoffFrom) Valid() bool { return f == FromOwner || f == FromAgent || f == FromBot }

// MaxHandoffText bounds, in characters, the text of a hand-off message.
const MaxHandoffText = 2000

// HandoffMessage is one message of a hand-off, in the order written.
type HandoffMessage struct {
	ID        int64
	HandoffID int64
	At        time.Time // zero: the store's now
	From      HandoffFrom
	Actor     Actor  // the owner's actor (Who.Actor), the person's, or ActorBot
	Text      string // may be empty when BlobKey is set
	BlobKey   string // a photo or video the owner sent (bot.BlobStore key)
	// OutboxID is the outbox message that carries a person's words to the
	// owner (the first of the effects written with it); 0 for the others.
	OutboxID int64
	// Delivery and DeliveryError are that outbox message's status and last
	// error as the store read them with the message; "" without one.
	Delivery      OutboxStatus
	DeliveryError string
}

// Validate checks a message as the stores take it.
func (m *HandoffMessage) Validate() error {
	switch {
	case !m.From.Valid():
		return Invalid("from", "%q is not owner, agent or bot", m.From)
	case m.Actor == "":
		return Invalid("actor", "is required")
	case strings.TrimSpace(m.Text) == "" && m.BlobKey == "":
		return Invalid("text", "is required")
	}
	if err := validText("text", m.Text, MaxHandoffText, false); err != nil {
		return err
	}
	return validText("blob_key", m.BlobKey, 300, false)
}

// CaseNote is the note a linked case's timeline gets for the owner's
// message m of hand-off id: by the owner's actor, so that staff read the
// owner's words on the case they are about.
func (m *HandoffMessage) CaseNote() string {
	text := m.Text
	if m.BlobKey != "" {
		text = strings.TrimSpace(text + " [图片/视频 photo or video]")
	}
	return TruncateRunes(fmt.Sprintf("人工会话 #%d 业主留言 owner wrote in the hand-off: %s", m.HandoffID, text), 2000)
}

// LinkedNote is the note a case's timeline gets when a person links
// hand-off id to it: the owner's earlier messages in it, each with its time
// in loc (nil: ChinaTime), at most the last 50, by the owner's actor.
func LinkedNote(id int64, owners []*HandoffMessage, loc *time.Location) string {
	if loc == nil {
		loc = chinaTime
	}
	var b strings.Builder
	fmt.Fprintf(&b, "人工会话 #%d 关联本诉求 hand-off linked to this case", id)
	if len(owners) > 50 {
		owners = owners[len(owners)-50:]
	}
	for _, m := range owners {
		text := m.Text
		if m.BlobKey != "" {
			text = strings.TrimSpace(text + " [图片/视频 photo or video]")
		}
		b.WriteString("\n" + m.At.In(loc).Format("01-02 15:04") + " " + TruncateRunes(text, 300))
	}
	return TruncateRunes(b.String(), 5000)
}

// HandoffFilter selects hand-offs. Zero fields match everything.
type HandoffFilter struct {
	States []HandoffState
	// EndedSince, when set, keeps the ended hand-offs only when they ended
	// at or after it (the list's recent ones); the open ones are kept.
	EndedSince *time.Time
	Limit      int // 0: 100; at most 500
}

// Normalize checks f and fills the default limit.
func (f *HandoffFilter) Normalize() error {
	for _, s := range f.States {
		if !s.Valid() {
			return Invalid("state", "unknown state %q", s)
		}
	}
	switch {
	case f.Limit < 0:
		return Invalid("limit", "must not be negative")
	case f.Limit == 0:
		f.Limit = 100
	case f.Limit > 500:
		f.Limit = 500
	}
	return nil
}

// HandoffStore keeps the hand-offs of chats to a person of the department
// and their messages. Every method is safe for concurrent use; a write is
// one transaction.
type HandoffStore interface {
	// OpenHandoff stores h, waiting, and sets its ID and times — unless the
	// chat account has a hand-off that is not ended: then h is set to that
	// one and created is false. Of several at once for one account,
	// exactly one creates. A *ValidationError if h is invalid.
	OpenHandoff(ctx context.Context, h *Handoff) (created bool, err error)
	// FindHandoff returns ErrNotFound if there is none.
	FindHandoff(ctx context.Context, id int64) (*Handoff, error)
	// FindOpenHandoff returns the chat account's hand-off that is not
	// ended, or ErrNotFound.
	FindOpenHandoff(ctx context.Context, platform, userID string) (*Handoff, error)
	// ListHandoffs returns the hand-offs that match f: the waiting first,
	// then the taken, then the ended; among the open ones the oldest first,
	// among the ended the latest ended first.
	ListHandoffs(ctx context.Context, f HandoffFilter) ([]*Handoff, error)
	// AddHandoffMessage appends m to its hand-off, which must not be ended
	// (else a *ConflictError), with eff (a person's words to the owner), and
	// keeps the hand-off's last time of m's writer. When the hand-off has a
	// case and m is the owner's, the case's timeline gets an EventNote by
	// m.Actor (HandoffMessage.CaseNote); when it is a person's, an
	// EventMessage by them with m's text. m.OutboxID is set to the first
	// message of eff. It sets m.ID and, when zero, m.At, and returns the
	// hand-off as written.
	AddHandoffMessage(ctx context.Context, m *HandoffMessage, eff Effects) (*Handoff, error)
	// ListHandoffMessages returns the messages of a hand-off with an ID
	// after afterID, in order, with the delivery status of their outbox
	// message; an unknown hand-off's are none.
	ListHandoffMessages(ctx context.Context, handoffID, afterID int64) ([]*HandoffMessage, error)
	// TakeHandoff gives the hand-off to actor at at (zero: now) if it is
	// still taken by from ("" : waiting): a person takes a waiting one, or
	// takes over from from. Taking what one holds already changes nothing.
	// Returns a *ConflictError when the hand-off ended or someone else took
	// it meanwhile, ErrNotFound when there is none.
	TakeHandoff(ctx context.Context, id int64, actor, from Actor, at time.Time) (*Handoff, error)
	// LinkHandoff links the hand-off to case caseID, which must exist
	// (ErrNotFound), and adds to that case's timeline an EventNote with the
	// owner's messages so far (LinkedNote, in the store's numbering's time
	// zone), by the actor of the owner's last message, when there are any.
	// Linking the case it has changes nothing. A *ConflictError when the
	// hand-off ended.
	LinkHandoff(ctx context.Context, id, caseID int64) (*Handoff, error)
	// EndHandoff ends the hand-off at at (zero: now) by actor, with m (what
	// the bot told the owner; nil: none) appended before it ends and eff
	// (the message carrying it). Ending one that ended already changes
	// nothing, writes neither, and returns the hand-off and ended false.
	EndHandoff(ctx context.Context, id int64, actor Actor, at time.Time, m *HandoffMessage, eff Effects) (h *Handoff, ended bool, err error)
}

// ServiceHours are the hours in which people of the department answer chats
// (客服服务时间), in the department's time zone: from Open to Close on the
// days of Days. The zero ServiceHours is DefaultServiceHours.
type ServiceHours struct {
	Open, Close time.Duration // since midnight; Open < Close
	Days        [7]bool       // by time.Weekday; none set: every day
}

// DefaultServiceHours are 08:30 to 18:00, every day.
func DefaultServiceHours() ServiceHours {
	return ServiceHours{Open: 8*time.Hour + 30*time.Minute, Close: 18 * time.Hour}
}

func (h ServiceHours) orDefault() ServiceHours {
	if h.Open == 0 && h.Close == 0 {
		d := DefaultServiceHours()
		d.Days = h.Days
		return d
	}
	return h
}

// OnDay reports whether people answer on weekday d at all.
func (h ServiceHours) OnDay(d time.Weekday) bool {
	return h.Days == [7]bool{} || h.Days[d]
}

// EveryDay reports whether the hours hold on every day of the week.
func (h ServiceHours) EveryDay() bool {
	for d := range 7 {
		if !h.OnDay(time.Weekday(d)) {
			return false
		}
	}
	return true
}

// ParseServiceHours reads "08:30-18:00" (every day) or days before the
// times: "mon-fri 08:30-18:00", "mon,wed,sat 09:00-17:00".
func ParseServiceHours(s string) (ServiceHours, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return DefaultServiceHours(), nil
	}
	var h ServiceHours
	times := s
	if days, rest, ok := strings.Cut(s, " "); ok {
		times = strings.TrimSpace(rest)
		for _, part := range strings.Split(days, ",") {
			from, to, isRange := strings.Cut(part, "-")
			a, okA := weekdays[from]
			b, okB := weekdays[to]
			if !okA || (isRange && !okB) {
				return ServiceHours{}, Invalid("service_hours", "%q: days are mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri", part)
			}
			if !isRange {
				b = a
			}
			for d := a; ; d = (d + 1) % 7 {
				h.Days[d] = true
				if d == b {
					break
				}
			}
		}
	}
	from, to, ok := strings.Cut(times, "-")
	open, err1 := parseClock(from)
	close, err2 := parseClock(to)
	if !ok || err1 != nil || err2 != nil || open >= close {
		return ServiceHours{}, Invalid("service_hours", "%q: want HH:MM-HH:MM with the opening before the closing, e.g. 08:30-18:00", times)
	}
	h.Open, h.Close = open, close
	return h, nil
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func parseClock(s string) (time.Duration, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) || len(mm) != 2 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// String writes h as ParseServiceHours reads it.
func (h ServiceHours) String() string {
	h = h.orDefault()
	open, close := h.Clock()
	times := open + "-" + close
	if h.EveryDay() {
		return times
	}
	names := [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	var days []string
	for _, d := range []time.Weekday{1, 2, 3, 4, 5, 6, 0} {
		if h.Days[d] {
			days = append(days, names[d])
		}
	}
	return strings.Join(days, ",") + " " + times
}

// Clock returns the opening and closing times as people read them: "08:30",
// "18:00".
func (h ServiceHours) Clock() (open, close string) {
	h = h.orDefault()
	f := func(d time.Duration) string {
		return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return f(h.Open), f(h.Close)
}

// IsOpen reports whether people answer at t, in loc (nil: ChinaTime).
func (h ServiceHours) IsOpen(t time.Time, loc *time.Location) bool {
	h = h.orDefault()
	if loc == nil {
		loc = chinaTime
	}
	lt := t.In(loc)
	since := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute +
		time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
	return h.OnDay(lt.Weekday()) && since >= h.Open && since < h.Close
}

// NextOpening returns when people answer next after t, in loc (nil:
// ChinaTime): t itself within the hours.
func (h ServiceHours) NextOpening(t time.Time, loc *time.Location) time.Time {
	h = h.orDefault()
	if loc == nil {
		loc = chinaTime
	}
	if h.IsOpen(t, loc) {
		return t
	}
	lt := t.In(loc)
	for i := range 8 {
		open := time.Date(lt.Year(), lt.Month(), lt.Day()+i, int(h.Open/time.Hour), int(h.Open%time.Hour/time.Minute), 0, 0, loc)
		if h.OnDay(open.Weekday()) && open.After(lt) {
			return open
		}
	}
	return t // no day set at all cannot happen: none set is every day
}
