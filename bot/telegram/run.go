package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// WebhookPath is where the webhook is served.
const WebhookPath = "/telegram/webhook"

// maxUpdateBytes bounds a webhook request body; updates are a few KiB.
const maxUpdateBytes = 1 << 20

// Run registers the bot's commands and then, in webhook mode, registers the
// webhook and handles queued webhook updates until ctx ends; in polling
// mode, it deletes any webhook and long-polls until ctx ends. With a
// PollLock, it polls only while it holds the lock, so one instance of many
// polls. It returns nil when ctx ends.
func (a *Adapter) Run(ctx context.Context) error {
	if err := a.setCommands(ctx); err != nil {
		a.log.Warn("telegram: setMyCommands failed", "error", err)
	}
	if a.cfg.WebhookURL != "" {
		return a.runWebhook(ctx)
	}
	if _, err := a.request(ctx, tgbotapi.DeleteWebhookConfig{}); err != nil && ctx.Err() == nil {
		a.log.Warn("telegram: deleteWebhook failed", "error", err)
	}
	if a.cfg.PollLock != nil {
		unlock, err := a.cfg.PollLock.Lock(ctx, "telegram-poller:"+strconv.FormatInt(a.self.ID, 10))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("telegram: poll lock: %w", err)
		}
		defer unlock()
	}
	return a.poll(ctx)
}

// poll is the long-polling loop. An update is confirmed (the next
// getUpdates' offset passes it) only after the router handled it; one user's
// updates are handled in order, different users' at the same time.
func (a *Adapter) poll(ctx context.Context) error {
	offset, asked := 0, 0 // asked: the offset of the last getUpdates sent, which confirmed what is below it
	backoff := time.Second
	a.log.Info("telegram: long polling")
	a.client.poll.Store(&ctx) // a poll in flight ends with ctx
	for ctx.Err() == nil {
		cfg := tgbotapi.NewUpdate(offset)
		cfg.Limit = 100
		cfg.Timeout = int(a.cfg.PollTimeout / time.Second)
		asked = offset
		resp, err := a.request(ctx, cfg)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			wait := backoff
			var te *tgbotapi.Error
			if errors.As(err, &te) && te.RetryAfter > 0 {
				wait = time.Duration(te.RetryAfter) * time.Second
			} else {
				backoff = min(2*backoff, 30*time.Second)
			}
			a.log.Warn("telegram: getUpdates failed", "wait", wait, "error", err)
			sleep(ctx, wait)
			continue
		}
		backoff = time.Second
		var updates []tgbotapi.Update
		if err := json.Unmarshal(resp.Result, &updates); err != nil {
			a.log.Error("telegram: getUpdates result", "error", err)
			sleep(ctx, backoff)
			continue
		}
		if len(updates) == 0 {
			continue
		}
		a.handleBatch(ctx, updates)
		offset = updates[len(updates)-1].UpdateID + 1
	}
	a.client.poll.Store(nil)
	if offset > asked {
		// Confirm what was handled since the last getUpdates, so that the
		// next poller (after a restart, another instance) does not get it
		// again.
		cctx, cancel := context.WithTimeout(a.life, 5*time.Second)
		defer cancel()
		cfg := tgbotapi.NewUpdate(offset)
		cfg.Limit, cfg.Timeout = 1, 0
		if _, err := a.request(cctx, cfg); err != nil {
			a.log.Warn("telegram: confirming the last updates failed; they will come again and be deduplicated", "error", err)
		}
	}
	a.log.Info("telegram: polling stopped")
	return nil
}

// handleBatch hands the updates to the router: each user's in order, users
// in parallel; it returns when all were handled. Updates are handled with
// the adapter's lifetime context so that a shutdown lets them finish.
func (a *Adapter) handleBatch(ctx context.Context, updates []tgbotapi.Update) {
	byUser := map[int64][]tgbotapi.Update{}
	var order []int64
	for _, u := range updates {
		id := userOf(u)
		if _, ok := byUser[id]; !ok {
			order = append(order, id)
		}
		byUser[id] = append(byUser[id], u)
	}
	var wg sync.WaitGroup
	for _, id := range order {
		wg.Add(1)
		go func(us []tgbotapi.Update) {
			defer wg.Done()
			for _, u := range us {
				a.handle(a.life, u)
			}
		}(byUser[id])
	}
	wg.Wait()
}

func userOf(u tgbotapi.Update) int64 {
	switch {
	case u.Message != nil && u.Message.From != nil:
		return u.Message.From.ID
	case u.CallbackQuery != nil && u.CallbackQuery.From != nil:
		return u.CallbackQuery.From.ID
	case u.MyChatMember != nil:
		return u.MyChatMember.From.ID
	}
	return 0
}

// runWebhook registers the webhook with its secret token (v5.5.1's
// WebhookConfig has no secret_token, so setWebhook goes through MakeRequest)
// and handles the updates WebhookHandler queues until ctx ends.
func (a *Adapter) runWebhook(ctx context.Context) error {
	params := map[string]string{"url": a.cfg.WebhookURL, "max_connections": "40"}
	if a.cfg.WebhookSecret != "" {
		params["secret_token"] = a.cfg.WebhookSecret
	}
	if err := a.makeRequest(ctx, "setWebhook", params); err != nil {
		return fmt.Errorf("telegram: setWebhook: %w", err)
	}
	a.log.Info("telegram: webhook registered")
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for {
		select {
		case <-ctx.Done():
			// Telegram was told these updates arrived: handle what is queued
			// before stopping; new ones are refused with 503 and come again.
			a.stopping.Store(true)
			wg.Wait()
			for {
				select {
				case u := <-a.queue:
					a.handle(a.life, u)
				default:
					return nil
				}
			}
		case u := <-a.queue:
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				a.handle(a.life, u)
			}()
		}
	}
}

// WebhookHandler serves Telegram's webhook: it checks the secret token in
// constant time before reading anything, reads at most 1 MiB, queues the
// update and answers 200 at once. When the queue is full, or the adapter is
// stopping, it answers 503 and Telegram delivers the update again later.
func (a *Adapter) WebhookHandler() http.Handler {
	secret := []byte(a.cfg.WebhookSecret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := []byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if len(secret) == 0 || subtle.ConstantTimeCompare(got, secret) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		var u tgbotapi.Update
		if err := json.Unmarshal(body, &u); err != nil {
			http.Error(w, "not an update", http.StatusBadRequest)
			return
		}
		if a.stopping.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		select {
		case a.queue <- u:
			w.WriteHeader(http.StatusOK)
		default:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	})
}

func (a *Adapter) setCommands(ctx context.Context) error {
	for lang, list := range commands {
		cmds := make([]map[string]string, 0, len(list))
		for _, c := range list {
			cmds = append(cmds, map[string]string{"command": c[0], "description": c[1]})
		}
		b, _ := json.Marshal(cmds)
		params := map[string]string{"commands": string(b)}
		if lang != "" {
			params["language_code"] = lang
		}
		if err := a.makeRequest(ctx, "setMyCommands", params); err != nil {
			return err
		}
	}
	return nil
}

// makeRequest calls a method the library has no config for.
func (a *Adapter) makeRequest(ctx context.Context, method string, params tgbotapi.Params) error {
	done := make(chan error, 1)
	go func() {
		_, err := a.api.MakeRequest(method, params)
		done <- err
	}()
	select {
	case err := <-done:
		return a.redact(err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func readAll(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errors.New("too large")
	}
	return b, nil
}
