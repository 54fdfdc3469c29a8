package wechattest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ErrTimeout reports that the account did not answer within
// Platform.Timeout, after which WeChat abandons the request.
var ErrTimeout = errors.New("wechattest: no answer within the timeout")

// Platform plays WeChat's servers calling an official account's callback
// URL (the 服务器地址 configured for the account): it builds, signs and, in
// safe mode, encrypts pushes exactly as WeChat does, and reads the account's
// answers as WeChat would. Set its fields before use; it is then safe for
// concurrent use.
type Platform struct {
	CallbackURL    string
	Token          string
	AppID          string
	EncodingAESKey string
	// Safe selects safe mode (安全模式): encrypted bodies, msg_signature, and
	// encrypted passive replies required. Otherwise plaintext mode.
	Safe bool
	// AccountID is the account's original id (原始ID), the ToUserName of
	// every push. NewPlatform derives a gh_… id from the appid.
	AccountID string
	// Timeout is how long WeChat waits for an answer: 5 s.
	Timeout time.Duration
	// Tries is how many times SendWithRetries pushes a message that gets no
	// answer in time: 3.
	Tries int
	// Server, when set, is told about every message sent (opening its
	// customer-service windows as WeChat would) and records the passive
	// replies and notices that reach the user.
	Server *Server
	// Client sends the pushes; nil means a plain *http.Client.
	Client *http.Client
	// Now is the clock of CreateTime and of the signed timestamp; nil
	// means the Server's clock when linked, else time.Now. The account
	// compares the timestamp with its own clock, so tests that move the
	// Server's clock give the account the same clock.
	Now func() time.Time
}

// NewPlatform returns a Platform pushing to callbackURL with the account's
// Token, appid and EncodingAESKey, in safe mode when safe is set.
func NewPlatform(callbackURL, token, appID, encodingAESKey string, safe bool) *Platform {
	sum := sha1.Sum([]byte(appID))
	return &Platform{
		CallbackURL:    callbackURL,
		Token:          token,
		AppID:          appID,
		EncodingAESKey: encodingAESKey,
		Safe:           safe,
		AccountID:      "gh_" + hex.EncodeToString(sum[:])[:12],
		Timeout:        5 * time.Second,
		Tries:          3,
	}
}

var lastMsgID atomic.Int64

func init() {
	// 17-digit ids like the ones WeChat has issued since 2020, increasing.
	lastMsgID.Store(24_500_000_000_000_000 + rand.Int64N(1_000_000_000_000))
}

func nextMsgID() int64 { return lastMsgID.Add(1 + rand.Int64N(4096)) }

// Prepare fills what WeChat sets on a push: ToUserName, CreateTime and, for
// messages, a new MsgId (and an image's PicUrl from the linked Server).
func (p *Platform) Prepare(msg Inbound) Inbound {
	if msg.ToUserName == "" {
		msg.ToUserName = p.AccountID
	}
	if msg.CreateTime == 0 {
		msg.CreateTime = p.now().Unix()
	}
	if !msg.IsEvent() && msg.MsgID == 0 {
		msg.MsgID = nextMsgID()
	}
	if msg.MsgType == MsgTypeImage && msg.PicURL == "" && p.Server != nil {
		msg.PicURL = p.Server.PicURL(msg.MediaID)
	}
	return msg
}

func (p *Platform) now() time.Time {
	switch {
	case p.Now != nil:
		return p.Now()
	case p.Server != nil:
		return p.Server.Now()
	}
	return time.Now()
}

// Tamper alters one push to make it invalid, to test that the account
// rejects it. A tampered push is not reported to the linked Server.
type Tamper func(*push)

type push struct {
	timestamp    time.Time
	badSignature bool
	badMsgSig    bool
	noSignature  bool
	malformed    bool
	padTo        int
	appID        string
	stale        bool
	body         []byte // plaintext XML replacing the message's
	tampered     bool
}

// WrongSignature signs with another token.
func WrongSignature() Tamper { return func(q *push) { q.badSignature = true } }

// NoSignature leaves out the signature parameter.
func NoSignature() Tamper { return func(q *push) { q.noSignature = true } }

