package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/time/rate"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/telegram"
	"github.com/aftersales/aftersales/bot/web"
	"github.com/aftersales/aftersales/bot/wechat"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/console"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/storage/postgres"
	"github.com/aftersales/aftersales/storage/redis"
	"github.com/aftersales/aftersales/storage/sqlite"
)

// openLifecycle wires what carries cases through their lifecycle: the
// sessions, dedupe and per-user locks on Redis, or else the sessions and
// dedupe in the database, which a restart keeps, and the locks in memory;
// the router that delivers notifications (its handler, the dialogue, comes
// with openChat), the classifier that reads every new case's words, and the
// lifecycle service, which the job queue's jobs call.
func (m *Main) openLifecycle(ctx context.Context) error {
	loc, err := time.LoadLocation(m.Config.TimeZone)
	if err != nil {
		return fmt.Errorf("time zone: %w", err)
	}
	m.loc, m.sla = loc, casework.DefaultSLAPolicy()
	if m.classifier, err = newClassifier(m.Config, m.Logger); err != nil {
		return err
	}
	m.sessions = conversation.NewMemoryStore()
	var (
		dedupe bot.Deduper = bot.NewMemoryDeduper()
		locker bot.Locker  = bot.NewMemoryLocker()
	)
	if m.Config.RedisURL != "" {
		rc, err := redis.Open(ctx, m.Config.RedisURL, redis.Options{Logger: m.Logger, NowFunc: m.now, KeyPrefix: m.Config.RedisPrefix})
		if err != nil {
			return fmt.Errorf("open Redis %s: %w", redactURL(m.Config.RedisURL), err)
		}
		m.redis = rc
		m.sessions, dedupe, locker = rc.Sessions(), rc.Deduper(), rc.Locker(0)
		m.Logger.Info("sessions, dedupe and locks on Redis", "url", redactURL(m.Config.RedisURL))
	} else {
		switch db := m.Store.(type) {
		case *sqlite.DB:
			m.sessions, dedupe = db.Sessions(), db.Deduper()
			m.Logger.Info("sessions and dedupe in the SQLite database, locks in memory", "path", db.Path())
		case *postgres.DB:
			m.sessions, dedupe = db.Sessions(), db.Deduper()
			m.Logger.Info("sessions and dedupe in the PostgreSQL database, locks in memory")
		default:
			m.Logger.Info("sessions, dedupe and locks in memory")
		}
	}
	m.Router = &bot.Router{
		Dedupe: dedupe,
		Locker: locker,
		Intake: &bot.Intake{
			Blobs:  &bot.FileBlobStore{Dir: filepath.Join(m.Config.DataDir, "media")},
			Policy: bot.DefaultMediaPolicy(),
		},
		Channels: map[bot.Platform]bot.Channel{},
		Logger:   m.Logger,
		Limit:    m.limiter("messages", m.Config.LimitMessages),
		Notice:   m.limiter("slow-down", "1/1m"),
		NowFunc:  m.now,
	}
	// Checked by Config.Validate.
	surveyTTL, _ := parseDuration(m.Config.SurveyTTL)
	hours, _ := casework.ParseServiceHours(m.Config.ServiceHours)
	answerWait, _ := parseDuration(m.Config.AnswerWait)
	acceptWithin, _ := parseDuration(m.Config.AcceptWithin)
	visits, visitDefault, _ := m.Config.returnVisits()
	m.Lifecycle = lifecycle.New(lifecycle.Config{
		Store:              m.Store,
		Pusher:             m.Router,
		SLA:                m.sla,
		Location:           loc,
		Logger:             m.Logger,
		NowFunc:            m.now,
		SurveyTTL:          surveyTTL,
		AnswerWait:         answerWait,
		AcceptWithin:       acceptWithin,
		ReturnVisits:       visits,
		ReturnVisitDefault: visitDefault,
		Classifier:         m.classifier,
		PublicURL:          m.Config.PublicURL,
		// The department's hours are the service hours of the chats handed
		// to a person: out of them, only the supervisors on duty are told.
		OfficeHoursFunc: func(t time.Time) bool { return hours.IsOpen(t, loc) },
	})
	m.jobHandler.svc = m.Lifecycle
	return nil
}

