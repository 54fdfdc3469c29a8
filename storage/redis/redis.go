// Package redis keeps the chatbot's shared state on Redis, so that one or
// several instances can serve one bot: the dedupe marks (bot.Deduper), the
// per-user locks (bot.Locker) and the dialogue sessions
// (conversation.SessionStore), all over one Client. Every key is namespaced
// by Options.KeyPrefix, then by kind: "dedupe:", "lock:" and "session:".
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultKeyPrefix is the key prefix when Options.KeyPrefix is empty.
const DefaultKeyPrefix = "aftersales:"

// pingTimeout bounds the ping with which Open checks that Redis answers.
const pingTimeout = 3 * time.Second

// Options configures a Client.
type Options struct {
	// KeyPrefix namespaces every key the Client writes; DefaultKeyPrefix
	// when empty. Instances serving the same bot must share it.
	KeyPrefix string
	// Logger receives warnings that cannot be returned to a caller, such as
	// a failed lock release or renewal. Nil discards them.
	Logger *slog.Logger
	// NowFunc is the clock of the Client's decisions, such as when a lock's
	// lease ends (see Locker); nil means time.Now. Instances serving the
	// same bot must keep their clocks within a fraction of a lock lease of
	// each other, as NTP does.
	NowFunc func() time.Time
}

// Client is a connection pool to one Redis server and the adapters over it.
// It is safe for concurrent use.
type Client struct {
	rdb    *goredis.Client
	prefix string
	log    *slog.Logger
	// now is Options.NowFunc, or time.Now.
	now func() time.Time

	// mu orders the start of a lock renewal (beginRenewal) before Close;
	// closing is closed when Close begins, telling the renewals to stop,
	// and renewing counts them, for Close to wait for.
	mu       sync.Mutex
	closing  chan struct{}
	closed   bool
	renewing sync.WaitGroup
}

// Open connects to the Redis server at rawURL
// (redis://[[user]:password@]host[:port][/db], rediss:// for TLS, or unix://)
// and checks that it answers a ping within a few seconds. Errors name the
// URL without its password. Commands honour their context's deadline.
func Open(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	safe := redactURL(rawURL)
	o, err := goredis.ParseURL(rawURL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL, password included
		}
		return nil, fmt.Errorf("redis: parse URL %s: %w", safe, err)
	}
	o.ContextTimeoutEnabled = true
	c := newClient(o, opts)

	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := c.rdb.Ping(pctx).Err(); err != nil {
		_ = c.rdb.Close()
		return nil, fmt.Errorf("redis: connect to %s: %w", safe, err)
	}
	return c, nil
}

// newClient returns a Client on a new pool, with opts' defaults applied.
func newClient(o *goredis.Options, opts Options) *Client {
	c := &Client{
		rdb:     goredis.NewClient(o),
		prefix:  opts.KeyPrefix,
		log:     opts.Logger,
		now:     opts.NowFunc,
		closing: make(chan struct{}),
	}
	if c.prefix == "" {
		c.prefix = DefaultKeyPrefix
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Ping checks that Redis answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Close stops renewing the locks still held, waits for their renewals to
// end, and closes the connection pool. The locks are not released: like a
// dead instance's, they expire at the end of their lease.
func (c *Client) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.closing)
	}
	c.mu.Unlock()
	c.renewing.Wait()
	return c.rdb.Close()
}

// beginRenewal counts a lock renewal about to start, which must call
// c.renewing.Done when it ends and stop when c.closing is closed. Once Close
// has begun it counts nothing and returns false: the renewal must not start.
func (c *Client) beginRenewal() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.renewing.Add(1)
	return true
}

// key returns the namespaced key of kind ("dedupe:", "lock:", "session:").
func (c *Client) key(kind, key string) string {
	return c.prefix + kind + key
}

// redactURL returns rawURL with any password replaced, for messages.
func redactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Redis returns the connection pool, for adapters that keep keys of their
// own under KeyPrefix (the WeChat access token and customer-service windows).
func (c *Client) Redis() *goredis.Client { return c.rdb }

// KeyPrefix returns the prefix of every key the Client writes.
func (c *Client) KeyPrefix() string { return c.prefix }
