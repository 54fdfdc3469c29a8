// Package console serves the staff side of the product over HTTP: health and
// readiness probes, the staff JSON API under /api/v1 (bearer tokens: the
// staff's, and read-only tokens scoped to one responsible party), and the
// web pages as they are built.
// Handlers return an error; serveError translates domain errors to HTTP
// statuses and stable JSON codes in one place.
package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/identity"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// MaxBodyBytes bounds every request body the console reads.
const MaxBodyBytes = 1 << 20

// Store is what the console needs of the database: the cases and registry,
// and of the lifecycle's tables what the staff API reads (outbox, tasks,
// statistics, engineers' chat accounts) or writes directly (a task done).
type Store interface {
	casework.Store
	// The methods of casework.LifecycleStore the console calls itself; see
	// there for what they do.

	// UpdateCaseWith: triage by staff, with the timers of moved deadlines.
	UpdateCaseWith(ctx context.Context, id int64, version int, upd casework.CaseUpdate, eff casework.Effects) (*casework.Case, error)
	// ListOutbox: the delivery status of a case's messages (detail).
	ListOutbox(ctx context.Context, caseID int64) ([]*casework.OutboxMessage, error)
	// ListTasks: a case's coordination tasks (detail).
	ListTasks(ctx context.Context, caseID int64) ([]*casework.Task, error)
	// ListDueTasks: the coordination tasks due (the dashboard).
	ListDueTasks(ctx context.Context, before time.Time, limit int) ([]*casework.Task, error)
	// FindTaskByID and CompleteTask: POST /api/v1/tasks/{id}/done.
	FindTaskByID(ctx context.Context, id int64) (*casework.Task, error)
	CompleteTask(ctx context.Context, id int64, at time.Time, actor casework.Actor) error
	// FindChatIdentitiesByMember: the work orders waiting for an account.
	FindChatIdentitiesByMember(ctx context.Context, memberID int64) ([]*casework.ChatIdentity, error)
	// ListOwnerEvents: an owner's timeline (casework.IdentityStore).
	ListOwnerEvents(ctx context.Context, ownerID int64) ([]*casework.OwnerEvent, error)
	// CaseStats: GET /api/v1/stats.
	CaseStats(ctx context.Context, from, to, now time.Time) (*casework.Stats, error)
}

// Config is what a Server needs.
type Config struct {
	Store  Store
	Logger *slog.Logger
	// ReadyFunc, when set, is checked by /readyz in addition to the store.
	ReadyFunc func(ctx context.Context) error
	// APIToken is the bearer token every /api/v1 request must carry. When it
	// is empty the staff API is disabled and every /api/v1 route answers 404
	// (PartyTokens included).
	APIToken string
	// PartyTokens maps a bearer token to the code of a responsible party
	// (casework.Party.Code). A party token may only list and read the cases
	// of its party; every other endpoint answers it 403. See Validate.
	PartyTokens map[string]string
	// Lifecycle takes the staff's actions on cases (accept, reject,
	// dispatch, messages, tasks, bind codes). When nil, those endpoints
	// answer 503 with the code "unavailable".
	Lifecycle *lifecycle.Service
	// SLA recomputes the deadlines when staff change a case's urgency or
	// category; it must be the policy the cases were registered with. Zero:
	// casework.DefaultSLAPolicy().
	SLA casework.SLAPolicy
	// Location is the department's time zone, for dates (YYYY-MM-DD) in
	// query parameters. Nil: casework.ChinaTime().
	Location *time.Location
	// Identity verifies a case's reporting chat account by hand; nil: that
	// endpoint answers 503.
	Identity *identity.Service
	// NowFunc is the service's clock; required: overdue cases, task dates
	// and report periods are counted by it.
	NowFunc func() time.Time
	// Staff signs the department's people in to the pages under
	// /console/; nil: the pages are off.
	Staff *staff.Service
	// Media opens the cases' attachments for the case page.
	Media MediaOpener
}

