package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// chromium returns Debian's Chromium, skipping the test (failing it in CI,
// where .ci/run installs it) when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium, and in CI that is a failure (.ci/run installs it)")
	}
	t.Skip("skipping: no Chromium (apt-get install chromium fonts-noto-cjk)")
	return ""
}

// screenshotDir is where the browser tests leave their screenshots:
// AFTERSALES_TEST_ARTIFACTS, else a directory under the system's temp dir.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("AFTERSALES_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "aftersales-screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// browserTest runs the service, with the demo data and the console account
// u signing in with password, for a test that drives Chromium, in parallel
// with the others; it skips the test in -short runs and, out of CI, without
// Chromium. It returns the service, its base URL and Chromium's path.
func browserTest(t *testing.T, u *staff.User, password string) (m *Main, base, exe string) {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a browser")
	}
	t.Parallel()
	exe = chromium(t)
	m, _ = runMain(t, true, nil)
	require.NoError(t, m.Staff.AddUser(t.Context(), u, password, "test"))
	return m, "http://" + m.Addr(), exe
}

// startBrowser starts Chromium exe, 1280×900, for 90 seconds at most, closed
// when t ends. It returns the browser's context and shot, an action that
// saves a screenshot of the whole page as console-<name>.png in
// screenshotDir. JavaScript dialogs (an action's confirmation) are
// accepted, as a person who means it would.
func startBrowser(t *testing.T, exe string) (context.Context, func(name string) chromedp.Action) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	// This chromedp's protocol tables lag Chromium's: events with values it
	// does not know are logged and dropped; they are not the test's errors.
	bctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			t.Logf("chromedp: %s", msg)
		}
	}))
	t.Cleanup(cancel)
	chromedp.ListenTarget(bctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() { _ = chromedp.Run(bctx, page.HandleJavaScriptDialog(true)) }()
		}
	})
	bctx, cancel = context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(cancel)
	dir := screenshotDir(t)
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "console-"+name+".png"), buf, 0o644)
		})
	}
	return bctx, shot
}

