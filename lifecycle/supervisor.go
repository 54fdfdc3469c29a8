package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// Supervisors act from their phones. Every notice to the supervisors
// (staffNotices) carries the buttons of what its case allows a supervisor
// to do from the chat:
//
//   - 派给值班单位: send the work order to the party the routing rules give
//     for the case, its member chosen by role (pickMember; the member who
//     has the order and let it lie, or declined it, is passed over when
//     the party has another) — for a case that waits for staff and an
//     order declined or not taken;
//   - 改派: a second step lists the parties' people (the parties first when
//     they are many) to pick whom to send the order to;
//   - 受理: accept a consultation, complaint or the like that waits for
//     staff; its answer is written in the console;
//   - 联系业主: the owner's phone, whole, which phones make a link to call
//     (Telegram's buttons cannot dial: its URL buttons take http(s) and
//     tg:// links only); the view goes on the timeline;
//   - 在工作台打开: the link to the case's page in the console, when the
//     service's public URL is configured (Config.PublicURL).
//
// Each acts through the services the console calls (Accept, Dispatch),
// under the supervisor's name (casework.MemberActor), at the version of the
// case it read (WithVersion). Only the department's supervisors may press
// them (ErrForbidden to anyone else). A button's payload carries how many
// times the case had been dispatched when its notice was written; a button
// of a case that moved on since — dispatched again, the order taken, the
// case closed — is answered with what happened (*MovedOnError).

// The supervisors' actions (Payload): "lc:ACTION:NUMBER:STAMP", STAMP being
// how many times the case had been dispatched when the notice was written
// (dispatches). 改派's second step adds ":pPARTY" or ":mMEMBER".
const (
	ActSupDispatch = "sdispatch" // 派给值班单位
	ActSupReassign = "sreassign" // 改派
	ActSupAccept   = "saccept"   // 受理
	ActSupCall     = "scall"     // 联系业主
	ActSupOpen     = "sopen"     // 在工作台打开
)

// SupervisorAction reports whether a lifecycle button's action is one of
// the supervisors' (Supervise).
func SupervisorAction(action string) bool {
	switch action {
	case ActSupDispatch, ActSupReassign, ActSupAccept, ActSupCall, ActSupOpen:
		return true
	}
	return false
}

// maxFlatChoices is how many people 改派 lists at once; with more, it lists
// the parties first.
const maxFlatChoices = 10

// PhoneShownNote is the timeline's note, by the supervisor, of their being
// shown the owner's phone in chat (联系业主).
const PhoneShownNote = "owner's phone shown in chat"

// SupervisorReply is what a supervisor's button answers in the chat: a text
// and, when it asks the next step (改派's choice), its buttons.
type SupervisorReply struct {
	Text    string
	Choices []bot.Choice
}

// MovedOnError refuses a supervisor's button of a case that moved on since
// the notice that carried it; Text says what happened. It is the chat's
// answer (ExplainError), like the engineers' ErrReassigned.
type MovedOnError struct {
	Number string
	// Why is what happened: "taken" (the engineer took the order),
	// "redispatched" (it was sent again, to Who at At) or "state" (the
	// case is in State, where the step is not needed).
	Why   string
	Who   string
	At    string
	State casework.State
}

func (e *MovedOnError) Error() string {
	return "case " + e.Number + " moved on: " + e.Text(l10n.English)
}

// Text says what happened, in lang.
func (e *MovedOnError) Text(lang l10n.Lang) string {
	who := e.Who
	if who == "" {
		who = T(lang, "staff.unassigned")
	}
	switch e.Why {
	case "taken":
		return T(lang, "sup.moved_taken", "number", e.Number, "who", who)
	case "redispatched":
		return T(lang, "sup.moved_redispatched", "number", e.Number, "who", who, "at", e.At)
	}
	return T(lang, "sup.moved_state", "number", e.Number, "state", T(lang, "state."+string(e.State)))
}

