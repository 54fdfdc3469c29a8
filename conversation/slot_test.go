package conversation_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
)

// TestTypedSlot: the engineer offers visit times in words as well as by
// buttons. Taking the order at 11 pm, "tonight 8" has passed and is
// refused, saying so; the next morning the buttons start with this evening
// (a same-day offer), words that name no time are asked again, "tonight
// 8pm" is taken, and a time after the on-site deadline is taken with a
// warning and noted on the timeline as the engineer's choice. The owner is
// offered both.
func TestTypedSlot(t *testing.T) {
	runBoth(t, "typed_slot", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		ctx := context.Background()
		w.withLifecycle(t)
		w.bindMember(t, "吴海涛", "9001", pick("zh", "en"))
		e := w.user("9001", pick("zh-hans", "en-GB"))
		number := reportLeak(t, w, u, pick)

		w.note("吴海涛 takes the order at 11 pm and offers a time tonight")
		w.pushedToAs(t, e, "the engineer")
		e.press(lifecycle.Payload(lifecycle.ActTake, number))
		e.press(lifecycle.Payload(lifecycle.ActSlots, number))
		e.say(pick("今晚8点", "tonight 8pm"))
		e.command("cancel")

		w.note("the next morning at 9")
		w.clock.Advance(10 * time.Hour)
		e.command("orders")
		e.press(lifecycle.Payload(lifecycle.ActOrder, number))
		e.press(lifecycle.Payload(lifecycle.ActSlots, number))
		e.say(pick("看情况吧", "whenever suits"))
		e.say(pick("今晚8点", "tonight 8pm"))
		e.say(pick("下周三上午10点", "next Wednesday 10am"))
		e.press("slot:send")
		w.pushedTo(t, u)

		c := w.onlyCase(t)
		require.Len(t, c.ProposedSlots, 2)

		w.note("the owner proposes a time of their own; this morning has passed")
		u.press(lifecycle.Payload(lifecycle.ActOther, number))
		u.say(pick("今天早上8点", "today 8am"))
		u.say(pick("明天晚上7点半", "tomorrow 7:30pm"))
		w.pushedToAs(t, e, "the engineer")
		owners := testclock.Date(2026, 11, 29, 19, 30, 0, 0, casework.ChinaTime())
		e.press(lifecycle.Payload(lifecycle.ActSlots, number, strconv.FormatInt(owners.Unix(), 10)))
		e.press("slot:send")
		w.pushedTo(t, u)
		u.press(lifecycle.Payload(lifecycle.ActPick, number, strconv.FormatInt(owners.Unix(), 10)))
		c = w.onlyCase(t)
		require.Equal(t, casework.StateScheduled, c.State)
		require.NotNil(t, c.AppointmentAt)
		assert.True(t, owners.Equal(*c.AppointmentAt), "booked at the owner's time: %s", c.AppointmentAt)
		events, err := w.store.ListCaseEvents(ctx, c.ID)
		require.NoError(t, err)
		var notes []string
		for _, ev := range events {
			notes = append(notes, ev.Note)
		}
		assert.Contains(t, strings.Join(notes, "\n"), "is after the on-site deadline")
	})
}
