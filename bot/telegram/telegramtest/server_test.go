package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
)

const token = "123456789:AAE_test-token"

var ann = telegramtest.User{ID: 4242, FirstName: "Ann", LanguageCode: "en"}

func newBot(t *testing.T, srv *telegramtest.Server) *tgbotapi.BotAPI {
	t.Helper()
	bot, err := tgbotapi.NewBotAPIWithClient(srv.Token(), srv.URL()+"/bot%s/%s", srv.Client())
	if err != nil {
		t.Fatalf("NewBotAPIWithClient: %v", err)
	}
	return bot
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// apiErr unwraps the library's error and checks its code and message.
func apiErr(t *testing.T, err error, code int, msg string) *tgbotapi.Error {
	t.Helper()
	var e *tgbotapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *tgbotapi.Error", err, err)
	}
	if e.Code != code || e.Message != msg {
		t.Fatalf("error = {Code:%d Message:%q}, want {Code:%d Message:%q}", e.Code, e.Message, code, msg)
	}
	return e
}

// rawCall posts a form to a method and returns the status and decoded body.
func rawCall(t *testing.T, srv *telegramtest.Server, tok, method string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := srv.Client().PostForm(srv.URL()+"/bot"+tok+"/"+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: decoding body: %v", method, err)
	}
	return resp.StatusCode, body
}

func TestGetMe(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	if bot.Self.ID != 123456789 || !bot.Self.IsBot || bot.Self.UserName != srv.BotUsername() || bot.Self.FirstName == "" {
		t.Fatalf("Self = %+v", bot.Self)
	}
	if srv.Calls("getMe") != 1 || srv.Calls("getme") != 1 {
		t.Fatalf("Calls(getMe) = %d", srv.Calls("getMe"))
	}
}

func TestWrongTokenAndUnknownMethod(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	_, err := tgbotapi.NewBotAPIWithClient("1:wrong", srv.URL()+"/bot%s/%s", srv.Client())
	apiErr(t, err, 401, "Unauthorized")

	status, body := rawCall(t, srv, "1:wrong", "getMe", nil)
	if status != 401 || fmt.Sprint(body) != fmt.Sprint(map[string]any{"ok": false, "error_code": 401.0, "description": "Unauthorized"}) {
		t.Fatalf("wrong token: %d %v", status, body)
	}
	status, body = rawCall(t, srv, token, "sendTelepathy", nil)
	if status != 404 || fmt.Sprint(body) != fmt.Sprint(map[string]any{"ok": false, "error_code": 404.0, "description": "Not Found"}) {
		t.Fatalf("unknown method: %d %v", status, body)
	}
	// method names are case-insensitive, as on Telegram
	if status, _ := rawCall(t, srv, token, "GETME", nil); status != 200 {
		t.Fatalf("GETME: %d", status)
	}
}

func TestGetUpdatesOffsetLimitAndConfirmation(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	first := srv.SendText(ann, "one")
	srv.SendText(ann, "two")
	last := srv.SendText(ann, "three")
	if first < 2 || last != first+2 {
		t.Fatalf("update ids %d..%d", first, last)
	}

	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Limit: 2})
	if err != nil || len(ups) != 2 || ups[0].UpdateID != first || ups[0].Message.Text != "one" {
		t.Fatalf("limit 2: %v %+v", err, ups)
	}
	if ups[0].Message.Chat.ID != ann.ID || ups[0].Message.From.ID != ann.ID || ups[0].Message.From.LanguageCode != "en" {
		t.Fatalf("message = %+v", ups[0].Message)
	}
	if srv.PendingUpdates() != 3 {
		t.Fatalf("nothing is confirmed without an offset: pending %d", srv.PendingUpdates())
	}
	ups, err = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: first + 1})
	if err != nil || len(ups) != 2 || ups[0].UpdateID != first+1 {
		t.Fatalf("offset first+1: %v %+v", err, ups)
	}
	if srv.PendingUpdates() != 2 {
		t.Fatalf("offset confirms the updates below it: pending %d", srv.PendingUpdates())
	}
	// an offset far in the future is ignored: the queue is read from its head
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: last + 1000})
	if len(ups) != 2 || srv.PendingUpdates() != 2 {
		t.Fatalf("future offset: %d updates, pending %d", len(ups), srv.PendingUpdates())
	}
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: last + 1})
	if len(ups) != 0 || srv.PendingUpdates() != 0 {
		t.Fatalf("offset last+1: %d updates, pending %d", len(ups), srv.PendingUpdates())
	}
	// a negative offset counts from the end and forgets what is before
	srv.SendText(ann, "four")
	srv.SendText(ann, "five")
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: -1})
	if len(ups) != 1 || ups[0].Message.Text != "five" || srv.PendingUpdates() != 1 {
		t.Fatalf("offset -1: %+v, pending %d", ups, srv.PendingUpdates())
	}
	// the commands are marked up as Telegram does
	srv.SendCommand(ann, "start", "ref42")
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: ups[0].UpdateID + 1})
	if len(ups) != 1 || !ups[0].Message.IsCommand() || ups[0].Message.Command() != "start" || ups[0].Message.CommandArguments() != "ref42" {
		t.Fatalf("command: %+v", ups)
	}
}

