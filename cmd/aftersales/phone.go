package main

import (
	"fmt"

	"github.com/aftersales/aftersales/bot/phone"
	"github.com/aftersales/aftersales/sms"
	"github.com/aftersales/aftersales/sms/provider"
)

// openPhones registers the two phone platforms, text messages and voice
// calls, in the router's channels, so that the urgent notices the lifecycle
// queues in the outbox are delivered like every other message. Each
// medium sends through the SMS provider's account with its own templates;
// the demo without a provider, and the log provider, write the notices to
// the log. A medium that is not configured is still registered, refusing
// every notice with the setting that is missing: the refusal shows as a
// failed message on the case, so that staff know no phone rang.
func (m *Main) openPhones() error {
	name := m.Config.SMSProvider
	if name == "" && m.Demo {
		name = sms.ProviderLog
	}
	for _, n := range m.Config.noticeMedia() {
		var notifier sms.Notifier
		switch {
		case name == "":
			notifier = sms.Off{Why: "no provider for urgent notices: set AFTERSALES_SMS_PROVIDER and " + n.prefix + "_URGENT_TEMPLATE_ID"}
			m.Logger.Warn("urgent work orders ring no phone: no SMS provider (AFTERSALES_SMS_PROVIDER)", "medium", n.medium)
		case name == sms.ProviderLog:
			notifier = sms.NewLogNotifier(m.Logger, n.medium)
			m.Logger.Warn("urgent notices are written to this log, not sent: provider log. Not for production", "medium", n.medium)
		case !n.on():
			notifier = sms.Off{Why: "no template for urgent notices: set " + n.prefix + "_URGENT_TEMPLATE_ID and " + n.prefix + "_NOT_TAKEN_TEMPLATE_ID"}
			m.Logger.Warn("urgent work orders ring no phone by "+n.medium+": no templates", "medium", n.medium,
				"settings", n.prefix+"_URGENT_TEMPLATE_ID, "+n.prefix+"_NOT_TAKEN_TEMPLATE_ID")
		default:
			cfg := m.Config.noticeConfig(n, m.now, m.Logger)
			p, err := provider.NewNotifier(cfg)
			if err != nil {
				return fmt.Errorf("urgent notices by %s: %w", n.medium, err)
			}
			notifier = p
			m.Logger.Info("urgent notices on", "medium", n.medium, "provider", name)
		}
		m.Router.Channels[n.platform] = phone.New(n.platform, notifier, m.Logger)
	}
	return nil
}
