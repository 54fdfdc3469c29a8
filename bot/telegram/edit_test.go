package telegram_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/telegram"
	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
	"github.com/aftersales/aftersales/internal/testclock"
)

// editWorld is an adapter on the fake Bot API with one user who wrote to
// the bot.
type editWorld struct {
	srv   *telegramtest.Server
	a     *telegram.Adapter
	blobs *bot.FileBlobStore
	user  bot.UserRef
	chat  int64
}

func newEditWorld(t *testing.T) *editWorld {
	t.Helper()
	srv := telegramtest.NewServer(t, "515151:AAHeditediteditediteditediteditedit")
	srv.AddUser(telegramtest.User{ID: 4242, FirstName: "工程师"})
	blobs := &bot.FileBlobStore{Dir: t.TempDir(), NowFunc: testclock.New(testclock.Start()).Now}
	a, err := telegram.New(t.Context(), telegram.Config{
		Token: srv.Token(), APIURL: srv.URL(), HTTPClient: srv.Client(),
		DispatchFunc: func(context.Context, *bot.Inbound) error { return nil },
		Blobs:        blobs,
		PerChatRate:  100, PerChatBurst: 100, MaxAttempts: 3,
	})
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return &editWorld{srv: srv, a: a, blobs: blobs, user: bot.UserRef{Platform: bot.Telegram, ID: "4242"}, chat: 4242}
}

// order sends a work order with its buttons and returns its reference.
func (w *editWorld) order(t *testing.T, text string) string {
	t.Helper()
	ref, err := w.a.SendRef(t.Context(), bot.Outbound{To: w.user, Kind: bot.OutText, Text: text, Choices: []bot.Choice{
		{Label: "接单", Payload: "lc:take:SH-1"}, {Label: "拒单", Payload: "lc:decline:SH-1"},
	}})
	require.NoError(t, err)
	return ref
}

// message returns the bot's message a reference names, as it stands.
func (w *editWorld) message(t *testing.T, ref string) telegramtest.SentMessage {
	t.Helper()
	chat, id, ok := strings.Cut(ref, ":")
	require.True(t, ok, "reference %q", ref)
	require.Equal(t, strconv.FormatInt(w.chat, 10), chat)
	n, err := strconv.Atoi(id)
	require.NoError(t, err)
	m, ok := w.srv.Message(w.chat, n)
	require.True(t, ok, "message %s", ref)
	return m
}

func TestSendRefNamesTheMessageWithTheButtons(t *testing.T) {
	t.Parallel()
	w := newEditWorld(t)
	ref := w.order(t, "【派工单】SH-1\n任务：漏水")
	m := w.message(t, ref)
	assert.Equal(t, "【派工单】SH-1\n任务：漏水", m.Text)
	assert.Len(t, m.ReplyMarkup.InlineButtons(), 2)

	// A text too long for one message: the reference names its last part,
	// which shows the buttons.
	long := strings.Repeat("第一行内容\n", 1000)
	ref = w.order(t, long)
	m = w.message(t, ref)
	assert.Len(t, m.ReplyMarkup.InlineButtons(), 2)
	sent := w.srv.Sent(w.chat)
	assert.Equal(t, sent[len(sent)-1].MessageID, m.MessageID)

	// Typing has nothing to refer to.
	ref, err := w.a.SendRef(t.Context(), bot.Outbound{To: w.user, Kind: bot.OutTyping})
	require.NoError(t, err)
	assert.Empty(t, ref)
}

func TestEditTakesTheButtonsAwayAndMarksTheText(t *testing.T) {
	t.Parallel()
	w := newEditWorld(t)
	text := "【派工单】SH-1\n任务：漏水"
	ref := w.order(t, text)
	edit := bot.Outbound{To: w.user, Kind: bot.OutEdit, Ref: ref, Text: text, Mark: "（已改派）"}

	got, err := w.a.SendRef(t.Context(), edit)
	require.NoError(t, err)
	assert.Empty(t, got, "an edit delivers no new message")
	m := w.message(t, ref)
	assert.Equal(t, text+"\n（已改派）", m.Text)
	assert.Empty(t, m.ReplyMarkup.InlineButtons(), "no buttons left")
	assert.True(t, m.Edited)
	reqs := w.srv.RequestsFor("editMessageText")
	require.Len(t, reqs, 1)
	assert.NotContains(t, reqs[0].Params, "reply_markup", "no markup: the keyboard goes")
	assert.Equal(t, strconv.FormatInt(w.chat, 10), reqs[0].Params["chat_id"])
	assert.Equal(t, strconv.Itoa(m.MessageID), reqs[0].Params["message_id"])

	// The same edit again (a delivery retried): Telegram answers "message is
	// not modified", which is done, not a failure.
	require.NoError(t, w.a.Send(t.Context(), edit))
	reqs = w.srv.RequestsFor("editMessageText")
	require.Len(t, reqs, 2)
	assert.Equal(t, 400, reqs[1].ErrorCode)
	assert.Contains(t, reqs[1].Description, "message is not modified")
	assert.Equal(t, 1, w.message(t, ref).EditCount)
}

