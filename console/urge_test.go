package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// urgedRow finds the case list's row of number and returns it.
func urgedRow(t *testing.T, page, number string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr[^>]*>\s*<td><a href="/console/cases/` + regexp.QuoteMeta(number) + `">.*?</tr>`).FindString(page)
	require.NotEmpty(t, m, "no row of %s", number)
	return m
}

// TestConsoleMarksUrgedCases: a case the owner urged twice is marked on
// its row of the case list — how many times, and when last — and on its
// page, in either language; a case never urged is not, nor is a closed
// case on the list.
func TestConsoleMarksUrgedCases(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := t.Context()
	first := e.clock.Now().Add(-20 * time.Hour).Truncate(time.Minute)
	last := first.Add(13 * time.Hour)
	for _, at := range []time.Time{first, last} {
		require.NoError(t, e.store.AddCaseEvent(ctx, &casework.Event{CaseID: e.onTime.ID, At: at, Kind: casework.EventUrge, Actor: "owner:1", Note: "业主催办 urged by the owner"}))
	}
	lastText := last.In(casework.ChinaTime()).Format("2006-01-02 15:04")

	b := e.signedIn(t, "supervisor")
	page := b.get("/console/cases").Body.String()
	row := urgedRow(t, page, e.onTime.Number)
	assert.Contains(t, row, `<span class="badge urged" title="业主催办 2 次，最近一次 `+lastText+`">催办 ×2</span>`)
	assert.Contains(t, row, `<small class="urged-at">最近 `+lastText+`</small>`)
	assert.NotContains(t, urgedRow(t, page, e.overdue.Number), "urged", "never urged: no mark")

	w := b.get("/console/cases/" + e.onTime.Number)
	require.Equal(t, http.StatusOK, w.Code)
	head, _, _ := strings.Cut(w.Body.String(), "</h1>")
	assert.Contains(t, head, "催办 ×2", "marked by its number")
	assert.Contains(t, w.Body.String(), `<p class="urged-line">业主催办 2 次，最近一次 `+lastText+`</p>`)
	head, _, _ = strings.Cut(b.get("/console/cases/"+e.overdue.Number).Body.String(), "</h1>")
	assert.NotContains(t, head, "催办")

	b.cookies["aftersales_console_lang"] = &http.Cookie{Name: "aftersales_console_lang", Value: "en"}
	row = urgedRow(t, b.get("/console/cases").Body.String(), e.onTime.Number)
	assert.Contains(t, row, ">Urged ×2</span>")
	assert.Contains(t, row, "last "+lastText)
	assert.Contains(t, b.get("/console/cases/"+e.onTime.Number).Body.String(), "Urges by the owner: 2, the last at "+lastText)

	// Closed, its urges call for nothing more: no mark on the list.
	_, err := e.store.TransitionCase(ctx, e.onTime.ID, 0, casework.Transition{Action: casework.ActionCancel, Actor: casework.Staff("7"), Note: "业主撤回"})
	require.NoError(t, err)
	b.cookies["aftersales_console_lang"] = &http.Cookie{Name: "aftersales_console_lang", Value: "zh"}
	assert.NotContains(t, urgedRow(t, b.get("/console/cases").Body.String(), e.onTime.Number), "urged")
}
