package telegramtest

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// SetPrivacyMode sets the bot's group privacy mode (on by default, as
// BotFather creates bots): with it on, only group messages that start with
// a command for this bot (/cmd or /cmd@this_bot) reach the bot. getMe's
// can_read_all_group_messages follows it.
func (s *Server) SetPrivacyMode(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.privacyMode = on
}

// fromUserLocked is the user's private chat when they write to the bot: it
// exists from now on, and writing unblocks the bot.
func (s *Server) fromUserLocked(from User) *chat {
	if from.ID <= 0 {
		s.t.Errorf("telegramtest: a simulated user needs a positive ID, got %d", from.ID)
	}
	c := s.privateChatLocked(from)
	if c.blocked {
		s.unblockLocked(c)
	}
	return c
}

func (s *Server) userMessageLocked(from User, c *chat, m *message) *message {
	m.from = from
	s.addMessageLocked(c, m)
	if c.keyboard != nil && c.keyboard.OneTimeKeyboard {
		c.keyboard = nil
	}
	return m
}

func (s *Server) queueMessageLocked(m *message) int {
	w := s.renderLocked(m, true)
	return s.enqueueLocked("message", func(u *wireUpdate) { u.Message = w })
}

// userText is what a Telegram client sends for typed text: trimmed, with
// commands, URLs, mentions and hashtags marked up.
func (s *Server) userText(text string) (string, []MessageEntity) {
	plain, ents, aerr := formatText(text, "")
	if aerr != nil {
		s.t.Errorf("telegramtest: simulated text %q: %s", text, aerr.Description)
		return text, nil
	}
	return plain, ents
}

// SendText simulates the user sending a text message to the bot in their
// private chat (chat id = user id) and returns the update_id queued — 0 if
// the bot's allowed_updates exclude messages.
func (s *Server) SendText(from User, text string) (updateID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.fromUserLocked(from)
	plain, ents := s.userText(text)
	m := s.userMessageLocked(from, c, &message{text: plain, entities: ents})
	return s.queueMessageLocked(m)
}

// SendCommand simulates the user sending "/command args" (the leading '/'
// of command is optional) in their private chat.
func (s *Server) SendCommand(from User, command, args string) (updateID int) {
	text := "/" + strings.TrimPrefix(command, "/")
	if args != "" {
		text += " " + args
	}
	return s.SendText(from, text)
}

// SendInGroup simulates the user writing in a group the bot is a member of
// (a group id ≤ -1000000000000 is a supergroup). With privacy mode on (the
// default) the bot only receives commands meant for it; otherwise the
// message reaches nobody and 0 is returned. The bot may write to the group
// from now on.
func (s *Server) SendInGroup(from User, groupChatID int64, text string) (updateID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if groupChatID >= 0 {
		s.t.Errorf("telegramtest: SendInGroup: group chat ids are negative, got %d", groupChatID)
	}
	c := s.chats[groupChatID]
	if c == nil {
		typ := "group"
		if groupChatID <= -1000000000000 {
			typ = "supergroup"
		}
		c = s.newChatLocked(groupChatID, typ)
		c.title = "Test group " + itoa64(-groupChatID)
	}
	c.known = true
	plain, ents := s.userText(text)
	m := s.userMessageLocked(from, c, &message{text: plain, entities: ents})
	if s.privacyMode && !s.commandForBotLocked(plain, ents) {
		s.notifyLocked()
		return 0
	}
	return s.queueMessageLocked(m)
}

func (s *Server) commandForBotLocked(text string, ents []MessageEntity) bool {
	if len(ents) == 0 || ents[0].Type != "bot_command" || ents[0].Offset != 0 {
		return false
	}
	cmd := text[:utf16Prefix(text, ents[0].Length)]
	_, at, found := strings.Cut(cmd, "@")
	return !found || strings.EqualFold(at, s.botUser)
}

// utf16Prefix is the byte length of the first n UTF-16 units of s.
func utf16Prefix(s string, n int) int {
	units := 0
	for i, r := range s {
		if units >= n {
			return i
		}
		units += utf16.RuneLen(r)
	}
	return len(s)
}

// EditText simulates the user editing the text of one of their messages in
// their private chat; the bot gets an edited_message update.
func (s *Server) EditText(from User, messageID int, text string) (updateID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[from.ID]
	var m *message
	if c != nil {
		m = c.msgs[messageID]
	}
	if m == nil || m.fromBot || m.from.ID != from.ID || m.isCaption || m.deleted {
		s.t.Errorf("telegramtest: EditText: user %d has no text message %d", from.ID, messageID)
		return 0
	}
	m.text, m.entities = s.userText(text)
	m.editDate = time.Now()
	m.edits++
	w := s.renderLocked(m, true)
	return s.enqueueLocked("edited_message", func(u *wireUpdate) { u.EditedMessage = w })
}

// PressButton simulates the user pressing the inline button with this
// callback_data on a bot message in their private chat, and returns the
// callback query's id. The update carries the message as it is now. As on
// Telegram, only a button the message shows can be pressed: anything else
// fails the test and returns "".
func (s *Server) PressButton(from User, messageID int, data string) (callbackQueryID string) {
	return s.PressButtonIn(from, from.ID, messageID, data)
}

