package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// requireContact checks that case id's first human contact is at at by
// receivedBy, with the case at version, as a later read finds it.
func (f *fixture) requireContact(t testing.TB, id int64, at time.Time, receivedBy casework.Actor, version int) *casework.Case {
	t.Helper()
	c, err := f.store.FindCaseByID(f.ctx, id)
	require.NoError(t, err)
	require.NotNil(t, c.RespondedAt, "case %s: RespondedAt", c.Number)
	requireStoredTime(t, at, *c.RespondedAt, "RespondedAt")
	require.Equal(t, receivedBy, c.ReceivedBy, "case %s: ReceivedBy", c.Number)
	require.Equal(t, version, c.Version, "case %s: Version", c.Number)
	return c
}

// requireNoContact checks that case id has no human contact yet and is
// still received by receivedBy, at version.
func (f *fixture) requireNoContact(t testing.TB, id int64, receivedBy casework.Actor, version int) {
	t.Helper()
	c, err := f.store.FindCaseByID(f.ctx, id)
	require.NoError(t, err)
	require.Nil(t, c.RespondedAt, "case %s: RespondedAt", c.Number)
	require.Equal(t, receivedBy, c.ReceivedBy, "case %s: ReceivedBy", c.Number)
	require.Equal(t, version, c.Version, "case %s: Version", c.Number)
}

// note adds an entry of kind by actor at at to case id.
func (f *fixture) note(t testing.TB, id int64, kind casework.EventKind, actor casework.Actor, at time.Time) {
	t.Helper()
	require.NoError(t, f.store.AddCaseEvent(f.ctx, &casework.Event{CaseID: id, At: at, Actor: actor, Kind: kind, Note: string(kind)}))
}

