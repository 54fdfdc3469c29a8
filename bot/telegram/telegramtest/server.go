package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Limits of the real Bot API that the fake enforces.
const (
	maxMessageLength   = 4096            // UTF-16 units of a message text
	maxCaptionLength   = 1024            // UTF-16 units of a caption
	maxDownloadSize    = 20 << 20        // getFile refuses bigger files
	maxUploadSize      = 50 << 20        // multipart uploads
	longPollMaxWait    = 50              // seconds: getUpdates timeout is clamped to it
	firstUpdateID      = 100000001       // update ids start at "a certain positive number"
	defaultBotID       = 7000000001      // when the token has no numeric "id:" prefix
	defaultPollRepeat  = 3 * time.Second // see SetRepeatPollDelay
	defaultCooldown    = 1 * time.Second // see SetWebhookCooldown
	defaultHookTimeout = 5 * time.Second // see SetWebhookTimeout
	defaultBackoff     = 50 * time.Millisecond
	defaultMaxBackoff  = 1 * time.Second
)

// Server is an in-process fake of the Telegram Bot API for tests. It answers
// {URL}/bot{token}/{method} like api.telegram.org (form, multipart or JSON
// requests; JSON answers {ok,result,description,error_code,parameters}),
// serves files at {URL}/file/bot{token}/{file_path}, keeps the bot's chats,
// messages, files and update queue, delivers updates by long polling or
// webhook, lets a test act as users (SendText, PressButton, SendPhoto, …),
// inject failures and rate limits, and inspect everything the bot did. All
// methods are safe for concurrent use. See the package documentation for
// what is faithful and what is simplified.
type Server struct {
	t         testing.TB
	token     string
	botID     int64
	botFirst  string
	botUser   string
	ts        *httptest.Server
	hookHTTP  *http.Transport
	closeOnce sync.Once
	closedCh  chan struct{}
	hookMu    sync.Mutex     // serialises setWebhook/deleteWebhook
	bg        sync.WaitGroup // methods run from webhook answers

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	closed  bool

	// updates
	nextUpdateID   int
	everQueued     bool
	queue          []queuedUpdate
	allUpdates     map[int]json.RawMessage
	allowed        map[string]bool // nil: the default set
	pollGen        uint64
	pollAbortMsg   string
	prevPollOffset int
	prevPollStart  time.Time
	pollRepeat     time.Duration

	// webhook
	hook          *webhook
	hookCooldown  time.Duration
	nextHookSetAt time.Time
	hookTimeout   time.Duration
	hookBackoff   time.Duration
	hookMaxBack   time.Duration
	deliveries    []Delivery
	hookErrDate   int64
	hookErrMsg    string

	// chats, messages, files, callbacks, commands
	chats       map[int64]*chat
	files       map[string]*file
	filePaths   map[string]*file
	fileSeq     int
	pathSeq     int
	callbacks   map[string]*callback
	callbackSeq uint64
	answered    []AnsweredCallback
	commands    map[string][]BotCommand
	privacyMode bool

	// failure injection and limits
	failures     map[string][]injected
	perChatRate  float64
	globalRate   float64
	chatLimiters map[int64]*rate.Limiter
	globalLim    *rate.Limiter

	// inspection
	calls    map[string]int
	requests []Request
}

// NewServer starts a fake Bot API for the bot with the given token and
// closes it when the test ends (t.Cleanup): open long polls are answered,
// webhook delivery stops, connections are closed. If the token starts with
// digits and a colon, like real tokens ("123456:ABC…"), the digits are the
// bot's user id.
func NewServer(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{
		t:            t,
		token:        token,
		botID:        defaultBotID,
		botFirst:     "Test Bot",
		botUser:      "test_bot",
		closedCh:     make(chan struct{}),
		changed:      make(chan struct{}),
		nextUpdateID: firstUpdateID,
		allUpdates:   map[int]json.RawMessage{},
		pollRepeat:   defaultPollRepeat,
		hookCooldown: defaultCooldown,
		hookTimeout:  defaultHookTimeout,
		hookBackoff:  defaultBackoff,
		hookMaxBack:  defaultMaxBackoff,
		chats:        map[int64]*chat{},
		files:        map[string]*file{},
		filePaths:    map[string]*file{},
		callbacks:    map[string]*callback{},
		commands:     map[string][]BotCommand{},
		privacyMode:  true,
		failures:     map[string][]injected{},
		chatLimiters: map[int64]*rate.Limiter{},
		calls:        map[string]int{},
		hookHTTP:     &http.Transport{MaxIdleConnsPerHost: 4},
	}
	if id, _, ok := strings.Cut(token, ":"); ok {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
			s.botID = n
		}
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.Close)
	return s
}

