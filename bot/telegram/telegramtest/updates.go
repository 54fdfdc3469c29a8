package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

type queuedUpdate struct {
	id   int
	data json.RawMessage
}

// allUpdateTypes are the update types of the Bot API; all but the last
// three are delivered by default (allowed_updates not given or empty).
var allUpdateTypes = []string{
	"message", "edited_message", "channel_post", "edited_channel_post",
	"business_connection", "business_message", "edited_business_message", "deleted_business_messages",
	"inline_query", "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query",
	"purchased_paid_media", "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost",
	"removed_chat_boost",
	"chat_member", "message_reaction", "message_reaction_count",
}

func isDefaultAllowed(typ string) bool {
	return typ != "chat_member" && typ != "message_reaction" && typ != "message_reaction_count"
}

// updateAllowedLocked applies an allowed_updates parameter like the Bot
// API: a JSON array of known type names replaces the set, an empty array or
// one of unknown names only restores the default, anything else (absent,
// null, not an array) leaves the set unchanged. It affects only updates
// created afterwards.
func (s *Server) updateAllowedLocked(raw string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return
	}
	var names []any
	if err := json.Unmarshal([]byte(raw), &names); err != nil || names == nil {
		return
	}
	set := map[string]bool{}
	for _, n := range names {
		str, isStr := n.(string)
		if !isStr {
			return
		}
		str = strings.ToLower(str)
		if slices.Contains(allUpdateTypes, str) {
			set[str] = true
		}
	}
	if len(set) == 0 {
		s.allowed = nil
		return
	}
	s.allowed = set
}

func (s *Server) allowedLocked(typ string) bool {
	if s.allowed == nil {
		return isDefaultAllowed(typ)
	}
	return s.allowed[typ]
}

// enqueueLocked queues an update of the type unless the bot did not ask
// for that type, and returns its id (0 when not queued). The update's JSON
// is fixed now, as Telegram serialises an update when it creates it.
func (s *Server) enqueueLocked(typ string, fill func(u *wireUpdate)) int {
	if !s.allowedLocked(typ) {
		return 0
	}
	id := s.nextUpdateID
	s.nextUpdateID++
	u := &wireUpdate{UpdateID: id}
	fill(u)
	data, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	s.queue = append(s.queue, queuedUpdate{id: id, data: data})
	s.allUpdates[id] = data
	s.everQueued = true
	s.notifyLocked()
	return id
}

// PendingUpdates returns how many updates are queued and not yet confirmed
// (by a getUpdates with a higher offset) or delivered to the webhook.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Update returns the JSON of an update the server created, by id.
func (s *Server) Update(updateID int) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.allUpdates[updateID]
	return u, ok
}

// SetRepeatPollDelay sets the Bot API's guard against busy polling: a
// getUpdates with the same offset as the previous one, started less than
// this after it, with a timeout under this, waits up to this long for
// updates (the real API uses 3 s, the default). 0 switches it off.
func (s *Server) SetRepeatPollDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pollRepeat = d
}

// collectLocked is do_get_updates' reading of the queue: offset ≤ 0 starts
// at the first pending update (a negative offset counts from the end and
// forgets the updates before), a positive offset confirms — forgets — every
// update below it, unless it is more than 10 past the next update id, when
// it is ignored and the queue is read from its head.
func (s *Server) collectLocked(offset, limit int) []json.RawMessage {
	tail := s.nextUpdateID
	head := tail
	if len(s.queue) > 0 {
		head = s.queue[0].id
	}
	if offset <= 0 {
		if s.everQueued && offset < 0 {
			offset += tail
		}
		if s.everQueued && offset < head {
			offset = head
		}
	}
	if offset <= 0 {
		return nil
	}
	from := offset
	if offset > tail+10 {
		from = head
	} else {
		i := 0
		for i < len(s.queue) && s.queue[i].id < offset {
			i++
		}
		if i > 0 {
			s.queue = slices.Delete(s.queue, 0, i)
			s.notifyLocked()
		}
	}
	var out []json.RawMessage
	for _, u := range s.queue {
		if u.id >= from && len(out) < limit {
			out = append(out, u.data)
		}
	}
	return out
}

const (
	conflictWebhookActive = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	conflictOtherPoll     = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	conflictSetWebhook    = "Conflict: terminated by setWebhook request"
)