// supButtons are the buttons of a notice about a case: what a supervisor
// may do about it.
type supButtons struct {
	number, stamp              string
	dispatch, reassign, accept bool
	call, open                 bool
}

// supervisorButtons returns the buttons of the supervisors' notice key about
// c (staffNotices): those of the complaint a low score opened (vals names
// it), else of c as its state allows. The notice is composed with the
// change that tells of it, on c as it was: an order declined or not taken
// waits for someone, whatever the timeline says yet, and a third repair is
// about to go back to its party — to reassign, with no stamp to check, as
// the order will have been sent again by the time the button is pressed.
func (s *Service) supervisorButtons(ctx context.Context, c *casework.Case, key string, vals func(l10n.Lang) []string) supButtons {
	if key == "staff.low_score" && vals != nil {
		kv := vals(l10n.Chinese)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] != "complaint" {
				continue
			}
			if k, err := s.cfg.Store.FindCaseByNumber(ctx, kv[i+1]); err == nil {
				c = k
			}
		}
	}
	b := supButtons{number: c.Number, call: strings.TrimSpace(c.OwnerPhone) != "", open: s.cfg.PublicURL != ""}
	_, taken, err := s.lastDispatch(ctx, c)
	if err == nil {
		b.stamp, err = s.dispatches(ctx, c)
	}
	if err != nil {
		s.cfg.Logger.Error("supervisor's buttons: timeline not read", "case_id", c.ID, "error", err)
		return b
	}
	switch {
	case key == "staff.repeat" && c.Category.GetsWorkOrder():
		b.reassign, b.stamp = true, ""
	case !c.Open() || c.State == casework.StateOnHold:
	case !c.Category.GetsWorkOrder():
		b.accept = c.State == casework.StateRegistered
	default:
		b.reassign = movable(c)
		waits := c.State == casework.StateRegistered || key == "staff.declined" || key == "staff.not_taken" ||
			(!taken && (c.State == casework.StateAccepted || c.State == casework.StateDispatched || c.State == casework.StateReopened))
		if waits {
			party, err := routedParty(ctx, s.cfg.Store, c)
			b.dispatch = err == nil && party != nil
		}
	}
	return b
}

// choices are the buttons in lang.
func (b supButtons) choices(lang l10n.Lang) []bot.Choice {
	var out []bot.Choice
	var stamp []string
	if b.stamp != "" {
		stamp = []string{b.stamp}
	}
	add := func(on bool, key, action string) {
		if on {
			out = append(out, bot.Choice{Label: T(lang, key), Payload: Payload(action, b.number, stamp...)})
		}
	}
	add(b.dispatch, "btn.sup_dispatch", ActSupDispatch)
	add(b.reassign, "btn.sup_reassign", ActSupReassign)
	add(b.accept, "btn.sup_accept", ActSupAccept)
	add(b.call, "btn.sup_call", ActSupCall)
	add(b.open, "btn.sup_open", ActSupOpen)
	return out
}

// dispatches counts the times c was dispatched, as its timeline says: the
// stamp of a supervisor's button, by which a button of an order sent again
// since is known.
func (s *Service) dispatches(ctx context.Context, c *casework.Case) (string, error) {
	evs, err := s.cfg.Store.ListCaseEvents(ctx, c.ID)
	if err != nil {
		return "", fmt.Errorf("timeline: %w", err)
	}
	n := 0
	for _, e := range evs {
		if e.Kind == casework.EventTransition && e.Action == casework.ActionDispatch {
			n++
		}
	}
	return strconv.Itoa(n), nil
}

// movable reports whether c's work order may be sent to someone (else): a
// repair waiting for staff, or in a state the machine allows a dispatch in.
func movable(c *casework.Case) bool {
	if !c.Category.GetsWorkOrder() {
		return false
	}
	_, err := casework.Next(c.State, casework.ActionDispatch, c.HeldFrom)
	return c.State == casework.StateRegistered || err == nil
}