// WrongMsgSignature gives a correct signature but a wrong msg_signature
// (safe mode).
func WrongMsgSignature() Tamper { return func(q *push) { q.badMsgSig = true } }

// StaleTimestamp signs, correctly, a timestamp age in the past (a replay).
func StaleTimestamp(age time.Duration) Tamper {
	return func(q *push) { q.timestamp, q.stale = time.Now().Add(-age), true }
}

// MalformedXML cuts the body in half after signing it.
func MalformedXML() Tamper { return func(q *push) { q.malformed = true } }

// OversizeBody pads the body with an XML comment to at least n bytes; the
// signatures stay valid.
func OversizeBody(n int) Tamper { return func(q *push) { q.padTo = n } }

// ForeignAppID encrypts for another appid (safe mode), with valid
// signatures.
func ForeignAppID(appID string) Tamper { return func(q *push) { q.appID = appID } }

// BodyXML pushes xml instead of the message's own XML (encrypted and signed
// as usual), e.g. a message type the account does not know. It is not
// tampering: the linked Server still records the message.
func BodyXML(xml []byte) Tamper {
	return func(q *push) { q.body = xml }
}

func (p *Platform) newPush(tamper []Tamper) *push {
	q := &push{timestamp: p.now(), appID: p.AppID}
	for _, t := range tamper {
		t(q)
	}
	q.tampered = q.badSignature || q.noSignature || q.badMsgSig || q.malformed || q.padTo > 0 || q.stale || q.appID != p.AppID
	return q
}

func nonce() string { return strconv.FormatInt(1_000_000_000+rand.Int64N(1_000_000_000), 10) }

func (p *Platform) signature(q *push, ts, n string) string {
	if q.badSignature {
		return Signature(p.Token+"-wrong", ts, n)
	}
	return Signature(p.Token, ts, n)
}

// NewRequest returns the signed POST that WeChat would send for msg (after
// Prepare), for tests that call the account's handler directly.
func (p *Platform) NewRequest(ctx context.Context, msg Inbound, tamper ...Tamper) (*http.Request, error) {
	return p.newRequest(ctx, p.Prepare(msg), p.newPush(tamper))
}

func (p *Platform) newRequest(ctx context.Context, msg Inbound, q *push) (*http.Request, error) {
	ts := strconv.FormatInt(q.timestamp.Unix(), 10)
	n := nonce()
	plain := q.body
	if plain == nil {
		plain = msg.XML()
	}
	query := []string{}
	if !q.noSignature {
		query = append(query, "signature="+p.signature(q, ts, n))
	}
	query = append(query, "timestamp="+ts, "nonce="+n, "openid="+url.QueryEscape(msg.FromUserName))
	body := plain
	if p.Safe {
		var msgSig string
		var err error
		body, msgSig, err = SealRequest(plain, msg.ToUserName, p.Token, q.appID, p.EncodingAESKey, ts, n)
		if err != nil {
			return nil, err
		}
		if q.badMsgSig {
			msgSig = Signature(p.Token+"-wrong", ts, n)
		}
		query = append(query, "encrypt_type=aes", "msg_signature="+msgSig)
	}
	if q.padTo > len(body) {
		pad := "<!--" + strings.Repeat("x", max(q.padTo-len(body)-7, 1)) + "-->"
		i := bytes.LastIndex(body, []byte("</xml>"))
		body = append(append(append([]byte(nil), body[:i]...), pad...), body[i:]...)
	}
	if q.malformed {
		body = body[:len(body)/2]
	}
	u, err := withQuery(p.CallbackURL, strings.Join(query, "&"))
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("User-Agent", "Mozilla/4.0")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Pragma", "no-cache")
	return req, nil
}

func withQuery(base, query string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("wechattest: callback URL: %w", err)
	}
	if u.RawQuery != "" {
		query = u.RawQuery + "&" + query
	}
	u.RawQuery = query
	return u.String(), nil
}

func (p *Platform) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	return http.DefaultClient
}