func TestLongPoll(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)

	// an update queued during the poll ends it at once
	got := make(chan []tgbotapi.Update, 1)
	go func() {
		ups, _ := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 10})
		got <- ups
	}()
	if err := srv.WaitCalls(ctxT(t, 5*time.Second), "getUpdates", 1); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	srv.SendText(ann, "wake up")
	select {
	case ups := <-got:
		if len(ups) != 1 || ups[0].Message.Text != "wake up" || time.Since(start) > 2*time.Second {
			t.Fatalf("long poll answered %+v after %v", ups, time.Since(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not end when an update arrived")
	}

	// with nothing queued it waits for its timeout
	srv.SetRepeatPollDelay(0)
	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: 1 << 30, Timeout: 1})
	if err != nil || len(ups) != 1 { // offset in the future: read from the head, wake up is still pending
		t.Fatalf("future offset: %v %v", err, ups)
	}
	last := ups[0].UpdateID
	start = time.Now()
	ups, err = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: last + 1, Timeout: 1})
	if err != nil || len(ups) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("empty long poll: %v %v after %v", err, ups, time.Since(start))
	}

	// the request's context ends a long poll
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/bot"+token+"/getUpdates",
		strings.NewReader(url.Values{"timeout": {"30"}, "offset": {fmt.Sprint(last + 1)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	done := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	if err := srv.WaitCalls(ctxT(t, 5*time.Second), "getUpdates", 4); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled poll: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the request did not end the long poll")
	}
}

func TestSecondLongPollTerminatesTheFirst(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	errc := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 20})
		errc <- err
	}()
	if err := srv.WaitCalls(ctxT(t, 5*time.Second), "getUpdates", 1); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: 5, Timeout: 20}) }()
	select {
	case err := <-errc:
		apiErr(t, err, 409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
	case <-time.After(5 * time.Second):
		t.Fatal("the first long poll was not terminated")
	}
}

func TestRepeatedPollIsSlowedDown(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.SetRepeatPollDelay(300 * time.Millisecond)
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: 7}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: 7}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("a short poll repeated at once with the same offset answered after %v", d)
	}
}

