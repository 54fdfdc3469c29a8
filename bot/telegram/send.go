package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/time/rate"

	"github.com/aftersales/aftersales/bot"
)

// ErrUnreachable is returned by Send when the user blocked the bot or
// deleted their account (403): the message cannot be delivered, and the user
// is marked unreachable for staff.
var ErrUnreachable = fmt.Errorf("telegram: the user blocked the bot: %w", bot.ErrUndeliverable)

// maxText is Telegram's limit on a message's text, in UTF-16 code units.
const maxText = 4096

// contactButton is the label of the share-my-number button. The adapter does
// not know the user's language, so it says both.
const contactButton = "📱 分享手机号 Share my number"

// Send delivers msg, within the per-chat and overall rate limits; it waits
// out 429s as long as retry_after says and retries transient failures. A
// text too long for one message is split at line breaks. Sending to a user
// who blocked the bot returns ErrUnreachable after recording it.
func (a *Adapter) Send(ctx context.Context, msg bot.Outbound) error {
	chatID, err := strconv.ParseInt(msg.To.ID, 10, 64)
	if err != nil {
		return fmt.Errorf("telegram: chat id %q: %w", msg.To.ID, err)
	}
	switch msg.Kind {
	case bot.OutTyping:
		return a.do(ctx, chatID, tgbotapi.NewChatAction(chatID, tgbotapi.ChatTyping))
	case bot.OutPhoto:
		return a.sendPhoto(ctx, chatID, msg)
	}
	parts := splitText(msg.Text, maxText)
	for i, part := range parts {
		m := tgbotapi.NewMessage(chatID, part)
		m.DisableWebPagePreview = true
		if i == len(parts)-1 {
			a.markup(chatID, &m, msg)
		}
		if err := a.do(ctx, chatID, m); err != nil {
			return err
		}
	}
	return nil
}

// markup attaches the choices as an inline keyboard, the share-contact
// button as a reply keyboard, or removes a reply keyboard left showing.
func (a *Adapter) markup(chatID int64, m *tgbotapi.MessageConfig, msg bot.Outbound) {
	st := a.chat(chatID)
	switch {
	case msg.RequestContact:
		kb := tgbotapi.NewOneTimeReplyKeyboard(tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonContact(contactButton)))
		kb.ResizeKeyboard = true
		m.ReplyMarkup = kb
		a.mu.Lock()
		st.replyKeyboard = true
		a.mu.Unlock()
	case len(msg.Choices) > 0:
		m.ReplyMarkup = inlineKeyboard(msg.Choices)
	default:
		a.mu.Lock()
		shown := st.replyKeyboard
		st.replyKeyboard = false
		a.mu.Unlock()
		if shown {
			m.ReplyMarkup = tgbotapi.NewRemoveKeyboard(false)
		}
	}
}

