package main

import (
	"bytes"
	"context"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

// TestOwnerSeesTheRepairPhotosInTheBrowser: an owner reports a leak with a
// photo on the chat page; the engineer, working from his own chat page,
// takes the order, checks in and finishes the work with a photo of the
// repair. On the owner's chat page, in Chromium, the request to accept the
// repair comes with the engineer's photo shown as a picture (not "[图片]"),
// and the owner's own photo is shown too.
func TestOwnerSeesTheRepairPhotosInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	t.Parallel()
	exe := chromium(t)
	m, _ := runMain(t, true, nil)
	base := "http://" + m.Addr()
	ctx := context.Background()

	number, owner := reportLeakWithPhoto(t, m, base)
	c, err := m.Store.FindCaseByNumber(ctx, number)
	require.NoError(t, err)
	require.NotZero(t, c.AssigneeID, "dispatched by the routing rules")

	// The engineer of the order binds his chat page and works the order.
	engineer := newVisitor(t, base)
	code, err := m.Lifecycle.IssueBindCode(ctx, c.AssigneeID, casework.Staff("test"))
	require.NoError(t, err)
	require.Contains(t, engineer.say("/bind "+code.Code), "绑定成功")
	id, err := m.Store.FindChatIdentity(ctx, string(bot.Web), engineer.id)
	require.NoError(t, err)
	who := lifecycle.Who{User: bot.UserRef{Platform: bot.Web, ID: id.UserID}, Identity: id}
	_, err = m.Lifecycle.TakeOrder(ctx, who, number)
	require.NoError(t, err)
	_, err = m.Lifecycle.CheckIn(ctx, who, number)
	require.NoError(t, err)
	blob, err := m.Router.Intake.Blobs.Put(ctx, bytes.NewReader(photoPNG(t)), "image/png", 1<<20)
	require.NoError(t, err)
	_, err = m.Lifecycle.Complete(ctx, who, number, "更换了吊顶上方的水管接头", []casework.MediaRef{
		{Kind: casework.MediaPhoto, BlobKey: blob.Key, ContentType: "image/png", Size: blob.Size}})
	require.NoError(t, err)
	owner.waitFor("已完工")

	bctx, shot := startBrowser(t, exe)
	chatURL, err := url.Parse(base + "/chat/")
	require.NoError(t, err)
	var photos int
	var log string
	require.NoError(t, chromedp.Run(bctx,
		visitorCookies(owner, chatURL),
		chromedp.Navigate(chatURL.String()),
		chatSays("已完工"),
		chromedp.WaitVisible(`.row.bot img.photo`),
		chromedp.Poll(`[...document.querySelectorAll('img.photo')].every(i => i.complete && i.naturalWidth > 0)`, nil),
		chromedp.Evaluate(`document.querySelectorAll('img.photo').length`, &photos),
		chromedp.Text(`#log`, &log),
		chromedp.ScrollIntoView(`.row.bot img.photo`),
		shot("chat-repair-photo"),
	))
	assert.Equal(t, 2, photos, "the owner's photo and the engineer's")
	assert.NotContains(t, log, "[图片]")
	assert.Contains(t, log, "更换了吊顶上方的水管接头")
}
