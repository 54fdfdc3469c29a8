package console

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/aftersales/aftersales/staff"
)

// loginForm is the login page's data. The password and the code are never
// put back in the page; CodeError marks a refusal of the code, whose field
// then takes the focus.
type loginForm struct {
	Username, Next, Error string
	CodeError             bool
}

// loginShow serves GET /console/login.
func (s *Server) loginShow(w http.ResponseWriter, r *http.Request) {
	if u, err := s.signedIn(r); err == nil && u != nil {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", view{Title: uiText.Render(langOf(r), "login.title"),
		Data: loginForm{Next: localPath(r.URL.Query().Get("next"))}})
}

// loginCheck serves POST /console/login: the form fields username,
// password and code, the authenticator's code of an account that has one
// (optional otherwise). A success sets the session cookie and goes on to
// next.
func (s *Server) loginCheck(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	form := loginForm{Username: r.PostFormValue("username"), Next: localPath(r.PostFormValue("next"))}
	u, token, err := s.cfg.Staff.Login(r.Context(), form.Username, r.PostFormValue("password"), r.PostFormValue("code"),
		clientAddr(r), r.UserAgent())
	var limited *staff.TooManyAttemptsError
	switch {
	case err == nil:
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/console/", HttpOnly: true,
			Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		s.cfg.Logger.InfoContext(r.Context(), "console sign-in", "user", u.Username)
		http.Redirect(w, r, form.Next, http.StatusSeeOther)
		return
	case errors.Is(err, staff.ErrLoginFailed):
		form.Error = uiText.Render(lang, "login.failed")
		s.render(w, r, http.StatusUnauthorized, "login", view{Title: uiText.Render(lang, "login.title"), Data: form})
	case errors.Is(err, staff.ErrCodeRequired), errors.Is(err, staff.ErrBadCode):
		key := "login.code_required"
		if errors.Is(err, staff.ErrBadCode) {
			key = "login.code_wrong"
		}
		form.Error, form.CodeError = uiText.Render(lang, key), true
		s.render(w, r, http.StatusUnauthorized, "login", view{Title: uiText.Render(lang, "login.title"), Data: form})
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", retryAfter(limited.RetryAfter))
		form.Error = uiText.Render(lang, "login.limited", "wait", limited.RetryAfter.Round(time.Second).String())
		s.render(w, r, http.StatusTooManyRequests, "login", view{Title: uiText.Render(lang, "login.title"), Data: form})
	default:
		s.pageError(w, r, nil, err)
	}
}

// logout serves POST /console/logout.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Staff.Logout(r.Context(), ck.Value, clientAddr(r)); err != nil {
			s.pageError(w, r, nil, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// retryAfter is a Retry-After header's whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64(max(time.Second, d.Round(time.Second))/time.Second), 10)
}
