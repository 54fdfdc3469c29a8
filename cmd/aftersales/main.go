// Command aftersales runs the after-sales service (售后服务) of a property
// developer: the homeowners' chatbot, the case registry and the staff console.
//
// With no configuration it serves on 127.0.0.1:8080 with an embedded SQLite
// database under ./data. `aftersales -h` lists the commands and settings.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time zones for a static binary on an image without zoneinfo

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/telegram"
	"github.com/aftersales/aftersales/bot/web"
	"github.com/aftersales/aftersales/bot/wechat"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/console"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/csvimport"
	"github.com/aftersales/aftersales/identity"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/sms"
	"github.com/aftersales/aftersales/sms/provider"
	"github.com/aftersales/aftersales/staff"
	"github.com/aftersales/aftersales/storage/postgres"
	"github.com/aftersales/aftersales/storage/redis"
	"github.com/aftersales/aftersales/storage/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the command ran and failed
	exitUsage  = 2 // bad command line or configuration
)

// run is the whole program behind main, with its environment passed in so
// that tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return exitOK
	case "classify":
		return classifyCommand(ctx, args, getenv, stdin, stdout, stderr)
	case "wechat":
		return wechatCommand(ctx, args, getenv, stdout, stderr)
	case "user":
		return userCommand(ctx, args, getenv, stdin, stdout, stderr)
	case "roster":
		return rosterCommand(ctx, args, getenv, stdout, stderr)
	case "serve", "demo", "migrate", "import", "healthcheck":
	default:
		fmt.Fprintf(stderr, "aftersales: unknown command %q\n%s", cmd, usage())
		return exitUsage
	}
	cfg, rest, err := LoadConfig(cmd, args, getenv)
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "aftersales: %v\n", err)
		return exitUsage
	}
	if cmd == "demo" && cfg.DatabaseURL == "" {
		cfg.DatabaseURL = "sqlite:" + cfg.DataDir + "/demo.db"
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "aftersales: configuration is invalid:\n%s\n", indent(err.Error()))
		return exitUsage
	}
	if cmd == "serve" && cfg.SMSProvider == sms.ProviderLog && cfg.SMSAllowLog != "true" {
		fmt.Fprintf(stderr, "aftersales: configuration is invalid:\n  AFTERSALES_SMS_PROVIDER: log writes verification codes to the log instead of sending them; serve refuses it unless AFTERSALES_SMS_ALLOW_LOG=true (development only)\n")
		return exitUsage
	}
	m := NewMain(cfg, stderr)
	m.Demo = cmd == "demo"

	switch cmd {
	case "healthcheck":
		if err := healthcheck(ctx, cfg.Addr); err != nil {
			fmt.Fprintf(stderr, "aftersales healthcheck: %v\n", err)
			return exitFailed
		}
		fmt.Fprintln(stdout, "ok")
		return exitOK
	case "migrate":
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "aftersales migrate: unexpected arguments %q\n", rest)
			return exitUsage
		}
		if err := m.OpenStore(ctx); err != nil {
			m.Logger.Error("migrate failed", "error", err)
			return exitFailed
		}
		m.Close()
		fmt.Fprintln(stdout, "migrations applied")
		return exitOK
	case "import":
		if len(rest) != 2 {
			fmt.Fprintf(stderr, "usage: aftersales import units|owners|parties|routes FILE.csv\n")
			return exitUsage
		}
		return m.importFile(ctx, rest[0], rest[1], stdout, stderr)
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "aftersales %s: unexpected arguments %q\n", cmd, rest)
		return exitUsage
	}
	if err := m.Open(ctx); err != nil {
		m.Close()
		if ctx.Err() != nil {
			// Told to stop while starting (SIGTERM during migrations): a
			// clean stop, not a failure.
			m.Logger.Info("stopped before serving")
			return exitOK
		}
		m.Logger.Error("start failed", "error", err)
		return exitFailed
	}
	defer m.Close()
	if m.Demo {
		if err := m.demoAdmin(ctx, stdout); err != nil {
			m.Logger.Error("start failed", "error", err)
			return exitFailed
		}
	}
	if err := m.Run(ctx); err != nil {
		m.Logger.Error("stopped with an error", "error", err)
		return exitFailed
	}
	return exitOK
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// Store is what the service needs of a storage backend.
type Store interface {
	casework.Store
	casework.IdentityStore
	casework.LifecycleStore
	casework.HandoffStore
	casework.RosterStore
	Migrate(ctx context.Context) error
}

