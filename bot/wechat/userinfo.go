package wechat

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/aftersales/aftersales/bot"
)

// userLangTTL is how long the language of a user's WeChat is kept: it is
// asked once per user in that time, not per message.
const userLangTTL = 30 * 24 * time.Hour

// userInfoTimeout bounds the user/info call a user's first message waits
// for: it eats into the 5 seconds of the passive reply.
const userInfoTimeout = time.Second

// codeAPIUnauthorized is user/info's answer to an account without the
// user-management permission (unverified accounts).
const codeAPIUnauthorized = 48001

// noLang is cached for a user whose language WeChat did not tell.
const noLang = "-"

// userLanguage returns the language of openID's WeChat as user/info reports
// it ("en", "zh_CN", …), "" when it is not known. The answer is cached
// (Config.Cache) for userLangTTL, an unknown language too, so that a user is
// asked about once a month. An account that may not call user/info (48001)
// is not asked again until the adapter restarts. The conversation takes the
// language as the chat's start, which the owner's first words may change.
func (a *Adapter) userLanguage(ctx context.Context, openID string) string {
	if openID == "" || a.noUserInfo.Load() {
		return ""
	}
	key := "aftersales_wechat_lang_" + a.cfg.AppID + "_" + openID
	switch v := a.cacheGet(ctx, key).(type) {
	case string:
		if v == noLang {
			return ""
		}
		return v
	case []byte:
		if string(v) == noLang {
			return ""
		}
		return string(v)
	}
	ctx, cancel := context.WithTimeout(ctx, userInfoTimeout)
	defer cancel()
	var info struct {
		Subscribe int    `json:"subscribe"`
		Language  string `json:"language"`
	}
	err := a.call(ctx, "user/info", "/cgi-bin/user/info", url.Values{"openid": {openID}, "lang": {"zh_CN"}}, nil, &info, true)
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Code == codeAPIUnauthorized:
		a.noUserInfo.Store(true)
		a.log.Info("wechat: the account may not read user info; languages come from the owners' words", "errcode", ae.Code)
		return ""
	case err != nil:
		a.log.Warn("wechat: user info not read", "user_id", openID, "error", err)
		return "" // asked again next time
	}
	lang := info.Language
	if lang == "" {
		lang = noLang
	}
	if err := a.cacheSet(ctx, key, lang, userLangTTL); err != nil {
		a.log.Warn("wechat: caching the user's language failed", "user_id", openID, "error", err)
	}
	if lang == noLang {
		return ""
	}
	return lang
}

// withLanguage fills in.Language from the user's WeChat, for the messages
// that start or carry a dialogue.
func (a *Adapter) withLanguage(ctx context.Context, in *bot.Inbound) {
	if in.Kind == bot.KindUnfollow || in.Language != "" {
		return
	}
	in.Language = a.userLanguage(ctx, in.User.ID)
}

// cacheGet and cacheSet use the context-aware methods of a cache that has
// them (RedisCache).
func (a *Adapter) cacheGet(ctx context.Context, key string) any {
	if a.cfg.Cache == nil {
		return nil
	}
	if cc, ok := a.cfg.Cache.(interface {
		GetContext(context.Context, string) any
	}); ok {
		return cc.GetContext(ctx, key)
	}
	return a.cfg.Cache.Get(key)
}

func (a *Adapter) cacheSet(ctx context.Context, key string, val string, ttl time.Duration) error {
	if cc, ok := a.cfg.Cache.(interface {
		SetContext(context.Context, string, any, time.Duration) error
	}); ok {
		return cc.SetContext(ctx, key, val, ttl)
	}
	return a.cfg.Cache.Set(key, val, ttl)
}
