// Package conversationtest is the conformance suite for the state that lets
// one or several instances serve one bot: every conversation.SessionStore,
// bot.Deduper and bot.Locker must pass it. A backend's _test.go calls the Run
// functions once each with a function that opens a fresh, empty backend, and
// BenchSessionStore from a benchmark:
//
//	func TestSessions(t *testing.T) { conversationtest.RunSessionStore(t, open) }
//	func BenchmarkSessions(b *testing.B) { conversationtest.BenchSessionStore(b, open) }
//
// Any change in the behaviour of these stores goes into this suite first,
// then into every backend.
//
// Beyond what the interfaces' comments say, the suite fixes these
// behaviours, which every backend shares:
//
//   - Sessions are stored as their JSON encoding: what Load returns shares
//     nothing with what Save was given or with another Load. Times come back
//     Equal to what was saved (not ==: the monotonic reading and the
//     *time.Location are not kept), and bot.Media.Err is not kept.
//   - Save refuses a nil session and a ttl that is not positive, and Mark a
//     ttl that is not positive: nothing lives forever.
//   - Save replaces the session and its ttl. Mark of a key already marked
//     keeps its first expiry (SET NX).
//   - Lock with a ctx already done fails even when the lock is free. Its
//     error matches both bot.ErrLockTimeout and ctx.Err().
//   - A stale unlock (called again after the lock was released and taken by
//     someone else) does not release the new holder's lock.
package conversationtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/conversation"
)

// Timings of the expiry tests: a short ttl, and how long to wait for it.
const (
	shortTTL    = 100 * time.Millisecond
	expiryWait  = 5 * time.Second
	pollEvery   = 10 * time.Millisecond
	lockTimeout = 10 * time.Second // for locks that must be taken
)

// SampleSession returns a realistic open session of user: a repair report in
// Chinese at its confirmation step, with seven answered slots, two media
// references and six choices on offer, started seven minutes before now.
func SampleSession(user bot.UserRef, now time.Time) *conversation.Session {
	lastInbound := now.Add(-30 * time.Second)
	return &conversation.Session{
		User:     user,
		Lang:     conversation.Chinese,
		LangSure: true,
		Flow:     "report",
		Step:     "confirm",
		Slots: map[string]string{
			"project":        "翠湖天地三期",
			"unit":           "7栋2单元1503室",
			"category":       "渗漏",
			"description":    "主卧卫生间天花板渗水，下雨后更严重，墙角已经发霉，楼下邻居也反映有水渍。希望尽快安排师傅上门查看并维修。",
			"contact_name":   "王女士",
			"phone":          "13800138000",
			"preferred_time": "周六上午9点到12点",
		},
		Media: []bot.Media{
			{
				FileID:      "AgACAgUAAxkBAAIBQ2ZkX3Jq9v8AAWc1bXl7AAHxT2mQAAJ6vDEbq8QhV5m1c0pW3zYeAQADAgADeQADNQQ",
				FileName:    "ceiling.jpg",
				ContentType: "image/jpeg",
				Size:        245_760,
				BlobKey:     "media/2025/06/14/7f3c9a1e4b2d4e6f8a0b1c2d3e4f5a6b.jpg",
			},
			{
				FileID:      "BAACAgUAAxkBAAIBRGZkX4Bv0m9AAWc1bXl7AAHxT2mQAAJ7vDEbq8QhV8Hh2pXk0QnqAQADAgADeQADNQQ",
				FileName:    "corner.mp4",
				ContentType: "video/mp4",
				Size:        3_145_728,
				BlobKey:     "media/2025/06/14/0a1b2c3d4e5f60718293a4b5c6d7e8f9.mp4",
			},
		},
		Back:     []string{"project", "unit", "category", "description", "photos", "contact"},
		Failures: 1,
		Choices: []bot.Choice{
			{Label: "确认提交", Payload: "confirm"},
			{Label: "修改项目", Payload: "edit:project"},
			{Label: "修改房号", Payload: "edit:unit"},
			{Label: "修改问题描述", Payload: "edit:description"},
			{Label: "补充照片", Payload: "add:photo"},
			{Label: "取消报修", Payload: "cancel"},
		},
		Identity: &casework.ChatIdentity{
			Platform: string(user.Platform), UserID: user.ID, OwnerID: 17, UnitID: 42, Lang: "zh",
			DisplayName: "林晓峰", LastInboundAt: &lastInbound, CreatedAt: now.Add(-30 * 24 * time.Hour), UpdatedAt: lastInbound,
		},
		IdentityAt: now.Add(-20 * time.Second),
		StartedAt:  now.Add(-7 * time.Minute),
		UpdatedAt:  now,
	}
}

