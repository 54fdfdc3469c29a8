package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/time/rate"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/telegram"
	"github.com/aftersales/aftersales/bot/web"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/classify"
	"github.com/aftersales/aftersales/console"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/storage/redis"
)

// loadRules returns the built-in classification rules, with the rules of
// path (when not empty) added to them.
func loadRules(path string) (*classify.Rules, error) {
	rules := classify.DefaultRules()
	if path == "" {
		return rules, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	extra, err := classify.LoadRules(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rules.Merge(extra), nil
}

// openChat wires the chatbot: the classifier, the conversation engine over
// the store, sessions, dedupe and per-user locks in memory or on Redis, media
// intake into the data dir, the router, and the local chat page at /chat/.
func (m *Main) openChat(ctx context.Context, srv *console.Server) error {
	rules, err := loadRules(m.Config.RulesFile)
	if err != nil {
		return fmt.Errorf("classification rules: %w", err)
	}
	loc, err := time.LoadLocation(m.Config.TimeZone)
	if err != nil {
		return fmt.Errorf("time zone: %w", err)
	}
	var (
		sessions conversation.SessionStore = conversation.NewMemoryStore()
		dedupe   bot.Deduper               = bot.NewMemoryDeduper()
		locker   bot.Locker                = bot.NewMemoryLocker()
	)
	if m.Config.RedisURL != "" {
		rc, err := redis.Open(ctx, m.Config.RedisURL, redis.Options{Logger: m.Logger})
		if err != nil {
			return fmt.Errorf("open Redis %s: %w", redactURL(m.Config.RedisURL), err)
		}
		m.redis = rc
		sessions, dedupe, locker = rc.Sessions(), rc.Deduper(), rc.Locker(30*time.Second)
		m.Logger.Info("sessions, dedupe and locks on Redis", "url", redactURL(m.Config.RedisURL))
	}
	m.Engine = conversation.New(conversation.Config{
		Store:      m.Store,
		Sessions:   sessions,
		Classifier: classify.New(rules),
		Location:   loc,
		Logger:     m.Logger,
	})
	m.Router = &bot.Router{
		Handler: m.Engine,
		Dedupe:  dedupe,
		Locker:  locker,
		Intake: &bot.Intake{
			Blobs:  &bot.FileBlobStore{Dir: filepath.Join(m.Config.DataDir, "media")},
			Policy: bot.DefaultMediaPolicy(),
		},
		Channels: map[bot.Platform]bot.Channel{},
		Logger:   m.Logger,
	}
	m.Web = web.New(web.Options{Logger: m.Logger, DispatchFunc: m.Router.Dispatch})
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
			PollLock:        locker,
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
	return nil
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
