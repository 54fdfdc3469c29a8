package storagetest

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// handoffStore is a lifecycle store that keeps hand-offs, or the test is
// skipped.
func handoffStore(t *testing.T, h Harness) (casework.HandoffStore, LifecycleStore, *JobRecorder) {
	t.Helper()
	s, jobs := openLifecycle(t, h)
	hs, ok := s.(casework.HandoffStore)
	if !ok {
		t.Skipf("%T keeps no hand-offs", s)
	}
	return hs, s, jobs
}

// handoffMessage is an unsaved message of hand-off id.
func handoffMessage(id int64, from casework.HandoffFrom, actor casework.Actor, text string) *casework.HandoffMessage {
	return &casework.HandoffMessage{HandoffID: id, From: from, Actor: actor, Text: text}
}

// testHandoffOpen: a chat account has one open hand-off, however many ask
// at once; what a new one needs; found by ID and by account.
func testHandoffOpen(t *testing.T, h Harness) {
	hs, s, _ := handoffStore(t, h)
	ctx := t.Context()
	f := newFixture(t, s)

	requireInvalid(t, errOf(hs.OpenHandoff(ctx, &casework.Handoff{UserID: "1001"})), "platform")
	requireInvalid(t, errOf(hs.OpenHandoff(ctx, &casework.Handoff{Platform: "telegram"})), "user_id")
	requireInvalid(t, errOf(hs.OpenHandoff(ctx, &casework.Handoff{Platform: "telegram", UserID: "1001", OwnerID: 987654})), "owner")
	requireErrNotFound(t, errOf(hs.FindOpenHandoff(ctx, "telegram", "1001")), "nothing was stored")

	first := &casework.Handoff{Platform: "telegram", UserID: "1001", OwnerID: f.owner.ID, DisplayName: "Zhang San", Lang: "zh",
		State: casework.HandoffEnded, TakenBy: casework.Staff("7")}
	created, err := hs.OpenHandoff(ctx, first)
	require.NoError(t, err)
	require.True(t, created)
	require.NotZero(t, first.ID)
	assert.Equal(t, casework.HandoffWaiting, first.State, "a new hand-off waits, whatever it carried")
	assert.Empty(t, first.TakenBy)
	assert.Nil(t, first.TakenAt)
	requireUTC(t, first.CreatedAt, "CreatedAt")
	requireUTC(t, first.UpdatedAt, "UpdatedAt")

	got, err := hs.FindHandoff(ctx, first.ID)
	require.NoError(t, err)
	assert.Equal(t, first, got)
	got, err = hs.FindOpenHandoff(ctx, "telegram", "1001")
	require.NoError(t, err)
	assert.Equal(t, first, got)
	requireErrNotFound(t, errOf(hs.FindHandoff(ctx, first.ID+1000)))
	requireErrNotFound(t, errOf(hs.FindOpenHandoff(ctx, "wechat", "1001")), "another platform's account is another account")

	again := &casework.Handoff{Platform: "telegram", UserID: "1001", DisplayName: "someone else"}
	created, err = hs.OpenHandoff(ctx, again)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, first, again, "the open one is given back")

	// Many at once for one new account: one hand-off.
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	createdN := make([]bool, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Go(func() {
			h := &casework.Handoff{Platform: "web", UserID: "visitor-at-once"}
			createdN[i], errs[i] = hs.OpenHandoff(ctx, h)
			ids[i] = h.ID
		})
	}
	wg.Wait()
	n := 0
	for i := range ids {
		require.NoError(t, errs[i])
		assert.Equal(t, ids[0], ids[i])
		if createdN[i] {
			n++
		}
	}
	assert.Equal(t, 1, n, "exactly one created it")
}

// errOf returns the error of a call with a result.
func errOf[T any](_ T, err error) error { return err }