// Send pushes msg once, as WeChat does, and returns the account's answer.
// If none comes within Timeout the request is abandoned (the account's
// handler sees its context cancelled) and the error wraps ErrTimeout; see
// SendWithRetries for what WeChat does next. Without tampering, the linked
// Server learns of the message first, and records the passive reply (or the
// notice an invalid answer makes WeChat show) afterwards.
func (p *Platform) Send(ctx context.Context, msg Inbound, tamper ...Tamper) (*Reply, error) {
	q := p.newPush(tamper)
	msg = p.Prepare(msg)
	p.record(msg, q)
	r, err := p.attempt(ctx, msg, q)
	if err == nil && !q.tampered && p.Server != nil {
		p.Server.recordDelivery(msg, r)
	}
	return r, err
}

func (p *Platform) record(msg Inbound, q *push) {
	if !q.tampered && p.Server != nil {
		p.Server.RecordInbound(msg)
	}
}

func (p *Platform) attempt(ctx context.Context, msg Inbound, q *push) (*Reply, error) {
	actx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	req, err := p.newRequest(actx, msg, q)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := p.client().Do(req)
	if err == nil {
		var body []byte
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			r := p.ParseReply(msg, resp.StatusCode, body)
			r.Header, r.Elapsed = resp.Header, time.Since(start)
			return r, nil
		}
	}
	if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w (%v): %w", ErrTimeout, p.timeout(), err)
	}
	return nil, fmt.Errorf("wechattest: push: %w", err)
}

func (p *Platform) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return 5 * time.Second
}

// Attempt is one try of SendWithRetries.
type Attempt struct {
	Reply    *Reply // nil when there was no answer
	Err      error
	TimedOut bool
	Elapsed  time.Duration
}

// SendWithRetries pushes msg as WeChat does: when no answer comes within
// Timeout it abandons the request and pushes the same message (same MsgId,
// same CreateTime, fresh nonce and signature) again, Tries times in all. It
// returns every attempt; the last one is the answer WeChat used. The error
// is only for a cancelled ctx or a push that cannot be built. With a linked
// Server, the user's message is recorded once, and then the reply that
// reached the user, or the notice WeChat shows when every try failed or the
// answer was invalid.
func (p *Platform) SendWithRetries(ctx context.Context, msg Inbound) ([]Attempt, error) {
	q := p.newPush(nil)
	msg = p.Prepare(msg)
	p.record(msg, q)
	tries := p.Tries
	if tries <= 0 {
		tries = 3
	}
	var attempts []Attempt
	for range tries {
		start := time.Now()
		r, err := p.attempt(ctx, msg, q)
		a := Attempt{Reply: r, Err: err, TimedOut: errors.Is(err, ErrTimeout), Elapsed: time.Since(start)}
		attempts = append(attempts, a)
		if ctx.Err() != nil {
			return attempts, fmt.Errorf("wechattest: send: %w", ctx.Err())
		}
		if err == nil {
			break
		}
	}
	if p.Server != nil {
		p.Server.recordDelivery(msg, attempts[len(attempts)-1].Reply)
	}
	return attempts, nil
}

// Verification is the outcome of the URL check.
type Verification struct {
	Echostr string // sent
	Status  int
	Body    string
	// OK: the account answered 200 with exactly the echostr.
	OK bool
}

// Verify performs the GET check WeChat makes when the callback URL is
// configured: signature, echostr, timestamp and nonce in the query (in every
// mode); the account must echo echostr.
func (p *Platform) Verify(ctx context.Context, tamper ...Tamper) (*Verification, error) {
	q := p.newPush(tamper)
	ts := strconv.FormatInt(q.timestamp.Unix(), 10)
	n := nonce()
	echo := strconv.FormatInt(1_000_000_000_000_000_000+rand.Int64N(8_000_000_000_000_000_000), 10)
	query := []string{}
	if !q.noSignature {
		query = append(query, "signature="+p.signature(q, ts, n))
	}
	query = append(query, "echostr="+echo, "timestamp="+ts, "nonce="+n)
	u, err := withQuery(p.CallbackURL, strings.Join(query, "&"))
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("wechattest: verify: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("wechattest: verify: %w", err)
	}
	return &Verification{Echostr: echo, Status: resp.StatusCode, Body: string(body),
		OK: resp.StatusCode == http.StatusOK && string(body) == echo}, nil
}