// minPartyTokenLen is the shortest party token Validate accepts.
const minPartyTokenLen = 24

// Validate checks the party tokens — each at least 24 characters, naming a
// party code, and none equal to the staff token — and the SLA policy.
func (c Config) Validate() error {
	if c.NowFunc == nil {
		return errors.New("console: no NowFunc: overdue cases are counted by the service's clock")
	}
	if len(c.PartyTokens) > 0 && c.APIToken == "" {
		return errors.New("console: party tokens need the staff API token: without it the API is off")
	}
	for token, code := range c.PartyTokens {
		switch {
		case len(token) < minPartyTokenLen:
			return fmt.Errorf("console: the token of party %q is shorter than %d characters", code, minPartyTokenLen)
		case strings.TrimSpace(token) != token:
			return fmt.Errorf("console: the token of party %q has surrounding spaces", code)
		case strings.TrimSpace(code) == "":
			return errors.New("console: a party token names no party code")
		case token == c.APIToken:
			return fmt.Errorf("console: the token of party %q is the staff token", code)
		}
	}
	if err := c.SLA.Validate(); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// Server is the console's HTTP handler.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	tokens tokenSet
}

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	if cfg.NowFunc == nil {
		panic("console.New: Config.NowFunc is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SLA.Rules == nil {
		cfg.SLA = casework.DefaultSLAPolicy()
	}
	if cfg.Location == nil {
		cfg.Location = casework.ChinaTime()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), tokens: newTokenSet(cfg.APIToken, cfg.PartyTokens)}
	s.routes()
	return s
}

// Handle registers an extra handler on the console's mux: the platform
// adapters' webhooks and the chat page. Such a handler limits its own request
// bodies.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP dispatches to the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// routes registers every route. Every /api/v1 route needs a bearer token:
// read routes (api) take the staff token or a party token, the others
// (staffAPI) the staff token only.
func (s *Server) routes() {
	s.mux.Handle("GET /healthz", s.handler(s.healthz))
	s.mux.Handle("GET /readyz", s.handler(s.readyz))
	if s.cfg.Staff != nil {
		s.uiRoutes()
	}

	if s.cfg.APIToken == "" && s.cfg.Staff == nil {
		s.mux.Handle("/api/v1/", s.handler(apiDisabled))
		return
	}
	s.mux.Handle("GET /api/v1/cases", s.api(s.listCases))
	s.mux.Handle("GET /api/v1/cases/overdue", s.api(s.listOverdueCases))
	s.mux.Handle("GET /api/v1/cases/{number}", s.api(s.getCase))
	s.mux.Handle("GET /api/v1/work-orders/waiting", s.api(s.listWaitingOrders))

	s.mux.Handle("POST /api/v1/cases", s.staffAPI(s.withLifecycle(s.registerCase)))
	s.mux.Handle("POST /api/v1/cases/{number}/media", withUpload(maxUploadBytes, s.staffAPI(s.withLifecycle(s.addCaseMedia))))
	s.mux.Handle("POST /api/v1/cases/{number}/notes", s.staffAPI(s.addNote))
	s.mux.Handle("POST /api/v1/cases/{number}/triage", s.staffAPI(s.triage))
	s.mux.Handle("POST /api/v1/cases/{number}/accept", s.staffAPI(s.withLifecycle(s.accept)))
	s.mux.Handle("POST /api/v1/cases/{number}/reject", s.staffAPI(s.withLifecycle(s.reject)))
	s.mux.Handle("POST /api/v1/cases/{number}/dispatch", s.staffAPI(s.withLifecycle(s.dispatch)))
	s.mux.Handle("POST /api/v1/cases/{number}/reassign", s.staffAPI(s.withLifecycle(s.dispatch)))
	s.mux.Handle("POST /api/v1/cases/{number}/answer", s.staffAPI(s.withLifecycle(s.answer)))
	s.mux.Handle("POST /api/v1/cases/{number}/hold", s.staffAPI(s.withLifecycle(s.hold)))
	s.mux.Handle("POST /api/v1/cases/{number}/resume", s.staffAPI(s.withLifecycle(s.resume)))
	s.mux.Handle("POST /api/v1/cases/{number}/cancel", s.staffAPI(s.withLifecycle(s.cancel)))
	s.mux.Handle("POST /api/v1/cases/{number}/close", s.staffAPI(s.withLifecycle(s.closeCase)))
	s.mux.Handle("POST /api/v1/cases/{number}/messages", s.staffAPI(s.withLifecycle(s.messageOwner)))
	s.mux.Handle("POST /api/v1/cases/{number}/tasks", s.staffAPI(s.withLifecycle(s.addTask)))
	s.mux.Handle("POST /api/v1/tasks/{id}/done", s.staffAPI(s.completeTask))
	s.mux.Handle("POST /api/v1/members/{id}/bind-codes", s.staffAPI(s.withLifecycle(s.issueBindCode)))
	s.mux.Handle("POST /api/v1/members/{id}/unbind", s.staffAPI(s.withLifecycle(s.unbind)))
	s.mux.Handle("GET /api/v1/stats", s.staffAPI(s.stats))
	s.mux.Handle("GET /api/v1/parties", s.staffAPI(s.listParties))
	s.mux.Handle("POST /api/v1/cases/{number}/verify-reporter", s.staffAPI(s.verifyReporter))
	s.mux.Handle("GET /api/v1/owners/{id}/events", s.staffAPI(s.listOwnerEvents))
	s.mux.Handle("/api/v1/", s.api(apiNotFound))
}

