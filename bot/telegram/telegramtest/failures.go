package telegramtest

import (
	"math"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

type injected struct {
	code        int
	description string
	retryAfter  int
	after       bool // the call runs, then the answer is replaced
}

func (i injected) err() *apiError {
	e := &apiError{Code: i.code, Description: i.description, RetryAfter: i.retryAfter}
	switch i.code {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		e.HTML = true
	case http.StatusTooManyRequests:
		if e.RetryAfter <= 0 {
			e.RetryAfter = 1
		}
		if e.Description == "" {
			e.Description = tooManyRequests(e.RetryAfter).Description
		}
	}
	if e.Description == "" {
		switch i.code {
		case 400:
			e.Description = "Bad Request"
		case 401:
			e.Description = "Unauthorized"
		case 403:
			e.Description = errBlocked.Description
		case 404:
			e.Description = "Not Found"
		case 409:
			e.Description = "Conflict"
		case 500:
			e.Description = "Internal Server Error"
		default:
			e.Description = http.StatusText(i.code)
		}
	}
	return e
}

func (s *Server) addFailure(method string, n int, inj injected) {
	key := "*"
	if method != "" && method != "*" {
		key = canonical(method)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[key] = append(s.failures[key], inj)
	}
}

// FailNext makes the next n calls of method (any spelling; "*" or "" for
// any method) answer with an error instead of running, so they have no
// effect. The answer is shaped like the real one:
//   - 429: "Too Many Requests: retry after N" with "parameters":
//     {"retry_after":N} (N = retryAfter, at least 1);
//   - 502, 503, 504: the HTML error page of the proxy in front of the Bot
//     API, not JSON;
//   - any other code: {"ok":false,"error_code":code,"description":…}; an
//     empty description gets the usual one for the code ("Forbidden: bot was
//     blocked by the user" for 403, "Bad Request" for 400, …).
//
// Injected failures are used up in order, before the method's own checks.
func (s *Server) FailNext(method string, n int, code int, description string, retryAfter int) {
	s.addFailure(method, n, injected{code: code, description: description, retryAfter: retryAfter})
}

// FailNextAfterEffect is FailNext for a lost answer: the call runs (the
// message is sent, the callback answered), then its answer is replaced by
// the error — what a client sees when a proxy times out after Telegram
// acted.
func (s *Server) FailNextAfterEffect(method string, n int, code int, description string, retryAfter int) {
	s.addFailure(method, n, injected{code: code, description: description, retryAfter: retryAfter, after: true})
}

func (s *Server) takeFailureWhere(name string, after bool) (injected, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{name, "*"} {
		q := s.failures[key]
		if len(q) > 0 && q[0].after == after {
			s.failures[key] = q[1:]
			return q[0], true
		}
	}
	return injected{}, false
}

func (s *Server) takeFailure(name string) (injected, bool) { return s.takeFailureWhere(name, false) }

func (s *Server) takeFailureAfter(name string) (injected, bool) {
	return s.takeFailureWhere(name, true)
}

// BlockUser makes the user block the bot: every send, edit or chat action
// to their private chat answers 403 "Forbidden: bot was blocked by the
// user", and — as on Telegram — a my_chat_member update (member → kicked) is
// queued if the bot knew the chat. A message from the user (SendText, …)
// unblocks, like restarting the bot does.
func (s *Server) BlockUser(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		c = s.newChatLocked(chatID, "private")
		c.user = User{ID: chatID}
	}
	if c.blocked {
		return
	}
	wasKnown := c.known
	c.known, c.blocked = true, true
	if wasKnown && c.typ == "private" {
		s.queueMemberChangeLocked(c, "member", "kicked")
	}
	s.notifyLocked()
}

// UnblockUser undoes BlockUser (queuing my_chat_member kicked → member).
func (s *Server) UnblockUser(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil && c.blocked {
		s.unblockLocked(c)
	}
}

func (s *Server) unblockLocked(c *chat) {
	c.blocked = false
	s.queueMemberChangeLocked(c, "kicked", "member")
	s.notifyLocked()
}

// EnforceLimits switches on flood control: token buckets of perChatPerSec
// messages a second per chat and globalPerSec a second in all (bursts of
// the rate rounded down, at least 1; 0 switches a bucket off). A send or
// edit that finds a bucket empty is refused with 429 "Too Many Requests:
// retry after N", N the seconds until a token is free, rounded up, and the
// refused call takes no token. Telegram documents about 1 message a second
// per chat and 30 a second in all. Calling it again resets the buckets.
func (s *Server) EnforceLimits(perChatPerSec float64, globalPerSec float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perChatRate, s.globalRate = perChatPerSec, globalPerSec
	s.chatLimiters = map[int64]*rate.Limiter{}
	s.globalLim = nil
	if globalPerSec > 0 {
		s.globalLim = rate.NewLimiter(rate.Limit(globalPerSec), burstFor(globalPerSec))
	}
}

func burstFor(r float64) int { return max(1, int(r)) }

// checkRateLocked takes a token from the chat's and the global bucket, or
// answers 429 and takes none.
func (s *Server) checkRateLocked(chatID int64) *apiError {
	now := time.Now()
	var (
		rs    []*rate.Reservation
		delay time.Duration
	)
	if s.perChatRate > 0 {
		lim := s.chatLimiters[chatID]
		if lim == nil {
			lim = rate.NewLimiter(rate.Limit(s.perChatRate), burstFor(s.perChatRate))
			s.chatLimiters[chatID] = lim
		}
		r := lim.ReserveN(now, 1)
		rs = append(rs, r)
		delay = max(delay, r.DelayFrom(now))
	}
	if s.globalLim != nil {
		r := s.globalLim.ReserveN(now, 1)
		rs = append(rs, r)
		delay = max(delay, r.DelayFrom(now))
	}
	if delay <= 0 {
		return nil
	}
	for _, r := range rs {
		r.CancelAt(now)
	}
	return tooManyRequests(max(1, int(math.Ceil(delay.Seconds()))))
}

// sendChecksLocked are the checks every send and edit to a chat passes after
// its parameters: the user has not blocked the bot, flood control.
func (s *Server) sendChecksLocked(c *chat) *apiError {
	if c.blocked {
		return errBlocked
	}
	return s.checkRateLocked(c.id)
}
