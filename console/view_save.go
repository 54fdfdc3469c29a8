package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// viewSave serves POST /console/views: the case list's filter (query)
// saved under name for the user, then the list again.
func (s *Server) viewSave(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	q, err := url.ParseQuery(r.PostFormValue("query"))
	if err != nil {
		return casework.Invalid("query", "is not a query string")
	}
	q.Del("page")
	if _, _, err := parseCaseQuery(q); err != nil {
		return err
	}
	if _, err := s.cfg.Staff.SaveView(r.Context(), u, r.PostFormValue("name"), q.Encode()); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/cases?"+q.Encode(), http.StatusSeeOther)
	return nil
}

// viewDelete serves POST /console/views/{id}/delete.
func (s *Server) viewDelete(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return casework.ErrNotFound
	}
	if err := s.cfg.Staff.DeleteView(r.Context(), u, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/cases", http.StatusSeeOther)
	return nil
}
