package conversation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/identity"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/when"
)

// The lifecycle's side of the dialogue: the buttons of work orders and
// notifications (payloads "lc:…", handled at any step), the engineer's
// binding (/bind CODE) and order list, and the short flows that collect what
// an action needs — a reason, visit times, the findings and plan, photos,
// the survey's scores.

// flowLC is the flow of the lifecycle's steps; the action is in slot lc_act
// and the case number in lc_case.
const flowLC = "lifecycle"

func init() {
	for name, st := range map[string]step{
		"lc_reason":   {promptLCReason, handleLCReason},
		"lc_slots":    {promptLCSlots, handleLCSlots},
		"lc_cause":    {askText("ask.cause"), textThen("cause", 1000, "lc_resp")},
		"lc_resp":     {promptLCResp, handleLCResp},
		"lc_content":  {askText("ask.content"), textThen("content", 2000, "lc_duration")},
		"lc_duration": {askText("ask.duration"), textThen("duration", 100, "lc_disrupt")},
		"lc_disrupt":  {promptLCDisrupt, handleLCDisrupt},
		"lc_start":    {promptLCStart, handleLCStart},
		"lc_photos":   {promptLCPhotos, handleLCPhotos},
		"lc_rate":     {promptLCRate, handleLCRate},
		"lc_comment":  {promptLCComment, handleLCComment},
	} {
		steps[name] = st
	}
}

// who is the acting chat account as the lifecycle sees it.
func (t *turn) who() lifecycle.Who { return lifecycle.Who{User: t.in.User, Identity: t.id} }

// lcT renders a lifecycle text in the session's language.
func (t *turn) lcT(key string, kv ...string) string { return lifecycle.T(t.s.Lang, key, kv...) }

// lcFail explains a refused lifecycle action to the user — an engineer in
// an engineer's words, an owner in an owner's — or returns the error when it
// is not theirs.
func (t *turn) lcFail(err error) error {
	engineer := t.id != nil && t.id.MemberID != 0
	if text, ok := lifecycle.ExplainErrorTo(t.s.Lang, err, engineer); ok {
		t.e.cfg.Logger.Info("lifecycle action refused", "platform", t.in.User.Platform, "error", err)
		t.sayText(text)
		return nil
	}
	return err
}

// startLC begins a lifecycle flow at step for action on case number; arg is
// the button's argument (lifecycle.ArgAnswer), kept in slot lc_arg.
func (t *turn) startLC(action, number, step, arg string) error {
	t.reset()
	t.s.Flow = flowLC
	t.set("lc_act", action)
	t.set("lc_case", number)
	if arg != "" {
		t.set("lc_arg", arg)
	}
	if step == "lc_slots" && arg != "" {
		t.set("lc_slots", arg) // the owner's own time, picked already
	}
	return t.goTo(step)
}

