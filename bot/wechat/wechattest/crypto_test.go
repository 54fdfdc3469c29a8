package wechattest

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tencent's official-account sample (WXBizMsgCrypt Sample.py / PHP demo of
// cryptoDemo.zip): decrypting from_xml with these parameters.
const (
	sampleToken     = "spamtest"
	sampleAESKey    = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	sampleAppID     = "wx2c2769f8efd9abc2"
	sampleTimestamp = "1409735669"
	sampleNonce     = "1320562132"
	sampleMsgSig    = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
	sampleEncrypt   = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
	// samplePlain is what the sample decrypts to.
	samplePlain = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n" +
		"<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n" +
		"<CreateTime>1409735668</CreateTime>\n" +
		"<MsgType><![CDATA[text]]></MsgType>\n" +
		"<Content><![CDATA[abcdteT]]></Content>\n" +
		"<MsgId>6054768590064713728</MsgId>\n" +
		"</xml>"
	// sampleFromXML is the sample's compatibility-mode body: plaintext fields
	// and the Encrypt element.
	sampleFromXML = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[" + sampleEncrypt + "]]></Encrypt></xml>"
)

// The WeCom (企业号) sample of the same SDK family, which uses the key
// "jWmYm7qr…" with its own token and corp id.
const (
	wecomToken   = "QDG6eK"
	wecomAESKey  = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	wecomCorpID  = "wx5823bf96d3bd56c7"
	wecomTS      = "1409659813"
	wecomNonce   = "1372623149"
	wecomMsgSig  = "477715d11cdb4164915debcba66cb864d751f3e6"
	wecomEncrypt = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)

func TestSampleVectorDecrypts(t *testing.T) {
	t.Parallel()
	assert.Equal(t, sampleMsgSig, Signature(sampleToken, sampleTimestamp, sampleNonce, sampleEncrypt))

	plain, err := Decrypt(sampleEncrypt, sampleAppID, sampleAESKey)
	require.NoError(t, err)
	assert.Equal(t, samplePlain, string(plain))

	// The whole sample request, as an account receives it.
	plain, err = OpenRequest([]byte(sampleFromXML), sampleToken, sampleAppID, sampleAESKey, sampleMsgSig, sampleTimestamp, sampleNonce)
	require.NoError(t, err)
	assert.Equal(t, samplePlain, string(plain))

	_, err = OpenRequest([]byte(sampleFromXML), sampleToken, sampleAppID, sampleAESKey, sampleMsgSig, "1409735670", sampleNonce)
	assert.ErrorIs(t, err, ErrBadSignature)
}

func TestWeComSampleVectorDecrypts(t *testing.T) {
	t.Parallel()
	assert.Equal(t, wecomMsgSig, Signature(wecomToken, wecomTS, wecomNonce, wecomEncrypt))
	plain, err := Decrypt(wecomEncrypt, wecomCorpID, wecomAESKey)
	require.NoError(t, err)
	assert.Contains(t, string(plain), "<ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>")
	assert.Contains(t, string(plain), "<Content><![CDATA[hello]]></Content>")
}

// The official-account sample is encrypted with "abcdefg…ABCDEFG"; the
// "jWmYm7qr…" key belongs to the WeCom sample and cannot decrypt it.
func TestSampleKeysAreNotInterchangeable(t *testing.T) {
	t.Parallel()
	_, err := Decrypt(sampleEncrypt, sampleAppID, wecomAESKey)
	assert.ErrorIs(t, err, ErrBadCiphertext)
}

// Tencent's Java sample (WXBizMsgCryptTest) encrypts with the fixed random
// prefix "aaaabbbbccccdddd".
func TestEncryptMatchesJavaSample(t *testing.T) {
	t.Parallel()
	got, err := Encrypt([]byte("我是中文abcd123"), "wxb11529c136998cb6", sampleAESKey, []byte("aaaabbbbccccdddd"))
	require.NoError(t, err)
	assert.Equal(t, "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==", got)
}

func TestEncryptRoundTrip(t *testing.T) {
	t.Parallel()
	for _, plain := range []string{"", "a", strings.Repeat("x", 12), strings.Repeat("报修", 500), samplePlain} {
		enc, err := Encrypt([]byte(plain), sampleAppID, sampleAESKey, nil)
		require.NoError(t, err)
		raw, err := base64.StdEncoding.DecodeString(enc)
		require.NoError(t, err)
		assert.Zero(t, len(raw)%32, "PKCS#7 to 32-byte blocks")

		got, err := Decrypt(enc, sampleAppID, sampleAESKey)
		require.NoError(t, err)
		assert.Equal(t, plain, string(got))
	}
	a, _ := Encrypt([]byte("same"), sampleAppID, sampleAESKey, nil)
	b, _ := Encrypt([]byte("same"), sampleAppID, sampleAESKey, nil)
	assert.NotEqual(t, a, b, "a fresh random prefix each time")
}