func TestWebhook(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	srv.SetWebhookCooldown(0)
	srv.SetWebhookRetry(10*time.Millisecond, 50*time.Millisecond)
	bot := newBot(t, srv)

	var (
		mu       sync.Mutex
		received []tgbotapi.Update
		want     = "s3cr3t_token-1"
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Telegram-Bot-Api-Secret-Token") != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		u, err := bot.HandleUpdate(r)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		received = append(received, *u)
		mu.Unlock()
		if u.Message != nil && u.Message.Text == "ping" {
			// answer with a method, as the Bot API allows
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"method":"sendMessage","chat_id":%d,"text":"pong"}`, u.Message.Chat.ID)
		}
	}))
	t.Cleanup(hook.Close)

	// a wrong secret: the webhook refuses, the update stays pending
	resp, err := bot.MakeRequest("setWebhook", tgbotapi.Params{"url": hook.URL + "/tg", "secret_token": "wrong"})
	if err != nil || resp.Description != "Webhook was set" {
		t.Fatalf("setWebhook: %v %+v", err, resp)
	}
	_, err = bot.GetUpdates(tgbotapi.UpdateConfig{})
	apiErr(t, err, 409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")

	srv.SendText(ann, "hello")
	ds, err := srv.WaitDeliveries(ctxT(t, 5*time.Second), 2)
	if err != nil {
		t.Fatal(err)
	}
	if ds[0].Status != 401 || ds[0].Secret != "wrong" || ds[1].Attempt != 2 {
		t.Fatalf("deliveries = %+v", ds)
	}
	info, err := bot.GetWebhookInfo()
	if err != nil || info.URL != hook.URL+"/tg" || info.PendingUpdateCount != 1 ||
		info.LastErrorMessage != "Wrong response from the webhook: 401 Unauthorized" || info.LastErrorDate == 0 {
		t.Fatalf("webhook info = %+v %v", info, err)
	}

	// the right secret: the pending update and new ones are delivered in order
	if _, err := bot.MakeRequest("setWebhook", tgbotapi.Params{"url": hook.URL + "/tg", "secret_token": want}); err != nil {
		t.Fatal(err)
	}
	if u, s := srv.Webhook(); u != hook.URL+"/tg" || s != want {
		t.Fatalf("Webhook() = %q %q", u, s)
	}
	srv.SendText(ann, "ping")
	if _, err := srv.WaitSent(ctxT(t, 5*time.Second), ann.ID, 1); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(received) != 2 || received[0].Message.Text != "hello" || received[1].Message.Text != "ping" {
		t.Fatalf("received %+v", received)
	}
	mu.Unlock()
	if m, _ := srv.LastSent(ann.ID); m.Text != "pong" {
		t.Fatalf("the method in the webhook answer was not run: %+v", m)
	}
	// The request is recorded just after its message is visible.
	_ = srv.Wait(ctxT(t, 5*time.Second), func() bool { return len(srv.RequestsFor("sendMessage")) > 0 })
	if rs := srv.RequestsFor("sendMessage"); len(rs) != 1 || !rs[0].ViaWebhookResponse {
		t.Fatalf("requests = %+v", rs)
	}
	if err := srv.WaitPendingUpdates(ctxT(t, 5*time.Second), 0); err != nil {
		t.Fatal(err)
	}

	// deleting it: getUpdates works again
	resp, err = bot.Request(tgbotapi.DeleteWebhookConfig{})
	if err != nil || resp.Description != "Webhook was deleted" {
		t.Fatalf("deleteWebhook: %v %+v", err, resp)
	}
	resp, _ = bot.Request(tgbotapi.DeleteWebhookConfig{})
	if resp.Description != "Webhook is already deleted" {
		t.Fatalf("second deleteWebhook: %+v", resp)
	}
	srv.SendText(ann, "polled")
	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(ups) != 1 || ups[0].Message.Text != "polled" {
		t.Fatalf("after deleteWebhook: %v %+v", err, ups)
	}
}

func TestSetWebhookFloodControlAndTerminatedPoll(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	errc := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 20})
		errc <- err
	}()
	if err := srv.WaitCalls(ctxT(t, 5*time.Second), "getUpdates", 1); err != nil {
		t.Fatal(err)
	}
	wh, _ := tgbotapi.NewWebhook("http://127.0.0.1:1/hook")
	if _, err := bot.Request(wh); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		apiErr(t, err, 409, "Conflict: terminated by setWebhook request")
	case <-time.After(5 * time.Second):
		t.Fatal("setWebhook did not end the long poll")
	}
	wh2, _ := tgbotapi.NewWebhook("http://127.0.0.1:1/other")
	_, err := bot.Request(wh2)
	e := apiErr(t, err, 429, "Too Many Requests: retry after 1")
	if e.RetryAfter != 1 {
		t.Fatalf("RetryAfter = %d", e.RetryAfter)
	}
}

func TestInlineKeyboardCallbackAndEdit(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.SendCommand(ann, "start", "")

	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("Yes", "confirm:yes"),
		tgbotapi.NewInlineKeyboardButtonData("No", "confirm:no"),
	))
	msg := tgbotapi.NewMessage(ann.ID, "Submit the case?")
	msg.ReplyMarkup = kb
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	if sent.MessageID != 2 || sent.From.ID != bot.Self.ID || sent.ReplyMarkup == nil || len(sent.ReplyMarkup.InlineKeyboard[0]) != 2 {
		t.Fatalf("sent = %+v", sent) // message ids are per chat and shared with the user's /start (id 1)
	}
	got := srv.Sent(ann.ID)
	if len(got) != 1 || got[0].Text != "Submit the case?" || got[0].ReplyMarkup.InlineButtons()[1].CallbackData != "confirm:no" {
		t.Fatalf("Sent = %+v", got)
	}

	id := srv.PressButton(ann, sent.MessageID, "confirm:yes")
	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cq := ups[len(ups)-1].CallbackQuery
	if cq == nil || cq.ID != id || cq.Data != "confirm:yes" || cq.Message.MessageID != sent.MessageID || cq.From.ID != ann.ID || cq.ChatInstance == "" {
		t.Fatalf("callback query = %+v", cq)
	}
	if _, err := bot.Request(tgbotapi.NewCallback(id, "Saved")); err != nil {
		t.Fatal(err)
	}
	_, err = bot.Request(tgbotapi.NewCallback(id, "again"))
	apiErr(t, err, 400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
	if a := srv.AnsweredCallbacks(); len(a) != 1 || a[0].Text != "Saved" || a[0].Data != "confirm:yes" {
		t.Fatalf("answered = %+v", a)
	}

	// an edit that changes nothing
	_, err = bot.Send(tgbotapi.NewEditMessageTextAndMarkup(ann.ID, sent.MessageID, "Submit the case?", kb))
	apiErr(t, err, 400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	_, err = bot.Send(tgbotapi.NewEditMessageReplyMarkup(ann.ID, sent.MessageID, kb))
	apiErr(t, err, 400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	// editing the text without reply_markup removes the keyboard
	edited, err := bot.Send(tgbotapi.NewEditMessageText(ann.ID, sent.MessageID, "Submitted."))
	if err != nil || edited.Text != "Submitted." || edited.ReplyMarkup != nil || edited.EditDate == 0 {
		t.Fatalf("edit: %v %+v", err, edited)
	}
	if m, _ := srv.LastSent(ann.ID); !m.Edited || m.ReplyMarkup != nil || m.Text != "Submitted." {
		t.Fatalf("after edit: %+v", m)
	}
	_, err = bot.Send(tgbotapi.NewEditMessageText(ann.ID, 999, "x"))
	apiErr(t, err, 400, "Bad Request: message to edit not found")
	_, err = bot.Send(tgbotapi.NewEditMessageText(ann.ID, 1, "x")) // the user's /start
	apiErr(t, err, 400, "Bad Request: message can't be edited")

	// callback_data over 64 bytes
	long := tgbotapi.NewMessage(ann.ID, "x")
	long.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("b", strings.Repeat("d", 65))))
	_, err = bot.Send(long)
	apiErr(t, err, 400, "Bad Request: BUTTON_DATA_INVALID")
}

func TestRetryAfterShape(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.AddUser(ann)
	srv.FailNext("sendMessage", 1, 429, "", 7)
	_, err := bot.Send(tgbotapi.NewMessage(ann.ID, "hi"))
	e := apiErr(t, err, 429, "Too Many Requests: retry after 7")
	if e.RetryAfter != 7 {
		t.Fatalf("RetryAfter = %d", e.RetryAfter)
	}
	if len(srv.Sent(ann.ID)) != 0 {
		t.Fatal("a failed call had an effect")
	}
	srv.FailNext("sendMessage", 1, 429, "", 2)
	resp, err := bot.MakeRequest("sendMessage", tgbotapi.Params{"chat_id": fmt.Sprint(ann.ID), "text": "hi"})
	if e := apiErr(t, err, 429, "Too Many Requests: retry after 2"); e.RetryAfter != 2 || resp.Parameters.RetryAfter != 2 || resp.ErrorCode != 429 {
		t.Fatalf("MakeRequest: %+v %+v", e, resp)
	}
	if _, err := bot.Send(tgbotapi.NewMessage(ann.ID, "hi")); err != nil {
		t.Fatalf("after the injected failures: %v", err)
	}

	// a proxy error is HTML, not JSON
	srv.FailNext("*", 1, 502, "", 0)
	_, err = bot.Send(tgbotapi.NewMessage(ann.ID, "hi"))
	var e2 *tgbotapi.Error
	if err == nil || errors.As(err, &e2) {
		t.Fatalf("502: %v", err)
	}
	if rs := srv.Requests(); rs[len(rs)-1].Status != 502 {
		t.Fatalf("last request = %+v", rs[len(rs)-1])
	}

	// the answer is lost after the message went out
	srv.FailNextAfterEffect("sendMessage", 1, 504, "", 0)
	_, err = bot.Send(tgbotapi.NewMessage(ann.ID, "maybe"))
	if err == nil || len(srv.Sent(ann.ID)) != 2 || srv.Sent(ann.ID)[1].Text != "maybe" {
		t.Fatalf("lost answer: %v %+v", err, srv.Sent(ann.ID))
	}
}

func pngImage(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 0x40, 0xff})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func TestUploadRetryAfterKeepsTheErrorCodeInJSON(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.AddUser(ann)
	srv.FailNext("sendPhoto", 1, 429, "", 3)
	_, err := bot.Send(tgbotapi.NewPhoto(ann.ID, tgbotapi.FileBytes{Name: "p.png", Bytes: pngImage(10, 10)}))
	var e *tgbotapi.Error
	if !errors.As(err, &e) || e.RetryAfter != 3 || e.Message != "Too Many Requests: retry after 3" {
		t.Fatalf("upload error = %#v", err)
	}
	if e.Code != 0 {
		t.Logf("tgbotapi now fills Error.Code on uploads: %d", e.Code)
	}
	// the answer itself carries error_code and retry_after, as Telegram's does
	srv.FailNext("sendPhoto", 1, 429, "", 3)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("chat_id", fmt.Sprint(ann.ID))
	fw, _ := mw.CreateFormFile("photo", "p.png")
	_, _ = fw.Write(pngImage(10, 10))
	_ = mw.Close()
	resp, err := srv.Client().Post(srv.URL()+"/bot"+token+"/sendPhoto", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body tgbotapi.APIResponse
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 429 || body.Ok || body.ErrorCode != 429 || body.Parameters == nil || body.Parameters.RetryAfter != 3 {
		t.Fatalf("raw answer %d %+v", resp.StatusCode, body)
	}
	if r := srv.RequestsFor("sendPhoto"); r[0].ErrorCode != 429 || r[0].RetryAfter != 3 || r[0].Files["photo"].FileName != "p.png" {
		t.Fatalf("recorded %+v", r[0])
	}
}

func TestPhotoUploadGetFileAndDownload(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.AddUser(ann)
	data := pngImage(1000, 600)
	msg, err := bot.Send(tgbotapi.NewPhoto(ann.ID, tgbotapi.FileBytes{Name: "leak.png", Bytes: data}))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Photo) != 4 || msg.Photo[0].Width != 90 || msg.Photo[3].Width != 1000 || msg.Photo[3].Height != 600 {
		t.Fatalf("photo sizes = %+v", msg.Photo)
	}
	largest := msg.Photo[len(msg.Photo)-1]
	f, err := bot.GetFile(tgbotapi.FileConfig{FileID: largest.FileID})
	if err != nil || f.FilePath == "" || f.FileSize != len(data) || f.FileUniqueID != largest.FileUniqueID {
		t.Fatalf("getFile: %v %+v", err, f)
	}
	resp, err := srv.Client().Get(fmt.Sprintf(srv.URL()+"/file/bot%s/%s", token, f.FilePath))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Fatalf("download: %d, %d bytes", resp.StatusCode, len(got))
	}
	if m, _ := srv.LastSent(ann.ID); m.FileID != largest.FileID || m.Method != "sendPhoto" {
		t.Fatalf("Sent = %+v", m)
	}
	// sending it again by file_id
	if _, err := bot.Send(tgbotapi.NewPhoto(ann.ID, tgbotapi.FileID(largest.FileID))); err != nil {
		t.Fatal(err)
	}
	_, err = bot.Send(tgbotapi.NewPhoto(ann.ID, tgbotapi.FileBytes{Name: "x.png", Bytes: []byte("not an image")}))
	if err == nil || !strings.Contains(err.Error(), "IMAGE_PROCESS_FAILED") {
		t.Fatalf("non-image photo: %v", err)
	}
	_, err = bot.GetFile(tgbotapi.FileConfig{FileID: "nope"})
	apiErr(t, err, 400, "Bad Request: invalid file_id")
}

func TestUserMediaAndBigFiles(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	photo := pngImage(400, 300)
	_, fileID := srv.SendPhoto(ann, photo, 0)
	_, bigID := srv.SendPhoto(ann, []byte("raw camera bytes"), 25<<20)
	_, docID := srv.SendDocument(ann, "invoice.pdf", "", []byte("%PDF-1.4"), 0)
	srv.SendVoice(ann, []byte("OggS"), 3)
	srv.SendContact(ann, "+8613800000000", ann.ID)
	srv.SendLocation(ann, 31.23, 121.47)

	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(ups) != 6 {
		t.Fatalf("%v %d updates", err, len(ups))
	}
	p := ups[0].Message.Photo
	if len(p) != 3 || p[2].FileID != fileID || p[2].Width != 400 || p[0].Width != 90 {
		t.Fatalf("photo = %+v", p)
	}
	if d := ups[2].Message.Document; d.FileName != "invoice.pdf" || d.MimeType != "application/pdf" || d.FileID != docID {
		t.Fatalf("document = %+v", d)
	}
	if v := ups[3].Message.Voice; v == nil || v.Duration != 3 || v.MimeType != "audio/ogg" {
		t.Fatalf("voice = %+v", v)
	}
	if c := ups[4].Message.Contact; c.PhoneNumber != "+8613800000000" || c.UserID != ann.ID || c.FirstName != "Ann" {
		t.Fatalf("contact = %+v", c)
	}
	if l := ups[5].Message.Location; l.Latitude != 31.23 || l.Longitude != 121.47 {
		t.Fatalf("location = %+v", l)
	}
	_, err = bot.GetFile(tgbotapi.FileConfig{FileID: bigID})
	apiErr(t, err, 400, "Bad Request: file is too big")
	if b, _ := srv.FileBytes(fileID); !bytes.Equal(b, photo) {
		t.Fatal("FileBytes differs")
	}
}

func TestBlockedUser(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	id := srv.SendText(ann, "hi")
	srv.BlockUser(ann.ID)
	_, err := bot.Send(tgbotapi.NewMessage(ann.ID, "still there?"))
	apiErr(t, err, 403, "Forbidden: bot was blocked by the user")
	_, err = bot.Request(tgbotapi.NewChatAction(ann.ID, tgbotapi.ChatTyping))
	apiErr(t, err, 403, "Forbidden: bot was blocked by the user")

	ups, _ := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: id + 1})
	if len(ups) != 1 || ups[0].MyChatMember == nil || ups[0].MyChatMember.NewChatMember.Status != "kicked" {
		t.Fatalf("my_chat_member: %+v", ups)
	}
	// writing again unblocks
	srv.SendText(ann, "back")
	if _, err := bot.Send(tgbotapi.NewMessage(ann.ID, "welcome back")); err != nil {
		t.Fatal(err)
	}
	// a chat the bot never saw
	_, err = bot.Send(tgbotapi.NewMessage(777, "hello?"))
	apiErr(t, err, 400, "Bad Request: chat not found")
}

func TestMessageLength(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.AddUser(ann)
	if _, err := bot.Send(tgbotapi.NewMessage(ann.ID, strings.Repeat("a", 4096))); err != nil {
		t.Fatal(err)
	}
	_, err := bot.Send(tgbotapi.NewMessage(ann.ID, strings.Repeat("a", 4097)))
	apiErr(t, err, 400, "Bad Request: message is too long")
	// counted in UTF-16 units: CJK is one, an emoji two
	if _, err := bot.Send(tgbotapi.NewMessage(ann.ID, strings.Repeat("漏", 4096))); err != nil {
		t.Fatal(err)
	}
	_, err = bot.Send(tgbotapi.NewMessage(ann.ID, strings.Repeat("💧", 2049)))
	apiErr(t, err, 400, "Bad Request: message is too long")
	_, err = bot.Send(tgbotapi.NewMessage(ann.ID, "   \n "))
	apiErr(t, err, 400, "Bad Request: message text is empty")
}

func TestMarkdownV2(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.AddUser(ann)
	msg := tgbotapi.NewMessage(ann.ID, "Case 12 registered.")
	msg.ParseMode = tgbotapi.ModeMarkdownV2
	_, err := bot.Send(msg)
	apiErr(t, err, 400, `Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\'`)

	msg.Text = "*Case 12* registered" + tgbotapi.EscapeText(tgbotapi.ModeMarkdownV2, ". Engineer: Wang (tel. 138-0000).")
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Text != "Case 12 registered. Engineer: Wang (tel. 138-0000)." || len(sent.Entities) != 1 || !sent.Entities[0].IsBold() || sent.Entities[0].Length != 7 {
		t.Fatalf("sent = %q %+v", sent.Text, sent.Entities)
	}
	if m, _ := srv.LastSent(ann.ID); m.Source != msg.Text || m.ParseMode != "MarkdownV2" {
		t.Fatalf("Sent = %+v", m)
	}
}

func TestRateLimits(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	bob := telegramtest.User{ID: 5151, FirstName: "Bob"}
	srv.AddUser(ann)
	srv.AddUser(bob)
	srv.EnforceLimits(1, 30)
	if _, err := bot.Send(tgbotapi.NewMessage(ann.ID, "1")); err != nil {
		t.Fatal(err)
	}
	_, err := bot.Send(tgbotapi.NewMessage(ann.ID, "2"))
	if e := apiErr(t, err, 429, "Too Many Requests: retry after 1"); e.RetryAfter != 1 {
		t.Fatalf("RetryAfter = %d", e.RetryAfter)
	}
	if _, err := bot.Send(tgbotapi.NewMessage(bob.ID, "other chat")); err != nil {
		t.Fatalf("another chat has its own bucket: %v", err)
	}
	// the global bucket
	srv.EnforceLimits(0, 2)
	_, err1 := bot.Send(tgbotapi.NewMessage(ann.ID, "a"))
	_, err2 := bot.Send(tgbotapi.NewMessage(bob.ID, "b"))
	_, err3 := bot.Send(tgbotapi.NewMessage(ann.ID, "c"))
	if err1 != nil || err2 != nil || err3 == nil {
		t.Fatalf("global limit: %v %v %v", err1, err2, err3)
	}
}

func TestCommandsAndRequests(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	_, err := bot.Request(tgbotapi.NewSetMyCommands(
		tgbotapi.BotCommand{Command: "start", Description: "Start"},
		tgbotapi.BotCommand{Command: "report", Description: "Report a problem"}))
	if err != nil {
		t.Fatal(err)
	}
	if c := srv.Commands(); len(c) != 2 || c[1].Command != "report" {
		t.Fatalf("Commands = %+v", c)
	}
	cmds, err := bot.GetMyCommands()
	if err != nil || len(cmds) != 2 {
		t.Fatalf("getMyCommands: %v %+v", err, cmds)
	}
	_, err = bot.Request(tgbotapi.NewSetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeAllPrivateChats(), "zh",
		tgbotapi.BotCommand{Command: "baoxiu", Description: "报修"}))
	if err != nil || len(srv.CommandsFor("all_private_chats", "zh")) != 1 {
		t.Fatalf("scoped commands: %v", err)
	}
	_, err = bot.Request(tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "Report", Description: "x"}))
	apiErr(t, err, 400, "Bad Request: BOT_COMMAND_INVALID")

	if srv.Calls("setMyCommands") != 3 {
		t.Fatalf("Calls = %d", srv.Calls("setMyCommands"))
	}
	last := srv.Requests()[len(srv.Requests())-1]
	if last.Method != "setMyCommands" || last.OK || last.Status != 400 || last.Params["commands"] == "" {
		t.Fatalf("last request = %+v", last)
	}
}