// URL returns the server's base URL. The Bot API lives at
// URL()+"/bot"+token+"/"+method (for tgbotapi.NewBotAPIWithClient pass
// URL()+"/bot%s/%s") and files at URL()+"/file/bot"+token+"/"+file_path.
func (s *Server) URL() string { return s.ts.URL }

// Client returns an HTTP client for the server whose connections are
// closed with it (pass it to tgbotapi.NewBotAPIWithClient).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Token returns the bot token the server accepts.
func (s *Server) Token() string { return s.token }

// BotID returns the bot's user id (what getMe answers).
func (s *Server) BotID() int64 { return s.botID }

// BotUsername returns the bot's username, without '@'.
func (s *Server) BotUsername() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.botUser
}

// SetBotName changes the bot's first name and username (getMe, the from of
// its messages, commands addressed "/cmd@username" in groups).
func (s *Server) SetBotName(firstName, username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botFirst, s.botUser = firstName, strings.TrimPrefix(username, "@")
}

// Close stops the server: it answers open long polls with an empty result,
// stops webhook delivery and closes the listener. It runs at test cleanup;
// calling it earlier (or twice) is fine.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.closedCh)
		h := s.hook
		s.notifyLocked()
		s.mu.Unlock()
		if h != nil {
			h.cancel()
			<-h.done
		}
		s.bg.Wait()
		s.mu.Lock()
		h = s.hook // a webhook answer may have set one meanwhile
		s.mu.Unlock()
		if h != nil {
			h.cancel()
			<-h.done
		}
		s.ts.Close() // waits for the handlers, which the closed channel released

		s.hookHTTP.CloseIdleConnections()
	})
}

// notifyLocked wakes everything waiting for a change (long polls, webhook
// delivery, Wait…).
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ---- request parameters ----

type upload struct {
	name        string
	contentType string
	data        []byte
}

type params struct {
	vals  map[string]string
	files map[string]*upload
}

func (p *params) get(k string) string { return p.vals[k] }

// toBool is the Bot API's reading of a boolean parameter.
func toBool(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v == "true" || v == "yes" || v == "1"
}

// leadingInt reads an integer as td::to_integer does: an optional sign and
// the digits that follow; anything else gives 0.
func leadingInt(v string) int64 {
	v = strings.TrimSpace(v)
	neg := false
	if strings.HasPrefix(v, "-") {
		neg, v = true, v[1:]
	}
	var n int64
	for i := 0; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		n = n*10 + int64(v[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// intArg reads an integer parameter with a default, clamped to [lo, hi].
func (p *params) intArg(k string, def, lo, hi int) int {
	v, ok := p.vals[k]
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	return int(min(max(leadingInt(v), int64(lo)), int64(hi)))
}

func readParams(r *http.Request) (*params, *apiError) {
	p := &params{vals: map[string]string{}, files: map[string]*upload{}}
	for k, v := range r.URL.Query() {
		p.vals[k] = v[len(v)-1]
	}
	if r.Method != http.MethodPost {
		return p, nil
	}
	ct, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxUploadSize+1))
		if err != nil {
			return nil, badRequest("Can't read request body")
		}
		vs, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, badRequest("Can't parse request body")
		}
		for k, v := range vs {
			p.vals[k] = v[len(v)-1]
		}
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxUploadSize+1))
		if err != nil {
			return nil, badRequest("Can't read request body")
		}
		var obj map[string]json.RawMessage
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &obj); err != nil {
				return nil, badRequest("Can't parse JSON object")
			}
		}
		for k, raw := range obj {
			var str string
			switch {
			case string(raw) == "null":
				continue
			case json.Unmarshal(raw, &str) == nil:
				p.vals[k] = str
			default:
				p.vals[k] = string(raw)
			}
		}
	case "multipart/form-data":
		mr := multipart.NewReader(r.Body, ctParams["boundary"])
		total := 0
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, badRequest("Can't parse multipart request")
			}
			data, err := io.ReadAll(io.LimitReader(part, maxUploadSize+1))
			if err != nil {
				return nil, badRequest("Can't read multipart request")
			}
			total += len(data)
			if total > maxUploadSize {
				return nil, &apiError{Code: http.StatusRequestEntityTooLarge, Description: "Request Entity Too Large"}
			}
			if part.FileName() != "" {
				p.files[part.FormName()] = &upload{name: part.FileName(), contentType: part.Header.Get("Content-Type"), data: data}
			} else {
				p.vals[part.FormName()] = string(data)
			}
		}
	}
	return p, nil
}

// ---- answers ----

// apiError is a Bot API error answer. HTML answers the body a proxy in
// front of the Bot API sends (502/503/504) instead of JSON.
type apiError struct {
	Code        int
	Description string
	RetryAfter  int
	HTML        bool
}

