package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
	"github.com/aftersales/aftersales/bot/wechat/wechattest"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// publicURL is the service's public URL in the supervisors' scenario.
const publicURL = "https://aftersales.example.com"

// newSupervisorScenario is newScenario with WeChat on and the service's
// public URL configured, so that the supervisors' notices link to the
// console. Not parallel: WeChat's SDK has process globals.
func newSupervisorScenario(t *testing.T) *scenario {
	t.Helper()
	s := &scenario{t: t, dir: t.TempDir(), clock: testclock.NewRunning(testclock.Start()), tg: telegramtest.NewServer(t, newBotToken())}
	s.wx = wechattest.NewServer(t, wxAppID, wxSecret)
	s.wx.AddTemplate(wxTemplate, "first", "keyword1", "keyword2", "remark")
	s.wx.SetNow(s.clock.Now)
	s.wxEngineer = &wxOwner{t: t, srv: s.wx, openID: fmt.Sprintf("oSup%012d", randomUserID(t)%1e12)}
	s.m, s.stop = runMain(t, true, func(c *Config) {
		telegramConfig(s.tg)(c)
		c.DataDir, c.nowFunc, c.APIToken, c.PublicURL = s.dir, s.clock.Now, scenarioAPIToken, publicURL
		c.WeChatAppID, c.WeChatSecret, c.WeChatToken = wxAppID, wxSecret, wxToken
		c.WeChatAPIURL, c.WeChatTemplateID = s.wx.URL(), wxTemplate
	})
	s.wxEngineer.p = wechattest.NewPlatform("http://"+s.m.Addr()+"/wechat/callback", wxToken, wxAppID, "", false)
	s.wxEngineer.p.Server = s.wx
	return s
}

// importRoster loads a duty roster written as a spreadsheet saves it, as
// `aftersales roster import` does, and returns the turns stored.
func (s *scenario) importRoster(csv string) int {
	s.t.Helper()
	path := filepath.Join(s.t.TempDir(), "roster.csv")
	require.NoError(s.t, os.WriteFile(path, []byte(csv), 0o600))
	recs, err := readRoster(path)
	require.NoError(s.t, err)
	_, n, err := s.m.importRoster(context.Background(), recs)
	require.NoError(s.t, err)
	return n
}

// buttons returns the inline buttons of msg: label → payload.
func buttons(msg telegramtest.SentMessage) map[string]string {
	out := map[string]string{}
	if msg.ReplyMarkup != nil {
		for _, b := range msg.ReplyMarkup.InlineButtons() {
			out[b.Text] = b.CallbackData
		}
	}
	return out
}

// lastWith returns the newest of msgs whose text contains want.
func lastWith(t *testing.T, msgs []telegramtest.SentMessage, want string) telegramtest.SentMessage {
	t.Helper()
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Text, want) {
			return msgs[i]
		}
	}
	t.Fatalf("no message says %q", want)
	return telegramtest.SentMessage{}
}

// casePage signs in to the console as a new supervisor and returns the
// case's page.
func casePage(t *testing.T, m *Main, number string) string {
	t.Helper()
	const password = "case-page-reader-2026"
	require.NoError(t, m.Staff.AddUser(t.Context(), &staff.User{Username: "reader-" + strings.ToLower(number[len(number)-4:]), Role: staff.RoleSupervisor}, password, "test"))
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}
	base := "http://" + m.Addr()
	resp, err := client.PostForm(base+"/console/login", url.Values{"username": {"reader-" + strings.ToLower(number[len(number)-4:])}, "password": {password},
		"next": {"/console/cases/" + number}})
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(body)
}

