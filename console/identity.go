package console

import (
	"fmt"
	"net/http"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/identity"
)

// verifyReporterRequest is the body of POST /api/v1/cases/{number}/verify-reporter.
type verifyReporterRequest struct {
	OwnerID int64 `json:"owner_id"`
}

// verifyReporter verifies by hand the chat account that reported a case as
// the owner staff name — for an owner whose phone cannot take a code, once
// staff confirmed who they are. The account then reaches the owner's cases
// and notifications, and the owner's timeline records who verified it.
func (s *Server) verifyReporter(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Identity == nil {
		return fmt.Errorf("%w: identity verification is not configured", errUnavailable)
	}
	var req verifyReporterRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.OwnerID < 1 {
		return casework.Invalid("owner_id", "is required")
	}
	c, err := s.cfg.Store.FindCaseByNumber(r.Context(), r.PathValue("number"))
	if err != nil {
		return err
	}
	if c.ReporterPlatform == "" {
		return casework.Invalid("case", "was not reported from a chat account")
	}
	id, res, err := s.cfg.Identity.VerifyByStaff(r.Context(), identity.Account{Platform: c.ReporterPlatform, UserID: c.ReporterUserID}, req.OwnerID, actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"owner_id": id.OwnerID, "platform": id.Platform, "verified_by": string(id.VerifiedBy),
		"verified_at": id.VerifiedAt, "cases_attached": res.Attached,
	})
	return nil
}

// ownerEventJSON is an entry of an owner's timeline.
type ownerEventJSON struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"`
	Note  string    `json:"note"`
}

// listOwnerEvents answers GET /api/v1/owners/{id}/events: who proved to be
// the owner, and how.
func (s *Server) listOwnerEvents(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "owner_id")
	if err != nil {
		return err
	}
	events, err := s.cfg.Store.ListOwnerEvents(r.Context(), id)
	if err != nil {
		return err
	}
	out := make([]ownerEventJSON, 0, len(events))
	for _, e := range events {
		out = append(out, ownerEventJSON{At: e.At, Actor: string(e.Actor), Kind: e.Kind, Note: e.Note})
	}
	writeJSON(w, http.StatusOK, map[string]any{"owner_id": id, "events": out})
	return nil
}