// lifecycleButton handles a lifecycle payload at any step.
func (t *turn) lifecycleButton(payload string) error {
	if slices.ContainsFunc(t.s.Choices, func(c bot.Choice) bool { return c.Payload == payload }) {
		// The question is answered: a later 好 or 1 is not this answer
		// again (agreeing to a plan agreed already).
		t.s.Choices = nil
	}
	lc := t.e.cfg.Lifecycle
	action, number, arg, _ := lifecycle.ParsePayload(payload)
	if lc == nil {
		t.say("unknown_command")
		return nil
	}
	ctx, who := t.ctx, t.who()
	if lifecycle.SupervisorAction(action) {
		return t.supervisorButton(action, number, arg)
	}
	switch action {
	case lifecycle.ActTake:
		o, err := lc.TakeOrder(ctx, who, number)
		if err != nil {
			return t.lcFail(err)
		}
		phone := o.Case.OwnerPhone
		if phone == "" {
			phone = "—"
		}
		t.ask(t.lcT("reply.taken", "number", number, "owner", o.Case.OwnerName, "phone", phone), o.Choices...)
	case lifecycle.ActDecline, lifecycle.ActSlots:
		// An engineer's order that is no longer theirs (reassigned,
		// withdrawn) is said so at once, before anything is asked.
		if _, err := lc.ShowOrder(ctx, who, number, t.s.Lang); err != nil {
			return t.lcFail(err)
		}
		if action == lifecycle.ActSlots {
			return t.startLC(action, number, "lc_slots", arg)
		}
		return t.startLC(action, number, "lc_reason", arg)
	case lifecycle.ActOther, lifecycle.ActDisagree, lifecycle.ActNotFixed:
		return t.startLC(action, number, "lc_reason", arg)
	case lifecycle.ActCheckIn:
		o, err := lc.CheckIn(ctx, who, number)
		if err != nil {
			return t.lcFail(err)
		}
		t.ask(t.lcT("reply.checked_in", "number", number), o.Choices...)
	case lifecycle.ActPlan:
		if _, err := lc.ShowOrder(ctx, who, number, t.s.Lang); err != nil {
			return t.lcFail(err)
		}
		return t.startLC(action, number, "lc_cause", "")
	case lifecycle.ActDone:
		if _, err := lc.ShowOrder(ctx, who, number, t.s.Lang); err != nil {
			return t.lcFail(err)
		}
		return t.startLC(action, number, "lc_photos", "")
	case lifecycle.ActStart:
		o, err := lc.StartWork(ctx, who, number)
		if err != nil {
			return t.lcFail(err)
		}
		t.ask(t.lcT("reply.started", "number", number), o.Choices...)
	case lifecycle.ActOrder:
		o, err := lc.ShowOrder(ctx, who, number, t.s.Lang)
		if err != nil {
			return t.lcFail(err)
		}
		t.ask(o.Text, o.Choices...)
	case lifecycle.ActPick:
		unix, _ := strconv.ParseInt(arg, 10, 64)
		c, err := lc.PickSlot(ctx, who, number, unix)
		if err != nil {
			return t.lcFail(err)
		}
		key := "reply.booked"
		if !lc.Reminds(*c.AppointmentAt) {
			key = "reply.booked_now" // too near for a reminder: promise none
		}
		t.sayText(t.lcT(key, "at", lc.SlotLabel(t.s.Lang, *c.AppointmentAt)))
	case lifecycle.ActAgree:
		if _, err := lc.AgreePlan(ctx, who, number, arg); err != nil {
			return t.lcFail(err)
		}
		t.sayText(t.lcT("reply.agreed"))
	case lifecycle.ActAccept:
		c, err := lc.OwnerAccept(ctx, who, number)
		if err != nil {
			return t.lcFail(err)
		}
		if !c.Category.GetsWorkOrder() {
			// An answer (答复) the owner says settles the matter: closed,
			// with no survey of a repair.
			t.sayText(t.lcT("reply.settled", "number", number))
			return nil
		}
		t.reset()
		t.s.Flow = flowLC
		t.set("lc_act", lifecycle.ActRate)
		t.set("lc_case", number)
		t.sayText(t.lcT("survey.head"))
		return t.goTo("lc_rate")
	case lifecycle.ActRate:
		// A score tapped on an earlier survey message: continue the survey.
		if t.s.Flow != flowLC || t.slot("lc_case") != number {
			t.reset()
			t.s.Flow = flowLC
			t.set("lc_act", lifecycle.ActRate)
			t.set("lc_case", number)
			t.s.Step = "lc_rate"
		}
		return handleLCRate(t, input{text: payload, payload: payload})
	case lifecycle.ActVisitOK, lifecycle.ActVisitBad:
		if _, err := lc.ReturnVisitAnswer(ctx, who, number, action == lifecycle.ActVisitOK); err != nil {
			return t.lcFail(err)
		}
		if action == lifecycle.ActVisitOK {
			t.sayText(t.lcT("reply.visit_ok"))
		} else {
			t.sayText(t.lcT("reply.reopened", "number", number))
		}
	default:
		t.say("unknown_command")
	}
	return nil
}

