package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// TestIntakeInTheBrowser: 张伟 calls the hotline about a leak. An agent
// signs in to the console in Chromium, finds him by his unit, fills in the
// registration form with a photo — first forgetting the description, which
// the form asks for beside the field, keeping the rest — registers the case
// and lands on its page, where the photo is shown. The screenshots are left
// in screenshotDir.
func TestIntakeInTheBrowser(t *testing.T) {
	m, base, exe := browserTest(t, &staff.User{Username: "li", DisplayName: "李客服", Role: staff.RoleAgent}, "海景苑-客服-2026-密码")
	ctx := t.Context()
	photo := filepath.Join(t.TempDir(), "ceiling.png")
	require.NoError(t, os.WriteFile(photo, photoPNG(t), 0o644))

	bctx, shot := startBrowser(t, exe)
	var found, refused, caseText, photoWidth, location string
	require.NoError(t, chromedp.Run(bctx,
		signIn(base, "li", "海景苑-客服-2026-密码"),
		chromedp.Click(`a[href="/console/cases/new"]`),
		chromedp.WaitVisible(`input[name=q]`),
		shot("intake-lookup"),
		chromedp.SendKeys(`input[name=q]`, "1-1-101"),
		chromedp.Click(`.lookup button`),
		chromedp.WaitVisible(`table.homes`),
		chromedp.Text(`table.homes`, &found),
		shot("intake-found"),
		chromedp.Click(`table.homes tbody tr:first-child button`),
		chromedp.WaitVisible(`textarea[name=description]`),
		chromedp.SetValue(`select[name=location]`, "bathroom"),
		chromedp.SendKeys(`input[name=location_detail]`, "主卫吊顶"),
		chromedp.SendKeys(`input[name=occurred]`, "上周"),
		chromedp.SendKeys(`input[name=expectation]`, "尽快上门维修"),
		chromedp.SendKeys(`input[name=contact_time]`, "工作日晚上"),
		chromedp.SetUploadFiles(`input[name=photos]`, []string{photo}),
		shot("intake-form"),
		// The browser asks for the description itself; without that, the
		// service does.
		chromedp.Evaluate(`document.querySelector('textarea[name=description]').removeAttribute('required')`, nil),
		chromedp.Click(`.actions button`),
		chromedp.WaitVisible(`.register p.error`),
		chromedp.Text(`.register`, &refused),
		shot("intake-error"),
		chromedp.SendKeys(`textarea[name=description]`, "卫生间吊顶在滴水，墙角发霉"),
		chromedp.SetUploadFiles(`input[name=photos]`, []string{photo}),
		chromedp.Click(`.actions button`),
		chromedp.WaitVisible(`.thumbs img`),
		chromedp.Poll(`document.querySelector('.thumbs img').complete && document.querySelector('.thumbs img').naturalWidth > 0`, nil),
		chromedp.Evaluate(`String(document.querySelector('.thumbs img').naturalWidth)`, &photoWidth),
		chromedp.Evaluate(`location.pathname`, &location),
		chromedp.Text(`main`, &caseText),
		shot("intake-case"),
	))

	assert.Contains(t, found, "海景苑 1-1-101")
	assert.Contains(t, found, "张伟")
	assert.Contains(t, refused, "请填写问题描述")
	require.True(t, strings.HasPrefix(location, "/console/cases/SH-"), location)
	number := strings.TrimPrefix(location, "/console/cases/")
	c, err := m.Store.FindCaseByNumber(ctx, number)
	require.NoError(t, err)
	assert.Equal(t, casework.ChannelHotline, c.Channel)
	assert.Equal(t, casework.Actor("staff:li"), c.ReceivedBy)
	assert.Equal(t, "尽快上门维修", c.Expectation, "kept by the refused form")
	assert.Equal(t, "工作日晚上", c.ContactTime)
	assert.Equal(t, "上周", c.OccurredText)
	assert.Equal(t, "主卫吊顶", c.LocationDetail)
	assert.Equal(t, casework.LocationBathroom, c.Location)
	assert.Equal(t, casework.SubLeak, c.Subcategory, "judged from the description")
	require.NotNil(t, c.RespondedAt, "the call was the first contact")
	require.Len(t, c.Media, 1)
	assert.Equal(t, "320", photoWidth, "the photo is shown, as its thumbnail")
	for _, want := range []string{"卫生间吊顶在滴水", "热线电话", "张伟", "渗漏水", "未发送通知"} {
		assert.Contains(t, caseText, want)
	}
	t.Logf("screenshots in %s", screenshotDir(t))
}