// Supervise performs a supervisor's button action (SupervisorAction) on
// case number, with the button's argument, for the account who, answering
// in lang.
//
// Errors: ErrForbidden when the account is not bound to one of the
// department's supervisors; casework.ErrNotFound for no such case, party or
// member; *MovedOnError for a button of a case that moved on; a
// *casework.ConflictError when the case changed while the action ran; a
// *casework.ValidationError for a button that does not fit the case (a
// work order for a consultation).
func (s *Service) Supervise(ctx context.Context, who Who, lang l10n.Lang, action, number, arg string) (*SupervisorReply, error) {
	if !SupervisorAction(action) {
		return nil, casework.Invalid("action", "%q is not a supervisor's action", action)
	}
	sup, err := s.supervisorOf(ctx, who)
	if err != nil {
		return nil, err
	}
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	stamp, pick, _ := strings.Cut(arg, ":")
	log := s.cfg.Logger.With("case_id", c.ID, "case_number", c.Number, "member_id", sup.ID, "action", action)
	var r *SupervisorReply
	switch action {
	case ActSupDispatch:
		r, err = s.supDispatch(ctx, sup, c, stamp, lang)
	case ActSupReassign:
		r, err = s.supReassign(ctx, sup, c, stamp, pick, lang)
	case ActSupAccept:
		r, err = s.supAccept(ctx, sup, c, lang)
	case ActSupCall:
		r, err = s.supCall(ctx, sup, c, lang)
	case ActSupOpen:
		r = &SupervisorReply{Text: T(lang, "sup.open_none", "number", c.Number)}
		if link := s.consoleLink(c.Number); link != "" {
			r.Text = T(lang, "sup.open", "number", c.Number, "url", link)
		}
	}
	if err != nil {
		log.Info("supervisor's action refused", "error", err)
		return nil, err
	}
	log.Info("supervisor acted from the chat")
	if len(r.Choices) == 0 {
		r.Choices = s.followUp(ctx, number, action, lang)
	}
	return r, nil
}

// followUp returns the buttons an answer to a supervisor's action offers:
// what is left to do about case number as it now is. Telegram takes a
// notice's keyboard away once one of its buttons is pressed, and WeChat's
// numbers follow the last options given: the answer carries the rest.
func (s *Service) followUp(ctx context.Context, number, action string, lang l10n.Lang) []bot.Choice {
	c, err := s.cfg.Store.FindCaseByNumber(ctx, number)
	if err != nil {
		s.cfg.Logger.Error("supervisor's next buttons: case not read", "case_number", number, "error", err)
		return nil
	}
	b := s.supervisorButtons(ctx, c, "", nil)
	switch action {
	case ActSupDispatch, ActSupReassign, ActSupAccept:
		b.dispatch, b.reassign, b.accept = false, false, false // done: its answer says to whom
	case ActSupCall:
		b.call = false
	case ActSupOpen:
		b.open = false
	}
	return b.choices(lang)
}

// supervisorOf returns the member the account is bound to when they are
// one of the department's supervisors; ErrForbidden otherwise.
func (s *Service) supervisorOf(ctx context.Context, who Who) (*casework.Member, error) {
	if who.Identity == nil || who.Identity.MemberID == 0 {
		return nil, ErrForbidden
	}
	m, err := s.cfg.Store.FindMemberByID(ctx, who.Identity.MemberID)
	if errors.Is(err, casework.ErrNotFound) {
		return nil, ErrForbidden
	} else if err != nil {
		return nil, fmt.Errorf("member: %w", err)
	}
	p, err := s.cfg.Store.FindPartyByID(ctx, m.PartyID)
	if err != nil {
		return nil, fmt.Errorf("party of member %d: %w", m.ID, err)
	}
	if !casework.IsSupervisor(m, p) {
		return nil, ErrForbidden
	}
	return m, nil
}

// consoleLink is the address of case number's page in the console; "" when
// the service's public URL is not configured.
func (s *Service) consoleLink(number string) string { return s.consolePage("cases", number) }