// bind binds the chat account to an engineer with a code from staff.
func (t *turn) bind(code string) error {
	lc := t.e.cfg.Lifecycle
	if lc == nil {
		t.say("unknown_command")
		return nil
	}
	if strings.TrimSpace(code) == "" {
		t.sayText(t.lcT("reply.bind_usage"))
		return nil
	}
	// Wrong codes are counted per account: a few tries an hour, so that
	// the codes cannot be guessed.
	if err := t.e.cfg.Identity.BindAllowed(t.ctx, t.account()); errors.Is(err, identity.ErrBindLocked) {
		t.sayText(t.lcT("reply.bind_locked"))
		return nil
	} else if err != nil {
		return err
	}
	m, p, err := lc.Bind(t.ctx, t.who(), code)
	var ve *casework.ValidationError
	if errors.Is(err, casework.ErrNotFound) || errors.As(err, &ve) {
		if err := t.e.cfg.Identity.BindFailed(t.ctx, t.account()); err != nil {
			return err
		}
		t.sayText(t.lcT("reply.bind_bad"))
		return nil
	}
	if err != nil {
		return err
	}
	t.id.MemberID = m.ID
	t.s.Identity, t.s.IdentityAt = nil, time.Time{} // read again next time
	t.reset()                                       // an owner's flow begun before is no engineer's
	t.sayText(t.lcT("reply.bound", "party", p.Name, "name", m.Name))
	return nil
}

// myOrders lists the engineer's open work orders as buttons.
func (t *turn) myOrders() error {
	lc := t.e.cfg.Lifecycle
	if lc == nil {
		t.say("unknown_command")
		return nil
	}
	cs, err := lc.MyOrders(t.ctx, t.who(), t.s.Lang)
	if err != nil {
		return t.lcFail(err)
	}
	if len(cs) == 0 {
		t.sayText(t.lcT("reply.no_orders"))
		return nil
	}
	var choices []bot.Choice
	for _, c := range cs {
		label := c.Number + " " + t.T("state."+string(c.State))
		choices = append(choices, bot.Choice{Label: label, Payload: lifecycle.Payload(lifecycle.ActOrder, c.Number)})
	}
	t.ask(t.lcT("reply.orders", "n", strconv.Itoa(len(cs))), choices...)
	return nil
}

// Offer remembers the choices of a pushed notification in the user's
// session, so that a typed number picks one (bot.Offerer). A user in the
// middle of a step keeps that step's choices: their next number answers the
// question they were asked (the notification's buttons still work). The
// Router holds the user's lock.
func (e *Engine) Offer(ctx context.Context, user bot.UserRef, choices []bot.Choice) error {
	s, err := e.cfg.Sessions.Load(ctx, user.Key())
	if err != nil {
		return fmt.Errorf("load session: %w", err)
	}
	if s != nil && s.Step != "" && e.cfg.NowFunc().Sub(s.UpdatedAt) < e.cfg.IdleTimeout {
		return nil
	}
	if s == nil {
		// The first the account hears from us may be a notification: its
		// buttons are answered in the account's language.
		lang := Chinese
		if e.cfg.Store != nil {
			id, err := e.cfg.Store.FindChatIdentity(ctx, string(user.Platform), user.ID)
			switch {
			case err == nil && id.Lang != "":
				lang = Lang(id.Lang)
			case err != nil && !errors.Is(err, casework.ErrNotFound):
				return fmt.Errorf("find chat identity: %w", err)
			}
		}
		now := e.cfg.NowFunc()
		s = &Session{User: user, Lang: lang, StartedAt: now, UpdatedAt: now}
	}
	s.Choices = choices
	return e.cfg.Sessions.Save(ctx, s, e.cfg.SessionTTL)
}

