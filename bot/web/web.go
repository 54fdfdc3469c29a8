// Package web is the built-in chat page: a bot.Channel for visitors who have
// neither WeChat nor Telegram. The page (plain HTML, CSS and JavaScript
// embedded in the binary) posts the visitor's messages and uploads, which go
// through the same DispatchFunc (the bot.Router) as the real platforms, and
// long-polls for the replies, which wait in a bot.Mailbox shared by every
// instance of the service: a reply or a notification produced on one
// instance reaches a visitor polling another.
//
// A visitor is identified by a random id the server issues in a signed,
// HttpOnly cookie (see VisitorCookie): the page's script never sees it, and
// a client cannot choose it.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aftersales/aftersales/bot"
)

// Path is where Handler expects to be mounted: mux.Handle(web.Path, ch.Handler()).
const Path = "/chat/"

// Defaults for the zero fields of Options.
const (
	// DefaultMaxUploadBytes is the largest upload request: bot.MaxMediaMB
	// MiB of file plus room for the multipart envelope. A file just over the
	// media limit still gets through, so that the Router's Intake refuses it
	// with a message the visitor can read.
	DefaultMaxUploadBytes = bot.MaxMediaMB<<20 + 64<<10
	// DefaultPollWait is how long a poll waits for a message.
	DefaultPollWait = 25 * time.Second
	// DefaultMaxVisitors bounds the visitors whose messages the default
	// in-memory Mailbox keeps.
	DefaultMaxVisitors = 5000
	// DefaultUploadTTL is how long an upload waits to be fetched.
	DefaultUploadTTL = 5 * time.Minute
	// DefaultDispatchTimeout bounds one call of DispatchFunc.
	DefaultDispatchTimeout = 2 * time.Minute
)

// MaxSendBytes bounds the body of a send request; texts the engine finds too
// long are its business, but a megabyte of text is refused here.
const MaxSendBytes = 64 << 10

// Options configures a Channel. Only DispatchFunc is required.
type Options struct {
	Logger *slog.Logger
	// DispatchFunc handles one inbound message and sends the replies, through
	// the Channel, before it returns: the lead passes bot.Router.Dispatch.
	// It is called synchronously, with a context that outlives the request
	// (a visitor closing the page does not abort a half-handled message).
	DispatchFunc func(ctx context.Context, in *bot.Inbound) error

	// MaxUploadBytes bounds an upload request; default DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// MaxUploadMemory bounds the bytes of all uploads being received or
	// held at once; an upload that would exceed it is refused as busy.
	// Default 8 × MaxUploadBytes.
	MaxUploadMemory int64
	// PollWait is how long a poll waits; default DefaultPollWait.
	PollWait time.Duration
	// Mailbox is where the visitors' messages wait for the page: shared by
	// every instance of the service (storage/redis, or the database). Nil:
	// in this process's memory (bot.NewMemoryMailbox with its defaults and
	// DefaultMaxVisitors), which serves one instance and forgets on restart.
	Mailbox bot.Mailbox
	// CookieKey signs the visitors' cookies (CookieKeyBytes or more); every
	// instance serving the page must share it, and a new key makes every
	// visitor a new one. Nil: a random key, for tests and single runs.
	CookieKey []byte
	// UploadTTL is how long an upload waits to be fetched; default
	// DefaultUploadTTL.
	UploadTTL time.Duration
	// DispatchTimeout bounds one DispatchFunc call; default
	// DefaultDispatchTimeout.
	DispatchTimeout time.Duration
	// NowFunc returns the time; default time.Now.
	NowFunc func() time.Time
	// IPLimit bounds the messages and uploads from one address (429 with
	// Retry-After over it); nil: none. Keep it generous: a service centre's
	// kiosk or an estate behind one carrier address is many people.
	IPLimit bot.Limiter
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; a request from elsewhere is its peer's.
	TrustedProxies []netip.Prefix
	// Media opens the stored photos the bot sends (a work order's, to its
	// engineer), for the page to show; nil: the page shows "[图片]".
	Media MediaOpener
}

// MediaOpener opens a stored blob by key (bot.BlobStore).
type MediaOpener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Channel is the chat page's bot.Channel and bot.MediaFetcher: it queues
// outbound messages per visitor for the page to poll, and holds uploads
// until the Router fetches them. It is safe for concurrent use.
type Channel struct {
	opts    Options
	handler http.Handler

	mu       sync.Mutex
	uploads  map[string]*upload     // by FileID
	reserved int64                  // upload bytes being received or held
	waitHook atomic.Pointer[func()] // tests: called when a poll starts waiting
}