// TestSupervisorsActFromTheirPhones: two supervisors, 林峰 on Telegram and
// 沈静 on WeChat, and a duty roster that gives Friday night to 沈静. At
// 23:00 on a Friday an owner reports a burst pipe; the urgent order goes to
// 吴海涛, who does not take it. Half an hour on, only 沈静 — on duty — is
// told, with numbered options; she types 1 (派给值班单位) and the order goes
// to his colleague 周建国, in her name on the timeline; typed again, her
// option says it was sent already. The roster then gives the night to
// 林峰: the next such order reaches him on Telegram with buttons; he
// reassigns it, picking 陶然 from the list, shows the owner's phone and
// opens the case in the console.
func TestSupervisorsActFromTheirPhones(t *testing.T) {
	s := newSupervisorScenario(t)
	ctx := context.Background()
	gcb, err := s.m.Store.FindPartyByCode(ctx, "GCB")
	require.NoError(t, err)
	shen := &casework.Member{PartyID: gcb.ID, Name: "沈静", Phone: "13900009011", Role: casework.RoleSupervisor}
	require.NoError(t, s.m.Store.CreateMember(ctx, shen))

	lin := s.bindOnTelegram("林峰")
	wu := s.bindOnTelegram("吴海涛")
	zhou := s.bindOnTelegram("周建国")
	tao := s.bindOnTelegram("陶然")
	code, err := s.m.Lifecycle.IssueBindCode(ctx, shen.ID, casework.Staff("test"))
	require.NoError(t, err)
	shenWx := s.wxEngineer
	shenWx.send(wechattest.Subscribe(shenWx.openID), "欢迎")
	shenWx.say("/bind "+code.Code, "绑定成功")

	require.Equal(t, 2, s.importRoster("项目编码,值班人,值班日,开始时间,结束时间\n"+
		"HJY,沈静,周五,18:00,次日08:30\n"+
		"HJY,13900009009,周六,18:00,次日08:30\n"))

	// 23:00 on Friday: a burst pipe; the order goes to 吴海涛.
	owner := s.chat("晓峰")
	c := s.report(owner, residentLin, "engineering_quality/leak", "卫生间水管爆了，水漫出来了")
	require.Equal(t, casework.UrgencyUrgent, c.Urgency)
	wu.expect("【派工单】" + c.Number)

	// Nobody takes it: only the supervisor on duty is told, on WeChat.
	s.advance(31 * time.Minute)
	shenWx.expect("紧急派工未及时接单：" + c.Number)
	var notice string
	for _, m := range s.wx.SentTo(shenWx.openID) {
		if strings.Contains(m.Content, "紧急派工未及时接单："+c.Number) {
			notice = m.Content
		}
	}
	for _, option := range []string{"1. 派给值班单位", "2. 改派", "3. 联系业主", "4. 在工作台打开"} {
		assert.Contains(t, notice, option)
	}
	assert.Zero(t, lin.count(c.Number), "林峰 is not on duty tonight")

	// She types 1: the order goes to the party's next man, in her name.
	shenWx.say("1", "已派给 华信建设集团有限公司 周建国")
	zhou.expect("【派工单】" + c.Number)
	wu.expect("已改派给他人")
	got := s.load(c.Number)
	assert.Equal(t, s.member("周建国").ID, got.AssigneeID)
	evs, err := s.m.Store.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	var last *casework.Event
	for _, e := range evs {
		if e.Kind == casework.EventTransition && e.Action == casework.ActionDispatch {
			last = e
		}
	}
	require.NotNil(t, last)
	assert.Equal(t, casework.MemberActor(shen.ID), last.Actor, "the timeline names her")
	// The answer numbers what is left to do: 1 now shows the owner's phone.
	shenWx.say("1", "业主 林晓峰：13900000016")

	// The roster gives the night to 林峰 now.
	require.Equal(t, 1, s.importRoster("project_code,member,day,from,to\nHJY,林峰,Friday,18:00,08:30\n"))
	owner2 := s.chat("郭敏")
	c2 := s.report(owner2, residentGuo, "engineering_quality/leak", "卫生间水管爆了，水漫出来了")
	wu.expect("【派工单】" + c2.Number)
	s.advance(31 * time.Minute)
	msgs := lin.expect("紧急派工未及时接单：" + c2.Number)
	b := buttons(lastWith(t, msgs, "紧急派工未及时接单："+c2.Number))
	assert.Equal(t, lifecycle.Payload(lifecycle.ActSupDispatch, c2.Number, "1"), b["派给值班单位"])
	for _, label := range []string{"改派", "联系业主", "在工作台打开"} {
		assert.NotEmpty(t, b[label], label)
	}
	assert.Zero(t, shenWx.count(c2.Number), "沈静 is off duty for this one")

	// 联系业主 first; its answer offers the rest: 改派, the list, 陶然.
	press := func(payload, want string) telegramtest.SentMessage {
		t.Helper()
		s.tg.PressButton(lin.user, lin.withButton(payload), payload)
		return lastWith(t, lin.expect(want), want)
	}
	next := buttons(press(b["联系业主"], "郭敏：13900000018"))
	list := buttons(press(next["改派"], "请选择派给谁"))
	pick, ok := list["售后服务部工程组 · 陶然（工程师）"]
	require.True(t, ok, "陶然 is on the list: %v", list)
	assert.NotContains(t, list, "华信建设集团有限公司 · 吴海涛（工程师）", "not the one who has it")
	next = buttons(press(pick, "已派给 售后服务部工程组 陶然"))
	tao.expect("【派工单】" + c2.Number)
	assert.Equal(t, s.member("陶然").ID, s.load(c2.Number).AssigneeID)
	press(next["在工作台打开"], publicURL+"/console/cases/"+c2.Number)

	// 周建国 did not take the first order either: 林峰, on duty now, is
	// told. Staff reassign it from the console meanwhile; his button then
	// says so.
	late := buttons(lastWith(t, lin.srv.Sent(lin.id()), "紧急派工未及时接单："+c.Number))
	status, body := s.api(http.MethodPost, "/api/v1/cases/"+c.Number+"/reassign", map[string]any{"member_id": s.member("吴海涛").ID})
	require.Equal(t, http.StatusOK, status, "%v", body)
	press(late["派给值班单位"], "派给 吴海涛，这个按钮已失效")
	assert.Equal(t, s.member("吴海涛").ID, s.load(c.Number).AssigneeID, "his stale button changed nothing")

	// The timelines say it all in words, naming the supervisors.
	requireTimelineInWords(t, s.m, []string{c.Number, c2.Number}, "HXJS", "GCB", "SH-")
	page := casePage(t, s.m, c2.Number)
	assert.Contains(t, page, "在聊天中查看了业主电话")
	assert.Contains(t, page, "林峰")
	assert.Contains(t, casePage(t, s.m, c.Number), "沈静")
}

