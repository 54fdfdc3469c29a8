package conversation

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

// problemChoices are the report flow's category buttons: the problems owners
// name most, each a category and subcategory.
var problemChoices = []struct{ key, payload string }{
	{"problem.leak", "cat:engineering_quality/leak"},
	{"problem.crack", "cat:engineering_quality/crack"},
	{"problem.door_window", "cat:engineering_quality/door_window"},
	{"problem.plumbing", "cat:engineering_quality/plumbing"},
	{"problem.electrical", "cat:engineering_quality/electrical"},
	{"problem.decoration", "cat:engineering_quality/decoration"},
	{"problem.facilities", "cat:facilities_equipment/other"},
	{"problem.design", "cat:design_defect/other"},
	{"problem.other", "cat:engineering_quality/other"},
}

func promptCategory(t *turn) error {
	if w := t.slot("first_words"); w != "" && t.slot("category") == "" && !t.s.Editing {
		return t.propose(w)
	}
	choices := make([]bot.Choice, len(problemChoices))
	for i, c := range problemChoices {
		choices[i] = t.choice(c.key, c.payload)
	}
	t.ask(t.T("ask.category"), choices...)
	return nil
}

func handleCategory(t *turn, in input) error {
	if strings.HasPrefix(in.payload, "cat:") {
		return t.setCategory(strings.TrimPrefix(in.payload, "cat:"))
	}
	if !hasWords(in.text, 2) {
		return again("pick_one")
	}
	return t.propose(in.text)
}

// propose classifies the owner's own words and asks them to confirm.
func (t *turn) propose(text string) error {
	if t.e.cfg.Classifier == nil {
		return again("pick_one")
	}
	r := t.e.cfg.Classifier.Classify(text)
	if r.Unsure() || (r.Category != casework.CategoryEngineeringQuality && r.Category != casework.CategoryFacilitiesEquipment && r.Category != casework.CategoryDesignDefect) {
		delete(t.s.Slots, "first_words")
		t.say("category_unsure")
		choices := make([]bot.Choice, len(problemChoices))
		for i, c := range problemChoices {
			choices[i] = t.choice(c.key, c.payload)
		}
		t.ask(t.T("ask.category"), choices...)
		t.s.Step = "category"
		return nil
	}
	t.set("proposed", string(r.Category)+"/"+string(r.Subcategory))
	if t.slot("description") == "" && hasWords(text, 4) {
		t.set("description_hint", text)
	}
	if t.s.Step != "category_ok" {
		t.s.Back = append(t.s.Back, t.s.Step)
	}
	t.s.Step = "category_ok"
	return promptCategoryOK(t)
}

func promptCategoryOK(t *turn) error {
	cat, sub, _ := strings.Cut(t.slot("proposed"), "/")
	t.ask(t.T("category_proposed", "category", t.T("category."+cat), "subcategory", t.T("sub."+sub)),
		t.choice("choice.yes", "yes"), t.choice("choice.choose_myself", "no"))
	return nil
}

func handleCategoryOK(t *turn, in input) error {
	switch in.payload {
	case "yes":
		if h := t.slot("description_hint"); h != "" {
			t.set("description", h)
		}
		delete(t.s.Slots, "description_hint")
		delete(t.s.Slots, "first_words")
		return t.setCategory(t.slot("proposed"))
	case "no":
		delete(t.s.Slots, "description_hint")
		delete(t.s.Slots, "first_words")
		t.s.Step = "category"
		return promptCategory(t)
	}
	return again("pick_one")
}

func (t *turn) setCategory(v string) error {
	cat, sub, _ := strings.Cut(v, "/")
	c, s := casework.Category(cat), casework.Subcategory(sub)
	if !c.Valid() || !s.Valid(c) {
		return again("pick_one")
	}
	t.set("category", cat)
	t.set("subcategory", sub)
	t.s.Step = "category"
	return t.next()
}

// commonFacilities are the facilities (设施设备) found mostly in the
// common areas — fire systems, intercoms, the others — whose location is
// asked with the common area first, not as a place in the home.
var commonFacilities = []casework.Subcategory{casework.SubFire, casework.SubIntercom, casework.SubOther}

