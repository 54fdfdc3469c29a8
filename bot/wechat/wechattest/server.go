package wechattest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Error codes of WeChat's global return-code table that the fake answers.
const (
	CodeSystemError         = -1
	CodeInvalidCredential   = 40001 // unknown or superseded access_token
	CodeInvalidGrantType    = 40002
	CodeInvalidOpenID       = 40003
	CodeInvalidMediaType    = 40004
	CodeInvalidMediaID      = 40007
	CodeMediaSizeLimit      = 40009
	CodeInvalidMessageType  = 40008
	CodeInvalidAppID        = 40013
	CodeInvalidButtonSize   = 40016
	CodeInvalidButtonType   = 40017
	CodeInvalidButtonName   = 40018
	CodeInvalidButtonKey    = 40019
	CodeInvalidButtonURL    = 40020
	CodeInvalidSubMenuLevel = 40022
	CodeInvalidSubButtons   = 40023
	CodeInvalidSubType      = 40024
	CodeInvalidSubName      = 40025
	CodeInvalidSubKey       = 40026
	CodeInvalidSubURL       = 40027
	CodeInvalidTemplateID   = 40037
	CodeInvalidAppSecret    = 40125
	CodeAccessTokenMissing  = 41001
	CodeAppIDMissing        = 41002
	CodeAppSecretMissing    = 41004
	CodeMediaDataMissing    = 41005
	CodeAccessTokenExpired  = 42001
	CodeRequireGET          = 43001
	CodeRequirePOST         = 43002
	CodeRequireSubscribe    = 43004
	CodeEmptyNewsData       = 44003
	CodeEmptyContent        = 44004
	CodeContentSizeLimit    = 45002
	CodeArticleSizeLimit    = 45008
	CodeResponseOutOfTime   = 45015 // outside the 48-hour window, or not a follower
	CodeResponseCountLimit  = 45047 // customer-service quota used up
	CodeMenuNotExist        = 46003
	CodeAPIUnauthorized     = 48001 // the account may not call the API
	CodeDataFormatError     = 47001
	CodeArgumentInvalid     = 47003
)

// Lifetimes that WeChat documents.
const (
	// TokenLifetime is an access_token's expires_in.
	TokenLifetime = 7200 * time.Second
	// TokenOverlap is how long a superseded access_token keeps working after
	// a new one is fetched.
	TokenOverlap = 5 * time.Minute
	// MediaLifetime is how long temporary media (a user's photo or voice
	// MediaId) can be downloaded.
	MediaLifetime = 3 * 24 * time.Hour
	// MessageWindow is how long after a user's message customer-service
	// messages may be sent.
	MessageWindow = 48 * time.Hour
	// MessageQuota is how many customer-service messages one user message
	// allows.
	MessageQuota = 5
	// EventWindow is how long after a follow, menu click or scan
	// customer-service messages may be sent.
	EventWindow = time.Minute
	// EventQuota is how many customer-service messages a follow, menu click
	// or scan allows.
	EventQuota = 3
	// TextLimit is the size limit of a customer-service text, in UTF-8 bytes.
	TextLimit = 2048
)

// Server is an in-process fake of api.weixin.qq.com for one official
// account. All methods are safe for concurrent use.
type Server struct {
	appID  string
	secret string
	hs     *httptest.Server

	mu           sync.Mutex
	changed      chan struct{}
	clock        func() time.Time
	offset       time.Duration
	tokens       map[string]*accessToken
	stable       *accessToken
	users        map[string]*User
	denyUserInfo bool // user/info answers 48001
	sent         []Sent
	templates    map[string][]string
	media        map[string]*mediaItem
	menu         *Menu
	fails        map[string][]failure
	requests     []Request
	calls        map[string]int
	nextMsgID    int64
}

type accessToken struct {
	value   string
	stable  bool
	expires time.Time
	revoked bool
}

type failure struct {
	status  int // HTTP status; 0 means a JSON error with HTTP 200
	errcode int
	errmsg  string
}

// Request is one HTTP request the fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Body   []byte
	Time   time.Time // on the fake clock
}

// NewServer starts a fake WeChat API server for the account appID whose
// AppSecret is secret. It is closed when the test ends.
func NewServer(tb testing.TB, appID, secret string) *Server {
	tb.Helper()
	s := &Server{
		appID:     appID,
		secret:    secret,
		changed:   make(chan struct{}),
		clock:     time.Now,
		tokens:    map[string]*accessToken{},
		users:     map[string]*User{},
		templates: map[string][]string{},
		media:     map[string]*mediaItem{},
		fails:     map[string][]failure{},
		calls:     map[string]int{},
		nextMsgID: 2_845_710_000_000_000_000 + rand.Int64N(1_000_000_000),
	}
	s.hs = httptest.NewServer(s.routes())
	tb.Cleanup(s.hs.Close)
	return s
}