func TestReplyKeyboardAndContact(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.SendCommand(ann, "start", "")
	msg := tgbotapi.NewMessage(ann.ID, "Share your phone number")
	kb := tgbotapi.NewOneTimeReplyKeyboard(tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonContact("Share")))
	msg.ReplyMarkup = kb
	sent, err := bot.Send(msg)
	if err != nil || sent.ReplyMarkup != nil { // reply keyboards are not echoed
		t.Fatalf("%v %+v", err, sent.ReplyMarkup)
	}
	if k := srv.ReplyKeyboard(ann.ID); k == nil || !k.KeyboardButtons()[0].RequestContact {
		t.Fatalf("keyboard = %+v", k)
	}
	srv.SendContact(ann, "8613800000000", ann.ID)
	if srv.ReplyKeyboard(ann.ID) != nil {
		t.Fatal("a one-time keyboard hides once used")
	}
	rm := tgbotapi.NewMessage(ann.ID, "Thanks")
	rm.ReplyMarkup = tgbotapi.NewRemoveKeyboard(true)
	if _, err := bot.Send(rm); err != nil {
		t.Fatal(err)
	}
	if m, _ := srv.LastSent(ann.ID); m.ReplyMarkup == nil || !m.ReplyMarkup.RemoveKeyboard {
		t.Fatalf("remove_keyboard = %+v", m.ReplyMarkup)
	}
	// contact buttons only in private chats
	srv.SendInGroup(ann, -100200, "/start")
	gm := tgbotapi.NewMessage(-100200, "phone?")
	gm.ReplyMarkup = kb
	_, err = bot.Send(gm)
	apiErr(t, err, 400, "Bad Request: phone number can be requested in private chats only")
}

