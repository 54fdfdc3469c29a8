// Package lifecycle carries a registered case to a repaired home (domain.md
// §2–6): triage by policy or by staff, the work order to the responsible
// engineer, appointment, findings and plan, the owner's agreement, the
// repair, the owner's acceptance, the satisfaction survey and the return
// visit — with everyone told in chat. Every change is written together with
// its effects (casework.Effects): the messages to the people concerned go
// into the outbox and the timers (service-level deadlines, reminders,
// escalations, survey expiry, return visits) into the durable job queue, in
// the change's own transaction.
//
// The Service takes actions from the chat (the conversation engine), from
// staff (the console's API) and from timers (Fire); it delivers outbox
// messages (Deliver) through a Pusher, the bot Router.
package lifecycle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// Store is what the lifecycle needs of the database.
type Store interface {
	casework.Store
	casework.IdentityStore
	casework.LifecycleStore
	casework.RosterStore
}

// Pusher delivers messages that are not replies (bot.Router.Exclusive):
// fn runs while nothing else is sent to user, and send delivers to them.
type Pusher interface {
	Exclusive(ctx context.Context, user bot.UserRef, fn func(send bot.SendFunc) error) error
}

// Config is what a Service needs. Zero durations take the defaults named.
type Config struct {
	Store    Store
	Pusher   Pusher
	Policy   Policy // zero: DefaultPolicy()
	SLA      casework.SLAPolicy
	Location *time.Location
	Logger   *slog.Logger
	// NowFunc is the service's clock; required: deadlines, timers and the
	// times on the timeline are counted by it.
	NowFunc func() time.Time

	AcceptWithin     time.Duration // an urgent work order must be taken within this; 30 min
	ReminderBefore   time.Duration // the owner and engineer are reminded this long before a visit; 2 h
	DisruptionNotice time.Duration // disruptive work is announced this long ahead; 24 h
	SurveyTTL        time.Duration // an unanswered survey expires; 72 h
	// AnswerWait is how long the owner has to say whether staff's answer
	// (答复) settles the matter; then it is taken as settled and the case
	// closes. 7 days.
	AnswerWait  time.Duration
	BindCodeTTL time.Duration // an engineer's bind code is valid; 72 h
	// ReturnVisits is how long after closure the return visit (回访) asks
	// whether the problem stayed fixed, by subcategory; ReturnVisitDefault
	// for the others. Zero turns it off. With neither set: leaks and
	// plumbing 14 days, cracks and the others 30 days.
	ReturnVisits       map[casework.Subcategory]time.Duration
	ReturnVisitDefault time.Duration
	// RepeatEscalation is the repair of one defect that escalates to the
	// supervisor: 3, the third.
	RepeatEscalation int

	// Classifier reads the category, subcategory and urgency of the cases
	// staff register (Register) where they leave them to the system, as
	// the chat reads its owners' words; nil: staff choose them.
	Classifier Classifier
	// Warranty are the default warranty terms of the cases staff register;
	// a project's own are merged over them. Zero:
	// casework.DefaultWarrantyTerms().
	Warranty casework.WarrantyTerms

	// PublicURL is the service's public base URL (https://host): the
	// supervisors' notices offer to open the case in the console under it
	// (/console/cases/NUMBER). "": no such button.
	PublicURL string
	// OfficeHoursFunc reports whether t is within the department's hours,
	// in which every supervisor is told about every case; out of them only
	// those on duty for the case's project (roster.go). Nil:
	// DefaultOfficeHours, 08:30 to 18:00 every day.
	OfficeHoursFunc func(t time.Time) bool
}

// DefaultReturnVisits are the return-visit delays by subcategory: a leak is
// checked after two weeks (a rain or two), a crack after a month.
func DefaultReturnVisits() map[casework.Subcategory]time.Duration {
	day := 24 * time.Hour
	return map[casework.Subcategory]time.Duration{
		casework.SubLeak:     14 * day,
		casework.SubPlumbing: 14 * day,
		casework.SubCrack:    30 * day,
	}
}

// Service runs the lifecycle. It is safe for concurrent use.
type Service struct {
	cfg Config
}

