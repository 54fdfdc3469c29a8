package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"github.com/aftersales/aftersales/bot"
)

// inbound converts a callback message. It returns the message for the
// router (nil for what the bot does not handle: view clicks, location
// reports, template receipts…) and the customer-service allowance the
// interaction opens (nil for none). A tapped option (a text carrying the
// bizmsgmenuid of a link render wrote) becomes a press on that choice, as a
// button on Telegram, when its id is still known; else it is the label's
// words, which the engine matches too.
func (a *Adapter) inbound(ctx context.Context, m *message.MixMessage, now time.Time) (*bot.Inbound, *Grant) {
	in := &bot.Inbound{
		User: bot.UserRef{Platform: bot.WeChat, ID: string(m.FromUserName)},
		Time: time.Unix(m.CreateTime, 0),
	}
	if m.CreateTime <= 0 {
		in.Time = now
	}
	if m.MsgType == message.MsgTypeEvent {
		return a.event(m, in, now)
	}
	// Messages carry a MsgId, the same in WeChat's retries.
	in.MessageID = "m:" + strconv.FormatInt(m.MsgID, 10)
	if m.MsgID == 0 {
		in.MessageID = "t:" + strconv.FormatInt(m.CreateTime, 10)
	}
	g := messageGrant(in.MessageID, now)
	switch m.MsgType {
	case message.MsgTypeText:
		in.Kind, in.Text = bot.KindText, m.Content
		if m.BizMsgMenuID > 0 {
			if p := a.tappedOption(ctx, in.User.ID, m.BizMsgMenuID); p != "" {
				in.Kind, in.Payload = bot.KindButton, p
			}
		}
	case message.MsgTypeImage:
		in.Kind = bot.KindPhoto
		in.Media = &bot.Media{FileID: m.MediaID, ContentType: "image/jpeg"}
		a.pics.put(m.MediaID, m.PicURL, now)
	case message.MsgTypeVoice:
		if r := strings.TrimSpace(m.Recognition); r != "" {
			in.Kind, in.Text = bot.KindText, r
			break
		}
		in.Kind = bot.KindVoice
		in.Media = &bot.Media{FileID: m.MediaID, ContentType: voiceType(m.Format)}
	case message.MsgTypeVideo, message.MsgTypeShortVideo:
		in.Kind = bot.KindVideo
		in.Media = &bot.Media{FileID: m.MediaID, ContentType: "video/mp4"}
	case message.MsgTypeLocation:
		in.Kind = bot.KindLocation
		in.Location = &bot.Location{Latitude: m.LocationX, Longitude: m.LocationY, Label: m.Label}
	case message.MsgTypeLink:
		in.Kind, in.Text = bot.KindText, strings.TrimSpace(m.Title+"\n"+m.URL)
	default:
		return nil, &g // the user wrote, even if the bot cannot read it
	}
	if in.Media != nil && in.Media.FileID == "" {
		return nil, &g
	}
	return in, &g
}

// event converts an event. Events carry no MsgId: WeChat's retries repeat
// FromUserName and CreateTime, so the message id is made of CreateTime and
// the event.
func (a *Adapter) event(m *message.MixMessage, in *bot.Inbound, now time.Time) (*bot.Inbound, *Grant) {
	in.MessageID = "e:" + strconv.FormatInt(m.CreateTime, 10) + ":" + string(m.Event) + ":" + m.EventKey
	g := eventGrant(in.MessageID, now)
	switch m.Event {
	case message.EventSubscribe:
		in.Kind = bot.KindFollow // the engine welcomes and shows the menu
	case message.EventUnsubscribe:
		in.Kind = bot.KindUnfollow // the engine marks the user unreachable
		return in, nil
	case message.EventClick:
		if m.EventKey == "" {
			return nil, &g
		}
		in.Kind, in.Payload = bot.KindMenu, m.EventKey
	case message.EventScan, message.EventScancodePush, message.EventScancodeWaitmsg:
		return nil, &g
	case message.EventTemplateSendJobFinish:
		if m.Status != "success" {
			a.log.Warn("wechat: template message not delivered", "user_id", in.User.ID, "status", m.Status)
		}
		return nil, nil
	default:
		return nil, nil
	}
	return in, &g
}

