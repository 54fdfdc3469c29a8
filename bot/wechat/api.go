package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
)

// Why a message could not go by customer-service message. Each is final for
// that message: Send returns it inside a *NotDeliveredError.
var (
	// ErrWindowClosed: the user's last message is more than 48 hours old
	// (errcode 45015), or the adapter's own count says so.
	ErrWindowClosed = errors.New("outside the 48-hour customer-service window")
	// ErrQuotaExceeded: the messages allowed after the user's last message
	// are used up (errcode 45047), or the adapter's own count says so.
	ErrQuotaExceeded = errors.New("customer-service messages for the user's last message used up")
	// ErrUnreachable: the user is not subscribed (errcode 43004) or has
	// blocked the account (43019).
	ErrUnreachable = errors.New("the user unsubscribed from or blocked the account")
)

// Errcodes WeChat answers that the adapter acts on.
const (
	codeBusy          = -1    // 系统繁忙: try again
	codeInvalidToken  = 40001 // access_token invalid (or the AppSecret)
	codeBadToken      = 40014 // access_token malformed
	codeTokenExpired  = 42001 // access_token expired
	codeNotSubscribed = 43004 // 需要接收者关注
	codeBlacklisted   = 43019 // 需要将接收者从黑名单中移除
	codeWindowClosed  = 45015 // 回复时间超过限制
	codeQuotaExceeded = 45047 // 客服接口下行条数超过上限
)

// APIError is an error answer of WeChat's API: errcode and errmsg.
type APIError struct {
	API  string // the API called: "custom/send", "template/send", "media/get", "menu/create"
	Code int64
	Msg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat: %s: errcode %d: %s", e.API, e.Code, e.Msg)
}

// Is matches ErrWindowClosed (45015), ErrQuotaExceeded (45047) and
// ErrUnreachable (43004, 43019).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrWindowClosed:
		return e.Code == codeWindowClosed
	case ErrQuotaExceeded:
		return e.Code == codeQuotaExceeded
	case ErrUnreachable:
		return e.Code == codeNotSubscribed || e.Code == codeBlacklisted
	}
	return false
}

// NotDeliveredError is returned by Send for a message WeChat will not take
// and that must not be sent again as it is: outside the customer-service
// window (ErrWindowClosed) or over its quota (ErrQuotaExceeded), and no
// template to carry it; a user who unsubscribed (ErrUnreachable). Err is the
// *APIError when WeChat answered so, or the sentinel alone when the
// adapter's own count refused the message without asking WeChat.
type NotDeliveredError struct {
	UserID string // the OpenID
	Err    error
}

func (e *NotDeliveredError) Error() string {
	return fmt.Sprintf("wechat: message to %s not delivered, and not retried: %v", e.UserID, e.Err)
}

func (e *NotDeliveredError) Unwrap() error { return e.Err }

// Is reports that WeChat will never take the message: it matches
// bot.ErrUndeliverable.
func (e *NotDeliveredError) Is(target error) bool { return target == bot.ErrUndeliverable }

// statusError is a non-200 HTTP answer.
type statusError struct {
	api    string
	status int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("wechat: %s: HTTP status %d", e.api, e.status)
}

// maxAPIAnswer bounds a JSON answer of the API.
const maxAPIAnswer = 1 << 20

// call makes one API call at path: a JSON POST of in when in is not nil,
// else a GET, with the access token and query. The answer's errcode becomes
// an *APIError; otherwise the answer is decoded into out when out is not nil.
// A refused access token is replaced once (withToken); a busy WeChat
// (errcode -1) and a connection that could not be made are tried again, up
// to MaxAttempts; idempotent calls are tried again after 5xx answers and
// timeouts too.
func (a *Adapter) call(ctx context.Context, api, path string, query url.Values, in, out any, idempotent bool) error {
	var body []byte
	if in != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // WeChat shows \u003c as it is
		if err := enc.Encode(in); err != nil {
			return fmt.Errorf("wechat: %s: encode: %w", api, err)
		}
		body = buf.Bytes()
	}
	return a.retry(ctx, api, idempotent, func() error {
		return a.withToken(ctx, func(token string) error {
			data, err := a.request(ctx, api, path, token, query, body, "application/json; charset=utf-8")
			if err != nil {
				return err
			}
			return decodeAnswer(api, data, out)
		})
	})
}

