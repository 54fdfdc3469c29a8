package lifecycle_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/classify"
	"github.com/aftersales/aftersales/lifecycle"
)

// agent is the staff member who takes the calls in these tests.
const agent = casework.Actor("staff:li")

// newIntakeEnv is newEnv with the chat's classifier.
func newIntakeEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, func(cfg *lifecycle.Config) { cfg.Classifier = classify.New(nil) })
}

// unitOf returns the unit of the example project labelled label (1-1-302).
func (e *env) unitOf(t *testing.T, label string) *casework.Unit {
	t.Helper()
	parts := strings.Split(label, "-")
	require.Len(t, parts, 3)
	units, _, err := e.store.FindUnits(t.Context(), casework.UnitFilter{ProjectID: e.project.ID, Building: parts[0], Entrance: parts[1], Room: parts[2]})
	require.NoError(t, err)
	require.Len(t, units, 1, label)
	return units[0]
}

// ownerOf returns the one owner of the unit labelled label.
func (e *env) ownerOf(t *testing.T, label string) *casework.Owner {
	t.Helper()
	owners, err := e.store.UnitOwners(t.Context(), e.unitOf(t, label).ID)
	require.NoError(t, err)
	require.Len(t, owners, 1, label)
	return owners[0]
}

// kinds lists the kinds of a timeline's entries with their actors.
func kinds(evs []*casework.Event) []string {
	var out []string
	for _, e := range evs {
		s := string(e.Kind) + " " + string(e.Actor)
		if e.Action != "" {
			s += " " + string(e.Action)
		}
		out = append(out, s)
	}
	return out
}

