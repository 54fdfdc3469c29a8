package wechattest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Errors returned by the message-encryption helpers.
var (
	// ErrBadAESKey reports an EncodingAESKey that is not 43 base64
	// characters encoding a 32-byte AES key.
	ErrBadAESKey = errors.New("wechattest: invalid EncodingAESKey")
	// ErrBadCiphertext reports a ciphertext that is not base64, not a whole
	// number of AES blocks, or whose decrypted layout (PKCS#7 padding,
	// message length) is broken.
	ErrBadCiphertext = errors.New("wechattest: invalid ciphertext")
	// ErrAppIDMismatch reports a ciphertext that decrypted cleanly but was
	// made for another appid.
	ErrAppIDMismatch = errors.New("wechattest: appid mismatch")
	// ErrBadSignature reports a msg_signature (or MsgSignature) that does
	// not match the token, timestamp, nonce and ciphertext.
	ErrBadSignature = errors.New("wechattest: signature mismatch")
	// ErrBadEnvelope reports a body that is not an <xml> envelope with an
	// Encrypt element.
	ErrBadEnvelope = errors.New("wechattest: malformed encrypted envelope")
)

// padBlock is the PKCS#7 block size of WeChat's scheme: 32 bytes, not the
// AES block size of 16.
const padBlock = 32

// DecodeAESKey turns a 43-character EncodingAESKey into the 32-byte AES key:
// base64(EncodingAESKey + "=").
func DecodeAESKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("%w: length %d, want 43", ErrBadAESKey, len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadAESKey, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: decodes to %d bytes", ErrBadAESKey, len(key))
	}
	return key, nil
}

// Encrypt encrypts a message the way WeChat and Tencent's WXBizMsgCrypt
// sample do: base64(AES-256-CBC(random16 ‖ uint32be(len(plain)) ‖ plain ‖
// appID, PKCS#7 to 32 bytes)), the IV being the key's first 16 bytes.
// random16 nil means 16 fresh random bytes.
func Encrypt(plain []byte, appID, encodingAESKey string, random16 []byte) (string, error) {
	key, err := DecodeAESKey(encodingAESKey)
	if err != nil {
		return "", err
	}
	if random16 == nil {
		random16 = make([]byte, 16)
		if _, err := io.ReadFull(rand.Reader, random16); err != nil {
			return "", fmt.Errorf("wechattest: random: %w", err)
		}
	}
	if len(random16) != 16 {
		return "", fmt.Errorf("wechattest: random prefix has %d bytes, want 16", len(random16))
	}
	n := 20 + len(plain) + len(appID)
	pad := padBlock - n%padBlock
	buf := make([]byte, 0, n+pad)
	buf = append(buf, random16...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(plain)))
	buf = append(buf, plain...)
	buf = append(buf, appID...)
	buf = append(buf, bytes.Repeat([]byte{byte(pad)}, pad)...)

	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("wechattest: %w", err)
	}
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// Decrypt reverses Encrypt and checks that the ciphertext was made for
// appID. It rejects broken base64, partial blocks, bad PKCS#7 padding and an
// impossible message length with ErrBadCiphertext, and another appid with
// ErrAppIDMismatch. Like every CBC scheme it does not authenticate: a
// tampered ciphertext can decrypt to altered text, which is what
// msg_signature is for (see OpenRequest and OpenReply).
func Decrypt(ciphertext, appID, encodingAESKey string) ([]byte, error) {
	plain, gotAppID, err := decrypt(ciphertext, encodingAESKey)
	if err != nil {
		return nil, err
	}
	if gotAppID != appID {
		return nil, fmt.Errorf("%w: ciphertext is for %q, want %q", ErrAppIDMismatch, gotAppID, appID)
	}
	return plain, nil
}

func decrypt(ciphertext, encodingAESKey string) (plain []byte, appID string, err error) {
	key, err := DecodeAESKey(encodingAESKey)
	if err != nil {
		return nil, "", err
	}
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, "", fmt.Errorf("%w: base64: %v", ErrBadCiphertext, err)
	}
	if len(raw) < padBlock || len(raw)%aes.BlockSize != 0 {
		return nil, "", fmt.Errorf("%w: %d bytes", ErrBadCiphertext, len(raw))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", fmt.Errorf("wechattest: %w", err)
	}
	cipher.NewCBCDecrypter(block, key[:16]).CryptBlocks(raw, raw)

	pad := int(raw[len(raw)-1])
	if pad < 1 || pad > padBlock || pad > len(raw) {
		return nil, "", fmt.Errorf("%w: padding %d", ErrBadCiphertext, pad)
	}
	for _, b := range raw[len(raw)-pad:] {
		if int(b) != pad {
			return nil, "", fmt.Errorf("%w: inconsistent padding", ErrBadCiphertext)
		}
	}
	raw = raw[:len(raw)-pad]
	if len(raw) < 20 {
		return nil, "", fmt.Errorf("%w: too short", ErrBadCiphertext)
	}
	n := binary.BigEndian.Uint32(raw[16:20])
	if uint64(n) > uint64(len(raw)-20) {
		return nil, "", fmt.Errorf("%w: message length %d exceeds %d bytes", ErrBadCiphertext, n, len(raw)-20)
	}
	return raw[20 : 20+n], string(raw[20+n:]), nil
}

