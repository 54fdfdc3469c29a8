package telegramtest

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"
)

func (s *Server) hGetMe(ctx context.Context, p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ok(s.botWireLocked(true))
}

// applyKeyboard records the reply keyboard a message shows the user.
func applyKeyboard(c *chat, m *ReplyMarkup) {
	switch {
	case m == nil:
	case len(m.Keyboard) > 0:
		c.keyboard = cloneMarkup(m)
	case m.RemoveKeyboard:
		c.keyboard = nil
	}
}

// hSendMessage checks in the Bot API's order: the text and its entities,
// the reply markup, the chat, the replied message, then what Telegram's
// servers check (buttons, length, block, flood control).
func (s *Server) hSendMessage(ctx context.Context, p *params) result {
	text, ents, aerr := formatText(p.get("text"), p.get("parse_mode"))
	if aerr != nil {
		return fail(aerr)
	}
	if text == "" {
		return fail(badRequest("Message text is empty"))
	}
	markup, aerr := parseReplyMarkup(p.get("reply_markup"))
	if aerr != nil {
		return fail(aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(p)
	if aerr != nil {
		return fail(aerr)
	}
	replyTo, aerr := s.replyTargetLocked(c, p)
	if aerr != nil {
		return fail(aerr)
	}
	if aerr := checkMarkupForChat(markup, c.typ); aerr != nil {
		return fail(aerr)
	}
	if utf16Len(text) > maxMessageLength {
		return fail(badRequest("Message is too long"))
	}
	if aerr := s.sendChecksLocked(c); aerr != nil {
		return fail(aerr)
	}
	disablePreview := toBool(p.get("disable_web_page_preview"))
	if lp := p.get("link_preview_options"); lp != "" {
		var o struct {
			IsDisabled bool `json:"is_disabled"`
		}
		if json.Unmarshal([]byte(lp), &o) == nil && o.IsDisabled {
			disablePreview = true
		}
	}
	m := s.addMessageLocked(c, &message{
		fromBot:        true,
		method:         "sendMessage",
		text:           text,
		entities:       ents,
		source:         p.get("text"),
		parseMode:      p.get("parse_mode"),
		markup:         markup,
		replyTo:        replyTo,
		disablePreview: disablePreview,
	})
	applyKeyboard(c, markup)
	s.notifyLocked()
	return ok(s.renderLocked(m, true))
}

var chatActions = []string{
	"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
	"record_audio", "upload_audio", "upload_document", "choose_sticker", "find_location",
	"pick_up_location", "record_video_note", "upload_video_note", "cancel",
}

func (s *Server) hSendChatAction(ctx context.Context, p *params) result {
	action := strings.ToLower(p.get("action"))
	if !slices.Contains(chatActions, action) {
		return fail(badRequest("Wrong parameter action in request"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(p)
	if aerr != nil {
		return fail(aerr)
	}
	if c.blocked {
		return fail(errBlocked)
	}
	c.actions = append(c.actions, action)
	s.notifyLocked()
	return ok(true)
}

// editTargetLocked finds the bot message an edit names by chat_id and
// message_id (inline messages are not modelled).
func (s *Server) editTargetLocked(p *params) (*message, *apiError) {
	if p.get("inline_message_id") != "" {
		return nil, badRequest("MESSAGE_ID_INVALID")
	}
	c, aerr := s.resolveChatLocked(p)
	if aerr != nil {
		return nil, aerr
	}
	id := messageIDArg(p, "message_id")
	if id <= 0 {
		return nil, badRequest("Message identifier is not specified")
	}
	m := c.msgs[id]
	if m == nil || m.deleted {
		return nil, badRequest("Message to edit not found")
	}
	if !m.fromBot {
		return nil, badRequest("Message can't be edited")
	}
	return m, nil
}

// editMarkup reads the reply_markup of an edit: only an inline keyboard
// can be attached; none (or another kind) removes the keyboard.
func editMarkup(p *params) (*ReplyMarkup, *apiError) {
	m, aerr := parseReplyMarkup(p.get("reply_markup"))
	if aerr != nil {
		return nil, aerr
	}
	if m != nil && len(m.InlineKeyboard) == 0 {
		return nil, nil
	}
	return m, nil
}

func (s *Server) applyEditLocked(m *message, markup *ReplyMarkup) {
	m.markup = markup
	m.editDate = time.Now()
	m.edits++
	s.notifyLocked()
}

func (s *Server) hEditMessageText(ctx context.Context, p *params) result {
	text, ents, aerr := formatText(p.get("text"), p.get("parse_mode"))
	if aerr != nil {
		return fail(aerr)
	}
	if text == "" {
		return fail(badRequest("Message text is empty"))
	}
	markup, aerr := editMarkup(p)
	if aerr != nil {
		return fail(aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, aerr := s.editTargetLocked(p)
	if aerr != nil {
		return fail(aerr)
	}
	if m.isCaption || m.hasMedia() {
		return fail(badRequest("There is no text in the message to edit"))
	}
	if aerr := checkMarkupForChat(markup, m.chat.typ); aerr != nil {
		return fail(aerr)
	}
	if utf16Len(text) > maxMessageLength {
		return fail(badRequest("Message is too long"))
	}
	if m.text == text && slices.Equal(m.entities, ents) && sameInlineMarkup(m.markup, markup) {
		return fail(errNotModified)
	}
	if aerr := s.sendChecksLocked(m.chat); aerr != nil {
		return fail(aerr)
	}
	m.text, m.entities, m.source, m.parseMode = text, ents, p.get("text"), p.get("parse_mode")
	m.disablePreview = toBool(p.get("disable_web_page_preview"))
	s.applyEditLocked(m, markup)
	return ok(s.renderLocked(m, true))
}

func (s *Server) hEditMessageCaption(ctx context.Context, p *params) result {
	caption, ents, aerr := formatText(p.get("caption"), p.get("parse_mode"))
	if aerr != nil {
		return fail(aerr)
	}
	markup, aerr := editMarkup(p)
	if aerr != nil {
		return fail(aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, aerr := s.editTargetLocked(p)
	if aerr != nil {
		return fail(aerr)
	}
	if !m.hasMedia() {
		return fail(badRequest("There is no caption in the message to edit"))
	}
	if aerr := checkMarkupForChat(markup, m.chat.typ); aerr != nil {
		return fail(aerr)
	}
	if utf16Len(caption) > maxCaptionLength {
		return fail(badRequest("Message caption is too long"))
	}
	if m.text == caption && slices.Equal(m.entities, ents) && sameInlineMarkup(m.markup, markup) {
		return fail(errNotModified)
	}
	if aerr := s.sendChecksLocked(m.chat); aerr != nil {
		return fail(aerr)
	}
	m.text, m.entities, m.source, m.parseMode = caption, ents, p.get("caption"), p.get("parse_mode")
	s.applyEditLocked(m, markup)
	return ok(s.renderLocked(m, true))
}

func (s *Server) hEditMessageReplyMarkup(ctx context.Context, p *params) result {
	markup, aerr := editMarkup(p)
	if aerr != nil {
		return fail(aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, aerr := s.editTargetLocked(p)
	if aerr != nil {
		return fail(aerr)
	}
	if aerr := checkMarkupForChat(markup, m.chat.typ); aerr != nil {
		return fail(aerr)
	}
	if sameInlineMarkup(m.markup, markup) {
		return fail(errNotModified)
	}
	if aerr := s.sendChecksLocked(m.chat); aerr != nil {
		return fail(aerr)
	}
	s.applyEditLocked(m, markup)
	return ok(s.renderLocked(m, true))
}

func (s *Server) hDeleteMessage(ctx context.Context, p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(p)
	if aerr != nil {
		return fail(aerr)
	}
	id := messageIDArg(p, "message_id")
	if id <= 0 {
		return fail(badRequest("Message identifier is not specified"))
	}
	m := c.msgs[id]
	if m == nil || m.deleted {
		return fail(badRequest("Message to delete not found"))
	}
	m.deleted = true
	s.notifyLocked()
	return ok(true)
}

// ---- callback queries ----

type callback struct {
	id       string
	from     User
	chatID   int64
	msgID    int
	data     string
	answered bool
}

func (s *Server) hAnswerCallbackQuery(ctx context.Context, p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[strings.TrimSpace(p.get("callback_query_id"))]
	if cb == nil || cb.answered {
		return fail(errQueryTooOld)
	}
	cb.answered = true
	s.answered = append(s.answered, AnsweredCallback{
		CallbackQueryID: cb.id,
		Data:            cb.data,
		ChatID:          cb.chatID,
		MessageID:       cb.msgID,
		Text:            p.get("text"),
		ShowAlert:       toBool(p.get("show_alert")),
		URL:             p.get("url"),
		CacheTime:       p.intArg("cache_time", 0, 0, 1<<31-1),
		Time:            time.Now(),
	})
	s.notifyLocked()
	return ok(true)
}

// AnsweredCallbacks returns the answerCallbackQuery calls that succeeded.
func (s *Server) AnsweredCallbacks() []AnsweredCallback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.answered)
}

// CallbackAnswered reports whether the callback query was answered.
func (s *Server) CallbackAnswered(callbackQueryID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[callbackQueryID]
	return cb != nil && cb.answered
}

// ---- commands ----

var validCommand = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

type scopeKey struct {
	Type   string `json:"type"`
	ChatID int64  `json:"chat_id,omitempty"`
	UserID int64  `json:"user_id,omitempty"`
}

func commandsKey(p *params) (string, *apiError) {
	sc := scopeKey{Type: "default"}
	if raw := p.get("scope"); raw != "" {
		var v struct {
			Type   string `json:"type"`
			ChatID any    `json:"chat_id"`
			UserID int64  `json:"user_id"`
		}
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return "", badRequest("Can't parse BotCommandScope JSON object")
		}
		switch v.Type {
		case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
			sc.Type = v.Type
		case "chat", "chat_administrators", "chat_member":
			sc.Type = v.Type
			if f, isNum := v.ChatID.(float64); isNum {
				sc.ChatID = int64(f)
			}
			sc.UserID = v.UserID
		default:
			return "", badRequest("Unsupported type specified")
		}
	}
	return CommandScope(sc.Type, sc.ChatID, sc.UserID) + "|" + p.get("language_code"), nil
}

// CommandScope names a command scope for CommandsFor: "default",
// "all_private_chats", "all_group_chats", "all_chat_administrators", or
// "chat:<chat_id>", "chat_administrators:<chat_id>",
// "chat_member:<chat_id>:<user_id>".
func CommandScope(typ string, chatID, userID int64) string {
	switch typ {
	case "chat", "chat_administrators":
		return typ + ":" + itoa64(chatID)
	case "chat_member":
		return typ + ":" + itoa64(chatID) + ":" + itoa64(userID)
	}
	return typ
}

func (s *Server) hSetMyCommands(ctx context.Context, p *params) result {
	var cmds []BotCommand
	if raw := p.get("commands"); raw != "" {
		var arr []json.RawMessage
		if err := json.Unmarshal([]byte(raw), &arr); err != nil {
			return fail(badRequest("Can't parse commands JSON object"))
		}
		for _, item := range arr {
			var obj map[string]any
			if err := json.Unmarshal(item, &obj); err != nil || obj == nil {
				return fail(badRequest("Can't parse BotCommand: expected an Object"))
			}
			cmd, msg := stringField(obj, "command", true)
			if msg == "" {
				var desc string
				desc, msg = stringField(obj, "description", true)
				cmds = append(cmds, BotCommand{Command: cmd, Description: desc})
			}
			if msg != "" {
				return fail(badRequest("Can't parse BotCommand: " + msg))
			}
		}
	}
	for _, c := range cmds {
		switch {
		case c.Command == "":
			return fail(badRequest("Command must be non-empty"))
		case c.Description == "":
			return fail(badRequest("Command description must be non-empty"))
		case !validCommand.MatchString(c.Command):
			return fail(badRequest("BOT_COMMAND_INVALID"))
		case utf16Len(c.Description) > 256:
			return fail(badRequest("BOT_COMMAND_DESCRIPTION_INVALID"))
		}
	}
	if len(cmds) > 100 {
		return fail(badRequest("BOT_COMMANDS_TOO_MUCH"))
	}
	key, aerr := commandsKey(p)
	if aerr != nil {
		return fail(aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(cmds) == 0 {
		delete(s.commands, key)
	} else {
		s.commands[key] = cmds
	}
	s.notifyLocked()
	return ok(true)
}

func (s *Server) hGetMyCommands(ctx context.Context, p *params) result {
	key, aerr := commandsKey(p)
	if aerr != nil {
		return fail(aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cmds := slices.Clone(s.commands[key])
	if cmds == nil {
		cmds = []BotCommand{}
	}
	return ok(cmds)
}

func (s *Server) hDeleteMyCommands(ctx context.Context, p *params) result {
	key, aerr := commandsKey(p)
	if aerr != nil {
		return fail(aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, key)
	s.notifyLocked()
	return ok(true)
}

// Commands returns the commands set for the default scope and no
// language, nil if none.
func (s *Server) Commands() []BotCommand {
	return s.CommandsFor("default", "")
}

// CommandsFor returns the commands set for a scope (see CommandScope) and
// language code ("" for all languages).
func (s *Server) CommandsFor(scope, languageCode string) []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[scope+"|"+languageCode])
}