func TestRegisterHotlineCase(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	photo := casework.MediaRef{BlobKey: "2026/03/10/0123456789abcdef0123456789abcdef.jpg", ContentType: "image/jpeg", Size: 2048}

	// 张伟 calls: his window; the agent leaves the category to the system.
	c, err := e.svc.Register(t.Context(), agent, lifecycle.IntakeForm{
		Channel: casework.ChannelHotline, OwnerID: e.owner.ID, UnitID: e.unit.ID,
		Location: casework.LocationBedroom, LocationDetail: "主卧", Description: "主卧窗户关不严，下雨时窗台进水",
		Occurred: "昨天", Expectation: "尽快修好", ContactTime: "工作日晚上", Photos: []casework.MediaRef{photo},
	})
	require.NoError(t, err)

	// Registered as the chat registers: received now by the agent, the
	// classification the chat reads, its deadlines, the warranty, triage.
	assert.Equal(t, casework.ChannelHotline, c.Channel)
	assert.Equal(t, agent, c.ReceivedBy, "the agent is the 受理人")
	assert.True(t, c.ReceivedAt.Equal(t0))
	assert.Equal(t, e.unit.ID, c.UnitID)
	assert.Equal(t, e.owner.ID, c.OwnerID)
	assert.Equal(t, e.owner.Phone, c.OwnerPhone, "no other number given: the one on record")
	assert.True(t, c.IdentityVerified, "staff name the owner")
	assert.Empty(t, c.ReporterPlatform)
	assert.Equal(t, casework.CategoryEngineeringQuality, c.Category)
	assert.Equal(t, casework.SubDoorWindow, c.Subcategory)
	assert.Equal(t, casework.UrgencyNormal, c.Urgency)
	assert.Equal(t, "昨天", c.OccurredText)
	require.NotNil(t, c.OccurredAt)
	assert.Equal(t, casework.DateOf(t0.In(casework.ChinaTime()).AddDate(0, 0, -1)), casework.DateOf(c.OccurredAt.In(casework.ChinaTime())))
	want := casework.DefaultSLAPolicy().Deadlines(casework.UrgencyNormal, casework.CategoryEngineeringQuality, t0)
	assert.Equal(t, want.RespondBy.Unix(), c.RespondBy.Unix())
	assert.Equal(t, want.OnSiteBy.Unix(), c.OnSiteBy.Unix())
	assert.Equal(t, want.ResolveBy.Unix(), c.ResolveBy.Unix())
	assert.Equal(t, casework.WarrantyIn, c.WarrantyStatus)
	assert.Equal(t, casework.Date{Year: t0.Year(), Month: 9, Day: 28}, c.WarrantyUntil, "2 years from delivery")
	assert.Equal(t, casework.ResponsibilitySupplier, c.Responsibility, "routed to the window supplier")
	require.Len(t, c.Media, 1)
	assert.Equal(t, casework.MediaPhoto, c.Media[0].Kind)
	assert.Equal(t, photo.BlobKey, c.Media[0].BlobKey)

	// The call was the first human contact: responded when received.
	require.NotNil(t, c.RespondedAt)
	assert.True(t, c.RespondedAt.Equal(c.ReceivedAt), "responded %v, received %v", c.RespondedAt, c.ReceivedAt)
	assert.Empty(t, c.Breaches(t0.Add(48*time.Hour)), "the response deadline is met")

	// Triage dispatched it at once, as a chat case in warranty.
	assert.Equal(t, casework.StateDispatched, c.State)
	assert.Equal(t, e.parties["MCMC"].ID, c.PartyID)
	requireDeadlineTimers(t, c, e.jobs.timers(c.ID))

	evs := e.events(t, c.ID)
	assert.Equal(t, []string{"created staff:li", "note system", "note staff:li", "transition bot accept", "transition bot dispatch"}, kinds(evs))
	assert.True(t, strings.HasPrefix(evs[1].Note, lifecycle.JudgmentPrefix), evs[1].Note)
	assert.Contains(t, evs[1].Note, "engineering_quality/door_window")
	assert.Contains(t, evs[2].Note, "服务热线")
	assert.Contains(t, evs[2].Note, "1 个账号")

	// 张伟 is told the number and what happens next, then who comes.
	msgs := e.outbox(t, c.ID)
	told := byPurpose(msgs, "intake")
	require.Len(t, told, 1)
	assert.Equal(t, ownerChat, told[0].UserID)
	text := told[0].text()
	for _, s := range []string{"服务热线", c.Number, "工程质量 · 门窗", "工程师将于", "预计", "进度"} {
		assert.Contains(t, text, s)
	}
	updates := byPurpose(msgs, "owner_update")
	require.Len(t, updates, 1)
	assert.Less(t, told[0].ID, updates[0].ID, "the number first, then who comes")
}

// TestRegisterOnTheChatsRules: what staff leave to the system is judged by
// the very code that judges the chat's cases (lifecycle.Registrar).
func TestRegisterOnTheChatsRules(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	const words = "卫生间水管爆裂，水漫到客厅了，正在漏水"
	c, err := e.svc.Register(t.Context(), agent, lifecycle.IntakeForm{
		Channel: casework.ChannelWalkIn, OwnerID: e.owner.ID, UnitID: e.unit.ID, Location: casework.LocationBathroom, Description: words,
	})
	require.NoError(t, err)

	chat := &casework.Case{ProjectID: e.project.ID, BuildingID: e.unit.BuildingID, UnitID: e.unit.ID, Description: words,
		Location: casework.LocationBathroom, Channel: casework.ChannelTelegram, ReceivedAt: t0, ReceivedBy: casework.ActorBot}
	j, err := lifecycle.Registrar{Store: e.store, Classifier: classify.New(nil), SLA: casework.DefaultSLAPolicy(),
		Warranty: casework.DefaultWarrantyTerms(), Location: casework.ChinaTime()}.Judge(t.Context(), chat)
	require.NoError(t, err)

	assert.Equal(t, casework.UrgencyUrgent, c.Urgency, "the words tell an emergency")
	for _, f := range []struct {
		name       string
		got, wantc any
	}{
		{"category", c.Category, chat.Category}, {"subcategory", c.Subcategory, chat.Subcategory}, {"urgency", c.Urgency, chat.Urgency},
		{"responsibility", c.Responsibility, chat.Responsibility}, {"warranty", c.WarrantyStatus, chat.WarrantyStatus},
		{"warranty until", c.WarrantyUntil, chat.WarrantyUntil}, {"on site by", c.OnSiteBy.Unix(), chat.OnSiteBy.Unix()},
		{"resolve by", c.ResolveBy.Unix(), chat.ResolveBy.Unix()},
	} {
		assert.Equal(t, f.wantc, f.got, f.name)
	}
	assert.Equal(t, []string{"active_leak", "flooding"}, j.Signals)
	assert.Equal(t, casework.StateDispatched, c.State, "an urgent repair in warranty goes out at once")
	assert.Equal(t, j.Party.ID, c.PartyID)

	told := byPurpose(e.outbox(t, c.ID), "intake")
	require.Len(t, told, 1)
	assert.Contains(t, told[0].text(), "售后服务中心")
	assert.Contains(t, told[0].text(), "到场处理", "urgent: an engineer comes")
}

