package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Router takes inbound messages from every adapter to the conversation
// engine: it drops a message it has handled before, holds the user's lock
// so that one user's messages are handled one at a time (across instances
// when the Locker is on Redis), stores attached media, runs the Handler and
// delivers the replies in order.
type Router struct {
	Handler  Handler
	Dedupe   Deduper
	Locker   Locker
	Intake   *Intake
	Channels map[Platform]Channel
	Logger   *slog.Logger

	// DedupeTTL is how long a handled message id is remembered; default 48 h.
	DedupeTTL time.Duration
	// LockWait is how long a message waits for the user's previous message;
	// default 60 s.
	LockWait time.Duration

	// Limit bounds each user's messages (keyed by UserRef.Key); nil: no
	// limit. A message over it is not handled: it is marked handled, and
	// the user is told to slow down at most as often as Notice allows
	// (nil: each time). When the limiter fails the message is handled, so
	// that a limiter's outage is not the service's.
	Limit  Limiter
	Notice Limiter
	// NowFunc is the clock the limits are counted by; required with Limit.
	NowFunc func() time.Time
}

// ErrNoChannel is returned when a reply is for a platform with no Channel.
var ErrNoChannel = errors.New("no channel for platform")

// ErrUndeliverable is matched (errors.Is) by the errors of a Channel's Send
// for a message the platform will never take — the user blocked the bot or
// unsubscribed, WeChat's window closed with no template to carry it — so that
// the sender gives up at once instead of trying again.
var ErrUndeliverable = errors.New("the platform will not deliver this message")

// Offerer is implemented by a Handler that must know of the choices a
// message offered when it was pushed outside a reply (a notification with
// buttons), so that the user's typed number or words select one.
type Offerer interface {
	Offer(ctx context.Context, user UserRef, choices []Choice) error
}

// Push delivers messages that are not replies — notifications of a case's
// progress — to their users: for each user in turn it holds the user's lock,
// so that a push never interleaves with a reply, lets the Handler know of the
// choices offered, and sends. It stops at the first failure and returns it.
func (r *Router) Push(ctx context.Context, out []Outbound) error {
	for len(out) > 0 {
		to := out[0].To
		n := 1
		for n < len(out) && out[n].To == to {
			n++
		}
		batch := out[:n]
		if err := r.Exclusive(ctx, to, func(send SendFunc) error { return send(ctx, batch) }); err != nil {
			return err
		}
		out = out[n:]
	}
	return nil
}

// Exclusive runs fn while holding user's lock, so that nothing else is
// sent to the user meanwhile — no reply and no other push. send delivers
// messages to the user as Push does: the Handler learns of the choices they
// offer (Offerer), then the Channel sends them.
func (r *Router) Exclusive(ctx context.Context, user UserRef, fn func(send SendFunc) error) error {
	lockCtx, cancel := context.WithTimeout(ctx, r.lockWait())
	unlock, err := r.Locker.Lock(lockCtx, user.Key())
	cancel()
	if err != nil {
		return fmt.Errorf("lock user: %w", err)
	}
	defer unlock()
	return fn(func(ctx context.Context, out []Outbound) error {
		if o, ok := r.Handler.(Offerer); ok {
			for i := len(out) - 1; i >= 0; i-- {
				if len(out[i].Choices) > 0 {
					if err := o.Offer(ctx, out[i].To, out[i].Choices); err != nil {
						return fmt.Errorf("offer choices: %w", err)
					}
					break
				}
			}
		}
		return r.Send(ctx, out)
	})
}

// SendFunc delivers the replies to one inbound message, in order.
type SendFunc func(ctx context.Context, out []Outbound) error

// Dispatch handles in and sends its replies through the platform's Channel.
// A message handled before is dropped and Dispatch returns nil.
func (r *Router) Dispatch(ctx context.Context, in *Inbound) error {
	return r.Process(ctx, in, r.Send)
}

// Send delivers out through the Channels, in order; it stops at the first
// failure and returns it. Under WithSentRefs, the references that RefSender
// channels return are recorded.
func (r *Router) Send(ctx context.Context, out []Outbound) error {
	refs := sentRefsOf(ctx)
	for _, o := range out {
		ch, ok := r.Channels[o.To.Platform]
		if !ok {
			return fmt.Errorf("%w %s", ErrNoChannel, o.To.Platform)
		}
		rs, isRefSender := ch.(RefSender)
		if refs == nil || !isRefSender {
			if err := ch.Send(ctx, o); err != nil {
				return fmt.Errorf("send to %s: %w", o.To.Platform, err)
			}
			continue
		}
		ref, err := rs.SendRef(ctx, o)
		if err != nil {
			return fmt.Errorf("send to %s: %w", o.To.Platform, err)
		}
		refs.add(ref)
	}
	return nil
}