func (s *Server) hGetUpdates(ctx context.Context, p *params) result {
	s.mu.Lock()
	if s.hook != nil {
		s.mu.Unlock()
		return fail(&apiError{Code: 409, Description: conflictWebhookActive})
	}
	offset := p.intArg("offset", 0, -1<<31, 1<<31-1)
	limit := p.intArg("limit", 100, 1, 100)
	wait := time.Duration(p.intArg("timeout", 0, 0, longPollMaxWait)) * time.Second
	s.updateAllowedLocked(p.get("allowed_updates"))
	now := time.Now()
	if s.pollRepeat > 0 && offset == s.prevPollOffset && wait < s.pollRepeat && now.Before(s.prevPollStart.Add(s.pollRepeat)) {
		wait = s.pollRepeat
	}
	s.prevPollOffset, s.prevPollStart = offset, now

	updates := s.collectLocked(offset, limit)
	if len(updates) > 0 || wait == 0 || s.closed {
		s.mu.Unlock()
		return ok(nonNil(updates))
	}
	// Long poll: this request replaces any other one waiting.
	s.pollGen++
	s.pollAbortMsg = conflictOtherPoll
	gen := s.pollGen
	s.notifyLocked()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		ch := s.changed
		s.mu.Unlock()
		expired := false
		select {
		case <-ch:
		case <-timer.C:
			expired = true
		case <-ctx.Done():
			return result{aborted: true}
		case <-s.closedCh:
		}
		s.mu.Lock()
		if ctx.Err() != nil {
			// The client went away as another poll came: what it would
			// have been answered reaches nobody, and is not recorded.
			s.mu.Unlock()
			return result{aborted: true}
		}
		if s.pollGen != gen {
			msg := s.pollAbortMsg
			s.mu.Unlock()
			return fail(&apiError{Code: 409, Description: msg})
		}
		if s.closed {
			s.mu.Unlock()
			return ok([]json.RawMessage{})
		}
		updates = s.collectLocked(offset, limit)
		if len(updates) > 0 || expired {
			s.mu.Unlock()
			return ok(nonNil(updates))
		}
	}
}

func nonNil(u []json.RawMessage) []json.RawMessage {
	if u == nil {
		return []json.RawMessage{}
	}
	return u
}

// ---- webhook ----

type webhook struct {
	url     string
	secret  string
	maxConn int
	cancel  context.CancelFunc
	done    chan struct{}
}

// SetWebhookCooldown sets how soon a setWebhook with a URL may follow the
// previous one before it is refused with 429 "retry after 1" (the real
// API: 1 s, the default). 0 switches it off.
func (s *Server) SetWebhookCooldown(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookCooldown = d
	s.nextHookSetAt = time.Time{}
}

// SetWebhookTimeout sets how long a webhook delivery may take before it
// counts as failed (default 5 s).
func (s *Server) SetWebhookTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookTimeout = d
}

// SetWebhookRetry sets the backoff between failed deliveries of an update:
// the first wait, doubled after each further failure up to max (defaults
// 50 ms and 1 s). Delivery is retried until it succeeds or the webhook is
// deleted.
func (s *Server) SetWebhookRetry(initial, max time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookBackoff, s.hookMaxBack = initial, max
}

// Webhook returns the webhook URL and secret token set, empty if none.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hook == nil {
		return "", ""
	}
	return s.hook.url, s.hook.secret
}

// WebhookDeliveries returns every attempt to deliver an update to a
// webhook, in order.
func (s *Server) WebhookDeliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