// facilityLocations are the locations in the order a common facility's
// question offers them: where such facilities are first.
var facilityLocations = []casework.Location{casework.LocationPublicArea, casework.LocationExterior,
	casework.LocationLivingRoom, casework.LocationBedroom, casework.LocationKitchen, casework.LocationBathroom, casework.LocationBalcony, casework.LocationOther}

func promptLocation(t *turn) error {
	key, locs := "ask.location", casework.Locations
	if t.slot("category") == string(casework.CategoryFacilitiesEquipment) && slices.Contains(commonFacilities, casework.Subcategory(t.slot("subcategory"))) {
		key, locs = "ask.location_facility", facilityLocations
	}
	choices := make([]bot.Choice, len(locs))
	for i, l := range locs {
		choices[i] = t.choice("location."+string(l), "loc:"+string(l))
	}
	t.ask(t.T(key), choices...)
	return nil
}

// knownLocation returns the location the report already tells without
// asking, and true: a lift is in the common area (lifts serve the
// building), and words the owner began with that name one place ("卫生间
// 天花板漏水", "the kitchen sink leaks") name it. Words that name no place,
// or several ("楼上卫生间漏到我家客厅"), leave the question to be asked.
func (t *turn) knownLocation() (casework.Location, bool) {
	if t.slot("subcategory") == string(casework.SubLift) {
		return casework.LocationPublicArea, true
	}
	return locationIn(t.slot("description"))
}

// locationIn returns the one location that text names (locationWords), and
// true; false when it names none or more than one.
func locationIn(text string) (casework.Location, bool) {
	lower := strings.ToLower(text)
	var found []casework.Location
	for _, lw := range locationWords {
		for _, w := range lw.words {
			if strings.Contains(lower, w) {
				found = append(found, lw.loc)
				break
			}
		}
	}
	if len(found) != 1 {
		return "", false
	}
	return found[0], true
}

// locationWords maps what owners write to a location.
var locationWords = []struct {
	loc   casework.Location
	words []string
}{
	{casework.LocationBathroom, []string{"卫生间", "厕所", "洗手间", "浴室", "淋浴", "马桶", "bathroom", "toilet", "shower", "washroom"}},
	{casework.LocationKitchen, []string{"厨房", "kitchen"}},
	{casework.LocationBedroom, []string{"卧室", "主卧", "次卧", "儿童房", "房间", "bedroom"}},
	{casework.LocationLivingRoom, []string{"客厅", "餐厅", "living room", "lounge", "dining"}},
	{casework.LocationBalcony, []string{"阳台", "露台", "balcony", "terrace"}},
	{casework.LocationPublicArea, []string{"楼道", "电梯", "走廊", "车库", "大堂", "地下室", "小区", "corridor", "hallway", "lobby", "garage", "car park", "stair", "lift", "elevator"}},
	{casework.LocationExterior, []string{"外墙", "屋顶", "屋面", "顶楼", "exterior", "outside wall", "roof"}},
}

func handleLocation(t *turn, in input) error {
	if strings.HasPrefix(in.payload, "loc:") {
		l := casework.Location(strings.TrimPrefix(in.payload, "loc:"))
		if !l.Valid() {
			return again("pick_one")
		}
		t.set("location", string(l))
		t.set("location_detail", "")
		return t.next()
	}
	if !hasWords(in.text, 1) {
		return again("pick_one")
	}
	lower := strings.ToLower(in.text)
	loc := casework.LocationOther
	for _, lw := range locationWords {
		for _, w := range lw.words {
			if strings.Contains(lower, w) {
				loc = lw.loc
				break
			}
		}
		if loc != casework.LocationOther {
			break
		}
	}
	t.set("location", string(loc))
	t.set("location_detail", truncateRunes(in.text, 200))
	return t.next()
}

func promptDescription(t *turn) error {
	t.s.Choices = nil
	t.say("ask.description")
	return nil
}

func handleDescription(t *turn, in input) error {
	if in.payload != "" || !hasWords(in.text, 4) {
		return again("bad.description")
	}
	t.set("description", in.text)
	return t.next()
}

func promptOccurred(t *turn) error {
	t.ask(t.T("ask.occurred"),
		t.choice("occurred.today", "occ:today"),
		t.choice("occurred.week", "occ:week"),
		t.choice("occurred.earlier", "occ:earlier"),
		t.choice("occurred.date", "occ:date"))
	return nil
}