// Main is the running service: configuration in, wired parts out. Tests start
// a real Main on a temporary database and port ":0".
type Main struct {
	Config    Config
	Demo      bool // load the example project at start
	Logger    *slog.Logger
	Store     Store
	Engine    *conversation.Engine
	Lifecycle *lifecycle.Service
	Identity  *identity.Service
	Router    *bot.Router
	Web       *web.Channel
	Staff     *staff.Service
	Telegram  *telegram.Adapter // nil unless AFTERSALES_TELEGRAM_TOKEN is set
	WeChat    *wechat.Adapter   // nil unless AFTERSALES_WECHAT_APPID is set

	// now is the service's one clock, handed to every part that reads the
	// time: the system's, or a test's (Config.nowFunc).
	now func() time.Time
	// examples returns the example project the demo loads.
	examples func() (*casework.ImportBatch, error)

	redis      *redis.Client
	sla        casework.SLAPolicy
	classifier lifecycle.Classifier // reads every new case's words, the chat's and staff's alike
	sessions   conversation.SessionStore
	loc        *time.Location
	jobs       jobQueue
	jobHandler *jobHandler
	runners    []func(ctx context.Context) error // run beside the server until it stops
	closers    []func() error                    // released by Close, before the store
	server     *http.Server
	listener   net.Listener
}

// NewMain returns a Main that logs to logOut in the configured format.
func NewMain(cfg Config, logOut io.Writer) *Main {
	level, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(logOut, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(logOut, opts)
	}
	now := cfg.nowFunc
	if now == nil {
		now = time.Now
	}
	return &Main{Config: cfg, Logger: slog.New(h), now: now, examples: csvimport.ExampleBatch}
}

// OpenStore opens the configured database and applies its migrations.
func (m *Main) OpenStore(ctx context.Context) error {
	loc, err := time.LoadLocation(m.Config.TimeZone)
	if err != nil {
		return fmt.Errorf("time zone: %w", err)
	}
	numbering := casework.Numbering{Prefix: m.Config.CasePrefix, Location: loc}
	openCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	kind, path := databaseKind(m.Config.DatabaseURL)
	switch kind {
	case "sqlite":
		db, err := sqlite.Open(openCtx, path, sqlite.Options{Numbering: numbering, Logger: m.Logger, NowFunc: m.now})
		if err != nil {
			return fmt.Errorf("open SQLite database %s: %w", path, err)
		}
		m.Store = db
	case "postgres":
		db, err := postgres.Open(openCtx, m.Config.DatabaseURL, postgres.Options{Numbering: numbering, Logger: m.Logger, NowFunc: m.now})
		if err != nil {
			return fmt.Errorf("open PostgreSQL database %s: %w", redactURL(m.Config.DatabaseURL), err)
		}
		m.Store = db
	default:
		return fmt.Errorf("unsupported database URL %s", redactURL(m.Config.DatabaseURL))
	}
	if err := m.Store.Migrate(openCtx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := m.openJobs(openCtx); err != nil {
		return err
	}
	m.Logger.Info("database ready", "database", kind, "url", redactURL(m.Config.DatabaseURL))
	return nil
}

// Open opens the store, loads the demo data when asked, and starts listening.
// It does not serve yet; Addr tells where it listens.
func (m *Main) Open(ctx context.Context) error {
	if err := m.OpenStore(ctx); err != nil {
		return err
	}
	if m.Demo {
		batch, err := m.examples()
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		stats, err := m.Store.Import(ctx, batch)
		if err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
		m.Logger.Info("demo data loaded", "units", stats.Units, "owners", stats.Owners, "parties", stats.Parties, "routes", stats.Routes)
		if err := m.loadExampleRoster(ctx); err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
	}
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (AFTERSALES_ADDR): %w", m.Config.Addr, err)
	}
	m.listener = ln
	if err := m.openIdentity(); err != nil {
		return err
	}
	if err := m.openLifecycle(ctx); err != nil {
		return err
	}
	if err := m.openPhones(); err != nil {
		return err
	}
	if err := m.openStaff(); err != nil {
		return err
	}
	if err := m.tokenAccounts(ctx); err != nil {
		return err
	}
	parties, _ := m.Config.partyTokens() // checked by Validate
	ccfg := console.Config{
		Store: m.Store, Logger: m.Logger, ReadyFunc: m.ready, APIToken: m.Config.APIToken,
		PartyTokens: parties, Lifecycle: m.Lifecycle, SLA: m.sla, Location: m.loc, NowFunc: m.now, Identity: m.Identity,
		Staff: m.Staff, Media: m.Router.Intake.Blobs,
	}
	if err := ccfg.Validate(); err != nil {
		return fmt.Errorf("staff API: %w", err)
	}
	handler := console.New(ccfg)
	if err := m.openChat(ctx, handler); err != nil {
		return err
	}
	stopJobs, err := m.startJobs()
	if err != nil {
		return err
	}
	// The queue stops first: its jobs send through the channels.
	m.closers = append([]func() error{stopJobs}, m.closers...)
	m.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	return nil
}

