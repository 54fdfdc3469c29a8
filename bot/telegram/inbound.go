package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/aftersales/aftersales/bot"
)

// groupReply is said in group chats: the product lives in the private chat.
const groupReply = "您好！报修和查询请私聊我（点我的头像 → 发消息），以保护您的个人信息。\nHello! Please message me privately to report a problem or follow your case — it keeps your details private."

// handle turns one update into an inbound message for the router, or deals
// with it itself (callback acknowledgement, group chats). It returns when
// the router has handled the message.
func (a *Adapter) handle(ctx context.Context, u tgbotapi.Update) {
	in, ok := a.inbound(ctx, u)
	if !ok {
		return
	}
	if err := a.cfg.DispatchFunc(ctx, in); err != nil {
		a.log.Error("telegram update not handled", "update_id", u.UpdateID, "error", err)
	}
}

// inbound converts an update. Callback queries are answered and their
// keyboard replaced by the choice made, so a second tap acts no more.
func (a *Adapter) inbound(ctx context.Context, u tgbotapi.Update) (*bot.Inbound, bool) {
	switch {
	case u.Message != nil:
		return a.message(ctx, u.Message)
	case u.CallbackQuery != nil:
		return a.callback(ctx, u.CallbackQuery)
	case u.MyChatMember != nil && u.MyChatMember.Chat.IsPrivate():
		m := u.MyChatMember
		in := &bot.Inbound{
			User:      bot.UserRef{Platform: bot.Telegram, ID: strconv.FormatInt(m.From.ID, 10)},
			MessageID: "member:" + strconv.Itoa(u.UpdateID),
			Time:      time.Unix(int64(m.Date), 0),
			Language:  m.From.LanguageCode,
		}
		switch m.NewChatMember.Status {
		case "kicked":
			in.Kind = bot.KindUnfollow
		case "member":
			in.Kind = bot.KindFollow
		default:
			return nil, false
		}
		return in, true
	}
	return nil, false // edits, channel posts, inline queries: not for this bot
}

func (a *Adapter) message(ctx context.Context, m *tgbotapi.Message) (*bot.Inbound, bool) {
	if m.From == nil || m.Chat == nil {
		return nil, false
	}
	if !m.Chat.IsPrivate() {
		if m.IsCommand() || strings.Contains(m.Text, "@"+a.self.UserName) {
			go a.sendQuietly(m.Chat.ID, groupReply)
		}
		return nil, false
	}
	in := &bot.Inbound{
		User:      bot.UserRef{Platform: bot.Telegram, ID: strconv.FormatInt(m.From.ID, 10)},
		MessageID: "m:" + strconv.Itoa(m.MessageID),
		Time:      time.Unix(int64(m.Date), 0),
		Language:  m.From.LanguageCode,
		Name:      strings.TrimSpace(m.From.FirstName + " " + m.From.LastName),
		Text:      m.Text,
	}
	switch {
	case m.IsCommand():
		in.Kind, in.Command, in.Text = bot.KindCommand, m.Command(), m.CommandArguments()
	case len(m.Photo) > 0:
		p := m.Photo[len(m.Photo)-1] // the largest size comes last
		in.Kind, in.Text = bot.KindPhoto, m.Caption
		in.Media = &bot.Media{FileID: p.FileID, Size: int64(p.FileSize), ContentType: "image/jpeg"}
	case m.Video != nil:
		in.Kind, in.Text = bot.KindVideo, m.Caption
		in.Media = &bot.Media{FileID: m.Video.FileID, FileName: m.Video.FileName, Size: int64(m.Video.FileSize), ContentType: m.Video.MimeType}
	case m.Voice != nil:
		in.Kind = bot.KindVoice
		in.Media = &bot.Media{FileID: m.Voice.FileID, Size: int64(m.Voice.FileSize), ContentType: m.Voice.MimeType}
	case m.Document != nil:
		in.Kind, in.Text = bot.KindDocument, m.Caption
		in.Media = &bot.Media{FileID: m.Document.FileID, FileName: m.Document.FileName, Size: int64(m.Document.FileSize), ContentType: m.Document.MimeType}
	case m.Contact != nil:
		in.Kind = bot.KindContact
		in.Contact = &bot.Contact{Phone: m.Contact.PhoneNumber, Name: m.Contact.FirstName, Own: m.Contact.UserID != 0 && m.Contact.UserID == m.From.ID}
	case m.Location != nil:
		in.Kind = bot.KindLocation
		in.Location = &bot.Location{Latitude: m.Location.Latitude, Longitude: m.Location.Longitude}
	case m.Text != "":
		in.Kind = bot.KindText
	default:
		return nil, false // stickers, polls, dice…
	}
	return in, true
}

