package conversation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/classify"
	"github.com/aftersales/aftersales/lifecycle"
)

// The flows of the dialogue.
const (
	flowReport     = "report"     // 报修
	flowConsult    = "consult"    // 咨询
	flowComplaint  = "complaint"  // 投诉
	flowSuggestion = "suggestion" // 建议
	flowPraise     = "praise"     // 表扬
	flowUrge       = "urge"       // 催办
	flowVerify     = "verify"     // 验证身份: prove the phone on the owner's record
)

// flows lists each flow's steps after the owner's identity is known.
var flows = map[string][]string{
	flowReport:     {"category", "location", "description", "occurred", "media", "expectation", "contact_time", "summary"},
	flowConsult:    {"message", "summary"},
	flowComplaint:  {"message", "summary"},
	flowSuggestion: {"message", "summary"},
	flowPraise:     {"message", "summary"},
	flowUrge:       {"urge_pick"},
	flowVerify:     {"phone"},
}

// identitySteps are asked first, once: the binding is remembered.
var identitySteps = []string{"name", "unit", "phone"}

// The options offered for the expected resolution and the contact time.
var (
	expectations = []string{"repair", "replace", "inspect", "compensation"}
	contactTimes = []string{"anytime", "workday", "evening", "weekend"}
)

// steps maps a step's name to its question and its answer handling.
var steps map[string]step

func init() {
	steps = map[string]step{
		"name":         {promptName, handleName},
		"unit":         {promptUnit, handleUnit},
		"unit_pick":    {promptUnitPick, handleUnitPick},
		"phone":        {promptPhone, handlePhone},
		"verify_code":  {promptVerifyCode, handleVerifyCode},
		"category":     {promptCategory, handleCategory},
		"category_ok":  {promptCategoryOK, handleCategoryOK},
		"location":     {promptLocation, handleLocation},
		"description":  {promptDescription, handleDescription},
		"occurred":     {promptOccurred, handleOccurred},
		"media":        {promptMedia, handleMedia},
		"expectation":  pickOrType("expectation", "ask.expectation", "expect", "exp", 2000, expectations...),
		"contact_time": pickOrType("contact_time", "ask.contact_time", "contact", "ct", 100, contactTimes...),
		"message":      {promptMessage, handleMessage},
		"summary":      {promptSummary, handleSummary},
		"edit":         {promptEdit, handleEdit},
		"urge_pick":    {promptUrgePick, handleUrgePick},
		"resume":       {promptResume, handleResume},
	}
}

// menu shows the main menu.
func (t *turn) menu() error {
	if t.engineer() {
		return t.engineerMenu()
	}
	head := t.T("menu")
	if t.in.User.Platform == bot.WeChat {
		head = t.T("menu_numbered") // WeChat shows options as numbered links, not buttons
	}
	t.ask(head,
		t.choice("choice.report", "menu:report"),
		t.choice("choice.status", "menu:status"),
		t.choice("choice.urge", "menu:urge"),
		t.choice("choice.consult", "menu:consult"),
		t.choice("choice.complain", "menu:complain"),
		t.choice("choice.suggest", "menu:suggest"),
		t.choice("choice.praise", "menu:praise"),
		t.choice("choice.human", "menu:human"),
		t.choice("choice.other_lang", "menu:lang"),
	)
	return nil
}

// idle handles a message outside any flow: a case number shows that case,
// media or free text starts a report, anything else shows the menu.
func (t *turn) idle(in input) error {
	if in.payload != "" {
		if number, ok := strings.CutPrefix(in.payload, "case:"); ok {
			return t.caseDetail(number)
		}
		if number, ok := strings.CutPrefix(in.payload, "urge:"); ok {
			return t.urge(number)
		}
		if number, ok := strings.CutPrefix(in.payload, "withdraw:"); ok && t.e.cfg.Lifecycle != nil {
			return t.startWithdraw(number)
		}
		if in.payload == "retry" {
			return t.menu()
		}
	}
	if number, ok := caseNumberIn(in.text); ok {
		return t.caseDetail(number)
	}
	var first classify.Result
	if in.media == nil && hasWords(in.text, 4) && t.e.cfg.Classifier != nil {
		first = t.e.cfg.Classifier.Classify(in.text)
	}
	if in.media != nil || soundsLikeAProblem(first) {
		// Someone who starts by describing a problem wants to report it;
		// someone in danger hears first what to do now.
		if first.Urgency == casework.UrgencyUrgent {
			t.sayText(t.safetyAdvice(first.Signals, first.Subcategory, in.text, "urgent.first"))
		}
		if in.media != nil {
			if err := t.startFlow(flowReport); err != nil {
				return err
			}
			return t.acceptMedia(in.media, false)
		}
		return t.startReportWith(truncateRunes(in.text, 2000))
	}
	t.say("greeting")
	return t.menu()
}