// consolePage is the address of the console's page of what (cases,
// handoffs) named id; "" when the service's public URL is not configured.
func (s *Service) consolePage(what, id string) string {
	if s.cfg.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(s.cfg.PublicURL, "/") + "/console/" + what + "/" + url.PathEscape(id)
}

// asNotified checks that c's work order may still be sent as the notice of
// stamp offered: c gets a work order, is in a state that allows sending
// it, and was not dispatched since stamp ("": not checked); when waiting,
// that the order is not taken either.
func (s *Service) asNotified(ctx context.Context, c *casework.Case, stamp string, waiting bool) error {
	if !c.Category.GetsWorkOrder() {
		return noWorkOrder(c)
	}
	if !movable(c) {
		return &MovedOnError{Number: c.Number, Why: "state", State: c.State}
	}
	at, taken, err := s.lastDispatch(ctx, c)
	if err != nil {
		return err
	}
	now, err := s.dispatches(ctx, c)
	if err != nil {
		return err
	}
	who := s.assigneeName(ctx, c)
	if stamp != "" && stamp != now {
		return &MovedOnError{Number: c.Number, Why: "redispatched", Who: who, At: s.when(at)}
	}
	if waiting && taken && c.State != casework.StateRegistered {
		return &MovedOnError{Number: c.Number, Why: "taken", Who: who}
	}
	return nil
}

// supDispatch sends c's work order to the party the routing rules give
// (派给值班单位); with no rule for it, it asks whom, as 改派 does.
func (s *Service) supDispatch(ctx context.Context, sup *casework.Member, c *casework.Case, stamp string, lang l10n.Lang) (*SupervisorReply, error) {
	if err := s.asNotified(ctx, c, stamp, true); err != nil {
		return nil, err
	}
	party, err := routedParty(ctx, s.cfg.Store, c)
	if err != nil {
		return nil, err
	}
	if party == nil {
		r, err := s.supReassign(ctx, sup, c, stamp, "", lang)
		if err != nil {
			return nil, err
		}
		r.Text = T(lang, "sup.no_route", "number", c.Number) + "\n" + r.Text
		return r, nil
	}
	ms, err := s.cfg.Store.ListMembers(ctx, party.ID)
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", party.Code, err)
	}
	// The member who has the order and let it lie, or who declined it, is
	// passed over when the party has another.
	if passed, err := s.lastHolder(ctx, c); err != nil {
		return nil, err
	} else if others := slices.DeleteFunc(slices.Clone(ms), func(m *casework.Member) bool { return m.ID == passed }); len(others) > 0 {
		ms = others
	}
	return s.supSend(ctx, sup, c, party, pickAmong(ms, c.Urgency == casework.UrgencyUrgent), lang)
}

// lastHolder returns the member c's order was last with, untaken: its
// assignee, or who declined it since it was last dispatched; 0 for none.
func (s *Service) lastHolder(ctx context.Context, c *casework.Case) (int64, error) {
	if c.AssigneeID != 0 {
		return c.AssigneeID, nil
	}
	evs, err := s.cfg.Store.ListCaseEvents(ctx, c.ID)
	if err != nil {
		return 0, fmt.Errorf("timeline: %w", err)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Kind == casework.EventTransition && e.Action == casework.ActionDispatch {
			break
		}
		if kind, id := e.Actor.Parse(); e.Kind == casework.EventOrderDeclined && kind == "member" {
			n, _ := strconv.ParseInt(id, 10, 64)
			return n, nil
		}
	}
	return 0, nil
}

