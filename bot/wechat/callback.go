package wechat

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"

	"github.com/aftersales/aftersales/bot"
)

// CallbackPath is where WeChat's callbacks are served: the URL (服务器地址)
// of the account's server configuration ends with it.
const CallbackPath = "/wechat/callback"

// maxCallbackBytes bounds a callback's body; WeChat's messages are a few KiB,
// a little more encrypted.
const maxCallbackBytes = 256 << 10

// errUnauthorized is a callback whose signature is missing or wrong, or whose
// timestamp is too far from now.
var errUnauthorized = errors.New("wechat: callback not signed by WeChat")

// CallbackHandler serves WeChat's callbacks at CallbackPath.
//
// Every request must carry WeChat's signature of the Token, its timestamp and
// nonce, and a timestamp within MaxClockSkew of now; both are checked, in
// constant time, before the body is read: otherwise 401. A GET (the URL check
// of the server configuration) is answered with its echostr. A POST's body
// is read up to 256 KiB (413 beyond); in safe mode it must be encrypted, its
// msg_signature is checked (401) and it is decrypted; what is not a message
// of WeChat's XML is answered 400.
//
// A message is handed to ProcessFunc, and the callback waits up to
// PassiveBudget for the first reply, which it returns as the passive reply
// (encrypted in safe mode); later replies, and all of them when the budget
// ran out first, are sent as customer-service messages. A callback with
// nothing to reply is answered "success", in plain text in safe mode too. A
// retry of a message still being handled waits for it in the router (the
// user's lock), finds it handled (the router's dedupe), and is answered
// "success".
func (a *Adapter) CallbackHandler() http.Handler {
	return http.HandlerFunc(a.serveCallback)
}

