// Package phone is the bot's channel to phones: it delivers outbound
// messages to the SMS and Voice platforms (bot.SMS, bot.Voice), whose user
// is a phone number, through an sms.Notifier — a provider's template text
// messages or its voice-call notifications. Registered in the Router's
// Channels like any chat platform, it lets the lifecycle queue a text
// message or a call in the outbox, in the transaction of the change that
// causes it, and have it delivered with the outbox's retries, its order per
// recipient and its failures recorded on the case.
package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/sms"
)

// Channel sends the messages of one phone platform through a Notifier. It
// is safe for concurrent use.
type Channel struct {
	platform bot.Platform
	notifier sms.Notifier
	logger   *slog.Logger
}

var _ bot.Channel = (*Channel)(nil)

// New returns the channel of platform (bot.SMS or bot.Voice) that sends
// through n; logger (nil: discard) receives one line per notice sent, with
// the phone masked.
func New(platform bot.Platform, n sms.Notifier, logger *slog.Logger) *Channel {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Channel{platform: platform, notifier: n, logger: logger}
}

// Platform returns the channel's platform.
func (c *Channel) Platform() bot.Platform { return c.platform }

// Send delivers msg, a text with its Template and Params, to the phone
// number msg.To.ID. A typing indicator and an edit have nothing to do on a
// phone and are skipped. A refusal no retry cures — a number the provider
// cannot reach, a template or an account it refuses, a medium with no
// provider — matches bot.ErrUndeliverable, so that the outbox fails the
// message at once; a rate limit or a transient failure does not, and the
// outbox tries again later. Errors show the number masked.
func (c *Channel) Send(ctx context.Context, msg bot.Outbound) error {
	switch msg.Kind {
	case bot.OutTyping, bot.OutEdit:
		return nil
	case bot.OutText:
	default:
		return fmt.Errorf("phone: %s: a %s message cannot be sent to a phone: %w", c.platform, msg.Kind, bot.ErrUndeliverable)
	}
	if msg.Template == "" {
		return fmt.Errorf("phone: %s: the message names no template; a provider sends approved templates only: %w", c.platform, bot.ErrUndeliverable)
	}
	n := sms.Notice{Template: msg.Template, Text: msg.Text}
	for _, p := range msg.Params {
		n.Params = append(n.Params, sms.Param{Name: p.Name, Value: p.Value})
	}
	phone := casework.MaskPhone(msg.To.ID)
	if err := c.notifier.Notify(ctx, msg.To.ID, n); err != nil {
		if sms.IsPermanent(err) {
			return fmt.Errorf("phone: %s to %s: %w: %w", c.platform, phone, err, bot.ErrUndeliverable)
		}
		if errors.Is(err, sms.ErrRateLimited) {
			return fmt.Errorf("phone: %s to %s: rate limited, will retry: %w", c.platform, phone, err)
		}
		return fmt.Errorf("phone: %s to %s: %w", c.platform, phone, err)
	}
	c.logger.InfoContext(ctx, "phone notice sent", "platform", c.platform, "phone", phone, "template", msg.Template)
	return nil
}