// soundsLikeAProblem reports whether the judgment r of free text names a
// building problem or an urgent situation, so that it starts a report
// rather than the menu.
func soundsLikeAProblem(r classify.Result) bool {
	switch {
	case r.Urgency == casework.UrgencyUrgent:
		return true
	case r.Unsure():
		return false
	}
	return r.Category.GetsWorkOrder()
}

func (t *turn) startFlow(flow string) error { return t.startFlowWith(flow, "") }

// startReportWith starts a report with the owner's first words, which the
// category's step proposes a category from (and the description and the
// place are taken from): kept before the first question, which for an
// owner already known is the category's.
func (t *turn) startReportWith(words string) error { return t.startFlowWith(flowReport, words) }

// startFlowWith starts flow; words, when not "", are the owner's first
// words of a report (slot first_words).
func (t *turn) startFlowWith(flow, words string) error {
	if t.engineer() {
		return t.ownerFlowForEngineer()
	}
	t.reset()
	if words != "" {
		t.set("first_words", words)
	}
	if t.s.HandedOff {
		// Starting something ends the hand-off: the bot is in charge again.
		if err := t.endHandoff(); err != nil {
			return err
		}
	}
	t.s.Flow = flow
	if flow == flowVerify && t.verified() {
		t.reset()
		t.say("verify.already")
		return t.menu()
	}
	if flow == flowVerify && !t.e.cfg.Identity.SMSOn() && t.in.User.Platform != bot.Telegram {
		// Nothing here can prove a phone: staff can.
		t.reset()
		t.say("verify.unavailable")
		return t.menu()
	}
	t.say("intro." + flow)
	if flow != flowUrge && flow != flowVerify {
		t.set("intake_key", newIntakeKey()) // this report's key, against submitting it twice
	}
	if flow == flowUrge || flow == flowVerify {
		return t.goTo(flows[flow][0])
	}
	if !t.verified() {
		return t.goTo(identitySteps[0])
	}
	if err := t.useBoundUnit(); err != nil {
		return err
	}
	if t.slot("unit_id") == "" {
		return t.goTo("unit_pick")
	}
	return t.goTo(flows[flow][0])
}

// afterIdentity continues with the flow once the owner is known.
func (t *turn) afterIdentity() error {
	t.s.Back = nil
	return t.goTo(flows[t.s.Flow][0])
}

// expired tells a returning user that their unfinished dialogue timed out and
// offers to resume an unfinished report.
func (t *turn) expired() error {
	if t.s.Flow == flowReport && len(t.s.Slots) > 0 {
		t.say("expired_report")
		t.s.Back = nil
		t.set("resume_step", t.s.Step)
		t.s.Step = "resume"
		return promptResume(t)
	}
	t.reset()
	t.say("expired")
	return t.menu()
}

func promptResume(t *turn) error {
	t.ask(t.T("resume"), t.choice("choice.resume", "resume:yes"), t.choice("choice.restart", "resume:no"))
	return nil
}

func handleResume(t *turn, in input) error {
	switch in.payload {
	case "resume:yes":
		st := t.slot("resume_step")
		delete(t.s.Slots, "resume_step")
		if _, ok := steps[st]; !ok {
			st = flows[t.s.Flow][0]
		}
		t.s.Step = st
		return steps[st].prompt(t)
	case "resume:no":
		return t.startFlow(flowReport)
	}
	return again("pick_one")
}

// --- identity -------------------------------------------------------------

func promptName(t *turn) error {
	t.s.Choices = nil // the name is taken as typed, never as an option
	t.say("ask.name")
	return nil
}

