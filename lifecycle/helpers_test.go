package lifecycle_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/storage/sqlite"
)

// t0 is the tests' "now": Tuesday 2026-03-10 10:00 in China Standard Time.
var t0 = testclock.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)

// Chat accounts of the example project's people, all on Telegram.
const (
	ownerChat      = "owner-zhang" // 张伟, owner of 1-1-101, reports the cases
	otherOwnerChat = "owner-wang"  // 王芳, owner of 1-1-202
	supervisorChat = "sup-lin"     // 林峰, supervisor of GCB
)

// fakeJobs is the store's job queue: it records the jobs that writes with
// effects hand it in their transactions.
type fakeJobs struct {
	mu   sync.Mutex
	jobs []casework.Job
}

// InsertJobsTx records jobs.
func (f *fakeJobs) InsertJobsTx(_ context.Context, _ *sql.Tx, jobs []casework.Job) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs = append(f.jobs, jobs...)
	return nil
}

// all returns every job recorded so far.
func (f *fakeJobs) all() []casework.Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]casework.Job(nil), f.jobs...)
}

// timers returns the timers set for a case, in order.
func (f *fakeJobs) timers(caseID int64) []casework.Timer {
	var out []casework.Timer
	for _, j := range f.all() {
		if j.Kind == casework.JobTimer && j.Timer.CaseID == caseID {
			out = append(out, j.Timer)
		}
	}
	return out
}

// deliveries returns the outbox ids of the delivery jobs, in order.
func (f *fakeJobs) deliveries() []int64 {
	var out []int64
	for _, j := range f.all() {
		if j.Kind == casework.JobDeliver {
			out = append(out, j.OutboxID)
		}
	}
	return out
}

// fakePusher is the bot Router: it records what it is given to push and
// answers with errFunc's error, when set.
type fakePusher struct {
	mu      sync.Mutex
	pushed  []bot.Outbound
	calls   int
	errFunc func(out []bot.Outbound) error
}

// Push records out.
func (p *fakePusher) Push(_ context.Context, out []bot.Outbound) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.errFunc != nil {
		if err := p.errFunc(out); err != nil {
			return err
		}
	}
	p.pushed = append(p.pushed, out...)
	return nil
}

// Exclusive runs fn with Push as its send.
func (p *fakePusher) Exclusive(_ context.Context, _ bot.UserRef, fn func(send bot.SendFunc) error) error {
	return fn(p.Push)
}

// callCount returns how many times Push was called.
func (p *fakePusher) callCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// env is a Service on a SQLite store in a temporary directory holding the
// example project 海景苑 (csvimport.ExampleBatch), with a fake job queue, a
// fake Pusher and a fake clock at t0. The supervisor 林峰 has a chat
// account bound; the engineers have none until bindMember.
type env struct {
	store   *sqlite.DB
	jobs    *fakeJobs
	push    *fakePusher
	clock   *testclock.Clock
	svc     *lifecycle.Service
	project *casework.Project
	unit    *casework.Unit  // 1-1-101
	owner   *casework.Owner // 张伟, of 1-1-101
	parties map[string]*casework.Party
	members map[string]*casework.Member // by name
}

// newEnv returns a fresh env; configure, when given, changes the Service's
// Config before it is made.
func newEnv(t *testing.T, configure ...func(*lifecycle.Config)) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{jobs: &fakeJobs{}, push: &fakePusher{}, clock: testclock.New(t0),
		parties: map[string]*casework.Party{}, members: map[string]*casework.Member{}}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "aftersales.db"), sqlite.Options{NowFunc: e.clock.Now, Jobs: e.jobs})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	require.NoError(t, store.Migrate(ctx))
	batch, err := testclock.ExampleBatch()
	require.NoError(t, err)
	_, err = store.Import(ctx, batch)
	require.NoError(t, err)
	e.store = store

	e.project, err = store.FindProjectByCode(ctx, "HJY")
	require.NoError(t, err)
	units, _, err := store.FindUnits(ctx, casework.UnitFilter{ProjectID: e.project.ID, Building: "1", Entrance: "1", Room: "101"})
	require.NoError(t, err)
	require.Len(t, units, 1)
	e.unit = units[0]
	owners, err := store.FindOwnersByPhone(ctx, "13900000001")
	require.NoError(t, err)
	require.Len(t, owners, 1)
	e.owner = owners[0]
	parties, err := store.ListParties(ctx)
	require.NoError(t, err)
	for _, p := range parties {
		e.parties[p.Code] = p
		ms, err := store.ListMembers(ctx, p.ID)
		require.NoError(t, err)
		for _, m := range ms {
			e.members[m.Name] = m
		}
	}
	// The owners' accounts proved who they are, as the dialogue binds them
	// (package identity).
	proven := t0.Add(-time.Hour)
	require.NoError(t, store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: ownerChat, OwnerID: e.owner.ID, UnitID: e.unit.ID, Lang: "zh",
		VerifiedPhone: e.owner.Phone, VerifiedAt: &proven, VerifiedBy: casework.VerifyTelegramContact}))
	others, err := store.FindOwnersByPhone(ctx, "13900000002")
	require.NoError(t, err)
	require.Len(t, others, 1)
	require.NoError(t, store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: otherOwnerChat, OwnerID: others[0].ID, Lang: "zh",
		VerifiedPhone: others[0].Phone, VerifiedAt: &proven, VerifiedBy: casework.VerifySMS}))
	require.NoError(t, store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: supervisorChat, MemberID: e.member(t, "林峰").ID, Lang: "zh"}))

	cfg := lifecycle.Config{Store: store, Pusher: e.push, NowFunc: e.clock.Now}
	for _, f := range configure {
		f(&cfg)
	}
	e.svc = lifecycle.New(cfg)
	return e
}