// openChat wires the chatbot: the conversation engine over
// the store, sessions, dedupe and per-user locks in memory or on Redis, media
// intake into the data dir, the router, and the local chat page at /chat/.
func (m *Main) openChat(ctx context.Context, srv *console.Server) error {
	loc, err := time.LoadLocation(m.Config.TimeZone)
	if err != nil {
		return fmt.Errorf("time zone: %w", err)
	}
	hours, _ := casework.ParseServiceHours(m.Config.ServiceHours) // checked by Config.Validate
	m.Engine = conversation.New(conversation.Config{
		Store:        m.Store,
		Sessions:     m.sessions,
		Classifier:   m.classifier,
		SLA:          m.sla,
		Location:     loc,
		Logger:       m.Logger,
		NowFunc:      m.now,
		Lifecycle:    m.Lifecycle,
		Identity:     m.Identity,
		CaseLimit:    m.limiter("cases", m.Config.LimitCases),
		IPCaseLimit:  m.limiter("address-cases", m.Config.LimitAddressCases),
		ServiceHours: hours,
		Hotline:      m.Config.Hotline,
	})
	m.Router.Handler = m.Engine
	proxies, _ := m.Config.trustedProxies() // checked by Config.Validate
	key, err := m.chatCookieKey()
	if err != nil {
		return err
	}
	m.Web = web.New(web.Options{
		Logger: m.Logger, DispatchFunc: m.Router.Dispatch, NowFunc: m.now,
		Mailbox: m.openMailbox(), CookieKey: key, Media: m.Router.Intake.Blobs,
		IPLimit: m.limiter("address-messages", m.Config.LimitAddressMessages), TrustedProxies: proxies,
	})
	m.Router.Channels[bot.Web] = m.Web
	srv.Handle(web.Path, m.Web.Handler())
	srv.Handle("GET /{$}", http.RedirectHandler("/chat/", http.StatusFound))

	if m.Config.TelegramToken != "" {
		tg, err := telegram.New(ctx, telegram.Config{
			Token:           m.Config.TelegramToken,
			APIURL:          m.Config.TelegramAPIURL,
			WebhookURL:      m.Config.TelegramWebhookURL,
			WebhookSecret:   m.Config.TelegramWebhookSecret,
			DispatchFunc:    m.Router.Dispatch,
			UnreachableFunc: m.markUnreachable,
			Blobs:           m.Router.Intake.Blobs,
			PollLock:        m.Router.Locker,
			PerChatRate:     rate.Limit(m.Config.telegramPerChatRate),
			PerChatBurst:    max(3, int(m.Config.telegramPerChatRate)),
			GlobalRate:      rate.Limit(m.Config.telegramGlobalRate),
			Logger:          m.Logger,
		})
		if err != nil {
			return err
		}
		m.Telegram = tg
		m.Router.Channels[bot.Telegram] = tg
		srv.Handle("POST "+telegram.WebhookPath, tg.WebhookHandler())
		m.runners = append(m.runners, tg.Run)
		m.closers = append(m.closers, tg.Close)
	}

	if m.Config.WeChatAppID != "" {
		wc, err := wechat.New(ctx, m.wechatConfig(m.Router.Process))
		if err != nil {
			return err
		}
		m.WeChat = wc
		m.Router.Channels[bot.WeChat] = wc
		srv.Handle(wechat.CallbackPath, wc.CallbackHandler()) // GET (the URL check) and POST
		m.runners = append(m.runners, wc.Run)
		m.closers = append(m.closers, wc.Close)
	}
	return nil
}

// openMailbox returns where the chat page's messages wait, shared by every
// instance: on Redis when configured, in the database otherwise.
func (m *Main) openMailbox() bot.Mailbox {
	if m.redis != nil {
		mb := m.redis.Mailbox(0, 0)
		m.closers = append(m.closers, mb.Close)
		return mb
	}
	switch db := m.Store.(type) {
	case *postgres.DB:
		return db.Mailbox(0, 0) // its listener stops with the store
	case *sqlite.DB:
		return db.Mailbox(0, 0)
	}
	return bot.NewMemoryMailbox(0, web.DefaultMaxVisitors, 0)
}

// cookieKeyFile is where the chat page's cookie key is kept, in the data
// dir, when AFTERSALES_CHAT_COOKIE_KEY is not set.
const cookieKeyFile = "chat-cookie.key"

// chatCookieKey returns the key that signs the chat page's visitor cookies:
// AFTERSALES_CHAT_COOKIE_KEY, or the key in the data dir, made at the first
// start (instances sharing the data dir, as they share its media, share it;
// two starting at once agree on the first one written).
func (m *Main) chatCookieKey() ([]byte, error) {
	if m.Config.ChatCookieKey != "" {
		return []byte(m.Config.ChatCookieKey), nil
	}
	path := filepath.Join(m.Config.DataDir, cookieKeyFile)
	if key, err := os.ReadFile(path); err == nil && len(key) >= web.CookieKeyBytes {
		return key, nil
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("chat cookie key: %w", err)
	}
	tmp, err := os.CreateTemp(m.Config.DataDir, cookieKeyFile+".*")
	if err != nil {
		return nil, fmt.Errorf("chat cookie key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(web.NewCookieKey()); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("chat cookie key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("chat cookie key: %w", err)
	}
	// A link never replaces a key another instance wrote first.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("chat cookie key: %w", err)
	}
	key, err := os.ReadFile(path)
	if err != nil || len(key) < web.CookieKeyBytes {
		return nil, fmt.Errorf("chat cookie key %s: unreadable or shorter than %d bytes; delete it or set AFTERSALES_CHAT_COOKIE_KEY", path, web.CookieKeyBytes)
	}
	m.Logger.Info("chat page cookie key kept in the data dir", "path", path)
	return key, nil
}