// fullSession returns a session in which every field is set, times carry
// nanoseconds and a non-UTC zone.
func fullSession(user bot.UserRef) *conversation.Session {
	shanghai := time.FixedZone("CST", 8*60*60)
	s := SampleSession(user, time.Date(2025, 6, 14, 9, 30, 15, 123456789, shanghai))
	s.Lang = conversation.English
	s.Editing = true
	s.HandedOff = true
	s.HasCase = true
	return s
}

// eventually polls cond every pollEvery until it holds, and fails the test if
// it does not within wait. Unlike require.Eventually it calls cond on the test
// goroutine, so cond may use require and cannot outlive the test.
func eventually(t testing.TB, wait time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, msg, "condition not met within %v", wait)
		}
		time.Sleep(pollEvery)
	}
}

// never polls cond every pollEvery for d, and fails the test if it holds.
func never(t testing.TB, d time.Duration, msg string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(pollEvery) {
		if cond() {
			require.FailNow(t, msg)
		}
	}
}

// requireSessionEqual fails unless got equals want, times by Equal.
func requireSessionEqual(t testing.TB, want, got *conversation.Session) {
	t.Helper()
	require.NotNil(t, got, "session not found")
	assert.True(t, want.StartedAt.Equal(got.StartedAt), "StartedAt: want %v, got %v", want.StartedAt, got.StartedAt)
	assert.True(t, want.UpdatedAt.Equal(got.UpdatedAt), "UpdatedAt: want %v, got %v", want.UpdatedAt, got.UpdatedAt)
	assert.True(t, want.IdentityAt.Equal(got.IdentityAt), "IdentityAt: want %v, got %v", want.IdentityAt, got.IdentityAt)
	// Everything else, times included as instants with their offsets: the
	// JSON encodings match when the sessions are equal (Media.Err is not
	// stored and is nil in the fixtures).
	wj, err := json.Marshal(want)
	require.NoError(t, err)
	gj, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(wj), string(gj))
}

