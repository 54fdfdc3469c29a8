package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

// handoffEnv is actEnv with two chats handed to a person: 张三's, a proven
// owner of 3-2-1502 in 海景苑 (project 1), on Telegram, first; and an
// unknown visitor's on the chat page.
type handoffEnv struct {
	*actEnv
	owner, visitor *casework.Handoff
}

const visitorID = "visitor-0123456789abcdef"

func newHandoffEnv(t *testing.T) *handoffEnv {
	t.Helper()
	e := &handoffEnv{actEnv: newActEnv(t)}
	ctx := t.Context()
	require.NoError(t, e.store.BindOwnerUnit(ctx, e.apiEnv.owner.ID, e.unit.ID))
	proven := e.clock.Now().Add(-time.Hour)
	require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: ownerChatID, OwnerID: e.apiEnv.owner.ID, Lang: "zh",
		VerifiedPhone: e.apiEnv.owner.Phone, VerifiedAt: &proven, VerifiedBy: casework.VerifyTelegramContact}))
	e.owner = e.openHandoff(t, "telegram", ownerChatID, e.apiEnv.owner.ID, "卫生间天花板又在滴水了")
	e.visitor = e.openHandoff(t, "web", visitorID, 0, "请问交房后多久可以办房产证？")
	return e
}

// openHandoff opens a hand-off as the dialogue does: the owner's words.
func (e *handoffEnv) openHandoff(t *testing.T, platform, userID string, ownerID int64, words string) *casework.Handoff {
	t.Helper()
	h := &casework.Handoff{Platform: platform, UserID: userID, OwnerID: ownerID, Lang: "zh"}
	_, err := e.store.OpenHandoff(t.Context(), h)
	require.NoError(t, err)
	e.ownerSays(t, h, words)
	return h
}

// ownerSays adds the owner's words to h.
func (e *handoffEnv) ownerSays(t *testing.T, h *casework.Handoff, words string) *casework.HandoffMessage {
	t.Helper()
	m := &casework.HandoffMessage{HandoffID: h.ID, From: casework.FromOwner, Actor: "owner:1", Text: words}
	_, err := e.store.AddHandoffMessage(t.Context(), m, casework.Effects{})
	require.NoError(t, err)
	return m
}

func (e *handoffEnv) handoff(t *testing.T, h *casework.Handoff) *casework.Handoff {
	t.Helper()
	got, err := e.store.FindHandoff(t.Context(), h.ID)
	require.NoError(t, err)
	return got
}

func handoffPath(h *casework.Handoff, rest string) string {
	return fmt.Sprintf("/console/handoffs/%d%s", h.ID, rest)
}

// outboxOf returns the outbox messages to a chat account, oldest first.
func (e *handoffEnv) outboxOf(t *testing.T, userID string) []*casework.OutboxMessage {
	t.Helper()
	e.jobs.mu.Lock()
	jobs := append([]casework.Job(nil), e.jobs.jobs...)
	e.jobs.mu.Unlock()
	var out []*casework.OutboxMessage
	for _, j := range jobs {
		if j.Kind != casework.JobDeliver {
			continue
		}
		m, err := e.store.FindOutboxMessage(t.Context(), j.OutboxID)
		require.NoError(t, err)
		if m.UserID == userID {
			out = append(out, m)
		}
	}
	return out
}

// textOf returns the text an outbox message carries.
func textOf(t *testing.T, m *casework.OutboxMessage) string {
	t.Helper()
	var p struct{ Messages []bot.Outbound }
	require.NoError(t, json.Unmarshal(m.Payload, &p))
	require.NotEmpty(t, p.Messages)
	return p.Messages[0].Text
}