// Process handles in under the user's lock and passes the replies to send
// while still holding it, so that replies to one user never interleave.
// Adapters that can reply synchronously (WeChat's passive reply) pass their
// own send.
func (r *Router) Process(ctx context.Context, in *Inbound, send SendFunc) error {
	log := r.logger().With("platform", in.User.Platform, "message_id", in.MessageID)
	lockCtx, cancel := context.WithTimeout(ctx, r.lockWait())
	var unlock func()
	var err error
	if ol, ok := r.Locker.(OrderedLocker); ok && in.MessageID != "" {
		unlock, err = ol.LockInOrder(lockCtx, in.User.Key(), MessageOrder(in))
	} else {
		unlock, err = r.Locker.Lock(lockCtx, in.User.Key())
	}
	cancel()
	if err != nil {
		return fmt.Errorf("lock user: %w", err)
	}
	defer unlock()

	dedupeKey := ""
	if in.MessageID != "" {
		dedupeKey = in.User.Key() + ":" + in.MessageID
		seen, err := r.Dedupe.Seen(ctx, dedupeKey)
		if err != nil {
			return fmt.Errorf("dedupe: %w", err)
		}
		if seen {
			log.Debug("duplicate message dropped")
			return nil
		}
	}
	if r.Limit != nil {
		over, err := r.overLimit(ctx, in, dedupeKey, send)
		if err != nil || over {
			return err
		}
	}
	if in.Media != nil && in.Media.BlobKey == "" && in.Media.Err == nil && r.Intake != nil {
		fetcher, _ := r.Channels[in.User.Platform].(MediaFetcher)
		if fetcher == nil {
			in.Media.Err = fmt.Errorf("%w %s", ErrNoChannel, in.User.Platform)
		} else if err := r.Intake.Store(ctx, in.Kind, in.Media, fetcher); err != nil {
			return fmt.Errorf("store media: %w", err)
		}
		if in.Media.Err != nil {
			log.Info("media refused", "kind", in.Kind, "error", in.Media.Err)
		}
	}
	out, err := r.Handler.Handle(ctx, in)
	if err != nil {
		log.Error("message not handled", "kind", in.Kind, "error", err)
		// Not marked: a platform retry, or the user, may try again.
		if serr := send(ctx, []Outbound{{To: in.User, Kind: OutText, Text: busyText}}); serr != nil {
			log.Warn("apology not delivered", "error", serr)
		}
		return fmt.Errorf("handle: %w", err)
	}
	if dedupeKey != "" {
		if err := r.Dedupe.Mark(ctx, dedupeKey, r.dedupeTTL()); err != nil {
			// Handled but not remembered: a retry would be handled again.
			log.Error("dedupe mark failed", "error", err)
		}
	}
	if len(out) == 0 {
		return nil
	}
	if err := send(ctx, out); err != nil {
		log.Error("reply not delivered", "error", err)
		return err
	}
	return nil
}

// overLimit reports whether the user's message is over Limit; such a
// message is marked handled, and the user told (at most as often as Notice
// allows) to slow down.
func (r *Router) overLimit(ctx context.Context, in *Inbound, dedupeKey string, send SendFunc) (bool, error) {
	log := r.logger()
	now := r.NowFunc()
	ok, wait, err := r.Limit.Allow(ctx, in.User.Key(), now)
	if err != nil {
		log.Warn("message limit unavailable; the message is handled", "platform", in.User.Platform, "error", err)
		return false, nil
	}
	if ok {
		return false, nil
	}
	log.Info("message over the limit", "platform", in.User.Platform, "retry_after", wait.Round(time.Second).String())
	if dedupeKey != "" {
		if err := r.Dedupe.Mark(ctx, dedupeKey, r.dedupeTTL()); err != nil {
			log.Error("dedupe mark failed", "error", err)
		}
	}
	if r.Notice != nil {
		if tell, _, err := r.Notice.Allow(ctx, in.User.Key(), now); err != nil || !tell {
			return true, nil
		}
	}
	if err := send(ctx, []Outbound{{To: in.User, Kind: OutText, Text: limitedText}}); err != nil {
		log.Warn("slow-down notice not delivered", "error", err)
	}
	return true, nil
}

// limitedText tells a user over the message limit to slow down, in both
// languages: the router does not know the user's.
const limitedText = "您发送得太快了，请稍后再试。\nYou are sending messages too fast. Please try again in a moment."

// busyText is said when the engine failed; the router does not know the
// user's language, so it speaks both.
const busyText = "抱歉，系统繁忙，请稍后再发一次。\nSorry, something went wrong on our side. Please send that again in a moment."

func (r *Router) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Router) dedupeTTL() time.Duration {
	if r.DedupeTTL > 0 {
		return r.DedupeTTL
	}
	return 48 * time.Hour
}

func (r *Router) lockWait() time.Duration {
	if r.LockWait > 0 {
		return r.LockWait
	}
	return 60 * time.Second
}