// dateExample fills the date prompts' {date} and {md} with a day a week
// before today, written as an owner may type it: 2026-11-20, and 11月20日
// or 11/20.
func dateExample(lang Lang, today time.Time) []string {
	d := today.AddDate(0, 0, -7)
	md := fmt.Sprintf("%d月%d日", d.Month(), d.Day())
	if lang == English {
		md = fmt.Sprintf("%d/%d", d.Month(), d.Day())
	}
	return []string{"date", d.Format("2006-01-02"), "md", md}
}

func handleOccurred(t *turn, in input) error {
	today := t.now.In(t.e.cfg.Location)
	switch in.payload {
	case "occ:today":
		t.set("occurred_at", today.Format("2006-01-02"))
		t.set("occurred_text", t.T("occurred.today"))
		return t.next()
	case "occ:week":
		t.set("occurred_at", "")
		t.set("occurred_text", t.T("occurred.week"))
		return t.next()
	case "occ:earlier":
		t.set("occurred_at", "")
		t.set("occurred_text", t.T("occurred.earlier"))
		return t.next()
	case "occ:date":
		t.s.Choices = nil
		t.say("ask.date", dateExample(t.s.Lang, today)...)
		return nil
	}
	at, words, err := casework.ParseOccurred(in.text, today)
	switch {
	case errors.Is(err, casework.ErrOccurredFuture):
		return again("bad.future_date")
	case err != nil:
		return again("bad.date", dateExample(t.s.Lang, today)...)
	case at != nil:
		t.set("occurred_at", at.Format("2006-01-02"))
	default:
		t.set("occurred_at", "")
	}
	t.set("occurred_text", words)
	return t.next()
}

func promptMedia(t *turn) error {
	key := "ask.media"
	if len(t.s.Media) > 0 {
		key = "ask.media_more"
	}
	t.ask(t.T(key, "n", strconv.Itoa(len(t.s.Media))), t.choice("choice.media_done", "media:done"), t.choice("choice.media_skip", "media:skip"))
	return nil
}

func handleMedia(t *turn, in input) error {
	if in.media != nil {
		return t.acceptMedia(in.media, true)
	}
	switch in.payload {
	case "media:done", "media:skip":
		return t.next()
	}
	return again("bad.media_expected")
}

// acceptMedia attaches a stored photo, video, voice message or document to
// the report, or explains why it could not be kept.
func (t *turn) acceptMedia(m *bot.Media, atStep bool) error {
	switch {
	case m.Err != nil:
		t.say(mediaErrorKey(m.Err), "max", strconv.Itoa(bot.MaxMediaMB))
	case m.BlobKey == "":
		t.say("bad.media_unavailable")
	case len(t.s.Media) >= t.e.cfg.MaxMedia:
		t.say("media_full", "max", strconv.Itoa(t.e.cfg.MaxMedia))
	default:
		t.s.Media = append(t.s.Media, *m)
		if !atStep {
			t.say("media_kept", "n", strconv.Itoa(len(t.s.Media)))
			return nil
		}
	}
	if atStep {
		return promptMedia(t)
	}
	return nil
}

func mediaErrorKey(err error) string {
	switch {
	case errors.Is(err, bot.ErrMediaTooLarge):
		return "bad.media_too_large"
	case errors.Is(err, bot.ErrMediaType):
		return "bad.media_type"
	}
	return "bad.media_unavailable"
}

// pickOrType is a step whose answer is one of a few offered options or the
// owner's own words (at most max characters): the expected resolution, the
// preferred contact time. Option o is offered with the label keyPrefix+"."+o
// and payload payloadPrefix+":"+o, and stored as its label.
func pickOrType(slot, ask, keyPrefix, payloadPrefix string, max int, options ...string) step {
	return step{
		prompt: func(t *turn) error {
			choices := make([]bot.Choice, len(options))
			for i, o := range options {
				choices[i] = t.choice(keyPrefix+"."+o, payloadPrefix+":"+o)
			}
			t.ask(t.T(ask), choices...)
			return nil
		},
		handle: func(t *turn, in input) error {
			if o, ok := strings.CutPrefix(in.payload, payloadPrefix+":"); ok && slices.Contains(options, o) {
				t.set(slot, t.T(keyPrefix+"."+o))
				return t.next()
			}
			if in.payload != "" || !hasWords(in.text, 2) {
				return again("pick_one")
			}
			t.set(slot, truncateRunes(in.text, max))
			return t.next()
		},
	}
}

