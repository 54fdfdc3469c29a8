package telegramtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // photos the bot uploads may be GIF, JPEG or PNG
	"image/jpeg"
	_ "image/png"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

type file struct {
	id       string
	uniqueID string
	kind     string // photo, document, video, voice
	data     []byte
	size     int // reported file_size
	name     string
	mime     string
	path     string // set by the first getFile
	width    int
	height   int
	group    []wirePhotoSize // a photo: every size of the photo
}

// file_id prefixes of real Bot API file ids, by kind.
var fileIDPrefix = map[string]string{
	"photo":    "AgACAgIAAxkBAAI",
	"document": "BQACAgIAAxkBAAI",
	"video":    "BAACAgIAAxkBAAI",
	"voice":    "AwACAgIAAxkBAAI",
}

func (s *Server) newFileLocked(kind string, data []byte, size int) *file {
	s.fileSeq++
	var seed [16]byte
	binary.BigEndian.PutUint64(seed[:8], uint64(s.botID))
	binary.BigEndian.PutUint64(seed[8:], uint64(s.fileSeq))
	sum := sha256.Sum256(append(seed[:], s.token...))
	enc := base64.RawURLEncoding.EncodeToString(sum[:])
	f := &file{
		id:       fileIDPrefix[kind] + enc[:26] + strconv.Itoa(s.fileSeq) + "AAQ",
		uniqueID: "AQAD" + enc[26:36],
		kind:     kind,
		data:     data,
		size:     size,
	}
	if f.size <= 0 {
		f.size = len(data)
	}
	s.files[f.id] = f
	return f
}

// photoBoxes are the thumbnail sizes Telegram makes of a photo (s, m, x),
// each made only if the photo is bigger.
var photoBoxes = []int{90, 320, 800}

// registerPhotoLocked stores a photo the way Telegram presents one: several
// PhotoSize entries, smallest first, the last one the photo itself.
// Thumbnails are real JPEG downscales when data is an image; otherwise
// (only for simulated users' photos) a 1280×960 photo is assumed and the
// thumbnails are plain grey JPEGs. size > 0 overrides the reported
// file_size of the full photo.
func (s *Server) registerPhotoLocked(data []byte, size int) ([]wirePhotoSize, *file) {
	img, _, err := image.Decode(bytes.NewReader(data))
	w, h := 1280, 960
	if err == nil {
		w, h = img.Bounds().Dx(), img.Bounds().Dy()
	}
	var sizes []wirePhotoSize
	var files []*file
	longest := max(w, h)
	for _, box := range photoBoxes {
		if longest <= box {
			break
		}
		tw, th := max(1, w*box/longest), max(1, h*box/longest)
		thumb := encodeThumb(img, tw, th)
		f := s.newFileLocked("photo", thumb, 0)
		f.width, f.height, f.mime = tw, th, "image/jpeg"
		files = append(files, f)
		sizes = append(sizes, wirePhotoSize{FileID: f.id, FileUniqueID: f.uniqueID, Width: tw, Height: th, FileSize: f.size})
	}
	f := s.newFileLocked("photo", data, size)
	f.width, f.height, f.mime = w, h, "image/jpeg"
	files = append(files, f)
	sizes = append(sizes, wirePhotoSize{FileID: f.id, FileUniqueID: f.uniqueID, Width: w, Height: h, FileSize: f.size})
	for _, f := range files {
		f.group = sizes
	}
	return sizes, f
}

