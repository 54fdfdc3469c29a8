package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/console"
)

// TestVerifyReporter: staff verify by hand the chat account that reported a
// case, as the owner they confirmed (an owner without a reachable phone).
// The account then is the owner's, the case is theirs and verified, and
// the owner's timeline says who verified it.
func TestVerifyReporter(t *testing.T) {
	t.Parallel()
	e := buildLifecycleEnv(t, true)
	ctx := t.Context()
	const visitor = "visitor_0123456789ab"
	require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "web", UserID: visitor, Lang: "zh"}))
	c := newCase(t, e.apiEnv, &casework.Case{
		ProjectID: e.project.ID, UnitID: e.unit.ID, BuildingID: e.building.ID, OwnerName: "张三的家人", OwnerPhone: "13800001234",
		Description: "卫生间漏水", Channel: casework.ChannelWeb, ReceivedBy: casework.ActorBot,
		Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubLeak,
		ReporterPlatform: "web", ReporterUserID: visitor,
	})
	d := getDetail(t, e.apiEnv, c.Number)
	assert.Equal(t, false, d.Case["identity_verified"])
	assert.Nil(t, d.Case["owner_id"])

	path := "/api/v1/cases/" + c.Number + "/verify-reporter"
	requireError(t, e.post(t, path, `{}`), http.StatusBadRequest, "invalid", "owner_id")
	requireError(t, e.post(t, path, `{"owner_id":999999}`), http.StatusNotFound, "not_found", "")
	w := e.do(t, http.MethodPost, path, fs01Token, strings.NewReader(`{"owner_id":`+id(e.owner.ID)+`}`))
	assert.Equal(t, http.StatusForbidden, w.Code, "a party may not verify anyone")
	requireError(t, e.post(t, "/api/v1/cases/"+e.onTime.Number+"/verify-reporter", `{"owner_id":`+id(e.owner.ID)+`}`),
		http.StatusBadRequest, "invalid", "case")

	w = e.post(t, path, `{"owner_id":`+id(e.owner.ID)+`}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var got map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	assert.Equal(t, float64(e.owner.ID), got["owner_id"])
	assert.Equal(t, "service:api", got["verified_by"])
	assert.Equal(t, float64(1), got["cases_attached"])
	assert.NotContains(t, w.Body.String(), visitor, "the chat account is not shown")

	acct, err := e.store.FindChatIdentity(ctx, "web", visitor)
	require.NoError(t, err)
	assert.Equal(t, e.owner.ID, acct.OwnerID)
	assert.True(t, acct.Verified())
	d = getDetail(t, e.apiEnv, c.Number)
	assert.Equal(t, true, d.Case["identity_verified"])
	assert.Equal(t, float64(e.owner.ID), d.Case["owner_id"])

	w = e.get(t, "/api/v1/owners/"+id(e.owner.ID)+"/events")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var events struct {
		Events []map[string]any `json:"events"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &events))
	require.Len(t, events.Events, 1)
	assert.Equal(t, "service:api", events.Events[0]["actor"])
	assert.Equal(t, "identity_verified", events.Events[0]["kind"])
	w = e.do(t, http.MethodGet, "/api/v1/owners/"+id(e.owner.ID)+"/events", fs01Token, nil)
	assert.Equal(t, http.StatusForbidden, w.Code, "an owner's timeline is for staff")
}

// TestVerifyReporterNeedsTheService: without the identity service the
// endpoint says it is unavailable.
func TestVerifyReporterNeedsTheService(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken, func(e *apiEnv, cfg *console.Config) { cfg.Identity = nil })
	requireError(t, e.post(t, "/api/v1/cases/"+e.overdue.Number+"/verify-reporter", `{"owner_id":1}`), http.StatusServiceUnavailable, "unavailable", "")
}
