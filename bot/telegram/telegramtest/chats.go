package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

type chat struct {
	id        int64
	typ       string // private, group, supergroup
	title     string
	user      User // the other party of a private chat
	known     bool // the bot may write: the user started it / the bot is a member
	blocked   bool
	nextMsgID int
	msgs      map[int]*message
	sent      []*message // the bot's messages, in order
	keyboard  *ReplyMarkup
	actions   []string
	instance  string // chat_instance of callback queries
}

type message struct {
	id       int
	chat     *chat
	fromBot  bool
	from     User
	date     time.Time
	editDate time.Time
	method   string

	text      string // text, or caption when isCaption
	entities  []MessageEntity
	isCaption bool
	source    string
	parseMode string
	markup    *ReplyMarkup

	photo    []wirePhotoSize
	document *wireDocument
	video    *wireVideo
	voice    *wireVoice
	contact  *wireContact
	location *wireLocation
	file     *file // the (largest) file of a media message

	replyTo        *message
	disablePreview bool
	edits          int
	deleted        bool
}

func (m *message) hasMedia() bool {
	return m.photo != nil || m.document != nil || m.video != nil || m.voice != nil
}

func (s *Server) newChatLocked(id int64, typ string) *chat {
	c := &chat{
		id:        id,
		typ:       typ,
		nextMsgID: 1,
		msgs:      map[int]*message{},
		instance:  chatInstance(id),
	}
	s.chats[id] = c
	return c
}

// privateChatLocked returns the user's private chat, creating it and
// remembering that the user has started the bot.
func (s *Server) privateChatLocked(u User) *chat {
	c := s.chats[u.ID]
	if c == nil {
		c = s.newChatLocked(u.ID, "private")
	}
	c.user = u
	c.known = true
	return c
}

func (s *Server) addMessageLocked(c *chat, m *message) *message {
	m.id = c.nextMsgID
	c.nextMsgID++
	m.chat = c
	if m.date.IsZero() {
		m.date = time.Now()
	}
	c.msgs[m.id] = m
	if m.fromBot {
		c.sent = append(c.sent, m)
	}
	return m
}

func userWire(u User) wireUser {
	return wireUser{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username, LanguageCode: u.LanguageCode}
}

func (s *Server) botWireLocked(full bool) wireUser {
	u := wireUser{ID: s.botID, IsBot: true, FirstName: s.botFirst, Username: s.botUser}
	if full {
		t, f := true, false
		readAll := !s.privacyMode
		u.CanJoinGroups, u.CanReadAllGroupMessages, u.SupportsInlineQueries = &t, &readAll, &f
	}
	return u
}

func chatWire(c *chat) wireChat {
	if c.typ == "private" {
		return wireChat{ID: c.id, Type: "private", FirstName: c.user.FirstName, LastName: c.user.LastName, Username: c.user.Username}
	}
	return wireChat{ID: c.id, Type: c.typ, Title: c.title}
}

// renderLocked is the Message object of m as the Bot API returns it now.
func (s *Server) renderLocked(m *message, withReply bool) *wireMessage {
	w := &wireMessage{MessageID: m.id, Chat: chatWire(m.chat), Date: m.date.Unix()}
	if m.fromBot {
		b := s.botWireLocked(false)
		w.From = &b
	} else {
		u := userWire(m.from)
		w.From = &u
	}
	if !m.editDate.IsZero() {
		w.EditDate = m.editDate.Unix()
	}
	if m.isCaption {
		w.Caption, w.CaptionEntities = m.text, m.entities
	} else {
		w.Text, w.Entities = m.text, m.entities
	}
	w.Photo, w.Document, w.Video, w.Voice = m.photo, m.document, m.video, m.voice
	w.Contact, w.Location = m.contact, m.location
	if m.replyTo != nil && withReply && !m.replyTo.deleted {
		w.ReplyToMessage = s.renderLocked(m.replyTo, false)
	}
	w.ReplyMarkup = inlineMarkupJSON(m.markup)
	return w
}

func snapshot(m *message) SentMessage {
	sm := SentMessage{
		ChatID:                m.chat.id,
		MessageID:             m.id,
		Method:                m.method,
		Text:                  m.text,
		Source:                m.source,
		ParseMode:             m.parseMode,
		Entities:              slices.Clone(m.entities),
		ReplyMarkup:           cloneMarkup(m.markup),
		DisableWebPagePreview: m.disablePreview,
		Time:                  m.date,
		Edited:                m.edits > 0,
		EditCount:             m.edits,
		EditedAt:              m.editDate,
		Deleted:               m.deleted,
	}
	if m.replyTo != nil {
		sm.ReplyToMessageID = m.replyTo.id
	}
	if f := m.file; f != nil {
		sm.FileID, sm.FileName, sm.MimeType, sm.FileSize = f.id, f.name, f.mime, f.size
	}
	return sm
}