func TestRegisterOutOfWarrantyWaitsForStaff(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	e.clock.Set(t0.AddDate(1, 0, 0)) // the window's two years are over
	c, err := e.svc.Register(t.Context(), agent, lifecycle.IntakeForm{
		Channel: casework.ChannelHotline, OwnerID: e.owner.ID, UnitID: e.unit.ID, Description: "主卧窗户关不严，下雨时窗台进水",
		Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubDoorWindow, Urgency: casework.UrgencyNormal,
	})
	require.NoError(t, err)
	assert.Equal(t, casework.WarrantyOut, c.WarrantyStatus)
	assert.Equal(t, casework.StateRegistered, c.State, "out of warranty: staff assess it")
	assert.Equal(t, "waits for staff: out of warranty", e.lastEvent(t, c.ID).Note)
	sup := byPurpose(e.outbox(t, c.ID), "triage")
	require.Len(t, sup, 1)
	assert.Equal(t, supervisorChat, sup[0].UserID)
	told := byPurpose(e.outbox(t, c.ID), "intake")
	require.Len(t, told, 1)
	assert.NotContains(t, told[0].text(), "工程师将于", "nobody is sent yet: no visit is promised")
	assert.Contains(t, told[0].text(), c.Number)
}

// TestRegisterUrgentOutOfWarrantyGoesAtOnce: a lift entrapment taken on the
// hotline after the lift's warranty ended goes at once to the lift's
// maintenance company, and the owner is told an engineer comes.
func TestRegisterUrgentOutOfWarrantyGoesAtOnce(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	e.clock.Set(t0.AddDate(1, 0, 0)) // the window's two years are over
	c, err := e.svc.Register(t.Context(), agent, lifecycle.IntakeForm{
		Channel: casework.ChannelHotline, OwnerID: e.owner.ID, UnitID: e.unit.ID, Description: "电梯停在半层，里面困了人",
		Category: casework.CategoryFacilitiesEquipment, Subcategory: casework.SubLift, Urgency: casework.UrgencyUrgent, Location: casework.LocationPublicArea,
	})
	require.NoError(t, err)
	assert.Equal(t, casework.WarrantyOut, c.WarrantyStatus)
	assert.Equal(t, casework.StateDispatched, c.State, "urgent: at once, whatever the warranty")
	assert.Equal(t, e.parties["TSDT"].ID, c.PartyID)
	assert.Contains(t, c.DecisionReason, lifecycle.CostSettledAfter)
	told := byPurpose(e.outbox(t, c.ID), "intake")
	require.Len(t, told, 1)
	assert.Contains(t, told[0].text(), "到场处理", "an engineer is on the way")
}