// supReassign is 改派: with no pick, the people to send c's order to (or
// their parties, when they are many); with "pPARTY", that party's people;
// with "mMEMBER", it sends the order to that member.
func (s *Service) supReassign(ctx context.Context, sup *casework.Member, c *casework.Case, stamp, pick string, lang l10n.Lang) (*SupervisorReply, error) {
	if err := s.asNotified(ctx, c, stamp, false); err != nil {
		return nil, err
	}
	if stamp == "" {
		var err error
		if stamp, err = s.dispatches(ctx, c); err != nil {
			return nil, err
		}
	}
	if pick == "" {
		return s.reassignChoices(ctx, c, stamp, 0, lang)
	}
	id, err := strconv.ParseInt(pick[1:], 10, 64)
	switch {
	case err != nil || id <= 0:
		return nil, casework.Invalid("pick", "%q names no party or member", pick)
	case pick[0] == 'p':
		return s.reassignChoices(ctx, c, stamp, id, lang)
	case pick[0] == 'm':
		m, err := s.cfg.Store.FindMemberByID(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", id, err)
		}
		party, err := s.cfg.Store.FindPartyByID(ctx, m.PartyID)
		if err != nil {
			return nil, fmt.Errorf("party of member %d: %w", id, err)
		}
		return s.supSend(ctx, sup, c, party, m, lang)
	}
	return nil, casework.Invalid("pick", "%q names no party or member", pick)
}

// candidate is someone c's work order may be sent to.
type candidate struct {
	party  *casework.Party
	member *casework.Member
}

// reassignChoices lists whom c's order may go to — of party partyID, or of
// every party, the routed party's people first — as 改派's buttons: the
// people, or their parties when they are more than maxFlatChoices. The
// department's supervisors and the member who has the order are not
// listed.
func (s *Service) reassignChoices(ctx context.Context, c *casework.Case, stamp string, partyID int64, lang l10n.Lang) (*SupervisorReply, error) {
	parties, err := s.cfg.Store.ListParties(ctx)
	if err != nil {
		return nil, fmt.Errorf("list parties: %w", err)
	}
	routed, err := routedParty(ctx, s.cfg.Store, c)
	if err != nil {
		return nil, err
	}
	if routed != nil {
		i := slices.IndexFunc(parties, func(p *casework.Party) bool { return p.ID == routed.ID })
		if i > 0 {
			parties = append(append([]*casework.Party{parties[i]}, parties[:i]...), parties[i+1:]...)
		}
	}
	var cands []candidate
	var withPeople []*casework.Party
	for _, p := range parties {
		if partyID != 0 && p.ID != partyID {
			continue
		}
		ms, err := s.cfg.Store.ListMembers(ctx, p.ID)
		if err != nil {
			return nil, fmt.Errorf("members of %s: %w", p.Code, err)
		}
		n := len(cands)
		for _, m := range ms {
			if m.ID != c.AssigneeID && !casework.IsSupervisor(m, p) {
				cands = append(cands, candidate{p, m})
			}
		}
		if len(cands) > n {
			withPeople = append(withPeople, p)
		}
	}
	who := s.assigneeName(ctx, c)
	if who == "" {
		who = T(lang, "staff.unassigned")
	}
	if len(cands) == 0 {
		return &SupervisorReply{Text: T(lang, "sup.nobody", "number", c.Number)}, nil
	}
	r := &SupervisorReply{}
	if len(cands) > maxFlatChoices && partyID == 0 {
		r.Text = T(lang, "sup.pick_party", "number", c.Number, "assignee", who)
		for _, p := range withPeople {
			r.Choices = append(r.Choices, bot.Choice{Label: p.Name, Payload: Payload(ActSupReassign, c.Number, stamp+":p"+strconv.FormatInt(p.ID, 10))})
		}
		return r, nil
	}
	r.Text = T(lang, "sup.pick", "number", c.Number, "assignee", who)
	for _, x := range cands {
		label := x.party.Name + " · " + x.member.Name
		if role := roleWords(lang, x.member.Role); role != "" {
			label += T(lang, "sup.role", "role", role)
		}
		r.Choices = append(r.Choices, bot.Choice{Label: label, Payload: Payload(ActSupReassign, c.Number, stamp+":m"+strconv.FormatInt(x.member.ID, 10))})
	}
	return r, nil
}