// callback answers the query at once (the user's button stops spinning),
// replaces the keyboard by the choice made, and passes the press on. The
// press's message id is the keyboard's message: a second tap on the same
// keyboard is a duplicate the router drops.
func (a *Adapter) callback(ctx context.Context, q *tgbotapi.CallbackQuery) (*bot.Inbound, bool) {
	if _, err := a.request(ctx, tgbotapi.NewCallback(q.ID, "")); err != nil {
		a.log.Warn("telegram: answering a callback query failed", "error", err)
	}
	if q.From == nil || q.Message == nil || q.Message.Chat == nil || !q.Message.Chat.IsPrivate() {
		return nil, false
	}
	label := q.Data
	if m := q.Message.ReplyMarkup; m != nil {
		for _, row := range m.InlineKeyboard {
			for _, b := range row {
				if b.CallbackData != nil && *b.CallbackData == q.Data {
					label = b.Text
				}
			}
		}
	}
	edit := tgbotapi.NewEditMessageText(q.Message.Chat.ID, q.Message.MessageID, string(truncateUTF16(q.Message.Text+"\n\n✅ "+label, maxText)))
	edit.DisableWebPagePreview = true
	if _, err := a.request(ctx, edit); err != nil && !strings.Contains(err.Error(), "message is not modified") {
		a.log.Warn("telegram: removing a keyboard failed", "error", err)
	}
	return &bot.Inbound{
		User:      bot.UserRef{Platform: bot.Telegram, ID: strconv.FormatInt(q.From.ID, 10)},
		MessageID: "cb:" + strconv.Itoa(q.Message.MessageID),
		Time:      time.Now(),
		Kind:      bot.KindButton,
		Payload:   q.Data,
		Language:  q.From.LanguageCode,
	}, true
}

func (a *Adapter) sendQuietly(chatID int64, text string) {
	ctx, cancel := context.WithTimeout(a.life, time.Minute)
	defer cancel()
	if _, err := a.do(ctx, chatID, tgbotapi.NewMessage(chatID, text)); err != nil {
		a.log.Warn("telegram: group reply not sent", "chat_id", chatID, "error", err)
	}
}

// FetchMedia downloads an attachment: getFile for its path, then the file
// from {APIURL}/file/bot{token}/{path} (the library's File.Link would ignore
// a custom API URL).
func (a *Adapter) FetchMedia(ctx context.Context, m *bot.Media) (io.ReadCloser, error) {
	resp, err := a.request(ctx, tgbotapi.FileConfig{FileID: m.FileID})
	if err != nil {
		return nil, fmt.Errorf("telegram: getFile: %w", err)
	}
	var f tgbotapi.File
	if err := json.Unmarshal(resp.Result, &f); err != nil {
		return nil, fmt.Errorf("telegram: getFile result: %w", err)
	}
	if f.FilePath == "" {
		return nil, fmt.Errorf("telegram: getFile gave no path")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.APIURL+"/file/bot"+a.cfg.Token+"/"+f.FilePath, nil)
	if err != nil {
		return nil, a.redact(err)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram: download: %w", a.redact(err))
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, fmt.Errorf("telegram: download: status %s", res.Status)
	}
	return res.Body, nil
}