func TestRegisterOwnerWithoutChatIsToldNothing(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	li := e.ownerOf(t, "1-1-302") // 李娜: no chat account
	c, err := e.svc.Register(t.Context(), agent, lifecycle.IntakeForm{
		Channel: casework.ChannelLetter, OwnerID: li.ID, Description: "房产证什么时候能办下来",
	})
	require.NoError(t, err)
	assert.Equal(t, casework.CategoryPolicyConsultation, c.Category, "read from the letter")
	assert.Equal(t, casework.SubCertificate, c.Subcategory)
	assert.Equal(t, casework.StateRegistered, c.State, "a consultation is answered by staff")
	assert.Empty(t, byPurpose(e.outbox(t, c.ID), "intake"), "no account: nothing sent")
	evs := e.events(t, c.ID)
	require.GreaterOrEqual(t, len(evs), 3)
	assert.Equal(t, agent, evs[2].Actor)
	assert.Contains(t, evs[2].Note, "书面函件")
	assert.Contains(t, evs[2].Note, "业主未绑定聊天账号，未发送通知")
	assert.Contains(t, evs[2].Note, "nothing was sent")
}

func TestRegisterTellsTheOwnerInTheirLanguage(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	li := e.ownerOf(t, "1-1-302")
	proven := t0.Add(-time.Hour)
	require.NoError(t, e.store.SaveChatIdentity(t.Context(), &casework.ChatIdentity{Platform: "telegram", UserID: "owner-li", OwnerID: li.ID, Lang: "en",
		VerifiedPhone: li.Phone, VerifiedAt: &proven, VerifiedBy: casework.VerifySMS}))
	c, err := e.svc.Register(t.Context(), agent, lifecycle.IntakeForm{
		Channel: casework.ChannelLetter, OwnerID: li.ID, Description: "房产证什么时候能办下来",
	})
	require.NoError(t, err)
	told := byPurpose(e.outbox(t, c.ID), "intake")
	require.Len(t, told, 1)
	assert.Equal(t, "owner-li", told[0].UserID)
	text := told[0].text()
	assert.Contains(t, text, "what you wrote to us is registered as case "+c.Number)
	assert.Contains(t, text, "Policy question · property certificate")
	assert.Contains(t, text, "we answer you by "+c.ResolveBy.In(casework.ChinaTime()).Format("01-02 15:04"))
	assert.NotContains(t, text, "engineer", "a consultation is answered, not repaired")
}

func TestRegisterFindsOrRegistersTheOwner(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	ctx := t.Context()
	form := func(change func(f *lifecycle.IntakeForm)) lifecycle.IntakeForm {
		f := lifecycle.IntakeForm{Channel: casework.ChannelHotline, Description: "客厅墙面开裂，裂缝越来越长",
			Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubCrack}
		change(&f)
		return f
	}

	// By unit and phone.
	c, err := e.svc.Register(ctx, agent, form(func(f *lifecycle.IntakeForm) { f.UnitID, f.OwnerPhone = e.unit.ID, "139 0000 0001" }))
	require.NoError(t, err)
	assert.Equal(t, e.owner.ID, c.OwnerID)
	assert.Equal(t, "张伟", c.OwnerName)

	// By unit and name, calling from another number: that number is kept.
	c, err = e.svc.Register(ctx, agent, form(func(f *lifecycle.IntakeForm) {
		f.UnitID, f.OwnerName, f.OwnerPhone = e.unit.ID, " 张伟 ", "13700000077"
	}))
	require.NoError(t, err)
	assert.Equal(t, e.owner.ID, c.OwnerID)
	assert.Equal(t, "13700000077", c.OwnerPhone)

	// A unit with no owner on record: the owner is registered with the case.
	empty := e.unitOf(t, "1-1-102")
	c, err = e.svc.Register(ctx, agent, form(func(f *lifecycle.IntakeForm) {
		f.UnitID, f.OwnerName, f.OwnerPhone = empty.ID, "孙明", "+86 137 0000 0088"
	}))
	require.NoError(t, err)
	require.NotZero(t, c.OwnerID)
	o, err := e.store.FindOwnerByID(ctx, c.OwnerID)
	require.NoError(t, err)
	assert.Equal(t, "孙明", o.Name)
	assert.Equal(t, "13700000088", o.Phone)
	owners, err := e.store.UnitOwners(ctx, empty.ID)
	require.NoError(t, err)
	require.Len(t, owners, 1)
	assert.Equal(t, o.ID, owners[0].ID, "bound to the unit")
	assert.Equal(t, empty.ID, c.UnitID)

	// By owner, with a unit that is theirs.
	c, err = e.svc.Register(ctx, agent, form(func(f *lifecycle.IntakeForm) { f.OwnerID, f.UnitID = o.ID, empty.ID }))
	require.NoError(t, err)
	assert.Equal(t, o.ID, c.OwnerID)
}

