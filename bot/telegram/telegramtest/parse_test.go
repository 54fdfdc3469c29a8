package telegramtest

import (
	"fmt"
	"strings"
	"testing"
)

func entStr(ents []MessageEntity) string {
	var parts []string
	for _, e := range ents {
		s := fmt.Sprintf("%s@%d+%d", e.Type, e.Offset, e.Length)
		if e.URL != "" {
			s += "=" + e.URL
		}
		if e.Language != "" {
			s += ":" + e.Language
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestFormatText(t *testing.T) {
	const prefix = "Bad Request: can't parse entities: "
	for _, tc := range []struct {
		mode, in        string
		text, ents, err string
	}{
		// MarkdownV2
		{mode: "MarkdownV2", in: "Hello.", err: prefix + `Character '.' is reserved and must be escaped with the preceding '\'`},
		{mode: "MarkdownV2", in: `Hello\.`, text: "Hello."},
		{mode: "MarkdownV2", in: "a - b", err: prefix + `Character '-' is reserved and must be escaped with the preceding '\'`},
		{mode: "MarkdownV2", in: "a > b", err: prefix + `Character '>' is reserved and must be escaped with the preceding '\'`},
		{mode: "MarkdownV2", in: "*bold* _it_ __under__ ~st~ ||sp||", text: "bold it under st sp",
			ents: "bold@0+4 italic@5+2 underline@8+5 strikethrough@14+2 spoiler@17+2"},
		{mode: "MarkdownV2", in: "*unclosed", err: prefix + "Can't find end of Bold entity at byte offset 0"},
		{mode: "MarkdownV2", in: "🏟 🏟_abacaba", err: prefix + "Can't find end of Italic entity at byte offset 9"},
		{mode: "MarkdownV2", in: "🏟 🏟_abac * asd ", err: prefix + "Can't find end of Bold entity at byte offset 15"},
		{mode: "MarkdownV2", in: "*bold _italic bold_*", text: "bold italic bold", ents: "bold@0+16 italic@5+11"},
		{mode: "MarkdownV2", in: "[site](http://example.com)", text: "site", ents: "text_link@0+4=http://example.com/"},
		{mode: "MarkdownV2", in: "[site](http://example.com", err: prefix + "Can't find end of a URL at byte offset 7"},
		{mode: "MarkdownV2", in: "`a.b-c`", text: "a.b-c", ents: "code@0+5"},
		{mode: "MarkdownV2", in: "```go\nx := 1\n```", text: "x := 1", ents: "pre@0+6:go"},
		{mode: "MarkdownV2", in: "```\nraw\n```", text: "raw", ents: "pre@0+3"},
		{mode: "MarkdownV2", in: ">quoted\nplain", text: "quoted\nplain", ents: "blockquote@0+6"},
		{mode: "MarkdownV2", in: "💧 *x*", text: "💧 x", ents: "bold@3+1"},
		{mode: "MarkdownV2", in: "  *x*  \n", text: "x", ents: "bold@0+1"},
		{mode: "MarkdownV2", in: `end\`, text: `end\`},
		{mode: "MarkdownV2", in: "|pipe", err: prefix + `Character '|' is reserved and must be escaped with the preceding '\'`},

		// HTML
		{mode: "HTML", in: "<b>bold</b> &lt;tag&gt; &amp; &#127775;", text: "bold <tag> & 🌟", ents: "bold@0+4"},
		{mode: "HTML", in: "a < b", err: prefix + `Unsupported start tag "" at byte offset 2`},
		{mode: "HTML", in: "<b>x", err: prefix + `Can't find end tag corresponding to start tag "b"`},
		{mode: "HTML", in: "<b>x</i>", err: prefix + `Unmatched end tag at byte offset 4, expected "</b>", found "</i>"`},
		{mode: "HTML", in: "x</b>", err: prefix + "Unexpected end tag at byte offset 1"},
		{mode: "HTML", in: "<foo>x</foo>", err: prefix + `Unsupported start tag "foo" at byte offset 0`},
		{mode: "HTML", in: `<span class="x">a</span>`, err: prefix + `Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{mode: "HTML", in: `<a href="https://example.com/x?a=1&amp;b=2">link</a>`, text: "link", ents: "text_link@0+4=https://example.com/x?a=1&b=2"},
		{mode: "HTML", in: `<pre><code class="language-go">x := 1</code></pre>`, text: "x := 1", ents: "pre@0+6:go"},
		{mode: "HTML", in: "<i>a</i> <s>b</s> <u>c</u> <tg-spoiler>d</tg-spoiler> <code>e</code>", text: "a b c d e",
			ents: "italic@0+1 strikethrough@2+1 underline@4+1 spoiler@6+1 code@8+1"},
		{mode: "html", in: "2 > 1", text: "2 > 1"},

		// legacy Markdown
		{mode: "Markdown", in: "*bold* and _it_", text: "bold and it", ents: "bold@0+4 italic@9+2"},
		{mode: "Markdown", in: "snake_case", err: prefix + "Can't find end of the entity starting at byte offset 5"},
		{mode: "Markdown", in: `snake\_case.`, text: "snake_case."},
		{mode: "Markdown", in: "[site](example.com)", text: "site", ents: "text_link@0+4=http://example.com/"},

		// no parse mode: what Telegram marks up by itself
		{in: "/start@test_bot hi https://example.com/a. #tag @someuser a/b", text: "/start@test_bot hi https://example.com/a. #tag @someuser a/b",
			ents: "bot_command@0+15 url@19+21 hashtag@42+4 mention@47+9"},
		{in: "*not bold*. ", text: "*not bold*."},
		{mode: "Markdown3", in: "x", err: "Bad Request: unsupported parse_mode"},
		{in: "bad \xff utf8", err: "Bad Request: strings must be encoded in UTF-8"},
	} {
		t.Run(tc.mode+":"+tc.in, func(t *testing.T) {
			text, ents, err := formatText(tc.in, tc.mode)
			if tc.err != "" {
				if err == nil || err.Description != tc.err || err.Code != 400 {
					t.Fatalf("got %q %v %+v, want error %q", text, entStr(ents), err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %q", err.Description)
			}
			if text != tc.text || entStr(ents) != tc.ents {
				t.Fatalf("got %q [%s], want %q [%s]", text, entStr(ents), tc.text, tc.ents)
			}
		})
	}
}

func TestParseReplyMarkup(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{in: `{`, err: "Bad Request: can't parse reply keyboard markup JSON object"},
		{in: `[]`, err: "Bad Request: object expected as reply markup"},
		{in: `{"inline_keyboard":[[{"text":"a"}]]}`, err: "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"},
		{in: `{"inline_keyboard":[[{"text":"a","callback_data":""}]]}`, err: "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"},
		{in: `{"inline_keyboard":[[{"callback_data":"x"}]]}`, err: `Bad Request: can't parse inline keyboard button: Can't find field "text"`},
		{in: `{"inline_keyboard":[{"text":"a"}]}`, err: `Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays`},
		{in: `{"keyboard":[["a", 5]]}`, err: "Bad Request: can't parse keyboard button: KeyboardButton must be a String or an Object"},
		{in: `{"keyboard":[["a"]],"resize_keyboard":"yes"}`, err: `Bad Request: field "resize_keyboard" of the ReplyKeyboardMarkup must be of the type Boolean`},
		{in: `{"inline_keyboard":[]}`},
		{in: `{"remove_keyboard":true}`},
	} {
		m, err := parseReplyMarkup(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: error %q", tc.in, err.Description)
		case tc.err != "" && (err == nil || err.Description != tc.err):
			t.Errorf("%s: got %+v %+v, want %q", tc.in, m, err, tc.err)
		}
	}
	m, _ := parseReplyMarkup(`{"keyboard":[["Report",{"text":"Share phone","request_contact":true}]],"one_time_keyboard":true}`)
	if b := m.KeyboardButtons(); len(b) != 2 || b[0].Text != "Report" || !b[1].RequestContact || !m.OneTimeKeyboard {
		t.Fatalf("keyboard = %+v", m)
	}
	if m, _ := parseReplyMarkup(`{"inline_keyboard":[]}`); m != nil {
		t.Fatalf("an empty inline keyboard is no markup, got %+v", m)
	}
}
