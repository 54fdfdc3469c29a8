package wechattest

import (
	"net/http"
)

// SetLanguage sets the language of openID's WeChat that user/info reports
// ("en", "zh_CN", "zh_TW"…); "" stops reporting one, as WeChat may.
func (s *Server) SetLanguage(openID, lang string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLocked(openID).Language = lang
	s.userLocked(openID).languageSet = true
}

// DenyUserInfo makes user/info answer 48001 (api unauthorized), as it does
// for accounts without the user-management permission (unverified ones).
func (s *Server) DenyUserInfo() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyUserInfo = true
}

// userInfo is the answer of /cgi-bin/user/info: a follower's basic
// information (nickname, avatar, sex and region are no longer given).
type userInfo struct {
	Subscribe     int    `json:"subscribe"`
	OpenID        string `json:"openid"`
	Language      string `json:"language,omitempty"`
	SubscribeTime int64  `json:"subscribe_time,omitempty"`
	Remark        string `json:"remark"`
	GroupID       int    `json:"groupid"`
	TagIDList     []int  `json:"tagid_list"`
}

// serveUserInfo: GET /cgi-bin/user/info?openid=…&lang=…. A user who does
// not follow the account is {"subscribe":0,"openid":…}; one the fake never
// heard of is 40003.
func (s *Server) serveUserInfo(r *http.Request, _ []byte) apiResult {
	if s.denyUserInfo {
		return s.apiError(CodeAPIUnauthorized, "api unauthorized")
	}
	openID := r.URL.Query().Get("openid")
	u, ok := s.users[openID]
	if openID == "" || !ok {
		return s.apiError(CodeInvalidOpenID, "invalid openid")
	}
	if !u.Subscribed {
		return jsonResult(userInfo{OpenID: openID, TagIDList: []int{}})
	}
	lang := u.Language
	if !u.languageSet {
		lang = "zh_CN"
	}
	info := userInfo{Subscribe: 1, OpenID: openID, Language: lang, TagIDList: []int{}}
	if !u.LastEvent.IsZero() {
		info.SubscribeTime = u.LastEvent.Unix()
	}
	return jsonResult(info)
}