// member returns the member of the example project called name.
func (e *env) member(t *testing.T, name string) *casework.Member {
	t.Helper()
	m, ok := e.members[name]
	require.True(t, ok, "no member %s", name)
	return m
}

// bind binds a chat account (platform telegram unless userID names another
// with "wechat:" or "web:") to member name and returns who acts from it.
func (e *env) bind(t *testing.T, name, userID, lang string) lifecycle.Who {
	t.Helper()
	platform := "telegram"
	for _, p := range []string{"wechat", "web"} {
		if len(userID) > len(p)+1 && userID[:len(p)+1] == p+":" {
			platform, userID = p, userID[len(p)+1:]
		}
	}
	id := &casework.ChatIdentity{Platform: platform, UserID: userID, MemberID: e.member(t, name).ID, Lang: lang}
	require.NoError(t, e.store.SaveChatIdentity(t.Context(), id))
	return lifecycle.Who{User: bot.UserRef{Platform: bot.Platform(platform), ID: userID}, Identity: id}
}

// who returns who acts from a known Telegram account.
func (e *env) who(t *testing.T, userID string) lifecycle.Who {
	t.Helper()
	id, err := e.store.FindChatIdentity(t.Context(), "telegram", userID)
	require.NoError(t, err)
	return lifecycle.Who{User: bot.UserRef{Platform: bot.Telegram, ID: userID}, Identity: id}
}

// newCase registers a case of 张伟's unit 1-1-101 reported from his chat
// account ten minutes ago — an engineering-quality door or window defect in
// warranty, unless change says otherwise — with the default deadlines.
func (e *env) newCase(t *testing.T, change func(c *casework.Case)) *casework.Case {
	t.Helper()
	c := &casework.Case{
		ProjectID: e.project.ID, BuildingID: e.unit.BuildingID, UnitID: e.unit.ID, OwnerID: e.owner.ID,
		OwnerName: e.owner.Name, OwnerPhone: e.owner.Phone,
		Location: casework.LocationBedroom, LocationDetail: "主卧窗户", Description: "主卧窗户关不严，下雨时窗台进水",
		Channel: casework.ChannelTelegram, ReceivedAt: e.clock.Now().Add(-10 * time.Minute), ReceivedBy: casework.ActorBot,
		Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubDoorWindow, Urgency: casework.UrgencyNormal,
		WarrantyStatus: casework.WarrantyIn, WarrantyUntil: casework.Date{Year: 2026, Month: 9, Day: 28},
		ReporterPlatform: "telegram", ReporterUserID: ownerChat, ContactTime: "晚上",
	}
	if change != nil {
		change(c)
	}
	casework.DefaultSLAPolicy().SetDeadlines(c)
	require.NoError(t, e.store.CreateCase(t.Context(), c))
	return c
}

// reload returns the case as stored.
func (e *env) reload(t *testing.T, c *casework.Case) *casework.Case {
	t.Helper()
	nc, err := e.store.FindCaseByID(t.Context(), c.ID)
	require.NoError(t, err)
	return nc
}

// message is an outbox message with its decoded payload.
type message struct {
	*casework.OutboxMessage
	Messages []bot.Outbound
}

// text returns the text of the message's first part.
func (m message) text() string {
	if len(m.Messages) == 0 {
		return ""
	}
	return m.Messages[0].Text
}

