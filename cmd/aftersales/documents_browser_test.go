package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// a4Content is the width of an A4 sheet less print.css's page margins
// (210 mm − 20 mm − 14 mm), in whole CSS pixels (96 to the inch).
const a4Content = 176 * 960 / 254 // 665

// TestDocumentsInTheBrowser: an owner reports a leak with a photo on the
// chat page and the service dispatches it; a supervisor opens its work order
// and its registration form from the console in Chromium, prints them (the
// button calls window.print), and on paper — print media, an A4 page — each
// fits the width of the sheet, without the toolbar, on one page. After the
// engineer's plan is agreed, the written plan prints too. The screenshots
// are left in screenshotDir.
func TestDocumentsInTheBrowser(t *testing.T) {
	m, base, exe := browserTest(t, &staff.User{Username: "wang", DisplayName: "王主管", Role: staff.RoleSupervisor}, "海景苑-主管-2026-密码")
	ctx := t.Context()
	number, _ := reportLeakWithPhoto(t, m, base)
	c, err := m.Store.FindCaseByNumber(ctx, number)
	require.NoError(t, err)
	require.Equal(t, casework.StateDispatched, c.State, "the demo dispatches a leak at once")

	bctx, shot := startBrowser(t, exe)
	dir := screenshotDir(t)
	require.NoError(t, chromedp.Run(bctx,
		signIn(base, "wang", "海景苑-主管-2026-密码"),
	))

	// paper opens a document on the screen, presses its print button, then
	// looks at it as printed: the text, the widest element and the pages.
	type paper struct {
		text, toolbar   string
		width, overflow float64
		printed         bool
		pages           int
		mediaBox        string
	}
	printDoc := func(doc, name string) paper {
		t.Helper()
		var p paper
		require.NoError(t, chromedp.Run(bctx,
			emulation.SetEmulatedMedia().WithMedia(""),
			emulation.ClearDeviceMetricsOverride(),
			chromedp.Navigate(base+"/console/cases/"+number+"/print/"+doc),
			chromedp.WaitVisible(`.sheet`),
			chromedp.Poll(`Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)`, nil),
			shot("print-"+name+"-screen"),
			// The button calls window.print: a stand-in records the call,
			// as a headless browser has no printer dialog.
			chromedp.Evaluate(`window.print = () => { window.printed = true }`, nil),
			chromedp.Click(`button[data-print]`),
			chromedp.Evaluate(`window.printed === true`, &p.printed),
			// On paper: print media, a viewport as wide as an A4 sheet's
			// printable area.
			emulation.SetEmulatedMedia().WithMedia("print"),
			emulation.SetDeviceMetricsOverride(a4Content, 1100, 1, false),
			chromedp.Evaluate(`getComputedStyle(document.querySelector('.toolbar')).display`, &p.toolbar),
			chromedp.Evaluate(`document.documentElement.scrollWidth`, &p.width),
			chromedp.Evaluate(`Math.max(...Array.from(document.querySelectorAll('.sheet *')).map(e => e.getBoundingClientRect().right))`, &p.overflow),
			chromedp.Text(`.sheet`, &p.text),
			shot("print-"+name),
			chromedp.ActionFunc(func(ctx context.Context) error {
				pdf, _, err := page.PrintToPDF().WithPreferCSSPageSize(true).Do(ctx)
				if err != nil {
					return err
				}
				p.pages = len(pdfPage.FindAll(pdf, -1))
				if mb := mediaBox.FindSubmatch(pdf); mb != nil {
					p.mediaBox = string(mb[1])
				}
				return os.WriteFile(filepath.Join(dir, "print-"+name+".pdf"), pdf, 0o644)
			}),
		))
		assert.True(t, p.printed, "%s: the print button calls window.print", doc)
		assert.Equal(t, "none", p.toolbar, "%s: no toolbar on paper", doc)
		assert.LessOrEqual(t, p.width, float64(a4Content), "%s: nothing wider than the sheet", doc)
		assert.LessOrEqual(t, p.overflow, float64(a4Content)+0.5, "%s: every element within the sheet", doc)
		var w, h float64
		_, err := fmt.Sscanf(p.mediaBox, "0 0 %g %g", &w, &h)
		require.NoError(t, err, "%s: the PDF's page size %q", doc, p.mediaBox)
		assert.InDelta(t, 595.28, w, 1, "%s: A4 wide (points)", doc)
		assert.InDelta(t, 841.89, h, 1, "%s: A4 high (points)", doc)
		return p
	}

	order := printDoc("work-order", "work-order")
	for _, want := range []string{"售后服务部", "维修任务派工单", number, "工程质量 · 渗漏水", "紧急", "责任单位", "孙立军", "13900009003",
		"到场时限", "完成时限", "卫生间", "卫生间吊顶在滴水，墙角发霉", "张伟", "13900000001", "维修人员签字", "业主验收签字"} {
		assert.Contains(t, order.text, want)
	}
	assert.Equal(t, 1, order.pages, "the work order is one sheet")

	form := printDoc("registration", "registration")
	for _, want := range []string{"客户诉求登记表", number, "张伟", "13900000001", "项目海景苑楼栋1单元1房号101", "卫生间吊顶在滴水", "受理渠道", "网页",
		"在线客服（机器人）", "初步判断", "渗漏水", "向业主复述", "业主确认签字"} {
		assert.Contains(t, form.text, want)
	}
	assert.Equal(t, 1, form.pages, "the registration form is one sheet")

	// The engineer inspects and proposes a plan; the owner agrees in the
	// chat (recorded as the lifecycle records it).
	engineer := casework.MemberActor(c.AssigneeID)
	now := m.Config.nowFunc()
	start := now.Add(48 * time.Hour).Truncate(time.Hour)
	plan := &casework.Plan{Cause: "楼上卫生间地漏周边防水层破损，水沿楼板渗到本户吊顶", Responsibility: casework.ResponsibilityContractor,
		Content: "1. 楼上卫生间拆除地漏周边地砖，重做防水并闭水试验48小时；\n2. 本户吊顶拆除受潮石膏板，干燥后更换，墙角除霉后重新刷漆。", Duration: "5天",
		Disruptions: []casework.Disruption{casework.DisruptionNoise, casework.DisruptionDust, casework.DisruptionWaterCut}, StartAt: &start, ProposedAt: &now}
	for _, tr := range []casework.Transition{
		{Action: casework.ActionInspect, Actor: engineer, Plan: plan},
		{Action: casework.ActionProposePlan, Actor: engineer, Plan: plan},
		{Action: casework.ActionAgreePlan, Actor: casework.Actor("owner:" + strconv.FormatInt(c.OwnerID, 10))},
	} {
		c, err = m.Store.TransitionCase(ctx, c.ID, c.Version, tr)
		require.NoError(t, err, tr.Action)
	}
	written := printDoc("plan", "plan")
	for _, want := range []string{"书面维修方案", number, "楼上卫生间地漏周边防水层破损", "施工单位", "重做防水", "5天", "噪音、粉尘、停水",
		"业主已于", "同意此方案", "业主确认签字", "售后服务部经办人签字"} {
		assert.Contains(t, written.text, want)
	}
	assert.Equal(t, 1, written.pages, "the written plan is one sheet")

	// English, from the console's language switch.
	require.NoError(t, chromedp.Run(bctx,
		emulation.SetEmulatedMedia().WithMedia(""),
		emulation.ClearDeviceMetricsOverride(),
		chromedp.Navigate(base+"/console/cases/"+number+"/print/work-order"),
		chromedp.WaitVisible(`.toolbar button.link`),
		chromedp.Click(`.toolbar button.link`),
		chromedp.WaitVisible(`html[lang=en] .sheet`),
	))
	english := printDoc("work-order", "work-order-en")
	assert.Contains(t, english.text, "Repair work order")
	assert.Contains(t, english.text, "Owner's acceptance signature")
	t.Logf("screenshots and PDFs in %s", dir)
}

// The pages of a PDF and the size of its first, as Chromium writes them.
var (
	pdfPage  = regexp.MustCompile(`/Type\s*/Page\b[^s]`)
	mediaBox = regexp.MustCompile(`/MediaBox\s*\[\s*([\d. ]+?)\s*\]`)
)