// --- the short flows -------------------------------------------------------

func promptMessage(t *turn) error {
	t.s.Choices = nil
	t.say("ask.message." + t.s.Flow)
	return nil
}

func handleMessage(t *turn, in input) error {
	if in.payload != "" || !hasWords(in.text, 4) {
		return again("bad.description")
	}
	t.set("description", in.text)
	return t.next()
}

// --- summary, edit, submit --------------------------------------------------

// promptSummary reads the answers back (复述确认) in one message and asks
// whether they are right in the next, with the options: an owner answers
// the question, not the list.
func promptSummary(t *turn) error {
	var b strings.Builder
	b.WriteString(t.T("summary.head." + t.s.Flow))
	line := func(key, value string) {
		if value != "" {
			b.WriteString(t.field(key, value))
		}
	}
	line("field.name", t.slot("name"))
	line("field.unit", t.slot("unit_label"))
	line("field.phone", t.slot("phone"))
	if t.s.Flow == flowReport {
		line("field.category", t.T("category."+t.slot("category"))+" · "+t.T("sub."+t.slot("subcategory")))
		loc := t.T("location." + t.slot("location"))
		if d := t.slot("location_detail"); d != "" {
			loc += "（" + d + "）"
		}
		line("field.location", loc)
	}
	line("field.description", t.slot("description"))
	if t.s.Flow == flowReport {
		line("field.occurred", t.slot("occurred_text"))
		line("field.media", t.T("media_count", "n", strconv.Itoa(len(t.s.Media))))
		line("field.expectation", t.slot("expectation"))
		line("field.contact_time", t.slot("contact_time"))
	}
	// One message, one question: what was noted, then whether it is right.
	t.sayText(b.String())
	t.ask(t.T("summary.confirm"), t.choice("choice.submit", "sum:submit"), t.choice("choice.edit", "sum:edit"), t.choice("choice.cancel", "sum:cancel"))
	return nil
}

func handleSummary(t *turn, in input) error {
	switch in.payload {
	case "sum:submit":
		return t.submit()
	case "sum:edit":
		return t.goTo("edit")
	case "sum:cancel":
		return t.command("cancel", "")
	}
	return again("pick_one")
}

// editable lists, per flow, the fields the owner can change from the summary.
var editable = map[string][]string{
	flowReport: {"name", "unit", "phone", "category", "location", "description", "occurred", "media", "expectation", "contact_time"},
	"short":    {"name", "unit", "phone", "message"},
}

func editFields(flow string) []string {
	if f, ok := editable[flow]; ok {
		return f
	}
	return editable["short"]
}

func promptEdit(t *turn) error {
	fields := editFields(t.s.Flow)
	choices := make([]bot.Choice, 0, len(fields))
	for _, f := range fields {
		key := "field." + f
		if f == "message" {
			key = "field.description"
		}
		choices = append(choices, t.choice(key, "edit:"+f))
	}
	t.ask(t.T("ask.edit"), choices...)
	return nil
}

func handleEdit(t *turn, in input) error {
	f, ok := strings.CutPrefix(in.payload, "edit:")
	if !ok {
		return again("pick_one")
	}
	for _, allowed := range editFields(t.s.Flow) {
		if f != allowed {
			continue
		}
		t.s.Editing = true
		switch f {
		case "unit":
			if t.verified() {
				return t.goTo("unit_pick")
			}
		case "category":
			delete(t.s.Slots, "first_words")
		case "media":
			t.s.Media = nil
		}
		return t.goTo(f)
	}
	return again("pick_one")
}