// testHandoffMessages: the messages of a hand-off in order; a person's
// words carried by an outbox message of no case; the owner's words on the
// case once one is linked, and the person's as a message that is the case's
// first human contact.
func testHandoffMessages(t *testing.T, h Harness) {
	hs, s, jobs := handoffStore(t, h)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.create(t, f.newCase(at(0)))
	ownerActor := casework.Actor("owner:" + itoa(f.owner.ID))
	agent := casework.Staff("7")

	ho := &casework.Handoff{Platform: "telegram", UserID: "1001", OwnerID: f.owner.ID}
	_, err := hs.OpenHandoff(ctx, ho)
	require.NoError(t, err)

	requireInvalid(t, errOf(hs.AddHandoffMessage(ctx, handoffMessage(ho.ID, "boss", agent, "x"), casework.Effects{})), "from")
	requireInvalid(t, errOf(hs.AddHandoffMessage(ctx, handoffMessage(ho.ID, casework.FromOwner, "", "x"), casework.Effects{})), "actor")
	requireInvalid(t, errOf(hs.AddHandoffMessage(ctx, handoffMessage(ho.ID, casework.FromOwner, ownerActor, " "), casework.Effects{})), "text")
	requireErrNotFound(t, errOf(hs.AddHandoffMessage(ctx, handoffMessage(ho.ID+1000, casework.FromOwner, ownerActor, "x"), casework.Effects{})))

	told := handoffMessage(ho.ID, casework.FromBot, casework.ActorBot, "已为您转接人工客服")
	got, err := hs.AddHandoffMessage(ctx, told, casework.Effects{})
	require.NoError(t, err)
	require.NotZero(t, told.ID)
	requireUTC(t, told.At, "message At")
	require.NotNil(t, got.LastBotAt)
	requireStoredTime(t, told.At, *got.LastBotAt, "LastBotAt")
	assert.Nil(t, got.LastOwnerAt)

	words := handoffMessage(ho.ID, casework.FromOwner, ownerActor, "卫生间又漏水了")
	words.At = at(time.Minute + 7)
	got, err = hs.AddHandoffMessage(ctx, words, casework.Effects{})
	require.NoError(t, err)
	requireStoredTime(t, at(time.Minute+7), words.At, "message At as given")
	require.NotNil(t, got.LastOwnerAt)
	assert.True(t, got.Unanswered(), "the owner waits for a person")
	photo := &casework.HandoffMessage{HandoffID: ho.ID, From: casework.FromOwner, Actor: ownerActor, BlobKey: "2026/11/27/photo.jpg"}
	_, err = hs.AddHandoffMessage(ctx, photo, casework.Effects{})
	require.NoError(t, err, "a photo needs no text")
	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 1, "no case is linked: the case's timeline is as it was")

	// A person's words go to the owner in a message of no case.
	out := &casework.OutboxMessage{Platform: "telegram", UserID: "1001", Purpose: "handoff_reply", Payload: []byte(`{"text":"您好"}`)}
	reply := handoffMessage(ho.ID, casework.FromAgent, agent, "您好，我是客服小王")
	got, err = hs.AddHandoffMessage(ctx, reply, casework.Effects{Messages: []*casework.OutboxMessage{out}})
	require.NoError(t, err)
	require.NotZero(t, out.ID)
	assert.Equal(t, out.ID, reply.OutboxID)
	assert.Equal(t, casework.OutboxPending, reply.Delivery)
	assert.False(t, got.Unanswered())
	stored, err := s.FindOutboxMessage(ctx, out.ID)
	require.NoError(t, err)
	assert.Zero(t, stored.CaseID, "a message of no case")
	js, calls := jobs.Take()
	assert.Equal(t, 1, calls)
	assert.Equal(t, []casework.Job{{Kind: casework.JobDeliver, OutboxID: out.ID}}, js)

	msgs, err := hs.ListHandoffMessages(ctx, ho.ID, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 4)
	assert.Equal(t, []int64{told.ID, words.ID, photo.ID, reply.ID}, []int64{msgs[0].ID, msgs[1].ID, msgs[2].ID, msgs[3].ID})
	assert.Equal(t, *words, *msgs[1])
	assert.Equal(t, "2026/11/27/photo.jpg", msgs[2].BlobKey)
	assert.Equal(t, *reply, *msgs[3])
	later, err := hs.ListHandoffMessages(ctx, ho.ID, words.ID)
	require.NoError(t, err)
	assert.Len(t, later, 2, "the messages after an ID")
	none, err := hs.ListHandoffMessages(ctx, ho.ID+1000, 0)
	require.NoError(t, err)
	assert.Empty(t, none)

	// The delivery as it goes.
	require.NoError(t, s.MarkOutboxAttempt(ctx, out.ID, "window closed", true, at(time.Hour)))
	msgs, err = hs.ListHandoffMessages(ctx, ho.ID, photo.ID)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, casework.OutboxFailed, msgs[0].Delivery)
	assert.Equal(t, "window closed", msgs[0].DeliveryError)

	// Linked: the owner's words so far go on the case, by them.
	requireErrNotFound(t, errOf(hs.LinkHandoff(ctx, ho.ID, c.ID+1000)))
	linked, err := hs.LinkHandoff(ctx, ho.ID, c.ID)
	require.NoError(t, err)
	assert.Equal(t, c.ID, linked.CaseID)
	events, err = s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 2)
	note := events[1]
	assert.Equal(t, casework.EventNote, note.Kind)
	assert.Equal(t, ownerActor, note.Actor)
	assert.Contains(t, note.Note, "卫生间又漏水了")
	assert.Contains(t, note.Note, at(time.Minute+7).In(casework.ChinaTime()).Format("01-02 15:04"), "each with its time, in China time")
	assert.Contains(t, note.Note, "photo or video")
	assert.NotContains(t, note.Note, "您好，我是客服小王", "the owner's words")
	relinked, err := hs.LinkHandoff(ctx, ho.ID, c.ID)
	require.NoError(t, err)
	assert.Equal(t, linked, relinked)
	events, err = s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	assert.Len(t, events, 2, "linking the case it has changes nothing")

	// Later words go on the case as they come; a person's answer is its
	// first human contact.
	more := handoffMessage(ho.ID, casework.FromOwner, ownerActor, "滴到楼下了")
	_, err = hs.AddHandoffMessage(ctx, more, casework.Effects{})
	require.NoError(t, err)
	f.requireNoContact(t, c.ID, casework.ActorBot, 1)
	out2 := &casework.OutboxMessage{Platform: "telegram", UserID: "1001", Purpose: "handoff_reply", Payload: []byte(`{}`)}
	answer := handoffMessage(ho.ID, casework.FromAgent, agent, "马上安排师傅")
	answer.At = at(2 * time.Hour)
	_, err = hs.AddHandoffMessage(ctx, answer, casework.Effects{Messages: []*casework.OutboxMessage{out2}})
	require.NoError(t, err)
	assert.Equal(t, c.ID, out2.CaseID, "a message about the linked case")
	events, err = s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 4)
	assert.Equal(t, casework.EventNote, events[2].Kind)
	assert.Equal(t, ownerActor, events[2].Actor)
	assert.Contains(t, events[2].Note, "滴到楼下了")
	assert.Equal(t, casework.EventMessage, events[3].Kind)
	assert.Equal(t, agent, events[3].Actor)
	assert.Equal(t, "马上安排师傅", events[3].Note)
	f.requireContact(t, c.ID, at(2*time.Hour), agent, 2)
	jobs.Take()

	// Ended, it takes no more.
	_, ended, err := hs.EndHandoff(ctx, ho.ID, agent, time.Time{}, nil, casework.Effects{})
	require.NoError(t, err)
	require.True(t, ended)
	requireConflict(t, errOf(hs.AddHandoffMessage(ctx, handoffMessage(ho.ID, casework.FromOwner, ownerActor, "还在吗"), casework.Effects{})))
	requireConflict(t, errOf(hs.LinkHandoff(ctx, ho.ID, c.ID)))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// testHandoffTakeAndEnd: a person takes a waiting hand-off, another takes it