func askText(key string) func(t *turn) error {
	return func(t *turn) error {
		t.s.Choices = nil // free text: the words are the answer, not an option
		t.sayText(t.lcT(key))
		return nil
	}
}

// textThen keeps a free-text answer in slot lc_<slot> and moves to next.
func textThen(slot string, max int, next string) func(t *turn, in input) error {
	return func(t *turn, in input) error {
		if !hasWords(in.text, 2) {
			return again("bad.too_short")
		}
		if len([]rune(in.text)) > max {
			return again("too_long", "max", strconv.Itoa(max))
		}
		t.set("lc_"+slot, in.text)
		return t.goTo(next)
	}
}

// maxReason bounds a reason or a wish typed in the lifecycle's steps.
const maxReason = 500

func promptLCReason(t *turn) error {
	key := map[string]string{
		lifecycle.ActDecline: "ask.decline_reason", lifecycle.ActOther: "ask.other_slots",
		lifecycle.ActDisagree: "ask.disagree_reason", lifecycle.ActNotFixed: "ask.notfixed_reason",
	}[t.slot("lc_act")]
	if t.slot("lc_act") == lifecycle.ActNotFixed && t.slot("lc_arg") == lifecycle.ArgAnswer {
		key = "ask.unsettled_reason" // what the answer left open
	}
	t.s.Choices = nil // the reason is typed: 不同意 here is a reason, not the button again
	t.sayText(t.lcT(key))
	return nil
}

func handleLCReason(t *turn, in input) error {
	if !hasWords(in.text, 2) {
		return again("bad.too_short")
	}
	if len([]rune(in.text)) > maxReason {
		return again("too_long", "max", strconv.Itoa(maxReason))
	}
	lc, ctx, who, number := t.e.cfg.Lifecycle, t.ctx, t.who(), t.slot("lc_case")
	var err error
	var reply string
	switch t.slot("lc_act") {
	case lifecycle.ActDecline:
		err = lc.DeclineOrder(ctx, who, number, in.text)
		reply = t.lcT("reply.declined", "number", number)
	case lifecycle.ActOther:
		if at, perr := lc.ReadTime(in.text); errors.Is(perr, when.ErrPast) {
			return again("bad.slot_past", "time", lc.SlotLabel(t.s.Lang, at))
		}
		err = lc.OtherSlots(ctx, who, number, in.text)
		reply = t.lcT("reply.other_sent")
	case lifecycle.ActDisagree:
		_, err = lc.DisagreePlan(ctx, who, number, in.text)
		reply = t.lcT("reply.disagreed")
	case lifecycle.ActNotFixed:
		var c *casework.Case
		c, err = lc.NotFixed(ctx, who, number, in.text)
		reply = t.lcT("reply.reopened", "number", number)
		if err == nil && !c.Category.GetsWorkOrder() {
			reply = t.lcT("reply.unsettled", "number", number)
		}
	}
	t.reset()
	if err != nil {
		return t.lcFail(err)
	}
	t.sayText(reply)
	return nil
}

// The engineer picks up to three visit times from the candidates, each
// tapped once; "send" offers them to the owner.
func promptLCSlots(t *turn) error {
	lc := t.e.cfg.Lifecycle
	picked := t.pickedSlots()
	var choices []bot.Choice
	for _, at := range lc.CandidateSlots() {
		if slices.ContainsFunc(picked, func(p time.Time) bool { return p.Equal(at) }) {
			continue
		}
		choices = append(choices, bot.Choice{Label: lc.SlotLabel(t.s.Lang, at), Payload: "slot:" + strconv.FormatInt(at.Unix(), 10)})
	}
	text := t.lcT("ask.slots")
	if len(picked) > 0 {
		var labels []string
		for _, p := range picked {
			labels = append(labels, lc.SlotLabel(t.s.Lang, p))
		}
		text = t.lcT("ask.slots_picked", "picked", strings.Join(labels, t.lcT("list_sep")))
		choices = append([]bot.Choice{{Label: t.lcT("btn.send"), Payload: "slot:send"}}, choices...)
	}
	t.ask(text, choices...)
	return nil
}

