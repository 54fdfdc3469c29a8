package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// The visitor's identity is issued by the server: a random id in a cookie,
// signed so that a client can neither choose its id nor forge another's.
// The cookie is HttpOnly (the page's script never sees it), SameSite=Lax (a
// form posted from another site does not carry it, a link followed from
// WeChat or an SMS does), Secure when the page is served over HTTPS, and
// scoped to the chat page's path.
const (
	// VisitorCookie is the cookie's name.
	VisitorCookie = "aftersales_visitor"
	// visitorMaxAge is how long a browser keeps it: 400 days, the most
	// browsers allow; every visit to the page renews it.
	visitorMaxAge = 400 * 24 * time.Hour
	// CookieKeyBytes is the length of a key for Options.CookieKey.
	CookieKeyBytes = 32
	// macBytes is how much of the HMAC-SHA256 a cookie carries.
	macBytes = 16
)

// NewCookieKey returns a random key for Options.CookieKey.
func NewCookieKey() []byte {
	return []byte(rand.Text() + rand.Text())[:CookieKeyBytes]
}

// signVisitor returns the cookie value of visitor id: the id and its MAC.
func (c *Channel) signVisitor(id string) string {
	return id + "." + c.mac(id)
}

func (c *Channel) mac(id string) string {
	h := hmac.New(sha256.New, c.opts.CookieKey)
	h.Write([]byte("chat visitor\x00" + id))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:macBytes])
}

// visitorOf returns the visitor id of a cookie value, and false when the
// value is not one this service signed.
func (c *Channel) visitorOf(value string) (string, bool) {
	id, sig, ok := strings.Cut(value, ".")
	if !ok || !validVisitor(id) {
		return "", false
	}
	return id, hmac.Equal([]byte(sig), []byte(c.mac(id)))
}

// visitor returns the id of the request's visitor. A request without a
// valid cookie — a first visit, a cleared or forged cookie — is a new
// visitor: an id is drawn and its cookie set on w. renew sets the cookie
// again for a known visitor too, pushing its expiry back.
func (c *Channel) visitor(w http.ResponseWriter, r *http.Request, renew bool) (string, error) {
	if ck, err := r.Cookie(VisitorCookie); err == nil {
		if id, ok := c.visitorOf(ck.Value); ok {
			if renew {
				c.setVisitorCookie(w, r, id)
			}
			return id, nil
		}
	}
	id, err := randomID()
	if err != nil {
		return "", err
	}
	c.setVisitorCookie(w, r, id)
	return id, nil
}

func (c *Channel) setVisitorCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{
		Name:     VisitorCookie,
		Value:    c.signVisitor(id),
		Path:     Path,
		MaxAge:   int(visitorMaxAge / time.Second),
		HttpOnly: true,
		Secure:   c.isHTTPS(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// isHTTPS reports whether the visitor reached the page over HTTPS: the
// request came over TLS, or a trusted proxy says so.
func (c *Channel) isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return c.fromTrustedProxy(r) && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}