// inlineKeyboard lays the choices out two to a row when their labels are
// short, one to a row otherwise. A payload over Telegram's 64 bytes is cut
// (the engine's payloads are shorter; a test keeps them so).
func inlineKeyboard(choices []bot.Choice) tgbotapi.InlineKeyboardMarkup {
	var rows [][]tgbotapi.InlineKeyboardButton
	var row []tgbotapi.InlineKeyboardButton
	for _, c := range choices {
		data := c.Payload
		if len(data) > 64 {
			data = data[:64]
		}
		b := tgbotapi.NewInlineKeyboardButtonData(c.Label, data)
		long := len([]rune(c.Label)) > 10
		if long && len(row) > 0 {
			rows, row = append(rows, row), nil
		}
		row = append(row, b)
		if long || len(row) == 2 {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return tgbotapi.NewInlineKeyboardMarkup(rows...)
}

func (a *Adapter) sendPhoto(ctx context.Context, chatID int64, msg bot.Outbound) error {
	if a.cfg.Blobs == nil {
		return errors.New("telegram: no blob store for photos")
	}
	rc, err := a.cfg.Blobs.Open(ctx, msg.BlobKey)
	if err != nil {
		return fmt.Errorf("telegram: open photo: %w", err)
	}
	data, err := readAll(rc, bot.MaxMediaMB<<20)
	rc.Close()
	if err != nil {
		return fmt.Errorf("telegram: read photo: %w", err)
	}
	p := tgbotapi.NewPhoto(chatID, tgbotapi.FileBytes{Name: "photo.jpg", Bytes: data})
	p.Caption = string(truncateUTF16(msg.Text, 1024))
	return a.do(ctx, chatID, p)
}

// chat returns the per-chat state, creating it; idle chats are forgotten.
func (a *Adapter) chat(chatID int64) *chatState {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	st, ok := a.perChat[chatID]
	if !ok {
		if len(a.perChat) > 10000 {
			for id, s := range a.perChat {
				if now.Sub(s.lastUsed) > 10*time.Minute {
					delete(a.perChat, id)
				}
			}
		}
		st = &chatState{limiter: rate.NewLimiter(a.cfg.PerChatRate, a.cfg.PerChatBurst)}
		a.perChat[chatID] = st
	}
	st.lastUsed = now
	return st
}

// do sends one request to a chat within the limits, retrying what can be
// retried.
func (a *Adapter) do(ctx context.Context, chatID int64, c tgbotapi.Chattable) error {
	st := a.chat(chatID)
	backoff := 500 * time.Millisecond
	var err error
	for attempt := 1; attempt <= a.cfg.MaxAttempts; attempt++ {
		if err := st.limiter.Wait(ctx); err != nil {
			return fmt.Errorf("telegram: waiting for the chat's rate limit: %w", err)
		}
		if err := a.global.Wait(ctx); err != nil {
			return fmt.Errorf("telegram: waiting for the rate limit: %w", err)
		}
		_, err = a.request(ctx, c)
		if err == nil {
			return nil
		}
		wait, retry := a.classify(ctx, chatID, err)
		if !retry {
			return err
		}
		if wait == 0 {
			wait = backoff
			backoff = min(2*backoff, 30*time.Second)
		}
		a.log.Warn("telegram: send will be retried", "chat_id", chatID, "attempt", attempt, "wait", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("telegram: send abandoned: %w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
	return fmt.Errorf("telegram: gave up after %d attempts: %w", a.cfg.MaxAttempts, err)
}

// request performs one call, cancelled when ctx or the adapter ends.
func (a *Adapter) request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	type result struct {
		resp *tgbotapi.APIResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := a.api.Request(c)
		done <- result{resp, err}
	}()
	select {
	case r := <-done:
		return r.resp, a.redact(r.err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// classify decides what a failed send means: how long to wait before trying
// again and whether to try at all. 400 "message is not modified" is success.
func (a *Adapter) classify(ctx context.Context, chatID int64, err error) (wait time.Duration, retry bool) {
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		switch {
		case te.RetryAfter > 0: // 429; on uploads the library leaves Code at 0
			return time.Duration(te.RetryAfter) * time.Second, true
		case te.Code == 403 || strings.HasPrefix(te.Message, "Forbidden"):
			a.unreachable(ctx, chatID, te.Message)
			return 0, false
		case te.Code >= 500:
			return 0, true
		}
		return 0, false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, errBadResponse) {
		return 0, true
	}
	var se *json.SyntaxError
	return 0, errors.As(err, &se) // a proxy's HTML error page
}

var errBadResponse = errors.New("telegram: bad response")

func (a *Adapter) unreachable(ctx context.Context, chatID int64, why string) {
	a.log.Info("telegram user unreachable", "chat_id", chatID, "reason", why)
	if a.cfg.UnreachableFunc == nil {
		return
	}
	user := bot.UserRef{Platform: bot.Telegram, ID: strconv.FormatInt(chatID, 10)}
	if err := a.cfg.UnreachableFunc(context.WithoutCancel(ctx), user); err != nil {
		a.log.Error("telegram: recording an unreachable user failed", "chat_id", chatID, "error", err)
	}
}

// splitText cuts text into parts of at most max UTF-16 units, at line breaks
// where it can.
func splitText(text string, max int) []string {
	if text == "" {
		return []string{" "}
	}
	var parts []string
	for len(utf16.Encode([]rune(text))) > max {
		head := string(truncateUTF16(text, max))
		if i := strings.LastIndex(head, "\n"); i > len(head)/2 {
			head = head[:i]
		}
		parts = append(parts, head)
		text = strings.TrimLeft(text[len(head):], "\n")
	}
	return append(parts, text)
}

func truncateUTF16(s string, max int) []rune {
	var out []rune
	n := 0
	for _, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > max {
			break
		}
		n += w
		out = append(out, r)
	}
	return out
}