func (t *turn) pickedSlots() []time.Time {
	var out []time.Time
	for _, f := range strings.Fields(t.slot("lc_slots")) {
		if sec, err := strconv.ParseInt(f, 10, 64); err == nil {
			out = append(out, time.Unix(sec, 0))
		}
	}
	return out
}

func handleLCSlots(t *turn, in input) error {
	picked := t.pickedSlots()
	if in.payload == "" && strings.TrimSpace(in.text) != "" {
		return typedLCSlot(t, in.text, picked)
	}
	v, ok := strings.CutPrefix(in.payload, "slot:")
	if !ok {
		return again("bad.pick_one")
	}
	if v == "send" {
		if len(picked) == 0 {
			return again("bad.pick_one")
		}
		number := t.slot("lc_case")
		err := t.e.cfg.Lifecycle.ProposeSlots(t.ctx, t.who(), number, picked)
		t.reset()
		if err != nil {
			return t.lcFail(err)
		}
		t.sayText(t.lcT("reply.slots_sent", "n", strconv.Itoa(len(picked))))
		return nil
	}
	if _, err := strconv.ParseInt(v, 10, 64); err != nil {
		return again("bad.pick_one")
	}
	t.set("lc_slots", strings.TrimSpace(t.slot("lc_slots")+" "+v))
	if len(picked)+1 >= 3 {
		return handleLCSlots(t, input{payload: "slot:send"})
	}
	return promptLCSlots(t)
}

// typedLCSlot adds a visit time the engineer typed ("今晚8点", "tomorrow
// 7pm") to the picked ones. A time it cannot read or one already past is
// asked again, saying which; one after the on-site deadline is taken with a
// warning (ProposeSlots notes it on the timeline).
func typedLCSlot(t *turn, words string, picked []time.Time) error {
	lc := t.e.cfg.Lifecycle
	at, late, err := lc.ReadSlot(t.ctx, t.who(), t.slot("lc_case"), words)
	switch {
	case errors.Is(err, when.ErrPast):
		return again("bad.slot_past", "time", lc.SlotLabel(t.s.Lang, at))
	case errors.Is(err, when.ErrUnreadable):
		return again("bad.slot_time")
	case err != nil:
		t.reset()
		return t.lcFail(err)
	}
	if late != nil {
		t.say("warn.slot_late", "time", lc.SlotLabel(t.s.Lang, at), "deadline", lc.SlotLabel(t.s.Lang, *late))
	}
	if slices.ContainsFunc(picked, func(p time.Time) bool { return p.Equal(at) }) {
		return promptLCSlots(t)
	}
	return handleLCSlots(t, input{payload: "slot:" + strconv.FormatInt(at.Unix(), 10)})
}

var planResponsibilities = []casework.Responsibility{
	casework.ResponsibilityContractor, casework.ResponsibilitySupplier, casework.ResponsibilityDesignFirm,
	casework.ResponsibilityPropertyManagement, casework.ResponsibilityOwnerOrThirdParty, casework.ResponsibilityUndetermined,
}

func promptLCResp(t *turn) error {
	var choices []bot.Choice
	for _, r := range planResponsibilities {
		choices = append(choices, bot.Choice{Label: t.lcT("responsibility." + string(r)), Payload: "resp:" + string(r)})
	}
	t.ask(t.lcT("ask.plan_resp"), choices...)
	return nil
}

func handleLCResp(t *turn, in input) error {
	v, ok := strings.CutPrefix(in.payload, "resp:")
	if !ok || !casework.Responsibility(v).Valid() {
		return again("bad.pick_one")
	}
	t.set("lc_resp", v)
	return t.goTo("lc_content")
}

