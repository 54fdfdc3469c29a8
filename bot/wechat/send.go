package wechat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"mime/multipart"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"github.com/aftersales/aftersales/bot"
)

// maxText is WeChat's limit on the content of a text message, in bytes of
// UTF-8: customer-service messages and passive replies alike.
const maxText = 2048

// maxPhotoBytes is WeChat's limit on an uploaded image (temporary media).
const maxPhotoBytes = 10 << 20

// unit is one message as WeChat carries it: a text of at most maxText
// bytes, or a photo.
type unit struct {
	text    string
	blobKey string // a photo when set
	// src is the outbound message the unit starts, which goes by template
	// when the window is closed; nil for the second and later parts of a
	// long text, which are not sent at all then.
	src *bot.Outbound
	// question: the text asks with options, and is a message of its own.
	question bool
}

// Send delivers msg as customer-service messages: a text with its choices
// as numbered options the user can tap (see render), cut at line breaks into parts of at most 2,048 bytes,
// each part one message of the user's quota; a photo uploaded as temporary
// media. When the user's window is closed or its quota used up, msg goes as
// a template message if Config.Template has one, and otherwise Send returns
// a *NotDeliveredError. WeChat's own refusals (45015, 45047, 43004) are
// final too: *NotDeliveredError, never tried again. Typing indicators are
// dropped, and so are edits (bot.OutEdit): WeChat cannot change a message
// it delivered.
func (a *Adapter) Send(ctx context.Context, msg bot.Outbound) error {
	out := []bot.Outbound{msg}
	a.rememberOptions(ctx, out)
	return a.deliver(ctx, msg.To, pack(out))
}

// deliver sends units to user in order, stopping at the first failure.
func (a *Adapter) deliver(ctx context.Context, to bot.UserRef, units []unit) error {
	if to.Platform != bot.WeChat || to.ID == "" {
		return fmt.Errorf("wechat: cannot send to %q", to.Key())
	}
	for _, u := range units {
		if err := a.deliverUnit(ctx, to, u); err != nil {
			return err
		}
	}
	return nil
}

func (a *Adapter) deliverUnit(ctx context.Context, to bot.UserRef, u unit) error {
	log := a.log.With("user_id", to.ID)
	err := a.cfg.Windows.Take(ctx, to.ID, a.now())
	switch {
	case errors.Is(err, ErrWindowClosed), errors.Is(err, ErrQuotaExceeded):
		if a.cfg.Template.ID != "" && u.src != nil {
			log.Info("wechat: customer-service window closed; sending a template message", "reason", err)
			return a.sendTemplate(ctx, *u.src)
		}
		log.Warn("wechat: message not delivered: customer-service window closed and no template", "reason", err)
		return &NotDeliveredError{UserID: to.ID, Err: err}
	case err != nil:
		// The count is unavailable; WeChat's answer decides.
		log.Warn("wechat: customer-service window unknown", "error", err)
	}
	if u.blobKey != "" {
		err = a.sendPhoto(ctx, to.ID, u.blobKey)
	} else {
		err = a.call(ctx, "custom/send", "/cgi-bin/message/custom/send", nil, message.NewCustomerTextMessage(to.ID, u.text), nil, false)
	}
	return a.refused(ctx, to, err)
}

// refused records what a final refusal of WeChat says about the user and
// turns it into a *NotDeliveredError; other errors are returned as they are.
func (a *Adapter) refused(ctx context.Context, to bot.UserRef, err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	var record func(context.Context, string) error
	switch {
	case errors.Is(ae, ErrWindowClosed):
		record = a.cfg.Windows.Close
	case errors.Is(ae, ErrQuotaExceeded):
		record = a.cfg.Windows.Exhaust
	case errors.Is(ae, ErrUnreachable):
		record = a.cfg.Windows.Close
		a.unreachable(ctx, to, ae)
	default:
		return err
	}
	a.log.Warn("wechat: message refused; not retried", "user_id", to.ID, "api", ae.API, "errcode", ae.Code)
	if rerr := record(context.WithoutCancel(ctx), to.ID); rerr != nil {
		a.log.Warn("wechat: recording the refusal failed", "user_id", to.ID, "error", rerr)
	}
	return &NotDeliveredError{UserID: to.ID, Err: err}
}