func (a *Adapter) serveCallback(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if a.cfg.ProcessFunc == nil || a.cfg.Token == "" {
		http.Error(w, "the WeChat callback is not configured", http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	if err := a.verify(q); err != nil {
		a.log.Warn("wechat: callback refused", "reason", err, "remote_addr", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodGet {
		echo := q.Get("echostr")
		if echo == "" {
			http.Error(w, "no echostr", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = io.WriteString(w, echo)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	raw, safe, err := a.open(q, body)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errUnauthorized) {
			status = http.StatusUnauthorized
		}
		a.log.Warn("wechat: callback refused", "reason", err, "remote_addr", r.RemoteAddr)
		http.Error(w, http.StatusText(status), status)
		return
	}
	var m message.MixMessage
	if err := xml.Unmarshal(raw, &m); err != nil || m.FromUserName == "" || m.MsgType == "" {
		a.log.Warn("wechat: callback is not a message", "error", err)
		http.Error(w, "not a WeChat message", http.StatusBadRequest)
		return
	}
	a.handle(w, r, &m, safe, start)
}

// verify checks the signature of the Token, timestamp and nonce, and that
// the timestamp is recent.
func (a *Adapter) verify(q url.Values) error {
	ts, sig := q.Get("timestamp"), q.Get("signature")
	if ts == "" || sig == "" {
		return errUnauthorized
	}
	if !equal(sig, util.Signature(a.cfg.Token, ts, q.Get("nonce"))) {
		return errUnauthorized
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errUnauthorized
	}
	if skew := a.now().Sub(time.Unix(sec, 0)); skew > a.cfg.MaxClockSkew || skew < -a.cfg.MaxClockSkew {
		return errors.Join(errUnauthorized, errors.New("timestamp "+skew.Round(time.Second).String()+" away from now"))
	}
	return nil
}

// equal compares a signature in constant time.
func equal(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// open returns the message XML of a callback body: the body itself in plain
// mode; in safe mode the decrypted Encrypt element, after its msg_signature
// was checked. It reports whether the callback was encrypted.
func (a *Adapter) open(q url.Values, body []byte) ([]byte, bool, error) {
	encrypted := q.Get("encrypt_type") == "aes"
	if a.cfg.EncodingAESKey == "" {
		if encrypted {
			return nil, false, errors.New("wechat: an encrypted callback, but no EncodingAESKey is configured")
		}
		return body, false, nil
	}
	if !encrypted {
		// In plain mode the signature does not cover the body.
		return nil, false, errors.New("wechat: a plaintext callback, but the account is in safe mode")
	}
	var env message.EncryptedXMLMsg
	if err := xml.Unmarshal(body, &env); err != nil || env.EncryptedMsg == "" {
		return nil, true, errors.New("wechat: no Encrypt element in the callback")
	}
	want := util.Signature(a.cfg.Token, q.Get("timestamp"), q.Get("nonce"), env.EncryptedMsg)
	if !equal(q.Get("msg_signature"), want) {
		return nil, true, errUnauthorized
	}
	_, raw, err := util.DecryptMsg(a.cfg.AppID, env.EncryptedMsg, a.cfg.EncodingAESKey)
	if err != nil {
		return nil, true, errors.New("wechat: the callback cannot be decrypted")
	}
	return raw, true, nil
}

// handle hands a message to the router and answers the callback: with the
// first reply when it comes within the budget, else "success".
func (a *Adapter) handle(w http.ResponseWriter, r *http.Request, m *message.MixMessage, safe bool, start time.Time) {
	now := a.now()
	in, grant := a.inbound(r.Context(), m, now)
	user := string(m.FromUserName)
	if grant != nil {
		if err := a.cfg.Windows.Open(r.Context(), user, *grant); err != nil {
			a.log.Warn("wechat: recording the customer-service window failed", "user_id", user, "error", err)
		}
	}
	if in == nil {
		writeSuccess(w)
		return
	}
	if in.Kind == bot.KindUnfollow {
		if err := a.cfg.Windows.Close(r.Context(), user); err != nil {
			a.log.Warn("wechat: closing the customer-service window failed", "user_id", user, "error", err)
		}
	}

	a.mu.Lock()
	if a.stopping {
		a.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	a.inflight.Add(1)
	a.mu.Unlock()
	budget := time.NewTimer(a.cfg.PassiveBudget - time.Since(start))
	defer budget.Stop()
	select {
	case a.slots <- struct{}{}:
	case <-budget.C:
		a.inflight.Done()
		a.log.Warn("wechat: too many messages in flight; WeChat will retry", "user_id", user)
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}

	x := &exchange{waiting: true, reply: make(chan unit, 1), written: make(chan struct{})}
	defer x.finish()
	done := make(chan error, 1)
	go func() {
		defer a.inflight.Done()
		defer func() { <-a.slots }()
		ctx, cancel := context.WithTimeout(a.life, a.cfg.ProcessTimeout)
		defer cancel()
		a.withLanguage(ctx, in)
		err := a.cfg.ProcessFunc(ctx, in, a.sendFunc(x, in.User))
		if err != nil {
			a.log.Error("wechat message not handled", "user_id", user, "message_id", in.MessageID, "kind", in.Kind, "error", err)
		}
		done <- err
	}()

	select {
	case u := <-x.reply:
		if u.text == "" { // a photo first: everything goes as customer-service messages
			writeSuccess(w)
			return
		}
		x.passive = a.writeReply(w, r, m, u.text, safe)
	case err := <-done:
		x.abandon()
		if err != nil {
			// Nothing was handled or said: WeChat's retry may do better.
			http.Error(w, "not handled", http.StatusInternalServerError)
			return
		}
		writeSuccess(w)
	case <-budget.C:
		if u, ok := x.abandon(); ok && u.text != "" {
			x.passive = a.writeReply(w, r, m, u.text, safe)
			return
		}
		a.log.Debug("wechat: replies go as customer-service messages", "user_id", user, "message_id", in.MessageID)
		writeSuccess(w)
	case <-r.Context().Done():
		x.abandon() // WeChat gave up: the replies go as customer-service messages
	}
}

// exchange hands the first reply of a message from the router's send to
// the callback still waiting for it.
type exchange struct {
	mu      sync.Mutex
	waiting bool      // the callback still waits for a reply
	reply   chan unit // the reply handed over; buffered
	written chan struct{}
	passive bool // the reply was written as the passive reply; set before written is closed
	once    sync.Once
}

// offer hands u to the callback if it still waits.
func (x *exchange) offer(u unit) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.waiting {
		return false
	}
	x.waiting = false
	x.reply <- u
	return true
}

// abandon stops the waiting; it returns the reply offered meanwhile, if
// one was.
func (x *exchange) abandon() (unit, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.waiting {
		x.waiting = false
		return unit{}, false
	}
	select {
	case u := <-x.reply:
		return u, true
	default:
		return unit{}, false
	}
}

// finish tells the sender that the callback has answered.
func (x *exchange) finish() { x.once.Do(func() { close(x.written) }) }

// sendFunc is the bot.SendFunc of one callback: the first reply goes to the
// waiting callback as the passive reply; the rest, or everything once the
// callback answered, as customer-service messages, after the passive reply
// was written so that they arrive after it.
func (a *Adapter) sendFunc(x *exchange, to bot.UserRef) bot.SendFunc {
	return func(ctx context.Context, out []bot.Outbound) error {
		a.rememberOptions(ctx, out)
		units := pack(out)
		if len(units) == 0 {
			return nil
		}
		first := units[0]
		if first.blobKey != "" {
			first = unit{} // a passive reply carries no uploaded photo: answer "success" at once
		}
		if x.offer(first) {
			select {
			case <-x.written:
			case <-ctx.Done():
				return ctx.Err()
			}
			if x.passive {
				units = units[1:]
				if len(units) > 0 {
					// Give WeChat a moment to show the passive reply first.
					if err := sleep(ctx, followUpDelay); err != nil {
						return err
					}
				}
			}
		}
		return a.deliver(ctx, to, units)
	}
}

// followUpDelay separates a passive reply from the customer-service
// messages that follow it: WeChat shows the passive reply once it has read
// the answer, which the messages sent through the API could otherwise
// overtake.
const followUpDelay = 300 * time.Millisecond

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// writeReply writes text as the passive reply to m, encrypted in safe mode.
// It reports whether it was written; when WeChat has hung up, or the reply
// cannot be built, it answers "success" if it can and returns false.
func (a *Adapter) writeReply(w http.ResponseWriter, r *http.Request, m *message.MixMessage, text string, safe bool) bool {
	if r.Context().Err() != nil {
		return false
	}
	now := a.now().Unix()
	reply := message.NewText(text)
	reply.SetToUserName(m.FromUserName)
	reply.SetFromUserName(m.ToUserName)
	reply.SetCreateTime(now)
	reply.SetMsgType(message.MsgTypeText)
	raw, err := xml.Marshal(reply)
	if err == nil && safe {
		raw, err = a.encrypt(raw, now)
	}
	if err != nil {
		a.log.Error("wechat: passive reply not built", "error", err)
		writeSuccess(w)
		return false
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	if _, err := w.Write(raw); err != nil {
		return false
	}
	// Out now, so that the customer-service messages that follow arrive
	// after it.
	_ = http.NewResponseController(w).Flush()
	return true
}

// encrypt wraps a reply for safe mode: AES of a fresh random, the XML and
// the AppID, signed with the Token, a timestamp and a fresh nonce.
func (a *Adapter) encrypt(raw []byte, now int64) ([]byte, error) {
	random := make([]byte, 16)
	_, _ = rand.Read(random)
	enc, err := util.EncryptMsg(random, raw, a.cfg.AppID, a.cfg.EncodingAESKey)
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(now, 10)
	nonce := rand.Text()[:10]
	return xml.Marshal(message.ResponseEncryptedXMLMsg{
		EncryptedMsg: string(enc),
		MsgSignature: util.Signature(a.cfg.Token, ts, nonce, string(enc)),
		Timestamp:    now,
		Nonce:        nonce,
	})
}

// writeSuccess answers a callback that has no passive reply: WeChat then
// neither retries nor shows the user an error. Always plain text: in safe
// mode too.
func writeSuccess(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "success")
}