// TestHandoffInboxPermissions: agents, supervisors and admins see the inbox,
// within their projects for the chats of known owners and linked cases;
// an unknown chat's is everyone's who may act; a party's manager sees none.
func TestHandoffInboxPermissions(t *testing.T) {
	t.Parallel()
	e := newHandoffEnv(t)

	party := e.signedIn(t, "party")
	assert.Equal(t, http.StatusForbidden, party.get("/console/handoffs").Code)
	assert.Equal(t, http.StatusForbidden, party.get(handoffPath(e.visitor, "")).Code)
	assert.NotContains(t, party.get("/console/").Body.String(), "/console/handoffs")

	sup := e.signedIn(t, "supervisor")
	w := sup.get("/console/handoffs")
	require.Equal(t, http.StatusOK, w.Code)
	body := w.Body.String()
	assert.Contains(t, body, "张三")
	assert.Contains(t, body, "未核实身份的聊天用户")
	assert.Less(t, strings.Index(body, handoffPath(e.owner, "")), strings.Index(body, handoffPath(e.visitor, "")), "the longest waiting first")
	assert.NotContains(t, body, visitorID, "a visitor's id is its key to the chat page")
	dash := sup.get("/console/").Body.String()
	assert.Regexp(t, `href="/console/handoffs"><span class="n">2</span><span class="label">人工会话待回复`, dash)
	// Every page's menu and title count them, for whoever may answer.
	cases := sup.get("/console/cases").Body.String()
	assert.Contains(t, cases, `人工会话 <span class="count">2</span></a>`)
	assert.Contains(t, cases, "<title>(2) ")

	agent := e.signedIn(t, "agent") // 绿水园 only
	body = agent.get("/console/handoffs").Body.String()
	assert.NotContains(t, body, "张三", "an owner of another project")
	assert.Contains(t, body, handoffPath(e.visitor, ""), "an unknown chat's is everyone's")
	assert.Equal(t, http.StatusNotFound, agent.get(handoffPath(e.owner, "")).Code)
	assert.Equal(t, http.StatusNotFound, agent.get(handoffPath(e.owner, "/live")).Code)
	assert.Equal(t, http.StatusNotFound, agent.do(http.MethodPost, handoffPath(e.owner, "/take"), url.Values{}).Code)
	assert.Equal(t, casework.HandoffWaiting, e.handoff(t, e.owner).State, "nothing done")
	assert.Regexp(t, `<span class="n">1</span><span class="label">人工会话待回复`, agent.get("/console/").Body.String())
	assert.Contains(t, agent.get("/console/cases").Body.String(), `<span class="count">1</span>`, "the agent's own count")

	// Linked to a case of 绿水园, the owner's chat is the agent's to see.
	_, err := e.store.LinkHandoff(t.Context(), e.owner.ID, e.other.ID)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, agent.get(handoffPath(e.owner, "")).Code)

	assert.Equal(t, http.StatusNotFound, sup.get("/console/handoffs/999999").Code)
	assert.Equal(t, http.StatusNotFound, sup.get("/console/handoffs/abc").Code)
	assert.Equal(t, http.StatusNotFound, sup.do(http.MethodPost, handoffPath(e.visitor, "/fly"), url.Values{}).Code)
}