// wechatConfig is the WeChat adapter's configuration. process is the
// router's Process, or nil for commands that only call WeChat's API
// (wechat menu). With Redis, the access token and the customer-service
// windows are shared by every instance.
func (m *Main) wechatConfig(process func(context.Context, *bot.Inbound, bot.SendFunc) error) wechat.Config {
	cfg := wechat.Config{
		AppID:          m.Config.WeChatAppID,
		Secret:         m.Config.WeChatSecret,
		Token:          m.Config.WeChatToken,
		EncodingAESKey: m.Config.WeChatAESKey,
		APIURL:         m.Config.WeChatAPIURL,
		ProcessFunc:    process,
		Template:       wechat.Template{ID: m.Config.WeChatTemplateID},
		Logger:         m.Logger,
		NowFunc:        m.now,
	}
	if process != nil {
		cfg.UnreachableFunc = m.markUnreachable
		cfg.Blobs = m.Router.Intake.Blobs
	}
	if loc, err := time.LoadLocation(m.Config.TimeZone); err == nil {
		cfg.Location = loc
	}
	if m.redis != nil {
		prefix := m.redis.KeyPrefix() + "wechat:"
		cfg.Cache = wechat.NewRedisCache(m.redis.Redis(), prefix)
		cfg.Windows = wechat.NewRedisWindowStore(m.redis.Redis(), prefix)
	}
	return cfg
}

// wechatCommand runs "aftersales wechat menu": it sets the official
// account's custom menu (报修 / 我的报修 / 联系客服, CLICK keys report /
// status / human).
func wechatCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	const usageLine = "usage: aftersales wechat menu"
	if len(args) == 0 || args[0] != "menu" {
		fmt.Fprintln(stderr, usageLine)
		return exitUsage
	}
	cfg, rest, err := LoadConfig("wechat menu", args[1:], getenv)
	if err != nil || len(rest) > 0 {
		fmt.Fprintln(stderr, usageLine)
		return exitUsage
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "aftersales: configuration is invalid:\n%s\n", indent(err.Error()))
		return exitUsage
	}
	if cfg.WeChatAppID == "" {
		fmt.Fprintln(stderr, "aftersales wechat menu: set AFTERSALES_WECHAT_APPID, AFTERSALES_WECHAT_SECRET and AFTERSALES_WECHAT_TOKEN")
		return exitUsage
	}
	m := NewMain(cfg, stderr)
	defer m.Close()
	if cfg.RedisURL != "" { // use the running service's access token rather than replace it
		rc, err := redis.Open(ctx, cfg.RedisURL, redis.Options{Logger: m.Logger, KeyPrefix: cfg.RedisPrefix})
		if err != nil {
			fmt.Fprintf(stderr, "aftersales wechat menu: %v\n", err)
			return exitFailed
		}
		m.redis = rc
	}
	wc, err := wechat.New(ctx, m.wechatConfig(nil))
	if err != nil {
		fmt.Fprintf(stderr, "aftersales wechat menu: %v\n", err)
		return exitFailed
	}
	defer wc.Close()
	if err := wc.CreateMenu(ctx); err != nil {
		fmt.Fprintf(stderr, "aftersales wechat menu: %v\n", err)
		return exitFailed
	}
	fmt.Fprintln(stdout, "menu created: 报修 / 我的报修 / 联系客服")
	return exitOK
}

// markUnreachable records that a chat user blocked the bot, so staff see it
// on the user's identity.
func (m *Main) markUnreachable(ctx context.Context, user bot.UserRef) error {
	id, err := m.Store.FindChatIdentity(ctx, string(user.Platform), user.ID)
	if errors.Is(err, casework.ErrNotFound) {
		id = &casework.ChatIdentity{Platform: string(user.Platform), UserID: user.ID}
	} else if err != nil {
		return err
	}
	if id.Unreachable {
		return nil
	}
	id.Unreachable = true
	return m.Store.SaveChatIdentity(ctx, id)
}

// limiter is the limit named name, spec as bot.ParseLimit reads it (checked
// by Config.Validate): on Redis, shared by the instances, when Redis is
// configured, else in this process's memory.
func (m *Main) limiter(name, spec string) bot.Limiter {
	l, _ := bot.ParseLimit(spec)
	if m.redis != nil {
		return m.redis.Limiter(name, l)
	}
	return bot.NewMemoryLimiter(l)
}