func testFirstContact(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)
	member := casework.MemberActor(f.member.ID)
	bot := func(id int64, a casework.Action) *casework.Case {
		t.Helper()
		tr := casework.Transition{Action: a, Actor: casework.ActorBot, At: at(time.Minute)}
		if a == casework.ActionDispatch {
			tr.PartyID, tr.AssigneeID = &f.party.ID, &f.member.ID
		}
		c, err := s.TransitionCase(ctx, id, 0, tr)
		require.NoError(t, err, a)
		return c
	}

	// The bot accepts and dispatches a chat case by itself: nobody of the
	// department touched it yet. Nor do the bot's, the system's or the
	// owner's entries, whoever the chat account is.
	chat := f.create(t, f.newCase(t0))
	bot(chat.ID, casework.ActionAccept)
	got := bot(chat.ID, casework.ActionDispatch)
	require.Nil(t, got.RespondedAt)
	require.Equal(t, casework.ActorBot, got.ReceivedBy)
	f.note(t, chat.ID, casework.EventNote, casework.ActorBot, at(2*time.Minute))
	f.note(t, chat.ID, casework.EventEscalated, casework.ActorSystem, at(3*time.Minute))
	f.note(t, chat.ID, casework.EventUrge, casework.Actor("owner:1"), at(4*time.Minute))
	f.note(t, chat.ID, casework.EventMessage, casework.Actor("chat:web:0123456789ab"), at(5*time.Minute))
	require.NoError(t, s.AddCaseMedia(ctx, &casework.MediaRef{CaseID: chat.ID, Kind: casework.MediaPhoto, BlobKey: "k/owner.jpg"}, casework.Actor("owner:1")))
	f.requireNoContact(t, chat.ID, casework.ActorBot, 3)

	// A staff member's note is the first human contact: the response, and
	// the receiver of the chat's case, with a version of its own.
	f.note(t, chat.ID, casework.EventNote, casework.Staff("42"), at(2*time.Hour+7))
	first := f.requireContact(t, chat.ID, at(2*time.Hour+7), casework.Staff("42"), 4)
	events, err := s.ListCaseEvents(ctx, chat.ID)
	require.NoError(t, err)
	last := events[len(events)-1]
	require.Equal(t, casework.Staff("42"), last.Actor)
	require.Equal(t, len(events), last.Seq)

	// Later people change neither: another staff member's note, an
	// engineer's acceptance, a transition. Only a write of the case's own
	// moves its version on.
	f.note(t, chat.ID, casework.EventMessage, casework.Staff("7"), at(3*time.Hour))
	f.note(t, chat.ID, casework.EventOrderAccepted, member, at(4*time.Hour))
	f.requireContact(t, chat.ID, at(2*time.Hour+7), casework.Staff("42"), 4)
	got = f.transition(t, chat.ID, at(5*time.Hour), casework.ActionInspect)
	requireStoredTime(t, at(2*time.Hour+7), *got.RespondedAt, "RespondedAt")
	require.Equal(t, casework.Staff("42"), got.ReceivedBy)
	require.Equal(t, first.Version+1, got.Version)

	// A staff transition is a first contact too, written once with the
	// change it makes: the case it returns carries both.
	web := f.newCase(at(time.Minute))
	web.Channel = casework.ChannelWeb
	f.create(t, web)
	got = f.transition(t, web.ID, at(time.Hour), casework.ActionAccept)
	require.NotNil(t, got.RespondedAt)
	requireStoredTime(t, at(time.Hour), *got.RespondedAt, "RespondedAt")
	require.Equal(t, casework.Staff("7"), got.ReceivedBy)
	require.Equal(t, 2, got.Version)
	found, err := s.FindCaseByID(ctx, web.ID)
	require.NoError(t, err)
	requireSameCase(t, got, found)

	// So is an update by staff.
	tg := f.newCase(at(2 * time.Minute))
	tg.Channel = casework.ChannelTelegram
	f.create(t, tg)
	got, err = s.UpdateCase(ctx, tg.ID, 1, casework.CaseUpdate{Actor: casework.Staff("9"), Urgency: ptr(casework.UrgencyUrgent)})
	require.NoError(t, err)
	require.NotNil(t, got.RespondedAt)
	requireStoredTime(t, got.UpdatedAt, *got.RespondedAt, "RespondedAt: at the update")
	require.Equal(t, casework.Staff("9"), got.ReceivedBy)
	require.Equal(t, 2, got.Version)
	found, err = s.FindCaseByID(ctx, tg.ID)
	require.NoError(t, err)
	requireSameCase(t, got, found)

	// An engineer taking the work order of a case the bot dispatched is
	// its first contact, and receives it.
	taken := f.create(t, f.newCase(at(3*time.Minute)))
	bot(taken.ID, casework.ActionAccept)
	bot(taken.ID, casework.ActionDispatch)
	f.note(t, taken.ID, casework.EventOrderAccepted, member, at(30*time.Minute))
	f.requireContact(t, taken.ID, at(30*time.Minute), member, 4)

	// So is an engineer's photo.
	photo := f.create(t, f.newCase(at(4*time.Minute)))
	require.NoError(t, s.AddCaseMedia(ctx, &casework.MediaRef{CaseID: photo.ID, Kind: casework.MediaPhoto, BlobKey: "k/site.jpg", CreatedAt: at(time.Hour)}, member))
	f.requireContact(t, photo.ID, at(time.Hour), member, 2)

	// A case staff typed in keeps its receiver; registering it is not the
	// response, their next act is.
	typed := f.newCase(at(5 * time.Minute))
	typed.Channel, typed.ReceivedBy = casework.ChannelHotline, casework.Staff("42")
	f.create(t, typed)
	require.Nil(t, typed.RespondedAt)
	f.transition(t, typed.ID, at(time.Hour), casework.ActionAccept)
	f.requireContact(t, typed.ID, at(time.Hour), casework.Staff("42"), 2)
	// Typed in from a chat's report, too.
	relayed := f.newCase(at(6 * time.Minute))
	relayed.ReceivedBy = casework.Staff("42")
	f.create(t, relayed)
	f.note(t, relayed.ID, casework.EventMessage, casework.Staff("7"), at(time.Hour))
	f.requireContact(t, relayed.ID, at(time.Hour), casework.Staff("42"), 2)
	// And a case the bot opened outside a chat (a return visit) keeps the
	// bot as its receiver.
	visit := f.newCase(at(7 * time.Minute))
	visit.Channel = casework.ChannelReturnVisit
	f.create(t, visit)
	f.note(t, visit.ID, casework.EventNote, casework.Staff("7"), at(time.Hour))
	f.requireContact(t, visit.ID, at(time.Hour), casework.ActorBot, 2)

	// A person's entry on no case finds none.
	requireErrNotFound(t, s.AddCaseEvent(ctx, &casework.Event{CaseID: 999999, Actor: casework.Staff("42"), Kind: casework.EventNote}))
	requireErrNotFound(t, s.AddCaseMedia(ctx, &casework.MediaRef{CaseID: 999999, Kind: casework.MediaPhoto, BlobKey: "k"}, member))

	// The contact is written with its entry, or neither is.
	failing, normal := h.OpenFailing(t, errors.New("injected fault"))
	g := newFixture(t, normal)
	c := g.create(t, g.newCase(t0))
	err = failing.AddCaseEvent(ctx, &casework.Event{CaseID: c.ID, Actor: casework.Staff("42"), Kind: casework.EventNote, Note: "已电话联系"})
	require.Error(t, err)
	g.requireNoContact(t, c.ID, casework.ActorBot, 1)
	events, err = normal.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 1, "no entry stored")
	// What is no contact needs no case write.
	require.NoError(t, failing.AddCaseEvent(ctx, &casework.Event{CaseID: c.ID, Actor: casework.ActorBot, Kind: casework.EventNote, Note: "bot"}))
}

func testFirstContactTasks(t *testing.T, h Harness) {
	s, _ := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)

	// A coordination task staff open is a first contact …
	c := f.create(t, f.newCase(t0))
	task := &casework.Task{CaseID: c.ID, Assignee: "物业公司", Description: "协调楼上业主开门检查", DueAt: at(48 * time.Hour), CreatedBy: casework.Staff("7")}
	require.NoError(t, s.CreateTask(ctx, task, casework.Effects{}))
	f.requireContact(t, c.ID, task.CreatedAt, casework.Staff("7"), 2)

	// … and so is its completion, on a case whose task the bot opened.
	d := f.create(t, f.newCase(t0))
	task = &casework.Task{CaseID: d.ID, Assignee: "自来水公司", Description: "确认停水时间", DueAt: at(24 * time.Hour), CreatedBy: casework.ActorBot}
	require.NoError(t, s.CreateTask(ctx, task, casework.Effects{}))
	f.requireNoContact(t, d.ID, casework.ActorBot, 1)
	require.NoError(t, s.CompleteTask(ctx, task.ID, at(3*time.Hour), casework.Staff("8")))
	f.requireContact(t, d.ID, at(3*time.Hour), casework.Staff("8"), 2)
}