func handleName(t *turn, in input) error {
	name := strings.TrimSpace(in.text)
	if in.payload != "" || !hasWords(name, 1) || len([]rune(name)) > 40 {
		return again("bad.name")
	}
	if err := casework.ValidateName("name", name); err != nil {
		return again("bad.name")
	}
	t.set("name", name)
	return t.next2("unit")
}

// next2 goes to the named identity step, or back to the summary when editing.
func (t *turn) next2(name string) error {
	if t.s.Editing {
		t.s.Editing = false
		return t.goTo("summary")
	}
	return t.goTo(name)
}

func promptUnit(t *turn) error {
	t.s.Choices = nil // the home's number is typed: "2" is no option
	t.say("ask.unit")
	return nil
}

func handleUnit(t *turn, in input) error {
	if strings.HasPrefix(in.payload, "unit:") {
		return t.pickUnit(strings.TrimPrefix(in.payload, "unit:"))
	}
	units, err := lifecycle.MatchUnits(t.ctx, t.e.cfg.Store, in.text)
	if err != nil {
		return err
	}
	switch len(units) {
	case 0:
		return again("bad.unit", "unit", truncateRunes(in.text, 40))
	case 1:
		return t.pickUnit(strconv.FormatInt(units[0].Unit.ID, 10))
	}
	if len(units) > 8 {
		return again("unit_too_many")
	}
	choices := make([]bot.Choice, 0, len(units))
	for _, u := range units {
		choices = append(choices, bot.Choice{Label: u.Label, Payload: "unit:" + strconv.FormatInt(u.Unit.ID, 10)})
	}
	t.ask(t.T("unit_ambiguous"), choices...)
	return nil
}

func (t *turn) pickUnit(idText string) error {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return again("pick_one")
	}
	u, err := t.e.cfg.Store.FindUnitByID(t.ctx, id)
	if errors.Is(err, casework.ErrNotFound) {
		return again("pick_one")
	}
	if err != nil {
		return fmt.Errorf("find unit: %w", err)
	}
	if err := t.setUnit(u); err != nil {
		return err
	}
	if t.verified() {
		// A proven owner picking the unit for this report.
		return t.afterUnitPick()
	}
	return t.next2("phone")
}

func (t *turn) setUnit(u *casework.Unit) error {
	p, err := t.e.cfg.Store.FindProjectByID(t.ctx, u.ProjectID)
	if err != nil {
		return fmt.Errorf("find project: %w", err)
	}
	t.set("unit_id", strconv.FormatInt(u.ID, 10))
	t.set("project_id", strconv.FormatInt(u.ProjectID, 10))
	t.set("building_id", strconv.FormatInt(u.BuildingID, 10))
	t.set("unit_label", p.Name+" "+u.Label())
	return nil
}

func promptPhone(t *turn) error {
	t.s.Choices = nil
	key := "ask.phone"
	switch {
	case t.s.Flow == flowVerify && !t.e.cfg.Identity.SMSOn():
		key = "ask.phone_verify_contact" // Telegram: the shared contact proves it
	case t.s.Flow == flowVerify:
		key = "ask.phone_verify"
	}
	t.out = append(t.out, bot.Outbound{To: t.in.User, Kind: bot.OutText, Text: t.T(key), RequestContact: true})
	return nil
}

func handlePhone(t *turn, in input) error {
	var phone string
	proven := false
	switch {
	case in.contact != nil:
		if !in.contact.Own {
			return again("bad.contact_not_own")
		}
		// Telegram vouches for the number of the user's own contact; no
		// other platform sends contacts. Some clients send it in
		// international form without its "+" (8613900000016).
		phone, proven = in.contact.Phone, t.in.User.Platform == bot.Telegram
		if digits := strings.TrimSpace(phone); !strings.HasPrefix(digits, "+") && len(digits) > 11 && strings.Trim(digits, "0123456789") == "" {
			phone = "+" + digits
		}
	default:
		phone = in.text
	}
	p, err := casework.NormalizePhone(phone)
	if err != nil {
		return again("bad.phone")
	}
	return t.phoneGiven(p, proven)
}

