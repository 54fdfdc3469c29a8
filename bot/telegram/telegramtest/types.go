package telegramtest

import (
	"encoding/json"
	"time"
)

// User is a simulated Telegram user, the sender of simulated messages. Its
// private chat with the bot has the same id as the user, as on Telegram.
// LastName and Username are optional extras.
type User struct {
	ID           int64
	FirstName    string
	LanguageCode string
	LastName     string
	Username     string
}

// MessageEntity is a formatting or auto-detected entity of a message text or
// caption, with offsets and lengths in UTF-16 code units as the Bot API
// counts them.
type MessageEntity struct {
	Type     string `json:"type"`
	Offset   int    `json:"offset"`
	Length   int    `json:"length"`
	URL      string `json:"url,omitempty"`
	Language string `json:"language,omitempty"`
}

// ReplyMarkup is a reply_markup the bot sent, decoded: exactly one of
// InlineKeyboard, Keyboard, RemoveKeyboard and ForceReply is set.
type ReplyMarkup struct {
	InlineKeyboard [][]InlineButton `json:"inline_keyboard,omitempty"`

	Keyboard              [][]KeyboardButton `json:"keyboard,omitempty"`
	ResizeKeyboard        bool               `json:"resize_keyboard,omitempty"`
	OneTimeKeyboard       bool               `json:"one_time_keyboard,omitempty"`
	InputFieldPlaceholder string             `json:"input_field_placeholder,omitempty"`

	RemoveKeyboard bool `json:"remove_keyboard,omitempty"`
	ForceReply     bool `json:"force_reply,omitempty"`
	Selective      bool `json:"selective,omitempty"`
}

// InlineButtons returns the inline keyboard's buttons row by row, flattened.
func (m *ReplyMarkup) InlineButtons() []InlineButton {
	if m == nil {
		return nil
	}
	var out []InlineButton
	for _, row := range m.InlineKeyboard {
		out = append(out, row...)
	}
	return out
}

// KeyboardButtons returns the reply keyboard's buttons row by row, flattened.
func (m *ReplyMarkup) KeyboardButtons() []KeyboardButton {
	if m == nil {
		return nil
	}
	var out []KeyboardButton
	for _, row := range m.Keyboard {
		out = append(out, row...)
	}
	return out
}

// InlineButton is one button of an inline keyboard. Exactly one of
// CallbackData, URL, SwitchInlineQuery(CurrentChat) or Other is set; Other
// names any other kind the fake accepts without modelling (pay,
// callback_game, login_url, web_app, copy_text).
type InlineButton struct {
	Text                         string  `json:"text"`
	CallbackData                 string  `json:"callback_data,omitempty"`
	URL                          string  `json:"url,omitempty"`
	SwitchInlineQuery            *string `json:"switch_inline_query,omitempty"`
	SwitchInlineQueryCurrentChat *string `json:"switch_inline_query_current_chat,omitempty"`
	Other                        string  `json:"-"`
}

// KeyboardButton is one button of a reply keyboard.
type KeyboardButton struct {
	Text            string `json:"text"`
	RequestContact  bool   `json:"request_contact,omitempty"`
	RequestLocation bool   `json:"request_location,omitempty"`
}

// SentMessage is a message the bot sent to a chat, as it stands now (after
// any edits).
type SentMessage struct {
	ChatID    int64
	MessageID int
	// Method is the method that created it: sendMessage, sendPhoto, …
	Method string
	// Text is the text (or, for media, the caption) as the user sees it:
	// after MarkdownV2/HTML parsing and trimming. Source is what the bot
	// passed, and ParseMode the parse_mode it passed.
	Text      string
	Source    string
	ParseMode string
	Entities  []MessageEntity
	// ReplyMarkup is the markup now attached: the current inline keyboard
	// (after editMessageText/editMessageReplyMarkup), or the reply keyboard,
	// remove_keyboard or force_reply the message was sent with.
	ReplyMarkup           *ReplyMarkup
	DisableWebPagePreview bool
	ReplyToMessageID      int
	// FileID, FileName, MimeType and FileSize describe the media of a
	// sendPhoto/sendDocument/sendVideo/sendVoice (for a photo, the largest
	// size).
	FileID   string
	FileName string
	MimeType string
	FileSize int

	Time      time.Time
	Edited    bool
	EditCount int
	EditedAt  time.Time
	Deleted   bool
}

// Request is one Bot API call the server received.
type Request struct {
	// Method is the method's canonical name (getUpdates even when called as
	// "getupdates"); an unknown method keeps the name it was called by.
	Method string
	Params map[string]string
	// Files are the multipart file parts: field name → uploaded file.
	Files map[string]UploadedFile
	Time  time.Time
	// Duration is how long the server took to answer (a long poll waits).
	Duration time.Duration
	// Status is the HTTP status answered; ErrorCode, Description and
	// RetryAfter are the error fields of the answer, if any.
	Status      int
	OK          bool
	ErrorCode   int
	Description string
	RetryAfter  int
	// ViaWebhookResponse is true for a method the bot called by answering a
	// webhook delivery with a method in the body.
	ViaWebhookResponse bool
}