// Addr returns the address the service listens on, once Open returned.
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// Run serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets requests in flight finish for up to 10 seconds, and returns.
func (m *Main) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- m.server.Serve(m.listener) }()
	m.Logger.Info("serving", "addr", "http://"+m.Addr())
	// The platform adapters (long polling, webhook queues) run beside the
	// server and stop with it, after finishing what they took.
	runCtx, stopRunners := context.WithCancel(ctx)
	defer stopRunners()
	runErrs := make(chan error, len(m.runners))
	for _, run := range m.runners {
		go func() { runErrs <- run(runCtx) }()
	}
	var errs []error
	select {
	case err := <-errc:
		errs = append(errs, fmt.Errorf("serve: %w", err))
		errc = nil
	case <-ctx.Done():
	}
	m.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if errc != nil {
		if err := m.server.Shutdown(shutdownCtx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serve: %w", err))
		}
	}
	stopRunners()
	for range m.runners {
		if err := <-runErrs; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close releases the store and the listener.
func (m *Main) Close() error {
	var errs []error
	if m.listener != nil && m.server == nil {
		errs = append(errs, m.listener.Close())
	}
	for _, c := range m.closers {
		errs = append(errs, c())
	}
	m.closers = nil
	if m.redis != nil {
		errs = append(errs, m.redis.Close())
		m.redis = nil
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
		m.Store = nil
	}
	return errors.Join(errs...)
}

// ready is the readiness check beyond the database: Redis, when configured.
func (m *Main) ready(ctx context.Context) error {
	if m.WeChat != nil && !m.WeChat.Ready() {
		return errors.New("wechat is not ready: its API has not given an access token yet")
	}
	if m.redis == nil {
		return nil
	}
	if err := m.redis.Ping(ctx); err != nil {
		return errors.New("redis is not answering")
	}
	return nil
}

func (m *Main) importFile(ctx context.Context, kind, path string, stdout, stderr io.Writer) int {
	k := csvimport.Kind(kind)
	if !k.Valid() {
		fmt.Fprintf(stderr, "aftersales import: unknown kind %q: use units, owners, parties or routes\n", kind)
		return exitUsage
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "aftersales import: %v\n", err)
		return exitFailed
	}
	defer f.Close()
	batch, err := csvimport.Parse(k, f)
	if err != nil {
		fmt.Fprintf(stderr, "aftersales import %s %s: %v\n", kind, path, err)
		return exitFailed
	}
	if err := m.OpenStore(ctx); err != nil {
		m.Logger.Error("import failed", "error", err)
		return exitFailed
	}
	defer m.Close()
	stats, err := m.Store.Import(ctx, batch)
	if err != nil {
		fmt.Fprintf(stderr, "aftersales import %s %s: %v\n", kind, path, err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "imported %s: %d projects, %d buildings, %d units, %d owners, %d parties, %d members, %d routes\n",
		path, stats.Projects, stats.Buildings, stats.Units, stats.Owners, stats.Parties, stats.Members, stats.Routes)
	return exitOK
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("%q: use debug, info, warn or error", s)
	}
	return l, nil
}

// healthcheck asks the service listening on addr for /healthz; the container
// image has no curl, so its HEALTHCHECK runs this.
func healthcheck(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// openIdentity makes the service that checks who a chat account is, with
// the configured SMS provider: none (SMS off: owners prove who they are by
// Telegram's own contact or through staff), a real one, or the log, which the
// demo uses.
func (m *Main) openIdentity() error {
	name := m.Config.SMSProvider
	if name == "" && m.Demo {
		name = sms.ProviderLog
	}
	var sender identity.Sender
	switch name {
	case "":
		m.Logger.Info("SMS verification codes are off: owners prove who they are by sharing their contact on Telegram or through staff (AFTERSALES_SMS_PROVIDER)")
	default:
		if name == sms.ProviderLog {
			m.Logger.Warn("SMS provider log: verification codes are written to this log, not sent. Not for production")
		}
		cfg := m.Config.smsConfig(m.now, m.Logger)
		cfg.Provider = name
		s, err := provider.New(cfg)
		if err != nil {
			return fmt.Errorf("SMS provider: %w", err)
		}
		sender = s
		m.Logger.Info("SMS verification codes on", "provider", name)
	}
	m.Identity = identity.New(identity.Config{Store: m.Store, Sender: sender, NowFunc: m.now, Logger: m.Logger})
	return nil
}
