package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/web"
	"github.com/aftersales/aftersales/internal/testclock"
)

const visitor = "visitor_0123456789-abc"

// recorder is a DispatchFunc that keeps what it was given.
type recorder struct {
	mu  sync.Mutex
	ins []*bot.Inbound
}

func (r *recorder) dispatch(_ context.Context, in *bot.Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ins = append(r.ins, in)
	return nil
}

func (r *recorder) all() []*bot.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*bot.Inbound(nil), r.ins...)
}

// newServer serves ch's handler the way the console mounts it. Its client
// is the visitor: a request without a cookie of its own carries the cookie
// ch issues to visitor.
func newServer(t *testing.T, ch *web.Channel) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(web.Path, ch.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	srv.Client().Transport = asVisitor{ch, srv.Client().Transport}
	channels.Store(srv, ch)
	return srv
}

// channels is the Channel each test server serves.
var channels sync.Map // *httptest.Server → *web.Channel

// asVisitor adds visitor's cookie to requests that have none.
type asVisitor struct {
	ch   *web.Channel
	next http.RoundTripper
}

func (a asVisitor) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Cookie") == "" {
		r = r.Clone(r.Context())
		r.AddCookie(a.ch.CookieFor(visitor))
	}
	return a.next.RoundTrip(r)
}

func postJSON(t *testing.T, srv *httptest.Server, body string) *http.Response {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+"/chat/api/send", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func sendJSON(t *testing.T, srv *httptest.Server, fields map[string]string) *http.Response {
	t.Helper()
	b, err := json.Marshal(fields)
	require.NoError(t, err)
	return postJSON(t, srv, string(b))
}

// apiError is the JSON of an error response.
type apiError struct {
	Error struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		MaxBytes int64  `json:"max_bytes"`
	} `json:"error"`
}

func errorOf(t *testing.T, resp *http.Response) apiError {
	t.Helper()
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var e apiError
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	assert.NotEmpty(t, e.Error.Message)
	return e
}

// polled is the JSON of GET api/messages, field names as the page reads them.
type polled struct {
	Messages []struct {
		Seq            int64        `json:"seq"`
		From           string       `json:"from"`
		Kind           string       `json:"kind"`
		ID             string       `json:"id"`
		Text           string       `json:"text"`
		Choices        []bot.Choice `json:"choices"`
		RequestContact bool         `json:"request_contact"`
		BlobKey        string       `json:"blob_key"`
		MediaURL       string       `json:"media_url"`
	} `json:"messages"`
	Next int64 `json:"next"`
}

func (p polled) texts() []string {
	var out []string
	for _, m := range p.Messages {
		out = append(out, m.From+":"+m.Text)
	}
	return out
}

func poll(t *testing.T, srv *httptest.Server, user string, after int64) polled {
	t.Helper()
	p, err := fetchPoll(srv, user, after)
	require.NoError(t, err)
	return p
}

// fetchPoll is poll for goroutines other than the test's.
func fetchPoll(srv *httptest.Server, user string, after int64) (polled, error) {
	var p polled
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/chat/api/messages?after=%d", srv.URL, after), nil)
	if err != nil {
		return p, err
	}
	ch, _ := channels.Load(srv)
	req.AddCookie(ch.(*web.Channel).CookieFor(user))
	resp, err := srv.Client().Do(req)
	if err != nil {
		return p, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return p, fmt.Errorf("status %d", resp.StatusCode)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		return p, fmt.Errorf("Cache-Control %q", cc)
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return p, err
	}
	if p.Messages == nil {
		return p, errors.New("messages must be [], not null")
	}
	return p, nil
}

func out(text string) bot.Outbound {
	return bot.Outbound{To: bot.UserRef{Platform: bot.Web, ID: visitor}, Kind: bot.OutText, Text: text}
}

func TestSendDispatchesInbound(t *testing.T) {
	t.Parallel()
	at := testclock.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		fields map[string]string
		want   bot.Inbound
	}{
		{"text", map[string]string{"text": "卫生间漏水", "lang": "zh-CN"},
			bot.Inbound{Kind: bot.KindText, Text: "卫生间漏水", Language: "zh-CN"}},
		{"command with arguments", map[string]string{"text": "/report 3楼 漏水", "lang": "en"},
			bot.Inbound{Kind: bot.KindCommand, Command: "report", Text: "3楼 漏水", Language: "en"}},
		{"command addressed to the bot", map[string]string{"text": "/Start@aftersales_bot"},
			bot.Inbound{Kind: bot.KindCommand, Command: "start"}},
		{"slash that is no command", map[string]string{"text": "/5楼"},
			bot.Inbound{Kind: bot.KindText, Text: "/5楼"}},
		{"button", map[string]string{"payload": "report", "label": "我要报修", "lang": "zh"},
			bot.Inbound{Kind: bot.KindButton, Payload: "report", Language: "zh"}},
		{"language that is no tag is dropped", map[string]string{"text": "hi", "lang": "<b>en</b>"},
			bot.Inbound{Kind: bot.KindText, Text: "hi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec recorder
			ch := web.New(web.Options{DispatchFunc: rec.dispatch, NowFunc: func() time.Time { return at }})
			srv := newServer(t, ch)
			tc.fields["id"] = "m1"

			resp := sendJSON(t, srv, tc.fields)

			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			want := tc.want
			want.User = bot.UserRef{Platform: bot.Web, ID: visitor}
			want.MessageID = "m1"
			want.Time = at
			want.ClientIP = "127.0.0.1" // the test server's peer
			ins := rec.all()
			require.Len(t, ins, 1)
			assert.Equal(t, &want, ins[0])
		})
	}
}

func TestSendRefusesBadRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
	}{
		{"no message id", "", `{"text":"hi"}`, 400, "invalid_id"},
		{"message id too long", "", `{"id":"` + strings.Repeat("x", 65) + `","text":"hi"}`, 400, "invalid_id"},
		{"bad JSON", "", `{"id":`, 400, "bad_json"},
		{"not an object", "", `["hi"]`, 400, "bad_json"},
		{"neither text nor payload", "", `{"id":"m1"}`, 400, "invalid_message"},
		{"blank text", "", `{"id":"m1","text":" \n "}`, 400, "invalid_message"},
		{"text and payload", "", `{"id":"m1","text":"hi","payload":"x"}`, 400, "invalid_message"},
		{"not JSON", "text/plain", `{"id":"m1","text":"hi"}`, 415, "unsupported_media_type"},
		{"body over the limit", "", `{"id":"m1","text":"` + strings.Repeat("长", 10<<20/3) + `"}`, 413, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec recorder
			srv := newServer(t, web.New(web.Options{DispatchFunc: rec.dispatch}))
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}

			resp, err := srv.Client().Post(srv.URL+"/chat/api/send", ct, strings.NewReader(tc.body))
			require.NoError(t, err)
			defer resp.Body.Close()

			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.code, errorOf(t, resp).Error.Code)
			assert.Empty(t, rec.all(), "nothing dispatched")
		})
	}
}

func TestSendReportsDispatchFailure(t *testing.T) {
	t.Parallel()
	ch := web.New(web.Options{DispatchFunc: func(context.Context, *bot.Inbound) error { return errors.New("database down") }})
	srv := newServer(t, ch)

	resp := sendJSON(t, srv, map[string]string{"id": "m1", "text": "hi"})

	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	e := errorOf(t, resp)
	assert.Equal(t, "internal", e.Error.Code)
	assert.NotContains(t, e.Error.Message, "database", "internal errors are not shown")
}