// submit registers the case and tells the owner its number, the first
// judgment, what happens next and by when.
func (t *turn) submit() error {
	ctx, st := t.ctx, t.e.cfg.Store
	c, err := t.caseFromSlots()
	if err != nil {
		return err
	}
	judgment, err := t.e.registrar().Judge(ctx, c)
	if err != nil {
		return fmt.Errorf("first judgment: %w", err)
	}
	note := judgment.Note(c)
	c.ReporterPlatform, c.ReporterUserID = string(t.in.User.Platform), t.in.User.ID
	if t.slot("intake_key") == "" {
		t.set("intake_key", newIntakeKey()) // a dialogue begun before reports had keys
	}
	c.IntakeKey = t.in.User.Key() + ":" + t.slot("intake_key")
	if over, err := t.overCaseLimit(); err != nil || over {
		return err
	}
	for _, m := range t.s.Media {
		// Stored with the case, in its transaction.
		c.Media = append(c.Media, lifecycle.MediaRefOf(m))
	}
	resubmitted := false
	var dup *casework.DuplicateIntakeError
	switch err := t.register(c); {
	case errors.As(err, &dup):
		// The same report submitted again: a retry of a message whose
		// answer was lost in a crash after the case was committed. The
		// case registered first is the answer, finished where it stopped.
		first, err := st.FindCaseByID(ctx, dup.ID)
		if err != nil {
			return fmt.Errorf("find the case registered first: %w", err)
		}
		c, resubmitted = first, true
		t.e.cfg.Logger.Info("report submitted again: answered with the case registered first", "case_id", c.ID, "case_number", c.Number, "platform", t.in.User.Platform)
	case err != nil:
		var ve *casework.ValidationError
		if errors.As(err, &ve) {
			t.e.cfg.Logger.Warn("case refused", "field", ve.Field, "platform", t.in.User.Platform)
			return again("bad.case", "field", t.T("field."+ve.Field))
		}
		return fmt.Errorf("create case: %w", err)
	}
	if err := t.recordJudgment(c, note, resubmitted); err != nil {
		return err
	}
	// What the triage did: sent the work order, or left the case to staff
	// (no engineer is on the way yet). Without a lifecycle, neither is known.
	sent, waits := false, false
	if lc := t.e.cfg.Lifecycle; lc != nil && c.State == casework.StateRegistered {
		waits = true
		if triaged, err := lc.Triage(ctx, c); err != nil {
			// The case is registered and the owner has its number; staff
			// see it waiting in the registered list.
			t.e.cfg.Logger.Error("triage failed", "case_id", c.ID, "error", err)
		} else {
			waits = triaged.State == casework.StateRegistered
			sent = !waits
		}
	}
	text := t.judgmentText(c, judgment.Warranty, sent, waits)
	if !resubmitted {
		t.e.cfg.Logger.Info("case registered", "case_id", c.ID, "case_number", c.Number, "category", c.Category, "urgency", c.Urgency, "platform", t.in.User.Platform)
	}
	flow := t.s.Flow
	t.reset()
	t.s.HasCase = true
	t.say("submitted."+flow, "number", c.Number)
	if !c.IdentityVerified {
		t.say("submitted.unverified")
	}
	if c.Urgency == casework.UrgencyUrgent {
		t.sayText(t.safetyAdvice(judgment.Signals, c.Subcategory, c.Description, "urgent.duty"))
	}
	if flow == flowReport || flow == flowComplaint || flow == flowConsult {
		t.sayText(text)
	}
	return nil
}

// overCaseLimit tells whether this account, or the chat page's address it
// writes from, registered as many cases as it may for now; then the owner is
// told, and the report stays at the read-back to be sent later. A limiter
// that fails lets the case through.
func (t *turn) overCaseLimit() (bool, error) {
	for _, l := range []struct {
		lim bot.Limiter
		key string
	}{{t.e.cfg.CaseLimit, t.in.User.Key()}, {t.e.cfg.IPCaseLimit, t.in.ClientIP}} {
		if l.lim == nil || l.key == "" {
			continue
		}
		ok, _, err := l.lim.Allow(t.ctx, l.key, t.now)
		if err != nil {
			t.e.cfg.Logger.Warn("case limit unavailable; the case is registered", "error", err)
			continue
		}
		if !ok {
			t.e.cfg.Logger.Warn("case over the limit", "platform", t.in.User.Platform, "by_address", l.key == t.in.ClientIP)
			t.ask(t.T("too_many_cases"), t.choice("choice.human", "menu:human"), t.choice("choice.menu", "menu:menu"))
			return true, nil
		}
	}
	return false, nil
}

