package wechattest

import (
	"net/url"
	"regexp"
	"strings"
)

// Limits of a msgmenu customer-service message (菜单消息), as WeChat's
// customer-service docs give them: at most 10 items; head and tail of at
// most 1,024 bytes; an item's id of 1–64 bytes and content of 1–128 bytes.
const (
	MsgMenuItemLimit = 10
	MsgMenuTextLimit = 1024
)

// Option is an option the user can tap in a message: a bizmsgmenu link in
// a text or an item of a msgmenu message. Tapping it (Tap) sends Content
// back as the user's text, with ID as its bizmsgmenuid.
type Option struct {
	ID      string // msgmenuid
	Content string // msgmenucontent, decoded: what a tap sends back
	Label   string // what the user sees
}

// Option returns the option of m whose label is label.
func (m Sent) Option(label string) (Option, bool) {
	for _, o := range m.Options {
		if o.Label == label {
			return o, true
		}
	}
	return Option{}, false
}

var optionLink = regexp.MustCompile(`<a href=["']weixin://bizmsgmenu\?([^"']*)["']>(.*?)</a>`)

// ParseOptions reads a text message as the WeChat client shows it: each
// <a href="weixin://bizmsgmenu?msgmenucontent=…&msgmenuid=…">label</a>
// shows as its label and is an option, whose content is percent-decoded.
// A link without msgmenucontent is shown but is no option.
func ParseOptions(text string) (shown string, opts []Option) {
	shown = optionLink.ReplaceAllStringFunc(text, func(link string) string {
		m := optionLink.FindStringSubmatch(link)
		label := strings.ReplaceAll(m[2], "&amp;", "&")
		q := map[string]string{}
		for _, kv := range strings.Split(m[1], "&") {
			k, v, _ := strings.Cut(kv, "=")
			if dv, err := url.PathUnescape(v); err == nil {
				v = dv
			}
			q[k] = v
		}
		if q["msgmenucontent"] != "" {
			opts = append(opts, Option{ID: q["msgmenuid"], Content: q["msgmenucontent"], Label: label})
		}
		return label
	})
	return shown, opts
}
