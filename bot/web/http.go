package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aftersales/aftersales/bot"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere;
// uploaded photos are previewed from blob: URLs.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

// routes returns every route, wrapped in the security headers.
func (c *Channel) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+Path+"{$}", c.issueVisitor(serveAsset("index.html")))
	mux.Handle("GET "+Path+"app.js", serveAsset("app.js"))
	mux.Handle("GET "+Path+"app.css", serveAsset("app.css"))
	mux.Handle("POST "+Path+"api/send", c.api(c.send))
	mux.Handle("POST "+Path+"api/upload", c.api(c.upload))
	mux.Handle("GET "+Path+"api/messages", c.api(c.messages))
	mux.Handle("GET "+Path+"api/media/{seq}", c.api(c.media))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	})
}

// issueVisitor sets the visitor's cookie — a new one for a new visitor, the
// same one renewed for a known visitor — on the page that the API calls
// follow.
func (c *Channel) issueVisitor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := c.visitor(w, r, true); err != nil {
			c.serveError(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// handlerFunc is an API handler that returns its error instead of writing
// it; api turns the error into a response in serveError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (c *Channel) api(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := h(w, r); err != nil {
			c.serveError(w, r, err)
		}
	})
}

// apiError is an error the page is told about: an HTTP status and a stable
// code, which the page translates into the visitor's language, and a
// message in English for everyone else.
type apiError struct {
	status     int
	code       string
	msg        string
	maxBytes   int64         // for too_large: the limit
	retryAfter time.Duration // for rate_limited
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// Stable error codes, as the page knows them.
const (
	codeBadJSON      = "bad_json"
	codeBadUpload    = "bad_upload"
	codeInvalidID    = "invalid_id"
	codeInvalidMsg   = "invalid_message"
	codeInvalidAfter = "invalid_after"
	codeMediaType    = "unsupported_media_type"
	codeTooLarge     = "too_large"
	codeBusy         = "busy"
	codeRateLimited  = "rate_limited"
	codeNotFound     = "not_found"
	codeInternal     = "internal"
)

func badRequest(code, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, msg: msg}
}

func tooLarge(limit int64) *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge, msg: fmt.Sprintf("request larger than %d bytes", limit), maxBytes: limit}
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		MaxBytes int64  `json:"max_bytes,omitempty"`
	} `json:"error"`
}

// serveError is the one place where an error becomes a response.
func (c *Channel) serveError(w http.ResponseWriter, r *http.Request, err error) {
	e := &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "internal error"}
	var ae *apiError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		e = ae
	case errors.As(err, &mb):
		e = tooLarge(mb.Limit)
	}
	if e.status >= 500 {
		c.opts.Logger.ErrorContext(r.Context(), "chat request failed", "path", r.URL.Path, "status", e.status, "error", err)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(time.Second, e.retryAfter.Round(time.Second))/time.Second)))
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.MaxBytes = e.code, e.msg, e.maxBytes
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// sendRequest is the body of POST api/send: a text, or the payload of a
// choice the visitor pressed, with the label the page showed for it.
type sendRequest struct {
	ID      string `json:"id"`
	Text    string `json:"text"`
	Payload string `json:"payload"`
	Label   string `json:"label"`
	Lang    string `json:"lang"`
}

// clientIP is the address a request came from: the peer's, or, when the
// peer is one of the trusted proxies, the nearest address in
// X-Forwarded-For that is not one of them.
func (c *Channel) clientIP(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !c.trusted(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if a = a.Unmap(); !c.trusted(a) {
			return a.String()
		}
		addr = a
	}
	return addr.String()
}