// RunSessionStore runs the SessionStore conformance suite. open must return
// a fresh, empty store that no other call shares, and clean it up in
// t.Cleanup. Every subtest opens its own store and runs in parallel with the
// others.
func RunSessionStore(t *testing.T, open func(t testing.TB) conversation.SessionStore) {
	alice := bot.UserRef{Platform: bot.Telegram, ID: "100200300"}

	t.Run("LoadMissing", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		got, err := store.Load(t.Context(), alice.Key())
		require.NoError(t, err)
		require.Nil(t, got)
	})

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		ctx := t.Context()
		want := fullSession(alice)
		v := reflect.ValueOf(*want)
		for i := range v.NumField() {
			require.False(t, v.Field(i).IsZero(), "the fixture must set Session.%s", v.Type().Field(i).Name)
		}

		require.NoError(t, store.Save(ctx, want, time.Minute))
		got, err := store.Load(ctx, alice.Key())
		require.NoError(t, err)
		requireSessionEqual(t, fullSession(alice), got)
	})

	t.Run("MediaErrNotKept", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		ctx := t.Context()
		s := SampleSession(alice, time.Now())
		s.Media[0].Err = errors.New("too large")
		require.NoError(t, store.Save(ctx, s, time.Minute))
		got, err := store.Load(ctx, alice.Key())
		require.NoError(t, err)
		require.NotNil(t, got)
		require.NoError(t, got.Media[0].Err)
	})

	t.Run("SaveReplaces", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		ctx := t.Context()
		require.NoError(t, store.Save(ctx, fullSession(alice), time.Minute))

		next := &conversation.Session{
			User:      alice,
			Lang:      conversation.Chinese,
			Flow:      "enquiry",
			Step:      "project",
			StartedAt: time.Date(2025, 6, 15, 8, 0, 0, 0, time.UTC),
			UpdatedAt: time.Date(2025, 6, 15, 8, 1, 0, 0, time.UTC),
		}
		require.NoError(t, store.Save(ctx, next, time.Minute))
		got, err := store.Load(ctx, alice.Key())
		require.NoError(t, err)
		requireSessionEqual(t, next, got) // no slots, media or choices left over
	})

	t.Run("NoAliasing", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		ctx := t.Context()
		saved := fullSession(alice)
		require.NoError(t, store.Save(ctx, saved, time.Minute))

		// Changing what was saved does not change the stored session.
		saved.Slots["unit"] = "changed"
		saved.Media[0].BlobKey = "changed"
		saved.Choices[0].Label = "changed"
		saved.Back[0] = "changed"

		first, err := store.Load(ctx, alice.Key())
		require.NoError(t, err)
		requireSessionEqual(t, fullSession(alice), first)

		// Nor does changing what was loaded.
		first.Slots["unit"] = "changed"
		first.Slots["new"] = "added"
		first.Media[1].FileName = "changed"
		first.Media = append(first.Media, bot.Media{FileID: "x"})
		first.Choices[5].Payload = "changed"
		first.Back[1] = "changed"
		first.Step = "changed"

		second, err := store.Load(ctx, alice.Key())
		require.NoError(t, err)
		requireSessionEqual(t, fullSession(alice), second)
	})

	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		ctx := t.Context()
		require.NoError(t, store.Save(ctx, SampleSession(alice, time.Now()), shortTTL))
		got, err := store.Load(ctx, alice.Key())
		require.NoError(t, err)
		require.NotNil(t, got, "a session must be there before its ttl")

		eventually(t, expiryWait, "the session must expire after its ttl", func() bool {
			got, err := store.Load(ctx, alice.Key())
			require.NoError(t, err)
			return got == nil
		})
	})

	t.Run("SaveRenewsTTL", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		ctx := t.Context()
		require.NoError(t, store.Save(ctx, SampleSession(alice, time.Now()), shortTTL))
		require.NoError(t, store.Save(ctx, SampleSession(alice, time.Now()), time.Minute))
		never(t, 3*shortTTL, "the second Save's ttl must replace the first's", func() bool {
			got, err := store.Load(ctx, alice.Key())
			require.NoError(t, err)
			return got == nil
		})
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		ctx := t.Context()
		require.NoError(t, store.Delete(ctx, alice.Key()), "deleting a missing session is not an error")

		require.NoError(t, store.Save(ctx, SampleSession(alice, time.Now()), time.Minute))
		require.NoError(t, store.Delete(ctx, alice.Key()))
		got, err := store.Load(ctx, alice.Key())
		require.NoError(t, err)
		require.Nil(t, got)
		require.NoError(t, store.Delete(ctx, alice.Key()), "deleting twice is not an error")

		// A deleted session can be saved again.
		require.NoError(t, store.Save(ctx, fullSession(alice), time.Minute))
		got, err = store.Load(ctx, alice.Key())
		require.NoError(t, err)
		requireSessionEqual(t, fullSession(alice), got)
	})

	t.Run("UsersIndependent", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		ctx := t.Context()
		users := []bot.UserRef{
			alice,
			{Platform: bot.WeChat, ID: alice.ID}, // same id, other platform
			{Platform: bot.Telegram, ID: "100200301"},
			{Platform: bot.WeChat, ID: "oGZUI0egBJY1zhBYw2KhdUfwVJJE"},
		}
		for i, u := range users {
			s := SampleSession(u, time.Now())
			s.Step = fmt.Sprintf("step-%d", i)
			require.NoError(t, store.Save(ctx, s, time.Minute))
		}
		for i, u := range users {
			got, err := store.Load(ctx, u.Key())
			require.NoError(t, err)
			require.NotNil(t, got, u.Key())
			require.Equal(t, u, got.User)
			require.Equal(t, fmt.Sprintf("step-%d", i), got.Step)
		}

		require.NoError(t, store.Delete(ctx, users[0].Key()))
		for _, u := range users[1:] {
			got, err := store.Load(ctx, u.Key())
			require.NoError(t, err)
			require.NotNil(t, got, "deleting %s must keep %s", users[0].Key(), u.Key())
		}
	})

	t.Run("Refuses", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		ctx := t.Context()
		require.Error(t, store.Save(ctx, nil, time.Minute), "nil session")
		require.Error(t, store.Save(ctx, SampleSession(alice, time.Now()), 0), "zero ttl")
		require.Error(t, store.Save(ctx, SampleSession(alice, time.Now()), -time.Second), "negative ttl")
		got, err := store.Load(ctx, alice.Key())
		require.NoError(t, err)
		require.Nil(t, got, "a refused Save stores nothing")
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		store := open(t)
		ctx := t.Context()
		shared := bot.UserRef{Platform: bot.WeChat, ID: "shared"}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				own := bot.UserRef{Platform: bot.Telegram, ID: fmt.Sprintf("user-%d", g)}
				for i := range 20 {
					for _, u := range []bot.UserRef{own, shared} {
						s := SampleSession(u, time.Now())
						s.Failures = i
						assert.NoError(t, store.Save(ctx, s, time.Minute))
						got, err := store.Load(ctx, u.Key())
						if assert.NoError(t, err) && assert.NotNil(t, got) {
							assert.Equal(t, u, got.User)
						}
					}
				}
				got, err := store.Load(ctx, own.Key())
				if assert.NoError(t, err) && assert.NotNil(t, got) {
					assert.Equal(t, 19, got.Failures)
				}
			})
		}
		wg.Wait()
	})
}

