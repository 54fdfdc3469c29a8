package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aftersales/aftersales/bot"
)

// Who a message is from.
const (
	fromBot  = "bot"
	fromUser = "user"
)

// message is one entry of a visitor's conversation as the page gets it. The
// visitor's own messages are kept too (From "user", ID the page's message
// id), so that a reloaded page shows both sides.
type message struct {
	Seq            int64        `json:"seq"`
	From           string       `json:"from"`
	Kind           string       `json:"kind"`
	ID             string       `json:"id,omitempty"`
	Text           string       `json:"text,omitempty"`
	Choices        []bot.Choice `json:"choices,omitempty"`
	RequestContact bool         `json:"request_contact,omitempty"`
	// BlobKey is the stored photo the message shows; kept in the
	// Mailbox, never sent to the page, which gets MediaURL instead.
	BlobKey  string `json:"blob_key,omitempty"`
	MediaURL string `json:"media_url,omitempty"`
}

// push adds m to the visitor's box in the Mailbox, which wakes the polls
// waiting for it on every instance. A visitor's own message is kept once per
// message id: a re-sent message (the page retrying) is not shown twice.
func (c *Channel) push(ctx context.Context, visitor string, m message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var dedupe string
	switch {
	case m.Kind == kindStored:
		dedupe = "stored:" + m.ID
	case m.From == fromUser:
		dedupe = "user:" + m.ID
	}
	if _, _, err := c.opts.Mailbox.Put(ctx, visitor, dedupe, body, c.opts.NowFunc()); err != nil {
		return fmt.Errorf("web: keep a message for the page: %w", err)
	}
	return nil
}

// poll returns the visitor's messages after seq, waiting up to PollWait for
// one when there are none, and the seq to ask after next time. When seq is
// beyond the newest message — the box was forgotten, or the page polled
// another service's store, since it last polled — it starts again from 0.
// It returns early, with no messages, when ctx is done.
func (c *Channel) poll(ctx context.Context, visitor string, seq int64) ([]message, int64, error) {
	timer := time.NewTimer(c.opts.PollWait)
	defer timer.Stop()
	for {
		wake, stop := c.opts.Mailbox.Watch(visitor)
		entries, last, err := c.opts.Mailbox.After(ctx, visitor, seq, c.opts.NowFunc())
		if err != nil {
			stop()
			return nil, seq, fmt.Errorf("web: read the page's messages: %w", err)
		}
		if seq > last {
			seq = 0
			entries, last, err = c.opts.Mailbox.After(ctx, visitor, 0, c.opts.NowFunc())
			if err != nil {
				stop()
				return nil, seq, fmt.Errorf("web: read the page's messages: %w", err)
			}
		}
		if len(entries) > 0 {
			stop()
			return decode(entries), last, nil
		}
		if hook := c.waitHook.Load(); hook != nil {
			(*hook)()
		}
		woken := false
		select {
		case <-wake:
			woken = true
		case <-timer.C:
		case <-ctx.Done():
		}
		stop()
		if !woken {
			return nil, seq, nil
		}
	}
}

// kindStored is the kind of the entry that follows a visitor's photo once
// the service stored it: its ID is the photo message's, its BlobKey the
// stored photo.
const kindStored = "stored"

// decode turns the Mailbox's entries into messages; an entry that is not a
// message (written by another version of the page) is skipped. A stored
// entry gives its URL to the visitor's photo message among entries, and is
// a message of its own only when that one came in an earlier poll: the page
// then adds the photo to the message it shows.
func decode(entries []bot.MailboxEntry) []message {
	out := make([]message, 0, len(entries))
	byID := map[string]int{} // the visitor's messages among out
	for _, e := range entries {
		var m message
		if json.Unmarshal(e.Body, &m) != nil {
			continue
		}
		m.Seq = e.Seq
		if m.BlobKey != "" {
			m.MediaURL, m.BlobKey = mediaPath(e.Seq), ""
		}
		if m.Kind == kindStored {
			if i, ok := byID[m.ID]; ok {
				out[i].MediaURL = m.MediaURL
				continue
			}
		} else if m.From == fromUser && m.ID != "" {
			byID[m.ID] = len(out)
		}
		out = append(out, m)
	}
	return out
}

// mediaPath is where the page fetches the photo of its message seq: by the
// message's number in the visitor's own conversation, so that the URL says
// nothing of the stored file and opens only with the visitor's cookie.
func mediaPath(seq int64) string { return "api/media/" + strconv.FormatInt(seq, 10) }

// messageAt returns the visitor's message seq, or false when it is not kept.
func (c *Channel) messageAt(ctx context.Context, visitor string, seq int64) (message, bool, error) {
	entries, _, err := c.opts.Mailbox.After(ctx, visitor, seq-1, c.opts.NowFunc())
	if err != nil {
		return message{}, false, err
	}
	for _, e := range entries {
		if e.Seq != seq {
			continue
		}
		var m message
		if json.Unmarshal(e.Body, &m) != nil {
			return message{}, false, nil
		}
		return m, true, nil
	}
	return message{}, false, nil
}