func TestRegisterByServiceAccountIsNoContact(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	c, err := e.svc.Register(t.Context(), casework.Service("api"), lifecycle.IntakeForm{
		Channel: casework.ChannelLetter, OwnerID: e.owner.ID, UnitID: e.unit.ID, Description: "房产证什么时候能办下来",
	})
	require.NoError(t, err)
	assert.Equal(t, casework.Service("api"), c.ReceivedBy)
	assert.Nil(t, c.RespondedAt, "an integration is no person")
}

func TestRegisterRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // no classifier: the category is the agent's to choose
	ctx := t.Context()
	empty := e.unitOf(t, "1-1-102")
	var otherProject int64 = -1
	for _, tc := range []struct {
		name   string
		staff  casework.Actor
		change func(f *lifecycle.IntakeForm)
		field  string // "" with forbidden
	}{
		{"a chat channel", agent, func(f *lifecycle.IntakeForm) { f.Channel = casework.ChannelWeChat }, "channel"},
		{"a return visit", agent, func(f *lifecycle.IntakeForm) { f.Channel = casework.ChannelReturnVisit }, "channel"},
		{"no channel", agent, func(f *lifecycle.IntakeForm) { f.Channel = "" }, "channel"},
		{"an unknown unit", agent, func(f *lifecycle.IntakeForm) { f.OwnerID, f.UnitID = 0, 999999 }, "unit_id"},
		{"no unit nor owner", agent, func(f *lifecycle.IntakeForm) { f.OwnerID, f.UnitID = 0, 0 }, "unit_id"},
		{"an unknown owner", agent, func(f *lifecycle.IntakeForm) { f.OwnerID = 999999 }, "owner_id"},
		{"a unit not the owner's", agent, func(f *lifecycle.IntakeForm) { f.UnitID = empty.ID }, "unit_id"},
		{"an owner of two units, none named", agent, func(f *lifecycle.IntakeForm) { f.UnitID = 0 }, "unit_id"},
		{"a new owner without a name", agent, func(f *lifecycle.IntakeForm) { f.OwnerID, f.UnitID, f.OwnerPhone = 0, empty.ID, "13700000088" }, "owner_name"},
		{"a new owner without a phone", agent, func(f *lifecycle.IntakeForm) { f.OwnerID, f.UnitID, f.OwnerName = 0, empty.ID, "孙明" }, "owner_phone"},
		{"a bad phone", agent, func(f *lifecycle.IntakeForm) { f.OwnerPhone = "12345" }, "owner_phone"},
		{"no description", agent, func(f *lifecycle.IntakeForm) { f.Description = "  " }, "description"},
		{"a description too long", agent, func(f *lifecycle.IntakeForm) { f.Description = strings.Repeat("漏", 5001) }, "description"},
		{"a day to come", agent, func(f *lifecycle.IntakeForm) { f.Occurred = "2099-01-01" }, "occurred"},
		{"an unknown location", agent, func(f *lifecycle.IntakeForm) { f.Location = "attic" }, "location"},
		{"an unknown category", agent, func(f *lifecycle.IntakeForm) { f.Category = "roof" }, "category"},
		{"no category, no classifier", agent, func(f *lifecycle.IntakeForm) { f.Category, f.Subcategory = "", "" }, "category"},
		{"a subcategory of another category", agent, func(f *lifecycle.IntakeForm) { f.Subcategory = casework.SubLift }, "subcategory"},
		{"a subcategory alone", agent, func(f *lifecycle.IntakeForm) { f.Category = "" }, "subcategory"},
		{"an unknown urgency", agent, func(f *lifecycle.IntakeForm) { f.Urgency = "asap" }, "urgency"},
		{"a photo without a blob", agent, func(f *lifecycle.IntakeForm) { f.Photos = []casework.MediaRef{{ContentType: "image/jpeg"}} }, "photos"},
		{"too many photos", agent, func(f *lifecycle.IntakeForm) {
			f.Photos = make([]casework.MediaRef, lifecycle.MaxIntakePhotos+1)
		}, "photos"},
		{"an expectation too long", agent, func(f *lifecycle.IntakeForm) { f.Expectation = strings.Repeat("修", 2001) }, "expectation"},
		{"a project out of scope", agent, func(f *lifecycle.IntakeForm) {
			f.ScopeFunc = func(id int64) bool { return id == otherProject }
		}, ""},
		{"an owner", casework.Actor("owner:1"), nil, ""},
		{"the bot", casework.ActorBot, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := lifecycle.IntakeForm{Channel: casework.ChannelHotline, OwnerID: e.owner.ID, UnitID: e.unit.ID, Description: "主卧窗户关不严，下雨时窗台进水",
				Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubDoorWindow}
			if tc.change != nil {
				tc.change(&f)
			}
			before := e.countCases(t)
			owners, err := e.store.UnitOwners(ctx, empty.ID)
			require.NoError(t, err)
			_, err = e.svc.Register(ctx, tc.staff, f)
			if tc.field == "" {
				require.ErrorIs(t, err, lifecycle.ErrForbidden)
			} else {
				var ve *casework.ValidationError
				require.True(t, errors.As(err, &ve), "%v", err)
				assert.Equal(t, tc.field, ve.Field, ve.Error())
			}
			assert.Equal(t, before, e.countCases(t), "no case registered")
			after, err := e.store.UnitOwners(ctx, empty.ID)
			require.NoError(t, err)
			assert.Len(t, after, len(owners), "no owner registered")
		})
	}
}