// PressButtonIn is PressButton for a message in any chat (a group).
func (s *Server) PressButtonIn(from User, chatID int64, messageID int, data string) (callbackQueryID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	var m *message
	if c != nil {
		m = c.msgs[messageID]
	}
	if m == nil || m.deleted || !m.fromBot {
		s.t.Errorf("telegramtest: PressButton: chat %d has no bot message %d", chatID, messageID)
		return ""
	}
	var shown []string
	found := false
	for _, b := range m.markup.InlineButtons() {
		if b.CallbackData != "" {
			shown = append(shown, strconv.Quote(b.CallbackData))
		}
		found = found || b.CallbackData == data
	}
	if !found {
		s.t.Errorf("telegramtest: PressButton: message %d in chat %d has no button with callback_data %q (it has [%s])",
			messageID, chatID, data, strings.Join(shown, ", "))
		return ""
	}
	if c.typ == "private" {
		c.user = from
	}
	s.callbackSeq++
	id := strconv.FormatUint(4000000000000000000+s.callbackSeq*1000003+uint64(from.ID%1000003), 10)
	s.callbacks[id] = &callback{id: id, from: from, chatID: chatID, msgID: messageID, data: data}
	w := s.renderLocked(m, true)
	s.enqueueLocked("callback_query", func(u *wireUpdate) {
		u.CallbackQuery = &wireCallbackQuery{ID: id, From: userWire(from), Message: w, ChatInstance: c.instance, Data: data}
	})
	s.notifyLocked()
	return id
}

// SendPhoto simulates the user sending a photo: the server keeps it as
// Telegram does, as several PhotoSize entries with the largest (the photo
// itself, served byte for byte) last. size > 0 sets the file_size reported
// for the largest — over 20 MB makes getFile answer "file is too big".
// It returns the update_id and the file_id of the largest size.
func (s *Server) SendPhoto(from User, data []byte, size int) (updateID int, fileID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.fromUserLocked(from)
	sizes, f := s.registerPhotoLocked(data, size)
	m := s.userMessageLocked(from, c, &message{photo: sizes, file: f, isCaption: true})
	return s.queueMessageLocked(m), f.id
}

// SendDocument simulates the user sending a file as a document; mimeType
// "" is guessed from the file name. size > 0 sets the reported file_size.
func (s *Server) SendDocument(from User, fileName, mimeType string, data []byte, size int) (updateID int, fileID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.fromUserLocked(from)
	f := s.registerDocumentLocked("document", data, size, fileName, mimeType)
	m := s.userMessageLocked(from, c, &message{file: f, isCaption: true,
		document: &wireDocument{FileID: f.id, FileUniqueID: f.uniqueID, FileName: f.name, MimeType: f.mime, FileSize: f.size}})
	return s.queueMessageLocked(m), f.id
}

// SendVideo simulates the user sending a video (640×360, mp4) of the given
// duration in seconds. size > 0 sets the reported file_size.
func (s *Server) SendVideo(from User, data []byte, size int, durationSec int) (updateID int, fileID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.fromUserLocked(from)
	f := s.registerDocumentLocked("video", data, size, "", "video/mp4")
	m := s.userMessageLocked(from, c, &message{file: f, isCaption: true,
		video: &wireVideo{FileID: f.id, FileUniqueID: f.uniqueID, Width: 640, Height: 360, Duration: durationSec, MimeType: f.mime, FileSize: f.size}})
	return s.queueMessageLocked(m), f.id
}

// SendVoice simulates the user sending a voice note (audio/ogg) of the
// given duration in seconds.
func (s *Server) SendVoice(from User, data []byte, durationSec int) (updateID int, fileID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.fromUserLocked(from)
	f := s.registerDocumentLocked("voice", data, 0, "", "audio/ogg")
	m := s.userMessageLocked(from, c, &message{file: f, isCaption: true,
		voice: &wireVoice{FileID: f.id, FileUniqueID: f.uniqueID, Duration: durationSec, MimeType: f.mime, FileSize: f.size}})
	return s.queueMessageLocked(m), f.id
}

// SendContact simulates the user sharing a contact. ownerUserID is the
// Telegram user the phone number belongs to: the sender's own ID when they
// share their own number (the request_contact button does), another ID for
// someone else's card, 0 for a number not on Telegram.
func (s *Server) SendContact(from User, phone string, ownerUserID int64) (updateID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.fromUserLocked(from)
	ct := &wireContact{PhoneNumber: phone, UserID: ownerUserID, FirstName: "Contact"}
	if ownerUserID == from.ID {
		ct.FirstName, ct.LastName = from.FirstName, from.LastName
	}
	m := s.userMessageLocked(from, c, &message{contact: ct})
	return s.queueMessageLocked(m)
}

// SendLocation simulates the user sharing a location.
func (s *Server) SendLocation(from User, latitude, longitude float64) (updateID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.fromUserLocked(from)
	m := s.userMessageLocked(from, c, &message{location: &wireLocation{Latitude: latitude, Longitude: longitude}})
	return s.queueMessageLocked(m)
}

// queueMemberChangeLocked queues the my_chat_member update Telegram sends
// when a user blocks or unblocks the bot.
func (s *Server) queueMemberChangeLocked(c *chat, oldStatus, newStatus string) {
	bot := s.botWireLocked(false)
	s.enqueueLocked("my_chat_member", func(u *wireUpdate) {
		u.MyChatMember = &wireChatMemberUpdated{
			Chat:          chatWire(c),
			From:          userWire(c.user),
			Date:          time.Now().Unix(),
			OldChatMember: wireChatMember{User: bot, Status: oldStatus},
			NewChatMember: wireChatMember{User: bot, Status: newStatus},
		}
	})
}