// useBoundUnit fills the name, phone and unit of a known owner: the unit the
// account was bound with, or the only one the owner holds; when the owner
// holds several and none was bound, unit_pick asks.
func (t *turn) useBoundUnit() error {
	owner, err := t.e.cfg.Store.FindOwnerByID(t.ctx, t.id.OwnerID)
	if err != nil {
		return fmt.Errorf("find owner: %w", err)
	}
	t.set("name", owner.Name)
	t.set("phone", owner.Phone)
	units, err := t.e.cfg.Store.OwnerUnits(t.ctx, owner.ID)
	if err != nil {
		return fmt.Errorf("owner units: %w", err)
	}
	for _, u := range units {
		if u.ID == t.id.UnitID || len(units) == 1 {
			return t.setUnit(u)
		}
	}
	return nil
}

func promptUnitPick(t *turn) error {
	units, err := t.e.cfg.Store.OwnerUnits(t.ctx, t.id.OwnerID)
	if err != nil {
		return fmt.Errorf("owner units: %w", err)
	}
	choices := make([]bot.Choice, 0, len(units)+1)
	for _, u := range units {
		choices = append(choices, bot.Choice{Label: u.Label(), Payload: "unit:" + strconv.FormatInt(u.ID, 10)})
	}
	choices = append(choices, t.choice("choice.other_unit", "unit:other"))
	t.ask(t.T("ask.unit_pick"), choices...)
	return nil
}

func handleUnitPick(t *turn, in input) error {
	if in.payload == "unit:other" {
		return t.goTo("unit")
	}
	if strings.HasPrefix(in.payload, "unit:") {
		return t.pickUnit(strings.TrimPrefix(in.payload, "unit:"))
	}
	return handleUnit(t, in)
}

func (t *turn) afterUnitPick() error {
	unitID, _ := strconv.ParseInt(t.slot("unit_id"), 10, 64)
	holders, err := t.e.cfg.Store.UnitOwners(t.ctx, unitID)
	if err != nil {
		return fmt.Errorf("unit owners: %w", err)
	}
	onRegister := false
	for _, o := range holders {
		onRegister = onRegister || o.ID == t.id.OwnerID
	}
	if !onRegister {
		// A proven owner reports for a unit they are not on the register
		// of: staff check it on the case; the register stays as it is.
		t.set("not_on_register", "1")
	}
	if t.s.Editing {
		t.s.Editing = false
		return t.goTo("summary")
	}
	return t.afterIdentity()
}

// --- handoff --------------------------------------------------------------

// A hand-off (转人工) is a record in the store (casework.Handoff): the
// owner's words during it go there, and on the case a person links to it,
// not to the bot. The bot says when a person will answer, acknowledges the
// owner's messages while nobody has taken the conversation — not more than
// once every Config.HandoffAckInterval —, and is otherwise quiet until the
// owner goes back to the menu or the person ends the hand-off.

// handoffs returns the store's hand-offs, or nil when it keeps none: then
// the owner is still told when a person answers, and their words are only
// logged.
func (t *turn) handoffs() casework.HandoffStore {
	hs, _ := t.e.cfg.Store.(casework.HandoffStore)
	return hs
}

// openHandoff returns the account's open hand-off, read once per turn; nil
// when there is none (a person ended it) or the store keeps none.
func (t *turn) openHandoff() (*casework.Handoff, error) {
	if t.handoffRead {
		return t.handoffNow, nil
	}
	hs := t.handoffs()
	if hs == nil {
		return nil, nil
	}
	h, err := hs.FindOpenHandoff(t.ctx, string(t.in.User.Platform), t.in.User.ID)
	switch {
	case errors.Is(err, casework.ErrNotFound):
		h = nil
	case err != nil:
		return nil, fmt.Errorf("find open hand-off: %w", err)
	}
	t.handoffRead, t.handoffNow = true, h
	return h, nil
}