// countCases counts the cases on record.
func (e *env) countCases(t *testing.T) int {
	t.Helper()
	_, n, err := e.store.FindCases(t.Context(), casework.CaseFilter{Limit: 1})
	require.NoError(t, err)
	return n
}

func TestClassifyLeavesTheStaffsChoice(t *testing.T) {
	t.Parallel()
	cl := classify.New(nil)
	for _, tc := range []struct {
		name       string
		words      string
		cat        casework.Category
		sub        casework.Subcategory
		urg        casework.Urgency
		wantCat    casework.Category
		wantSub    casework.Subcategory
		wantUrg    casework.Urgency
		wantSignal bool
	}{
		{"all read", "卫生间水管爆裂，水漫到客厅了，正在漏水", "", "", "",
			casework.CategoryEngineeringQuality, casework.SubPlumbing, casework.UrgencyUrgent, true},
		{"the category chosen, the rest read", "卫生间水管爆裂，水漫到客厅了，正在漏水", casework.CategoryEngineeringQuality, "", "",
			casework.CategoryEngineeringQuality, casework.SubPlumbing, casework.UrgencyUrgent, true},
		{"the urgency chosen", "卫生间水管爆裂，水漫到客厅了，正在漏水", casework.CategoryEngineeringQuality, casework.SubLeak, casework.UrgencyNormal,
			casework.CategoryEngineeringQuality, casework.SubLeak, casework.UrgencyNormal, true},
		{"a subcategory of another category is not taken", "卫生间水管爆裂，水漫到客厅了", casework.CategoryFacilitiesEquipment, "", "",
			casework.CategoryFacilitiesEquipment, casework.SubOther, casework.UrgencyUrgent, true},
		{"a complaint: major, never urgent", "物业保安态度很差，着火了都不管，再不处理我们全楼业主就打12345", "", "", "",
			casework.CategoryServiceAttitude, casework.SubPropertyManagement, casework.UrgencyMajorComplaint, true},
		{"a design defect can be a major complaint", "客厅比样板间小了一大圈，户型和宣传册上的完全不一样，我们几十户业主已经找了律师", "", "", "",
			casework.CategoryDesignDefect, casework.SubLayout, casework.UrgencyMajorComplaint, true},
		{"a consultation is not urgent", "房产证什么时候能办下来", "", "", "",
			casework.CategoryPolicyConsultation, casework.SubCertificate, casework.UrgencyNormal, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &casework.Case{Description: tc.words, Category: tc.cat, Subcategory: tc.sub, Urgency: tc.urg}
			read, err := lifecycle.Classify(cl, c)
			require.NoError(t, err)
			signals := read.Signals
			assert.Equal(t, "model", read.By)
			assert.Equal(t, tc.wantCat, c.Category)
			assert.Equal(t, tc.wantSub, c.Subcategory)
			assert.Equal(t, tc.wantUrg, c.Urgency)
			assert.Equal(t, tc.wantSignal, len(signals) > 0, "%v", signals)
		})
	}
	c := &casework.Case{Description: "今天天气不错"}
	_, err := lifecycle.Classify(cl, c)
	var ve *casework.ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, "category", ve.Field, "words that tell no category")
}