func (a *Adapter) unreachable(ctx context.Context, to bot.UserRef, why *APIError) {
	a.log.Info("wechat user unreachable", "user_id", to.ID, "errcode", why.Code)
	if a.cfg.UnreachableFunc == nil {
		return
	}
	if err := a.cfg.UnreachableFunc(context.WithoutCancel(ctx), to); err != nil {
		a.log.Error("wechat: recording an unreachable user failed", "user_id", to.ID, "error", err)
	}
}

// Template configures the template message (模板消息) that carries a
// message outside the customer-service window. Template messages need a
// template added to the account (广告与服务 → 模板消息); its id goes in ID.
type Template struct {
	// ID is the template's id; empty: no template messages, and a message
	// outside the window is not delivered.
	ID string
	// URL, when set, is the page opened when the user taps the message.
	URL string
	// DataFunc fills the template's fields (name → value) for a message at
	// now (in Config.Location); default GenericTemplateData.
	DataFunc func(msg bot.Outbound, now time.Time) map[string]string
}

// GenericTemplateData fills a "generic notification" template whose
// content is
//
//	{{first.DATA}}
//	内容：{{keyword1.DATA}}
//	时间：{{keyword2.DATA}}
//	{{remark.DATA}}
//
// with the message's text (its first 200 characters), the time, and an
// invitation to reply, which opens the customer-service window again.
func GenericTemplateData(msg bot.Outbound, now time.Time) map[string]string {
	return map[string]string{
		"first":    "您好，售后服务中心给您发来一条消息。",
		"keyword1": templateContent(msg),
		"keyword2": now.Format("2006-01-02 15:04"),
		"remark":   "回复本公众号任意消息即可继续办理。",
	}
}

// templateContent is a message's text with its numbered options, in 200
// characters: the text is shortened, never the options, which a reply by
// number picks.
func templateContent(msg bot.Outbound) string {
	const max = 200
	text := strings.TrimSpace(msg.Text)
	if len(msg.Choices) == 0 {
		return clip(text, max)
	}
	opts := renderPlain(bot.Outbound{Choices: msg.Choices, To: msg.To})
	if room := max - utf8.RuneCountInString(opts) - 1; room >= 20 {
		return clip(text, room) + "\n" + opts
	}
	return clip(text+"\n"+opts, max)
}

// templateMessage is the body of message/template/send (the SDK's type
// always sends an empty miniprogram).
type templateMessage struct {
	ToUser     string                               `json:"touser"`
	TemplateID string                               `json:"template_id"`
	URL        string                               `json:"url,omitempty"`
	Data       map[string]*message.TemplateDataItem `json:"data"`
}

func (a *Adapter) sendTemplate(ctx context.Context, msg bot.Outbound) error {
	fields := a.cfg.Template.DataFunc(msg, a.now().In(a.cfg.Location))
	tm := templateMessage{ToUser: msg.To.ID, TemplateID: a.cfg.Template.ID, URL: a.cfg.Template.URL, Data: map[string]*message.TemplateDataItem{}}
	for k, v := range fields {
		tm.Data[k] = &message.TemplateDataItem{Value: v}
	}
	err := a.call(ctx, "template/send", "/cgi-bin/message/template/send", nil, tm, nil, false)
	return a.refused(ctx, msg.To, err)
}

