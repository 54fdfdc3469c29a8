package classify

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
)

// fakeLLM is an OpenAI-compatible chat-completions endpoint whose answer
// the test sets: the content of the first choice, an HTTP status, a delay.
type fakeLLM struct {
	*httptest.Server
	mu       sync.Mutex
	content  string
	status   int
	delay    time.Duration
	raw      string // a whole body instead of a completion
	requests []map[string]any
	auth     []string
}

func newFakeLLM(t *testing.T) *fakeLLM {
	f := &fakeLLM{status: http.StatusOK}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		var req map[string]any
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		content, status, delay, raw := f.content, f.status, f.delay, f.raw
		f.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if raw != "" {
			io.WriteString(w, raw)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "model": req["model"],
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": content}}},
		})
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeLLM) set(content string, status int, delay time.Duration, raw string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.content, f.status, f.delay, f.raw = content, status, delay, raw
}

func (f *fakeLLM) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func newLLM(f *fakeLLM, clock *testclock.Clock) *LLM {
	return &LLM{URL: f.URL + "/v1", Key: "sk-test", Model: "deepseek-chat", Timeout: 300 * time.Millisecond,
		Local: defaultClassifier(), NowFunc: clock.Now}
}

func TestLLMAnswerUsed(t *testing.T) {
	t.Parallel()
	f := newFakeLLM(t)
	l := newLLM(f, testclock.New(testclock.Start()))
	f.set("```json\n{\"category\":\"design_defect\",\"subcategory\":\"layout\",\"urgency\":\"normal\",\"confidence\":0.9}\n```", 200, 0, "")
	got := l.Classify("卫生间门正对着餐桌，吃饭的时候很不舒服，电话13812345678")
	assert.Equal(t, Result{Category: "design_defect", Subcategory: "layout", Urgency: "normal", Confidence: 0.9, By: "llm"}, got)

	require.Equal(t, 1, f.calls())
	req := f.requests[0]
	assert.Equal(t, "Bearer sk-test", f.auth[0])
	assert.Equal(t, "deepseek-chat", req["model"])
	assert.Equal(t, map[string]any{"type": "json_object"}, req["response_format"])
	msgs := req["messages"].([]any)
	user := msgs[1].(map[string]any)["content"].(string)
	assert.NotContains(t, user, "13812345678", "phone numbers are masked before they leave")
	assert.Contains(t, user, "卫生间门正对着餐桌")
	assert.Contains(t, msgs[0].(map[string]any)["content"], "JSON")

	// The same words again: remembered, not asked again.
	assert.Equal(t, got, l.Classify("卫生间门正对着餐桌，吃饭的时候很不舒服，电话13812345678"))
	assert.Equal(t, 1, f.calls())

	// A subcategory of another category becomes other; no confidence, 0.8.
	f.set(`{"category":"facilities_equipment","subcategory":"leak","urgency":"major_complaint"}`, 200, 0, "")
	got = l.Classify("电梯坏了一个月，全楼业主联名投诉")
	assert.Equal(t, Result{Category: "facilities_equipment", Subcategory: "other", Urgency: "major_complaint", Confidence: 0.8, By: "llm",
		Signals: []string{"complaint_authority", "collective_action", "many_households"}}, got, "the lexicon's signals come with it")
}

// TestLLMFallback: every way an endpoint fails leaves the local judgment.
func TestLLMFallback(t *testing.T) {
	t.Parallel()
	const text = "厨房水管爆了，水喷得到处都是"
	want := defaultClassifier().Classify(text)
	require.Equal(t, casework.UrgencyUrgent, want.Urgency)
	for name, answer := range map[string]struct {
		content string
		status  int
		delay   time.Duration
		raw     string
	}{
		"empty content":    {"", 200, 0, ""},
		"not JSON":         {"这是一个渗漏问题", 200, 0, ""},
		"unknown category": {`{"category":"plumbing","subcategory":"other","urgency":"urgent"}`, 200, 0, ""},
		"unknown urgency":  {`{"category":"engineering_quality","subcategory":"plumbing","urgency":"high"}`, 200, 0, ""},
		"server error":     {"", 500, 0, `{"error":{"message":"overloaded"}}`},
		"rate limited":     {"", 429, 0, `{"error":{"message":"rate limit"}}`},
		"no choices":       {"", 200, 0, `{"choices":[]}`},
		"not a completion": {"", 200, 0, `<html>gateway</html>`},
		"too slow":         {`{"category":"other","subcategory":"other","urgency":"normal"}`, 200, 2 * time.Second, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFakeLLM(t)
			f.set(answer.content, answer.status, answer.delay, answer.raw)
			l := newLLM(f, testclock.New(testclock.Start()))
			start := time.Now()
			assert.Equal(t, want, l.Classify(text))
			assert.Less(t, time.Since(start), 1500*time.Millisecond, "the timeout bounds the wait")
			assert.Equal(t, 1, f.calls())
		})
	}
}

// TestLLMUrgentStands: the local model's urgent is kept over the LLM's
// normal; its signals are reported.
func TestLLMUrgentStands(t *testing.T) {
	t.Parallel()
	f := newFakeLLM(t)
	l := newLLM(f, testclock.New(testclock.Start()))
	f.set(`{"category":"engineering_quality","subcategory":"other","urgency":"normal","confidence":0.7}`, 200, 0, "")
	got := l.Classify("厨房一股煤气味，好像燃气泄漏了")
	assert.Equal(t, casework.UrgencyUrgent, got.Urgency)
	assert.Equal(t, "llm", got.By)
	assert.Contains(t, got.Signals, "gas_smell")
}

// TestLLMPauses: after three failures in a row the endpoint is not asked
// for a minute; then it is again.
func TestLLMPauses(t *testing.T) {
	t.Parallel()
	f := newFakeLLM(t)
	clock := testclock.New(testclock.Start())
	l := newLLM(f, clock)
	f.set("", 503, 0, `{}`)
	for i := range 5 {
		assert.Equal(t, "model", l.Classify(fmt.Sprintf("%d号电梯坏了", i)).By)
	}
	assert.Equal(t, 3, f.calls())
	clock.Advance(61 * time.Second)
	f.set(`{"category":"facilities_equipment","subcategory":"lift","urgency":"normal"}`, 200, 0, "")
	assert.Equal(t, "llm", l.Classify("电梯坏了").By)
	assert.Equal(t, 4, f.calls())
}

// TestLLMStaffRulesFirst: where a staff rule decides, the LLM is not asked.
func TestLLMStaffRulesFirst(t *testing.T) {
	t.Parallel()
	f := newFakeLLM(t)
	staff, err := LoadRules(strings.NewReader(`{"rules":[{"category":"facilities_equipment","subcategory":"intercom","keywords":["门禁卡"]}]}`))
	require.NoError(t, err)
	l := newLLM(f, testclock.New(testclock.Start()))
	l.Local = NewWithModel(DefaultModel(), staff)
	assert.Equal(t, "rules", l.Classify("门禁卡刷不开").By)
	assert.Equal(t, 0, f.calls())
}