// photoPNG is a photo an owner might send: 480×360, a wall with a stain.
func photoPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 480, 360))
	for y := range 360 {
		for x := range 480 {
			c := color.RGBA{225, 222, 214, 255}
			if dx, dy := x-240, y-150; dx*dx+dy*dy*2 < 90*90 {
				c = color.RGBA{120, 104, 80, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// startReport opens the chat page as 张伟, owner of the demo's 1-1-101,
// who starts a report and proves their phone: the dialogue then asks what
// the problem is. It returns the owner's chat page.
func startReport(t *testing.T, m *Main, base string) *visitor {
	t.Helper()
	v := newVisitor(t, base)
	v.say("报修")
	v.say("张伟")
	v.say("1-1-101")
	v.say("13900000001")
	v.say(smsCode(t, m, "13900000001"))
	return v
}

// visitorCookies gives the browser the cookies of the chat page's visitor
// v: the browser opens the chat page as that person.
func visitorCookies(v *visitor, chatURL *url.URL) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for _, ck := range v.client.Jar.Cookies(chatURL) {
			if err := network.SetCookie(ck.Name, ck.Value).WithURL(chatURL.String()).WithHTTPOnly(true).Do(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// signIn signs user in to the console in the browser and waits for the
// dashboard.
func signIn(base, user, password string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(base + "/console/login"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, user),
		chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Click(`button.primary`),
		chromedp.WaitVisible(`.tiles`),
	}
}

// reportLeakWithPhoto reports a leak with a photo on the chat page, as an
// owner of the demo's 1-1-101, and returns the case's number and the
// owner's chat page.
func reportLeakWithPhoto(t *testing.T, m *Main, base string) (string, *visitor) {
	t.Helper()
	v := startReport(t, m, base)
	v.press("cat:engineering_quality/leak")
	v.press("loc:bathroom")
	v.say("卫生间吊顶在滴水，墙角发霉")
	v.press("occ:week")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("id", "upload-0001-abcdefgh"))
	fw, err := mw.CreateFormFile("file", "ceiling.png")
	require.NoError(t, err)
	_, _ = fw.Write(photoPNG(t))
	require.NoError(t, mw.Close())
	resp, err := v.client.Post(base+"/chat/api/upload", mw.FormDataContentType(), &body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	v.read()
	v.press("media:done")
	v.press("exp:repair")
	v.press("ct:anytime")
	require.Contains(t, v.press("sum:submit"), "SH-")
	cases, _, err := m.Store.FindCases(t.Context(), casework.CaseFilter{})
	require.NoError(t, err)
	require.Len(t, cases, 1)
	return cases[0].Number, v
}

// TestConsoleInTheBrowser: an owner reports a leak with a photo on the
// chat page; a supervisor signs in to the console in Chromium, sees the
// dashboard, filters the queue to urgent cases, opens the case and sees the
// photo. The screenshots of the pages are left in screenshotDir.
func TestConsoleInTheBrowser(t *testing.T) {
	m, base, exe := browserTest(t, &staff.User{Username: "wang", DisplayName: "王主管", Role: staff.RoleSupervisor}, "海景苑-主管-2026-密码")
	ctx := t.Context()

	number, v := reportLeakWithPhoto(t, m, base)

	bctx, shot := startBrowser(t, exe)
	dir := screenshotDir(t)
	var dashboard, list, photoWidth, caseText string
	require.NoError(t, chromedp.Run(bctx,
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(`input[name=username]`),
		shot("login"),
		chromedp.SendKeys(`input[name=username]`, "wang"),
		chromedp.SendKeys(`input[name=password]`, "海景苑-主管-2026-密码"),
		chromedp.Click(`button.primary`),
		chromedp.WaitVisible(`.tiles`),
		chromedp.Text(`main`, &dashboard),
		shot("dashboard"),
		chromedp.Navigate(base+"/console/cases"),
		chromedp.WaitVisible(`select[name=urgency]`),
		chromedp.SetValue(`select[name=urgency]`, "urgent"),
		chromedp.Click(`.filters button`),
		// Each click loads a new page: wait for what only the new page has
		// (here the option selected by the server), lest the old page's
		// nodes be read as they go.
		chromedp.WaitReady(`select[name=urgency] option[value=urgent][selected]`),
		chromedp.WaitVisible(`table.cases`),
		chromedp.Text(`table.cases`, &list),
		shot("cases"),
		chromedp.Click(`table.cases a`),
		chromedp.WaitVisible(`.thumbs img`),
		chromedp.Poll(`document.querySelector('.thumbs img').complete && document.querySelector('.thumbs img').naturalWidth > 0`, nil),
		chromedp.Evaluate(`String(document.querySelector('.thumbs img').naturalWidth)`, &photoWidth),
		chromedp.Text(`main`, &caseText),
		shot("case"),
	))
	// The owner opens the chat page again, in this browser: their own
	// photo is shown from the service, not from a preview the page lost.
	chatURL, err := url.Parse(base + "/chat/")
	require.NoError(t, err)
	var ownPhotoWidth string
	require.NoError(t, chromedp.Run(bctx,
		visitorCookies(v, chatURL),
		chromedp.Navigate(chatURL.String()),
		chromedp.WaitVisible(`.row.user img.photo`),
		chromedp.Poll(`document.querySelector('.row.user img.photo').complete && document.querySelector('.row.user img.photo').naturalWidth > 0`, nil),
		chromedp.Evaluate(`String(document.querySelector('.row.user img.photo').naturalWidth)`, &ownPhotoWidth),
		chromedp.ScrollIntoView(`.row.user img.photo`),
		shot("chat-own-photo"),
	))
	assert.Equal(t, "480", ownPhotoWidth, "the owner's own photo, as they sent it")
	assert.Contains(t, dashboard, "待分诊")
	assert.Contains(t, list, number)
	assert.Contains(t, caseText, "客户诉求登记表")
	assert.Contains(t, caseText, "卫生间吊顶在滴水")
	for _, want := range []string{"保修（按部位，今日）", "防水", "在保修期内", "工单", "维修人员", "孙立军", "通知业主", "已受理并派给"} {
		assert.Contains(t, caseText, want)
	}
	assert.Equal(t, "320", photoWidth, "the owner's photo is shown, as its 320-pixel thumbnail")
	c, err := m.Store.FindCaseByNumber(ctx, number)
	require.NoError(t, err)
	require.Len(t, c.Media, 1)
	assert.FileExists(t, filepath.Join(m.Config.DataDir, "media", filepath.FromSlash(c.Media[0].BlobKey))+".thumb.jpg", "made once, kept beside the photo")
	assert.False(t, strings.Contains(caseText, "13900000001"), "the phone is masked")
	t.Logf("screenshots in %s", dir)
}
