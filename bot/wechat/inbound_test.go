package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
)

func mix(t *testing.T, raw string) *message.MixMessage {
	t.Helper()
	var m message.MixMessage
	require.NoError(t, xml.Unmarshal([]byte(raw), &m))
	return &m
}

func TestInboundMapping(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_764_000_000, 0)
	head := `<ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName><CreateTime>1764000000</CreateTime>`
	tests := []struct {
		name  string
		body  string
		want  *bot.Inbound // nil: not for the router
		grant *Grant
	}{
		{"text", `<MsgType>text</MsgType><Content>卫生间漏水</Content><MsgId>123</MsgId>`,
			&bot.Inbound{MessageID: "m:123", Kind: bot.KindText, Text: "卫生间漏水"}, &Grant{ID: "m:123", Count: 5, At: now, Until: now.Add(48 * time.Hour)}},
		{"image", `<MsgType>image</MsgType><PicUrl>http://mmbiz/x</PicUrl><MediaId>MID</MediaId><MsgId>124</MsgId>`,
			&bot.Inbound{MessageID: "m:124", Kind: bot.KindPhoto, Media: &bot.Media{FileID: "MID", ContentType: "image/jpeg"}}, &Grant{ID: "m:124", Count: 5, At: now, Until: now.Add(48 * time.Hour)}},
		{"voice recognised", `<MsgType>voice</MsgType><MediaId>V</MediaId><Format>amr</Format><Recognition>厨房水管爆了</Recognition><MsgId>125</MsgId>`,
			&bot.Inbound{MessageID: "m:125", Kind: bot.KindText, Text: "厨房水管爆了"}, &Grant{ID: "m:125", Count: 5, At: now, Until: now.Add(48 * time.Hour)}},
		{"voice", `<MsgType>voice</MsgType><MediaId>V</MediaId><Format>amr</Format><MsgId>126</MsgId>`,
			&bot.Inbound{MessageID: "m:126", Kind: bot.KindVoice, Media: &bot.Media{FileID: "V", ContentType: "audio/amr"}}, &Grant{ID: "m:126", Count: 5, At: now, Until: now.Add(48 * time.Hour)}},
		{"video", `<MsgType>video</MsgType><MediaId>VID</MediaId><ThumbMediaId>T</ThumbMediaId><MsgId>127</MsgId>`,
			&bot.Inbound{MessageID: "m:127", Kind: bot.KindVideo, Media: &bot.Media{FileID: "VID", ContentType: "video/mp4"}}, &Grant{ID: "m:127", Count: 5, At: now, Until: now.Add(48 * time.Hour)}},
		{"short video", `<MsgType>shortvideo</MsgType><MediaId>SV</MediaId><MsgId>128</MsgId>`,
			&bot.Inbound{MessageID: "m:128", Kind: bot.KindVideo, Media: &bot.Media{FileID: "SV", ContentType: "video/mp4"}}, &Grant{ID: "m:128", Count: 5, At: now, Until: now.Add(48 * time.Hour)}},
		{"location", `<MsgType>location</MsgType><Location_X>31.23</Location_X><Location_Y>121.47</Location_Y><Scale>15</Scale><Label>上海市黄浦区</Label><MsgId>129</MsgId>`,
			&bot.Inbound{MessageID: "m:129", Kind: bot.KindLocation, Location: &bot.Location{Latitude: 31.23, Longitude: 121.47, Label: "上海市黄浦区"}}, &Grant{ID: "m:129", Count: 5, At: now, Until: now.Add(48 * time.Hour)}},
		{"link", `<MsgType>link</MsgType><Title>小区通知</Title><Url>https://example.com/n</Url><MsgId>130</MsgId>`,
			&bot.Inbound{MessageID: "m:130", Kind: bot.KindText, Text: "小区通知\nhttps://example.com/n"}, &Grant{ID: "m:130", Count: 5, At: now, Until: now.Add(48 * time.Hour)}},
		{"sticker-like unknown", `<MsgType>miniprogrampage</MsgType><MsgId>131</MsgId>`,
			nil, &Grant{ID: "m:131", Count: 5, At: now, Until: now.Add(48 * time.Hour)}},
		{"subscribe", `<MsgType>event</MsgType><Event>subscribe</Event><EventKey></EventKey>`,
			&bot.Inbound{MessageID: "e:1764000000:subscribe:", Kind: bot.KindFollow}, &Grant{ID: "e:1764000000:subscribe:", Event: true, Count: 3, At: now, Until: now.Add(time.Minute)}},
		{"subscribe by QR code", `<MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_42</EventKey><Ticket>T</Ticket>`,
			&bot.Inbound{MessageID: "e:1764000000:subscribe:qrscene_42", Kind: bot.KindFollow}, &Grant{ID: "e:1764000000:subscribe:qrscene_42", Event: true, Count: 3, At: now, Until: now.Add(time.Minute)}},
		{"unsubscribe", `<MsgType>event</MsgType><Event>unsubscribe</Event>`,
			&bot.Inbound{MessageID: "e:1764000000:unsubscribe:", Kind: bot.KindUnfollow}, nil},
		{"menu click", `<MsgType>event</MsgType><Event>CLICK</Event><EventKey>report</EventKey>`,
			&bot.Inbound{MessageID: "e:1764000000:CLICK:report", Kind: bot.KindMenu, Payload: "report"}, &Grant{ID: "e:1764000000:CLICK:report", Event: true, Count: 3, At: now, Until: now.Add(time.Minute)}},
		{"scan", `<MsgType>event</MsgType><Event>SCAN</Event><EventKey>42</EventKey>`,
			nil, &Grant{ID: "e:1764000000:SCAN:42", Event: true, Count: 3, At: now, Until: now.Add(time.Minute)}},
		{"view", `<MsgType>event</MsgType><Event>VIEW</Event><EventKey>https://example.com</EventKey>`, nil, nil},
		{"location report", `<MsgType>event</MsgType><Event>LOCATION</Event><Latitude>31</Latitude>`, nil, nil},
		{"template receipt", `<MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><Status>failed:user block</Status>`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, g := (&Adapter{log: discardLogger()}).inbound(t.Context(), mix(t, "<xml>"+head+tt.body+"</xml>"), now)
			assert.Equal(t, tt.grant, g)
			if tt.want == nil {
				assert.Nil(t, in)
				return
			}
			require.NotNil(t, in)
			tt.want.User = bot.UserRef{Platform: bot.WeChat, ID: "oU"}
			tt.want.Time = now
			assert.Equal(t, tt.want, in)
		})
	}
}

