package conversation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
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
	head := t.T("menu")
	if t.in.User.Platform == bot.WeChat {
		head = t.T("menu_numbered") // WeChat shows options as numbers, not buttons
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
		if in.payload == "retry" {
			return t.menu()
		}
	}
	if number, ok := caseNumberIn(in.text); ok {
		return t.caseDetail(number)
	}
	if in.media != nil || hasWords(in.text, 4) && t.soundsLikeAProblem(in.text) {
		// Someone who starts by describing a problem wants to report it.
		if err := t.startFlow(flowReport); err != nil {
			return err
		}
		if in.media != nil {
			return t.acceptMedia(in.media, false)
		}
		t.set("first_words", truncateRunes(in.text, 2000))
		return nil
	}
	t.say("greeting")
	return t.menu()
}

// soundsLikeAProblem reports whether free text names a building problem or
// an urgent situation, so that it starts a report rather than the menu.
func (t *turn) soundsLikeAProblem(text string) bool {
	if t.e.cfg.Classifier == nil {
		return false
	}
	r := t.e.cfg.Classifier.Classify(text)
	switch {
	case r.Urgency == casework.UrgencyUrgent:
		return true
	case r.Confidence == 0:
		return false
	}
	return r.Category == casework.CategoryEngineeringQuality || r.Category == casework.CategoryFacilitiesEquipment || r.Category == casework.CategoryDesignDefect
}

func (t *turn) startFlow(flow string) error {
	t.reset()
	if t.s.HandedOff {
		// Starting something ends the hand-off: the bot is in charge again.
		t.s.HandedOff = false
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

func (t *turn) handoff() error {
	t.s.HandedOff = true
	t.s.Choices = nil
	t.id.HandoffAt = &t.now
	if err := t.saveIdentity(); err != nil {
		return err
	}
	t.e.cfg.Logger.Info("conversation handed to staff", "platform", t.in.User.Platform, "owner_id", t.id.OwnerID)
	t.say("handoff")
	return nil
}

func (t *turn) endHandoff() error {
	if t.id.HandoffAt == nil {
		return nil
	}
	t.id.HandoffAt = nil
	return t.saveIdentity()
}

// whileHandedOff keeps the bot quiet while staff have the conversation; the
// owner's words go on the timeline of their latest open case so that staff
// see them, or are kept in the session until staff read them.
func (t *turn) whileHandedOff(in input) error {
	note := in.text
	if in.media != nil && in.media.BlobKey != "" {
		note = strings.TrimSpace(note + " [" + in.media.BlobKey + "]")
	}
	if note == "" {
		return nil
	}
	// The latest open case the account may see: a proven owner's, or one it
	// reported itself.
	cases, err := t.ownerCases(openStates, 1)
	if err != nil {
		return err
	}
	if len(cases) == 1 {
		return t.e.cfg.Store.AddCaseEvent(t.ctx, &casework.Event{CaseID: cases[0].ID, At: t.now, Actor: t.who().Actor(), Kind: casework.EventNote, Note: truncateRunes("业主留言 owner wrote: "+note, 2000)})
	}
	const keep = 50
	inbox := t.slot("inbox")
	if strings.Count(inbox, "\n") < keep {
		t.set("inbox", inbox+t.now.Format(time.RFC3339)+" "+truncateRunes(note, 500)+"\n")
	}
	return nil
}

// openStates are the states in which a case still needs work.
var openStates = []casework.State{
	casework.StateRegistered, casework.StateAccepted, casework.StateDispatched, casework.StateScheduled,
	casework.StateInspected, casework.StatePlanProposed, casework.StatePlanAgreed, casework.StateInProgress,
	casework.StateDone, casework.StateReopened, casework.StateOnHold,
}