func TestEditWithoutMarkTakesTheButtonsOnly(t *testing.T) {
	t.Parallel()
	w := newEditWorld(t)
	ref := w.order(t, "【派工单】SH-2")
	require.NoError(t, w.a.Send(t.Context(), bot.Outbound{To: w.user, Kind: bot.OutEdit, Ref: ref}))
	m := w.message(t, ref)
	assert.Equal(t, "【派工单】SH-2", m.Text)
	assert.Nil(t, m.ReplyMarkup)
	assert.Len(t, w.srv.RequestsFor("editMessageReplyMarkup"), 1)
	assert.Empty(t, w.srv.RequestsFor("editMessageText"))

	// Again: not modified, done.
	require.NoError(t, w.a.Send(t.Context(), bot.Outbound{To: w.user, Kind: bot.OutEdit, Ref: ref}))
	reqs := w.srv.RequestsFor("editMessageReplyMarkup")
	require.Len(t, reqs, 2)
	assert.Contains(t, reqs[1].Description, "message is not modified")
}

func TestEditOfTheLastPartOfALongText(t *testing.T) {
	t.Parallel()
	w := newEditWorld(t)
	long := strings.Repeat("第一行内容\n", 1000) + "最后一行"
	ref := w.order(t, long)
	before := w.message(t, ref).Text
	require.NoError(t, w.a.Send(t.Context(), bot.Outbound{To: w.user, Kind: bot.OutEdit, Ref: ref, Text: long, Mark: "（已改派）"}))
	m := w.message(t, ref)
	assert.Equal(t, before+"\n（已改派）", m.Text, "the part the reference names, marked")
	assert.Nil(t, m.ReplyMarkup)
}

func TestEditOfAPhotoTakesItsButtonsOnly(t *testing.T) {
	t.Parallel()
	w := newEditWorld(t)
	var png bytes.Buffer
	require.NoError(t, encodePNG(&png))
	blob, err := w.blobs.Put(t.Context(), &png, "image/png", 1<<20)
	require.NoError(t, err)
	ref, err := w.a.SendRef(t.Context(), bot.Outbound{To: w.user, Kind: bot.OutPhoto, BlobKey: blob.Key, Text: "现场照片"})
	require.NoError(t, err)
	require.NotEmpty(t, ref)

	// A photo has no text to mark: the keyboard alone is edited, and as it
	// has none, "not modified" — done.
	require.NoError(t, w.a.Send(t.Context(), bot.Outbound{To: w.user, Kind: bot.OutEdit, Ref: ref, Text: "现场照片", Mark: "（已改派）"}))
	assert.Contains(t, w.srv.RequestsFor("editMessageText")[0].Description, "there is no text in the message to edit")
	assert.Len(t, w.srv.RequestsFor("editMessageReplyMarkup"), 1)
	assert.Equal(t, "现场照片", w.message(t, ref).Text)
}

func TestEditRefusedForGood(t *testing.T) {
	t.Parallel()
	w := newEditWorld(t)
	w.order(t, "【派工单】SH-3")

	// A message Telegram does not know: 400, final — retrying cannot help.
	err := w.a.Send(t.Context(), bot.Outbound{To: w.user, Kind: bot.OutEdit, Ref: "4242:999", Text: "x", Mark: "（已改派）"})
	require.ErrorIs(t, err, bot.ErrUndeliverable)
	assert.Contains(t, err.Error(), "message to edit not found")
	reqs := w.srv.RequestsFor("editMessageText")
	require.Len(t, reqs, 1, "tried once")
	assert.Equal(t, 400, reqs[0].ErrorCode)

	// References that name no message of this chat are refused unsent.
	for _, ref := range []string{"", "4242", "4242:x", "4242:0", "7:1"} {
		err := w.a.Send(t.Context(), bot.Outbound{To: w.user, Kind: bot.OutEdit, Ref: ref})
		require.ErrorIs(t, err, bot.ErrUndeliverable, "ref %q", ref)
	}
	assert.Empty(t, w.srv.RequestsFor("editMessageReplyMarkup"))
}

func TestEditWaitsOutFloodControl(t *testing.T) {
	t.Parallel()
	w := newEditWorld(t)
	ref := w.order(t, "【派工单】SH-4")
	w.srv.FailNext("editMessageText", 1, 429, "", 1)
	start := time.Now()
	require.NoError(t, w.a.Send(t.Context(), bot.Outbound{To: w.user, Kind: bot.OutEdit, Ref: ref, Text: "【派工单】SH-4", Mark: "（已改派）"}))
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "retry_after is honoured")
	assert.Equal(t, "【派工单】SH-4\n（已改派）", w.message(t, ref).Text)
}

func encodePNG(buf *bytes.Buffer) error {
	return png.Encode(buf, image.NewRGBA(image.Rect(0, 0, 4, 4)))
}