func validSecretToken(t string) bool {
	if len(t) > 256 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; !(isAlnumByte(c) || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (s *Server) hSetWebhook(ctx context.Context, p *params) result {
	return s.setWebhook(p, p.get("url"))
}

func (s *Server) hDeleteWebhook(ctx context.Context, p *params) result {
	return s.setWebhook(p, "")
}

// setWebhook follows Client::process_set_webhook_query: flood control for
// setting a URL, "already set/deleted" when nothing changes, the long poll
// terminated, the old webhook closed before the new URL is checked (so a
// bad URL leaves no webhook), pending updates dropped on request.
func (s *Server) setWebhook(p *params, newURL string) result {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()

	s.mu.Lock()
	now := time.Now()
	if newURL != "" {
		if s.hookCooldown > 0 && now.Before(s.nextHookSetAt) {
			s.mu.Unlock()
			return fail(tooManyRequests(1))
		}
		s.nextHookSetAt = now.Add(s.hookCooldown)
	}
	maxConn, secret := 0, ""
	if newURL != "" {
		maxConn = p.intArg("max_connections", 40, 1, 100)
		secret = p.get("secret_token")
	}
	drop := toBool(p.get("drop_pending_updates"))
	cur := s.hook
	if cur == nil && newURL == "" && !drop {
		s.mu.Unlock()
		return okDesc(true, "Webhook is already deleted")
	}
	if cur != nil && cur.url == newURL && cur.secret == secret && cur.maxConn == maxConn && !drop {
		s.updateAllowedLocked(p.get("allowed_updates"))
		s.mu.Unlock()
		return okDesc(true, "Webhook is already set")
	}
	if newURL != "" {
		s.pollGen++
		s.pollAbortMsg = conflictSetWebhook
	}
	s.hook = nil
	s.notifyLocked()
	s.mu.Unlock()
	if cur != nil {
		cur.cancel()
		<-cur.done
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if drop {
		s.queue = nil
	}
	s.hookErrDate, s.hookErrMsg = 0, ""
	s.notifyLocked()
	if newURL == "" {
		if cur != nil {
			return okDesc(true, "Webhook was deleted")
		}
		return okDesc(true, "Webhook is already deleted")
	}
	u, err := url.Parse(newURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fail(badRequest("Invalid webhook URL specified"))
	}
	if !validSecretToken(secret) {
		return fail(badRequest("Secret token contains unallowed characters"))
	}
	s.updateAllowedLocked(p.get("allowed_updates"))
	if s.closed {
		return okDesc(true, "Webhook was set")
	}
	hctx, cancel := context.WithCancel(context.Background())
	h := &webhook{url: newURL, secret: secret, maxConn: maxConn, cancel: cancel, done: make(chan struct{})}
	s.hook = h
	go s.deliver(hctx, h)
	return okDesc(true, "Webhook was set")
}

func (s *Server) hGetWebhookInfo(ctx context.Context, p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := wireWebhookInfo{PendingUpdateCount: len(s.queue)}
	if s.hook != nil {
		info.URL = s.hook.url
		info.MaxConnections = s.hook.maxConn
		info.IPAddress = "127.0.0.1"
		info.LastErrorDate, info.LastErrorMessage = s.hookErrDate, s.hookErrMsg
	}
	if s.allowed != nil {
		for _, t := range allUpdateTypes {
			if s.allowed[t] {
				info.AllowedUpdates = append(info.AllowedUpdates, t)
			}
		}
	}
	return ok(info)
}

// deliver posts the pending updates to the webhook one at a time, oldest
// first; an update leaves the queue when the webhook answers 2xx, else it
// is retried after a backoff. It stops when the webhook is replaced or
// deleted, or the server closes.
func (s *Server) deliver(ctx context.Context, h *webhook) {
	defer close(h.done)
	s.mu.Lock()
	backoff := s.hookBackoff
	s.mu.Unlock()
	attempts := map[int]int{}
	for {
		s.mu.Lock()
		ch := s.changed
		var next *queuedUpdate
		if len(s.queue) > 0 {
			q := s.queue[0]
			next = &q
		}
		timeout, initial, maxBack := s.hookTimeout, s.hookBackoff, s.hookMaxBack
		s.mu.Unlock()
		if next == nil {
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return
			}
		}
		attempts[next.id]++
		d := Delivery{UpdateID: next.id, Attempt: attempts[next.id], Secret: h.secret, Time: time.Now()}
		status, errText, reply, replyType := s.post(ctx, h, next.data, timeout)
		if ctx.Err() != nil {
			return // deleted or closed mid-delivery: the update stays queued
		}
		d.Status, d.Error, d.Duration = status, errText, time.Since(d.Time)
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		success := status >= 200 && status < 300
		if success {
			if i := slices.IndexFunc(s.queue, func(q queuedUpdate) bool { return q.id == next.id }); i >= 0 {
				s.queue = slices.Delete(s.queue, i, i+1)
			}
			delete(attempts, next.id)
		} else {
			s.hookErrDate = time.Now().Unix()
			if status != 0 {
				s.hookErrMsg = fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
			} else {
				s.hookErrMsg = errText
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
		if success {
			backoff = initial
			s.runWebhookReply(reply, replyType)
			continue
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, maxBack)
	}
}

func (s *Server) post(ctx context.Context, h *webhook, body []byte, timeout time.Duration) (int, string, []byte, string) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error(), nil, ""
	}
	req.Header.Set("Content-Type", "application/json")
	if h.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", h.secret)
	}
	resp, err := (&http.Client{Transport: s.hookHTTP}).Do(req)
	if err != nil {
		return 0, describeNetError(err), nil, ""
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, "", reply, resp.Header.Get("Content-Type")
}

// describeNetError words a failed delivery as getWebhookInfo's
// last_error_message does.
func describeNetError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "Read timeout expired"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Connection refused"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "Read timeout expired"
	}
	return err.Error()
}

// runWebhookReply performs a method the bot put in its answer to a webhook
// delivery ("Making requests when getting updates"): a JSON object or form
// with a "method" field and the method's parameters. Its result goes
// nowhere, as on Telegram; it is recorded as a Request.
func (s *Server) runWebhookReply(body []byte, contentType string) {
	if len(bytes.TrimSpace(body)) == 0 {
		return
	}
	ct, _, _ := mime.ParseMediaType(contentType)
	p := &params{vals: map[string]string{}, files: map[string]*upload{}}
	switch ct {
	case "application/json":
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil {
			return
		}
		for k, raw := range obj {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				p.vals[k] = str
			} else if string(raw) != "null" {
				p.vals[k] = string(raw)
			}
		}
	case "application/x-www-form-urlencoded":
		vs, err := url.ParseQuery(string(body))
		if err != nil {
			return
		}
		for k, v := range vs {
			p.vals[k] = v[len(v)-1]
		}
	default:
		return
	}
	method := p.vals["method"]
	if method == "" {
		return
	}
	delete(p.vals, "method")
	name := canonical(method)
	switch name {
	case "setWebhook", "deleteWebhook":
		// these wait for the delivery goroutine, which is running us: go
		// on without them, as Telegram runs webhook answers on its own
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.runReplyMethod(name, method, p)
		}()
		return
	}
	s.runReplyMethod(name, method, p)
}

func (s *Server) runReplyMethod(name, method string, p *params) {
	start := time.Now()
	s.mu.Lock()
	s.calls[name]++
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a method in a webhook answer never long-polls
	res := s.dispatch(ctx, method, p)
	status, _, _ := res.encode()
	s.record(name, p, start, res, status, true)
}
