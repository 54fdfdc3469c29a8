package wechattest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
)

type mediaItem struct {
	data        []byte
	contentType string
	created     time.Time
}

// AddMedia stores temporary media, as WeChat does with a photo, voice or
// video a user sends, and returns its MediaId. It can be downloaded through
// /cgi-bin/media/get for MediaLifetime (3 days) on the fake clock.
func (s *Server) AddMedia(data []byte, contentType string) (mediaID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := randomID(64)
	s.media[id] = &mediaItem{data: append([]byte(nil), data...), contentType: contentType, created: s.nowLocked()}
	return id
}

// PicURL is a picture URL for mediaID like the PicUrl WeChat puts in image
// messages (on mmbiz.qpic.cn): it needs no access_token.
func (s *Server) PicURL(mediaID string) string {
	return s.URL() + "/mmbiz/" + mediaID
}

func (s *Server) mediaValidLocked(id string) bool {
	m := s.media[id]
	return m != nil && s.nowLocked().Sub(m.created) < MediaLifetime
}

// serveMediaGet: GET /cgi-bin/media/get. Files come back as bytes with
// WeChat's headers; videos as {"video_url":…}; unknown or expired ids as
// 40007.
func (s *Server) serveMediaGet(r *http.Request, _ []byte) apiResult {
	id := r.URL.Query().Get("media_id")
	if !s.mediaValidLocked(id) {
		return s.apiError(CodeInvalidMediaID, "invalid media_id")
	}
	m := s.media[id]
	if strings.HasPrefix(m.contentType, "video/") {
		return jsonResult(struct {
			VideoURL string `json:"video_url"`
		}{s.URL() + "/mmbiz/" + id})
	}
	h := http.Header{}
	h.Set("Content-Type", m.contentType)
	h.Set("Content-disposition", fmt.Sprintf(`attachment; filename="%s%s"`, id, mediaExt(m.contentType)))
	h.Set("Cache-Control", "no-cache, must-revalidate")
	h.Set("Content-Length", fmt.Sprint(len(m.data)))
	return apiResult{status: http.StatusOK, header: h, body: m.data}
}

// serveMediaUpload: POST /cgi-bin/media/upload?type=image|voice|video|thumb
// with the file in the multipart field "media", as an account uploads a
// picture to send it. Images are limited to 10 MB (40009), a wrong type or
// a missing file gives 40004 / 41005. The upload becomes temporary media,
// valid for MediaLifetime.
func (s *Server) serveMediaUpload(r *http.Request, body []byte) apiResult {
	typ := r.URL.Query().Get("type")
	switch typ {
	case "image", "voice", "video", "thumb":
	default:
		return s.apiError(CodeInvalidMediaType, "invalid media type")
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return s.apiError(CodeMediaDataMissing, "media data missing")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return s.apiError(CodeMediaDataMissing, "media data missing")
		}
		if part.FormName() != "media" {
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil || len(data) == 0 {
			return s.apiError(CodeMediaDataMissing, "media data missing")
		}
		if typ == "image" && len(data) > 10<<20 {
			return s.apiError(CodeMediaSizeLimit, "media size out of limit")
		}
		ct := http.DetectContentType(data)
		id := randomID(64)
		now := s.nowLocked()
		s.media[id] = &mediaItem{data: data, contentType: ct, created: now}
		return jsonResult(struct {
			Type      string `json:"type"`
			MediaID   string `json:"media_id"`
			CreatedAt int64  `json:"created_at"`
		}{typ, id, now.Unix()})
	}
}

func (s *Server) serveMediaFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.media[r.PathValue("id")]
	s.mu.Unlock()
	if m == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", m.contentType)
	w.Write(m.data)
}

func mediaExt(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "audio/amr":
		return ".amr"
	case "audio/speex":
		return ".speex"
	}
	if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
		return exts[0]
	}
	return ""
}