// over only from them; ending tells the owner once, and the account may ask
// again.
func testHandoffTakeAndEnd(t *testing.T, h Harness) {
	hs, _, jobs := handoffStore(t, h)
	ctx := t.Context()
	wang, li := casework.Staff("7"), casework.Staff("8")

	ho := &casework.Handoff{Platform: "wechat", UserID: "oOwner001"}
	_, err := hs.OpenHandoff(ctx, ho)
	require.NoError(t, err)
	requireErrNotFound(t, errOf(hs.TakeHandoff(ctx, ho.ID+1000, wang, "", time.Time{})))
	requireInvalid(t, errOf(hs.TakeHandoff(ctx, ho.ID, "", "", time.Time{})), "actor")
	taken, err := hs.TakeHandoff(ctx, ho.ID, wang, "", at(3*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, casework.HandoffTaken, taken.State)
	assert.Equal(t, wang, taken.TakenBy)
	require.NotNil(t, taken.TakenAt)
	requireStoredTime(t, at(3*time.Minute), *taken.TakenAt, "TakenAt")
	same, err := hs.TakeHandoff(ctx, ho.ID, wang, "", time.Time{})
	require.NoError(t, err, "taking what one holds")
	assert.Equal(t, taken, same)
	requireConflict(t, errOf(hs.TakeHandoff(ctx, ho.ID, li, "", time.Time{})), "li thought it was waiting")
	over, err := hs.TakeHandoff(ctx, ho.ID, li, wang, time.Time{})
	require.NoError(t, err, "li takes it over from wang")
	assert.Equal(t, li, over.TakenBy)
	requireConflict(t, errOf(hs.TakeHandoff(ctx, ho.ID, wang, "", time.Time{})))

	// Two take a waiting one at once: one has it.
	other := &casework.Handoff{Platform: "web", UserID: "visitor-two-agents"}
	_, err = hs.OpenHandoff(ctx, other)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = hs.TakeHandoff(ctx, other.ID, casework.Staff(itoa(int64(100+i))), "", time.Time{})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			requireConflict(t, err)
		}
	}
	assert.Equal(t, 1, won)

	// Ended with the bot's word to the owner, once.
	requireInvalid(t, errOf3(hs.EndHandoff(ctx, ho.ID, "", time.Time{}, nil, casework.Effects{})), "actor")
	bye := handoffMessage(0, casework.FromBot, casework.ActorBot, "客服已结束本次服务")
	out := &casework.OutboxMessage{Platform: "wechat", UserID: "oOwner001", Purpose: "handoff_ended", Payload: []byte(`{}`)}
	end, ended, err := hs.EndHandoff(ctx, ho.ID, li, at(time.Hour), bye, casework.Effects{Messages: []*casework.OutboxMessage{out}})
	require.NoError(t, err)
	require.True(t, ended)
	assert.Equal(t, casework.HandoffEnded, end.State)
	assert.Equal(t, li, end.EndedBy)
	require.NotNil(t, end.EndedAt)
	requireStoredTime(t, at(time.Hour), *end.EndedAt, "EndedAt")
	assert.Equal(t, li, end.TakenBy, "who had it is kept")
	assert.Equal(t, ho.ID, bye.HandoffID)
	assert.Equal(t, out.ID, bye.OutboxID)
	js, _ := jobs.Take()
	assert.Len(t, js, 1)
	msgs, err := hs.ListHandoffMessages(ctx, ho.ID, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, "客服已结束本次服务", msgs[0].Text)

	again, ended, err := hs.EndHandoff(ctx, ho.ID, wang, time.Time{}, handoffMessage(0, casework.FromBot, casework.ActorBot, "x"),
		casework.Effects{Messages: []*casework.OutboxMessage{{Platform: "wechat", UserID: "oOwner001", Payload: []byte(`{}`)}}})
	require.NoError(t, err)
	assert.False(t, ended)
	assert.Equal(t, end, again, "ended already: nothing changes")
	js, calls := jobs.Take()
	assert.Empty(t, js)
	assert.Zero(t, calls)
	requireConflict(t, errOf(hs.TakeHandoff(ctx, ho.ID, wang, li, time.Time{})))
	requireErrNotFound(t, errOf(hs.FindOpenHandoff(ctx, "wechat", "oOwner001")))
	_, _, err = hs.EndHandoff(ctx, ho.ID+1000, wang, time.Time{}, nil, casework.Effects{})
	requireErrNotFound(t, err)

	// The owner asks again: a new hand-off.
	next := &casework.Handoff{Platform: "wechat", UserID: "oOwner001"}
	created, err := hs.OpenHandoff(ctx, next)
	require.NoError(t, err)
	assert.True(t, created)
	assert.NotEqual(t, ho.ID, next.ID)
}

