// Package console serves the staff side of the product over HTTP: health and
// readiness probes, the staff JSON API under /api/v1 (bearer token), and the
// web pages as they are built.
// Handlers return an error; serveError translates domain errors to HTTP
// statuses and stable JSON codes in one place.
package console

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// MaxBodyBytes bounds every request body the console reads.
const MaxBodyBytes = 1 << 20

// Config is what a Server needs.
type Config struct {
	Store  casework.Store
	Logger *slog.Logger
	// ReadyFunc, when set, is checked by /readyz in addition to the store.
	ReadyFunc func(ctx context.Context) error
	// APIToken is the bearer token every /api/v1 request must carry. When it
	// is empty the staff API is disabled and every /api/v1 route answers 404.
	APIToken string
}

// Server is the console's HTTP handler.
type Server struct {
	cfg Config
	mux *http.ServeMux
}

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.routes()
	return s
}

// Handle registers an extra handler on the console's mux: the platform
// adapters' webhooks and the chat page. Such a handler limits its own request
// bodies.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP dispatches to the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	s.mux.Handle("GET /healthz", s.handler(s.healthz))
	s.mux.Handle("GET /readyz", s.handler(s.readyz))

	if s.cfg.APIToken == "" {
		s.mux.Handle("/api/v1/", s.handler(apiDisabled))
		return
	}
	s.mux.Handle("GET /api/v1/cases", s.api(s.listCases))
	s.mux.Handle("GET /api/v1/cases/overdue", s.api(s.listOverdueCases))
	s.mux.Handle("GET /api/v1/cases/{number}", s.api(s.getCase))
	s.mux.Handle("POST /api/v1/cases/{number}/notes", s.api(s.addNote))
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
}

var (
	errUnavailable  = errors.New("unavailable")
	errUnauthorized = errors.New("unauthorized")
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