// request sends one request and returns the body of a 200 answer.
func (a *Adapter) request(ctx context.Context, api, path, token string, query url.Values, body []byte, contentType string) ([]byte, error) {
	resp, err := a.do(ctx, path, token, query, body, contentType)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &statusError{api: api, status: resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("wechat: %s: read answer: %w", api, a.redact(err))
	}
	if len(data) > maxAPIAnswer {
		return nil, fmt.Errorf("wechat: %s: answer larger than %d bytes", api, maxAPIAnswer)
	}
	return data, nil
}

// do sends one request to path, a POST of body when it is not nil, and
// returns the response, whatever its status.
func (a *Adapter) do(ctx context.Context, path, token string, query url.Values, body []byte, contentType string) (*http.Response, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("access_token", token)
	method, rd := http.MethodGet, io.Reader(nil)
	if body != nil {
		method, rd = http.MethodPost, bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rewriteURL(DefaultAPIURL+path+"?"+q.Encode()), rd)
	if err != nil {
		return nil, a.redact(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, a.redact(err)
	}
	return resp, nil
}

// decodeAnswer returns the *APIError of a non-zero errcode, or decodes data
// into out.
func decodeAnswer(api string, data []byte, out any) error {
	var ce struct {
		ErrCode int64  `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(data, &ce); err != nil {
		return fmt.Errorf("wechat: %s: answer is not JSON: %w", api, err)
	}
	if ce.ErrCode != 0 {
		return &APIError{API: api, Code: ce.ErrCode, Msg: ce.ErrMsg}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("wechat: %s: decode answer: %w", api, err)
		}
	}
	return nil
}

// accessToken returns the cached access token or fetches one (the SDK's
// DefaultAccessToken over Config.Cache).
func (a *Adapter) accessToken(ctx context.Context) (string, error) {
	tok, err := a.tokens.GetAccessTokenContext(ctx)
	if err != nil {
		return "", a.redact(err)
	}
	if tok == "" {
		return "", errors.New("wechat: WeChat gave an empty access token")
	}
	return tok, nil
}

// withToken calls f with the access token. When WeChat refuses it (40001,
// 40014, 42001: another process fetched a new one, or it expired early), it
// is dropped from the cache and f is called once more with a new one.
func (a *Adapter) withToken(ctx context.Context, f func(token string) error) error {
	tok, err := a.accessToken(ctx)
	if err != nil {
		return err
	}
	err = f(tok)
	var ae *APIError
	if !errors.As(err, &ae) || !isTokenError(ae.Code) {
		return err
	}
	a.log.Warn("wechat: access token refused; fetching a new one", "api", ae.API, "errcode", ae.Code)
	a.dropToken(tok)
	if tok, err = a.accessToken(ctx); err != nil {
		return err
	}
	return f(tok)
}

func isTokenError(code int64) bool {
	return code == codeInvalidToken || code == codeBadToken || code == codeTokenExpired
}

// dropToken deletes tok from the cache, unless another call already
// replaced it there.
func (a *Adapter) dropToken(tok string) {
	if cur, _ := a.cfg.Cache.Get(a.tokenKey).(string); cur != "" && cur != tok {
		return
	}
	if err := a.cfg.Cache.Delete(a.tokenKey); err != nil {
		a.log.Warn("wechat: dropping the refused access token failed", "error", err)
	}
}

// retry calls f until it succeeds, fails for good, or was tried
// MaxAttempts times.
func (a *Adapter) retry(ctx context.Context, api string, idempotent bool, f func() error) error {
	backoff := 300 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt >= a.cfg.MaxAttempts || !transient(err, idempotent) || ctx.Err() != nil {
			return err
		}
		a.log.Warn("wechat: call will be tried again", "api", api, "attempt", attempt, "error", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wechat: %s abandoned: %w (last error: %v)", api, ctx.Err(), err)
		case <-t.C:
		}
		backoff *= 2
	}
}

// transient reports whether trying err's call again may succeed without
// risking that WeChat acts on it twice (unless idempotent).
func transient(err error, idempotent bool) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code == codeBusy
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true // nothing was sent
	}
	if !idempotent {
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.status >= 500
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// tokenRE finds an access token or the AppSecret in a URL.
var tokenRE = regexp.MustCompile(`(access_token|secret)=[^&\s"']+`)

// redact removes the AppSecret and access tokens from an error's text: the
// SDK's URLs carry them, and net/http puts URLs into its errors.
func (a *Adapter) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := tokenRE.ReplaceAllString(msg, "$1=<redacted>")
	if a.cfg.Secret != "" {
		red = strings.ReplaceAll(red, a.cfg.Secret, "<secret>")
	}
	if red == msg {
		return err
	}
	return &redactedError{msg: red, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