// recordJudgment puts the first judgment on the case's timeline, unless a
// case submitted again has it already.
func (t *turn) recordJudgment(c *casework.Case, note string, resubmitted bool) error {
	st := t.e.cfg.Store
	if resubmitted {
		events, err := st.ListCaseEvents(t.ctx, c.ID)
		if err != nil {
			return fmt.Errorf("case events: %w", err)
		}
		for _, e := range events {
			if e.Kind == casework.EventNote && e.Actor == casework.ActorBot && strings.HasPrefix(e.Note, lifecycle.JudgmentPrefix) {
				return nil
			}
		}
	}
	if err := st.AddCaseEvent(t.ctx, &casework.Event{CaseID: c.ID, At: t.now, Actor: casework.ActorBot, Kind: casework.EventNote, Note: note}); err != nil {
		return fmt.Errorf("record first judgment: %w", err)
	}
	return nil
}

// newIntakeKey draws the key of one report of a dialogue (Case.IntakeKey).
func newIntakeKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return hex.EncodeToString(b)
}

// register stores the new case. With the lifecycle on, its service-level
// timers are set in the same transaction, so that a case is never without
// them — not even when the triage that follows fails.
func (t *turn) register(c *casework.Case) error {
	st := t.e.cfg.Store
	if ls, ok := st.(casework.LifecycleStore); ok && t.e.cfg.Lifecycle != nil {
		return ls.CreateCaseWith(t.ctx, c, casework.Effects{Timers: lifecycle.DeadlineTimers(c)})
	}
	return st.CreateCase(t.ctx, c)
}

// caseFromSlots builds the registration form from the answers, with the
// category of the flow: the first judgment completes it (Registrar.Judge).
func (t *turn) caseFromSlots() (*casework.Case, error) {
	id := func(k string) int64 { v, _ := strconv.ParseInt(t.slot(k), 10, 64); return v }
	c := &casework.Case{
		ProjectID: id("project_id"), BuildingID: id("building_id"), UnitID: id("unit_id"), OwnerID: t.id.OwnerID,
		OwnerName: t.slot("name"), OwnerPhone: t.slot("phone"),
		Description: t.slot("description"), Expectation: t.slot("expectation"), ContactTime: t.slot("contact_time"),
		OccurredText: t.slot("occurred_text"), LocationDetail: t.slot("location_detail"),
		Location:   casework.Location(t.slot("location")),
		Channel:    channelOf(t.in.User.Platform),
		ReceivedAt: t.now, ReceivedBy: casework.ActorBot,
	}
	if d := t.slot("occurred_at"); d != "" {
		if at, err := time.ParseInLocation("2006-01-02", d, t.e.cfg.Location); err == nil {
			c.OccurredAt = &at
		}
	}
	switch t.s.Flow {
	case flowReport:
		c.Category, c.Subcategory = casework.Category(t.slot("category")), casework.Subcategory(t.slot("subcategory"))
	case flowConsult:
		c.Category = casework.CategoryPolicyConsultation
	case flowComplaint:
		c.Category = casework.CategoryServiceAttitude
	case flowSuggestion:
		c.Category, c.Subcategory = casework.CategoryOther, casework.SubSuggestion
	case flowPraise:
		c.Category, c.Subcategory = casework.CategoryOther, casework.SubPraise
	default:
		return nil, fmt.Errorf("submit from flow %q", t.s.Flow)
	}
	c.IdentityVerified = t.verified()
	switch {
	case !c.IdentityVerified:
		c.DecisionReason = "身份未验证：报修人未验证业主登记的手机号，姓名和电话为其自报，请核实 / identity not verified: the reporter did not prove the phone on record; name and phone are as typed"
	case t.slot("not_on_register") != "":
		c.DecisionReason = "联系人不在该房号的业主登记名册中，请核实身份 / caller is not on the unit's owner register"
	}
	return c, nil
}

// registrar forms the first judgment of the cases the dialogue registers,
// as staff's registration does (lifecycle.Service.Register).
func (e *Engine) registrar() lifecycle.Registrar {
	return lifecycle.Registrar{Store: e.cfg.Store, Classifier: e.cfg.Classifier, SLA: e.cfg.SLA, Warranty: e.cfg.Warranty, Location: e.cfg.Location}
}

func channelOf(p bot.Platform) casework.Channel {
	switch p {
	case bot.Telegram:
		return casework.ChannelTelegram
	case bot.WeChat:
		return casework.ChannelWeChat
	}
	return casework.ChannelWeb
}