// trusted reports whether a is one of the trusted proxies.
func (c *Channel) trusted(a netip.Addr) bool {
	for _, p := range c.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// fromTrustedProxy reports whether the request's peer is a trusted proxy.
func (c *Channel) fromTrustedProxy(r *http.Request) bool {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && c.trusted(peer.Addr().Unmap())
}

// limit refuses a request over the per-address limit with 429 and
// Retry-After, and returns the client's address.
func (c *Channel) limit(r *http.Request) (string, error) {
	ip := c.clientIP(r)
	if c.opts.IPLimit == nil {
		return ip, nil
	}
	ok, wait, err := c.opts.IPLimit.Allow(r.Context(), ip, c.opts.NowFunc())
	if err != nil {
		c.opts.Logger.WarnContext(r.Context(), "address limit unavailable; the request is served", "error", err)
		return ip, nil
	}
	if !ok {
		return ip, &apiError{status: http.StatusTooManyRequests, code: codeRateLimited, msg: "too many requests from this address; try again later", retryAfter: wait}
	}
	return ip, nil
}

// send handles a text, a command or a button press.
func (c *Channel) send(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return &apiError{status: http.StatusUnsupportedMediaType, code: codeMediaType, msg: "send JSON"}
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxSendBytes)
	var req sendRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		return badRequest(codeBadJSON, "body is not a JSON send request")
	}
	if err := checkID(req.ID); err != nil {
		return err
	}
	hasText, hasPayload := strings.TrimSpace(req.Text) != "", req.Payload != ""
	if hasText == hasPayload {
		return badRequest(codeInvalidMsg, "send either a text or a payload")
	}
	ip, err := c.limit(r)
	if err != nil {
		return err
	}
	visitor, err := c.visitor(w, r, false)
	if err != nil {
		return err
	}
	in := &bot.Inbound{
		User:      bot.UserRef{Platform: bot.Web, ID: visitor},
		MessageID: req.ID,
		Time:      c.opts.NowFunc(),
		Language:  language(req.Lang),
		ClientIP:  ip,
	}
	echo := message{From: fromUser, Kind: string(bot.KindText), ID: req.ID}
	switch {
	case hasPayload:
		in.Kind, in.Payload = bot.KindButton, req.Payload
		echo.Text = req.Label
		if echo.Text == "" {
			echo.Text = req.Payload
		}
	default:
		in.Kind, in.Text = bot.KindText, req.Text
		if cmd, args, ok := command(req.Text); ok {
			in.Kind, in.Command, in.Text = bot.KindCommand, cmd, args
		}
		echo.Text = req.Text
	}
	echo.Text = truncate(echo.Text, maxEchoBytes)
	if err := c.handle(r.Context(), echo, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// upload handles a photo, video, voice or document from the page: a
// multipart form with the fields id, lang and file.
func (c *Channel) upload(w http.ResponseWriter, r *http.Request) error {
	if _, err := c.limit(r); err != nil {
		return err
	}
	limit := c.opts.MaxUploadBytes
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	need := limit
	if r.ContentLength > 0 {
		need = r.ContentLength
	}
	if !c.reserve(need) {
		return &apiError{status: http.StatusServiceUnavailable, code: codeBusy, msg: "too many uploads at once; try again in a moment"}
	}
	defer c.release(need)
	r.Body = http.MaxBytesReader(w, r.Body, limit)

	mr, err := r.MultipartReader()
	if err != nil {
		return badRequest(codeBadUpload, "expected a multipart/form-data body")
	}
	var msgID, lang, name string
	var data *bytes.Buffer
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return uploadError(err)
		}
		switch part.FormName() {
		case "id":
			msgID, err = readField(part)
		case "lang":
			lang, err = readField(part)
		case "file":
			if data != nil {
				return badRequest(codeBadUpload, "one file per upload")
			}
			data = new(bytes.Buffer)
			if r.ContentLength > 0 {
				data.Grow(int(r.ContentLength))
			}
			name = fileName(part.FileName())
			_, err = io.Copy(data, part)
		default:
			_, err = io.Copy(io.Discard, part)
		}
		part.Close()
		if err != nil {
			return uploadError(err)
		}
	}
	if err := checkID(msgID); err != nil {
		return err
	}
	if data == nil || data.Len() == 0 {
		return badRequest(codeBadUpload, "no file, or an empty one")
	}

	visitor, err := c.visitor(w, r, false)
	if err != nil {
		return err
	}
	kind, contentType := classify(data.Bytes())
	fileID, err := c.hold(data.Bytes())
	if err != nil {
		return err
	}
	defer c.drop(fileID) // fetched by now, or never will be
	in := &bot.Inbound{
		User:      bot.UserRef{Platform: bot.Web, ID: visitor},
		MessageID: msgID,
		Time:      c.opts.NowFunc(),
		Kind:      kind,
		Media:     &bot.Media{FileID: fileID, FileName: name, ContentType: contentType, Size: int64(data.Len())},
		Language:  language(lang),
		ClientIP:  c.clientIP(r),
	}
	if err := c.handle(r.Context(), message{From: fromUser, Kind: string(kind), ID: msgID, Text: name}, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// uploadError is a too_large error when the body went over the limit, and
// a bad_upload one otherwise.
func uploadError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return err
	}
	return badRequest(codeBadUpload, "malformed multipart body")
}

// maxFieldBytes bounds a form field of an upload.
const maxFieldBytes = 256

func readField(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFieldBytes+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxFieldBytes {
		return "", badRequest(codeBadUpload, "form field too long")
	}
	return string(b), nil
}

// pollResponse is the body of GET api/messages.
type pollResponse struct {
	Messages []message `json:"messages"`
	Next     int64     `json:"next"`
}

// messages answers a long poll for the visitor's messages after a seq.
func (c *Channel) messages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var after int64
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return badRequest(codeInvalidAfter, "after must be a sequence number")
		}
		after = n
	}
	visitor, err := c.visitor(w, r, false)
	if err != nil {
		return err
	}
	msgs, next, err := c.poll(r.Context(), visitor, after)
	if r.Context().Err() != nil {
		return nil // the page has gone
	}
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []message{}
	}
	writeJSON(w, http.StatusOK, pollResponse{Messages: msgs, Next: next})
	return nil
}