// handoff hands the conversation to a person: the hand-off is opened (or
// the open one kept) and the owner told when a person answers.
func (t *turn) handoff() error {
	t.s.HandedOff = true
	t.s.Choices = nil
	if t.id.HandoffAt == nil {
		t.id.HandoffAt = &t.now
		if err := t.saveIdentity(); err != nil {
			return err
		}
	}
	hs := t.handoffs()
	if hs == nil {
		t.e.cfg.Logger.Warn("conversation handed to staff, but the store keeps no hand-offs", "platform", t.in.User.Platform)
		t.sayText(t.handoffWhen())
		return nil
	}
	h := &casework.Handoff{Platform: string(t.in.User.Platform), UserID: t.in.User.ID, DisplayName: t.id.DisplayName, Lang: string(t.s.Lang)}
	if t.verified() {
		h.OwnerID = t.id.OwnerID
	}
	created, err := hs.OpenHandoff(t.ctx, h)
	if err != nil {
		return fmt.Errorf("open hand-off: %w", err)
	}
	t.handoffRead, t.handoffNow = true, h
	switch {
	case created:
		t.e.cfg.Logger.Info("conversation handed to staff", "handoff_id", h.ID, "platform", t.in.User.Platform, "owner_id", h.OwnerID)
		if lc := t.e.cfg.Lifecycle; lc != nil {
			// Out of hours nobody watches the inbox: the supervisor on
			// duty is told in chat. The owner's turn goes on without it.
			if err := lc.HandoffArrived(t.ctx, h); err != nil {
				t.e.cfg.Logger.Error("the supervisors were not told of a hand-off", "handoff_id", h.ID, "error", err)
			}
		}
	case h.State == casework.HandoffTaken, t.toldRecently(h):
		return nil // asked again: a person has it, or the owner was told a moment ago
	}
	return t.botSays(h, t.handoffWhen())
}

// toldRecently reports whether the bot wrote to the owner of h less than
// Config.HandoffAckInterval ago.
func (t *turn) toldRecently(h *casework.Handoff) bool {
	return h.LastBotAt != nil && t.now.Sub(*h.LastBotAt) < t.e.cfg.HandoffAckInterval
}

// botSays tells the owner text and keeps it in hand-off h, so that the
// person who answers reads what the owner was told.
func (t *turn) botSays(h *casework.Handoff, text string) error {
	t.sayText(text)
	m := &casework.HandoffMessage{HandoffID: h.ID, From: casework.FromBot, Actor: casework.ActorBot, Text: text, At: t.now}
	nh, err := t.handoffs().AddHandoffMessage(t.ctx, m, casework.Effects{})
	if errors.Is(err, casework.ErrConflict) {
		return nil // a person ended it this instant; the owner was told
	}
	if err != nil {
		return fmt.Errorf("keep the bot's words in hand-off %d: %w", h.ID, err)
	}
	t.handoffNow = nh
	return nil
}

// handoffWhen says when a person answers: within minutes in the service
// hours; else at the next opening, and what to do in an emergency.
func (t *turn) handoffWhen() string {
	if t.serviceOpen() {
		return t.T("handoff.open")
	}
	return t.T("handoff.closed", "hours", t.serviceHours(), "next", t.nextOpening(), "urgent", t.urgentAdvice())
}

// handoffAck is the short acknowledgement of the owner's words while nobody
// has taken the conversation.
func (t *turn) handoffAck() string {
	if t.serviceOpen() {
		return t.T("handoff.ack")
	}
	return t.T("handoff.ack_closed", "next", t.nextOpening(), "urgent", t.urgentAdvice())
}

func (t *turn) serviceOpen() bool { return t.e.cfg.ServiceHours.IsOpen(t.now, t.e.cfg.Location) }

// serviceHours are the service hours as the owner reads them: "每天
// 08:30–18:00", "周一、周二… 09:00–17:30".
func (t *turn) serviceHours() string {
	h := t.e.cfg.ServiceHours
	open, close := h.Clock()
	if h.EveryDay() {
		return t.T("handoff.hours_every_day", "open", open, "close", close)
	}
	var days []string
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if h.OnDay(d) {
			days = append(days, t.T("weekday."+strconv.Itoa(int(d))))
		}
	}
	return t.T("handoff.hours_days", "days", strings.Join(days, t.T("list_sep")), "open", open, "close", close)
}

// nextOpening says when people answer next: "今天 08:30", "明天 08:30",
// "周一 09:00".
func (t *turn) nextOpening() string {
	loc := t.e.cfg.Location
	next := t.e.cfg.ServiceHours.NextOpening(t.now, loc).In(loc)
	now := t.now.In(loc)
	at := next.Format("15:04")
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	switch day := time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, loc); {
	case day.Equal(today):
		return t.T("handoff.next_today", "time", at)
	case day.Equal(today.AddDate(0, 0, 1)):
		return t.T("handoff.next_tomorrow", "time", at)
	}
	return t.T("handoff.next_day", "weekday", t.T("weekday."+strconv.Itoa(int(next.Weekday()))), "time", at)
}