// sendPhoto uploads a stored photo as temporary media and sends it.
func (a *Adapter) sendPhoto(ctx context.Context, openID, blobKey string) error {
	if a.cfg.Blobs == nil {
		return errors.New("wechat: no blob store for photos")
	}
	rc, err := a.cfg.Blobs.Open(ctx, blobKey)
	if err != nil {
		return fmt.Errorf("wechat: open photo: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxPhotoBytes+1))
	rc.Close()
	if err != nil {
		return fmt.Errorf("wechat: read photo: %w", err)
	}
	if len(data) > maxPhotoBytes {
		return fmt.Errorf("wechat: photo larger than %d bytes", maxPhotoBytes)
	}
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif"}[bot.Sniff(data[:min(len(data), 512)])]
	if ext == "" {
		return errors.New("wechat: WeChat takes JPEG, PNG and GIF photos only")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("media", "photo"+ext)
	if err == nil {
		_, err = fw.Write(data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return fmt.Errorf("wechat: photo upload body: %w", err)
	}
	var media struct {
		MediaID string `json:"media_id"`
	}
	err = a.retry(ctx, "media/upload", false, func() error {
		return a.withToken(ctx, func(token string) error {
			answer, err := a.request(ctx, "media/upload", "/cgi-bin/media/upload", token, map[string][]string{"type": {"image"}}, body.Bytes(), mw.FormDataContentType())
			if err != nil {
				return err
			}
			return decodeAnswer("media/upload", answer, &media)
		})
	})
	if err != nil {
		return err
	}
	if media.MediaID == "" {
		return errors.New("wechat: media/upload gave no media_id")
	}
	return a.call(ctx, "custom/send", "/cgi-bin/message/custom/send", nil, message.NewCustomerImgMessage(openID, media.MediaID), nil, false)
}

// pack turns replies into the messages WeChat carries: each text rendered
// with its choices and cut into parts of at most maxText bytes, and
// consecutive texts joined, a blank line apart, while they fit in one, so
// that a passive reply carries as much as it can and fewer messages count
// against the quota. A question with options is a message of its own, never
// joined to what is said before or after it: one message, one question, so
// that the owner answers the question and not the greeting or the read-back
// above it. Typing indicators are dropped.
func pack(out []bot.Outbound) []unit {
	var units []unit
	add := func(u unit) {
		n := len(units)
		if n == 0 || u.blobKey != "" || units[n-1].blobKey != "" || u.question || units[n-1].question || len(units[n-1].text)+2+len(u.text) > maxText {
			units = append(units, u)
			return
		}
		prev := &units[n-1]
		prev.text += "\n\n" + u.text
		if prev.src != nil {
			prev.src = &bot.Outbound{To: prev.src.To, Kind: bot.OutText, Text: prev.text}
		}
	}
	for _, o := range out {
		switch o.Kind {
		case bot.OutTyping, bot.OutEdit:
			// WeChat cannot change a message it delivered: an edit
			// (bot.OutEdit) is skipped, and what it would say is said in a
			// message of its own.
			continue
		case bot.OutPhoto:
			src := o
			units = append(units, unit{blobKey: o.BlobKey, src: &src})
			o = bot.Outbound{To: o.To, Kind: bot.OutText, Text: o.Text} // the caption follows
		}
		for i, part := range splitText(render(o), maxText) {
			u := unit{text: part, question: len(o.Choices) > 0}
			if i == 0 {
				src := o
				u.src = &src
			}
			add(u)
		}
	}
	return units
}

// render writes a message's choices under its text as numbered options
// that the user can tap: each label is a bizmsgmenu link (see optionLink),
// which WeChat shows as a blue link and, when tapped, sends back as the
// user's own text message carrying the option's id. The number stays in
// front, so that typing it works too, as does typing the label: the engine
// maps both back. When the links would make the message longer than one
// WeChat text, the options are written plain. The msgmenu customer-service
// message (菜单消息) is not used: only verified service accounts may send it
// (40200 otherwise), a passive reply cannot carry it, and it shows no
// numbers to type.
func render(o bot.Outbound) string {
	if s := renderOptions(o, true); len(s) <= maxText || len(renderPlain(o)) > maxText {
		return s
	}
	return renderPlain(o)
}

// renderPlain writes a message's choices as plain numbered options, for
// what cannot carry links (template messages) and texts too long for them.
func renderPlain(o bot.Outbound) string { return renderOptions(o, false) }

// renderOptions writes the options under "回复数字或点选：" unless the text
// ends with a colon, asking itself. RequestContact has nothing to show on
// WeChat: the text asks for the number.
func renderOptions(o bot.Outbound, links bool) string {
	if len(o.Choices) == 0 {
		return o.Text
	}
	var b strings.Builder
	text := strings.TrimRightFunc(o.Text, unicode.IsSpace)
	b.WriteString(text)
	switch {
	case strings.HasSuffix(text, "：") || strings.HasSuffix(text, ":"):
		// The text asks the question itself: the options follow it.
	case text != "":
		b.WriteString("\n\n")
		fallthrough
	default:
		switch zh := chinese(o); {
		case zh && links:
			b.WriteString("请点选，或回复数字：")
		case zh:
			b.WriteString("回复数字选择：")
		case links:
			b.WriteString("Tap an option or reply with its number:")
		default:
			b.WriteString("Reply with a number:")
		}
	}
	for i, c := range o.Choices {
		label := c.Label
		if links {
			label = optionLink(c)
		}
		fmt.Fprintf(&b, "\n%d. %s", i+1, label)
	}
	return b.String()
}

// optionLink is a choice as a bizmsgmenu link (the "menu" links of
// official-account text messages):
//
//	<a href="weixin://bizmsgmenu?msgmenucontent=LABEL&msgmenuid=ID">LABEL</a>
//
// Tapped, WeChat sends msgmenucontent back as a text message from the user
// with <bizmsgmenuid>ID</bizmsgmenuid>. The id is a number (the SDK reads it
// as one) derived from the choice's payload (optionID); inbound maps it back
// to the payload. In the content, ASCII other than letters, digits and
// -._~ is percent-encoded and other characters are left as they are
// (three bytes each instead of nine: the text limit is 2,048 bytes). A
// label with markup characters is written plain.
func optionLink(c bot.Choice) string {
	if c.Label == "" || strings.ContainsAny(c.Label, "<>\"") {
		return c.Label
	}
	return `<a href="weixin://bizmsgmenu?msgmenucontent=` + escapeMenuContent(c.Label) +
		`&msgmenuid=` + strconv.FormatUint(uint64(optionID(c.Payload)), 10) + `">` +
		strings.ReplaceAll(c.Label, "&", "&amp;") + `</a>`
}

// optionID is the bizmsgmenuid of a choice: a hash of its payload, never 0
// (the SDK's zero value for "no id").
func optionID(payload string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(payload))
	if id := h.Sum32() % 1_000_000_000; id != 0 {
		return id
	}
	return 1
}

func escapeMenuContent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80, 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// optionTTL is how long a tapped option's id is mapped back to its payload:
// a link stays in the chat, but the dialogue that offered it is long over
// after a week. An id no longer known is read as the label it sent.
const optionTTL = 7 * 24 * time.Hour

// optionKey is the cache key that maps a user's tapped option back to its
// payload.
func (a *Adapter) optionKey(openID string, id int64) string {
	return "aftersales_wechat_option_" + a.cfg.AppID + "_" + openID + "_" + strconv.FormatInt(id, 10)
}

// rememberOptions records the payload of every choice in out under its
// option id, for inbound to map a tap back to it. A failure is logged: the
// tap then reaches the engine as the label's words, which it matches too.
func (a *Adapter) rememberOptions(ctx context.Context, out []bot.Outbound) {
	for _, o := range out {
		for _, c := range o.Choices {
			key := a.optionKey(o.To.ID, int64(optionID(c.Payload)))
			err := a.cacheSet(ctx, key, c.Payload, optionTTL)
			if err != nil {
				a.log.Warn("wechat: remembering an option failed", "user_id", o.To.ID, "error", err)
				return
			}
		}
	}
}

// tappedOption returns the payload of the option the user tapped, "" when
// the id is not known (any more).
func (a *Adapter) tappedOption(ctx context.Context, openID string, id int64) string {
	v := a.cacheGet(ctx, a.optionKey(openID, id))
	switch p := v.(type) {
	case string:
		return p
	case []byte:
		return string(p)
	}
	return ""
}

// chinese tells whether a message with choices is in Chinese, for the words
// over its options: by its first option's label when that has letters (a
// summary in English may name a Chinese project and owner), else by whether
// its text has more Chinese characters than Latin letters.
func chinese(o bot.Outbound) bool {
	han, latin := script(o.Choices[0].Label)
	if han+latin == 0 {
		han, latin = script(o.Text)
	}
	return han*2 >= latin && han > 0
}

// script counts the Chinese characters and the Latin letters of s.
func script(s string) (han, latin int) {
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case r < utf8.RuneSelf && unicode.IsLetter(r):
			latin++
		}
	}
	return han, latin
}

// splitText cuts text into parts of at most max bytes, at line breaks where
// it can and never inside a character. An empty text has no parts.
func splitText(text string, max int) []string {
	var parts []string
	for len(text) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		head := text[:cut]
		if i := strings.LastIndexByte(head, '\n'); i > len(head)/2 {
			head = head[:i]
		}
		parts = append(parts, head)
		text = strings.TrimLeft(text[len(head):], "\n")
	}
	if strings.TrimSpace(text) != "" {
		parts = append(parts, text)
	}
	return parts
}

// clip returns s cut to at most n characters, with an ellipsis when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
