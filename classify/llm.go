package classify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// LLM classifies with a large language model behind an OpenAI-compatible
// chat-completions endpoint (DeepSeek, Qwen, a self-hosted model), with a
// local Classifier as its fallback: the model's answer is used only when it
// comes within Timeout and is a valid judgment; otherwise — slow, an HTTP
// error, empty content (some providers return it), not JSON, unknown codes —
// the local judgment stands. After three failures in a row the endpoint is
// left alone for a minute, so that an outage costs owners no waiting.
//
// Staff rules keep the last word: when the local classifier's judgment comes
// from them, the LLM is not asked. The local classifier's urgent stands over
// the LLM's (safety first: its thresholds are set for recall), and its
// lexicon's signals are reported. The last few hundred answers are
// remembered, so that words read twice in a dialogue are asked about once. Numbers of seven digits or more (phones,
// ID numbers) are masked in what is sent. It is safe for concurrent use.
type LLM struct {
	// URL is the API base (https://api.deepseek.com/v1); "/chat/completions"
	// is added unless it already ends so.
	URL   string
	Key   string // bearer token; empty: none sent
	Model string // deepseek-chat, qwen-plus…
	// Timeout of one answer (default 4 s): the owner is waiting.
	Timeout time.Duration
	Local   *Classifier
	Client  *http.Client // default: http.DefaultClient
	Logger  *slog.Logger // failures, at warn; never the text
	NowFunc func() time.Time

	mu       sync.Mutex
	failures int
	pauseTil time.Time
	answers  map[string]Result // recent answers by text: a dialogue reads the same words more than once
	order    []string          // answers' keys, oldest first
}

// llmRemembered is how many recent answers are kept.
const llmRemembered = 256

// llmFailuresToPause and llmPause: after so many failures in a row, the
// endpoint is not asked for so long.
const (
	llmFailuresToPause = 3
	llmPause           = time.Minute
	llmMaxAnswer       = 1 << 20
)

// Classify judges text with the LLM, or locally when it cannot.
func (l *LLM) Classify(text string) Result {
	return l.ClassifyContext(context.Background(), text)
}

// ClassifyContext is Classify bounded by ctx as well as Timeout.
func (l *LLM) ClassifyContext(ctx context.Context, text string) Result {
	local := l.Local.Classify(text)
	if local.By == "rules" || strings.TrimSpace(text) == "" {
		return local
	}
	res, ok := l.remembered(text)
	if !ok {
		if l.paused() {
			return local
		}
		var err error
		res, err = l.ask(ctx, text)
		l.record(text, res, err)
		if err != nil {
			if l.Logger != nil {
				l.Logger.Warn("LLM classifier failed: using the local model", "error", err)
			}
			return local
		}
	}
	res.Signals = local.Signals
	if local.Urgency == casework.UrgencyUrgent {
		res.Urgency = casework.UrgencyUrgent
	}
	return res
}

func (l *LLM) now() time.Time {
	if l.NowFunc != nil {
		return l.NowFunc()
	}
	return time.Now()
}

func (l *LLM) paused() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now().Before(l.pauseTil)
}

func (l *LLM) remembered(text string) (Result, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.answers[text]
	return r, ok
}

// record counts a failure, or remembers an answer.
func (l *LLM) record(text string, r Result, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.failures = 0
		if l.answers == nil {
			l.answers = make(map[string]Result, llmRemembered)
		}
		if _, ok := l.answers[text]; !ok {
			if len(l.order) == llmRemembered {
				delete(l.answers, l.order[0])
				l.order = l.order[1:]
			}
			l.order = append(l.order, text)
		}
		l.answers[text] = r
		return
	}
	if l.failures++; l.failures >= llmFailuresToPause {
		l.failures = 0
		l.pauseTil = l.now().Add(llmPause)
	}
}

// longNumber matches phone and ID numbers, with the spaces and dashes people
// write in them.
var longNumber = regexp.MustCompile(`\+?\d(?:[ -]?\d){6,}`)