// URL is the base URL that replaces https://api.weixin.qq.com.
func (s *Server) URL() string { return s.hs.URL }

// Client is an *http.Client that reaches the server.
func (s *Server) Client() *http.Client { return s.hs.Client() }

// AppID is the account's appid.
func (s *Server) AppID() string { return s.appID }

// SetNow replaces the fake clock's source (time.Now by default). Token and
// media lifetimes and the customer-service windows are measured on it.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	s.clock, s.offset = now, 0
	s.broadcastLocked()
	s.mu.Unlock()
}

// Advance moves the fake clock forward by d.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.broadcastLocked()
	s.mu.Unlock()
}

// Now is the time on the fake clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.clock().Add(s.offset) }

// ExpireTokens makes every access_token issued so far expired (42001).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.nowLocked().Add(-time.Second)
	for _, t := range s.tokens {
		t.expires = past
	}
	s.broadcastLocked()
}

// InvalidateTokens makes every access_token issued so far invalid (40001),
// as when another process fetched new ones or the AppSecret was reset.
func (s *Server) InvalidateTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.revoked = true
	}
	s.broadcastLocked()
}

// FailNext makes the next n calls to path (such as
// "/cgi-bin/message/custom/send") answer {"errcode":errcode,"errmsg":errmsg}
// with HTTP 200, before any other check. The calls are recorded but have no
// effect.
func (s *Server) FailNext(path string, n int, errcode int, errmsg string) {
	s.failNext(path, n, failure{errcode: errcode, errmsg: errmsg})
}

// FailNextStatus makes the next n calls to path answer with the HTTP status
// and an HTML body, as WeChat's gateway does when it is overloaded.
func (s *Server) FailNextStatus(path string, n int, status int) {
	s.failNext(path, n, failure{status: status})
}

func (s *Server) failNext(path string, n int, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails[path] = append(s.fails[path], f)
	}
}

// Calls is how many requests reached path, failed ones included.
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Wait calls cond until it returns true, after each change of the fake's
// state (a request, an inbound message, a clock change), or until ctx ends.
// cond may call the Server's methods.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wechattest: wait: %w", context.Cause(ctx))
		case <-ch:
		}
	}
}

func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// apiResult is an answer to write once the lock is released.
type apiResult struct {
	status int
	header http.Header
	body   []byte
}

func jsonResult(v any) apiResult {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	// The content type api.weixin.qq.com sends with JSON answers.
	h.Set("Content-Type", "application/json; encoding=utf-8")
	return apiResult{status: http.StatusOK, header: h, body: b}
}

type errBody struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// apiError answers like WeChat, which appends a request id to every error
// message.
func (s *Server) apiError(code int, msg string) apiResult {
	rid := fmt.Sprintf(" rid: %08x-%08x-%08x", uint32(s.nowLocked().Unix()), rand.Uint32(), rand.Uint32())
	return jsonResult(errBody{ErrCode: code, ErrMsg: msg + rid})
}

func okResult() apiResult { return jsonResult(errBody{ErrCode: 0, ErrMsg: "ok"}) }

type endpoint struct {
	method string // GET or POST
	token  bool   // needs access_token
	serve  func(s *Server, r *http.Request, body []byte) apiResult
}

func (s *Server) routes() http.Handler {
	eps := map[string]endpoint{
		"/cgi-bin/token":                 {http.MethodGet, false, (*Server).serveToken},
		"/cgi-bin/stable_token":          {http.MethodPost, false, (*Server).serveStableToken},
		"/cgi-bin/message/custom/send":   {http.MethodPost, true, (*Server).serveCustomSend},
		"/cgi-bin/message/template/send": {http.MethodPost, true, (*Server).serveTemplateSend},
		"/cgi-bin/media/get":             {http.MethodGet, true, (*Server).serveMediaGet},
		"/cgi-bin/media/upload":          {http.MethodPost, true, (*Server).serveMediaUpload},
		"/cgi-bin/menu/create":           {http.MethodPost, true, (*Server).serveMenuCreate},
		"/cgi-bin/menu/get":              {http.MethodGet, true, (*Server).serveMenuGet},
		"/cgi-bin/menu/delete":           {http.MethodGet, true, (*Server).serveMenuDelete},
		"/cgi-bin/user/info":             {http.MethodGet, true, (*Server).serveUserInfo},
	}
	mux := http.NewServeMux()
	for path, ep := range eps {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, path, ep) })
	}
	// Picture and video URLs of media, like mmbiz.qpic.cn: no token, no expiry.
	mux.HandleFunc("GET /mmbiz/{id}", s.serveMediaFile)
	return mux
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, path string, ep endpoint) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 20<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res := s.handle(r, path, ep, body)
	for k, v := range res.header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.status)
	w.Write(res.body)
}

