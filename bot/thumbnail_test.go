package bot_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
)

func TestThumbnail(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := &bot.FileBlobStore{Dir: t.TempDir()}
	src := image.NewRGBA(image.Rect(0, 0, 1200, 800))
	for y := range 800 {
		for x := range 1200 {
			src.Set(x, y, color.RGBA{uint8(x / 5), uint8(y / 4), 128, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, src))
	blob, err := store.Put(ctx, &buf, "image/png", 10<<20)
	require.NoError(t, err)

	rc, err := store.Thumbnail(ctx, blob.Key)
	require.NoError(t, err)
	first, _ := io.ReadAll(rc)
	rc.Close()
	img, format, err := image.Decode(bytes.NewReader(first))
	require.NoError(t, err)
	assert.Equal(t, "jpeg", format)
	assert.Equal(t, image.Rect(0, 0, 320, 213), img.Bounds(), "the longer side is 320, the ratio kept")
	kept := filepath.Join(store.Dir, filepath.FromSlash(blob.Key)) + ".thumb.jpg"
	require.FileExists(t, kept, "stored beside the original")

	// Made once: the stored one is served after.
	require.NoError(t, os.WriteFile(kept, []byte("stored"), 0o600))
	rc, err = store.Thumbnail(ctx, blob.Key)
	require.NoError(t, err)
	again, _ := io.ReadAll(rc)
	rc.Close()
	assert.Equal(t, "stored", string(again))

	// A small photo is not enlarged.
	buf.Reset()
	require.NoError(t, jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 40, 30)), nil))
	small, err := store.Put(ctx, &buf, "image/jpeg", 10<<20)
	require.NoError(t, err)
	rc, err = store.Thumbnail(ctx, small.Key)
	require.NoError(t, err)
	cfg, _, err := image.DecodeConfig(rc)
	rc.Close()
	require.NoError(t, err)
	assert.Equal(t, 40, cfg.Width)

	// No thumbnail of what is no image; no key outside the store.
	voice, err := store.Put(ctx, bytes.NewReader([]byte("#!AMR\n....")), "audio/amr", 1<<20)
	require.NoError(t, err)
	_, err = store.Thumbnail(ctx, voice.Key)
	assert.ErrorIs(t, err, bot.ErrNoThumbnail)
	_, err = store.Thumbnail(ctx, "../../etc/passwd")
	assert.ErrorIs(t, err, os.ErrNotExist)
}
