package wechat

import (
	"context"

	"github.com/silenceper/wechat/v2/officialaccount/menu"
)

// MenuButton is a button of the custom menu (自定义菜单) that sends a CLICK
// event with Key, which reaches the engine as a bot.KindMenu message whose
// Payload is Key.
type MenuButton struct {
	Name string // at most 4 Chinese characters (16 bytes) on the top level
	Key  string // an engine command: "report", "status", "human"…
}

// DefaultMenu is the account's menu: 报修 (report a problem), 我的报修 (my
// cases), 联系客服 (talk to a person).
func DefaultMenu() []MenuButton {
	return []MenuButton{
		{Name: "报修", Key: "report"},
		{Name: "我的报修", Key: "status"},
		{Name: "联系客服", Key: "human"},
	}
}

// CreateMenu sets the account's custom menu to DefaultMenu (menu/create
// replaces the whole menu; WeChat's clients show it within minutes, or when
// the user follows the account again).
func (a *Adapter) CreateMenu(ctx context.Context) error {
	return a.SetMenu(ctx, DefaultMenu())
}

// SetMenu sets the account's custom menu to buttons, at most 3, each
// sending a CLICK event.
func (a *Adapter) SetMenu(ctx context.Context, buttons []MenuButton) error {
	req := struct {
		Button []*menu.Button `json:"button"`
	}{}
	for _, b := range buttons {
		req.Button = append(req.Button, new(menu.Button).SetClickButton(b.Name, b.Key))
	}
	return a.call(ctx, "menu/create", "/cgi-bin/menu/create", nil, req, nil, true)
}
