package wechattest

import (
	"strconv"
	"strings"
)

// Message and event types of callback messages.
const (
	MsgTypeText       = "text"
	MsgTypeImage      = "image"
	MsgTypeVoice      = "voice"
	MsgTypeVideo      = "video"
	MsgTypeShortVideo = "shortvideo"
	MsgTypeLocation   = "location"
	MsgTypeLink       = "link"
	MsgTypeEvent      = "event"

	EventSubscribe   = "subscribe"
	EventUnsubscribe = "unsubscribe"
	EventScan        = "SCAN"
	EventLocation    = "LOCATION"
	EventClick       = "CLICK"
	EventView        = "VIEW"
)

// Inbound is a message or event that WeChat pushes to the account's
// callback URL. Zero ToUserName, CreateTime and (for messages) MsgID are
// filled in when a Platform sends it.
type Inbound struct {
	ToUserName   string // the account's original id, gh_…
	FromUserName string // the user's openid
	CreateTime   int64  // Unix seconds
	MsgType      string
	MsgID        int64 // messages only; events have none

	Content      string // text
	PicURL       string // image
	MediaID      string // image, voice, video, shortvideo
	Format       string // voice: amr or speex
	Recognition  string // voice, when speech recognition is on
	ThumbMediaID string // video, shortvideo
	LocationX    float64
	LocationY    float64
	Scale        int
	Label        string
	Title        string // link
	Description  string // link
	URL          string // link

	Event     string
	EventKey  string // CLICK: the button key; VIEW: the URL; SCAN: the scene; subscribe: qrscene_<scene>
	Ticket    string // SCAN, subscribe by QR code
	Latitude  float64
	Longitude float64
	Precision float64
	MenuID    string // VIEW

	// BizMsgMenuID is, on a text, the id of the option the user tapped: a
	// bizmsgmenu link in a text, or an item of a msgmenu message (see Tap).
	BizMsgMenuID string
}

// IsEvent reports whether m is an event rather than a user message.
func (m Inbound) IsEvent() bool { return m.MsgType == MsgTypeEvent }

// Text is a text message from openID.
func Text(openID, content string) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeText, Content: content}
}

// Image is a photo from openID; mediaID comes from Server.AddMedia.
// An empty picURL is filled with the linked Server's PicURL.
func Image(openID, mediaID, picURL string) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeImage, MediaID: mediaID, PicURL: picURL}
}

// Voice is a voice message (AMR) from openID with WeChat's speech
// recognition result, if any.
func Voice(openID, mediaID, recognition string) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeVoice, MediaID: mediaID, Format: "amr", Recognition: recognition}
}

// Video is a video message from openID.
func Video(openID, mediaID, thumbMediaID string) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeVideo, MediaID: mediaID, ThumbMediaID: thumbMediaID}
}

// Location is a location a user shares: latitude x, longitude y, map
// scale and a label (the address).
func Location(openID string, x, y float64, scale int, label string) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeLocation, LocationX: x, LocationY: y, Scale: scale, Label: label}
}

// Tap is openID tapping option o of a message that reached them: WeChat
// sends the option's content as the user's text with its id in
// <bizmsgmenuid>.
func Tap(openID string, o Option) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeText, Content: o.Content, BizMsgMenuID: o.ID}
}

// Subscribe is openID following the account.
func Subscribe(openID string) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeEvent, Event: EventSubscribe}
}

// Unsubscribe is openID unfollowing the account.
func Unsubscribe(openID string) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeEvent, Event: EventUnsubscribe}
}

// Click is openID tapping a click-type menu button with key.
func Click(openID, key string) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeEvent, Event: EventClick, EventKey: key}
}

// View is openID tapping a view-type menu button that opens url.
func View(openID, url string) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeEvent, Event: EventView, EventKey: url}
}

// Scan is a follower scanning the account's parametric QR code for scene.
func Scan(openID, scene, ticket string) Inbound {
	return Inbound{FromUserName: openID, MsgType: MsgTypeEvent, Event: EventScan, EventKey: scene, Ticket: ticket}
}

// XML renders m as WeChat does: CDATA strings, bare numbers, the common
// fields first, MsgId last, one element a line.
func (m Inbound) XML() []byte {
	var b strings.Builder
	b.WriteString("<xml>")
	str := func(name, v string) { b.WriteString("<" + name + ">" + cdata(v) + "</" + name + ">\n") }
	num := func(name, v string) { b.WriteString("<" + name + ">" + v + "</" + name + ">\n") }
	float := func(name string, v float64) { num(name, strconv.FormatFloat(v, 'f', 6, 64)) }

	str("ToUserName", m.ToUserName)
	str("FromUserName", m.FromUserName)
	num("CreateTime", strconv.FormatInt(m.CreateTime, 10))
	str("MsgType", m.MsgType)
	switch m.MsgType {
	case MsgTypeEvent:
		str("Event", m.Event)
		switch m.Event {
		case EventSubscribe, EventUnsubscribe, EventScan:
			str("EventKey", m.EventKey)
			if m.Ticket != "" {
				str("Ticket", m.Ticket)
			}
		case EventLocation:
			float("Latitude", m.Latitude)
			float("Longitude", m.Longitude)
			float("Precision", m.Precision)
		case EventView:
			str("EventKey", m.EventKey)
			if m.MenuID != "" {
				num("MenuId", m.MenuID)
			}
		default:
			str("EventKey", m.EventKey)
		}
		b.WriteString("</xml>")
		return []byte(b.String())
	case MsgTypeText:
		str("Content", m.Content)
	case MsgTypeImage:
		str("PicUrl", m.PicURL)
		str("MediaId", m.MediaID)
	case MsgTypeVoice:
		str("MediaId", m.MediaID)
		str("Format", m.Format)
		if m.Recognition != "" {
			str("Recognition", m.Recognition)
		}
	case MsgTypeVideo, MsgTypeShortVideo:
		str("MediaId", m.MediaID)
		str("ThumbMediaId", m.ThumbMediaID)
	case MsgTypeLocation:
		float("Location_X", m.LocationX)
		float("Location_Y", m.LocationY)
		num("Scale", strconv.Itoa(m.Scale))
		str("Label", m.Label)
	case MsgTypeLink:
		str("Title", m.Title)
		str("Description", m.Description)
		str("Url", m.URL)
	}
	num("MsgId", strconv.FormatInt(m.MsgID, 10))
	if m.MsgType == MsgTypeText && m.BizMsgMenuID != "" {
		num("bizmsgmenuid", m.BizMsgMenuID)
	}
	b.WriteString("</xml>")
	return []byte(b.String())
}
