package web

import "net/http"

// SetWaitHook makes every poll call f when it starts waiting for a message,
// so that a test knows the poll is parked without sleeping.
func (c *Channel) SetWaitHook(f func()) { c.waitHook.Store(&f) }

// CookieFor returns the cookie the service would issue to visitor id.
func (c *Channel) CookieFor(id string) *http.Cookie {
	return &http.Cookie{Name: VisitorCookie, Value: c.signVisitor(id)}
}
