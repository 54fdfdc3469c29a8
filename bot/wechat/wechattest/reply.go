package wechattest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Reply is the account's answer to one push, read as WeChat reads it.
type Reply struct {
	Status  int
	Header  http.Header
	Body    []byte // raw
	Elapsed time.Duration
	// IsSuccess: the body is exactly "success" or empty, which tells WeChat
	// there is nothing to show the user (the account may send
	// customer-service messages later).
	IsSuccess bool
	// Encrypted: the body was a safe-mode envelope whose MsgSignature
	// checked out and which decrypted for the appid.
	Encrypted bool
	// XML is the passive reply's XML, decrypted in safe mode.
	XML []byte
	// Msg is the parsed passive reply, when the body is one (even an
	// invalid one).
	Msg *ReplyMessage
	// Invalid, when not empty, says why WeChat rejects the answer; it then
	// shows the user ServiceUnavailableNotice.
	Invalid string
}

// ReplyMessage is a passive reply's fields.
type ReplyMessage struct {
	ToUserName   string
	FromUserName string
	CreateTime   int64
	MsgType      string
	Content      string // text
	MediaID      string // image, voice, video
	Title        string // video, music
	Description  string // video, music
	MusicURL     string
	HQMusicURL   string
	ThumbMediaID string
	Articles     []Article // news
}

// replyXML is the union of the passive reply formats.
type replyXML struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   string   `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Content      string   `xml:"Content"`
	Image        struct {
		MediaID string `xml:"MediaId"`
	} `xml:"Image"`
	Voice struct {
		MediaID string `xml:"MediaId"`
	} `xml:"Voice"`
	Video struct {
		MediaID     string `xml:"MediaId"`
		Title       string `xml:"Title"`
		Description string `xml:"Description"`
	} `xml:"Video"`
	Music struct {
		Title        string `xml:"Title"`
		Description  string `xml:"Description"`
		MusicURL     string `xml:"MusicUrl"`
		HQMusicURL   string `xml:"HQMusicUrl"`
		ThumbMediaID string `xml:"ThumbMediaId"`
	} `xml:"Music"`
	ArticleCount int       `xml:"ArticleCount"`
	Articles     []Article `xml:"Articles>item"`
	Encrypt      string    `xml:"Encrypt"`
}

// passiveTypes are the MsgTypes a passive reply may have.
var passiveTypes = map[string]bool{
	"text": true, "image": true, "voice": true, "video": true, "music": true, "news": true,
	"transfer_customer_service": true,
}

// ParseReply reads an answer to msg as WeChat does: HTTP 200 with
// "success", an empty body, or a passive reply XML addressed to the user
// from the account — encrypted with a valid MsgSignature in safe mode.
// Anything else is marked Invalid.
func (p *Platform) ParseReply(msg Inbound, status int, body []byte) *Reply {
	r := &Reply{Status: status, Body: body}
	if status != http.StatusOK {
		r.Invalid = fmt.Sprintf("HTTP status %d", status)
		return r
	}
	if len(body) == 0 || string(body) == "success" {
		r.IsSuccess = true
		return r
	}
	var outer replyXML
	if err := xml.Unmarshal(body, &outer); err != nil {
		r.Invalid = fmt.Sprintf("not a reply XML: %v", err)
		return r
	}
	plain := body
	switch {
	case outer.Encrypt != "" && !p.Safe:
		r.Invalid = "encrypted reply in plaintext mode"
		return r
	case outer.Encrypt == "" && p.Safe:
		r.Invalid = "plaintext reply in safe mode"
	case outer.Encrypt != "":
		dec, err := OpenReply(body, p.Token, p.AppID, p.EncodingAESKey)
		if err != nil {
			r.Invalid = fmt.Sprintf("encrypted reply: %v", err)
			return r
		}
		r.Encrypted, plain = true, dec
		if len(bytes.TrimSpace(dec)) == 0 {
			// What the SDK sends in safe mode when the handler returns nil.
			// WeChat documents only "success" and the empty body for "no
			// reply"; the fake treats this as the invalid reply it is.
			r.Invalid = `encrypted empty reply; answer "success" or an empty body instead`
			return r
		}
	}
	r.XML = plain
	var x replyXML
	if err := xml.Unmarshal(plain, &x); err != nil {
		r.Invalid = fmt.Sprintf("not a reply XML: %v", err)
		return r
	}
	m := &ReplyMessage{
		ToUserName: x.ToUserName, FromUserName: x.FromUserName, MsgType: x.MsgType, Content: x.Content,
		Title: x.Music.Title, Description: x.Music.Description, MusicURL: x.Music.MusicURL,
		HQMusicURL: x.Music.HQMusicURL, ThumbMediaID: x.Music.ThumbMediaID, Articles: x.Articles,
	}
	fmt.Sscan(strings.TrimSpace(x.CreateTime), &m.CreateTime)
	switch x.MsgType {
	case "image":
		m.MediaID = x.Image.MediaID
	case "voice":
		m.MediaID = x.Voice.MediaID
	case "video":
		m.MediaID, m.Title, m.Description = x.Video.MediaID, x.Video.Title, x.Video.Description
	}
	r.Msg = m
	switch {
	case r.Invalid != "":
	case !passiveTypes[m.MsgType]:
		r.Invalid = fmt.Sprintf("unsupported reply MsgType %q", m.MsgType)
	case m.ToUserName != msg.FromUserName:
		r.Invalid = fmt.Sprintf("reply ToUserName %q is not the user %q", m.ToUserName, msg.FromUserName)
	case m.FromUserName != msg.ToUserName:
		r.Invalid = fmt.Sprintf("reply FromUserName %q is not the account %q", m.FromUserName, msg.ToUserName)
	case m.MsgType == "news" && (x.ArticleCount != len(x.Articles) || len(x.Articles) == 0):
		r.Invalid = fmt.Sprintf("news reply ArticleCount %d with %d articles", x.ArticleCount, len(x.Articles))
	}
	return r
}

// recordDelivery records what reached the user after a push: the passive
// reply, nothing for "success", or WeChat's notice when r is nil (no answer
// in time) or invalid.
func (s *Server) recordDelivery(msg Inbound, r *Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.broadcastLocked()
	switch {
	case r == nil || r.Invalid != "":
		s.recordSentLocked(Sent{Kind: KindNotice, ToUser: msg.FromUserName, Content: ServiceUnavailableNotice})
	case r.Msg != nil && r.Msg.MsgType != "transfer_customer_service":
		m := r.Msg
		sent := Sent{Kind: KindPassive, ToUser: msg.FromUserName, MsgType: m.MsgType, Content: m.Content,
			MediaID: m.MediaID, Articles: m.Articles, Body: bytes.Clone(r.XML)}
		if m.MsgType == "text" {
			sent.Raw = m.Content
			sent.Content, sent.Options = ParseOptions(m.Content)
		}
		if m.MsgType == "news" {
			sent.Content = m.Articles[0].Title
		} else if m.MsgType == "video" || m.MsgType == "music" {
			sent.Content = m.Title
		}
		s.recordSentLocked(sent)
	}
}