func promptLCDisrupt(t *turn) error {
	picked := strings.Fields(t.slot("lc_disrupt"))
	var choices []bot.Choice
	if len(picked) > 0 {
		choices = append(choices, bot.Choice{Label: t.lcT("btn.finish"), Payload: "dis:done"})
	} else {
		choices = append(choices, bot.Choice{Label: t.lcT("disruption.none"), Payload: "dis:done"})
	}
	for _, d := range casework.Disruptions {
		if !slices.Contains(picked, string(d)) {
			choices = append(choices, bot.Choice{Label: t.lcT("disruption." + string(d)), Payload: "dis:" + string(d)})
		}
	}
	text := t.lcT("ask.disrupt")
	if len(picked) > 0 {
		var labels []string
		for _, p := range picked {
			labels = append(labels, t.lcT("disruption."+p))
		}
		text = t.lcT("ask.disrupt_picked", "picked", strings.Join(labels, t.lcT("list_sep")))
	}
	t.ask(text, choices...)
	return nil
}

func handleLCDisrupt(t *turn, in input) error {
	v, ok := strings.CutPrefix(in.payload, "dis:")
	if !ok {
		return again("bad.pick_one")
	}
	if v == "done" {
		return t.goTo("lc_start")
	}
	if !slices.Contains(casework.Disruptions, casework.Disruption(v)) {
		return again("bad.pick_one")
	}
	t.set("lc_disrupt", strings.TrimSpace(t.slot("lc_disrupt")+" "+v))
	return promptLCDisrupt(t)
}

func promptLCStart(t *turn) error {
	lc := t.e.cfg.Lifecycle
	choices := []bot.Choice{{Label: t.lcT("plan.start_tbd"), Payload: "start:tbd"}}
	for _, at := range lc.CandidateSlots() {
		choices = append(choices, bot.Choice{Label: lc.SlotLabel(t.s.Lang, at), Payload: "start:" + strconv.FormatInt(at.Unix(), 10)})
	}
	t.ask(t.lcT("ask.start"), choices...)
	return nil
}

func handleLCStart(t *turn, in input) error {
	v, ok := strings.CutPrefix(in.payload, "start:")
	if !ok {
		return again("bad.pick_one")
	}
	if v != "tbd" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return again("bad.pick_one")
		}
	}
	t.set("lc_start", v)
	return t.goTo("lc_photos")
}

func promptLCPhotos(t *turn) error {
	key := "ask.photos"
	choices := []bot.Choice{{Label: t.lcT("btn.finish"), Payload: "photos:done"}}
	if t.slot("lc_act") == lifecycle.ActDone {
		key = "ask.done_photos"
	} else if len(t.s.Media) == 0 {
		choices = []bot.Choice{{Label: t.lcT("btn.skip"), Payload: "photos:done"}}
	}
	if len(t.s.Media) > 0 {
		t.ask(t.lcT("ask.photo_added", "n", strconv.Itoa(len(t.s.Media))), choices...)
		return nil
	}
	t.ask(t.lcT(key), choices...)
	return nil
}

