package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// The console's web pages, under /console/: server-rendered HTML, Chinese
// first. Every page but the login needs a session (a random token in an
// HttpOnly cookie, kept hashed in the database); every state change is a
// POST, and cross-site requests are refused (http.CrossOriginProtection).

// MediaOpener opens a stored attachment by its blob key (bot.BlobStore).
type MediaOpener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Thumbnailer is a MediaOpener that also makes small JPEG thumbnails of
// photos, once (bot.FileBlobStore).
type Thumbnailer interface {
	Thumbnail(ctx context.Context, key string) (io.ReadCloser, error)
}

// Cookies of the console.
const (
	sessionCookie = "aftersales_console"
	langCookie    = "aftersales_console_lang"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the views, each the layout with its content.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"t": func(lang l10n.Lang, key string, kv ...string) string { return uiText.Render(lang, key, kv...) },
		"term": func(lang l10n.Lang, key string) string {
			return l10n.Terms.Render(lang, key)
		},
		// lc is a text of the lifecycle's catalogue: the words the owner
		// and the engineers read (responsibility.…).
		"lc": func(lang l10n.Lang, key string) string { return lifecycle.T(lang, key) },
		// purpose names why a message was sent; one the catalogue does not
		// know yet is shown as it is.
		"purpose": purposeText,
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	out := map[string]*template.Template{}
	for _, name := range []string{"login", "dashboard", "case_list", "case_show", "users", "audit", "parties", "tasks", "error", "intake", "handoff_list", "handoff_show", "roster"} {
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return out
}()

// view is what every page's template gets.
type view struct {
	Lang  l10n.Lang
	User  *staff.User
	Title string
	Nav   string // the menu entry to highlight
	Path  string
	Data  any
	// Handoffs is how many chats wait for a person (人工), shown on the
	// menu of every page to those who may answer them.
	Handoffs int
}

// uiHandler is a page's handler: it returns an error instead of writing it;
// page turns the error into an HTML page.
type uiHandler func(w http.ResponseWriter, r *http.Request, u *staff.User) error

// uiRoutes registers the console's pages. The table is here, in one place.
func (s *Server) uiRoutes() {
	mux := http.NewServeMux()
	mux.Handle("GET /console/static/", http.StripPrefix("/console/", http.FileServerFS(staticFS)))
	mux.HandleFunc("GET /console/login", s.loginShow)
	mux.HandleFunc("POST /console/login", s.loginCheck)
	mux.HandleFunc("POST /console/logout", s.logout)
	mux.HandleFunc("POST /console/lang", s.langSwitch)
	mux.Handle("GET /console/{$}", s.page(s.dashboard))
	mux.Handle("GET /console/cases", s.page(s.caseList))
	mux.Handle("GET /console/cases/new", s.page(s.intakeShow))
	mux.Handle("POST /console/cases/new", s.page(s.intakeSave))
	mux.Handle("GET /console/cases/{number}", s.page(s.caseShow))
	mux.Handle("POST /console/cases/{number}/phone", s.page(s.casePhone))
	mux.Handle("POST /console/cases/{number}/act/{action}", s.page(s.caseAct))
	mux.Handle("GET /console/cases/{number}/media/{id}", s.page(s.mediaShow))
	mux.Handle("GET /console/cases/{number}/print/registration", s.page(s.printRegistration))
	mux.Handle("GET /console/cases/{number}/print/work-order", s.page(s.printWorkOrder))
	mux.Handle("GET /console/cases/{number}/print/plan", s.page(s.printPlan))
	mux.Handle("GET /console/users", s.page(s.userList))
	mux.Handle("POST /console/views", s.page(s.viewSave))
	mux.Handle("POST /console/views/{id}/delete", s.page(s.viewDelete))
	mux.Handle("GET /console/audit", s.page(s.auditList))
	mux.Handle("GET /console/tasks", s.page(s.taskList))
	mux.Handle("GET /console/parties", s.page(s.partyList))
	mux.Handle("GET /console/handoffs", s.page(s.handoffList))
	mux.Handle("GET /console/handoffs/live", s.page(s.handoffListLive))
	mux.Handle("GET /console/handoffs/{id}", s.page(s.handoffShow))
	mux.Handle("GET /console/handoffs/{id}/live", s.page(s.handoffLive))
	mux.Handle("GET /console/handoffs/{id}/media/{msg}", s.page(s.handoffMedia))
	mux.Handle("POST /console/handoffs/{id}/{action}", s.page(s.handoffAct))
	mux.Handle("GET /console/roster", s.page(s.rosterList))
	mux.Handle("/console/", s.page(func(http.ResponseWriter, *http.Request, *staff.User) error { return casework.ErrNotFound }))

	cop := http.NewCrossOriginProtection()
	console := cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		}
		mux.ServeHTTP(w, r)
	}))
	s.mux.Handle("/console/", console)
	s.mux.Handle("POST /console/cases/new", withUpload(maxIntakeFormBytes, console))
}

