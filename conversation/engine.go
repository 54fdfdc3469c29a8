// Package conversation is the homeowner's dialogue: an engine that walks a
// user through steps — who they are, where the problem is, what it looks like,
// since when, photos, what they expect — validates each answer, reads the
// summary back and registers the case; and the shorter flows for progress,
// urging, consultations, complaints, suggestions and praise, and handing the
// conversation to a person. Every prompt is in the message catalogue, in
// Simplified Chinese and English.
package conversation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/identity"
	"github.com/aftersales/aftersales/lifecycle"
)

// Store is what the engine needs of the case registry.
type Store interface {
	casework.Store
	casework.IdentityStore
}

// Classifier proposes a category, subcategory and urgency for an owner's
// words; the first judgment reads the words of every case with it.
type Classifier = lifecycle.Classifier

// Config is what an Engine needs.
type Config struct {
	Store      Store
	Sessions   SessionStore
	Classifier Classifier
	SLA        casework.SLAPolicy
	Warranty   casework.WarrantyTerms // defaults; a project's own terms are merged over them
	Location   *time.Location         // the department's time zone
	Logger     *slog.Logger
	// NowFunc is the service's clock; required: the case's intake time,
	// deadlines, warranty day and idle sessions are counted by it.
	NowFunc func() time.Time

	IdleTimeout time.Duration // an unfinished dialogue expires after this; default 24 h
	SessionTTL  time.Duration // how long a session is kept at all; default 30 days
	// NoCaseSessionTTL is how long the session of a chat that came to no
	// case (and is no owner's or engineer's) is kept; default 48 h.
	NoCaseSessionTTL time.Duration
	UrgeInterval     time.Duration // the least time between two urges of a case; default 12 h
	MaxMedia         int           // attachments per report; default 9

	// ServiceHours are when people answer chats handed to them (转人工);
	// zero: 08:30–18:00 every day, in Location. Out of them the owner is
	// told when people answer next and what to do in an emergency.
	ServiceHours casework.ServiceHours
	// Hotline is the service hotline (服务热线) an owner calls in an
	// emergency out of hours; "": they are told to report it here, where
	// urgent reports are handled around the clock.
	Hotline string
	// HandoffAckInterval is the least time between two acknowledgements of
	// the owner's words while nobody has taken their hand-off; default 5 min.
	HandoffAckInterval time.Duration

	// CaseLimit bounds the cases one chat account registers (keyed by
	// UserRef.Key), and IPCaseLimit those from one address of the chat page
	// (Inbound.ClientIP): a report over either is kept at the read-back and
	// the owner asked to try later or ask a person. nil: no limit.
	CaseLimit, IPCaseLimit bot.Limiter

	// Identity checks who an account is (Telegram's contact, SMS codes)
	// and binds proven accounts to their owners; nil: one on Store without
	// SMS, so that only Telegram's contact or staff prove an owner.
	Identity *identity.Service

	// Lifecycle triages submitted cases and takes the actions of work
	// orders and notifications; nil: cases stay registered for staff and
	// lifecycle buttons are refused.
	Lifecycle *lifecycle.Service
}

// Engine runs the dialogue. It is safe for concurrent use as long as one
// user's messages are handled one at a time (the Router's lock sees to that).
type Engine struct {
	cfg Config
}