// badRequest builds a 400 the way the Bot API words them: "Bad Request: "
// and the message with its first letter lowered, unless it is an
// UPPER_CASE server error such as BUTTON_DATA_INVALID.
func badRequest(msg string) *apiError {
	if len(msg) >= 2 && !(msg[1] == '_' || msg[1] >= 'A' && msg[1] <= 'Z') {
		msg = strings.ToLower(msg[:1]) + msg[1:]
	}
	return &apiError{Code: 400, Description: "Bad Request: " + msg}
}

func tooManyRequests(retryAfter int) *apiError {
	return &apiError{Code: 429, Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter), RetryAfter: retryAfter}
}

var (
	errBlocked      = &apiError{Code: 403, Description: "Forbidden: bot was blocked by the user"}
	errChatNotFound = &apiError{Code: 400, Description: "Bad Request: chat not found"}
	errQueryTooOld  = &apiError{Code: 400, Description: "Bad Request: query is too old and response timeout expired or query ID is invalid"}
	errNotModified  = &apiError{Code: 400, Description: "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"}
)

type result struct {
	value       any
	description string
	err         *apiError
	aborted     bool // the client went away (a long poll): nothing to answer
}

func ok(v any) result                  { return result{value: v} }
func okDesc(v any, desc string) result { return result{value: v, description: desc} }
func fail(e *apiError) result          { return result{err: e} }

func htmlErrorPage(code int) string {
	title := fmt.Sprintf("%d %s", code, http.StatusText(code))
	return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
		"</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
}

// encode renders an answer: HTTP status, content type and body.
func (r result) encode() (int, string, []byte) {
	if e := r.err; e != nil {
		if e.HTML {
			return e.Code, "text/html", []byte(htmlErrorPage(e.Code))
		}
		body := map[string]any{"ok": false, "error_code": e.Code, "description": e.Description}
		if e.RetryAfter > 0 {
			body["parameters"] = map[string]int{"retry_after": e.RetryAfter}
		}
		b, _ := json.Marshal(body)
		return e.Code, "application/json", b
	}
	body := struct {
		OK          bool   `json:"ok"`
		Result      any    `json:"result"`
		Description string `json:"description,omitempty"`
	}{true, r.value, r.description}
	b, err := json.Marshal(body)
	if err != nil {
		return 500, "application/json", []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error: ` + err.Error() + `"}`)
	}
	return 200, "application/json", b
}

// ---- routing ----

type handler func(s *Server, ctx context.Context, p *params) result

// methods maps the lower-cased method name (the Bot API matches names
// case-insensitively) to its canonical name and handler.
var methods map[string]struct {
	name string
	h    handler
}

func init() {
	hs := map[string]handler{
		"getMe":                  (*Server).hGetMe,
		"getUpdates":             (*Server).hGetUpdates,
		"setWebhook":             (*Server).hSetWebhook,
		"deleteWebhook":          (*Server).hDeleteWebhook,
		"getWebhookInfo":         (*Server).hGetWebhookInfo,
		"sendMessage":            (*Server).hSendMessage,
		"sendPhoto":              (*Server).hSendPhoto,
		"sendDocument":           (*Server).hSendDocument,
		"sendVideo":              (*Server).hSendVideo,
		"sendVoice":              (*Server).hSendVoice,
		"sendChatAction":         (*Server).hSendChatAction,
		"editMessageText":        (*Server).hEditMessageText,
		"editMessageCaption":     (*Server).hEditMessageCaption,
		"editMessageReplyMarkup": (*Server).hEditMessageReplyMarkup,
		"deleteMessage":          (*Server).hDeleteMessage,
		"answerCallbackQuery":    (*Server).hAnswerCallbackQuery,
		"getFile":                (*Server).hGetFile,
		"getChat":                (*Server).hGetChat,
		"setMyCommands":          (*Server).hSetMyCommands,
		"getMyCommands":          (*Server).hGetMyCommands,
		"deleteMyCommands":       (*Server).hDeleteMyCommands,
	}
	methods = map[string]struct {
		name string
		h    handler
	}{}
	for name, h := range hs {
		methods[strings.ToLower(name)] = struct {
			name string
			h    handler
		}{name, h}
	}
}

func canonical(method string) string {
	if m, ok := methods[strings.ToLower(method)]; ok {
		return m.name
	}
	return method
}

func writeResult(w http.ResponseWriter, r result) (int, []byte) {
	status, ct, body := r.encode()
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status, body
}