func TestDecryptRejects(t *testing.T) {
	t.Parallel()
	raw, err := base64.StdEncoding.DecodeString(sampleEncrypt)
	require.NoError(t, err)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return base64.StdEncoding.EncodeToString(b)
	}
	tests := map[string]struct {
		ciphertext, appID, key string
		want                   error
	}{
		"wrong appid":           {sampleEncrypt, "wx0000000000000000", sampleAESKey, ErrAppIDMismatch},
		"last block tampered":   {flip(len(raw) - 1), sampleAppID, sampleAESKey, nil}, // garbles padding or appid
		"length tampered":       {flip(16), sampleAppID, sampleAESKey, ErrBadCiphertext},
		"truncated":             {base64.StdEncoding.EncodeToString(raw[:len(raw)-16]), sampleAppID, sampleAESKey, ErrBadCiphertext},
		"not base64":            {"%%%" + sampleEncrypt, sampleAppID, sampleAESKey, ErrBadCiphertext},
		"too short":             {base64.StdEncoding.EncodeToString(raw[:16]), sampleAppID, sampleAESKey, ErrBadCiphertext},
		"short AES key":         {sampleEncrypt, sampleAppID, sampleAESKey[:42], ErrBadAESKey},
		"AES key not base64":    {sampleEncrypt, sampleAppID, "!" + sampleAESKey[1:], ErrBadAESKey},
		"another account's key": {sampleEncrypt, sampleAppID, wecomAESKey, ErrBadCiphertext},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Decrypt(tt.ciphertext, tt.appID, tt.key)
			require.Error(t, err)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
		})
	}

	// CBC does not authenticate: a change inside the text can decrypt, and
	// only msg_signature catches it.
	body := strings.Replace(sampleFromXML, sampleEncrypt, flip(40), 1)
	_, err = OpenRequest([]byte(body), sampleToken, sampleAppID, sampleAESKey, sampleMsgSig, sampleTimestamp, sampleNonce)
	assert.ErrorIs(t, err, ErrBadSignature)
}

func TestSealAndOpen(t *testing.T) {
	t.Parallel()
	plain := []byte("<xml><Content><![CDATA[您好]]></Content></xml>")

	body, sig, err := SealRequest(plain, "gh_10f6c3c3ac5a", sampleToken, sampleAppID, sampleAESKey, sampleTimestamp, sampleNonce)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(body), "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA["))
	got, err := OpenRequest(body, sampleToken, sampleAppID, sampleAESKey, sig, sampleTimestamp, sampleNonce)
	require.NoError(t, err)
	assert.Equal(t, plain, got)
	_, err = OpenRequest([]byte("<xml><Encrypt></Encrypt></xml>"), sampleToken, sampleAppID, sampleAESKey, sig, sampleTimestamp, sampleNonce)
	assert.ErrorIs(t, err, ErrBadEnvelope)

	reply, err := SealReply(plain, sampleToken, sampleAppID, sampleAESKey, sampleTimestamp, sampleNonce)
	require.NoError(t, err)
	got, err = OpenReply(reply, sampleToken, sampleAppID, sampleAESKey)
	require.NoError(t, err)
	assert.Equal(t, plain, got)
	_, err = OpenReply(reply, "another-token", sampleAppID, sampleAESKey)
	assert.ErrorIs(t, err, ErrBadSignature)
	_, err = OpenReply(reply, sampleToken, "wx0000000000000000", sampleAESKey)
	assert.ErrorIs(t, err, ErrAppIDMismatch)
}

func TestSignatureSortsItsArguments(t *testing.T) {
	t.Parallel()
	// The example of WeChat's 消息推送 guide: Token "AAAAA".
	assert.Equal(t, "f464b24fc39322e44b38aa78f5edd27bd1441696", Signature("AAAAA", "1714036504", "1514711492"))
	assert.Equal(t, Signature("a", "b", "c", "d"), Signature("d", "c", "b", "a"))
}

func TestCDATASplitsTerminator(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "<![CDATA[a]]]]><![CDATA[>b]]>", cdata("a]]>b"))
}