// RunDeduper runs the Deduper conformance suite. open must return a fresh,
// empty deduper that no other call shares, and clean it up in t.Cleanup.
// Every subtest opens its own deduper and runs in parallel with the others.
func RunDeduper(t *testing.T, open func(t testing.TB) bot.Deduper) {
	const key = "wechat:oGZUI0egBJY1zhBYw2KhdUfwVJJE:24518956789012345"

	t.Run("Unseen", func(t *testing.T) {
		t.Parallel()
		d := open(t)
		seen, err := d.Seen(t.Context(), key)
		require.NoError(t, err)
		require.False(t, seen)
	})

	t.Run("MarkThenSeen", func(t *testing.T) {
		t.Parallel()
		d := open(t)
		ctx := t.Context()
		require.NoError(t, d.Mark(ctx, key, time.Minute))
		seen, err := d.Seen(ctx, key)
		require.NoError(t, err)
		require.True(t, seen)

		for _, other := range []string{key + "0", "telegram:1:1", ""} {
			seen, err := d.Seen(ctx, other)
			require.NoError(t, err)
			require.False(t, seen, "marking %q must not mark %q", key, other)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		d := open(t)
		ctx := t.Context()
		require.NoError(t, d.Mark(ctx, key, shortTTL))
		seen, err := d.Seen(ctx, key)
		require.NoError(t, err)
		require.True(t, seen, "a mark must be there before its ttl")
		eventually(t, expiryWait, "the mark must expire after its ttl", func() bool {
			seen, err := d.Seen(ctx, key)
			require.NoError(t, err)
			return !seen
		})

		// An expired mark can be made again.
		require.NoError(t, d.Mark(ctx, key, time.Minute))
		seen, err = d.Seen(ctx, key)
		require.NoError(t, err)
		require.True(t, seen)
	})

	t.Run("MarkKeepsFirstExpiry", func(t *testing.T) {
		t.Parallel()
		d := open(t)
		ctx := t.Context()
		require.NoError(t, d.Mark(ctx, key, shortTTL))
		require.NoError(t, d.Mark(ctx, key, time.Hour))
		eventually(t, expiryWait, "marking again must keep the first expiry", func() bool {
			seen, err := d.Seen(ctx, key)
			require.NoError(t, err)
			return !seen
		})
	})

	t.Run("RefusesTTL", func(t *testing.T) {
		t.Parallel()
		d := open(t)
		ctx := t.Context()
		require.Error(t, d.Mark(ctx, key, 0))
		require.Error(t, d.Mark(ctx, key, -time.Second))
		seen, err := d.Seen(ctx, key)
		require.NoError(t, err)
		require.False(t, seen, "a refused Mark marks nothing")
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		d := open(t)
		ctx := t.Context()
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 50 {
					k := fmt.Sprintf("telegram:%d:%d", g, i)
					seen, err := d.Seen(ctx, k)
					assert.NoError(t, err)
					assert.False(t, seen)
					assert.NoError(t, d.Mark(ctx, k, time.Minute))
					assert.NoError(t, d.Mark(ctx, "shared", time.Minute))
					seen, err = d.Seen(ctx, k)
					assert.NoError(t, err)
					assert.True(t, seen)
				}
			})
		}
		wg.Wait()
	})
}

