package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/web"
	"github.com/aftersales/aftersales/casework"
)

// visitor is a person on the chat page of a running service, talking through
// its HTTP API as the page's script does.
type visitor struct {
	t      *testing.T
	base   string
	client *http.Client // keeps the cookie that is the visitor's identity
	id     string       // the identity the service issued
	n      int
	seen   int
	said   []string // everything the bot said, in order
	media  []string // the page's URLs of the photos the bot sent
	echo   []string // the visitor's own messages, as the page shows them
}

type pageMessage struct {
	Seq      int    `json:"seq"`
	From     string `json:"from"`
	Text     string `json:"text"`
	MediaURL string `json:"media_url"`
	Choices  []struct {
		Label   string `json:"label"`
		Payload string `json:"payload"`
	} `json:"choices"`
}

// newVisitor opens the chat page at base, as a browser would: the service
// issues the visitor's identity in a cookie.
func newVisitor(t *testing.T, base string) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	v := &visitor{t: t, base: base, client: &http.Client{Jar: jar}}
	resp, err := v.client.Get(base + "/chat/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	u, _ := url.Parse(base + "/chat/")
	for _, c := range jar.Cookies(u) {
		if c.Name == web.VisitorCookie {
			v.id, _, _ = strings.Cut(c.Value, ".")
		}
	}
	require.NotEmpty(t, v.id, "the page issued no visitor cookie")
	return v
}

func (v *visitor) post(body map[string]string) {
	v.t.Helper()
	v.n++
	body["id"] = fmt.Sprintf("msg-%04d-abcdefgh", v.n)
	b, _ := json.Marshal(body)
	resp, err := v.client.Post(v.base+"/chat/api/send", "application/json", bytes.NewReader(b))
	require.NoError(v.t, err)
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	require.Equal(v.t, http.StatusNoContent, resp.StatusCode, "%s", msg)
}

// say types text and returns what the bot answered.
func (v *visitor) say(text string) string { v.post(map[string]string{"text": text}); return v.read() }

// press taps a choice and returns what the bot answered.
func (v *visitor) press(payload string) string {
	v.post(map[string]string{"payload": payload})
	return v.read()
}

func (v *visitor) read() string {
	v.t.Helper()
	resp, err := v.client.Get(fmt.Sprintf("%s/chat/api/messages?after=%d", v.base, v.seen))
	require.NoError(v.t, err)
	defer resp.Body.Close()
	var page struct {
		Messages []pageMessage `json:"messages"`
		Next     int           `json:"next"`
	}
	require.NoError(v.t, json.NewDecoder(resp.Body).Decode(&page))
	v.seen = page.Next
	var out []string
	for _, m := range page.Messages {
		if m.From == "user" {
			v.echo = append(v.echo, m.Text)
			continue
		}
		out = append(out, m.Text)
		if m.MediaURL != "" {
			v.media = append(v.media, v.base+"/chat/"+m.MediaURL)
		}
		for _, c := range m.Choices {
			out = append(out, "["+c.Label+"|"+c.Payload+"]")
		}
	}
	v.said = append(v.said, out...)
	return strings.Join(out, "\n")
}