// outbox returns the case's outbox messages, oldest first, decoded.
func (e *env) outbox(t *testing.T, caseID int64) []message {
	t.Helper()
	ms, err := e.store.ListOutbox(t.Context(), caseID)
	require.NoError(t, err)
	out := make([]message, 0, len(ms))
	for _, m := range ms {
		var p struct {
			Messages []bot.Outbound `json:"messages"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p), "payload of outbox message %d", m.ID)
		out = append(out, message{OutboxMessage: m, Messages: p.Messages})
	}
	return out
}

// byPurpose returns the messages of ms with the purpose.
func byPurpose(ms []message, purpose string) []message {
	var out []message
	for _, m := range ms {
		if m.Purpose == purpose {
			out = append(out, m)
		}
	}
	return out
}

// events returns the case's timeline.
func (e *env) events(t *testing.T, caseID int64) []*casework.Event {
	t.Helper()
	evs, err := e.store.ListCaseEvents(t.Context(), caseID)
	require.NoError(t, err)
	return evs
}

// lastEvent returns the last entry of the case's timeline.
func (e *env) lastEvent(t *testing.T, caseID int64) *casework.Event {
	t.Helper()
	evs := e.events(t, caseID)
	require.NotEmpty(t, evs)
	return evs[len(evs)-1]
}

// snapshot counts what a case has: outbox messages, timeline entries, and
// the jobs of the whole store.
type snapshot struct{ outbox, events, jobs, version int }

func (e *env) snapshot(t *testing.T, c *casework.Case) snapshot {
	t.Helper()
	return snapshot{outbox: len(e.outbox(t, c.ID)), events: len(e.events(t, c.ID)), jobs: len(e.jobs.all()), version: e.reload(t, c).Version}
}

// flow is a case carried through the lifecycle by its engineer and owner.
type flow struct {
	e        *env
	c        *casework.Case
	engineer lifecycle.Who // 郑晓东 of MCMC, bound
	owner    lifecycle.Who // 张伟's account, the reporter
	slots    []time.Time
	taken    bool // the engineer took the order
}

// dispatched registers a normal door-and-window case (change, when given,
// adjusts it), binds 郑晓东 of MCMC and triages it: the order goes to him.
func (e *env) dispatched(t *testing.T, change func(c *casework.Case)) *flow {
	t.Helper()
	f := &flow{e: e, engineer: e.bind(t, "郑晓东", "eng-zheng", "zh"), owner: e.who(t, ownerChat)}
	c := e.newCase(t, change)
	c, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	require.Equal(t, casework.StateDispatched, c.State)
	f.c = c
	return f
}

// to carries the case on, step by step through the service, to state.
func (f *flow) to(t *testing.T, state casework.State) *flow {
	t.Helper()
	ctx := t.Context()
	type step struct {
		state casework.State
		do    func() error
	}
	steps := []step{
		{casework.StateDispatched, func() error { _, err := f.e.svc.TakeOrder(ctx, f.engineer, f.c.Number); return err }},
		{casework.StateScheduled, func() error {
			now := f.e.clock.Now()
			f.slots = []time.Time{now.Add(24 * time.Hour), now.Add(30 * time.Hour)}
			if err := f.e.svc.ProposeSlots(ctx, f.engineer, f.c.Number, f.slots); err != nil {
				return err
			}
			_, err := f.e.svc.PickSlot(ctx, f.owner, f.c.Number, f.slots[0].Unix())
			return err
		}},
		{casework.StateInspected, func() error { _, err := f.e.svc.CheckIn(ctx, f.engineer, f.c.Number); return err }},
		{casework.StatePlanProposed, func() error {
			start := f.e.clock.Now().Add(72 * time.Hour)
			_, err := f.e.svc.ReportPlan(ctx, f.engineer, f.c.Number, casework.Plan{
				Cause: "密封条老化", Responsibility: casework.ResponsibilitySupplier, Content: "更换密封条，调整五金",
				Duration: "半天", Disruptions: []casework.Disruption{casework.DisruptionNoise}, StartAt: &start,
			}, nil)
			return err
		}},
		{casework.StatePlanAgreed, func() error { _, err := f.e.svc.AgreePlan(ctx, f.owner, f.c.Number, ""); return err }},
		{casework.StateInProgress, func() error { _, err := f.e.svc.StartWork(ctx, f.engineer, f.c.Number); return err }},
		{casework.StateDone, func() error {
			_, err := f.e.svc.Complete(ctx, f.engineer, f.c.Number, "已更换", []casework.MediaRef{{Kind: casework.MediaPhoto, BlobKey: "done-1"}})
			return err
		}},
		{casework.StateOwnerAccepted, func() error { _, err := f.e.svc.OwnerAccept(ctx, f.owner, f.c.Number); return err }},
		{casework.StateClosed, func() error {
			_, err := f.e.svc.SubmitSurvey(ctx, f.owner, f.c.Number, casework.Survey{Speed: 5, Attitude: 5, Quality: 4})
			return err
		}},
	}
	at := slices.IndexFunc(steps, func(s step) bool { return s.state == f.e.reload(t, f.c).State })
	require.GreaterOrEqual(t, at, 0, "case %s is %s", f.c.Number, f.c.State)
	for i, s := range steps {
		if f.e.reload(t, f.c).State == state {
			break
		}
		if i < at || (i == at && (i > 0 || f.taken)) {
			continue
		}
		if s.state == casework.StateDispatched {
			// Taking the order changes no state.
			require.NoError(t, s.do(), "take order")
			f.taken = true
			continue
		}
		require.NoError(t, s.do(), "to %s", s.state)
		require.Equal(t, s.state, f.e.reload(t, f.c).State)
	}
	f.c = f.e.reload(t, f.c)
	require.Equal(t, state, f.c.State)
	return f
}