// judgmentText tells the owner the first judgment (初步判断) of the case
// registered: category, urgency, warranty status w, and the service-level
// time points. A case that waits for staff promises no engineer's visit,
// which nobody has arranged yet: staff contact the owner by the response
// time. An urgent case sent at once whatever its warranty says that the
// cost is settled after. sent and waits say what the triage did; neither
// when the engine has no lifecycle.
func (t *turn) judgmentText(c *casework.Case, w casework.WarrantyResult, sent, waits bool) string {
	loc := t.e.cfg.Location
	var b strings.Builder
	b.WriteString(t.T("judgment.head"))
	b.WriteString(t.field("field.category", t.T("category."+string(c.Category))+" · "+t.T("sub."+string(c.Subcategory))))
	b.WriteString(t.field("field.urgency", t.T("urgency."+string(c.Urgency))))
	if w.Status != casework.WarrantyNone {
		b.WriteString(t.field("field.warranty", t.T("warranty."+string(w.Status), "until", w.Until.String())))
	}
	when := func(tp *time.Time) string { return tp.In(loc).Format("2006-01-02 15:04") }
	b.WriteString("\n\n")
	b.WriteString(t.T("next.head"))
	if c.RespondBy != nil {
		fmt.Fprintf(&b, "\n· %s", t.T("next.respond", "at", when(c.RespondBy)))
	}
	if c.OnSiteBy != nil && !waits {
		key := "next.on_site"
		if c.Urgency == casework.UrgencyUrgent {
			key = "next.on_site_urgent"
		}
		fmt.Fprintf(&b, "\n· %s", t.T(key, "at", when(c.OnSiteBy)))
	}
	if c.ResolveBy != nil {
		fmt.Fprintf(&b, "\n· %s", t.T("next.resolve", "at", when(c.ResolveBy)))
	}
	switch {
	case lifecycle.WarrantyPending(c) && sent:
		fmt.Fprintf(&b, "\n\n%s", t.T("warranty_pending_note"))
	case w.Status == casework.WarrantyOut:
		fmt.Fprintf(&b, "\n\n%s", t.T("out_of_warranty_note"))
	}
	return b.String()
}

// safetyAdvice tells the owner of an urgent case what to do now, ending
// with the catalogue's tail: what happens next. The advice fits the owner's
// words: water that comes from the flat above (楼上漏下来) is not stopped by
// closing one's own main valve, so they are told to have the flat above and
// the property management shut it off instead.
func (t *turn) safetyAdvice(signals []string, sub casework.Subcategory, words, tail string) string {
	water, sewage := "advice.water", "advice.sewage"
	if fromAbove(words) {
		water, sewage = "advice.water_above", "advice.sewage_above"
	}
	var b strings.Builder
	b.WriteString(t.T("urgent.head"))
	seen := map[string]bool{}
	add := func(key string) {
		if !seen[key] {
			seen[key] = true
			b.WriteString("\n· ")
			b.WriteString(t.T(key))
		}
	}
	for _, s := range signals {
		switch s {
		case "active_leak", "flooding":
			add(water)
		case "water_electrics":
			add("advice.power")
			add(water)
		case "no_power", "sparks", "burning_smell", "shock":
			add("advice.power")
		case "sewage":
			add(sewage)
		case "fire":
			add("advice.fire")
		case "cold_vulnerable":
			add("advice.cold")
		case "heat_vulnerable":
			add("advice.heat")
		case "door_insecure":
			add("advice.door")
		case "gas_smell":
			add("advice.gas")
		case "lift_trapped":
			add("advice.lift")
		case "falling_object":
			add("advice.falling")
		case "structural_crack":
			add("advice.structure")
		case "no_water":
			add("advice.no_water")
		}
	}
	if len(seen) == 0 {
		switch sub {
		case casework.SubLeak, casework.SubPlumbing:
			add(water)
		case casework.SubElectrical:
			add("advice.power")
		default:
			add("advice.general")
		}
	}
	b.WriteString("\n")
	b.WriteString(t.T(tail))
	return b.String()
}

// aboveWords are how owners say that the water comes from the flat above.
var aboveWords = []string{"楼上", "上层住户", "上一层", "upstairs", "flat above", "apartment above", "unit above", "floor above",
	"neighbour above", "neighbor above", "neighbours above", "neighbors above"}

// fromAbove reports whether the owner's words say that the water comes from
// the flat above.
func fromAbove(words string) bool {
	words = strings.ToLower(words)
	for _, w := range aboveWords {
		if strings.Contains(words, w) {
			return true
		}
	}
	return false
}
