package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decoders of the photos owners send
	"image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// ThumbSize is the longer side of a thumbnail, in pixels.
const ThumbSize = 320

// maxThumbSourcePixels bounds the photos thumbnailed: a decompression bomb
// (a small file of a huge picture) is refused before it is decoded.
const maxThumbSourcePixels = 50_000_000

// ErrNoThumbnail is returned for a blob no thumbnail can be made of: not an
// image this store decodes (HEIC, video, voice), or too large.
var ErrNoThumbnail = errors.New("bot: no thumbnail for this blob")

// Thumbnail returns a JPEG thumbnail of the image blob key, at most
// ThumbSize pixels on its longer side: made once, at the first call, and
// kept beside the original as <key>.thumb.jpg.
func (s *FileBlobStore) Thumbnail(ctx context.Context, key string) (io.ReadCloser, error) {
	if !blobKeyRE.MatchString(key) {
		return nil, fmt.Errorf("blob key %q: %w", key, os.ErrNotExist)
	}
	path := filepath.Join(s.Dir, filepath.FromSlash(key))
	thumb := path + ".thumb.jpg"
	if f, err := os.Open(thumb); err == nil {
		return f, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	src, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	cfg, _, err := image.DecodeConfig(src)
	if err != nil || cfg.Width*cfg.Height > maxThumbSourcePixels {
		return nil, ErrNoThumbnail
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(src)
	if err != nil {
		return nil, ErrNoThumbnail
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > ThumbSize || h > ThumbSize {
		if w >= h {
			w, h = ThumbSize, max(1, h*ThumbSize/w)
		} else {
			w, h = max(1, w*ThumbSize/h), ThumbSize
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src) // transparency on white
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	// Written whole then renamed, so that a concurrent request never reads
	// half a thumbnail; two requests at once both make it, and one wins.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".thumb-*")
	if err == nil {
		_, err = tmp.Write(buf.Bytes())
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), thumb)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("keep thumbnail: %w", err)
	}
	return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
}