// Sent returns the messages the bot sent to the chat, oldest first, as they
// stand now (deleted ones marked Deleted).
func (s *Server) Sent(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	out := make([]SentMessage, len(c.sent))
	for i, m := range c.sent {
		out[i] = snapshot(m)
	}
	return out
}

// LastSent returns the last message the bot sent to the chat.
func (s *Server) LastSent(chatID int64) (SentMessage, bool) {
	all := s.Sent(chatID)
	if len(all) == 0 {
		return SentMessage{}, false
	}
	return all[len(all)-1], true
}

// AllSent returns the messages the bot sent to any chat, by chat id.
func (s *Server) AllSent() map[int64][]SentMessage {
	s.mu.Lock()
	ids := make([]int64, 0, len(s.chats))
	for id, c := range s.chats {
		if len(c.sent) > 0 {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	out := map[int64][]SentMessage{}
	for _, id := range ids {
		out[id] = s.Sent(id)
	}
	return out
}

// ReplyKeyboard returns the reply keyboard the user of the chat now sees:
// the last one the bot sent, until a remove_keyboard, or until the user used
// a one_time_keyboard. Nil if none.
func (s *Server) ReplyKeyboard(chatID int64) *ReplyMarkup {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		return cloneMarkup(c.keyboard)
	}
	return nil
}

// ChatActions returns the sendChatAction actions the bot sent to the chat.
func (s *Server) ChatActions(chatID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		return slices.Clone(c.actions)
	}
	return nil
}

// resolveChatLocked reads chat_id. Only chats the bot may write to exist
// for it: private chats of users who wrote to the bot (or were added with
// AddUser) and groups it was seen in.
func (s *Server) resolveChatLocked(p *params) (*chat, *apiError) {
	raw := strings.TrimSpace(p.get("chat_id"))
	if raw == "" {
		return nil, badRequest("Chat_id is empty")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, errChatNotFound
	}
	c := s.chats[id]
	if c == nil || !c.known {
		return nil, errChatNotFound
	}
	return c, nil
}

// messageIDArg reads message_id; ≤ 0 is "not specified".
func messageIDArg(p *params, name string) int {
	return int(leadingInt(p.get(name)))
}

// replyTarget reads reply_to_message_id (or reply_parameters.message_id).
func (s *Server) replyTargetLocked(c *chat, p *params) (*message, *apiError) {
	id := messageIDArg(p, "reply_to_message_id")
	allow := toBool(p.get("allow_sending_without_reply"))
	if rp := p.get("reply_parameters"); rp != "" {
		var v struct {
			MessageID                int  `json:"message_id"`
			AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
		}
		if err := jsonUnmarshalString(rp, &v); err != nil {
			return nil, badRequest("Can't parse reply parameters JSON object")
		}
		id, allow = v.MessageID, v.AllowSendingWithoutReply
	}
	if id <= 0 {
		return nil, nil
	}
	m := c.msgs[id]
	if m == nil || m.deleted {
		if allow {
			return nil, nil
		}
		return nil, badRequest("Message to be replied not found")
	}
	return m, nil
}

func (s *Server) hGetChat(_ context.Context, p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveChatLocked(p)
	if err != nil {
		return fail(err)
	}
	return ok(chatWire(c))
}

// AddUser makes a private chat with the user exist for the bot, as if the
// user had started it earlier (no update is queued). Without it (or a
// message from the user), sends to the user answer 400 "chat not found".
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.privateChatLocked(u)
	s.notifyLocked()
}

// Message returns one message of a chat (the bot's or a user's).
func (s *Server) Message(chatID int64, messageID int) (SentMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil || c.msgs[messageID] == nil {
		return SentMessage{}, false
	}
	return snapshot(c.msgs[messageID]), true
}

func (c *chat) String() string { return fmt.Sprintf("%s chat %d", c.typ, c.id) }

// chatInstance is a stable chat_instance for callback queries of a chat:
// Telegram sends a long signed number as a string.
func chatInstance(id int64) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "chat%d", id)
	return strconv.FormatInt(-int64(h.Sum64()>>1), 10)
}

func jsonUnmarshalString(s string, v any) error { return json.Unmarshal([]byte(s), v) }