// urgentAdvice says what to do in an emergency out of hours: call the
// hotline, or report it here, which is handled around the clock.
func (t *turn) urgentAdvice() string {
	if t.e.cfg.Hotline != "" {
		return t.T("handoff.urgent_hotline", "hotline", t.e.cfg.Hotline)
	}
	return t.T("handoff.urgent_report")
}

// endHandoff gives the conversation back to the bot: the open hand-off
// ends by the owner's going back to the menu (or starting something), and
// the account's mark is cleared.
func (t *turn) endHandoff() error {
	t.s.HandedOff = false
	h, err := t.openHandoff()
	if err != nil {
		return err
	}
	if h != nil {
		if _, _, err := t.handoffs().EndHandoff(t.ctx, h.ID, t.who().Actor(), t.now, nil, casework.Effects{}); err != nil {
			return fmt.Errorf("end hand-off %d: %w", h.ID, err)
		}
		t.handoffNow = nil
		t.e.cfg.Logger.Info("owner went back to the bot", "handoff_id", h.ID, "platform", t.in.User.Platform)
	}
	if t.id.HandoffAt == nil {
		return nil
	}
	t.id.HandoffAt = nil
	return t.saveIdentity()
}

// handoffTaken reports whether a person has taken the open hand-off: then
// the owner's words, even those that are commands to the bot (报修, 进度,
// 人工…), are for the person; only 菜单 and 取消 give the owner back to the
// bot. While it waits, the owner may still turn to the bot.
func (t *turn) handoffTaken() (bool, error) {
	if !t.s.HandedOff {
		return false, nil
	}
	h, err := t.openHandoff()
	return h != nil && h.State == casework.HandoffTaken, err
}

// whileHandedOff handles a message while the conversation is handed off:
// the owner's words go on the hand-off (and on its case), acknowledged
// while nobody has taken it; a menu button gives the owner back to the bot.
// It reports false when the hand-off was ended by a person meanwhile: the
// bot is in charge again and handles the message as it would any other.
func (t *turn) whileHandedOff(in input) (bool, error) {
	h, err := t.openHandoff()
	if err != nil {
		return true, err
	}
	if h == nil && t.handoffs() != nil {
		// A person ended it: the bot is back, at the start.
		t.reset()
		return false, t.endHandoff()
	}
	if cmd, ok := strings.CutPrefix(in.payload, "menu:"); ok && t.in.Kind == bot.KindButton {
		if cmd == "human" {
			return true, t.handoff()
		}
		return true, t.command(cmd, "")
	}
	text := in.text
	if t.in.Kind == bot.KindButton {
		text = "" // an old button: nothing the owner wrote
	}
	var blob string
	if in.media != nil {
		blob = in.media.BlobKey
	}
	if h == nil {
		if text != "" || blob != "" {
			t.e.cfg.Logger.Warn("owner wrote during a hand-off the store does not keep", "platform", t.in.User.Platform)
		}
		return true, nil
	}
	if text != "" || blob != "" {
		m := &casework.HandoffMessage{HandoffID: h.ID, From: casework.FromOwner, Actor: t.who().Actor(),
			Text: truncateRunes(text, casework.MaxHandoffText), BlobKey: blob, At: t.now}
		nh, err := t.handoffs().AddHandoffMessage(t.ctx, m, casework.Effects{})
		if errors.Is(err, casework.ErrConflict) {
			// A person ended it this instant: the bot takes the words.
			t.handoffRead, t.handoffNow = true, nil
			t.reset()
			return false, t.endHandoff()
		}
		if err != nil {
			return true, fmt.Errorf("add the owner's words to hand-off %d: %w", h.ID, err)
		}
		h, t.handoffNow = nh, nh
	}
	if h.State == casework.HandoffWaiting && !t.toldRecently(h) {
		return true, t.botSays(h, t.handoffAck())
	}
	return true, nil
}

// openStates are the states in which a case still needs work.
var openStates = []casework.State{
	casework.StateRegistered, casework.StateAccepted, casework.StateDispatched, casework.StateScheduled,
	casework.StateInspected, casework.StatePlanProposed, casework.StatePlanAgreed, casework.StateInProgress,
	casework.StateDone, casework.StateReopened, casework.StateOnHold,
}