// TestHandoffTakeReplyLinkEnd: a supervisor takes the owner's chat, answers
// (an outbox message to the owner's Telegram, about no case), sees the
// owner's next words in the poll, links the case, and ends the chat: the
// owner is told. Another person answers only after taking it over.
func TestHandoffTakeReplyLinkEnd(t *testing.T) {
	t.Parallel()
	e := newHandoffEnv(t)
	ctx := t.Context()
	sup := e.signedIn(t, "supervisor")

	w := sup.get(handoffPath(e.owner, ""))
	require.Equal(t, http.StatusOK, w.Code)
	page := w.Body.String()
	assert.Contains(t, page, "卫生间天花板又在滴水了")
	assert.Contains(t, page, "138****5678", "the owner's phone, masked")
	assert.Contains(t, page, "海景苑 3-2-1502")
	assert.Contains(t, page, `action="`+handoffPath(e.owner, "/take")+`"`)
	assert.Contains(t, page, e.overdue.Number, "the owner's open case is offered to link")
	assert.Contains(t, page, "您好，我是售后服务部客服", "quick replies in the owner's language")

	w = sup.do(http.MethodPost, handoffPath(e.owner, "/take"), url.Values{})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	h := e.handoff(t, e.owner)
	assert.Equal(t, casework.HandoffTaken, h.State)
	assert.Equal(t, casework.Actor("staff:supervisor"), h.TakenBy)
	next, _, _ := strings.Cut(w.Header().Get("Location"), "#") // a browser keeps the fragment
	assert.Contains(t, sup.get(next).Body.String(), "已接手，请回复业主")

	w = sup.do(http.MethodPost, handoffPath(e.owner, "/reply"), url.Values{"text": {"您好，我是王主管，马上为您安排。"}})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	sent := e.outboxOf(t, ownerChatID)
	require.Len(t, sent, 1)
	assert.Equal(t, lifecycle.PurposeHandoffReply, sent[0].Purpose)
	assert.Equal(t, "telegram", sent[0].Platform)
	assert.Zero(t, sent[0].CaseID, "about no case yet")
	assert.Equal(t, "【人工客服】您好，我是王主管，马上为您安排。", textOf(t, sent[0]))
	w = sup.do(http.MethodPost, handoffPath(e.owner, "/reply"), url.Values{"text": {"  "}})
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Len(t, e.outboxOf(t, ownerChatID), 1)

	// The owner's next words arrive in the page's poll.
	w = sup.get(handoffPath(e.owner, "/live"))
	require.Equal(t, http.StatusOK, w.Code)
	var l struct{ Version, HTML, State string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &l))
	assert.Equal(t, "taken", l.State)
	assert.Contains(t, l.HTML, "您好，我是王主管")
	assert.Contains(t, l.HTML, "待发送", "the reply's delivery")
	assert.Equal(t, http.StatusNoContent, sup.get(handoffPath(e.owner, "/live?v="+l.Version)).Code, "nothing new")
	e.ownerSays(t, e.owner, "好的，我一直在家")
	w = sup.get(handoffPath(e.owner, "/live?v="+l.Version))
	require.Equal(t, http.StatusOK, w.Code)
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &l))
	assert.Contains(t, l.HTML, "好的，我一直在家")

	// The admin may not answer over the supervisor's head; taken over, they may.
	admin := e.signedIn(t, "admin")
	w = admin.do(http.MethodPost, handoffPath(e.owner, "/reply"), url.Values{"text": {"我来处理"}})
	assert.Equal(t, http.StatusConflict, w.Code)
	assert.Contains(t, w.Body.String(), "王主管正在处理此会话")
	assert.Contains(t, w.Body.String(), "我来处理", "the reply typed is kept")
	require.Equal(t, http.StatusSeeOther, admin.do(http.MethodPost, handoffPath(e.owner, "/takeover"), url.Values{}).Code)
	assert.Equal(t, casework.Actor("staff:admin"), e.handoff(t, e.owner).TakenBy)
	assert.Equal(t, http.StatusConflict, sup.do(http.MethodPost, handoffPath(e.owner, "/reply"), url.Values{"text": {"还在吗"}}).Code)

	// Linked: the owner's words go on the case.
	w = admin.do(http.MethodPost, handoffPath(e.owner, "/link"), url.Values{"number": {"SH-19990101-0001"}})
	assert.Equal(t, http.StatusBadRequest, w.Code)
	w = admin.do(http.MethodPost, handoffPath(e.owner, "/link"), url.Values{"case": {e.overdue.Number}})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	assert.Equal(t, e.overdue.ID, e.handoff(t, e.owner).CaseID)
	events, err := e.store.ListCaseEvents(ctx, e.overdue.ID)
	require.NoError(t, err)
	last := events[len(events)-1]
	assert.Contains(t, last.Note, "卫生间天花板又在滴水了")
	assert.Contains(t, last.Note, "好的，我一直在家")
	assert.Contains(t, admin.get(handoffPath(e.owner, "")).Body.String(), `href="/console/cases/`+e.overdue.Number+`"`)

	// Ended: the owner is told, once, and the chat takes no more.
	w = admin.do(http.MethodPost, handoffPath(e.owner, "/end"), url.Values{})
	require.Equal(t, http.StatusSeeOther, w.Code)
	h = e.handoff(t, e.owner)
	assert.Equal(t, casework.HandoffEnded, h.State)
	sent = e.outboxOf(t, ownerChatID)
	require.Len(t, sent, 2)
	assert.Equal(t, lifecycle.PurposeHandoffEnded, sent[1].Purpose)
	assert.Equal(t, e.overdue.ID, sent[1].CaseID, "about the linked case")
	assert.Contains(t, textOf(t, sent[1]), "回复“菜单”")
	require.Equal(t, http.StatusSeeOther, admin.do(http.MethodPost, handoffPath(e.owner, "/end"), url.Values{}).Code)
	assert.Len(t, e.outboxOf(t, ownerChatID), 2, "told once")
	w = admin.do(http.MethodPost, handoffPath(e.owner, "/reply"), url.Values{"text": {"还有一件事"}})
	assert.Equal(t, http.StatusConflict, w.Code)
	assert.Contains(t, w.Body.String(), "会话已结束")
	page = admin.get(handoffPath(e.owner, "")).Body.String()
	assert.Contains(t, page, "已结束会话，业主已回到自助服务")
	assert.NotContains(t, page, `name="text"`, "no reply box on an ended chat")
}