// UploadedFile is a file part of a multipart request.
type UploadedFile struct {
	FileName string
	Size     int
}

// Delivery is one attempt to deliver an update to the webhook.
type Delivery struct {
	UpdateID int
	Attempt  int
	// Status is the HTTP status the webhook answered, 0 when the request
	// failed (Error says why: connection refused, timeout, …).
	Status int
	Error  string
	// Secret is the X-Telegram-Bot-Api-Secret-Token header sent, if any.
	Secret   string
	Time     time.Time
	Duration time.Duration
}

// BotCommand is a command registered with setMyCommands.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// AnsweredCallback is an answerCallbackQuery the bot made.
type AnsweredCallback struct {
	CallbackQueryID string
	Data            string
	ChatID          int64
	MessageID       int
	Text            string
	ShowAlert       bool
	URL             string
	CacheTime       int
	Time            time.Time
}

// ---- wire types: the JSON the fake answers, shaped like the real API ----

type wireUser struct {
	ID                      int64  `json:"id"`
	IsBot                   bool   `json:"is_bot"`
	FirstName               string `json:"first_name"`
	LastName                string `json:"last_name,omitempty"`
	Username                string `json:"username,omitempty"`
	LanguageCode            string `json:"language_code,omitempty"`
	CanJoinGroups           *bool  `json:"can_join_groups,omitempty"`
	CanReadAllGroupMessages *bool  `json:"can_read_all_group_messages,omitempty"`
	SupportsInlineQueries   *bool  `json:"supports_inline_queries,omitempty"`
}

type wireChat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
}

type wirePhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size,omitempty"`
}

type wireDocument struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type wireVideo struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	Duration     int    `json:"duration"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type wireVoice struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Duration     int    `json:"duration"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type wireContact struct {
	PhoneNumber string `json:"phone_number"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name,omitempty"`
	UserID      int64  `json:"user_id,omitempty"`
}

type wireLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type wireMessage struct {
	MessageID       int              `json:"message_id"`
	From            *wireUser        `json:"from,omitempty"`
	Chat            wireChat         `json:"chat"`
	Date            int64            `json:"date"`
	EditDate        int64            `json:"edit_date,omitempty"`
	ReplyToMessage  *wireMessage     `json:"reply_to_message,omitempty"`
	Text            string           `json:"text,omitempty"`
	Entities        []MessageEntity  `json:"entities,omitempty"`
	Photo           []wirePhotoSize  `json:"photo,omitempty"`
	Document        *wireDocument    `json:"document,omitempty"`
	Video           *wireVideo       `json:"video,omitempty"`
	Voice           *wireVoice       `json:"voice,omitempty"`
	Caption         string           `json:"caption,omitempty"`
	CaptionEntities []MessageEntity  `json:"caption_entities,omitempty"`
	Contact         *wireContact     `json:"contact,omitempty"`
	Location        *wireLocation    `json:"location,omitempty"`
	ReplyMarkup     *json.RawMessage `json:"reply_markup,omitempty"`
}

type wireCallbackQuery struct {
	ID           string       `json:"id"`
	From         wireUser     `json:"from"`
	Message      *wireMessage `json:"message,omitempty"`
	ChatInstance string       `json:"chat_instance"`
	Data         string       `json:"data,omitempty"`
}

type wireChatMember struct {
	User   wireUser `json:"user"`
	Status string   `json:"status"`
}

type wireChatMemberUpdated struct {
	Chat          wireChat       `json:"chat"`
	From          wireUser       `json:"from"`
	Date          int64          `json:"date"`
	OldChatMember wireChatMember `json:"old_chat_member"`
	NewChatMember wireChatMember `json:"new_chat_member"`
}

type wireUpdate struct {
	UpdateID      int                    `json:"update_id"`
	Message       *wireMessage           `json:"message,omitempty"`
	EditedMessage *wireMessage           `json:"edited_message,omitempty"`
	CallbackQuery *wireCallbackQuery     `json:"callback_query,omitempty"`
	MyChatMember  *wireChatMemberUpdated `json:"my_chat_member,omitempty"`
}

type wireFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int    `json:"file_size,omitempty"`
	FilePath     string `json:"file_path,omitempty"`
}

type wireWebhookInfo struct {
	URL                  string   `json:"url"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	IPAddress            string   `json:"ip_address,omitempty"`
	LastErrorDate        int64    `json:"last_error_date,omitempty"`
	LastErrorMessage     string   `json:"last_error_message,omitempty"`
	MaxConnections       int      `json:"max_connections,omitempty"`
	AllowedUpdates       []string `json:"allowed_updates,omitempty"`
}