func TestGroupPrivacyMode(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	if id := srv.SendInGroup(ann, -1001234567890, "just chatting"); id != 0 {
		t.Fatalf("privacy mode let a plain group message through: %d", id)
	}
	if id := srv.SendInGroup(ann, -1001234567890, "/report@"+srv.BotUsername()+" leak"); id == 0 {
		t.Fatal("a command for the bot was not delivered")
	}
	if id := srv.SendInGroup(ann, -1001234567890, "/report@other_bot"); id != 0 {
		t.Fatal("a command for another bot was delivered")
	}
	ups, _ := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if len(ups) != 1 || ups[0].Message.Chat.Type != "supergroup" || ups[0].Message.Command() != "report" {
		t.Fatalf("%+v", ups)
	}
	srv.SetPrivacyMode(false)
	if id := srv.SendInGroup(ann, -1001234567890, "just chatting"); id == 0 {
		t.Fatal("privacy mode off: the message was not delivered")
	}
}

func TestJSONRequestsAndAllowedUpdates(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	srv.AddUser(ann)
	body := fmt.Sprintf(`{"chat_id":%d,"text":"<b>Hi</b> &amp; welcome","parse_mode":"HTML",
		"reply_markup":{"inline_keyboard":[[{"text":"Go","callback_data":"go"}]]}}`, ann.ID)
	resp, err := srv.Client().Post(srv.URL()+"/bot"+token+"/sendMessage", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		OK     bool             `json:"ok"`
		Result tgbotapi.Message `json:"result"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if !out.OK || out.Result.Text != "Hi & welcome" || len(out.Result.Entities) != 1 || out.Result.ReplyMarkup == nil {
		t.Fatalf("%+v", out)
	}

	// allowed_updates applies to updates created afterwards
	srv.SendText(ann, "before")
	status, _ := rawCall(t, srv, token, "getUpdates", url.Values{"allowed_updates": {`["callback_query"]`}})
	if status != 200 {
		t.Fatal(status)
	}
	if id := srv.SendText(ann, "after"); id != 0 {
		t.Fatalf("a message update was queued though only callback queries are allowed: %d", id)
	}
	if srv.PendingUpdates() != 1 {
		t.Fatalf("pending = %d", srv.PendingUpdates())
	}
}

func TestWaitSentWithoutSleeping(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.AddUser(ann)
	go func() {
		for i := range 3 {
			_, _ = bot.Send(tgbotapi.NewMessage(ann.ID, fmt.Sprint("step ", i)))
		}
	}()
	got, err := srv.WaitSent(ctxT(t, 5*time.Second), ann.ID, 3)
	if err != nil || len(got) != 3 || got[2].Text != "step 2" {
		t.Fatalf("%v %+v", err, got)
	}
	_, err = srv.WaitSent(ctxT(t, 50*time.Millisecond), ann.ID, 4)
	if err == nil || !strings.Contains(err.Error(), `"step 2"`) {
		t.Fatalf("timeout error = %v", err)
	}
}

// TestNoGoroutineLeak checks that a server with a long poll in flight and a
// failing webhook leaves no goroutine behind once its test is over.
func TestNoGoroutineLeak(t *testing.T) {
	settle := func(limit int) int {
		n := runtime.NumGoroutine()
		for deadline := time.Now().Add(5 * time.Second); n > limit && time.Now().Before(deadline); n = runtime.NumGoroutine() {
			time.Sleep(20 * time.Millisecond)
		}
		return n
	}
	before := runtime.NumGoroutine()
	t.Run("server", func(t *testing.T) {
		srv := telegramtest.NewServer(t, token)
		bot := newBot(t, srv)
		go func() { _, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 50}) }()
		if err := srv.WaitCalls(ctxT(t, 5*time.Second), "getUpdates", 1); err != nil {
			t.Fatal(err)
		}
		other := telegramtest.NewServer(t, token)
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
		t.Cleanup(hook.Close)
		wh, _ := tgbotapi.NewWebhook(hook.URL)
		if _, err := newBot(t, other).Request(wh); err != nil {
			t.Fatal(err)
		}
		other.SendText(ann, "x")
		if _, err := other.WaitDeliveries(ctxT(t, 5*time.Second), 2); err != nil {
			t.Fatal(err)
		}
	})
	if after := settle(before); after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

func TestDocumentsCaptionsAndDeletion(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.SendText(ann, "send me the form")
	doc := tgbotapi.NewDocument(ann.ID, tgbotapi.FileBytes{Name: "form.pdf", Bytes: []byte("%PDF-1.7 …")})
	doc.Caption = "Registration form"
	sent, err := bot.Send(doc)
	if err != nil || sent.Document == nil || sent.Document.FileName != "form.pdf" || sent.Document.MimeType != "application/pdf" || sent.Caption != "Registration form" {
		t.Fatalf("%v %+v", err, sent)
	}
	_, err = bot.Send(tgbotapi.NewEditMessageText(ann.ID, sent.MessageID, "x"))
	apiErr(t, err, 400, "Bad Request: there is no text in the message to edit")
	edited, err := bot.Send(tgbotapi.NewEditMessageCaption(ann.ID, sent.MessageID, "Form (signed)"))
	if err != nil || edited.Caption != "Form (signed)" {
		t.Fatalf("%v %+v", err, edited)
	}
	f, err := bot.GetFile(tgbotapi.FileConfig{FileID: sent.Document.FileID})
	if err != nil || !strings.HasPrefix(f.FilePath, "documents/") || !strings.HasSuffix(f.FilePath, ".pdf") {
		t.Fatalf("%v %+v", err, f)
	}
	if _, err := bot.Request(tgbotapi.NewDeleteMessage(ann.ID, sent.MessageID)); err != nil {
		t.Fatal(err)
	}
	_, err = bot.Request(tgbotapi.NewDeleteMessage(ann.ID, sent.MessageID))
	apiErr(t, err, 400, "Bad Request: message to delete not found")
	if m, _ := srv.LastSent(ann.ID); !m.Deleted {
		t.Fatalf("%+v", m)
	}
	_, err = bot.Request(tgbotapi.NewChatAction(ann.ID, "dancing"))
	apiErr(t, err, 400, "Bad Request: wrong parameter action in request")
	if _, err := bot.Request(tgbotapi.NewChatAction(ann.ID, tgbotapi.ChatUploadDocument)); err != nil || srv.ChatActions(ann.ID)[0] != "upload_document" {
		t.Fatalf("%v %v", err, srv.ChatActions(ann.ID))
	}
	ch, err := bot.GetChat(tgbotapi.ChatInfoConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: ann.ID}})
	if err != nil || ch.Type != "private" || ch.FirstName != "Ann" {
		t.Fatalf("%v %+v", err, ch)
	}
	// replying to a message
	reply := tgbotapi.NewMessage(ann.ID, "got it")
	reply.ReplyToMessageID = 1
	r, err := bot.Send(reply)
	if err != nil || r.ReplyToMessage == nil || r.ReplyToMessage.Text != "send me the form" {
		t.Fatalf("%v %+v", err, r)
	}
	reply.ReplyToMessageID = 99
	_, err = bot.Send(reply)
	apiErr(t, err, 400, "Bad Request: message to be replied not found")
}

func TestEditedMessageAndLongPollEndsOnClose(t *testing.T) {
	srv := telegramtest.NewServer(t, token)
	bot := newBot(t, srv)
	srv.SendText(ann, "leak in kitchen")
	srv.EditText(ann, 1, "leak in bathroom")
	ups, _ := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if len(ups) != 2 || ups[1].EditedMessage == nil || ups[1].EditedMessage.Text != "leak in bathroom" || ups[1].EditedMessage.EditDate == 0 {
		t.Fatalf("%+v", ups)
	}
	got := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: ups[1].UpdateID + 1, Timeout: 50})
		got <- err
	}()
	if err := srv.WaitCalls(ctxT(t, 5*time.Second), "getUpdates", 2); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a long poll hanging")
	}
}
