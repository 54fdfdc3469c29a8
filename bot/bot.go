// Package bot holds the platform-neutral side of the chatbot: the inbound and
// outbound message types every platform adapter translates to and from, the
// Channel interface adapters implement, the media intake into a blob store,
// and the Router that takes an inbound message through dedupe and per-user
// serialisation to the conversation engine and sends its replies. It imports
// no platform SDK.
package bot

import (
	"context"
	"time"
)

// Platform names a messaging platform.
type Platform string

// The platforms the product speaks.
const (
	Telegram Platform = "telegram"
	WeChat   Platform = "wechat"
	Web      Platform = "web" // the built-in chat page
	// SMS and Voice reach a phone number (UserRef.ID) by text message and
	// by a voice-call notification, for what cannot wait for a chat to be
	// read (an urgent work order). They send only the provider's approved
	// templates: an Outbound to them carries Template and Params.
	SMS   Platform = "sms"
	Voice Platform = "voice"
)

// UserRef identifies a user on a platform: a Telegram user id, a WeChat
// OpenID, a web chat visitor id.
type UserRef struct {
	Platform Platform `json:"platform"`
	ID       string   `json:"id"`
}

// Key returns "platform:id", the key of the user's session, lock and dedupe
// entries.
func (u UserRef) Key() string { return string(u.Platform) + ":" + u.ID }

// Kind is what an inbound message carries.
type Kind string

// Kinds of inbound messages.
const (
	KindText     Kind = "text"
	KindCommand  Kind = "command"  // /start, /report … (Text holds the arguments)
	KindButton   Kind = "button"   // a press on a choice (Payload)
	KindPhoto    Kind = "photo"    // Media
	KindVideo    Kind = "video"    // Media
	KindVoice    Kind = "voice"    // Media; Text holds a transcript when the platform gives one
	KindDocument Kind = "document" // Media
	KindLocation Kind = "location" // Location
	KindContact  Kind = "contact"  // Contact
	KindFollow   Kind = "follow"   // subscribed to the account / started the bot
	KindUnfollow Kind = "unfollow" // unsubscribed / blocked the bot
	KindMenu     Kind = "menu"     // a custom-menu click (Payload holds the key)
)

// Inbound is one message from a user, as an adapter hands it to the Router.
type Inbound struct {
	User      UserRef
	MessageID string // the platform's id, for dedupe; unique per user
	Time      time.Time
	Kind      Kind

	Text     string    // text, command arguments, voice transcript
	Command  string    // for KindCommand: "start", "report" … without the slash
	Payload  string    // for KindButton and KindMenu
	Media    *Media    // for photo, video, voice and document
	Location *Location // for KindLocation
	Contact  *Contact  // for KindContact
	Language string    // the user's language as the platform reports it (Telegram language_code)
	Name     string    // display name, when the platform gives one
	// ClientIP is the address the message came from, where the platform
	// is the service's own (the chat page); "" for Telegram and WeChat.
	ClientIP string
}

// Media is an attachment announced by a platform. The adapter's MediaFetcher
// knows how to fetch it by FileID; the Router stores it in the BlobStore and
// fills BlobKey, or Err when it was refused.
type Media struct {
	FileID      string `json:"file_id"`
	FileName    string `json:"file_name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"` // as announced; 0 when unknown
	BlobKey     string `json:"blob_key,omitempty"`
	Err         error  `json:"-"` // why it could not be stored (ErrMediaTooLarge, ErrMediaType…)
}

// Location is a shared position.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Label     string  `json:"label,omitempty"`
}

// Contact is a shared phone number; Own reports whether it is the sender's
// own (Telegram: Contact.UserID == From.ID).
type Contact struct {
	Phone string `json:"phone"`
	Name  string `json:"name,omitempty"`
	Own   bool   `json:"own"`
}

// OutKind is what an outbound message carries.
type OutKind string

// Kinds of outbound messages.
const (
	OutText   OutKind = "text"   // Text, and Choices when there are any
	OutPhoto  OutKind = "photo"  // BlobKey, with Text as caption
	OutTyping OutKind = "typing" // a typing indicator
	// OutEdit changes a message sent earlier, named by Ref: its buttons are
	// taken away and, when Mark is given, Mark is added under its text (Text
	// is then the text it was sent with). Only a RefSender channel gives
	// references to edit, and performs it; the others skip it.
	OutEdit OutKind = "edit"
)

// Outbound is one message to a user. Adapters render Choices natively: inline
// buttons on Telegram, numbered options on WeChat that accept the number or
// the words.
type Outbound struct {
	To      UserRef  `json:"to"`
	Kind    OutKind  `json:"kind"`
	Text    string   `json:"text,omitempty"`
	Choices []Choice `json:"choices,omitempty"`
	BlobKey string   `json:"blob_key,omitempty"`
	// RequestContact asks for the user's phone with the platform's share
	// button where there is one (Telegram).
	RequestContact bool `json:"request_contact,omitempty"`
	// Ref names, for OutEdit, the message to edit: the reference its
	// channel returned when it sent it (RefSender).
	Ref string `json:"ref,omitempty"`
	// Mark is, for OutEdit, the words added under the edited text
	// ("（已改派）"); "" takes the buttons away only.
	Mark string `json:"mark,omitempty"`
	// Template and Params carry a message to a phone platform (SMS,
	// Voice), whose providers send only approved templates: Template names
	// the kind of notice ("urgent_order"), which the operator maps to an
	// approved template, and Params fill its variables in the template's
	// order. Text is then what the message says in words, for people
	// reading the case; it is not sent.
	Template string  `json:"template,omitempty"`
	Params   []Param `json:"params,omitempty"`
}

// Param is a named value of a phone platform's template.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Choice is one option offered to the user. Payload comes back in a
// KindButton message; Label is what the user sees and may also type.
type Choice struct {
	Label   string `json:"label"`
	Payload string `json:"payload"`
}

// Channel sends messages on one platform.
type Channel interface {
	// Platform returns the platform this channel serves.
	Platform() Platform
	// Send delivers msg or returns why it could not.
	Send(ctx context.Context, msg Outbound) error
}

// RefSender is a Channel whose platform can change a message after it was
// delivered (Telegram). SendRef sends msg as Send does and returns the
// platform's reference of the message it delivered — "" when there is none
// to refer to (a typing indicator, an edit) — which a later OutEdit names in
// Ref. A RefSender performs OutEdit; a Channel that is not one skips it
// (returns nil), as it gave no reference to edit.
type RefSender interface {
	Channel
	SendRef(ctx context.Context, msg Outbound) (ref string, err error)
}

// Handler is the conversation engine as the Router sees it: one inbound
// message in, the replies out.
type Handler interface {
	Handle(ctx context.Context, in *Inbound) ([]Outbound, error)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, in *Inbound) ([]Outbound, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, in *Inbound) ([]Outbound, error) { return f(ctx, in) }