func handleLCPhotos(t *turn, in input) error {
	if in.media != nil {
		switch {
		case in.media.Err != nil:
			t.say(mediaErrorKey(in.media.Err), "max", strconv.Itoa(bot.MaxMediaMB))
		case in.media.BlobKey == "":
			t.say("bad.media_unavailable")
		case len(t.s.Media) >= t.e.cfg.MaxMedia:
			t.say("media_full", "max", strconv.Itoa(t.e.cfg.MaxMedia))
		default:
			t.s.Media = append(t.s.Media, *in.media)
		}
		return promptLCPhotos(t)
	}
	if in.payload != "photos:done" {
		return again("bad.pick_one")
	}
	var refs []casework.MediaRef
	for _, m := range t.s.Media {
		refs = append(refs, lifecycle.MediaRefOf(m))
	}
	lc, number := t.e.cfg.Lifecycle, t.slot("lc_case")
	if t.slot("lc_act") == lifecycle.ActDone {
		if len(refs) == 0 {
			t.sayText(t.lcT("ask.photo_needed"))
			return promptLCPhotos(t)
		}
		_, err := lc.Complete(t.ctx, t.who(), number, "", refs)
		t.reset()
		if err != nil {
			return t.lcFail(err)
		}
		t.sayText(t.lcT("reply.done", "number", number))
		return nil
	}
	plan := casework.Plan{
		Cause: t.slot("lc_cause"), Responsibility: casework.Responsibility(t.slot("lc_resp")),
		Content: t.slot("lc_content"), Duration: t.slot("lc_duration"),
	}
	for _, d := range strings.Fields(t.slot("lc_disrupt")) {
		plan.Disruptions = append(plan.Disruptions, casework.Disruption(d))
	}
	if sec, err := strconv.ParseInt(t.slot("lc_start"), 10, 64); err == nil {
		at := time.Unix(sec, 0)
		plan.StartAt = &at
	}
	_, err := lc.ReportPlan(t.ctx, t.who(), number, plan, refs)
	t.reset()
	if err != nil {
		return t.lcFail(err)
	}
	t.sayText(t.lcT("reply.plan_sent", "number", number))
	return nil
}

// The survey asks each dimension in turn with 1–5 buttons; a tap on an
// earlier message's button (lc:rate:NUMBER:dim-score) counts too.
func promptLCRate(t *turn) error {
	number := t.slot("lc_case")
	for _, dim := range lifecycle.SurveyQuestions {
		if t.slot("lc_"+dim) != "" {
			continue
		}
		var choices []bot.Choice
		for n := 1; n <= 5; n++ { // option n is n stars: a typed number is the score
			s := strconv.Itoa(n)
			choices = append(choices, bot.Choice{Label: strings.Repeat("★", n), Payload: lifecycle.Payload(lifecycle.ActRate, number, dim+"-"+s)})
		}
		t.ask(t.lcT("survey."+dim), choices...)
		return nil
	}
	return t.goTo("lc_comment")
}

func handleLCRate(t *turn, in input) error {
	action, number, arg, ok := lifecycle.ParsePayload(in.payload)
	if !ok || action != lifecycle.ActRate || number != t.slot("lc_case") {
		return again("bad.pick_one")
	}
	dim, score, _ := strings.Cut(arg, "-")
	n, err := strconv.Atoi(score)
	if err != nil || n < 1 || n > 5 || !slices.Contains(lifecycle.SurveyQuestions, dim) {
		return again("bad.pick_one")
	}
	t.set("lc_"+dim, score)
	t.s.Step = "lc_rate"
	return promptLCRate(t)
}

func promptLCComment(t *turn) error {
	t.ask(t.lcT("survey.comment"), bot.Choice{Label: t.lcT("btn.skip"), Payload: "comment:skip"})
	return nil
}

func handleLCComment(t *turn, in input) error {
	comment := in.text
	if in.payload == "comment:skip" {
		comment = ""
	} else if len([]rune(comment)) > 1000 {
		return again("too_long", "max", "1000")
	}
	score := func(dim string) int { n, _ := strconv.Atoi(t.slot("lc_" + dim)); return n }
	sv := casework.Survey{Speed: score("speed"), Attitude: score("attitude"), Quality: score("quality"), Comment: comment}
	number := t.slot("lc_case")
	_, err := t.e.cfg.Lifecycle.SubmitSurvey(t.ctx, t.who(), number, sv)
	t.reset()
	if errors.Is(err, lifecycle.ErrSurveyLate) {
		// The survey had closed: the rating is kept as the owner's comments.
		t.sayText(t.lcT("reply.survey_late"))
		return nil
	}
	if err != nil {
		return t.lcFail(err)
	}
	if sv.Lowest() <= 2 {
		t.sayText(t.lcT("reply.survey_low"))
		return nil
	}
	t.sayText(t.lcT("reply.survey_done", "number", number))
	return nil
}