// encodeThumb scales img to w×h (nearest neighbour) as a JPEG; a nil img
// gives a grey picture.
func encodeThumb(img image.Image, w, h int) []byte {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if img == nil {
		for i := range dst.Pix {
			dst.Pix[i] = 0x80
		}
	} else {
		b := img.Bounds()
		for y := range h {
			for x := range w {
				dst.Set(x, y, color.RGBAModel.Convert(img.At(b.Min.X+x*b.Dx()/w, b.Min.Y+y*b.Dy()/h)))
			}
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}

func (s *Server) registerDocumentLocked(kind string, data []byte, size int, name, mimeType string) *file {
	f := s.newFileLocked(kind, data, size)
	f.name = name
	f.mime = mimeType
	if f.mime == "" {
		f.mime = mime.TypeByExtension(strings.ToLower(path.Ext(name)))
		if i := strings.IndexByte(f.mime, ';'); i >= 0 {
			f.mime = f.mime[:i]
		}
	}
	if f.mime == "" {
		switch kind {
		case "voice":
			f.mime = "audio/ogg"
		case "video":
			f.mime = "video/mp4"
		default:
			f.mime = "application/octet-stream"
		}
	}
	return f
}

// FileBytes returns the content of a file the server holds (uploaded by the
// bot or sent by a simulated user), by file_id.
func (s *Server) FileBytes(fileID string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[fileID]
	if f == nil {
		return nil, false
	}
	return bytes.Clone(f.data), true
}

func (s *Server) hGetFile(ctx context.Context, p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[strings.TrimSpace(p.get("file_id"))]
	if f == nil {
		return fail(badRequest("Invalid file_id"))
	}
	if f.size > maxDownloadSize {
		return fail(badRequest("File is too big"))
	}
	if f.path == "" {
		s.pathSeq++
		switch f.kind {
		case "photo":
			f.path = fmt.Sprintf("photos/file_%d.jpg", s.pathSeq)
		case "video":
			f.path = fmt.Sprintf("videos/file_%d.mp4", s.pathSeq)
		case "voice":
			f.path = fmt.Sprintf("voice/file_%d.oga", s.pathSeq)
		default:
			f.path = fmt.Sprintf("documents/file_%d%s", s.pathSeq, strings.ToLower(path.Ext(f.name)))
		}
		s.filePaths[f.path] = f
	}
	return ok(wireFile{FileID: f.id, FileUniqueID: f.uniqueID, FileSize: f.size, FilePath: f.path})
}

// serveFile answers GET {URL}/file/bot{token}/{file_path} with the file's
// bytes; the path is known only after getFile gave it.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	token, filePath, _ := strings.Cut(rest, "/")
	if token != s.token {
		writeResult(w, unauthorized)
		return
	}
	s.mu.Lock()
	f := s.filePaths[filePath]
	var data []byte
	if f != nil {
		data = f.data
	}
	s.mu.Unlock()
	if f == nil {
		writeResult(w, notFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

func (s *Server) hSendPhoto(ctx context.Context, p *params) result {
	return s.sendMedia(p, "photo")
}

func (s *Server) hSendDocument(ctx context.Context, p *params) result {
	return s.sendMedia(p, "document")
}

func (s *Server) hSendVideo(ctx context.Context, p *params) result {
	return s.sendMedia(p, "video")
}

func (s *Server) hSendVoice(ctx context.Context, p *params) result {
	return s.sendMedia(p, "voice")
}

// sendMedia is sendPhoto/sendDocument/sendVideo/sendVoice: the file is a
// multipart upload in the field named after the kind (or "attach://name"),
// or the file_id of a file the server holds; a URL cannot be fetched here.
func (s *Server) sendMedia(p *params, kind string) result {
	caption, ents, aerr := formatText(p.get("caption"), p.get("parse_mode"))
	if aerr != nil {
		return fail(aerr)
	}
	markup, aerr := parseReplyMarkup(p.get("reply_markup"))
	if aerr != nil {
		return fail(aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(p)
	if aerr != nil {
		return fail(aerr)
	}
	replyTo, aerr := s.replyTargetLocked(c, p)
	if aerr != nil {
		return fail(aerr)
	}
	var (
		up       *upload
		existing *file
		v        = strings.TrimSpace(p.get(kind))
	)
	switch {
	case v == "" && p.files[kind] != nil:
		up = p.files[kind]
	case strings.HasPrefix(v, "attach://"):
		up = p.files[strings.TrimPrefix(v, "attach://")]
		if up == nil {
			return fail(badRequest(fmt.Sprintf("There is no %s in the request", kind)))
		}
	case v == "":
		return fail(badRequest(fmt.Sprintf("There is no %s in the request", kind)))
	case strings.HasPrefix(strings.ToLower(v), "http://") || strings.HasPrefix(strings.ToLower(v), "https://"):
		return fail(badRequest("Failed to get HTTP URL content"))
	default:
		existing = s.files[v]
		if existing == nil {
			return fail(badRequest("Wrong file identifier/HTTP URL specified"))
		}
		if existing.kind != kind {
			return fail(badRequest("Type of file mismatch"))
		}
	}
	if up != nil {
		if len(up.data) == 0 {
			return fail(badRequest("File must be non-empty"))
		}
		if kind == "photo" {
			if _, _, err := image.DecodeConfig(bytes.NewReader(up.data)); err != nil {
				return fail(badRequest("IMAGE_PROCESS_FAILED"))
			}
		}
	}
	if aerr := checkMarkupForChat(markup, c.typ); aerr != nil {
		return fail(aerr)
	}
	if utf16Len(caption) > maxCaptionLength {
		return fail(badRequest("Message caption is too long"))
	}
	if aerr := s.sendChecksLocked(c); aerr != nil {
		return fail(aerr)
	}

	m := &message{
		fromBot:   true,
		method:    "send" + strings.ToUpper(kind[:1]) + kind[1:],
		text:      caption,
		entities:  ents,
		isCaption: true,
		source:    p.get("caption"),
		parseMode: p.get("parse_mode"),
		markup:    markup,
		replyTo:   replyTo,
	}
	switch kind {
	case "photo":
		if existing != nil {
			m.photo = existing.group
			m.file = s.files[existing.group[len(existing.group)-1].FileID]
		} else {
			m.photo, m.file = s.registerPhotoLocked(up.data, 0)
		}
	default:
		f := existing
		if f == nil {
			f = s.registerDocumentLocked(kind, up.data, 0, up.name, "")
		}
		m.file = f
		dur := p.intArg("duration", 0, 0, 1<<31-1)
		switch kind {
		case "document":
			m.document = &wireDocument{FileID: f.id, FileUniqueID: f.uniqueID, FileName: f.name, MimeType: f.mime, FileSize: f.size}
		case "video":
			m.video = &wireVideo{FileID: f.id, FileUniqueID: f.uniqueID, Width: p.intArg("width", 0, 0, 1<<20),
				Height: p.intArg("height", 0, 0, 1<<20), Duration: dur, FileName: f.name, MimeType: f.mime, FileSize: f.size}
		case "voice":
			m.voice = &wireVoice{FileID: f.id, FileUniqueID: f.uniqueID, Duration: dur, MimeType: f.mime, FileSize: f.size}
		}
	}
	s.addMessageLocked(c, m)
	applyKeyboard(c, markup)
	s.notifyLocked()
	return ok(s.renderLocked(m, true))
}