// TestReportThroughTheChatPage: a homeowner with no WeChat or Telegram opens
// the demo's chat page and reports a leak with a photo; the case is in the
// database with its media, and the page showed its number.
func TestReportThroughTheChatPage(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t, true)
	base := "http://" + m.Addr()

	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), "app.js", "/ leads to the chat page")
	assert.NotEmpty(t, resp.Header.Get("Content-Security-Policy"))

	v := newVisitor(t, base)
	assert.Contains(t, v.say("报修"), "请问您的姓名")
	assert.Contains(t, v.say("张伟"), "房号")
	assert.Contains(t, v.say("1-1-101"), "电话")
	assert.Contains(t, v.say("13900000001"), "139****0001", "a code goes to the phone")
	assert.Contains(t, v.say(smsCode(t, m, "13900000001")), "什么问题")
	assert.Contains(t, v.press("cat:engineering_quality/leak"), "位置")
	assert.Contains(t, v.press("loc:bathroom"), "描述")
	assert.Contains(t, v.say("卫生间吊顶在滴水，墙角发霉"), "什么时候开始")
	assert.Contains(t, v.press("occ:week"), "照片")

	// A photo through the page's upload endpoint.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("id", "upload-0001-abcdefgh"))
	fw, err := mw.CreateFormFile("file", "ceiling.png")
	require.NoError(t, err)
	_, err = fw.Write(pngBytes)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	resp, err = v.client.Post(base+"/chat/api/upload", mw.FormDataContentType(), &body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Contains(t, v.read(), "已收到 1 个附件")

	assert.Contains(t, v.press("media:done"), "怎样解决")
	assert.Contains(t, v.press("exp:repair"), "联系")
	summary := v.press("ct:anytime")
	assert.Contains(t, summary, "海景苑 1-1-101")
	done := v.press("sum:submit")
	assert.Contains(t, done, "SH-")

	cases, n, err := m.Store.FindCases(context.Background(), casework.CaseFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Contains(t, done, cases[0].Number)
	assert.Equal(t, casework.ChannelWeb, cases[0].Channel)
	c, err := m.Store.FindCaseByID(context.Background(), cases[0].ID)
	require.NoError(t, err)
	require.Len(t, c.Media, 1)
	assert.Equal(t, "image/png", c.Media[0].ContentType)

	// Markup typed into the chat is kept as the text it is (the page shows
	// every text with textContent), and it is no command.
	assert.Contains(t, v.say("<b>菜单</b>"), "请选择您要办理的事项")
	assert.Equal(t, "<b>菜单</b>", v.echo[len(v.echo)-1])
}

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// TestClassifyCommand: staff check the rules with `aftersales classify`.
func TestClassifyCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	in := strings.NewReader("卫生间天花板一直在往下滴水\n\n电梯里困了人\nWhen will I get my property certificate?\n")
	require.Equal(t, exitOK, run(context.Background(), []string{"classify"}, env(), in, &out, &errOut), errOut.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3, "one JSON object per non-empty line")
	var r struct{ Category, Subcategory, Urgency string }
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &r))
	assert.Equal(t, "engineering_quality", r.Category)
	assert.Equal(t, "leak", r.Subcategory)
	assert.Equal(t, "urgent", r.Urgency)
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &r))
	assert.Equal(t, "lift", r.Subcategory)
	assert.Equal(t, "urgent", r.Urgency)
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &r))
	assert.Equal(t, "policy_consultation", r.Category)

	out.Reset()
	errOut.Reset()
	assert.Equal(t, exitUsage, run(context.Background(), []string{"classify", "-classify-rules", "/nonexistent.json"}, env(), strings.NewReader(""), &out, &errOut))
	assert.Contains(t, errOut.String(), "nonexistent")
}

