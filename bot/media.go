package bot

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Why inbound media can be refused. The conversation tells the owner in words.
var (
	ErrMediaTooLarge = errors.New("media too large")
	ErrMediaType     = errors.New("media type not accepted")
)

// MaxMediaMB is the largest attachment kept, in megabytes: Telegram lets a
// bot download at most 20 MB.
const MaxMediaMB = 20

// MediaPolicy limits what inbound media is stored.
type MediaPolicy struct {
	MaxBytes int64 // default MaxMediaMB MiB
	// Allowed content-type prefixes by kind, checked against the sniffed
	// content, not the announced type.
	Allowed map[Kind][]string
}

// DefaultMediaPolicy accepts photos (JPEG, PNG, GIF, WebP, HEIC), videos
// (MP4, QuickTime, WebM, 3GP), voice (AMR, Ogg, MP3, AAC, WAV) and documents
// that are images, videos or PDFs, up to MaxMediaMB.
func DefaultMediaPolicy() MediaPolicy {
	images := []string{"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif"}
	videos := []string{"video/mp4", "video/quicktime", "video/webm", "video/3gpp"}
	return MediaPolicy{
		MaxBytes: MaxMediaMB << 20,
		Allowed: map[Kind][]string{
			KindPhoto:    images,
			KindVideo:    videos,
			KindVoice:    {"audio/amr", "audio/ogg", "audio/mpeg", "audio/aac", "audio/mp4", "audio/wave", "audio/wav", "audio/x-wav", "audio/silk", "application/ogg"},
			KindDocument: append(append(append([]string{}, images...), videos...), "application/pdf"),
		},
	}
}

// Blob is a stored attachment.
type Blob struct {
	Key         string
	ContentType string
	Size        int64
}

// BlobStore keeps attachments. FileBlobStore keeps them under a directory;
// an object store can implement the same interface.
type BlobStore interface {
	// Put stores r under a new key and returns it. It reads at most max bytes
	// and returns ErrMediaTooLarge, storing nothing, when r has more.
	Put(ctx context.Context, r io.Reader, contentType string, max int64) (Blob, error)
	// Open returns the content of a stored blob.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// FileBlobStore keeps blobs as files under Dir, by day: 2026/11/27/<random>.jpg.
type FileBlobStore struct {
	Dir     string
	NowFunc func() time.Time
}

var blobKeyRE = regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/[0-9a-f]{32}(\.[a-z0-9]{1,5})?$`)

// Put writes r to a temporary file and renames it into place once complete,
// so a blob is never seen half-written.
func (s *FileBlobStore) Put(ctx context.Context, r io.Reader, contentType string, max int64) (Blob, error) {
	now := time.Now
	if s.NowFunc != nil {
		now = s.NowFunc
	}
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return Blob{}, err
	}
	key := now().UTC().Format("2006/01/02/") + hex.EncodeToString(rnd[:]) + extension(contentType)
	path := filepath.Join(s.Dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return Blob{}, fmt.Errorf("blob dir: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return Blob{}, fmt.Errorf("blob temp file: %w", err)
	}
	defer os.Remove(f.Name()) // harmless after the rename
	n, err := io.Copy(f, io.LimitReader(&ctxReader{ctx, r}, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Blob{}, fmt.Errorf("write blob: %w", err)
	}
	if n > max {
		return Blob{}, ErrMediaTooLarge
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return Blob{}, fmt.Errorf("store blob: %w", err)
	}
	return Blob{Key: key, ContentType: contentType, Size: n}, nil
}

// Open opens a stored blob; keys that are not of the store's own form are
// refused, so a key can never name a file outside Dir.
func (s *FileBlobStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if !blobKeyRE.MatchString(key) {
		return nil, fmt.Errorf("blob key %q: %w", key, os.ErrNotExist)
	}
	return os.Open(filepath.Join(s.Dir, filepath.FromSlash(key)))
}

func extension(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "video/mp4":
		return ".mp4"
	case "video/quicktime":
		return ".mov"
	case "video/webm":
		return ".webm"
	case "application/pdf":
		return ".pdf"
	case "audio/amr":
		return ".amr"
	case "audio/ogg", "application/ogg":
		return ".ogg"
	case "audio/mpeg":
		return ".mp3"
	}
	return ""
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// MediaFetcher downloads an attachment a platform announced. Adapters
// implement it (Telegram getFile, WeChat media/get).
type MediaFetcher interface {
	FetchMedia(ctx context.Context, m *Media) (io.ReadCloser, error)
}

// Intake stores inbound media under a MediaPolicy: it checks the announced
// size, sniffs the real content type from the first bytes, refuses what the
// policy does not allow, and streams the rest into the BlobStore.
type Intake struct {
	Blobs  BlobStore
	Policy MediaPolicy
}

// Store fetches m through f and stores it, setting m.BlobKey, m.ContentType
// and m.Size; or sets m.Err to ErrMediaTooLarge, ErrMediaType or the fetch
// error. It returns an error only when the blob store itself failed.
func (in *Intake) Store(ctx context.Context, kind Kind, m *Media, f MediaFetcher) error {
	max := in.Policy.MaxBytes
	if max <= 0 {
		max = MaxMediaMB << 20
	}
	if m.Size > max {
		m.Err = ErrMediaTooLarge
		return nil
	}
	rc, err := f.FetchMedia(ctx, m)
	if err != nil {
		m.Err = fmt.Errorf("fetch media: %w", err)
		return nil
	}
	defer rc.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(rc, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		m.Err = fmt.Errorf("read media: %w", err)
		return nil
	}
	head = head[:n]
	ct := Sniff(head)
	if !allowed(in.Policy.Allowed[kind], ct) {
		m.Err = fmt.Errorf("%w: %s sent as %s", ErrMediaType, ct, kind)
		return nil
	}
	blob, err := in.Blobs.Put(ctx, io.MultiReader(bytes.NewReader(head), rc), ct, max)
	switch {
	case errors.Is(err, ErrMediaTooLarge):
		m.Err = ErrMediaTooLarge
		return nil
	case err != nil:
		return err
	}
	m.BlobKey, m.ContentType, m.Size = blob.Key, blob.ContentType, blob.Size
	return nil
}

// Sniff identifies content from its first bytes (up to 512), as
// http.DetectContentType does, and also the formats phones send that it does
// not know: HEIC photos, QuickTime and 3GP videos, M4A audio, AMR and SILK
// voice. It returns a media type without parameters.
func Sniff(head []byte) string {
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch brand := string(head[8:12]); {
		case strings.HasPrefix(brand, "heic"), strings.HasPrefix(brand, "heix"), strings.HasPrefix(brand, "mif1"):
			return "image/heic"
		case strings.HasPrefix(brand, "qt"):
			return "video/quicktime"
		case strings.HasPrefix(brand, "3g"):
			return "video/3gpp"
		case strings.HasPrefix(brand, "M4A"):
			return "audio/mp4"
		default:
			return "video/mp4"
		}
	}
	if bytes.HasPrefix(head, []byte("#!AMR")) {
		return "audio/amr"
	}
	if bytes.HasPrefix(head, []byte("\x02#!SILK")) || bytes.HasPrefix(head, []byte("#!SILK")) {
		return "audio/silk"
	}
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return ct
}

func allowed(list []string, ct string) bool {
	for _, a := range list {
		if ct == a {
			return true
		}
	}
	return false
}