func TestEventsThroughTheCallback(t *testing.T) {
	f := newFakeAPI(t)
	var got []*bot.Inbound
	a := newTestAdapter(t, f, func(c *Config) {
		c.ProcessFunc = func(ctx context.Context, in *bot.Inbound, send bot.SendFunc) error {
			got = append(got, in)
			if in.Kind == bot.KindUnfollow {
				return nil
			}
			return send(ctx, []bot.Outbound{
				{To: in.User, Kind: bot.OutText, Text: "欢迎！"},
				{To: in.User, Kind: bot.OutText, Text: strings.Repeat("菜单", 400)}, // too long to join: a customer-service message
			})
		}
	})
	ct := time.Now().Unix()
	rec := post(t, a, eventXML("oIvy", "subscribe", "", ct))
	assert.Equal(t, "欢迎！", string(passiveText(t, rec.Body.Bytes()).Content))
	f.waitSent(t, "oIvy", 1)
	rec = post(t, a, eventXML("oIvy", "CLICK", "status", ct+1))
	assert.Equal(t, "欢迎！", string(passiveText(t, rec.Body.Bytes()).Content))
	f.waitSent(t, "oIvy", 2)
	assert.Equal(t, "success", post(t, a, eventXML("oIvy", "VIEW", "https://x", ct+2)).Body.String())
	assert.Equal(t, "success", post(t, a, eventXML("oIvy", "unsubscribe", "", ct+3)).Body.String())
	require.Len(t, got, 3)
	assert.Equal(t, []bot.Kind{bot.KindFollow, bot.KindMenu, bot.KindUnfollow}, []bot.Kind{got[0].Kind, got[1].Kind, got[2].Kind})
	assert.Equal(t, "status", got[1].Payload)
	err := a.cfg.Windows.Take(context.Background(), "oIvy", time.Now())
	assert.ErrorIs(t, err, ErrWindowClosed, "unsubscribing closed the window")
}

func TestFetchMedia(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("j"), 2000)...)
	f.addMedia("IMG1", jpeg, "image/jpeg")
	f.addMedia("VID1", []byte("\x00\x00\x00\x18ftypmp42video"), "video/mp4")
	f.addMedia("PIC-ONLY", jpeg, "image/jpeg")
	ctx := context.Background()

	read := func(m *bot.Media) []byte {
		t.Helper()
		rc, err := a.FetchMedia(ctx, m)
		require.NoError(t, err)
		defer rc.Close()
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		return b
	}
	assert.Equal(t, jpeg, read(&bot.Media{FileID: "IMG1"}))
	assert.Equal(t, []byte("\x00\x00\x00\x18ftypmp42video"), read(&bot.Media{FileID: "VID1"}), "a video through its video_url")

	_, err := a.FetchMedia(ctx, &bot.Media{FileID: "EXPIRED"})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, int64(40007), ae.Code)

	// An image whose MediaId fails falls back on the callback's PicUrl.
	in, _ := a.inbound(t.Context(), mix(t, `<xml><FromUserName>oJo</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType><PicUrl>`+f.srv.URL+`/files/PIC-ONLY</PicUrl><MediaId>GONE</MediaId><MsgId>9</MsgId></xml>`), time.Now())
	assert.Equal(t, jpeg, read(in.Media))

	f.invalidateTokens()
	assert.Equal(t, jpeg, read(&bot.Media{FileID: "IMG1"}), "a refused token is replaced")
}