// TestClassifyTrainAndEval: staff add examples, train a model, score it,
// and the service and `classify` use it with AFTERSALES_CLASSIFY_MODEL.
func TestClassifyTrainAndEval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corpus := filepath.Join(dir, "mine.jsonl")
	var b strings.Builder
	// A department's own word for its entry system (咔哒机), learnt from
	// examples.
	for i := range 40 {
		fmt.Fprintf(&b, `{"text":"%d号楼的咔哒机又坏了，进不了门","category":"facilities_equipment","subcategory":"intercom","urgency":"normal"}`+"\n", i)
		fmt.Fprintf(&b, `{"text":"%d栋房产证什么时候能办","category":"policy_consultation","subcategory":"certificate","urgency":"normal"}`+"\n", i)
		fmt.Fprintf(&b, `{"text":"%d楼卫生间天花板哗哗往下淌水","category":"engineering_quality","subcategory":"leak","urgency":"urgent"}`+"\n", i)
	}
	require.NoError(t, os.WriteFile(corpus, []byte(b.String()), 0o600))
	model := filepath.Join(dir, "model.bin.gz")
	var out, errOut bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"classify", "train", "-o", model, "-folds", "3", corpus}, env(), nil, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "trained on 120 texts")
	assert.Contains(t, out.String(), "3-fold cross-validation")
	assert.Contains(t, out.String(), "category confusion")

	out.Reset()
	require.Equal(t, exitOK, run(context.Background(), []string{"classify"}, env("AFTERSALES_CLASSIFY_MODEL", model),
		strings.NewReader("7号楼的咔哒机坏了\n"), &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), `"subcategory":"intercom"`, "the trained model answers")

	out.Reset()
	require.Equal(t, exitOK, run(context.Background(), []string{"classify", "eval", corpus}, env("AFTERSALES_CLASSIFY_MODEL", model), nil, &out, &errOut), errOut.String())
	for _, want := range []string{"texts                120", "category accuracy", "urgent               recall", "major_complaint      recall", "urgency confusion"} {
		assert.Contains(t, out.String(), want)
	}

	// Bad input: a clear error, no model written.
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"text":"x","category":"engineering","subcategory":"leak","urgency":"normal"}`+"\n"), 0o600))
	errOut.Reset()
	assert.Equal(t, exitUsage, run(context.Background(), []string{"classify", "train", "-o", filepath.Join(dir, "no.bin.gz"), bad}, env(), nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "bad.jsonl:1: category")
	assert.NoFileExists(t, filepath.Join(dir, "no.bin.gz"))
	errOut.Reset()
	assert.Equal(t, exitUsage, run(context.Background(), []string{"classify"}, env("AFTERSALES_CLASSIFY_MODEL", bad), strings.NewReader(""), &out, &errOut))
	assert.Contains(t, errOut.String(), "AFTERSALES_CLASSIFY_MODEL")
	errOut.Reset()
	assert.Equal(t, exitUsage, run(context.Background(), []string{"classify", "eval"}, env(), nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "usage")
}

// fakeChatCompletions is an OpenAI-compatible endpoint that judges every
// text a design defect, and counts the requests and the keys it was sent.
func fakeChatCompletions(t *testing.T, content string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-llm-test-key-0001" {
			http.Error(w, `{"error":{"message":"unauthorized"}}`, http.StatusUnauthorized)
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]string{"role": "assistant", "content": content}}}})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestClassifyWithLLM: with AFTERSALES_CLASSIFY_LLM_URL set, the LLM
// answers `classify` and the service's dialogue; its key reaches no log.
func TestClassifyWithLLM(t *testing.T) {
	t.Parallel()
	srv, calls := fakeChatCompletions(t, `{"category":"design_defect","subcategory":"layout","urgency":"normal","confidence":0.93}`)
	llmEnv := []string{"AFTERSALES_CLASSIFY_LLM_URL", srv.URL + "/v1", "AFTERSALES_CLASSIFY_LLM_KEY", "sk-llm-test-key-0001",
		"AFTERSALES_CLASSIFY_LLM_MODEL", "qwen-plus"}
	var out, errOut bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"classify"}, env(llmEnv...), strings.NewReader("卫生间门正对着餐桌\n"), &out, &errOut), errOut.String())
	assert.JSONEq(t, `{"category":"design_defect","subcategory":"layout","urgency":"normal","confidence":0.93,"by":"llm"}`, out.String())

	// A wrong key: the endpoint refuses, the built-in model answers.
	out.Reset()
	bad := append(slices.Clone(llmEnv), "AFTERSALES_CLASSIFY_LLM_KEY", "sk-wrong")
	require.Equal(t, exitOK, run(context.Background(), []string{"classify"}, env(bad...), strings.NewReader("卫生间天花板一直在往下滴水\n"), &out, &errOut))
	assert.Contains(t, out.String(), `"by":"model"`)
	assert.Contains(t, errOut.String(), "HTTP 401")
	assert.NotContains(t, errOut.String(), "sk-wrong")

	// Missing the model: a configuration error.
	errOut.Reset()
	assert.Equal(t, exitUsage, run(context.Background(), []string{"classify"}, env(llmEnv[:4]...), strings.NewReader(""), &out, &errOut))
	assert.Contains(t, errOut.String(), "AFTERSALES_CLASSIFY_LLM_MODEL")

	// The service asks it about the owner's first words.
	m, _ := runMain(t, true, func(c *Config) { c.LLMURL, c.LLMKey, c.LLMModel = srv.URL+"/v1", "sk-llm-test-key-0001", "qwen-plus" })
	before := calls.Load()
	v := newVisitor(t, "http://"+m.Addr())
	v.say("你好，我家卫生间的门正对着餐桌，吃饭的时候特别别扭，能不能改")
	assert.Greater(t, calls.Load(), before, "the owner's words went to the LLM")
	assert.NotContains(t, serviceLog(m), "sk-llm-test-key-0001")
}

// TestStaffAPIOnTheService: with AFTERSALES_API_TOKEN set, staff read the
// case an owner just reported through the chat page; without the token the
// API answers 401, as it does on a service without a configured token.
func TestStaffAPIOnTheService(t *testing.T) {
	t.Parallel()
	const token = "staff-token-0123456789abcdef"
	m, _ := runMain(t, true, func(c *Config) { c.APIToken = token })
	base := "http://" + m.Addr()
	v := newVisitor(t, base)
	v.say("投诉")
	v.say("张伟")
	v.say("1-1-101")
	v.say("13900000001")
	v.press("verify:skip")
	v.say("物业保安态度很差，还骂人")
	done := v.press("sum:submit")
	require.Contains(t, done, "SH-")

	get := func(path, auth string) (int, map[string]any) {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body
	}
	status, body := get("/api/v1/cases?category=service_attitude", token)
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.EqualValues(t, 1, body["total"])
	number := body["cases"].([]any)[0].(map[string]any)["number"].(string)
	assert.Contains(t, done, number)
	status, body = get("/api/v1/cases/"+number, token)
	require.Equal(t, http.StatusOK, status)
	assert.NotEmpty(t, body["timeline"])
	status, _ = get("/api/v1/cases", "wrong-token-0123456789abcdef")
	assert.Equal(t, http.StatusUnauthorized, status)

	plain, _ := runMain(t, false, nil)
	resp, err := http.Get("http://" + plain.Addr() + "/api/v1/cases")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no token configured: the API answers only service accounts' tokens")
}