func (s *Server) handle(r *http.Request, path string, ep endpoint, body []byte) apiResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.broadcastLocked()

	s.requests = append(s.requests, Request{Method: r.Method, Path: path, Query: r.URL.Query(), Body: body, Time: s.nowLocked()})
	s.calls[path]++
	if q := s.fails[path]; len(q) > 0 {
		f := q[0]
		s.fails[path] = q[1:]
		if f.status != 0 {
			h := http.Header{}
			h.Set("Content-Type", "text/html")
			return apiResult{status: f.status, header: h, body: fmt.Appendf(nil, "<html><body>%d %s</body></html>", f.status, http.StatusText(f.status))}
		}
		return jsonResult(errBody{ErrCode: f.errcode, ErrMsg: f.errmsg})
	}
	if r.Method != ep.method {
		if ep.method == http.MethodGet {
			return s.apiError(CodeRequireGET, "require GET method")
		}
		return s.apiError(CodeRequirePOST, "require POST method")
	}
	if ep.token {
		if res, ok := s.checkTokenLocked(r.URL.Query().Get("access_token")); !ok {
			return res
		}
	}
	return ep.serve(s, r, body)
}

func (s *Server) checkTokenLocked(value string) (apiResult, bool) {
	if value == "" {
		return s.apiError(CodeAccessTokenMissing, "access_token missing"), false
	}
	t := s.tokens[value]
	switch {
	case t == nil || t.revoked:
		return s.apiError(CodeInvalidCredential, "invalid credential, access_token is invalid or not latest"), false
	case !s.nowLocked().Before(t.expires):
		return s.apiError(CodeAccessTokenExpired, "access_token expired"), false
	}
	return apiResult{}, true
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (s *Server) checkCredentialsLocked(grantType, appID, secret string) (apiResult, bool) {
	switch {
	case grantType != "client_credential":
		return s.apiError(CodeInvalidGrantType, "invalid grant_type"), false
	case appID == "":
		return s.apiError(CodeAppIDMissing, "appid missing"), false
	case appID != s.appID:
		return s.apiError(CodeInvalidAppID, "invalid appid"), false
	case secret == "":
		return s.apiError(CodeAppSecretMissing, "appsecret missing"), false
	case secret != s.secret:
		return s.apiError(CodeInvalidAppSecret, "invalid appsecret"), false
	}
	return apiResult{}, true
}

// serveToken: GET /cgi-bin/token. Every call issues a new token; the
// previous ones keep working for TokenOverlap.
func (s *Server) serveToken(r *http.Request, _ []byte) apiResult {
	q := r.URL.Query()
	if res, ok := s.checkCredentialsLocked(q.Get("grant_type"), q.Get("appid"), q.Get("secret")); !ok {
		return res
	}
	t := s.issueTokenLocked(false)
	return jsonResult(tokenResponse{AccessToken: t.value, ExpiresIn: int64(TokenLifetime / time.Second)})
}

// serveStableToken: POST /cgi-bin/stable_token. The stable token is
// separate from /cgi-bin/token's; without force_refresh the current one is
// returned with its remaining lifetime.
func (s *Server) serveStableToken(_ *http.Request, body []byte) apiResult {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return s.apiError(CodeDataFormatError, "data format error")
	}
	if res, ok := s.checkCredentialsLocked(req.GrantType, req.AppID, req.Secret); !ok {
		return res
	}
	now := s.nowLocked()
	t := s.stable
	if req.ForceRefresh || t == nil || t.revoked || !now.Before(t.expires) {
		t = s.issueTokenLocked(true)
		s.stable = t
	}
	return jsonResult(tokenResponse{AccessToken: t.value, ExpiresIn: int64(t.expires.Sub(now) / time.Second)})
}

func (s *Server) issueTokenLocked(stable bool) *accessToken {
	now := s.nowLocked()
	grace := now.Add(TokenOverlap)
	for _, t := range s.tokens {
		if t.stable == stable && t.expires.After(grace) {
			t.expires = grace
		}
	}
	t := &accessToken{value: fmt.Sprintf("%d_%s", 86+rand.IntN(10), randomID(136)), stable: stable, expires: now.Add(TokenLifetime)}
	s.tokens[t.value] = t
	return t
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func randomID(n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(idAlphabet[rand.IntN(len(idAlphabet))])
	}
	return b.String()
}