// Signature is WeChat's SHA-1 signature: the hex SHA-1 of the arguments
// sorted as strings and concatenated. With token, timestamp and nonce it is
// the callback's signature parameter; with the ciphertext added it is
// msg_signature (or a reply's MsgSignature).
func Signature(token, timestamp, nonce string, extra ...string) string {
	parts := append([]string{token, timestamp, nonce}, extra...)
	sort.Strings(parts)
	h := sha1.New()
	for _, p := range parts {
		io.WriteString(h, p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func signatureOK(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// cdata writes s as a CDATA section, splitting any "]]>" inside it.
func cdata(s string) string {
	return "<![CDATA[" + strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") + "]]>"
}

// SealRequest encrypts a callback message as WeChat does in safe mode and
// returns the POST body <xml><ToUserName>…</ToUserName><Encrypt>…</Encrypt></xml>
// and the msg_signature for the query string.
func SealRequest(plain []byte, toUserName, token, appID, encodingAESKey, timestamp, nonce string) (body []byte, msgSignature string, err error) {
	enc, err := Encrypt(plain, appID, encodingAESKey, nil)
	if err != nil {
		return nil, "", err
	}
	body = []byte("<xml><ToUserName>" + cdata(toUserName) + "</ToUserName><Encrypt>" + cdata(enc) + "</Encrypt></xml>")
	return body, Signature(token, timestamp, nonce, enc), nil
}

// OpenRequest does what an official account does with a safe-mode callback
// body: it reads the Encrypt element, checks msg_signature against token,
// timestamp and nonce, and decrypts for appID.
func OpenRequest(body []byte, token, appID, encodingAESKey, msgSignature, timestamp, nonce string) ([]byte, error) {
	var env struct {
		XMLName xml.Name `xml:"xml"`
		Encrypt string   `xml:"Encrypt"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		return nil, ErrBadEnvelope
	}
	if !signatureOK(msgSignature, Signature(token, timestamp, nonce, env.Encrypt)) {
		return nil, ErrBadSignature
	}
	return Decrypt(env.Encrypt, appID, encodingAESKey)
}

// SealReply encrypts a passive reply as an official account must in safe
// mode: <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>.
func SealReply(plain []byte, token, appID, encodingAESKey, timestamp, nonce string) ([]byte, error) {
	enc, err := Encrypt(plain, appID, encodingAESKey, nil)
	if err != nil {
		return nil, err
	}
	sig := Signature(token, timestamp, nonce, enc)
	return []byte("<xml><Encrypt>" + cdata(enc) + "</Encrypt><MsgSignature>" + cdata(sig) +
		"</MsgSignature><TimeStamp>" + timestamp + "</TimeStamp><Nonce>" + cdata(nonce) + "</Nonce></xml>"), nil
}

// OpenReply does what WeChat does with a safe-mode passive reply: it checks
// MsgSignature against the reply's own TimeStamp and Nonce and decrypts for
// appID.
func OpenReply(body []byte, token, appID, encodingAESKey string) ([]byte, error) {
	var env struct {
		XMLName      xml.Name `xml:"xml"`
		Encrypt      string   `xml:"Encrypt"`
		MsgSignature string   `xml:"MsgSignature"`
		TimeStamp    string   `xml:"TimeStamp"`
		Nonce        string   `xml:"Nonce"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		return nil, ErrBadEnvelope
	}
	ts := strings.TrimSpace(env.TimeStamp)
	if !signatureOK(strings.TrimSpace(env.MsgSignature), Signature(token, ts, strings.TrimSpace(env.Nonce), strings.TrimSpace(env.Encrypt))) {
		return nil, ErrBadSignature
	}
	return Decrypt(strings.TrimSpace(env.Encrypt), appID, encodingAESKey)
}