func (l *LLM) ask(ctx context.Context, text string) (Result, error) {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 4 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if len(text) > MaxTextBytes {
		text = strings.ToValidUTF8(text[:MaxTextBytes], "")
	}
	body, err := json.Marshal(map[string]any{
		"model": l.Model,
		"messages": []map[string]string{
			{"role": "system", "content": llmPrompt},
			{"role": "user", "content": longNumber.ReplaceAllString(text, "[number]")},
		},
		"response_format": map[string]string{"type": "json_object"},
		"temperature":     0,
		"max_tokens":      200,
		"stream":          false,
	})
	if err != nil {
		return Result{}, err
	}
	url := strings.TrimRight(l.URL, "/")
	if !strings.HasSuffix(url, "/chat/completions") {
		url += "/chat/completions"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if l.Key != "" {
		req.Header.Set("Authorization", "Bearer "+l.Key)
	}
	client := l.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("no answer within %s", timeout)
		}
		return Result{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, llmMaxAnswer))
	if err != nil {
		return Result{}, fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var completion struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &completion); err != nil {
		return Result{}, fmt.Errorf("not a chat completion: %w", err)
	}
	if len(completion.Choices) == 0 {
		return Result{}, errors.New("no choices in the answer")
	}
	return parseLLMAnswer(completion.Choices[0].Message.Content)
}

// parseLLMAnswer reads the model's JSON judgment, which may come wrapped in
// a Markdown code fence, and validates every code.
func parseLLMAnswer(content string) (Result, error) {
	s := strings.TrimSpace(content)
	if s == "" {
		return Result{}, errors.New("empty content")
	}
	if i, j := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}'); i >= 0 && j > i {
		s = s[i : j+1]
	}
	var a struct {
		Category    casework.Category    `json:"category"`
		Subcategory casework.Subcategory `json:"subcategory"`
		Urgency     casework.Urgency     `json:"urgency"`
		Confidence  *float64             `json:"confidence"`
	}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return Result{}, fmt.Errorf("content is not the JSON asked for: %w", err)
	}
	if !a.Category.Valid() {
		return Result{}, fmt.Errorf("unknown category %q", a.Category)
	}
	if !a.Urgency.Valid() {
		return Result{}, fmt.Errorf("unknown urgency %q", a.Urgency)
	}
	if !a.Subcategory.Valid(a.Category) {
		a.Subcategory = casework.SubOther
	}
	conf := 0.8
	if a.Confidence != nil && *a.Confidence >= 0 && *a.Confidence <= 1 {
		conf = *a.Confidence
	}
	return Result{Category: a.Category, Subcategory: a.Subcategory, Urgency: a.Urgency, Confidence: conf, By: "llm"}, nil
}

// llmPrompt tells the model the department's categories and urgencies
// (docs/labelling.md, in short) and the answer's shape.
var llmPrompt = func() string {
	var b strings.Builder
	b.WriteString(`You classify a homeowner's message to a property developer's after-sales department (售后服务部) the way an experienced reception clerk would.
Answer with one JSON object and nothing else: {"category": "...", "subcategory": "...", "urgency": "...", "confidence": 0.0-1.0}.

Category is the problem the owner wants fixed or answered, not their tone. Categories and their subcategories:
- engineering_quality (工程质量): leak (water through roof, exterior wall, window frame, waterproofing; water from the flat above), plumbing (pipes, taps, toilets, drains, sewage, no water), electrical (wiring, sockets, breakers, no power, sparks), crack (plaster, screed, tiles; not load-bearing), structural (load-bearing walls, beams, columns, slabs, settlement), door_window, decoration (paint, tiles, floors, ceilings, cabinets, façade tiles), other (gas pipes and smell, railings, sound insulation, smells from materials).
- design_defect (设计瑕疵): layout (unreasonable layout, not as in the sales model), missing_function (no socket, no drain, no AC hole…), other.
- facilities_equipment (设施设备): lift, fire, intercom (access control, gates, entry phones), heating, cooling (air conditioning, fresh air), in_unit_equipment (delivered appliances: range hood, hob, water heater…), other (pumps, public lighting, garage doors, chargers).
- service_attitude (服务态度): property_management (物业), staff (the developer's own staff), contractor (repairers), other — only when the complaint is about how people behave, not a defect.
- policy_consultation (政策咨询): certificate (property certificate, 网签, 备案), fees (property fees, maintenance fund, taxes, refunds), other (warranty period, handover standards, rules).
- other: suggestion, praise, other (greetings, unclear).

Urgency:
- urgent: someone may get hurt or the home has lost something essential, now: water pouring or spreading, burst pipe, sewage backing up, no water or no power to the home, sparks, shocks, burning smell, gas smell, fire or smoke, people trapped in a lift, something fallen or about to fall from height, a growing structural crack, no heating in the cold or no cooling in extreme heat with a baby, elderly or ill person, an entrance door that will not lock.
- major_complaint: escalated beyond the department or affecting many: 12345, government, housing bureau, media, internet exposure, lawyers, courts, many households or a group of owners, months or years of waiting or repeated failed repairs with demands for compensation or refund.
- normal: everything else, however angry a single owner's first report is.
If both urgent and major_complaint apply, answer urgent.`)
	return b.String()
}()
