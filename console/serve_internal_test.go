package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

func TestServeErrorMapping(t *testing.T) {
	t.Parallel()
	s := New(Config{NowFunc: time.Now})
	for _, tc := range []struct {
		err    error
		status int
		code   string
		field  string
	}{
		{fmt.Errorf("case 7: %w", casework.ErrNotFound), http.StatusNotFound, "not_found", ""},
		{fmt.Errorf("wrapped: %w", casework.Invalid("party_id", "names no party")), http.StatusBadRequest, "invalid", "party_id"},
		{fmt.Errorf("accept: %w", &casework.TransitionError{From: casework.StateClosed, Action: casework.ActionAccept}), http.StatusConflict, "invalid_transition", ""},
		{&casework.ConflictError{What: "case moved on"}, http.StatusConflict, "conflict", ""},
		{fmt.Errorf("x: %w", casework.ErrConflict), http.StatusConflict, "conflict", ""},
		{fmt.Errorf("order: %w", lifecycle.ErrForbidden), http.StatusForbidden, "forbidden", ""},
		{fmt.Errorf("%w: party token", errForbidden), http.StatusForbidden, "forbidden", ""},
		{fmt.Errorf("%w: no token", errUnauthorized), http.StatusUnauthorized, "unauthorized", ""},
		{fmt.Errorf("%w: no lifecycle", errUnavailable), http.StatusServiceUnavailable, "unavailable", ""},
		{errors.New("disk on fire"), http.StatusInternalServerError, "internal", ""},
	} {
		w := httptest.NewRecorder()
		s.serveError(w, httptest.NewRequest(http.MethodGet, "/api/v1/x", nil), tc.err)
		require.Equal(t, tc.status, w.Code, tc.err.Error())
		var body struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
				Field   string `json:"field"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		assert.Equal(t, tc.code, body.Error.Code, tc.err.Error())
		assert.Equal(t, tc.field, body.Error.Field, tc.err.Error())
		if tc.status == http.StatusInternalServerError {
			assert.Equal(t, "internal error", body.Error.Message, "internal errors are not shown")
		}
	}
}

func TestMaskUserID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                             "",
		"1234":                         "****",
		"12345":                        "1***5",
		"5551234567":                   "55******67",
		"oABCDEFGHIJKLMNOPQRSTUVWXYZ0": "oABC********************XYZ0",
		"访客一二三四五六":                     "访客****五六",
	} {
		assert.Equal(t, want, maskUserID(in), in)
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		45 * time.Second:                    "45s",
		25*time.Minute + 10*time.Second:     "25m",
		time.Hour:                           "1h",
		3*time.Hour + 25*time.Minute:        "3h 25m",
		51 * time.Hour:                      "2d 3h",
		72*time.Hour + 10*time.Minute:       "3d",
		59*time.Minute + 59*time.Second + 1: "1h",
	} {
		assert.Equal(t, want, humanDuration(d), d.String())
	}
}