func TestMediaThroughTheRouter(t *testing.T) {
	f := newFakeAPI(t)
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("j"), 100)...)
	f.addMedia("MEDIA-7", jpeg, "image/jpeg")
	var stored *bot.Media
	var cfg Config
	bind := withRouter(&cfg, bot.HandlerFunc(func(_ context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
		stored = in.Media
		return []bot.Outbound{{To: in.User, Kind: bot.OutText, Text: "照片已收到"}}, nil
	}))
	a := newTestAdapter(t, f, func(c *Config) { c.ProcessFunc = cfg.ProcessFunc })
	r := bind(a)
	dir := t.TempDir()
	r.Intake = &bot.Intake{Blobs: &bot.FileBlobStore{Dir: dir}, Policy: bot.DefaultMediaPolicy()}

	rec := post(t, a, `<xml><ToUserName>gh</ToUserName><FromUserName>oKim</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType><MediaId>MEDIA-7</MediaId><MsgId>77</MsgId></xml>`)
	assert.Equal(t, "照片已收到", string(passiveText(t, rec.Body.Bytes()).Content))
	require.NotNil(t, stored)
	require.NoError(t, stored.Err)
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(stored.BlobKey)))
	require.NoError(t, err)
	assert.Equal(t, jpeg, b)
}

func TestSendPhoto(t *testing.T) {
	f := newFakeAPI(t)
	blobs := &bot.FileBlobStore{Dir: t.TempDir()}
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("p"), 100)...)
	blob, err := blobs.Put(context.Background(), bytes.NewReader(jpeg), "image/jpeg", 1<<20)
	require.NoError(t, err)
	a := newTestAdapter(t, f, func(c *Config) { c.Blobs = blobs })
	openWindow(t, a, "oLee", "m:1")
	require.NoError(t, a.Send(context.Background(), bot.Outbound{To: to("oLee"), Kind: bot.OutPhoto, BlobKey: blob.Key, Text: "维修完成照片"}))
	sent := f.sentTo("oLee")
	require.Len(t, sent, 2)
	assert.Equal(t, "image", sent[0].MsgType)
	assert.NotEmpty(t, sent[0].MediaID)
	assert.Equal(t, "维修完成照片", sent[1].Content)
}

func TestCreateMenu(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, func(c *Config) { c.ProcessFunc, c.Token = nil, "" })
	require.NoError(t, a.CreateMenu(context.Background()))
	var got struct {
		Button []struct{ Type, Name, Key string }
	}
	require.NoError(t, json.Unmarshal(f.menu, &got))
	assert.Equal(t, []struct{ Type, Name, Key string }{
		{"click", "报修", "report"}, {"click", "我的报修", "status"}, {"click", "联系客服", "human"},
	}, got.Button)
	assert.NotContains(t, string(f.menu), `\u`, "no HTML escaping")

	rec := post(t, a, textXML("o", "x", 1))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "an adapter without ProcessFunc serves no callback")
}

func TestRewriteURL(t *testing.T) {
	f := newFakeAPI(t)
	ConfigureSDK(f.srv.URL+"/", nil)
	assert.Equal(t, f.srv.URL+"/cgi-bin/token?x=1", rewriteURL("https://api.weixin.qq.com/cgi-bin/token?x=1"))
	assert.Equal(t, "https://mmbiz.qpic.cn/x", rewriteURL("https://mmbiz.qpic.cn/x"))
	assert.Equal(t, "https://api.weixin.qq.com.evil/x", rewriteURL("https://api.weixin.qq.com.evil/x"))
	assert.LessOrEqual(t, logrus.GetLevel(), logrus.WarnLevel, "the SDK's logger never logs users' XML")
}

func TestPhotoReplyAnswersSuccessAtOnce(t *testing.T) {
	f := newFakeAPI(t)
	blobs := &bot.FileBlobStore{Dir: t.TempDir()}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
	blob, err := blobs.Put(context.Background(), bytes.NewReader(png), "image/png", 1<<20)
	require.NoError(t, err)
	var cfg Config
	bind := withRouter(&cfg, bot.HandlerFunc(func(_ context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
		return []bot.Outbound{{To: in.User, Kind: bot.OutPhoto, BlobKey: blob.Key, Text: "示意图"}, {To: in.User, Kind: bot.OutText, Text: "请对照检查"}}, nil
	}))
	a := newTestAdapter(t, f, func(c *Config) {
		c.ProcessFunc = cfg.ProcessFunc
		c.Blobs = blobs
		c.PassiveBudget = 2 * time.Second
	})
	bind(a)
	start := time.Now()
	rec := post(t, a, textXML("oMay", "怎么看水表", 88))
	assert.Equal(t, "success", rec.Body.String())
	assert.Less(t, time.Since(start), time.Second, "no waiting for the budget")
	sent := f.waitSent(t, "oMay", 2)
	assert.Equal(t, "image", sent[0].MsgType)
	assert.Equal(t, "示意图\n\n请对照检查", sent[1].Content)
}