// New returns an Engine, filling defaults into cfg. It panics without
// cfg.NowFunc, which no default may stand in for.
func New(cfg Config) *Engine {
	if cfg.NowFunc == nil {
		panic("conversation.New: Config.NowFunc is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Identity == nil && cfg.Store != nil {
		cfg.Identity = identity.New(identity.Config{Store: cfg.Store, NowFunc: cfg.NowFunc, Logger: cfg.Logger})
	}
	if cfg.Location == nil {
		cfg.Location = casework.ChinaTime()
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 24 * time.Hour
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.NoCaseSessionTTL == 0 {
		cfg.NoCaseSessionTTL = min(48*time.Hour, cfg.SessionTTL)
	}
	if cfg.UrgeInterval == 0 {
		cfg.UrgeInterval = 12 * time.Hour
	}
	if cfg.MaxMedia == 0 {
		cfg.MaxMedia = 9
	}
	if cfg.HandoffAckInterval == 0 {
		cfg.HandoffAckInterval = 5 * time.Minute
	}
	if cfg.ServiceHours == (casework.ServiceHours{}) {
		cfg.ServiceHours = casework.DefaultServiceHours()
	}
	if cfg.SLA.Rules == nil {
		cfg.SLA = casework.DefaultSLAPolicy()
	}
	if cfg.Warranty.Statutory == nil {
		cfg.Warranty = casework.DefaultWarrantyTerms()
	}
	return &Engine{cfg: cfg}
}

// MaxInputRunes bounds one message's text; longer messages are refused with
// a request to shorten them, and the session is left as it was.
const MaxInputRunes = 2000

// turn is the handling of one inbound message: the session, the user's chat
// identity, and the replies being gathered.
type turn struct {
	ctx context.Context
	e   *Engine
	in  *bot.Inbound
	s   *Session
	id  *casework.ChatIdentity
	now time.Time
	out []bot.Outbound

	// The account's open hand-off (nil: none) once handoffRead.
	handoffRead bool
	handoffNow  *casework.Handoff
}

// T renders a catalogue message in the session's language.
func (t *turn) T(key string, kv ...string) string { return render(t.s.Lang, key, kv...) }

// field renders one "label：value" line of a summary, preceded by a newline.
func (t *turn) field(key, value string) string { return "\n" + t.T(key) + t.T("sep") + value }

// say queues a plain message.
func (t *turn) say(key string, kv ...string) { t.sayText(t.T(key, kv...)) }

func (t *turn) sayText(text string) {
	t.out = append(t.out, bot.Outbound{To: t.in.User, Kind: bot.OutText, Text: text})
}

// ask queues a message with choices and remembers them, so that a typed
// number or label selects one.
func (t *turn) ask(text string, choices ...bot.Choice) {
	t.s.Choices = choices
	t.out = append(t.out, bot.Outbound{To: t.in.User, Kind: bot.OutText, Text: text, Choices: choices})
}

func (t *turn) choice(key, payload string) bot.Choice {
	return bot.Choice{Label: t.T(key), Payload: payload}
}

// Handle handles one inbound message and returns the replies. It loads and
// saves the user's session; the caller holds the user's lock.
func (e *Engine) Handle(ctx context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
	now := e.cfg.NowFunc()
	key := in.User.Key()
	s, err := e.cfg.Sessions.Load(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	fresh := s == nil
	if fresh {
		s = &Session{User: in.User, Lang: languageOf(in.Language), StartedAt: now}
	}
	id, err := e.identity(ctx, in, s, now)
	if err != nil {
		return nil, err
	}
	if fresh && id.Lang != "" {
		s.Lang = Lang(id.Lang)
	}
	if fresh {
		// What the platform reports (Telegram's language_code, WeChat's user
		// info) and Chinese, the default, are a start that the owner's first
		// words may change; English on record where the platform says
		// nothing was chosen or detected; a known owner or engineer has
		// theirs.
		s.LangSure = id.OwnerID != 0 || id.MemberID != 0 || (s.Lang == English && in.Language == "")
	}
	t := &turn{ctx: ctx, e: e, in: in, s: s, id: id, now: now}
	if err := t.handle(fresh); err != nil {
		return nil, err
	}
	s.UpdatedAt = now
	if in.Kind == bot.KindUnfollow {
		if err := e.cfg.Sessions.Delete(ctx, key); err != nil {
			return nil, fmt.Errorf("delete session: %w", err)
		}
		return nil, nil
	}
	ttl := e.cfg.SessionTTL
	if !s.HasCase && !s.HandedOff && t.id.OwnerID == 0 && t.id.MemberID == 0 {
		ttl = e.cfg.NoCaseSessionTTL // a chat that came to nothing is not kept for a month
	}
	if err := e.cfg.Sessions.Save(ctx, s, ttl); err != nil {
		return nil, fmt.Errorf("save session: %w", err)
	}
	return t.out, nil
}

// identityFresh is how long a session trusts its copy of the chat identity
// before reading it from the store again (staff may have changed it), and how
// stale the stored time of the user's last message may grow before it is
// written again. A stale time only makes WeChat's 48-hour window look shorter.
const identityFresh = time.Minute

// identity returns the user's chat identity, creating it on first contact. A
// busy conversation reads it from the session's copy and writes it only when
// something changed or the last-message time is a minute old.
func (e *Engine) identity(ctx context.Context, in *bot.Inbound, s *Session, now time.Time) (*casework.ChatIdentity, error) {
	var id *casework.ChatIdentity
	if s.Identity != nil && now.Sub(s.IdentityAt) < identityFresh && !now.Before(s.IdentityAt) {
		c := *s.Identity
		id = &c
	} else {
		found, err := e.cfg.Store.FindChatIdentity(ctx, string(in.User.Platform), in.User.ID)
		switch {
		case errors.Is(err, casework.ErrNotFound):
			found = &casework.ChatIdentity{Platform: string(in.User.Platform), UserID: in.User.ID, Lang: string(languageOf(in.Language))}
		case err != nil:
			return nil, fmt.Errorf("find chat identity: %w", err)
		}
		id = found
		s.IdentityAt = now
	}
	dirty := id.CreatedAt.IsZero() || id.LastInboundAt == nil || now.Sub(*id.LastInboundAt) >= identityFresh
	if in.Name != "" && id.DisplayName != truncateRunes(in.Name, 100) {
		id.DisplayName, dirty = truncateRunes(in.Name, 100), true
	}
	if unreachable := in.Kind == bot.KindUnfollow; id.Unreachable != unreachable {
		id.Unreachable, dirty = unreachable, true
	}
	if dirty {
		id.LastInboundAt = &now
		if err := e.saveIdentity(ctx, id); err != nil {
			return nil, err
		}
	}
	c := *id
	s.Identity = &c
	return id, nil
}

// saveIdentity writes what the dialogue keeps of a chat account — its
// language, name, last message, hand-off, reachability — and takes who the
// account is from the store: the owner it proved to be, the engineer it was
// bound to, its default unit. Those are written by package identity, the
// lifecycle's binding and staff, never from a copy the dialogue held, which
// could undo a verification or an unbinding made meanwhile.
func (e *Engine) saveIdentity(ctx context.Context, id *casework.ChatIdentity) error {
	stored, err := e.cfg.Store.FindChatIdentity(ctx, id.Platform, id.UserID)
	switch {
	case errors.Is(err, casework.ErrNotFound):
		id.OwnerID, id.MemberID, id.UnitID, id.VerifiedPhone, id.VerifiedAt, id.VerifiedBy = 0, 0, 0, "", nil, ""
	case err != nil:
		return fmt.Errorf("find chat identity: %w", err)
	default:
		id.OwnerID, id.MemberID, id.UnitID = stored.OwnerID, stored.MemberID, stored.UnitID
		id.VerifiedPhone, id.VerifiedAt, id.VerifiedBy = stored.VerifiedPhone, stored.VerifiedAt, stored.VerifiedBy
	}
	if err := e.cfg.Store.SaveChatIdentity(ctx, id); err != nil {
		return fmt.Errorf("save chat identity: %w", err)
	}
	return nil
}

func (t *turn) saveIdentity() error {
	t.id.Lang = string(t.s.Lang)
	if err := t.e.saveIdentity(t.ctx, t.id); err != nil {
		return err
	}
	c := *t.id
	t.s.Identity, t.s.IdentityAt = &c, t.now
	return nil
}

// detectLang answers a chat in the language of the user's first words
// (wordsLang), when its language is still a default: an owner who writes
// English on WeChat, whose platform says nothing or Chinese, is answered in
// English from that message on. Words that show no language ("ok", a
// number) decide nothing.
func (t *turn) detectLang(text string) error {
	if _, ok := globalCommand(text); ok {
		return nil // a command word is no sign of a language
	}
	if _, ok := bindCommand(text); ok {
		return nil
	}
	l, ok := wordsLang(text)
	if !ok {
		return nil
	}
	t.s.LangSure = true
	if l == t.s.Lang {
		return nil
	}
	t.s.Lang = l
	return t.saveIdentity()
}

// wordsLang tells the language of a user's words: Chinese when they have a
// Chinese character; English when they have none and at least two words of
// Latin letters, or one of five letters or more ("hello", "leaking"); else
// no answer (ok, yes, a number, a unit like 3-1-201).
func wordsLang(text string) (Lang, bool) {
	words, longest, n := 0, 0, 0
	for _, r := range text + " " {
		switch {
		case unicode.Is(unicode.Han, r):
			return Chinese, true
		case r < utf8.RuneSelf && unicode.IsLetter(r):
			n++
			continue
		case r == '\'':
			continue // don't, it's
		}
		if n >= 2 {
			words++
		}
		longest, n = max(longest, n), 0
	}
	if words >= 2 || longest >= 5 {
		return English, true
	}
	return "", false
}

func languageOf(code string) Lang {
	if strings.HasPrefix(strings.ToLower(code), "en") {
		return English
	}
	return Chinese
}

// input is an inbound message reduced to what steps look at.
type input struct {
	text    string // cleaned text; for a choice, its payload
	payload string // set when the user picked an offered choice
	media   *bot.Media
	contact *bot.Contact
}

func (t *turn) handle(fresh bool) error {
	in := t.in
	if fresh && t.id.HandoffAt != nil {
		t.s.HandedOff = true // the session was lost; the store knows whether the hand-off is still open
	}
	switch in.Kind {
	case bot.KindUnfollow:
		if t.s.HandedOff {
			return t.endHandoff() // nobody can answer them any more
		}
		return nil
	case bot.KindFollow:
		if t.s.HandedOff {
			if err := t.endHandoff(); err != nil {
				return err
			}
		}
		t.say("welcome")
		return t.menu()
	}
	text := clean(in.Text)
	if utf8.RuneCountInString(text) > MaxInputRunes {
		t.say("too_long", "max", strconv.Itoa(MaxInputRunes))
		return nil
	}
	if in.Kind == bot.KindCommand {
		return t.command(in.Command, text)
	}
	if in.Kind == bot.KindMenu {
		return t.command(in.Payload, "")
	}
	inp := input{text: text, media: in.Media, contact: in.Contact}
	if in.Kind == bot.KindButton {
		inp.payload = in.Payload
		inp.text = in.Payload
	} else if p, ok := t.matchChoice(text); ok {
		inp.payload = p
	}
	if in.Kind == bot.KindText && inp.payload == "" && !t.s.LangSure && len(t.s.Slots) == 0 {
		if err := t.detectLang(text); err != nil {
			return err
		}
	}
	if in.Kind == bot.KindText && inp.payload == "" {
		if cmd, ok := globalCommand(text); ok {
			taken, err := t.handoffTaken()
			if err != nil {
				return err
			}
			if !taken || cmd == "menu" || cmd == "cancel" {
				return t.command(cmd, "")
			}
			// A person has the conversation: the word is for them.
		}
		if code, ok := bindCommand(text); ok {
			return t.command("bind", code)
		}
		// At a step, a bare "today" may be the answer to it, not the menu.
		if cmd, ok := engineerCommand(text); ok && t.engineer() && (t.s.Step == "" || !strings.EqualFold(text, "today")) {
			return t.command(cmd, "")
		}
	}
	if strings.HasPrefix(inp.payload, lifecycle.PayloadPrefix) {
		return t.lifecycleButton(inp.payload)
	}
	if t.s.HandedOff {
		if handled, err := t.whileHandedOff(inp); handled || err != nil {
			return err
		}
	}
	if !fresh && t.s.Flow != "" && t.now.Sub(t.s.UpdatedAt) > t.e.cfg.IdleTimeout {
		return t.expired()
	}
	if inp.payload != "" && strings.HasPrefix(inp.payload, "menu:") {
		return t.command(strings.TrimPrefix(inp.payload, "menu:"), "")
	}
	if t.s.Flow == "" || t.s.Step == "" {
		if t.engineer() {
			return t.engineerIdle(inp)
		}
		return t.idle(inp)
	}
	return t.answer(inp)
}

// answer passes the input to the current step.
func (t *turn) answer(inp input) error {
	st, ok := steps[t.s.Step]
	if !ok {
		t.e.cfg.Logger.Warn("session at an unknown step; restarting", "step", t.s.Step, "platform", t.in.User.Platform)
		t.reset()
		return t.menu()
	}
	if inp.payload == "retry" {
		return st.prompt(t)
	}
	if inp.media != nil && t.s.Step != "media" && t.s.Flow == flowReport {
		return t.acceptMedia(inp.media, false)
	}
	err := st.handle(t, inp)
	var r *reask
	if errors.As(err, &r) {
		t.s.Failures++
		t.say(r.key, r.kv...)
		if t.s.Failures >= 3 {
			t.s.Failures = 0
			t.ask(t.T("offer_human"), t.choice("choice.human", "menu:human"), t.choice("choice.keep_trying", "retry"))
			return nil
		}
		return st.prompt(t)
	}
	return err
}

// reask is a step's verdict that the answer was not usable: the message says
// why, and the step asks again.
type reask struct {
	key string
	kv  []string
}

func (r *reask) Error() string { return "reask: " + r.key }

func again(key string, kv ...string) error { return &reask{key: key, kv: kv} }

// step is one question of a flow.
type step struct {
	prompt func(t *turn) error
	handle func(t *turn, in input) error
}

// goTo moves to step name and asks its question; the current step is
// remembered for back/返回.
func (t *turn) goTo(name string) error {
	if t.s.Step != "" && t.s.Step != name {
		t.s.Back = append(t.s.Back, t.s.Step)
	}
	t.s.Step = name
	t.s.Failures = 0
	return steps[name].prompt(t)
}

// next moves to the step after the current one in the flow, or back to the
// summary when the owner is changing one field.
func (t *turn) next() error {
	if t.s.Editing && t.s.Step != "summary" {
		t.s.Editing = false
		return t.goTo("summary")
	}
	seq := flows[t.s.Flow]
	for i, name := range seq {
		if name != t.s.Step {
			continue
		}
		for _, nxt := range seq[i+1:] {
			if nxt == "description" && t.slot("description") != "" {
				continue // the owner described it in their first words
			}
			if nxt == "location" && t.slot("location") == "" {
				if loc, ok := t.knownLocation(); ok {
					// Not asked: a lift's place, or the room the owner
					// named in their first words; the summary shows it
					// and "change" corrects it.
					t.set("location", string(loc))
					t.set("location_detail", "")
					continue
				}
			}
			return t.goTo(nxt)
		}
	}
	return t.goTo(seq[0])
}

func (t *turn) reset() {
	t.s.Flow, t.s.Step, t.s.Back, t.s.Failures, t.s.Editing = "", "", nil, 0, false
	t.s.Slots, t.s.Media, t.s.Choices = nil, nil, nil
}

func (t *turn) slot(k string) string { return t.s.Slots[k] }

func (t *turn) set(k, v string) {
	if t.s.Slots == nil {
		t.s.Slots = map[string]string{}
	}
	t.s.Slots[k] = v
}

// command runs a global command or menu key.
func (t *turn) command(cmd, args string) error {
	switch strings.ToLower(cmd) {
	case "start", "menu":
		t.reset()
		if t.s.HandedOff || t.id.HandoffAt != nil {
			if err := t.endHandoff(); err != nil {
				return err
			}
		}
		return t.menu()
	case "report":
		return t.startFlow(flowReport)
	case "status", "cases":
		if t.engineer() {
			return t.myOrders() // an engineer's "progress" is their orders
		}
		return t.myCases()
	case "urge":
		return t.startFlow(flowUrge)
	case "consult":
		return t.startFlow(flowConsult)
	case "complain":
		return t.startFlow(flowComplaint)
	case "suggest":
		return t.startFlow(flowSuggestion)
	case "praise":
		return t.startFlow(flowPraise)
	case "help":
		if t.engineer() {
			t.say("eng.help")
		} else {
			t.say("help")
		}
		if t.s.Step != "" && !t.s.HandedOff {
			return steps[t.s.Step].prompt(t)
		}
		return nil
	case "cancel":
		hadFlow := t.s.Flow != ""
		t.reset()
		if t.s.HandedOff {
			// Leaving the person: as 菜单.
			if err := t.endHandoff(); err != nil {
				return err
			}
			return t.menu()
		}
		if hadFlow {
			t.say("cancelled")
		}
		return t.menu()
	case "back":
		return t.back()
	case "human":
		return t.handoff()
	case "bind":
		return t.bind(args)
	case "orders":
		return t.myOrders()
	case "today":
		return t.todayVisits()
	case "verify":
		return t.startFlow(flowVerify)
	case "lang":
		switch strings.ToLower(strings.TrimSpace(args)) {
		case "en", "english":
			return t.setLang(English)
		case "zh", "中文", "cn":
			return t.setLang(Chinese)
		}
		if t.s.Lang == English {
			return t.setLang(Chinese)
		}
		return t.setLang(English)
	case "english":
		return t.setLang(English)
	case "chinese":
		return t.setLang(Chinese)
	}
	t.say("unknown_command")
	return t.menu()
}

func (t *turn) setLang(l Lang) error {
	t.s.Lang, t.s.LangSure = l, true
	if err := t.saveIdentity(); err != nil {
		return err
	}
	t.say("lang_set")
	if t.s.Step != "" && !t.s.HandedOff {
		return steps[t.s.Step].prompt(t)
	}
	return t.menu()
}

func (t *turn) back() error {
	if len(t.s.Back) == 0 {
		if t.s.Step != "" {
			t.say("no_back")
			return steps[t.s.Step].prompt(t)
		}
		return t.menu()
	}
	prev := t.s.Back[len(t.s.Back)-1]
	t.s.Back = t.s.Back[:len(t.s.Back)-1]
	t.s.Step, t.s.Failures, t.s.Editing = prev, 0, false
	return steps[prev].prompt(t)
}

// globalCommand recognises the words that work at any step, in either
// language: the whole message must be the word.
func globalCommand(text string) (string, bool) {
	w := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(text, "/")))
	switch w {
	case "menu", "菜单", "主菜单", "start", "开始":
		return "menu", true
	case "cancel", "取消", "退出", "不要了", "算了", "不报了", "never mind", "nevermind", "stop":
		return "cancel", true
	case "back", "返回", "上一步":
		return "back", true
	case "help", "帮助", "?", "？":
		return "help", true
	case "human", "人工", "人工客服", "转人工", "客服", "agent", "person":
		return "human", true
	case "status", "进度", "我的报修", "查询进度", "progress", "my cases":
		return "status", true
	case "english":
		return "english", true
	case "中文", "chinese":
		return "chinese", true
	case "报修", "report":
		return "report", true
	case "投诉", "complain", "complaint":
		return "complain", true
	case "咨询", "consult", "question":
		return "consult", true
	case "建议", "suggest", "suggestion":
		return "suggest", true
	case "表扬", "praise":
		return "praise", true
	case "催办", "urge", "hurry":
		return "urge", true
	case "orders", "my orders", "我的工单", "工单":
		return "orders", true
	case "verify", "验证", "验证身份", "验证手机", "验证手机号":
		return "verify", true
	}
	return "", false
}

// bindCommand recognises "/bind CODE" or "绑定 CODE" typed as text (on
// WeChat, where there are no bot commands).
func bindCommand(text string) (string, bool) {
	for _, p := range []string{"/bind", "bind", "绑定"} {
		if rest, ok := strings.CutPrefix(text, p); ok && (rest == "" || rest[0] == ' ' || strings.HasPrefix(rest, "　")) {
			return strings.TrimSpace(strings.TrimPrefix(rest, "　")), true
		}
	}
	return "", false
}

// clean trims the text and drops control characters other than line breaks
// and tabs; invalid UTF-8 becomes U+FFFD.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u200b' || r == '\ufeff' {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string { return casework.TruncateRunes(s, n) }

// hasWords reports whether s has at least n letters or digits (emoji and
// punctuation alone are not an answer).
func hasWords(s string, n int) bool { return casework.HasWords(s, n) }