// handlerFunc is an HTTP handler that returns its error instead of writing it;
// handler limits its request body to MaxBodyBytes.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handler(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		if err := h(w, r); err != nil {
			s.serveError(w, r, err)
		}
	})
}

// errorCodes maps domain errors to an HTTP status and a stable code.
var errorCodes = []struct {
	err    error
	status int
	code   string
}{
	{casework.ErrNotFound, http.StatusNotFound, "not_found"},
	{casework.ErrConflict, http.StatusConflict, "conflict"},
	{casework.ErrInvalidTransition, http.StatusConflict, "invalid_transition"},
	{casework.ErrInvalid, http.StatusBadRequest, "invalid"},
	{errUnavailable, http.StatusServiceUnavailable, "unavailable"},
	{errUnauthorized, http.StatusUnauthorized, "unauthorized"},
	{errForbidden, http.StatusForbidden, "forbidden"},
	{lifecycle.ErrForbidden, http.StatusForbidden, "forbidden"},
}

var (
	errUnavailable  = errors.New("unavailable")
	errUnauthorized = errors.New("unauthorized")
	errForbidden    = errors.New("forbidden")
)

// serveError is the one place where an error becomes an HTTP response.
func (s *Server) serveError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := http.StatusInternalServerError, "internal", "internal error"
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			status, code, msg = e.status, e.code, err.Error()
			break
		}
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		status, code, msg = http.StatusRequestEntityTooLarge, "too_large", "request body too large"
	}
	body := map[string]any{"error": map[string]any{"code": code, "message": msg}}
	var ve *casework.ValidationError
	if errors.As(err, &ve) {
		body["error"].(map[string]any)["field"] = ve.Field
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	if status >= 500 {
		s.cfg.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz answers 200 when the database (and anything in ReadyFunc) answers
// within two seconds, 503 otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.cfg.Logger.WarnContext(ctx, "not ready: database", "error", err)
		return errors.Join(errUnavailable, errors.New("database is not answering"))
	}
	if s.cfg.ReadyFunc != nil {
		if err := s.cfg.ReadyFunc(ctx); err != nil {
			s.cfg.Logger.WarnContext(ctx, "not ready", "error", err)
			return errors.Join(errUnavailable, err)
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