// New returns a Service, filling defaults into cfg. It panics without
// cfg.NowFunc, which no default may stand in for.
func New(cfg Config) *Service {
	if cfg.NowFunc == nil {
		panic("lifecycle.New: Config.NowFunc is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = casework.ChinaTime()
	}
	if cfg.OfficeHoursFunc == nil {
		cfg.OfficeHoursFunc = DefaultOfficeHours(cfg.Location)
	}
	if cfg.SLA.Rules == nil {
		cfg.SLA = casework.DefaultSLAPolicy()
	}
	if cfg.Policy.AutoDispatch == nil {
		cfg.Policy = DefaultPolicy()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.AcceptWithin, 30*time.Minute)
	def(&cfg.ReminderBefore, 2*time.Hour)
	def(&cfg.DisruptionNotice, 24*time.Hour)
	def(&cfg.SurveyTTL, 72*time.Hour)
	def(&cfg.AnswerWait, 7*24*time.Hour)
	def(&cfg.BindCodeTTL, 72*time.Hour)
	if cfg.ReturnVisits == nil {
		// Neither given: the defaults. Given, a zero default turns the
		// return visit off for the subcategories not listed.
		cfg.ReturnVisits = DefaultReturnVisits()
		def(&cfg.ReturnVisitDefault, 30*24*time.Hour)
	}
	if cfg.RepeatEscalation == 0 {
		cfg.RepeatEscalation = 3
	}
	return &Service{cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.NowFunc() }

// Errors of the Service, besides the store's.
var (
	// ErrForbidden: the acting person may not do this to the case (an
	// engineer of another party, an owner of another home).
	ErrForbidden = errors.New("not allowed for this case")
	// ErrNotBound: the chat account is not bound to a party's member.
	ErrNotBound = errors.New("chat account is not bound to an engineer")
	// ErrSlotGone: the visit time picked is no longer offered.
	ErrSlotGone = errors.New("that visit time is no longer offered")
	// ErrPlanChanged: the plan agreed to was revised since it was shown.
	ErrPlanChanged = errors.New("the plan was revised since")
	// ErrWithdrawTooLate: the owner may no longer withdraw the case: its
	// work started, or it is done or closed (OwnerMayWithdraw).
	ErrWithdrawTooLate = errors.New("work on the case has started: the owner may no longer withdraw it")
	// ErrSurveyLate: the survey answered had closed (it expired, or staff
	// closed the case); the answer was kept as a note on the timeline.
	ErrSurveyLate = errors.New("the survey had closed: the answer is kept as a note")
)

// Who is the person acting from a chat account.
type Who struct {
	User     bot.UserRef
	Identity *casework.ChatIdentity // nil: unknown account
}

// Actor returns the timeline actor: the member or proven owner behind the
// account, or else the account itself, named by a digest: a chat page
// visitor's id is its key to the page, and the timeline is read by staff
// and parties.
func (w Who) Actor() casework.Actor {
	switch {
	case w.Identity != nil && w.Identity.MemberID != 0:
		return casework.MemberActor(w.Identity.MemberID)
	case w.Identity != nil && w.Identity.OwnerID != 0 && w.Identity.Verified():
		return casework.Actor("owner:" + strconv.FormatInt(w.Identity.OwnerID, 10))
	}
	sum := sha256.Sum256([]byte(w.User.Key()))
	return casework.Actor("chat:" + string(w.User.Platform) + ":" + hex.EncodeToString(sum[:6]))
}

// recipient is a chat account to notify, with its language.
type recipient struct {
	user bot.UserRef
	lang l10n.Lang
}

func recipientOf(id *casework.ChatIdentity) recipient {
	lang := l10n.Lang(id.Lang)
	if lang != l10n.English {
		lang = l10n.Chinese
	}
	return recipient{user: bot.UserRef{Platform: bot.Platform(id.Platform), ID: id.UserID}, lang: lang}
}

// ownerChats returns the chat accounts of the case's owner: the account that
// reported it and the accounts bound to the owner on record.
func (s *Service) ownerChats(ctx context.Context, c *casework.Case) ([]recipient, error) {
	var out []recipient
	seen := map[bot.UserRef]bool{}
	add := func(id *casework.ChatIdentity) {
		r := recipientOf(id)
		if !seen[r.user] && !id.Unreachable && id.MemberID == 0 {
			seen[r.user] = true
			out = append(out, r)
		}
	}
	if c.ReporterPlatform != "" {
		id, err := s.cfg.Store.FindChatIdentity(ctx, c.ReporterPlatform, c.ReporterUserID)
		switch {
		case errors.Is(err, casework.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("find reporter: %w", err)
		default:
			add(id)
		}
	}
	if c.OwnerID != 0 {
		ids, err := s.cfg.Store.FindChatIdentitiesByOwner(ctx, c.OwnerID)
		if err != nil {
			return nil, fmt.Errorf("find owner's chats: %w", err)
		}
		for _, id := range ids {
			if id.Verified() { // an account bound before bindings were proven hears nothing
				add(id)
			}
		}
	}
	return out, nil
}

// memberChats returns the chat accounts bound to a member.
func (s *Service) memberChats(ctx context.Context, memberID int64) ([]recipient, error) {
	if memberID == 0 {
		return nil, nil
	}
	ids, err := s.cfg.Store.FindChatIdentitiesByMember(ctx, memberID)
	if err != nil {
		return nil, fmt.Errorf("find member's chats: %w", err)
	}
	var out []recipient
	for _, id := range ids {
		if !id.Unreachable {
			out = append(out, recipientOf(id))
		}
	}
	return out, nil
}

// supervisors returns the department's supervisors — members of in-house
// parties whose role is supervisor: they receive escalations and the cases
// that wait for staff, about every party's cases.
func (s *Service) supervisors(ctx context.Context) ([]*casework.Member, error) {
	parties, err := s.cfg.Store.ListParties(ctx)
	if err != nil {
		return nil, fmt.Errorf("list parties: %w", err)
	}
	var out []*casework.Member
	for _, p := range parties {
		if p.Kind != casework.PartyInHouse {
			continue // a contractor's own supervisor is not the department's
		}
		ms, err := s.cfg.Store.ListMembers(ctx, p.ID)
		if err != nil {
			return nil, fmt.Errorf("list members: %w", err)
		}
		for _, m := range ms {
			if m.Role == "supervisor" {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

func (s *Service) supervisorChats(ctx context.Context) ([]recipient, error) {
	ms, err := s.supervisors(ctx)
	if err != nil {
		return nil, err
	}
	var out []recipient
	for _, m := range ms {
		rs, err := s.memberChats(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// payload is an outbox message's content: the message to push (one; a
// list, as earlier rows may hold several).
type payload struct {
	Messages []bot.Outbound `json:"messages"`
}

// notice is a message being composed for one recipient.
type notice struct {
	to      recipient
	text    string
	choices []bot.Choice
	photos  []string // blob keys sent after the text
}

// maxPhotos is how many photos go with a notification.
const maxPhotos = 3

// addPhotos adds the photos among media to the notice, up to maxPhotos.
func (n *notice) addPhotos(media []casework.MediaRef) {
	for _, m := range media {
		if m.Kind == casework.MediaPhoto && len(n.photos) < maxPhotos {
			n.photos = append(n.photos, m.BlobKey)
		}
	}
}

// outbox turns notices into outbox messages of the case: the text, then
// each photo, delivered in that order (Deliver).
func outbox(caseID int64, purpose string, ns ...notice) []*casework.OutboxMessage {
	var out []*casework.OutboxMessage
	for _, n := range ns {
		// A message each: a retry resends only what failed.
		msgs := []bot.Outbound{{To: n.to.user, Kind: bot.OutText, Text: n.text, Choices: n.choices}}
		for _, b := range n.photos {
			msgs = append(msgs, bot.Outbound{To: n.to.user, Kind: bot.OutPhoto, BlobKey: b})
		}
		for _, msg := range msgs {
			raw, _ := json.Marshal(payload{Messages: []bot.Outbound{msg}}) // plain structs: cannot fail
			out = append(out, &casework.OutboxMessage{
				CaseID: caseID, Platform: string(n.to.user.Platform), UserID: n.to.user.ID, Purpose: purpose, Payload: raw,
			})
		}
	}
	return out
}

// tell composes the same catalogue text for each recipient, in their language.
func tell(rs []recipient, key string, kv []string, choices func(l10n.Lang) []bot.Choice) []notice {
	var out []notice
	for _, r := range rs {
		n := notice{to: r, text: T(r.lang, key, kv...)}
		if choices != nil {
			n.choices = choices(r.lang)
		}
		out = append(out, n)
	}
	return out
}

// when formats a time for people, in the department's time zone.
func (s *Service) when(t time.Time) string { return t.In(s.cfg.Location).Format("01-02 15:04") }

// whenPtr formats an optional time; "—" when unset.
func (s *Service) whenPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return s.when(*t)
}

// address returns "project unit" for a case, as engineers read it.
func (s *Service) address(ctx context.Context, c *casework.Case) string {
	var parts []string
	if p, err := s.cfg.Store.FindProjectByID(ctx, c.ProjectID); err == nil {
		parts = append(parts, p.Name)
	}
	if c.UnitID != 0 {
		if u, err := s.cfg.Store.FindUnitByID(ctx, c.UnitID); err == nil {
			parts = append(parts, u.Label())
		}
	}
	return strings.Join(parts, " ")
}

// versionKey is the context key of WithVersion.
type versionKey struct{}

// versionCheck is what WithVersion asks: the case the person acted on, and
// the version they saw. It is checked once, by the first load of that case:
// the steps of one action that follow (accepting, then dispatching) load the
// case they just changed.
type versionCheck struct {
	number  string
	version int
	done    bool
}

// WithVersion returns a context under which a staff action on case number
// (Accept, Dispatch, Reject, Hold…) is refused with a *casework.ConflictError
// unless the case is still at version: the version of the case the person
// saw when they chose the action (a form's hidden field, the API's
// "version"), so that nobody acts on a case another person changed
// meanwhile. Use one such context for one action.
func WithVersion(ctx context.Context, number string, version int) context.Context {
	return context.WithValue(ctx, versionKey{}, &versionCheck{number: strings.TrimSpace(number), version: version})
}

// load finds a case by number and, under WithVersion, checks its version
// once. The change that follows writes the case at the version read here, so
// a change by someone else in between is refused by the store as well.
func (s *Service) load(ctx context.Context, number string) (*casework.Case, error) {
	c, err := s.cfg.Store.FindCaseByNumber(ctx, strings.TrimSpace(number))
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", number, err)
	}
	if v, ok := ctx.Value(versionKey{}).(*versionCheck); ok && !v.done && v.number == c.Number {
		v.done = true
		if v.version != c.Version {
			return nil, &casework.ConflictError{What: fmt.Sprintf("case %s changed since version %d (now %d): reload it", c.Number, v.version, c.Version)}
		}
	}
	return c, nil
}

// transition performs t on c with its effects, at now.
func (s *Service) transition(ctx context.Context, c *casework.Case, t casework.Transition, eff casework.Effects) (*casework.Case, error) {
	if t.At.IsZero() {
		t.At = s.now()
	}
	nc, err := s.cfg.Store.TransitionCaseWith(ctx, c.ID, c.Version, t, eff)
	if err != nil {
		return nil, fmt.Errorf("%s case %s: %w", t.Action, c.Number, err)
	}
	s.cfg.Logger.Info("case changed", "case_id", nc.ID, "case_number", nc.Number, "action", t.Action, "state", nc.State, "messages", len(eff.Messages), "timers", len(eff.Timers))
	return nc, nil
}

// event records a timeline entry of c with its effects.
func (s *Service) event(ctx context.Context, c *casework.Case, kind casework.EventKind, actor casework.Actor, note string, eff casework.Effects) error {
	e := &casework.Event{CaseID: c.ID, At: s.now(), Actor: actor, Kind: kind, Note: note}
	if err := s.cfg.Store.AddCaseEventWith(ctx, e, eff); err != nil {
		return fmt.Errorf("record %s on case %s: %w", kind, c.Number, err)
	}
	return nil
}

// DeadlineTimers are the service-level timers of a case.
func DeadlineTimers(c *casework.Case) []casework.Timer {
	var out []casework.Timer
	add := func(k casework.TimerKind, at *time.Time) {
		if at != nil {
			out = append(out, casework.Timer{CaseID: c.ID, Kind: k, At: *at})
		}
	}
	add(casework.TimerRespondDeadline, c.RespondBy)
	add(casework.TimerOnSiteDeadline, c.OnSiteBy)
	add(casework.TimerResolveDeadline, c.ResolveBy)
	return out
}

// MovedDeadlineTimers returns the timers of the deadlines in d that differ
// from c's and whose step c has not met: what to set when c's deadlines
// become d (staff changed the urgency or category, a case resumed from
// hold). A timer of a deadline that moved later finds, when it fires, that
// its deadline has not passed and does nothing; one of a deadline already
// past fires at once.
func MovedDeadlineTimers(c *casework.Case, d casework.Deadlines) []casework.Timer {
	var out []casework.Timer
	add := func(k casework.TimerKind, old, now, met *time.Time) {
		if now == nil || met != nil || (old != nil && old.Equal(*now)) {
			return
		}
		out = append(out, casework.Timer{CaseID: c.ID, Kind: k, At: *now})
	}
	add(casework.TimerRespondDeadline, c.RespondBy, d.RespondBy, c.RespondedAt)
	add(casework.TimerOnSiteDeadline, c.OnSiteBy, d.OnSiteBy, c.OnSiteAt)
	add(casework.TimerResolveDeadline, c.ResolveBy, d.ResolveBy, c.ResolvedAt)
	return out
}

// Deliver sends outbox message id through the Pusher (jobs.Handler), after
// the older messages still pending for the same person, all while holding
// that person's lock: one person's messages arrive in the order they were
// written, even when an earlier one waits for a retry. A sent or failed
// message is left alone, so a job run twice sends once. A platform's final
// refusal (bot.ErrUndeliverable) fails a message at once; other errors are
// retried until the job's final attempt.
func (s *Service) Deliver(ctx context.Context, id int64, attempt int, final bool) error {
	m, err := s.cfg.Store.FindOutboxMessage(ctx, id)
	if err != nil {
		return fmt.Errorf("outbox message %d: %w", id, err)
	}
	if m.Status != casework.OutboxPending {
		return nil
	}
	user := bot.UserRef{Platform: bot.Platform(m.Platform), ID: m.UserID}
	return s.cfg.Pusher.Exclusive(ctx, user, func(send bot.SendFunc) error {
		pending, err := s.cfg.Store.ListPendingOutbox(ctx, m.Platform, m.UserID, m.ID)
		if err != nil {
			return fmt.Errorf("pending outbox before %d: %w", id, err)
		}
		for _, p := range pending {
			if err := s.deliverOne(ctx, p, send, p.ID == id, final); err != nil {
				return err
			}
		}
		return nil
	})
}

// deliverOne sends one pending message. own reports whether it is the job's
// own message, whose failures it records; an older message's failure is its
// own job's to record, and only holds this one back.
func (s *Service) deliverOne(ctx context.Context, m *casework.OutboxMessage, send bot.SendFunc, own, final bool) error {
	var p payload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		_ = s.cfg.Store.MarkOutboxAttempt(ctx, m.ID, "unreadable payload", true, s.now())
		if own {
			return &Permanent{Err: fmt.Errorf("outbox message %d: %w", m.ID, err)}
		}
		return nil
	}
	// What the platform made of the message is kept (OutboxMessage.SentRef),
	// so that it can be edited later: a withdrawn work order's buttons.
	sendCtx, refs := bot.WithSentRefs(ctx)
	sendErr := send(sendCtx, p.Messages)
	if sendErr == nil {
		if err := s.cfg.Store.MarkOutboxSentRef(ctx, m.ID, s.now(), refs.Last()); err != nil {
			return fmt.Errorf("mark outbox message %d sent: %w", m.ID, err)
		}
		return nil
	}
	// The job queue logs the failure, once.
	undeliverable := errors.Is(sendErr, bot.ErrUndeliverable)
	if undeliverable || own {
		if err := s.cfg.Store.MarkOutboxAttempt(ctx, m.ID, sendErr.Error(), final || undeliverable, s.now()); err != nil {
			s.cfg.Logger.Error("outbox attempt not recorded", "outbox_id", m.ID, "case_id", m.CaseID, "error", err)
		}
	}
	switch {
	case undeliverable && own:
		return &Permanent{Err: sendErr}
	case undeliverable:
		return nil // failed for good; the next may fare the same, and says so
	case own:
		return sendErr
	case final:
		return nil // the job's last try: its own message goes, out of order
	}
	return fmt.Errorf("waiting for the earlier message %d to the same person: %w", m.ID, sendErr)
}

// Permanent marks an error that retrying will not cure; the job queue gives
// up at once (jobs.Permanent recognises it through errors.As).
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return p.Err.Error() }
func (p *Permanent) Unwrap() error { return p.Err }
