package wechattest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseOptions(t *testing.T) {
	t.Parallel()
	shown, opts := ParseOptions("满意吗？\n1. <a href=\"weixin://bizmsgmenu?msgmenucontent=满意&msgmenuid=101\">满意</a>\n" +
		"2. <a href='weixin://bizmsgmenu?msgmenucontent=Not%20at%20all%26more&msgmenuid=102'>Not at all&amp;more</a>\n" +
		"<a href=\"https://example.com\">官网</a>")
	assert.Equal(t, "满意吗？\n1. 满意\n2. Not at all&more\n<a href=\"https://example.com\">官网</a>", shown, "a bizmsgmenu link shows as its label")
	assert.Equal(t, []Option{
		{ID: "101", Content: "满意", Label: "满意"},
		{ID: "102", Content: "Not at all&more", Label: "Not at all&more"},
	}, opts)
}

func TestTapXML(t *testing.T) {
	t.Parallel()
	m := Tap("oU", Option{ID: "101", Content: "满意", Label: "满意"})
	m.MsgID = 7
	assert.Equal(t, "<xml><ToUserName><![CDATA[]]></ToUserName>\n<FromUserName><![CDATA[oU]]></FromUserName>\n<CreateTime>0</CreateTime>\n"+
		"<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[满意]]></Content>\n<MsgId>7</MsgId>\n<bizmsgmenuid>101</bizmsgmenuid>\n</xml>", string(m.XML()))
}

func TestCustomMsgMenu(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testAppID, testSecret)
	tok := token(t, s)
	s.RecordInbound(Text("oU", "hi"))
	body := json.RawMessage(`{"touser":"oU","msgtype":"msgmenu","msgmenu":{"head_content":"您对本次服务是否满意呢？","list":[{"id":"101","content":"满意"},{"id":"102","content":"不满意"}],"tail_content":"欢迎再次光临"}}`)
	res := post(t, s, "/cgi-bin/message/custom/send", tok, body)
	assert.Equal(t, 0, res.ErrCode)
	sent := s.SentTo("oU")
	require.Len(t, sent, 1)
	assert.Equal(t, "msgmenu", sent[0].MsgType)
	assert.Equal(t, "您对本次服务是否满意呢？\n满意\n不满意\n欢迎再次光临", sent[0].Content)
	o, ok := sent[0].Option("不满意")
	require.True(t, ok)
	assert.Equal(t, Inbound{FromUserName: "oU", MsgType: MsgTypeText, Content: "不满意", BizMsgMenuID: "102"}, Tap("oU", o))

	for name, bad := range map[string]string{
		"no items": `{"touser":"oU","msgtype":"msgmenu","msgmenu":{"head_content":"h","list":[],"tail_content":"t"}}`,
		"no menu":  `{"touser":"oU","msgtype":"msgmenu"}`,
		"empty id": `{"touser":"oU","msgtype":"msgmenu","msgmenu":{"list":[{"id":"","content":"x"}]}}`,
		"11 items": `{"touser":"oU","msgtype":"msgmenu","msgmenu":{"list":[` + items(11) + `]}}`,
	} {
		res := post(t, s, "/cgi-bin/message/custom/send", tok, json.RawMessage(bad))
		assert.Equal(t, CodeDataFormatError, res.ErrCode, name)
	}
}

func items(n int) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += ","
		}
		s += `{"id":"` + string(rune('a'+i)) + `","content":"x"}`
	}
	return s
}
