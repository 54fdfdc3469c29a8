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
// who blocked the bot returns ErrUnreachable after recording it. An edit
// (bot.OutEdit) is performed as SendRef describes.
func (a *Adapter) Send(ctx context.Context, msg bot.Outbound) error {
	_, err := a.SendRef(ctx, msg)
	return err
}

// SendRef is Send that returns the reference of the message delivered
// (bot.RefSender): "chat_id:message_id" of a photo, or of a text's last part
// — the one that shows its buttons —, "" for a typing indicator and an
// edit.
//
// An edit (bot.OutEdit) takes the inline keyboard away from the message its
// Ref names and, with a Mark, adds the mark under the message's text:
// editMessageText without reply_markup, which removes the keyboard too.
// Where the text cannot take the mark (no Text, too long, a photo),
// editMessageReplyMarkup removes the keyboard alone. "message is not
// modified" — edited so before — counts as done; the Bot API's other
// refusals of an edit (400: the message is gone, or can't be edited) will
// not change on a retry, and are final (bot.ErrUndeliverable), as is a
// malformed Ref.
func (a *Adapter) SendRef(ctx context.Context, msg bot.Outbound) (string, error) {
	chatID, err := strconv.ParseInt(msg.To.ID, 10, 64)
	if err != nil {
		return "", fmt.Errorf("telegram: chat id %q: %w", msg.To.ID, err)
	}
	switch msg.Kind {
	case bot.OutTyping:
		_, err := a.do(ctx, chatID, tgbotapi.NewChatAction(chatID, tgbotapi.ChatTyping))
		return "", err
	case bot.OutPhoto:
		return a.sendPhoto(ctx, chatID, msg)
	case bot.OutEdit:
		return "", a.edit(ctx, chatID, msg)
	}
	parts := splitText(msg.Text, maxText)
	var resp *tgbotapi.APIResponse
	for i, part := range parts {
		m := tgbotapi.NewMessage(chatID, part)
		m.DisableWebPagePreview = true
		if i == len(parts)-1 {
			a.markup(chatID, &m, msg)
		}
		if resp, err = a.do(ctx, chatID, m); err != nil {
			return "", err
		}
	}
	return sentRef(resp), nil
}

// sentRef is the reference of the message a send answered with:
// "chat_id:message_id", "" when the answer is not a message.
func sentRef(resp *tgbotapi.APIResponse) string {
	if resp == nil {
		return ""
	}
	var m struct {
		MessageID int `json:"message_id"`
		Chat      struct {
			ID int64 `json:"id"`
		} `json:"chat"`
	}
	if json.Unmarshal(resp.Result, &m) != nil || m.MessageID == 0 || m.Chat.ID == 0 {
		return ""
	}
	return strconv.FormatInt(m.Chat.ID, 10) + ":" + strconv.Itoa(m.MessageID)
}

// parseRef reads a reference of sentRef.
func parseRef(ref string) (chatID int64, messageID int, err error) {
	c, m, ok := strings.Cut(ref, ":")
	if ok {
		chatID, err = strconv.ParseInt(c, 10, 64)
		if err == nil {
			messageID, err = strconv.Atoi(m)
		}
	}
	if !ok || err != nil || messageID <= 0 {
		return 0, 0, fmt.Errorf("telegram: %q is not a message reference (chat_id:message_id)", ref)
	}
	return chatID, messageID, nil
}

// edit performs an OutEdit (SendRef) in chat chatID.
func (a *Adapter) edit(ctx context.Context, chatID int64, msg bot.Outbound) error {
	refChat, id, err := parseRef(msg.Ref)
	if err == nil && refChat != chatID {
		err = fmt.Errorf("telegram: message %s is not in chat %d", msg.Ref, chatID)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", err, bot.ErrUndeliverable)
	}
	// The library sends a nil ReplyMarkup as no reply_markup at all, which
	// takes the inline keyboard away; an empty InlineKeyboardMarkup would
	// go as {"inline_keyboard":null}, which the Bot API refuses.
	keyboardOnly := tgbotapi.EditMessageReplyMarkupConfig{BaseEdit: tgbotapi.BaseEdit{ChatID: chatID, MessageID: id}}
	if text := markedText(msg.Text, msg.Mark); text != "" {
		e := tgbotapi.NewEditMessageText(chatID, id, text)
		e.DisableWebPagePreview = true
		_, err = a.do(ctx, chatID, e)
		if isBadRequest(err, "there is no text in the message to edit") {
			_, err = a.do(ctx, chatID, keyboardOnly) // a photo: its caption stays
		}
	} else {
		_, err = a.do(ctx, chatID, keyboardOnly)
	}
	switch {
	case err == nil, isBadRequest(err, "message is not modified"):
		return nil
	case isBadRequest(err, ""):
		return fmt.Errorf("telegram: edit message %d: %w: %w", id, err, bot.ErrUndeliverable)
	}
	return err
}