// errOf3 returns the error of a call with two results.
func errOf3[A, B any](_ A, _ B, err error) error { return err }

// testListHandoffs: the inbox's order — waiting, oldest first; taken,
// oldest first; ended, latest first — and its filters.
func testListHandoffs(t *testing.T, h Harness) {
	hs, _, _ := handoffStore(t, h)
	ctx := t.Context()
	open := func(user string) *casework.Handoff {
		t.Helper()
		ho := &casework.Handoff{Platform: "web", UserID: user}
		_, err := hs.OpenHandoff(ctx, ho)
		require.NoError(t, err)
		return ho
	}
	w1, t1, e1, w2, e2, t2 := open("w1"), open("t1"), open("e1"), open("w2"), open("e2"), open("t2")
	for _, ho := range []*casework.Handoff{t1, t2} {
		_, err := hs.TakeHandoff(ctx, ho.ID, casework.Staff("7"), "", time.Time{})
		require.NoError(t, err)
	}
	_, _, err := hs.EndHandoff(ctx, e1.ID, casework.Staff("7"), at(time.Hour), nil, casework.Effects{})
	require.NoError(t, err)
	_, _, err = hs.EndHandoff(ctx, e2.ID, casework.Staff("7"), at(2*time.Hour), nil, casework.Effects{})
	require.NoError(t, err)

	ids := func(f casework.HandoffFilter) []int64 {
		t.Helper()
		hs, err := hs.ListHandoffs(ctx, f)
		require.NoError(t, err)
		out := make([]int64, len(hs))
		for i, h := range hs {
			out[i] = h.ID
		}
		return out
	}
	assert.Equal(t, []int64{w1.ID, w2.ID, t1.ID, t2.ID, e2.ID, e1.ID}, ids(casework.HandoffFilter{}))
	assert.Equal(t, []int64{w1.ID, w2.ID}, ids(casework.HandoffFilter{States: []casework.HandoffState{casework.HandoffWaiting}}))
	assert.Equal(t, []int64{w1.ID, w2.ID, t1.ID, t2.ID}, ids(casework.HandoffFilter{States: []casework.HandoffState{casework.HandoffTaken, casework.HandoffWaiting}}))
	assert.Equal(t, []int64{w1.ID, w2.ID, t1.ID, t2.ID, e2.ID}, ids(casework.HandoffFilter{EndedSince: ptr(at(90 * time.Minute))}))
	assert.Equal(t, []int64{w1.ID, w2.ID, t1.ID}, ids(casework.HandoffFilter{Limit: 3}))
	_, err = hs.ListHandoffs(ctx, casework.HandoffFilter{States: []casework.HandoffState{"lost"}})
	requireInvalid(t, err, "state")
	_, err = hs.ListHandoffs(ctx, casework.HandoffFilter{Limit: -1})
	requireInvalid(t, err, "limit")
}