// TestHandoffRefusesCrossSiteRequests: a form posted from another site
// takes, answers and ends nothing.
func TestHandoffRefusesCrossSiteRequests(t *testing.T) {
	t.Parallel()
	e := newHandoffEnv(t)
	sup := e.signedIn(t, "supervisor")
	for _, action := range []string{"/take", "/reply", "/end"} {
		w := sup.do(http.MethodPost, handoffPath(e.visitor, action), url.Values{"text": {"点击领奖"}}, "Origin", "https://evil.example")
		assert.Equal(t, http.StatusForbidden, w.Code, action)
		w = sup.do(http.MethodPost, handoffPath(e.visitor, action), url.Values{"text": {"点击领奖"}}, "Sec-Fetch-Site", "cross-site")
		assert.Equal(t, http.StatusForbidden, w.Code, action)
	}
	h := e.handoff(t, e.visitor)
	assert.Equal(t, casework.HandoffWaiting, h.State)
	assert.Empty(t, e.outboxOf(t, visitorID))
}

// TestHandoffAgentLinksOnlyTheirCases: an agent answering an unknown chat
// may link it only to a case of their projects.
func TestHandoffAgentLinksOnlyTheirCases(t *testing.T) {
	t.Parallel()
	e := newHandoffEnv(t)
	agent := e.signedIn(t, "agent")
	w := agent.do(http.MethodPost, handoffPath(e.visitor, "/link"), url.Values{"number": {e.overdue.Number}})
	assert.Equal(t, http.StatusBadRequest, w.Code, "a case of 海景苑 is not the agent's")
	assert.Zero(t, e.handoff(t, e.visitor).CaseID)
	require.Equal(t, http.StatusSeeOther, agent.do(http.MethodPost, handoffPath(e.visitor, "/link"), url.Values{"number": {e.other.Number}}).Code)
	assert.Equal(t, e.other.ID, e.handoff(t, e.visitor).CaseID)

	// An answer to a waiting chat takes it; to the chat page, about the case.
	require.Equal(t, http.StatusSeeOther, agent.do(http.MethodPost, handoffPath(e.visitor, "/reply"), url.Values{"text": {"一般在交房后 90 天内办理。"}}).Code)
	h := e.handoff(t, e.visitor)
	assert.Equal(t, casework.Actor("staff:agent"), h.TakenBy)
	sent := e.outboxOf(t, visitorID)
	require.Len(t, sent, 1)
	assert.Equal(t, []any{"web", e.other.ID}, []any{sent[0].Platform, sent[0].CaseID})
}

// TestHandoffPhoto: a photo the owner sent is shown from the blob store, to
// those who may see the chat.
func TestHandoffPhoto(t *testing.T) {
	t.Parallel()
	e := newHandoffEnv(t)
	m := &casework.HandoffMessage{HandoffID: e.owner.ID, From: casework.FromOwner, Actor: "owner:1", BlobKey: "2026/11/27/ceiling.jpg"}
	_, err := e.store.AddHandoffMessage(t.Context(), m, casework.Effects{})
	require.NoError(t, err)
	sup := e.signedIn(t, "supervisor")
	media := handoffPath(e.owner, fmt.Sprintf("/media/%d", m.ID))
	assert.Contains(t, sup.get(handoffPath(e.owner, "")).Body.String(), `src="`+media+`"`)
	w := sup.get(media)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, photo, w.Body.Bytes())
	assert.Equal(t, "image/jpeg", w.Header().Get("Content-Type"))
	assert.Equal(t, http.StatusNotFound, sup.get(handoffPath(e.owner, fmt.Sprintf("/media/%d", m.ID-1))).Code, "a message without a photo")
	assert.Equal(t, http.StatusNotFound, e.signedIn(t, "agent").get(media).Code)
}
