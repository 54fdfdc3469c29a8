package wechattest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// SentKind says how a message reached a user.
type SentKind string

// Kinds of Sent.
const (
	// KindCustom is a customer-service message (/cgi-bin/message/custom/send).
	KindCustom SentKind = "custom"
	// KindTemplate is a template message (/cgi-bin/message/template/send).
	KindTemplate SentKind = "template"
	// KindPassive is a passive reply in the body of the callback's answer,
	// recorded when a Platform linked to the Server delivers it.
	KindPassive SentKind = "passive"
	// KindNotice is WeChat's own system notice, shown when the account did
	// not answer in time on every try or answered something invalid.
	KindNotice SentKind = "notice"
)

// ServiceUnavailableNotice is what WeChat shows the user when the account
// fails to answer a callback: "this official account cannot provide service
// for now, please try again later".
const ServiceUnavailableNotice = "该公众号暂时无法提供服务，请稍后再试"

// Sent is a message that reached a user.
type Sent struct {
	Kind   SentKind
	ToUser string
	// MsgType is text, image, voice, video, music, news, mpnews, msgmenu,
	// miniprogrampage, … for custom messages and passive replies, and
	// "template" for template messages.
	MsgType string
	// Content is the text of a text message as the user sees it (a
	// bizmsgmenu link shows as its label; Raw has the text as sent); a
	// msgmenu's head, items and tail a line each; the first article's title of a
	// news message; for a template, its data as "key: value" lines in the
	// template's field order; for a notice, the notice.
	Content string
	// Raw is a text message's content as the account sent it.
	Raw string
	// Options are the options the user can tap: the bizmsgmenu links of a
	// text, the items of a msgmenu.
	Options    []Option
	MediaID    string
	Articles   []Article
	TemplateID string
	URL        string
	Data       map[string]TemplateItem
	MsgID      int64  // a template message's msgid
	Body       []byte // the request's JSON, or the reply's (decrypted) XML
	Time       time.Time
}

// Article is one item of a news message.
type Article struct {
	Title       string `json:"title" xml:"Title"`
	Description string `json:"description" xml:"Description"`
	URL         string `json:"url" xml:"Url"`
	PicURL      string `json:"picurl" xml:"PicUrl"`
}

// User is what the fake knows of a user of the account.
type User struct {
	OpenID     string
	Subscribed bool
	// LastMessage is when the user last sent a message (zero if never); it
	// opens MessageWindow with MessageQuota customer-service messages.
	LastMessage time.Time
	MessageLeft int
	// LastEvent is the last follow, menu click or scan (zero if none); it
	// opens EventWindow with EventQuota customer-service messages.
	LastEvent time.Time
	EventLeft int
	// Language is the language of the user's WeChat as user/info reports
	// it: "zh_CN" (the default), "zh_TW", "en"… (SetLanguage).
	Language    string
	languageSet bool
}

// AddUser makes openID a follower of the account who has sent nothing: no
// customer-service window is open, template messages can be sent.
func (s *Server) AddUser(openID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLocked(openID).Subscribed = true
	s.broadcastLocked()
}

// User returns what the fake knows of openID.
func (s *Server) User(openID string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[openID]
	if !ok {
		return User{}, false
	}
	return *u, true
}

func (s *Server) userLocked(openID string) *User {
	u := s.users[openID]
	if u == nil {
		u = &User{OpenID: openID}
		s.users[openID] = u
	}
	return u
}

// RecordInbound tells the fake that the user msg.FromUserName did what msg
// describes, as WeChat knows before it calls the account: a message
// (re)opens the 48-hour window with a fresh quota of 5; a follow, a click on
// a click or scan-code menu button and a QR-code scan open a 1-minute
// window of 3; an unfollow closes everything. A Platform linked to the
// Server calls it for every message it sends.
func (s *Server) RecordInbound(msg Inbound) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordInboundLocked(msg)
	s.broadcastLocked()
}

func (s *Server) recordInboundLocked(msg Inbound) {
	u := s.userLocked(msg.FromUserName)
	now := s.nowLocked()
	if msg.MsgType != MsgTypeEvent {
		// Only followers can write to an official account.
		u.Subscribed = true
		u.LastMessage, u.MessageLeft = now, MessageQuota
		return
	}
	switch msg.Event {
	case EventSubscribe, EventScan, EventClick, "scancode_push", "scancode_waitmsg":
		u.Subscribed = true
		u.LastEvent, u.EventLeft = now, EventQuota
	case EventUnsubscribe:
		*u = User{OpenID: u.OpenID}
	}
}

// SentTo returns the messages that reached openID, oldest first.
func (s *Server) SentTo(openID string) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Sent
	for _, m := range s.sent {
		if m.ToUser == openID {
			out = append(out, m)
		}
	}
	return out
}

// AllSent returns every message that reached any user, oldest first.
func (s *Server) AllSent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// WaitSent waits until at least n messages reached openID and returns them.
func (s *Server) WaitSent(ctx context.Context, openID string, n int) ([]Sent, error) {
	var got []Sent
	err := s.Wait(ctx, func() bool {
		got = s.SentTo(openID)
		return len(got) >= n
	})
	return got, err
}

func (s *Server) recordSentLocked(m Sent) {
	m.Time = s.nowLocked()
	s.sent = append(s.sent, m)
}