// TestRosterCommand: `aftersales roster import` loads the example roster
// and replaces a project's roster with another; a file with bad lines is
// refused whole, every line named; `roster list` prints it.
func TestRosterCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := env("AFTERSALES_DATA_DIR", dir)
	ctx := context.Background()
	cmd := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, args, getenv, nil, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	for _, kind := range []string{"units", "parties"} {
		code, _, errOut := cmd("import", kind, filepath.Join("..", "..", "examples", kind+".csv"))
		require.Equal(t, exitOK, code, errOut)
	}

	code, out, errOut := cmd("roster", "import", filepath.Join("..", "..", "examples", "roster.csv"))
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "9 turns of duty for HJY")
	code, out, errOut = cmd("roster", "list", "HJY")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "HJY\tMonday\t18:00–08:30 (next day)\t林峰\t13900009009")
	assert.Equal(t, 9, strings.Count(out, "\n"))

	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("项目编码,值班人,值班日,开始时间,结束时间\n"+
		"HJY,林峰,周一,18:00,08:30\n"+
		"HJY,林峰,周八,18:00,08:30\n"+
		"HJY,林峰,周二,25:00,08:30\n"), 0o600))
	code, _, errOut = cmd("roster", "import", bad)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "line 3: 值班日:", "the column as the file names it")
	assert.Contains(t, errOut, "line 4: 开始时间:")

	unknown := filepath.Join(dir, "unknown.csv")
	require.NoError(t, os.WriteFile(unknown, []byte("project_code,member,day,from,to\n"+
		"HJY,林峰,mon,18:00,08:30\n"+
		"HJY,陶然,tue,18:00,08:30\n"+
		"NOPE,林峰,wed,18:00,08:30\n"+
		"HJY,13900000000,thu,18:00,08:30\n"), 0o600))
	code, _, errOut = cmd("roster", "import", unknown)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "line 3: member: 陶然 is the engineer of GCB")
	assert.Contains(t, errOut, "line 4: project_code: project NOPE does not exist")
	assert.Contains(t, errOut, "line 5: member: nobody")
	assert.NotContains(t, errOut, "13900000000", "a phone is masked")

	code, out, _ = cmd("roster", "list")
	require.Equal(t, exitOK, code)
	assert.Equal(t, 9, strings.Count(out, "\n"), "the refused files changed nothing")

	replace := filepath.Join(dir, "replace.csv")
	require.NoError(t, os.WriteFile(replace, []byte("project_code,member,day,from,to\nHJY,林峰,2026-10-01,00:00,24:00\n"), 0o600))
	code, out, errOut = cmd("roster", "import", replace)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "1 turns of duty for HJY")
	_, out, _ = cmd("roster", "list", "HJY")
	assert.Equal(t, "HJY\t2026-10-01\t00:00–24:00\t林峰\t13900009009\n", out)

	for _, args := range [][]string{{"roster"}, {"roster", "import"}, {"roster", "drop"}, {"roster", "list", "a", "b"}} {
		code, _, errOut := cmd(args...)
		assert.Equal(t, exitUsage, code, args)
		assert.Contains(t, errOut, "usage:", args)
	}
	code, _, errOut = cmd("roster", "list", "NOPE")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "no project NOPE")
	code, _, _ = cmd("roster", "import", filepath.Join(dir, "missing.csv"))
	assert.Equal(t, exitFailed, code)
}

// TestPublicURLSetting: AFTERSALES_PUBLIC_URL is a base URL; anything else
// stops the service naming it.
func TestPublicURLSetting(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"aftersales.example.com", "ftp://aftersales.example.com", "https://", "https://x.example/?a=1", "https://u:p@x.example"} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"migrate"}, env("AFTERSALES_PUBLIC_URL", bad, "AFTERSALES_DATA_DIR", t.TempDir()), nil, &out, &errOut)
		assert.Equal(t, exitUsage, code, bad)
		assert.Contains(t, errOut.String(), "AFTERSALES_PUBLIC_URL", bad)
		assert.NotContains(t, errOut.String(), "u:p@", "no password quoted")
	}
	cfg := DefaultConfig()
	cfg.DataDir, cfg.PublicURL = t.TempDir(), "https://aftersales.example.com/sub/"
	require.NoError(t, cfg.Validate())
}