var (
	_ bot.Channel      = (*Channel)(nil)
	_ bot.MediaFetcher = (*Channel)(nil)
)

// ErrUploadGone is returned by FetchMedia for an upload that was already
// fetched, expired, or never made.
var ErrUploadGone = errors.New("web: upload gone")

// New returns a Channel; zero Options fields take their defaults.
func New(opts Options) *Channel {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DispatchFunc == nil {
		opts.DispatchFunc = func(context.Context, *bot.Inbound) error { return errors.New("web: no DispatchFunc") }
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if opts.MaxUploadMemory <= 0 {
		opts.MaxUploadMemory = 8 * opts.MaxUploadBytes
	}
	if opts.PollWait <= 0 {
		opts.PollWait = DefaultPollWait
	}
	if opts.Mailbox == nil {
		opts.Mailbox = bot.NewMemoryMailbox(0, DefaultMaxVisitors, 0)
	}
	if len(opts.CookieKey) == 0 {
		opts.CookieKey = NewCookieKey()
	}
	if opts.UploadTTL <= 0 {
		opts.UploadTTL = DefaultUploadTTL
	}
	if opts.DispatchTimeout <= 0 {
		opts.DispatchTimeout = DefaultDispatchTimeout
	}
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	c := &Channel{
		opts:    opts,
		uploads: make(map[string]*upload),
	}
	c.handler = c.routes()
	return c
}

// Platform returns bot.Web.
func (c *Channel) Platform() bot.Platform { return bot.Web }

// Send keeps msg for the visitor msg.To in the Mailbox, which wakes their
// waiting poll on whichever instance it is. A typing indicator is dropped:
// the page shows its own while a message is being handled. An edit
// (bot.OutEdit) is dropped too: the page gives no references to edit.
func (c *Channel) Send(ctx context.Context, msg bot.Outbound) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if msg.To.Platform != bot.Web {
		return fmt.Errorf("web: message for platform %q", msg.To.Platform)
	}
	if !validVisitor(msg.To.ID) {
		return fmt.Errorf("web: invalid visitor id %q", msg.To.ID)
	}
	switch msg.Kind {
	case bot.OutTyping, bot.OutEdit:
		// The page shows no typing; it gave no message reference, so an
		// edit (bot.OutEdit) is not for it and is skipped.
		return nil
	case bot.OutText, bot.OutPhoto:
	default:
		return fmt.Errorf("web: outbound kind %q not supported", msg.Kind)
	}
	return c.push(ctx, msg.To.ID, message{
		From:           fromBot,
		Kind:           string(msg.Kind),
		Text:           msg.Text,
		Choices:        msg.Choices,
		RequestContact: msg.RequestContact,
		BlobKey:        msg.BlobKey,
	})
}

// FetchMedia returns an upload by m.FileID, once: a fetched upload is
// forgotten. It returns ErrUploadGone for one fetched before, expired, or
// unknown.
func (c *Channel) FetchMedia(ctx context.Context, m *bot.Media) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	u, ok := c.uploads[m.FileID]
	delete(c.uploads, m.FileID)
	c.mu.Unlock()
	if !ok || !c.opts.NowFunc().Before(u.expires) {
		return nil, fmt.Errorf("media %q: %w", m.FileID, ErrUploadGone)
	}
	return io.NopCloser(bytes.NewReader(u.data)), nil
}

// Handler returns the chat page and its API, to be mounted at Path.
func (c *Channel) Handler() http.Handler { return c.handler }

// upload is a file received from the page, waiting for the Router.
type upload struct {
	data    []byte
	expires time.Time
}

// hold keeps data for FetchMedia under a new FileID.
func (c *Channel) hold(data []byte) (string, error) {
	id, err := randomID()
	if err != nil {
		return "", err
	}
	now := c.opts.NowFunc()
	c.mu.Lock()
	defer c.mu.Unlock()
	for old, u := range c.uploads {
		if !now.Before(u.expires) {
			delete(c.uploads, old)
		}
	}
	c.uploads[id] = &upload{data: data, expires: now.Add(c.opts.UploadTTL)}
	return id, nil
}

// drop forgets an upload, fetched or not.
func (c *Channel) drop(fileID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.uploads, fileID)
}

// reserve claims n bytes of upload memory; it reports false when they are
// not available. The caller calls release(n) when done.
func (c *Channel) reserve(n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reserved+n > c.opts.MaxUploadMemory {
		return false
	}
	c.reserved += n
	return true
}

func (c *Channel) release(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reserved -= n
}

// visitorRE is what the page's random visitor ids look like.
var visitorRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

func validVisitor(id string) bool { return visitorRE.MatchString(id) }

func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