func TestDispatchOutlivesTheRequest(t *testing.T) {
	t.Parallel()
	var dispatchErr error
	ch := web.New(web.Options{DispatchFunc: func(ctx context.Context, _ *bot.Inbound) error {
		dispatchErr = ctx.Err()
		_, hasDeadline := ctx.Deadline()
		assert.True(t, hasDeadline, "dispatch is bounded by DispatchTimeout")
		return nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the visitor closed the page
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/chat/api/send",
		strings.NewReader(`{"id":"m1","text":"hi"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()

	ch.Handler().ServeHTTP(rec, req)

	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.NoError(t, dispatchErr, "the message is handled to the end")
}

func TestMessagesInOrderAfterSeq(t *testing.T) {
	t.Parallel()
	ch := web.New(web.Options{PollWait: time.Millisecond})
	srv := newServer(t, ch)
	ctx := t.Context()
	first := out("请选择：")
	first.Choices = []bot.Choice{{Label: "我要报修", Payload: "report"}, {Label: "我的报修", Payload: "status"}}
	photo := bot.Outbound{To: first.To, Kind: bot.OutPhoto, Text: "示意图", BlobKey: "2026/11/27/0123456789abcdef0123456789abcdef.jpg"}
	phone := out("请留下手机号")
	phone.RequestContact = true
	for _, o := range []bot.Outbound{first, {To: first.To, Kind: bot.OutTyping}, photo, phone} {
		require.NoError(t, ch.Send(ctx, o))
	}

	p := poll(t, srv, visitor, 0)

	require.Len(t, p.Messages, 3, "the typing indicator is not queued")
	for i, m := range p.Messages {
		assert.Equal(t, int64(i+1), m.Seq)
		assert.Equal(t, "bot", m.From)
	}
	assert.Equal(t, "text", p.Messages[0].Kind)
	assert.Equal(t, first.Choices, p.Messages[0].Choices)
	assert.Equal(t, "photo", p.Messages[1].Kind)
	assert.Empty(t, p.Messages[1].BlobKey, "the stored file's key is not the page's to know")
	assert.Equal(t, "api/media/2", p.Messages[1].MediaURL)
	assert.True(t, p.Messages[2].RequestContact)
	assert.Equal(t, int64(3), p.Next)

	p = poll(t, srv, visitor, 2)
	assert.Equal(t, []string{"bot:请留下手机号"}, p.texts())
	assert.Equal(t, int64(3), p.Next)

	p = poll(t, srv, visitor, 3)
	assert.Empty(t, p.Messages, "nothing new: the poll times out")
	assert.Equal(t, int64(3), p.Next)
}

func TestMessagesRefusesBadQueries(t *testing.T) {
	t.Parallel()
	srv := newServer(t, web.New(web.Options{}))
	for _, tc := range []struct{ query, code string }{
		{"after=-1", "invalid_after"},
		{"after=x", "invalid_after"},
	} {
		resp, err := srv.Client().Get(srv.URL + "/chat/api/messages?" + tc.query)
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.query)
		assert.Equal(t, tc.code, errorOf(t, resp).Error.Code, tc.query)
		resp.Body.Close()
	}
}

func TestPollWakesWhenAMessageIsQueued(t *testing.T) {
	t.Parallel()
	ch := web.New(web.Options{PollWait: time.Minute})
	waiting := make(chan struct{}, 1)
	ch.SetWaitHook(func() { waiting <- struct{}{} })
	srv := newServer(t, ch)
	got := make(chan polled, 1)
	go func() {
		p, err := fetchPoll(srv, visitor, 0)
		assert.NoError(t, err)
		got <- p
	}()

	<-waiting // the poll is parked
	require.NoError(t, ch.Send(t.Context(), out("您好")))

	select {
	case p := <-got:
		assert.Equal(t, []string{"bot:您好"}, p.texts())
		assert.Equal(t, int64(1), p.Next)
	case <-time.After(10 * time.Second):
		t.Fatal("the poll was not woken")
	}
}

func TestPollEndsWhenTheRequestIsCancelled(t *testing.T) {
	t.Parallel()
	ch := web.New(web.Options{PollWait: time.Hour})
	waiting := make(chan struct{}, 1)
	ch.SetWaitHook(func() { waiting <- struct{}{} })
	rec := httptest.NewRecorder()
	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/chat/api/messages?after=0", nil)
	req.AddCookie(ch.CookieFor(visitor))
	done := make(chan struct{})
	go func() {
		defer close(done)
		ch.Handler().ServeHTTP(rec, req)
	}()

	<-waiting
	cancel()

	select {
	case <-done:
		assert.Zero(t, rec.Body.Len(), "nothing is written to a page that left")
	case <-time.After(10 * time.Second):
		t.Fatal("the poll ignored the cancelled request")
	}
}

func TestPollAfterRestartStartsOver(t *testing.T) {
	t.Parallel()
	ch := web.New(web.Options{PollWait: time.Millisecond})
	srv := newServer(t, ch)

	p := poll(t, srv, visitor, 57) // a page that polled the previous process
	assert.Empty(t, p.Messages)
	assert.Equal(t, int64(0), p.Next, "the page is told to start over")

	require.NoError(t, ch.Send(t.Context(), out("您好")))
	p = poll(t, srv, visitor, 57)
	assert.Equal(t, []string{"bot:您好"}, p.texts())
	assert.Equal(t, int64(1), p.Next)
}

func TestInboxKeepsTheLastMessages(t *testing.T) {
	t.Parallel()
	ch := web.New(web.Options{PollWait: time.Millisecond, Mailbox: bot.NewMemoryMailbox(3, 0, 0)})
	srv := newServer(t, ch)
	for i := 1; i <= 5; i++ {
		require.NoError(t, ch.Send(t.Context(), out(fmt.Sprint(i))))
	}

	for _, after := range []int64{0, 1, 2} {
		p := poll(t, srv, visitor, after)
		assert.Equal(t, []string{"bot:3", "bot:4", "bot:5"}, p.texts(), "after %d", after)
		assert.Equal(t, int64(3), p.Messages[0].Seq)
		assert.Equal(t, int64(5), p.Next)
	}
	p := poll(t, srv, visitor, 4)
	assert.Equal(t, []string{"bot:5"}, p.texts())
}

func TestMessagesAreKeptForTheMailboxKeepTime(t *testing.T) {
	t.Parallel()
	clock := testclock.New(testclock.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	ch := web.New(web.Options{PollWait: time.Millisecond, Mailbox: bot.NewMemoryMailbox(0, 0, time.Hour), NowFunc: clock.Now})
	srv := newServer(t, ch)
	require.NoError(t, ch.Send(t.Context(), out("kept for a while")))

	clock.Advance(59 * time.Minute)
	assert.Len(t, poll(t, srv, visitor, 0).Messages, 1, "not kept long enough yet")

	clock.Advance(time.Minute)
	p := poll(t, srv, visitor, 1)
	assert.Empty(t, p.Messages, "forgotten an hour after the last message")
	assert.Zero(t, p.Next, "the page starts over")
}

func TestMaxVisitorsEvictsTheIdlest(t *testing.T) {
	t.Parallel()
	clock := testclock.New(testclock.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	ch := web.New(web.Options{PollWait: time.Millisecond, Mailbox: bot.NewMemoryMailbox(0, 2, 0), NowFunc: clock.Now})
	srv := newServer(t, ch)
	ids := []string{"visitor_a_0123456789", "visitor_b_0123456789", "visitor_c_0123456789"}
	for _, id := range ids {
		require.NoError(t, ch.Send(t.Context(), bot.Outbound{To: bot.UserRef{Platform: bot.Web, ID: id}, Kind: bot.OutText, Text: id}))
		clock.Advance(time.Second)
	}

	assert.Len(t, poll(t, srv, ids[2], 0).Messages, 1)
	assert.Len(t, poll(t, srv, ids[1], 0).Messages, 1)
	assert.Empty(t, poll(t, srv, ids[0], 0).Messages, "the visitor seen longest ago is dropped")
}

func TestChannelSendRefusesWhatItCannotDeliver(t *testing.T) {
	t.Parallel()
	ch := web.New(web.Options{})
	ctx := t.Context()
	assert.Equal(t, bot.Web, ch.Platform())

	assert.Error(t, ch.Send(ctx, bot.Outbound{To: bot.UserRef{Platform: bot.Telegram, ID: visitor}, Kind: bot.OutText, Text: "x"}))
	assert.Error(t, ch.Send(ctx, bot.Outbound{To: bot.UserRef{Platform: bot.Web, ID: "../x"}, Kind: bot.OutText, Text: "x"}))
	assert.Error(t, ch.Send(ctx, bot.Outbound{To: bot.UserRef{Platform: bot.Web, ID: visitor}, Kind: "sticker"}))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, ch.Send(cancelled, out("x")), context.Canceled)
}

func TestSentMessagesAreKeptForAReloadedPage(t *testing.T) {
	t.Parallel()
	var rec recorder
	ch := web.New(web.Options{DispatchFunc: rec.dispatch, PollWait: time.Millisecond})
	srv := newServer(t, ch)

	for range 2 { // the page retrying the same message
		resp := sendJSON(t, srv, map[string]string{"id": "m1", "text": "卫生间漏水"})
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
	}
	resp := sendJSON(t, srv, map[string]string{"id": "m2", "payload": "report", "label": "我要报修"})
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	p := poll(t, srv, visitor, 0)
	assert.Equal(t, []string{"user:卫生间漏水", "user:我要报修"}, p.texts(), "a button press shows its label")
	assert.Equal(t, "m1", p.Messages[0].ID)
	assert.Equal(t, "m2", p.Messages[1].ID)
	assert.Len(t, rec.all(), 3, "dedupe is the Router's business: every post is dispatched")

	long := strings.Repeat("长", 5000)
	resp = sendJSON(t, srv, map[string]string{"id": "m3", "text": long})
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	p = poll(t, srv, visitor, p.Next)
	require.Len(t, p.Messages, 1)
	kept := p.Messages[0].Text
	assert.LessOrEqual(t, len(kept), 4<<10, "a long text is kept cut")
	assert.True(t, utf8.ValidString(kept) && strings.HasSuffix(kept, "长…"))
	assert.Equal(t, long, rec.all()[3].Text, "the engine gets it whole")
}

// pngBytes is a small real PNG.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4))))
	return buf.Bytes()
}

// multipartBody builds an upload form; a nil file leaves the file out.
func multipartBody(t *testing.T, fields map[string]string, name string, file []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if file != nil {
		fw, err := mw.CreateFormFile("file", name)
		require.NoError(t, err)
		_, err = fw.Write(file)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}

func uploadFile(t *testing.T, srv *httptest.Server, id, name string, file []byte) *http.Response {
	t.Helper()
	ct, body := multipartBody(t, map[string]string{"id": id, "lang": "zh"}, name, file)
	resp, err := srv.Client().Post(srv.URL+"/chat/api/upload", ct, bytes.NewReader(body))
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestUploadPhoto(t *testing.T) {
	t.Parallel()
	img := pngBytes(t)
	var ch *web.Channel
	var got *bot.Inbound
	var fetched []byte
	var again error
	ch = web.New(web.Options{PollWait: time.Millisecond, DispatchFunc: func(ctx context.Context, in *bot.Inbound) error {
		got = in
		rc, err := ch.FetchMedia(ctx, in.Media)
		require.NoError(t, err)
		defer rc.Close()
		fetched, err = io.ReadAll(rc)
		require.NoError(t, err)
		_, again = ch.FetchMedia(ctx, in.Media)
		return nil
	}})
	srv := newServer(t, ch)

	resp := uploadFile(t, srv, "m7", `C:\Users\张\Desktop\漏水.png`, img)

	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.NotNil(t, got)
	assert.Equal(t, bot.KindPhoto, got.Kind)
	assert.Equal(t, bot.UserRef{Platform: bot.Web, ID: visitor}, got.User)
	assert.Equal(t, "m7", got.MessageID)
	assert.Equal(t, "zh", got.Language)
	require.NotNil(t, got.Media)
	assert.Regexp(t, `^[0-9a-f]{32}$`, got.Media.FileID)
	assert.Equal(t, "漏水.png", got.Media.FileName, "only the base name is kept")
	assert.Equal(t, "image/png", got.Media.ContentType)
	assert.Equal(t, int64(len(img)), got.Media.Size)
	assert.Equal(t, img, fetched)
	assert.ErrorIs(t, again, web.ErrUploadGone, "an upload is fetched once")
	_, err := ch.FetchMedia(t.Context(), got.Media)
	assert.ErrorIs(t, err, web.ErrUploadGone)

	p := poll(t, srv, visitor, 0)
	require.Len(t, p.Messages, 1)
	assert.Equal(t, "user", p.Messages[0].From)
	assert.Equal(t, "photo", p.Messages[0].Kind)
	assert.Equal(t, "漏水.png", p.Messages[0].Text)
}

func TestUploadKindFromContent(t *testing.T) {
	t.Parallel()
	ftyp := func(brand string) []byte { return append([]byte("\x00\x00\x00\x18ftyp"+brand), make([]byte, 32)...) }
	for _, tc := range []struct {
		name string
		file []byte
		kind bot.Kind
		ct   string
	}{
		{"png named like a pdf", pngBytes(t), bot.KindPhoto, "image/png"},
		{"jpeg", append([]byte("\xFF\xD8\xFF\xE0"), make([]byte, 32)...), bot.KindPhoto, "image/jpeg"},
		{"heic", ftyp("heic"), bot.KindPhoto, "image/heic"},
		{"mp4", ftyp("isom"), bot.KindVideo, "video/mp4"},
		{"quicktime", ftyp("qt  "), bot.KindVideo, "video/quicktime"},
		{"webm", append([]byte("\x1A\x45\xDF\xA3"), make([]byte, 32)...), bot.KindVideo, "video/webm"},
		{"amr", []byte("#!AMR\n" + strings.Repeat("\x00", 32)), bot.KindVoice, "audio/amr"},
		{"pdf", []byte("%PDF-1.7\n..."), bot.KindDocument, "application/pdf"},
		{"html", []byte("<html><script>alert(1)</script>"), bot.KindDocument, "text/html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec recorder
			srv := newServer(t, web.New(web.Options{DispatchFunc: rec.dispatch}))

			resp := uploadFile(t, srv, "m1", "x.pdf", tc.file)

			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			ins := rec.all()
			require.Len(t, ins, 1)
			assert.Equal(t, tc.kind, ins[0].Kind)
			assert.Equal(t, tc.ct, ins[0].Media.ContentType)
		})
	}
}

func TestUploadOverTheLimit(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte{0xFF}, 4<<10)
	for _, tc := range []struct {
		name  string
		chunk bool // no Content-Length: the limit is found while reading
	}{{"with content length", false}, {"chunked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec recorder
			srv := newServer(t, web.New(web.Options{DispatchFunc: rec.dispatch, MaxUploadBytes: 1 << 10}))
			ct, body := multipartBody(t, map[string]string{"id": "m1"}, "big.jpg", big)
			var r io.Reader = bytes.NewReader(body)
			if tc.chunk {
				r = io.MultiReader(r) // hides the length
			}

			resp, err := srv.Client().Post(srv.URL+"/chat/api/upload", ct, r)
			require.NoError(t, err)
			defer resp.Body.Close()

			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			e := errorOf(t, resp)
			assert.Equal(t, "too_large", e.Error.Code)
			assert.Equal(t, int64(1<<10), e.Error.MaxBytes)
			assert.Empty(t, rec.all())
		})
	}
}

func TestUploadRefusesBadRequests(t *testing.T) {
	t.Parallel()
	img := pngBytes(t)
	for _, tc := range []struct {
		name   string
		fields map[string]string
		file   []byte
		code   string
	}{
		{"no message id", map[string]string{}, img, "invalid_id"},
		{"no file", map[string]string{"id": "m1"}, nil, "bad_upload"},
		{"empty file", map[string]string{"id": "m1"}, []byte{}, "bad_upload"},
		{"field too long", map[string]string{"id": "m1", "lang": strings.Repeat("x", 300)}, img, "bad_upload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec recorder
			srv := newServer(t, web.New(web.Options{DispatchFunc: rec.dispatch}))
			ct, body := multipartBody(t, tc.fields, "x.png", tc.file)

			resp, err := srv.Client().Post(srv.URL+"/chat/api/upload", ct, bytes.NewReader(body))
			require.NoError(t, err)
			defer resp.Body.Close()

			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, tc.code, errorOf(t, resp).Error.Code)
			assert.Empty(t, rec.all())
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, web.New(web.Options{}))
		resp, err := srv.Client().Post(srv.URL+"/chat/api/upload", "image/png", bytes.NewReader(img))
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "bad_upload", errorOf(t, resp).Error.Code)
	})
}

func TestUploadsBeyondTheMemoryBudgetAreBusy(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	ch := web.New(web.Options{MaxUploadBytes: 4 << 10, MaxUploadMemory: 4 << 10,
		DispatchFunc: func(context.Context, *bot.Inbound) error {
			close(entered)
			<-release
			return nil
		}})
	srv := newServer(t, ch)
	img := pngBytes(t)
	ct1, body1 := multipartBody(t, map[string]string{"id": "m1"}, "a.png", img)
	first := make(chan int, 1)
	go func() {
		resp, err := srv.Client().Post(srv.URL+"/chat/api/upload", ct1, bytes.NewReader(body1))
		if !assert.NoError(t, err) {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-entered // the first upload is held while it is handled

	// Without a length, an upload reserves the whole MaxUploadBytes.
	ct2, body2 := multipartBody(t, map[string]string{"id": "m2"}, "b.png", img)
	resp, err := srv.Client().Post(srv.URL+"/chat/api/upload", ct2, io.MultiReader(bytes.NewReader(body2)))
	require.NoError(t, err)
	defer resp.Body.Close()
	close(release)

	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "busy", errorOf(t, resp).Error.Code)
	assert.Equal(t, http.StatusNoContent, <-first)
}

func TestPageAndAssets(t *testing.T) {
	t.Parallel()
	srv := newServer(t, web.New(web.Options{}))
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}

	resp, page := get("/chat/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
		resp.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	assert.Contains(t, page, "输入“报修”开始，或点下方菜单")
	assert.Contains(t, page, ">菜单<")
	assert.Contains(t, page, `<script src="app.js" defer></script>`)
	for _, m := range regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`).FindAllStringSubmatch(page, -1) {
		assert.Contains(t, m[1], "src=", "every script is a file")
		assert.Empty(t, strings.TrimSpace(m[2]), "no inline script")
	}
	assert.NotRegexp(t, `(?i)<style|\sstyle=|\son[a-z]+=|javascript:`, page, "no inline style or handlers")
	assert.NotRegexp(t, `(?i)(src|href)="(https?:)?//`, page, "no external assets")

	resp, js := get("/chat/app.js")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.NotEmpty(t, resp.Header.Get("Content-Security-Policy"))
	assert.Contains(t, js, "crypto.getRandomValues")

	resp, _ = get("/chat/app.css")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/css; charset=utf-8", resp.Header.Get("Content-Type"))

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/chat/app.css", nil)
	require.NoError(t, err)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	cached, err := srv.Client().Do(req)
	require.NoError(t, err)
	cached.Body.Close()
	assert.Equal(t, http.StatusNotModified, cached.StatusCode)

	resp, _ = get("/chat/nothing-here")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get("/chat/api/send")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// TestScriptNeverParsesHTML keeps the rule that server text reaches the page
// only as text: the script has no way to parse a string as HTML or code.
func TestScriptNeverParsesHTML(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	web.New(web.Options{}).Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/chat/app.js", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	js := rec.Body.String()

	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser", "createContextualFragment", "eval(", "new Function", "setTimeout('", `setTimeout("`} {
		assert.NotContains(t, js, banned)
	}
	assert.Contains(t, js, "textContent")
	assert.Contains(t, js, fmt.Sprintf("const MAX_MEDIA_MB = %d;", bot.MaxMediaMB), "the page's size check follows bot.MaxMediaMB")
}

// echo is a conversation engine that repeats what it was sent.
func echo(_ context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
	reply := bot.Outbound{To: in.User, Kind: bot.OutText}
	switch {
	case in.Kind == bot.KindButton:
		reply.Text = "pressed " + in.Payload
	case in.Media != nil && in.Media.Err != nil:
		reply.Text = "refused: " + in.Media.Err.Error()
	case in.Media != nil:
		reply.Text = "stored " + in.Media.ContentType + " " + fmt.Sprint(in.Media.BlobKey != "")
	default:
		reply.Text = "echo " + in.Text
		reply.Choices = []bot.Choice{{Label: "好的", Payload: "ok"}}
	}
	return []bot.Outbound{{To: in.User, Kind: bot.OutTyping}, reply}, nil
}

func TestRoundTripThroughTheRouter(t *testing.T) {
	t.Parallel()
	router := &bot.Router{
		Handler: bot.HandlerFunc(echo),
		Dedupe:  bot.NewMemoryDeduper(),
		Locker:  bot.NewMemoryLocker(),
		Intake:  &bot.Intake{Blobs: &bot.FileBlobStore{Dir: t.TempDir()}, Policy: bot.DefaultMediaPolicy()},
	}
	ch := web.New(web.Options{DispatchFunc: router.Dispatch, PollWait: 5 * time.Millisecond})
	router.Channels = map[bot.Platform]bot.Channel{bot.Web: ch}
	srv := newServer(t, ch)
	xss := `<img src=x onerror=alert(1)>`

	for range 2 { // the second is a retry, dropped by the Router
		resp := sendJSON(t, srv, map[string]string{"id": "m1", "text": xss})
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
	}
	p := poll(t, srv, visitor, 0)
	assert.Equal(t, []string{"user:" + xss, "bot:echo " + xss}, p.texts(), "text is kept as written; the page shows it as text")
	assert.Equal(t, []bot.Choice{{Label: "好的", Payload: "ok"}}, p.Messages[1].Choices)

	resp := sendJSON(t, srv, map[string]string{"id": "m2", "payload": "ok", "label": "好的"})
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp = uploadFile(t, srv, "m3", "leak.png", pngBytes(t))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp = uploadFile(t, srv, "m4", "notes.txt", []byte("just some text"))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	p = poll(t, srv, visitor, p.Next)
	assert.Equal(t, []string{
		"user:好的", "bot:pressed ok",
		"user:leak.png", "bot:stored image/png true",
		"user:notes.txt", "bot:refused: media type not accepted: text/plain sent as document",
	}, p.texts())
	assert.Equal(t, "api/media/7", p.Messages[2].MediaURL, "the stored photo, from the entry that follows its reply")
	assert.Empty(t, p.Messages[4].MediaURL, "a refused file is not shown")
	assert.Equal(t, int64(9), p.Next)
}

// TestVisitorsOwnPhotos: a photo the visitor sent is shown from the service
// once the Router stored it, to that visitor only, after a reload too.
func TestVisitorsOwnPhotos(t *testing.T) {
	t.Parallel()
	blobs := &bot.FileBlobStore{Dir: t.TempDir()}
	router := &bot.Router{
		Handler: bot.HandlerFunc(echo),
		Dedupe:  bot.NewMemoryDeduper(),
		Locker:  bot.NewMemoryLocker(),
		Intake:  &bot.Intake{Blobs: blobs, Policy: bot.DefaultMediaPolicy()},
	}
	ch := web.New(web.Options{DispatchFunc: router.Dispatch, PollWait: 5 * time.Millisecond, Media: blobs})
	router.Channels = map[bot.Platform]bot.Channel{bot.Web: ch}
	srv := newServer(t, ch)
	img := pngBytes(t)

	require.Equal(t, http.StatusNoContent, uploadFile(t, srv, "p1", "leak.png", img).StatusCode)
	// A page that showed its own upload at once, and polls after it.
	p := poll(t, srv, visitor, 1)
	require.Equal(t, []string{"bot:stored image/png true", "user:"}, p.texts())
	stored := p.Messages[1]
	assert.Equal(t, "stored", stored.Kind)
	assert.Equal(t, "p1", stored.ID, "names the message whose photo it is")
	assert.Empty(t, stored.BlobKey)
	require.Equal(t, "api/media/3", stored.MediaURL)

	// The page reloaded: the photo comes with the visitor's message.
	p = poll(t, srv, visitor, 0)
	require.Equal(t, []string{"user:leak.png", "bot:stored image/png true"}, p.texts())
	assert.Equal(t, "api/media/3", p.Messages[0].MediaURL)

	// A retry of the same upload is dropped by the Router: nothing new.
	require.Equal(t, http.StatusNoContent, uploadFile(t, srv, "p1", "leak.png", img).StatusCode)
	assert.Equal(t, int64(3), poll(t, srv, visitor, 0).Next)

	get := func(cookie *http.Cookie) *http.Response {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/chat/api/media/3", nil)
		require.NoError(t, err)
		req.AddCookie(cookie)
		resp, err := (&http.Client{}).Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get(ch.CookieFor(visitor))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, img, body)
	assert.Equal(t, http.StatusNotFound, get(ch.CookieFor("another_visitor_0123")).StatusCode)
}

func TestConcurrentSendersAndPollers(t *testing.T) {
	t.Parallel()
	const senders, each = 8, 40
	ch := web.New(web.Options{PollWait: time.Second, Mailbox: bot.NewMemoryMailbox(senders*each, 0, 0)})
	srv := newServer(t, ch)
	var wg sync.WaitGroup
	seen := make([][]int64, 2)
	for i := range seen {
		wg.Go(func() {
			var after int64
			for len(seen[i]) < senders*each {
				p, err := fetchPoll(srv, visitor, after)
				if !assert.NoError(t, err) {
					return
				}
				for _, m := range p.Messages {
					seen[i] = append(seen[i], m.Seq)
				}
				after = p.Next
			}
		})
	}
	for s := range senders {
		wg.Go(func() {
			for n := range each {
				assert.NoError(t, ch.Send(t.Context(), out(fmt.Sprint(s, "/", n))))
			}
		})
	}
	wg.Wait()

	for _, seqs := range seen {
		require.Len(t, seqs, senders*each)
		for i, seq := range seqs {
			assert.Equal(t, int64(i+1), seq)
		}
	}
}

// TestAddressLimit: one address over its limit gets 429 with Retry-After;
// behind a trusted proxy the client is the address X-Forwarded-For names, and
// an untrusted peer cannot choose its address by sending the header.
func TestAddressLimit(t *testing.T) {
	t.Parallel()
	clock := testclock.New(testclock.Start())
	var got []string
	var mu sync.Mutex
	ch := web.New(web.Options{
		NowFunc:        clock.Now,
		IPLimit:        bot.NewMemoryLimiter(bot.Limit{Burst: 3, Every: time.Minute}),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		DispatchFunc: func(_ context.Context, in *bot.Inbound) error {
			mu.Lock()
			got = append(got, in.ClientIP)
			mu.Unlock()
			return nil
		},
	})
	post := func(remote, xff string, n int) *httptest.ResponseRecorder {
		body := fmt.Sprintf(`{"id":"msg-%04d-abcdefgh","text":"你好"}`, n)
		r := httptest.NewRequest(http.MethodPost, web.Path+"api/send", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		w := httptest.NewRecorder()
		ch.Handler().ServeHTTP(w, r)
		return w
	}
	for i := range 3 {
		require.Equal(t, http.StatusNoContent, post("203.0.113.7:5000", "", i).Code)
	}
	w := post("203.0.113.7:5000", "", 3)
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "60", w.Header().Get("Retry-After"))
	assert.Contains(t, w.Body.String(), "rate_limited")
	assert.Equal(t, http.StatusTooManyRequests, post("203.0.113.7:5000", "198.51.100.1", 4).Code, "an untrusted peer's header is ignored")

	// Behind the proxy, each client has its own allowance.
	for i := range 3 {
		require.Equal(t, http.StatusNoContent, post("10.1.2.3:443", "198.51.100.9, 10.9.9.9", 10+i).Code)
	}
	require.Equal(t, http.StatusTooManyRequests, post("10.1.2.3:443", "198.51.100.9, 10.9.9.9", 13).Code)
	require.Equal(t, http.StatusNoContent, post("10.1.2.3:443", "198.51.100.10", 14).Code, "another client behind the same proxy")
	mu.Lock()
	assert.Contains(t, got, "198.51.100.9")
	assert.Contains(t, got, "203.0.113.7")
	mu.Unlock()
	clock.Advance(time.Minute)
	require.Equal(t, http.StatusNoContent, post("203.0.113.7:5000", "", 20).Code, "a minute later")
}

// TestVisitorIdentityIsIssuedByTheServer: the page gets a signed, HttpOnly
// cookie; a client cannot choose its id, forge another's, or name one in
// the body.
func TestVisitorIdentityIsIssuedByTheServer(t *testing.T) {
	t.Parallel()
	var rec recorder
	ch := web.New(web.Options{DispatchFunc: rec.dispatch, PollWait: time.Millisecond,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	srv := newServer(t, ch)
	bare := &http.Client{} // no cookie but what the test adds
	cookieOf := func(resp *http.Response) *http.Cookie {
		t.Helper()
		for _, c := range resp.Cookies() {
			if c.Name == web.VisitorCookie {
				return c
			}
		}
		return nil
	}
	send := func(cookie *http.Cookie, body string) (*http.Response, *bot.Inbound) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/chat/api/send", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := bare.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		ins := rec.all()
		return resp, ins[len(ins)-1]
	}

	// The page sets the cookie.
	resp, err := bare.Get(srv.URL + "/chat/")
	require.NoError(t, err)
	resp.Body.Close()
	issued := cookieOf(resp)
	require.NotNil(t, issued, "the page issues a visitor cookie")
	assert.True(t, issued.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, issued.SameSite)
	assert.Equal(t, "/chat/", issued.Path)
	assert.Greater(t, issued.MaxAge, 300*24*3600)
	assert.False(t, issued.Secure, "plain HTTP")

	// Its messages are the visitor's; "user" in the body is ignored.
	resp, in := send(issued, `{"user":"aaaaaaaaaaaaaaaa","id":"m1","text":"报修"}`)
	id := in.User.ID
	assert.Regexp(t, `^[0-9a-f]{32}$`, id)
	assert.Nil(t, cookieOf(resp), "a known visitor is not given another cookie")
	assert.Equal(t, []string{"user:报修"}, poll(t, srv, id, 0).texts())
	assert.Empty(t, poll(t, srv, "aaaaaaaaaaaaaaaa", 0).Messages)

	// Reloading the page keeps the id and renews the cookie.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/chat/", nil)
	req.AddCookie(issued)
	resp, err = bare.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	renewed := cookieOf(resp)
	require.NotNil(t, renewed)
	assert.Equal(t, issued.Value, renewed.Value)

	// A chosen, forged or missing cookie makes a new visitor.
	for name, c := range map[string]*http.Cookie{
		"none":              nil,
		"chosen id, no MAC": {Name: web.VisitorCookie, Value: "aaaaaaaaaaaaaaaa"},
		"another's id":      {Name: web.VisitorCookie, Value: id + ".AAAAAAAAAAAAAAAAAAAAAA"},
		"another channel's": web.New(web.Options{}).CookieFor(id),
		"garbage":           {Name: web.VisitorCookie, Value: "x.y.z"},
	} {
		resp, in := send(c, `{"id":"m2","text":"我的报修"}`)
		assert.NotEqual(t, id, in.User.ID, name)
		assert.NotEqual(t, "aaaaaaaaaaaaaaaa", in.User.ID, name)
		fresh := cookieOf(resp)
		require.NotNil(t, fresh, "%s: a new visitor gets a cookie", name)
		p := poll(t, srv, in.User.ID, 0)
		assert.Equal(t, []string{"user:我的报修"}, p.texts(), name)
	}

	// Behind a trusted proxy that terminates TLS, the cookie is Secure.
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/chat/", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err = bare.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.NotNil(t, cookieOf(resp))
	assert.True(t, cookieOf(resp).Secure)
}

type photoStore map[string][]byte

func (s photoStore) Open(_ context.Context, key string) (io.ReadCloser, error) {
	b, ok := s[key]
	if !ok {
		return nil, errors.New("no such blob")
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// TestPhotosSentToTheVisitor: a photo the service sent (a work order's) is
// shown from api/media/{seq}, to that visitor's cookie only.
func TestPhotosSentToTheVisitor(t *testing.T) {
	t.Parallel()
	const key = "2026/11/27/0123456789abcdef0123456789abcdef.png"
	img := pngBytes(t)
	ch := web.New(web.Options{PollWait: time.Millisecond, Media: photoStore{key: img}})
	srv := newServer(t, ch)
	require.NoError(t, ch.Send(t.Context(), out("派工单")))
	require.NoError(t, ch.Send(t.Context(), bot.Outbound{To: out("").To, Kind: bot.OutPhoto, BlobKey: key}))
	p := poll(t, srv, visitor, 0)
	require.Len(t, p.Messages, 2)
	require.Equal(t, "api/media/2", p.Messages[1].MediaURL)

	get := func(path string, cookie *http.Cookie) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/chat/"+path, nil)
		require.NoError(t, err)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := (&http.Client{}).Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get("api/media/2", ch.CookieFor(visitor))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, img, body)

	for name, tc := range map[string]struct {
		path   string
		cookie *http.Cookie
	}{
		"another visitor":   {"api/media/2", ch.CookieFor("another_visitor_0123")},
		"no cookie":         {"api/media/2", nil},
		"a text message":    {"api/media/1", ch.CookieFor(visitor)},
		"no such message":   {"api/media/99", ch.CookieFor(visitor)},
		"not a number":      {"api/media/x", ch.CookieFor(visitor)},
		"another's channel": {"api/media/2", web.New(web.Options{}).CookieFor(visitor)},
	} {
		assert.Equal(t, http.StatusNotFound, get(tc.path, tc.cookie).StatusCode, name)
	}
}
