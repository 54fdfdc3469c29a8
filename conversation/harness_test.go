package conversation_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/classify"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/identity"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/storage/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// start is 23:00 on a Friday in Shanghai: the leak comes at night.
var start = testclock.Start()

// recorder is a Channel that writes what the bot says into the transcript.
type recorder struct {
	platform bot.Platform
	mu       sync.Mutex
	out      []bot.Outbound
	fail     error
}

func (r *recorder) Platform() bot.Platform { return r.platform }
func (r *recorder) Send(_ context.Context, m bot.Outbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	for _, c := range m.Choices {
		if len(c.Payload) > 64 || c.Payload == "" {
			// Telegram's callback_data takes 1–64 bytes.
			return fmt.Errorf("choice %q has a payload of %d bytes; 1–64 fit a Telegram button", c.Label, len(c.Payload))
		}
	}
	r.out = append(r.out, m)
	return nil
}

// FetchMedia serves the bytes a test "uploaded" under a FileID.
func (r *recorder) FetchMedia(_ context.Context, m *bot.Media) (io.ReadCloser, error) {
	b, ok := uploads.Load(m.FileID)
	if !ok {
		return nil, fmt.Errorf("no such file %q", m.FileID)
	}
	return io.NopCloser(bytes.NewReader(b.([]byte))), nil
}

var uploads sync.Map

// world is a running dialogue: the real engine and router on a store loaded
// with the example project (SQLite, unless newWorldOn was given another), with
// a fixed clock.
type world struct {
	t        testing.TB
	clock    *testclock.Clock
	store    *sqlite.DB      // newWorld's SQLite store; nil in a world of newWorldOn
	db       lifecycle.Store // the store the engine runs on: store, or newWorldOn's
	engine   *conversation.Engine
	router   *bot.Router
	rec      *recorder
	sessions *conversation.MemoryStore
	sms      *fakeSMS // the SMS provider: the codes sent, by phone
	identity *identity.Service
	seq      int
	logs     bytes.Buffer // everything the service logged, at debug level
	lastOut  []bot.Outbound
	log      strings.Builder
	lc       *lifecycle.Service // withLifecycle's; nil without
	pushed   map[int64]bool     // the outbox messages pushedTo wrote
}

func newWorld(t testing.TB) *world {
	t.Helper()
	clock := testclock.New(start)
	db := openSQLite(t, clock.Now)
	w := newWorldOn(t, clock, db)
	w.store = db
	return w
}

// openSQLite opens an SQLite store in a temporary directory on the clock
// now, migrated and loaded with the example project; it is closed when the
// test ends.
func openSQLite(t testing.TB, now func() time.Time) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), sqlite.Options{Numbering: casework.DefaultNumbering(), NowFunc: now})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	loadExample(t, db)
	return db
}

// loadExample migrates db and loads the example project into it.
func loadExample(t testing.TB, db interface {
	Migrate(ctx context.Context) error
	Import(ctx context.Context, batch *casework.ImportBatch) (casework.ImportStats, error)
}) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.Migrate(ctx))
	batch, err := testclock.ExampleBatch()
	require.NoError(t, err)
	_, err = db.Import(ctx, batch)
	require.NoError(t, err)
}

// newWorldOn is newWorld on the store db, whose clock is clock: a store of
// either backend, loaded with the example project. The world's store field
// stays nil; its db is db.
func newWorldOn(t testing.TB, clock *testclock.Clock, db lifecycle.Store) *world {
	t.Helper()
	w := &world{t: t, clock: clock, db: db, rec: &recorder{platform: bot.Telegram}, sessions: conversation.NewMemoryStore(), sms: &fakeSMS{}}
	w.identity = identity.New(identity.Config{Store: db, Sender: w.sms, NowFunc: clock.Now, Logger: w.logger()})
	w.engine = conversation.New(w.config())
	w.router = &bot.Router{
		Handler:  w.engine,
		Dedupe:   bot.NewMemoryDeduper(),
		Locker:   bot.NewMemoryLocker(),
		Intake:   &bot.Intake{Blobs: &bot.FileBlobStore{Dir: filepath.Join(t.TempDir(), "media")}, Policy: bot.DefaultMediaPolicy()},
		Channels: map[bot.Platform]bot.Channel{bot.Telegram: w.rec, bot.WeChat: w.rec, bot.Web: w.rec},
		Logger:   w.logger(),
	}
	return w
}

// config is the engine's configuration in the world: its store, sessions,
// the classifier's rules, its clock, its log and its identity service.
func (w *world) config() conversation.Config {
	return conversation.Config{
		Store:      w.db,
		Sessions:   w.sessions,
		Classifier: classify.New(nil),
		NowFunc:    w.clock.Now,
		Logger:     w.logger(),
		Identity:   w.identity,
	}
}

// reconfigure gives the world an engine made from its configuration as edit
// changes it (another store, a lifecycle, limits…).
func (w *world) reconfigure(edit func(*conversation.Config)) {
	cfg := w.config()
	edit(&cfg)
	w.engine = conversation.New(cfg)
	w.router.Handler = w.engine
}