func voiceType(format string) string {
	switch strings.ToLower(format) {
	case "amr":
		return "audio/amr"
	case "speex":
		return "audio/speex"
	case "mp3":
		return "audio/mpeg"
	}
	return ""
}

// FetchMedia downloads inbound media by its MediaId through media/get at
// once (temporary media expires after 3 days). A video comes as a JSON
// answer with its video_url, which is then downloaded. When media/get fails
// for a photo, the photo's PicUrl from the callback is tried.
func (a *Adapter) FetchMedia(ctx context.Context, m *bot.Media) (io.ReadCloser, error) {
	pic := a.pics.take(m.FileID)
	rc, err := a.getMedia(ctx, m.FileID)
	if err == nil {
		return rc, nil
	}
	if pic != "" {
		a.log.Warn("wechat: media/get failed; downloading the PicUrl", "error", err)
		if rc, perr := a.download(ctx, pic); perr == nil {
			return rc, nil
		}
	}
	return nil, err
}

// getMedia calls media/get, refreshing a refused token once.
func (a *Adapter) getMedia(ctx context.Context, mediaID string) (io.ReadCloser, error) {
	if mediaID == "" {
		return nil, errors.New("wechat: no MediaId")
	}
	var body io.ReadCloser
	err := a.retry(ctx, "media/get", true, func() error {
		return a.withToken(ctx, func(token string) error {
			resp, err := a.do(ctx, "/cgi-bin/media/get", token, url.Values{"media_id": {mediaID}}, nil, "")
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				resp.Body.Close()
				return &statusError{api: "media/get", status: resp.StatusCode}
			}
			if !isJSON(resp.Header.Get("Content-Type")) {
				body = resp.Body
				return nil
			}
			data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if err != nil {
				return fmt.Errorf("wechat: media/get: %w", a.redact(err))
			}
			var video struct {
				VideoURL string `json:"video_url"`
			}
			if err := decodeAnswer("media/get", data, &video); err != nil {
				return err
			}
			if video.VideoURL == "" {
				return errors.New("wechat: media/get answered JSON without a video_url")
			}
			body, err = a.download(ctx, video.VideoURL)
			return err
		})
	})
	return body, err
}

func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json" || mt == "text/plain" || mt == "text/json"
}

// download fetches a URL WeChat gave (a video_url, a PicUrl).
func (a *Adapter) download(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("wechat: not a media URL: %q", rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("wechat: download media: %w", a.redact(err))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("wechat: download media: status %s", resp.Status)
	}
	return resp.Body, nil
}

// picURLs remembers the PicUrl of recent photos by MediaId, for
// FetchMedia's fallback: the router fetches media right after the callback,
// on the same instance.
type picURLs struct {
	mu   sync.Mutex
	urls map[string]picURL
}

type picURL struct {
	url  string
	seen time.Time
}

const picURLTTL = 10 * time.Minute

func (p *picURLs) put(mediaID, u string, now time.Time) {
	if mediaID == "" || u == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.urls == nil {
		p.urls = map[string]picURL{}
	}
	if len(p.urls) >= 1024 {
		for id, e := range p.urls {
			if now.Sub(e.seen) > picURLTTL || now.Before(e.seen) {
				delete(p.urls, id)
			}
		}
	}
	if len(p.urls) < 10000 {
		p.urls[mediaID] = picURL{url: u, seen: now}
	}
}

// take returns the PicUrl of mediaID and forgets it.
func (p *picURLs) take(mediaID string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.urls[mediaID].url
	delete(p.urls, mediaID)
	return u
}
