package lifecycle

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// The texts of the alert about a chat handed to a person out of hours.
func init() {
	for lang, texts := range map[l10n.Lang]map[string]string{
		l10n.Chinese: {
			"alert.handoff":         "【人工会话】{who} 在非服务时间请求人工客服（{platform}）。\n请在工作台的“人工会话”中接手回复。{link}",
			"alert.handoff_link":    "\n{url}",
			"alert.handoff_someone": "一位未核实身份的用户",
			"platform.telegram":     "Telegram",
			"platform.wechat":       "微信",
			"platform.web":          "网页聊天",
		},
		l10n.English: {
			"alert.handoff":         "[Chat] {who} asked for a person out of hours ({platform}).\nTake it and answer under “Chats” in the console.{link}",
			"alert.handoff_link":    "\n{url}",
			"alert.handoff_someone": "A user not yet verified",
			"platform.telegram":     "Telegram",
			"platform.wechat":       "WeChat",
			"platform.web":          "the chat page",
		},
	} {
		for k, v := range texts {
			catalog[lang][k] = v
		}
	}
}

// HandoffArrived tells the supervisors on duty, in their chats, that the
// owner of h asked for a person out of the department's hours, when no one
// is at the console to see the inbox: the project of the owner's home
// decides who is on duty (the duty roster), everyone when nobody is. In
// hours the console's inbox and its count are the alert, and nothing is
// sent.
func (s *Service) HandoffArrived(ctx context.Context, h *casework.Handoff) error {
	if s.inOfficeHours(s.now()) {
		return nil
	}
	// The roster is per project: a pseudo-case of the owner's home's.
	c := &casework.Case{Number: "handoff-" + strconv.FormatInt(h.ID, 10)}
	if h.OwnerID != 0 {
		units, err := s.cfg.Store.OwnerUnits(ctx, h.OwnerID)
		if err != nil {
			return fmt.Errorf("owner's homes: %w", err)
		}
		if len(units) > 0 {
			c.ProjectID = units[0].ProjectID
		}
	}
	sup, err := s.supervisorChats(ctx)
	if err != nil {
		return err
	}
	sup = s.onDutyChats(ctx, c, sup)
	if len(sup) == 0 {
		return nil
	}
	who := strings.TrimSpace(h.DisplayName)
	var ns []notice
	for _, r := range sup {
		name := who
		if name == "" {
			name = T(r.lang, "alert.handoff_someone")
		}
		link := ""
		if page := s.consolePage("handoffs", strconv.FormatInt(h.ID, 10)); page != "" {
			link = T(r.lang, "alert.handoff_link", "url", page)
		}
		ns = append(ns, notice{to: r, text: T(r.lang, "alert.handoff", "who", name, "platform", T(r.lang, "platform."+h.Platform), "link", link)})
	}
	return s.cfg.Store.Enqueue(ctx, casework.Effects{Messages: outbox(0, "handoff_alert", ns...)})
}
