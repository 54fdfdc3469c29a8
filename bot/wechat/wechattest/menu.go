package wechattest

import (
	"encoding/json"
	"net/http"
)

// Menu is the account's custom menu as /cgi-bin/menu/create takes it.
type Menu struct {
	Button []Button `json:"button"`
}

// Button is a menu button; a top-level button either has SubButton or is a
// button itself.
type Button struct {
	Type      string   `json:"type,omitempty"`
	Name      string   `json:"name"`
	Key       string   `json:"key,omitempty"`
	URL       string   `json:"url,omitempty"`
	MediaID   string   `json:"media_id,omitempty"`
	AppID     string   `json:"appid,omitempty"`
	PagePath  string   `json:"pagepath,omitempty"`
	ArticleID string   `json:"article_id,omitempty"`
	SubButton []Button `json:"sub_button,omitempty"`
}

// Menu returns the menu last created, or nil.
func (s *Server) Menu() *Menu {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.menu == nil {
		return nil
	}
	b, _ := json.Marshal(s.menu)
	var m Menu
	json.Unmarshal(b, &m)
	return &m
}

// Limits of /cgi-bin/menu/create, in bytes where WeChat counts bytes.
const (
	maxTopButtons = 3
	maxSubButtons = 5
	maxTopName    = 16
	maxSubName    = 60
	maxKey        = 128
	maxURL        = 1024
)

// menuCodes are the error codes for a top-level button and a sub-button.
type menuCodes struct {
	typ, name, key, url int
	prefix              string
}

var (
	topCodes = menuCodes{CodeInvalidButtonType, CodeInvalidButtonName, CodeInvalidButtonKey, CodeInvalidButtonURL, "button"}
	subCodes = menuCodes{CodeInvalidSubType, CodeInvalidSubName, CodeInvalidSubKey, CodeInvalidSubURL, "sub button"}
)

// serveMenuCreate: POST /cgi-bin/menu/create.
func (s *Server) serveMenuCreate(_ *http.Request, body []byte) apiResult {
	var m Menu
	if err := json.Unmarshal(body, &m); err != nil {
		return s.apiError(CodeDataFormatError, "data format error")
	}
	if len(m.Button) == 0 || len(m.Button) > maxTopButtons {
		return s.apiError(CodeInvalidButtonSize, "invalid button size")
	}
	for _, b := range m.Button {
		if b.Name == "" || len(b.Name) > maxTopName {
			return s.apiError(CodeInvalidButtonName, "invalid button name size")
		}
		if len(b.SubButton) == 0 {
			if code, msg := checkButton(b, topCodes); code != 0 {
				return s.apiError(code, msg)
			}
			continue
		}
		if len(b.SubButton) > maxSubButtons {
			return s.apiError(CodeInvalidSubButtons, "invalid sub button size")
		}
		for _, sb := range b.SubButton {
			if len(sb.SubButton) > 0 {
				return s.apiError(CodeInvalidSubMenuLevel, "invalid sub_menu level")
			}
			if sb.Name == "" || len(sb.Name) > maxSubName {
				return s.apiError(CodeInvalidSubName, "invalid sub button name size")
			}
			if code, msg := checkButton(sb, subCodes); code != 0 {
				return s.apiError(code, msg)
			}
		}
	}
	s.menu = &m
	return okResult()
}

func checkButton(b Button, c menuCodes) (int, string) {
	badKey := func() (int, string) { return c.key, "invalid " + c.prefix + " key size" }
	badURL := func() (int, string) { return c.url, "invalid " + c.prefix + " url size" }
	badType := func() (int, string) { return c.typ, "invalid " + c.prefix + " type" }
	switch b.Type {
	case "click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select":
		if b.Key == "" || len(b.Key) > maxKey {
			return badKey()
		}
	case "view":
		if b.URL == "" || len(b.URL) > maxURL {
			return badURL()
		}
	case "miniprogram":
		if b.URL == "" || len(b.URL) > maxURL {
			return badURL()
		}
		if b.AppID == "" || b.PagePath == "" {
			return badType()
		}
	case "media_id", "view_limited":
		if b.MediaID == "" {
			return CodeInvalidMediaID, "invalid media_id"
		}
	case "article_id", "article_view_limited":
		if b.ArticleID == "" {
			return badType()
		}
	default:
		return badType()
	}
	return 0, ""
}

// serveMenuGet: GET /cgi-bin/menu/get.
func (s *Server) serveMenuGet(*http.Request, []byte) apiResult {
	if s.menu == nil {
		return s.apiError(CodeMenuNotExist, "menu no exist")
	}
	return jsonResult(struct {
		Menu *Menu `json:"menu"`
	}{s.menu})
}

// serveMenuDelete: GET /cgi-bin/menu/delete.
func (s *Server) serveMenuDelete(*http.Request, []byte) apiResult {
	s.menu = nil
	return okResult()
}