func TestFindHomes(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	ctx := t.Context()
	label := func(hs []lifecycle.Home) []string {
		var out []string
		for _, h := range hs {
			s := h.Project.Name + " " + h.Unit.Label()
			if h.Owner != nil {
				s += " " + h.Owner.Name
			}
			out = append(out, s)
		}
		return out
	}
	for q, want := range map[string][]string{
		"1-1-101":       {"海景苑 1-1-101 张伟", "海景苑 1-1-101"},
		"海景苑 1栋1单元101":  {"海景苑 1-1-101 张伟", "海景苑 1-1-101"},
		"139 0000 0001": {"海景苑 1-1-101 张伟", "海景苑 3-2-1401 张伟"},
		"张伟":            {"海景苑 1-1-101 张伟", "海景苑 3-2-1401 张伟"},
		"1-1-102":       {"海景苑 1-1-102"},
		"nobody":        nil,
		"13700000000":   nil,
	} {
		hs, err := e.svc.FindHomes(ctx, q, nil)
		require.NoError(t, err, q)
		assert.Equal(t, want, label(hs), q)
	}
	hs, err := e.svc.FindHomes(ctx, "1-1-101", func(int64) bool { return false })
	require.NoError(t, err)
	assert.Empty(t, hs, "nothing out of scope")
	_, err = e.svc.FindHomes(ctx, strings.Repeat("1", 101), nil)
	require.ErrorIs(t, err, casework.ErrInvalid)
}

func TestAttachMedia(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	c := e.newCase(t, nil)
	got, err := e.svc.AttachMedia(t.Context(), c.Number, agent, casework.MediaRef{BlobKey: "2026/03/10/scan.pdf", ContentType: "application/pdf", Size: 10})
	require.NoError(t, err)
	require.Len(t, got.Media, 1)
	assert.Equal(t, casework.MediaDocument, got.Media[0].Kind)
	last := e.lastEvent(t, c.ID)
	assert.Equal(t, casework.EventMedia, last.Kind)
	assert.Equal(t, agent, last.Actor)
	require.NotNil(t, got.RespondedAt, "the agent's entry is the first contact")

	_, err = e.svc.AttachMedia(t.Context(), c.Number, agent, casework.MediaRef{ContentType: "image/png"})
	require.ErrorIs(t, err, casework.ErrInvalid)
	_, err = e.svc.AttachMedia(t.Context(), "SH-NOPE", agent, casework.MediaRef{BlobKey: "k", ContentType: "image/png"})
	require.ErrorIs(t, err, casework.ErrNotFound)
}