var (
	notFound     = result{err: &apiError{Code: 404, Description: "Not Found"}}
	unauthorized = result{err: &apiError{Code: 401, Description: "Unauthorized"}}
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		s.serveFile(w, r, rest)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	if !ok {
		writeResult(w, notFound)
		return
	}
	token, method, ok := strings.Cut(rest, "/")
	if !ok || method == "" || strings.Contains(method, "/") {
		writeResult(w, notFound)
		return
	}
	if token != s.token {
		writeResult(w, unauthorized)
		return
	}
	start := time.Now()
	p, perr := readParams(r)
	if perr != nil {
		p = &params{vals: map[string]string{}, files: map[string]*upload{}}
	}
	name := canonical(method)
	s.mu.Lock()
	s.calls[name]++
	s.notifyLocked()
	s.mu.Unlock()

	var res result
	if perr != nil {
		res = fail(perr)
	} else {
		res = s.dispatch(r.Context(), method, p)
	}
	if res.aborted {
		s.record(name, p, start, res, 0, false)
		return
	}
	status, _ := writeResult(w, res)
	s.record(name, p, start, res, status, false)
}

// dispatch runs one method call: injected failures first, then the method.
func (s *Server) dispatch(ctx context.Context, method string, p *params) result {
	m, known := methods[strings.ToLower(method)]
	name := method
	if known {
		name = m.name
	}
	if inj, ok := s.takeFailure(name); ok && !inj.after {
		return fail(inj.err())
	}
	if !known {
		return notFound
	}
	res := m.h(s, ctx, p)
	if inj, ok := s.takeFailureAfter(name); ok {
		return fail(inj.err())
	}
	return res
}

func (s *Server) record(name string, p *params, start time.Time, res result, status int, viaHook bool) {
	req := Request{
		Method:             name,
		Params:             maps.Clone(p.vals),
		Time:               start,
		Duration:           time.Since(start),
		Status:             status,
		OK:                 res.err == nil,
		ViaWebhookResponse: viaHook,
	}
	if len(p.files) > 0 {
		req.Files = map[string]UploadedFile{}
		for k, f := range p.files {
			req.Files[k] = UploadedFile{FileName: f.name, Size: len(f.data)}
		}
	}
	if res.err != nil {
		req.ErrorCode, req.Description, req.RetryAfter = res.err.Code, res.err.Description, res.err.RetryAfter
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.notifyLocked()
	s.mu.Unlock()
}

// ---- inspection ----

// Calls returns how many times the method was called (by any spelling of
// its name), counted when each call arrives, failed ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[canonical(method)]
}

// Requests returns every answered Bot API call in order of completion.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// RequestsFor returns the answered calls of one method.
func (s *Server) RequestsFor(method string) []Request {
	name := canonical(method)
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == name {
			out = append(out, r)
		}
	}
	return out
}

// Wait blocks until cond returns true or ctx ends; cond is evaluated now and
// after every change of the server's state (a request, an update queued, a
// webhook delivery, …), without the server's lock held, so it may call the
// Server's accessors.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitSent waits until the bot has sent at least n messages to the chat and
// returns them all; on timeout the error says what was sent.
func (s *Server) WaitSent(ctx context.Context, chatID int64, n int) ([]SentMessage, error) {
	var got []SentMessage
	err := s.Wait(ctx, func() bool {
		got = s.Sent(chatID)
		return len(got) >= n
	})
	if err != nil {
		texts := make([]string, len(got))
		for i, m := range got {
			texts[i] = strconv.Quote(m.Text)
		}
		return got, fmt.Errorf("waiting for %d messages to chat %d, have %d [%s]: %w", n, chatID, len(got), strings.Join(texts, ", "), err)
	}
	return got, nil
}

// WaitCalls waits until the method has been called at least n times.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) error {
	err := s.Wait(ctx, func() bool { return s.Calls(method) >= n })
	if err != nil {
		return fmt.Errorf("waiting for %d calls of %s, have %d: %w", n, method, s.Calls(method), err)
	}
	return nil
}

// WaitDeliveries waits until the webhook has been tried at least n times.
func (s *Server) WaitDeliveries(ctx context.Context, n int) ([]Delivery, error) {
	var got []Delivery
	err := s.Wait(ctx, func() bool {
		got = s.WebhookDeliveries()
		return len(got) >= n
	})
	if err != nil {
		return got, fmt.Errorf("waiting for %d webhook deliveries, have %d: %w", n, len(got), err)
	}
	return got, nil
}

// WaitPendingUpdates waits until at most n updates are pending (queued and
// not confirmed by getUpdates or delivered to the webhook).
func (s *Server) WaitPendingUpdates(ctx context.Context, n int) error {
	err := s.Wait(ctx, func() bool { return s.PendingUpdates() <= n })
	if err != nil {
		return fmt.Errorf("waiting for at most %d pending updates, have %d: %w", n, s.PendingUpdates(), err)
	}
	return nil
}