func (w *world) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(&lockedWriter{w: &w.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// user is one chat account in the world.
type user struct {
	w    *world
	ref  bot.UserRef
	lang string
}

func (w *world) user(id, lang string) *user {
	return &user{w: w, ref: bot.UserRef{Platform: bot.Telegram, ID: id}, lang: lang}
}

func (u *user) deliver(in *bot.Inbound) {
	w := u.w
	w.t.Helper()
	w.seq++
	in.User, in.MessageID, in.Time, in.Language = u.ref, fmt.Sprint(w.seq), w.clock.Now(), u.lang
	w.rec.mu.Lock()
	w.rec.out = nil
	w.rec.mu.Unlock()
	require.NoError(w.t, w.router.Dispatch(context.Background(), in))
	w.rec.mu.Lock()
	w.lastOut = w.rec.out
	w.rec.mu.Unlock()
	for _, o := range w.lastOut {
		w.log.WriteString(renderOut(o))
	}
}

func renderOut(o bot.Outbound) string {
	var b strings.Builder
	for _, line := range strings.Split(o.Text, "\n") {
		b.WriteString("< " + line + "\n")
	}
	for i, c := range o.Choices {
		fmt.Fprintf(&b, "    [%d] %s (%s)\n", i+1, c.Label, unixText(c.Payload))
	}
	if o.RequestContact {
		b.WriteString("    [share my phone number]\n")
	}
	return b.String()
}

// unixPayload matches a time a payload ends with in Unix seconds
// ("slot:1795863600").
var unixPayload = regexp.MustCompile(`:[0-9]{8,11}$`)

// unixText writes the Unix seconds in payload as a date and time in the
// department's zone, so that a golden transcript moves with the tests'
// dates (testclock.Text).
func unixText(payload string) string {
	return unixPayload.ReplaceAllStringFunc(payload, func(m string) string {
		sec, _ := strconv.ParseInt(m[1:], 10, 64)
		return ":" + time.Unix(sec, 0).In(casework.ChinaTime()).Format("2006-01-02T15:04")
	})
}

// say sends text as the owner types it; a date in it moves with the tests'
// dates (testclock.Text).
func (u *user) say(text string) {
	u.w.t.Helper()
	text = testclock.Text(text)
	if strings.ContainsFunc(text, func(r rune) bool { return r < 0x20 }) {
		fmt.Fprintf(&u.w.log, "> %q\n", text)
	} else {
		fmt.Fprintf(&u.w.log, "> %s\n", text)
	}
	u.deliver(&bot.Inbound{Kind: bot.KindText, Text: text})
}

// press taps the choice with payload among those the bot just offered; the
// test fails when the bot offered no such choice.
func (u *user) press(payload string) {
	u.w.t.Helper()
	payload = testclock.Text(payload) // a case number names its day
	for _, o := range u.w.lastOut {
		for _, c := range o.Choices {
			if c.Payload == payload {
				fmt.Fprintf(&u.w.log, "> [%s]\n", c.Label)
				u.deliver(&bot.Inbound{Kind: bot.KindButton, Payload: payload})
				return
			}
		}
	}
	u.w.t.Fatalf("no choice %q offered; the bot said:\n%s", payload, u.w.log.String())
}

func (u *user) command(cmd string) {
	u.w.t.Helper()
	fmt.Fprintf(&u.w.log, "> /%s\n", cmd)
	u.deliver(&bot.Inbound{Kind: bot.KindCommand, Command: cmd})
}

func (u *user) contact(phone string, own bool) {
	u.w.t.Helper()
	fmt.Fprintf(&u.w.log, "> [contact %s own=%v]\n", phone, own)
	u.deliver(&bot.Inbound{Kind: bot.KindContact, Contact: &bot.Contact{Phone: phone, Own: own}})
}

func (u *user) send(kind bot.Kind, name string, data []byte, announced int64) {
	u.w.t.Helper()
	id := fmt.Sprintf("file-%d", u.w.seq+1)
	uploads.Store(id, data)
	fmt.Fprintf(&u.w.log, "> [%s %s, %d bytes]\n", kind, name, max(announced, int64(len(data))))
	u.deliver(&bot.Inbound{Kind: kind, Media: &bot.Media{FileID: id, FileName: name, Size: announced}})
}

// typeCode types the verification code last sent by SMS to phone, as the
// owner reads it off their phone; the transcript shows where it went.
func (u *user) typeCode(phone string) {
	u.w.t.Helper()
	code := u.w.sms.last(u.w.t, phone)
	fmt.Fprintf(&u.w.log, "> [the code sent to %s]\n", casework.MaskPhone(phone))
	u.deliver(&bot.Inbound{Kind: bot.KindText, Text: code})
}

// fakeSMS is the SMS provider: it keeps the codes it was asked to send.
type fakeSMS struct {
	mu   sync.Mutex
	sent map[string][]string // by phone
}

func (f *fakeSMS) SendCode(_ context.Context, phone, code string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sent == nil {
		f.sent = map[string][]string{}
	}
	f.sent[phone] = append(f.sent[phone], code)
	return nil
}

// last is the newest code sent to phone.
func (f *fakeSMS) last(t testing.TB, phone string) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	codes := f.sent[phone]
	require.NotEmpty(t, codes, "no code was sent to %s", phone)
	return codes[len(codes)-1]
}

// count is how many codes were sent to phone.
func (f *fakeSMS) count(phone string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent[phone])
}

// png is a small real PNG image.
var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// golden compares the transcript with testdata/transcripts/NAME.golden, or
// rewrites it with -update.
func (w *world) golden(name string) {
	w.t.Helper()
	path := filepath.Join("testdata", "transcripts", name+".golden")
	got := w.log.String()
	if *update {
		require.Zero(w.t, testclock.ShiftYears(), "golden transcripts are written without %s", testclock.ShiftEnv)
		require.NoError(w.t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(w.t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(w.t, err, "run go test ./conversation -update to create it")
	require.Equal(w.t, testclock.Text(string(want)), got, "transcript %s differs (go test ./conversation -run %s -update rewrites it)", name, w.t.Name())
}

// note writes a comment line into the transcript.
func (w *world) note(format string, args ...any) {
	fmt.Fprintf(&w.log, "# "+format+"\n", args...)
}