// media serves a photo of the visitor's conversation: GET api/media/{seq},
// the photo of their message seq. Only the visitor whose cookie it is, and
// only a photo the service sent them or one of theirs it stored, is served;
// anything else is 404.
func (c *Channel) media(w http.ResponseWriter, r *http.Request) error {
	notFound := &apiError{status: http.StatusNotFound, code: codeNotFound, msg: "no such photo"}
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 || c.opts.Media == nil {
		return notFound
	}
	ck, err := r.Cookie(VisitorCookie)
	if err != nil {
		return notFound
	}
	visitor, ok := c.visitorOf(ck.Value)
	if !ok {
		return notFound
	}
	m, ok, err := c.messageAt(r.Context(), visitor, seq)
	if err != nil {
		return err
	}
	if !ok || m.BlobKey == "" || (m.From != fromBot && m.Kind != kindStored) {
		return notFound
	}
	f, err := c.opts.Media.Open(r.Context(), m.BlobKey)
	if err != nil {
		c.opts.Logger.WarnContext(r.Context(), "a photo sent to the chat page is gone", "error", err)
		return notFound
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	ct := bot.Sniff(head[:n])
	if !strings.HasPrefix(ct, "image/") {
		return notFound
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(head[:n])
	_, _ = io.Copy(w, f)
	return nil
}

// handle keeps the visitor's own message for the page (echo) and hands in
// to DispatchFunc, with a context that survives the request: a visitor
// leaving the page does not cut a message off half-way.
func (c *Channel) handle(ctx context.Context, echo message, in *bot.Inbound) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.DispatchTimeout)
	defer cancel()
	if err := c.push(ctx, in.User.ID, echo); err != nil {
		return err
	}
	if err := c.opts.DispatchFunc(ctx, in); err != nil {
		return fmt.Errorf("dispatch %s message %s: %w", in.Kind, in.MessageID, err)
	}
	if in.Kind == bot.KindPhoto && in.Media != nil && in.Media.BlobKey != "" && in.Media.Err == nil {
		// The Router's Intake stored the photo: the page may now show
		// the visitor's own photo from the service, after a reload too.
		if err := c.push(ctx, in.User.ID, message{From: fromUser, Kind: kindStored, ID: echo.ID, BlobKey: in.Media.BlobKey}); err != nil {
			return err
		}
	}
	return nil
}

// messageIDRE is what the page's message ids look like.
var messageIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkID(msgID string) error {
	if !messageIDRE.MatchString(msgID) {
		return badRequest(codeInvalidID, "id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")
	}
	return nil
}

// commandRE is a Telegram-style command: /word, maybe /word@bot, then
// arguments.
var commandRE = regexp.MustCompile(`^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$`)

// command splits "/report now" into "report" and "now"; ok is false when
// text is not a command ("/5楼" is text).
func command(text string) (cmd, args string, ok bool) {
	m := commandRE.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil {
		return "", "", false
	}
	return strings.ToLower(m[1]), strings.TrimSpace(m[2]), true
}

// languageRE is a BCP 47 tag, roughly: "zh", "en", "zh-CN".
var languageRE = regexp.MustCompile(`^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}$`)

// language returns lang when it looks like a language tag, "" otherwise.
func language(lang string) string {
	if languageRE.MatchString(lang) {
		return lang
	}
	return ""
}

// maxEchoBytes bounds the visitor's own text kept for a reloaded page.
const maxEchoBytes = 4 << 10

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// fileName keeps the base of an uploaded file's name, without control
// characters, at most 255 bytes.
func fileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	return truncate(name, 255)
}

// classify tells the kind of an upload from its first bytes, as the
// Router's Intake will see it: an image is a photo, a video a video, audio
// a voice message and anything else a document (which the Intake may
// refuse).
func classify(data []byte) (bot.Kind, string) {
	ct := bot.Sniff(data[:min(len(data), 512)])
	switch {
	case strings.HasPrefix(ct, "image/"):
		return bot.KindPhoto, ct
	case strings.HasPrefix(ct, "video/"):
		return bot.KindVideo, ct
	case strings.HasPrefix(ct, "audio/"), ct == "application/ogg":
		return bot.KindVoice, ct
	}
	return bot.KindDocument, ct
}

//go:embed static
var static embed.FS

// asset is an embedded file with its type and a content hash for ETag.
type asset struct {
	name        string
	data        []byte
	contentType string
	etag        string
}

// assetTypes are the content types of the embedded files, fixed here rather
// than taken from the host's mime.types.
var assetTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

func serveAsset(name string) http.Handler {
	data, err := static.ReadFile("static/" + name)
	if err != nil {
		panic(fmt.Sprintf("web: embedded %s: %v", name, err)) // the build is broken
	}
	sum := sha256.Sum256(data)
	a := asset{
		name:        name,
		data:        data,
		contentType: assetTypes[path.Ext(name)],
		etag:        `"` + hex.EncodeToString(sum[:8]) + `"`,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", a.etag)
		h.Set("Cache-Control", "no-cache") // revalidate: a new binary brings a new page
		http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.data))
	})
}