// customMessage is the body of /cgi-bin/message/custom/send.
type customMessage struct {
	ToUser  string `json:"touser"`
	MsgType string `json:"msgtype"`
	Text    *struct {
		Content string `json:"content"`
	} `json:"text"`
	Image *mediaRef `json:"image"`
	Voice *mediaRef `json:"voice"`
	Video *struct {
		MediaID      string `json:"media_id"`
		ThumbMediaID string `json:"thumb_media_id"`
		Title        string `json:"title"`
		Description  string `json:"description"`
	} `json:"video"`
	Music *struct {
		Title        string `json:"title"`
		ThumbMediaID string `json:"thumb_media_id"`
	} `json:"music"`
	News *struct {
		Articles []Article `json:"articles"`
	} `json:"news"`
	MPNews        *mediaRef       `json:"mpnews"`
	MPNewsArticle json.RawMessage `json:"mpnewsarticle"`
	MsgMenu       *struct {
		HeadContent string `json:"head_content"`
		List        []struct {
			ID      string `json:"id"`
			Content string `json:"content"`
		} `json:"list"`
		TailContent string `json:"tail_content"`
	} `json:"msgmenu"`
	WxCard          json.RawMessage `json:"wxcard"`
	MiniProgramPage *struct {
		Title        string `json:"title"`
		ThumbMediaID string `json:"thumb_media_id"`
	} `json:"miniprogrampage"`
}

type mediaRef struct {
	MediaID string `json:"media_id"`
}

// serveCustomSend: POST /cgi-bin/message/custom/send.
func (s *Server) serveCustomSend(_ *http.Request, body []byte) apiResult {
	var m customMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return s.apiError(CodeDataFormatError, "data format error")
	}
	if m.ToUser == "" {
		return s.apiError(CodeInvalidOpenID, "invalid openid")
	}
	sent := Sent{Kind: KindCustom, ToUser: m.ToUser, MsgType: m.MsgType, Body: body}
	switch m.MsgType {
	case "text":
		if m.Text == nil || m.Text.Content == "" {
			return s.apiError(CodeEmptyContent, "empty content")
		}
		if len(m.Text.Content) > TextLimit {
			return s.apiError(CodeContentSizeLimit, "content size out of limit")
		}
		sent.Raw = m.Text.Content
		sent.Content, sent.Options = ParseOptions(m.Text.Content)
	case "msgmenu":
		mm := m.MsgMenu
		if mm == nil || len(mm.List) == 0 || len(mm.List) > MsgMenuItemLimit || len(mm.HeadContent) > MsgMenuTextLimit || len(mm.TailContent) > MsgMenuTextLimit {
			return s.apiError(CodeDataFormatError, "data format error")
		}
		lines := []string{mm.HeadContent}
		for _, it := range mm.List {
			if it.ID == "" || it.Content == "" || len(it.ID) > 64 || len(it.Content) > 128 {
				return s.apiError(CodeDataFormatError, "data format error")
			}
			sent.Options = append(sent.Options, Option{ID: it.ID, Content: it.Content, Label: it.Content})
			lines = append(lines, it.Content)
		}
		sent.Content = strings.Join(append(lines, mm.TailContent), "\n")
	case "image", "voice", "mpnews":
		ref := map[string]*mediaRef{"image": m.Image, "voice": m.Voice, "mpnews": m.MPNews}[m.MsgType]
		if ref == nil || !s.mediaValidLocked(ref.MediaID) {
			return s.apiError(CodeInvalidMediaID, "invalid media_id")
		}
		sent.MediaID = ref.MediaID
	case "video":
		if m.Video == nil || !s.mediaValidLocked(m.Video.MediaID) {
			return s.apiError(CodeInvalidMediaID, "invalid media_id")
		}
		sent.MediaID, sent.Content = m.Video.MediaID, m.Video.Title
	case "music":
		if m.Music == nil {
			return s.apiError(CodeDataFormatError, "data format error")
		}
		sent.Content = m.Music.Title
	case "news":
		if m.News == nil || len(m.News.Articles) == 0 {
			return s.apiError(CodeEmptyNewsData, "empty news data")
		}
		if len(m.News.Articles) > 1 {
			return s.apiError(CodeArticleSizeLimit, "article size out of limit")
		}
		sent.Articles, sent.Content = m.News.Articles, m.News.Articles[0].Title
	case "miniprogrampage":
		if m.MiniProgramPage == nil {
			return s.apiError(CodeDataFormatError, "data format error")
		}
		sent.Content = m.MiniProgramPage.Title
	case "mpnewsarticle", "wxcard":
		raw := map[string]json.RawMessage{"mpnewsarticle": m.MPNewsArticle, "wxcard": m.WxCard}[m.MsgType]
		if len(raw) == 0 || strings.TrimSpace(string(raw)) == "null" {
			return s.apiError(CodeDataFormatError, "data format error")
		}
	default:
		return s.apiError(CodeInvalidMessageType, "invalid message type")
	}
	if code, msg := s.spendQuotaLocked(m.ToUser); code != 0 {
		return s.apiError(code, msg)
	}
	s.recordSentLocked(sent)
	return okResult()
}

// spendQuotaLocked applies the customer-service rules: the event window's
// quota is spent first (it ends sooner), then the message window's.
func (s *Server) spendQuotaLocked(openID string) (int, string) {
	u := s.users[openID]
	if u == nil || !u.Subscribed {
		return CodeResponseOutOfTime, "response out of time limit or subscription is canceled"
	}
	now := s.nowLocked()
	inEvent := !u.LastEvent.IsZero() && now.Sub(u.LastEvent) < EventWindow
	inMessage := !u.LastMessage.IsZero() && now.Sub(u.LastMessage) < MessageWindow
	switch {
	case inEvent && u.EventLeft > 0:
		u.EventLeft--
	case inMessage && u.MessageLeft > 0:
		u.MessageLeft--
	case inEvent || inMessage:
		return CodeResponseCountLimit, "out of response count limit"
	default:
		return CodeResponseOutOfTime, "response out of time limit or subscription is canceled"
	}
	return 0, ""
}