// roleWords names a member's role in lang; "" for a role the catalogue
// does not know.
func roleWords(lang l10n.Lang, role string) string {
	key, ok := map[string]string{"engineer": "sup.role_engineer", "duty": "sup.role_duty", "manager": "sup.role_manager"}[role]
	if !ok {
		return ""
	}
	return T(lang, key)
}

// supSend sends c's work order to member of party (nil: the party's to
// assign) in the supervisor's name: a case waiting for staff is accepted
// and dispatched (Accept), another dispatched again (Dispatch), each at
// the version of c read. It answers with whom the order went to and how to
// reach them.
func (s *Service) supSend(ctx context.Context, sup *casework.Member, c *casework.Case, party *casework.Party, member *casework.Member, lang l10n.Lang) (*SupervisorReply, error) {
	var memberID int64
	if member != nil {
		if member.PartyID != party.ID {
			return nil, casework.Invalid("member_id", "member %d is not of party %s", member.ID, party.Code)
		}
		memberID = member.ID
	}
	vctx, actor := WithVersion(ctx, c.Number, c.Version), casework.MemberActor(sup.ID)
	var err error
	if c.State == casework.StateRegistered {
		_, err = s.Accept(vctx, c.Number, actor, "", party.ID, memberID)
	} else {
		_, err = s.Dispatch(vctx, c.Number, actor, party.ID, memberID)
	}
	if err != nil {
		return nil, err
	}
	if member == nil {
		return &SupervisorReply{Text: T(lang, "sup.sent_party", "number", c.Number, "party", party.Name, "phone", orDash(party.Phone))}, nil
	}
	chats, err := s.memberChats(ctx, member.ID)
	if err != nil {
		return nil, err
	}
	key := "sup.sent"
	if len(chats) == 0 {
		key = "sup.sent_unbound" // the order waits in the console: a call it takes
	}
	return &SupervisorReply{Text: T(lang, key, "number", c.Number, "party", party.Name, "name", member.Name, "phone", orDash(member.Phone))}, nil
}

// supAccept accepts a consultation, complaint or the like that waits for
// staff (受理), to be answered in the console; the owner is told by when.
func (s *Service) supAccept(ctx context.Context, sup *casework.Member, c *casework.Case, lang l10n.Lang) (*SupervisorReply, error) {
	if c.Category.GetsWorkOrder() {
		return nil, casework.Invalid("category", "%s gets a work order: case %s is dispatched (派给值班单位, 改派), not accepted to answer", c.Category, c.Number)
	}
	if c.State != casework.StateRegistered {
		return nil, &MovedOnError{Number: c.Number, Why: "state", State: c.State}
	}
	if _, err := s.Accept(WithVersion(ctx, c.Number, c.Version), c.Number, casework.MemberActor(sup.ID), "", 0, 0); err != nil {
		return nil, err
	}
	if link := s.consoleLink(c.Number); link != "" {
		return &SupervisorReply{Text: T(lang, "sup.accepted_link", "number", c.Number, "url", link)}, nil
	}
	return &SupervisorReply{Text: T(lang, "sup.accepted", "number", c.Number)}, nil
}

// supCall shows the supervisor the owner's phone whole (联系业主), with the
// case in a line, and records the view on the timeline in their name.
func (s *Service) supCall(ctx context.Context, sup *casework.Member, c *casework.Case, lang l10n.Lang) (*SupervisorReply, error) {
	owner := orDash(c.OwnerName)
	if strings.TrimSpace(c.OwnerPhone) == "" {
		return &SupervisorReply{Text: T(lang, "sup.owner_no_phone", "number", c.Number, "owner", owner)}, nil
	}
	if err := s.event(ctx, c, casework.EventNote, casework.MemberActor(sup.ID), PhoneShownNote, casework.Effects{}); err != nil {
		return nil, err
	}
	return &SupervisorReply{Text: T(lang, "sup.owner", "number", c.Number, "owner", owner, "phone", c.OwnerPhone,
		"address", s.noticeAddress(ctx, c), "problem", s.problem(lang, c))}, nil
}

// orDash is s, or "—" when it is empty.
func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}