// page wraps a page's handler: it finds the signed-in user, sending the
// others to the login, and renders the handler's error as a page.
func (s *Server) page(h uiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		u, err := s.signedIn(r)
		if errors.Is(err, staff.ErrNoSession) {
			next := r.URL.Path
			if r.Method != http.MethodGet {
				next = "/console/"
			}
			http.Redirect(w, r, "/console/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if err == nil {
			err = h(w, r, u)
		}
		if err != nil {
			s.pageError(w, r, u, err)
		}
	})
}

// signedIn returns the user of the request's session cookie.
func (s *Server) signedIn(r *http.Request) (*staff.User, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, staff.ErrNoSession
	}
	u, _, err := s.cfg.Staff.Authenticate(r.Context(), ck.Value)
	return u, err
}

// pageError renders err as a page: 404 for what does not exist (or is not
// the user's to know of), 403, 400 for a bad filter, 500 otherwise.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, u *staff.User, err error) {
	lang := langOf(r)
	status, msg := http.StatusInternalServerError, uiText.Render(lang, "error.internal")
	var ve *casework.ValidationError
	var mb *http.MaxBytesError
	switch {
	case errors.Is(err, casework.ErrNotFound):
		status, msg = http.StatusNotFound, uiText.Render(lang, "error.not_found")
	case errors.Is(err, errForbidden):
		status, msg = http.StatusForbidden, uiText.Render(lang, "error.forbidden")
	case errors.As(err, &ve):
		status, msg = http.StatusBadRequest, uiText.Render(lang, "error.bad_request", "reason", ve.Error())
	case errors.As(err, &mb):
		status, msg = http.StatusRequestEntityTooLarge, uiText.Render(lang, "error.bad_request", "reason", err.Error())
	default:
		s.cfg.Logger.ErrorContext(r.Context(), "console page failed", "path", r.URL.Path, "error", err)
	}
	s.render(w, r, status, "error", view{User: u, Title: http.StatusText(status), Data: struct {
		Status  int
		Message string
	}{status, msg}})
}

// render writes the page name with v, in the request's language.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	v.Lang = langOf(r)
	if v.Path == "" {
		v.Path = r.URL.Path
	}
	if v.User != nil && v.User.MayAct() {
		n, err := s.waitingHandoffs(r, v.User)
		if err != nil {
			// The menu's count is a hint: the page is shown without it.
			s.cfg.Logger.WarnContext(r.Context(), "console: counting the chats waiting for a person failed", "error", err)
		}
		v.Handoffs = n
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "console template failed", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// langOf is the console's language: the cookie's, else Chinese.
func langOf(r *http.Request) l10n.Lang {
	if ck, err := r.Cookie(langCookie); err == nil && ck.Value == string(l10n.English) {
		return l10n.English
	}
	return l10n.Chinese
}

// langSwitch sets the language cookie and goes back.
func (s *Server) langSwitch(w http.ResponseWriter, r *http.Request) {
	lang := l10n.Chinese
	if r.PostFormValue("lang") == string(l10n.English) {
		lang = l10n.English
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(lang), Path: "/console/", MaxAge: 400 * 24 * 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.PostFormValue("back")), http.StatusSeeOther)
}

// localPath is p when it is a path of the console, else the dashboard: a
// redirect never leaves the console.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/console/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/console/"
	}
	return p
}

// clientAddr is the request's peer address, for the audit log.
func clientAddr(r *http.Request) string {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().String()
	}
	return r.RemoteAddr
}

// formatTime shows t in the department's time zone.
func (s *Server) formatTime(t time.Time) string {
	return t.In(s.cfg.Location).Format("2006-01-02 15:04")
}

// errBadCursor refuses a paging cursor that is not one.
var errBadCursor = casework.Invalid("before", "must be an entry's number")
