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
}

// Client is a connection pool to one Redis server and the adapters over it.
// It is safe for concurrent use.
type Client struct {
	rdb    *goredis.Client
	prefix string
	log    *slog.Logger
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
		rdb:    goredis.NewClient(o),
		prefix: opts.KeyPrefix,
		log:    opts.Logger,
	}
	if c.prefix == "" {
		c.prefix = DefaultKeyPrefix
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
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

// Close closes the connection pool. Locks still held are not released; they
// expire at the end of their lease.
func (c *Client) Close() error {
	return c.rdb.Close()
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