// markedText is the text an edit gives a message: the last part of text as
// SendRef sent it, with mark on a line of its own; "" when there is no mark
// or text, or the result would be too long for one message.
func markedText(text, mark string) string {
	if mark == "" || strings.TrimSpace(text) == "" {
		return ""
	}
	parts := splitText(text, maxText)
	out := parts[len(parts)-1] + "\n" + mark
	if len(utf16.Encode([]rune(out))) > maxText {
		return ""
	}
	return out
}

// isBadRequest reports whether err is the Bot API's 400 whose description
// contains what (any 400 for "").
func isBadRequest(err error, what string) bool {
	var te *tgbotapi.Error
	return errors.As(err, &te) && te.Code == 400 && strings.Contains(strings.ToLower(te.Message), what)
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

func (a *Adapter) sendPhoto(ctx context.Context, chatID int64, msg bot.Outbound) (string, error) {
	if a.cfg.Blobs == nil {
		return "", errors.New("telegram: no blob store for photos")
	}
	rc, err := a.cfg.Blobs.Open(ctx, msg.BlobKey)
	if err != nil {
		return "", fmt.Errorf("telegram: open photo: %w", err)
	}
	data, err := readAll(rc, bot.MaxMediaMB<<20)
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("telegram: read photo: %w", err)
	}
	p := tgbotapi.NewPhoto(chatID, tgbotapi.FileBytes{Name: "photo.jpg", Bytes: data})
	p.Caption = string(truncateUTF16(msg.Text, 1024))
	resp, err := a.do(ctx, chatID, p)
	if err != nil {
		return "", err
	}
	return sentRef(resp), nil
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
// retried, and returns the Bot API's answer.
func (a *Adapter) do(ctx context.Context, chatID int64, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	st := a.chat(chatID)
	backoff := 500 * time.Millisecond
	var err error
	for attempt := 1; attempt <= a.cfg.MaxAttempts; attempt++ {
		if err := st.limiter.Wait(ctx); err != nil {
			return nil, fmt.Errorf("telegram: waiting for the chat's rate limit: %w", err)
		}
		if err := a.global.Wait(ctx); err != nil {
			return nil, fmt.Errorf("telegram: waiting for the rate limit: %w", err)
		}
		var resp *tgbotapi.APIResponse
		resp, err = a.request(ctx, c)
		if err == nil {
			return resp, nil
		}
		wait, retry := a.classify(ctx, chatID, err)
		if !retry {
			return nil, final(err)
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
			return nil, fmt.Errorf("telegram: send abandoned: %w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
	return nil, fmt.Errorf("telegram: gave up after %d attempts: %w", a.cfg.MaxAttempts, err)
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

// final names a refusal the Bot API will repeat: a user who blocked the bot
// (403) is ErrUnreachable, a bad request (400: a chat not found, a message
// too long…) bot.ErrUndeliverable, so that the outbox fails the message at
// once rather than retrying it for an hour. Anything else (401 while the
// token is being fixed, a 429 without retry_after) the outbox tries again.
func final(err error) error {
	var te *tgbotapi.Error
	switch {
	case !errors.As(err, &te):
		return err
	case te.Code == 403 || strings.HasPrefix(te.Message, "Forbidden"):
		return fmt.Errorf("%w (%v)", ErrUnreachable, err)
	case te.Code == 400:
		return fmt.Errorf("telegram: %w: %w", err, bot.ErrUndeliverable)
	}
	return err
}

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