// RunLocker runs the Locker conformance suite. open must return a fresh
// locker holding no locks, that no other call shares, and clean it up in
// t.Cleanup. Every subtest opens its own locker and runs in parallel with
// the others.
func RunLocker(t *testing.T, open func(t testing.TB) bot.Locker) {
	const key = "telegram:100200300"

	// mustLock takes the lock on key or fails the test.
	mustLock := func(t testing.TB, l bot.Locker, key string) func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), lockTimeout)
		defer cancel()
		unlock, err := l.Lock(ctx, key)
		require.NoError(t, err)
		require.NotNil(t, unlock)
		return unlock
	}

	// requireHeld fails unless key is held elsewhere: a Lock on it times out.
	requireHeld := func(t testing.TB, l bot.Locker, key string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		unlock, err := l.Lock(ctx, key)
		if err == nil {
			unlock()
		}
		require.ErrorIs(t, err, bot.ErrLockTimeout, "%s must be held", key)
	}

	t.Run("MutualExclusion", func(t *testing.T) {
		t.Parallel()
		l := open(t)
		const goroutines, increments = 8, 50
		counter := 0 // not atomic: the lock alone guards it, and -race checks it
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for range increments {
					ctx, cancel := context.WithTimeout(t.Context(), lockTimeout)
					unlock, err := l.Lock(ctx, key)
					cancel()
					if !assert.NoError(t, err) {
						return
					}
					v := counter
					runtime.Gosched() // invite a lost update
					counter = v + 1
					unlock()
				}
			})
		}
		wg.Wait()
		require.Equal(t, goroutines*increments, counter)
	})

	t.Run("DifferentKeysIndependent", func(t *testing.T) {
		t.Parallel()
		l := open(t)
		unlockA := mustLock(t, l, key)
		defer unlockA()

		start := time.Now()
		for _, other := range []string{"wechat:100200300", "telegram:100200301"} {
			unlock := mustLock(t, l, other)
			unlock()
		}
		require.Less(t, time.Since(start), time.Second, "other keys must not wait for %s", key)
		requireHeld(t, l, key)
	})

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		l := open(t)
		unlock := mustLock(t, l, key)

		const wait = 100 * time.Millisecond
		ctx, cancel := context.WithTimeout(t.Context(), wait)
		defer cancel()
		start := time.Now()
		got, err := l.Lock(ctx, key)
		elapsed := time.Since(start)
		require.Nil(t, got)
		require.ErrorIs(t, err, bot.ErrLockTimeout)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.GreaterOrEqual(t, elapsed, wait-5*time.Millisecond, "Lock must wait until ctx is done")
		require.Less(t, elapsed, wait+time.Second, "Lock must return soon after ctx is done")

		// The timed-out waiter left nothing behind.
		unlock()
		mustLock(t, l, key)()
	})

	t.Run("Cancel", func(t *testing.T) {
		t.Parallel()
		l := open(t)
		unlock := mustLock(t, l, key)
		defer unlock()

		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := l.Lock(ctx, key)
		require.ErrorIs(t, err, bot.ErrLockTimeout)
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("DoneContext", func(t *testing.T) {
		t.Parallel()
		l := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := l.Lock(ctx, key)
		require.ErrorIs(t, err, bot.ErrLockTimeout, "a done ctx fails even when the lock is free")
		require.ErrorIs(t, err, context.Canceled)
		mustLock(t, l, key)()
	})

	t.Run("DoubleUnlock", func(t *testing.T) {
		t.Parallel()
		l := open(t)
		first := mustLock(t, l, key)
		first()
		first() // harmless

		second := mustLock(t, l, key)
		first() // stale: must not release the second holder's lock
		requireHeld(t, l, key)
		second()
		second()
		mustLock(t, l, key)()
	})

	t.Run("PromptHandoff", func(t *testing.T) {
		t.Parallel()
		l := open(t)
		unlock := mustLock(t, l, key)

		acquired := make(chan time.Time, 1)
		go func() {
			ctx, cancel := context.WithTimeout(t.Context(), lockTimeout)
			defer cancel()
			unlock, err := l.Lock(ctx, key)
			acquired <- time.Now()
			if assert.NoError(t, err) {
				unlock()
			}
		}()

		// Let the waiter settle into waiting (its longest poll interval, on
		// backends that poll), then check that it does wait.
		select {
		case <-acquired:
			require.FailNow(t, "the waiter took a held lock")
		case <-time.After(200 * time.Millisecond):
		}
		released := time.Now()
		unlock()
		got := <-acquired
		require.Less(t, got.Sub(released), 200*time.Millisecond, "a waiter must take a released lock promptly")
	})

	t.Run("ManyWaiters", func(t *testing.T) {
		t.Parallel()
		l := open(t)
		unlock := mustLock(t, l, key)

		// Waiters that give up leave the lock as it was.
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
				defer cancel()
				_, err := l.Lock(ctx, key)
				assert.ErrorIs(t, err, bot.ErrLockTimeout)
			})
		}
		wg.Wait()
		requireHeld(t, l, key)

		// Waiters that wait all get the lock, one at a time.
		var (
			mu    sync.Mutex
			order []int
		)
		for i := range 8 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), lockTimeout)
				defer cancel()
				unlock, err := l.Lock(ctx, key)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				unlock()
			})
		}
		unlock()
		wg.Wait()
		slices.Sort(order)
		require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, order)
	})
}

// BenchSessionStore measures a Save followed by a Load of a SampleSession on
// the store open returns, and reports their latency's median and 99th
// percentile in microseconds (p50-µs, p99-µs).
func BenchSessionStore(b *testing.B, open func(t testing.TB) conversation.SessionStore) {
	store := open(b)
	ctx := b.Context()
	user := bot.UserRef{Platform: bot.Telegram, ID: "100200300"}
	s := SampleSession(user, time.Now())
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := store.Save(ctx, s, time.Hour); err != nil {
			b.Fatal(err)
		}
		got, err := store.Load(ctx, user.Key())
		if err != nil || got == nil {
			b.Fatalf("Load = %v, %v", got, err)
		}
		lat = append(lat, time.Since(start))
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	micros := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Microsecond)
	}
	b.ReportMetric(micros(0.50), "p50-µs")
	b.ReportMetric(micros(0.99), "p99-µs")
}
