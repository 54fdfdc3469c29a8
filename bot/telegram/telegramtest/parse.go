package telegramtest

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The parsers below follow the Bot API's own (tdlib's parse_markdown_v2,
// parse_markdown and parse_html): the same reserved characters, the same
// entity start/end rules and the same error texts, with byte offsets into the
// text the bot sent. What they leave out is listed in doc.go.

// rawEntity is an entity with byte offsets into the parsed (plain) text.
type rawEntity struct {
	typ   string
	start int
	end   int
	url   string
	lang  string
}

// formatText turns a text (or caption) and its parse_mode into the plain
// text the user sees and its entities, as the Bot API does: parse the markup,
// trim surrounding white space, add auto-detected entities (commands, URLs,
// mentions, hashtags). An error is the complete Bad Request.
func formatText(text, parseMode string) (string, []MessageEntity, *apiError) {
	if !utf8.ValidString(text) {
		return "", nil, badRequest("Strings must be encoded in UTF-8")
	}
	var (
		plain string
		ents  []rawEntity
		msg   string
	)
	switch strings.ToLower(strings.TrimSpace(parseMode)) {
	case "":
		plain = text
	case "markdownv2":
		plain, ents, msg = parseMarkdownV2(text)
	case "markdown":
		plain, ents, msg = parseMarkdownV1(text)
	case "html":
		plain, ents, msg = parseHTML(text)
	default:
		return "", nil, badRequest("Unsupported parse_mode")
	}
	if msg != "" {
		return "", nil, &apiError{Code: 400, Description: "Bad Request: can't parse entities: " + msg}
	}
	plain, ents = trimText(plain, ents)
	ents = append(ents, findEntities(plain, ents)...)
	return plain, toMessageEntities(plain, ents), nil
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isAlnumByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// tdTypeName is how tdlib names an entity type in its error messages.
func tdTypeName(typ, lang string) string {
	switch typ {
	case "bold":
		return "Bold"
	case "italic":
		return "Italic"
	case "underline":
		return "Underline"
	case "strikethrough":
		return "Strikethrough"
	case "spoiler":
		return "Spoiler"
	case "text_link":
		return "TextUrl"
	case "code":
		return "Code"
	case "pre":
		if lang != "" {
			return "PreCode"
		}
		return "Pre"
	case "custom_emoji":
		return "CustomEmoji"
	}
	return typ
}

func reservedError(c byte) string {
	return fmt.Sprintf("Character '%c' is reserved and must be escaped with the preceding '\\'", c)
}

// parseMarkdownV2 implements https://core.telegram.org/bots/api#markdownv2-style.
func parseMarkdownV2(text string) (string, []rawEntity, string) {
	at := func(i int) byte {
		if i < len(text) {
			return text[i]
		}
		return 0
	}
	type open struct {
		typ, arg string
		byteOff  int
		start    int
	}
	var (
		out        []byte
		ents       []rawEntity
		stack      []open
		quoteStart = -1
	)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\\' && at(i+1) > 0 && at(i+1) <= 126 {
			i++
			out = append(out, text[i])
			continue
		}
		inCode := len(stack) > 0 && (stack[len(stack)-1].typ == "code" || stack[len(stack)-1].typ == "pre")
		if !inCode {
			lineStart := i == 0 || text[i-1] == '\n'
			if lineStart && c == '>' {
				if quoteStart < 0 {
					quoteStart = len(out)
				}
				continue
			}
			if lineStart && c == '*' && at(i+1) == '*' && at(i+2) == '>' { // expandable block quote
				if quoteStart < 0 {
					quoteStart = len(out)
				}
				i += 2
				continue
			}
			if c == '\n' && quoteStart >= 0 && at(i+1) != '>' {
				if len(out) > quoteStart {
					ents = append(ents, rawEntity{typ: "blockquote", start: quoteStart, end: len(out)})
				}
				quoteStart = -1
			}
		}
		reserved := "_*[]()~`>#+-=|{}.!"
		if inCode {
			reserved = "`"
		}
		if strings.IndexByte(reserved, c) < 0 {
			out = append(out, c)
			continue
		}
		isEnd := false
		if len(stack) > 0 {
			switch stack[len(stack)-1].typ {
			case "bold":
				isEnd = c == '*'
			case "italic":
				isEnd = c == '_' && at(i+1) != '_'
			case "code":
				isEnd = c == '`'
			case "pre":
				isEnd = c == '`' && at(i+1) == '`' && at(i+2) == '`'
			case "text_link", "custom_emoji":
				isEnd = c == ']'
			case "underline":
				isEnd = c == '_' && at(i+1) == '_'
			case "strikethrough":
				isEnd = c == '~'
			case "spoiler":
				isEnd = c == '|' && at(i+1) == '|'
			}
		}
		if !isEnd {
			o := open{byteOff: i}
			switch c {
			case '_':
				if at(i+1) == '_' {
					o.typ = "underline"
					i++
				} else {
					o.typ = "italic"
				}
			case '*':
				o.typ = "bold"
			case '~':
				o.typ = "strikethrough"
			case '|':
				if at(i+1) != '|' {
					return "", nil, reservedError(c)
				}
				i++
				o.typ = "spoiler"
			case '[':
				o.typ = "text_link"
			case '`':
				if at(i+1) == '`' && at(i+2) == '`' {
					i += 3
					o.typ = "pre"
					langEnd := i
					for langEnd < len(text) && !isSpaceByte(text[langEnd]) && text[langEnd] != '`' {
						langEnd++
					}
					if i != langEnd && langEnd < len(text) && text[langEnd] != '`' {
						o.arg = text[i:langEnd]
						i = langEnd
					}
					if at(i) == '\n' || at(i) == '\r' {
						if (at(i+1) == '\n' || at(i+1) == '\r') && at(i) != at(i+1) {
							i += 2
						} else {
							i++
						}
					}
					i--
				} else {
					o.typ = "code"
				}
			case '!':
				if at(i+1) != '[' {
					return "", nil, reservedError(c)
				}
				i++
				o.typ = "custom_emoji"
			default:
				return "", nil, reservedError(c)
			}
			o.start = len(out)
			stack = append(stack, o)
			continue
		}

		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		e := rawEntity{typ: o.typ, start: o.start, end: len(out)}
		skip := len(out) == o.start
		switch o.typ {
		case "underline", "spoiler":
			i++
		case "pre":
			i += 2
			e.lang = o.arg
		case "text_link", "custom_emoji":
			var link string
			if at(i+1) != '(' {
				if o.typ == "custom_emoji" {
					return "", nil, "Custom emoji entity must contain a tg://emoji URL"
				}
				link = string(out[o.start:])
			} else {
				i += 2
				urlBegin := i
				var b []byte
				for i < len(text) && text[i] != ')' {
					if text[i] == '\\' && at(i+1) > 0 && at(i+1) <= 126 {
						b = append(b, text[i+1])
						i += 2
						continue
					}
					b = append(b, text[i])
					i++
				}
				if at(i) != ')' {
					return "", nil, fmt.Sprintf("Can't find end of a URL at byte offset %d", urlBegin)
				}
				link = string(b)
			}
			if o.typ == "custom_emoji" {
				id, ok := strings.CutPrefix(link, "tg://emoji?id=")
				if _, err := strconv.ParseInt(id, 10, 64); !ok || err != nil {
					return "", nil, "Custom emoji entity must contain a tg://emoji URL"
				}
				e.url = link
			} else if norm, ok := checkLink(link); ok {
				e.url = norm
			} else {
				skip = true
			}
		}
		if !skip {
			ents = append(ents, e)
		}
	}
	if len(stack) > 0 {
		o := stack[len(stack)-1]
		return "", nil, fmt.Sprintf("Can't find end of %s entity at byte offset %d", tdTypeName(o.typ, o.arg), o.byteOff)
	}
	if quoteStart >= 0 && len(out) > quoteStart {
		ents = append(ents, rawEntity{typ: "blockquote", start: quoteStart, end: len(out)})
	}
	return string(out), ents, ""
}

// parseMarkdownV1 implements the legacy "Markdown" parse mode.
func parseMarkdownV1(text string) (string, []rawEntity, string) {
	at := func(i int) byte {
		if i < len(text) {
			return text[i]
		}
		return 0
	}
	var (
		out  []byte
		ents []rawEntity
	)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\\' && (at(i+1) == '_' || at(i+1) == '*' || at(i+1) == '`' || at(i+1) == '[') {
			i++
			out = append(out, text[i])
			continue
		}
		if c != '_' && c != '*' && c != '`' && c != '[' {
			out = append(out, c)
			continue
		}
		begin := i
		end := c
		if c == '[' {
			end = ']'
		}
		i++
		isPre, lang := false, ""
		if c == '`' && at(i) == '`' && at(i+1) == '`' {
			i += 2
			isPre = true
			langEnd := i
			for langEnd < len(text) && !isSpaceByte(text[langEnd]) && text[langEnd] != '`' {
				langEnd++
			}
			if i != langEnd && langEnd < len(text) && text[langEnd] != '`' {
				lang = text[i:langEnd]
				i = langEnd
			}
			if at(i) == '\n' || at(i) == '\r' {
				if (at(i+1) == '\n' || at(i+1) == '\r') && at(i) != at(i+1) {
					i += 2
				} else {
					i++
				}
			}
		}
		start := len(out)
		for i < len(text) && (text[i] != end || (isPre && !(at(i+1) == '`' && at(i+2) == '`'))) {
			out = append(out, text[i])
			i++
		}
		if i >= len(text) {
			return "", nil, fmt.Sprintf("Can't find end of the entity starting at byte offset %d", begin)
		}
		e := rawEntity{start: start, end: len(out)}
		switch c {
		case '_':
			e.typ = "italic"
		case '*':
			e.typ = "bold"
		case '`':
			if isPre {
				e.typ, e.lang = "pre", lang
			} else {
				e.typ = "code"
			}
		case '[':
			link := string(out[start:])
			if at(i+1) == '(' {
				i += 2
				urlBegin := i
				for i < len(text) && text[i] != ')' {
					i++
				}
				if i >= len(text) {
					return "", nil, fmt.Sprintf("Can't find end of a URL at byte offset %d", urlBegin)
				}
				link = text[urlBegin:i]
			}
			if norm, ok := checkLink(link); ok {
				e.typ, e.url = "text_link", norm
			}
		}
		if e.typ != "" && e.end > e.start {
			ents = append(ents, e)
		}
		if isPre {
			i += 2
		}
	}
	return string(out), ents, ""
}

var htmlTags = map[string]string{
	"b": "bold", "strong": "bold",
	"i": "italic", "em": "italic",
	"u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"span": "spoiler", "tg-spoiler": "spoiler",
	"a":          "text_link",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
	"tg-emoji":   "custom_emoji",
}

// decodeHTMLEntity decodes the character reference at the start of s
// (&lt; &gt; &amp; &quot; &#N; &#xN;) and reports its length, 0 if there is
// none (then '&' is an ordinary character, as in the Bot API).
func decodeHTMLEntity(s string) (rune, int) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 12 {
		return 0, 0
	}
	name := s[1:end]
	switch name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	}
	if name[0] != '#' {
		return 0, 0
	}
	var (
		n   uint64
		err error
	)
	if len(name) > 1 && (name[1] == 'x' || name[1] == 'X') {
		n, err = strconv.ParseUint(name[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(name[1:], 10, 32)
	}
	if err != nil || n == 0 || n > unicode.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
		return 0, 0
	}
	return rune(n), end + 1
}

func decodeHTMLEntities(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '&' {
			if r, l := decodeHTMLEntity(s[i:]); l > 0 {
				b.WriteRune(r)
				i += l - 1
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseHTML implements https://core.telegram.org/bots/api#html-style.
func parseHTML(text string) (string, []rawEntity, string) {
	type open struct {
		tag, arg string
		start    int
	}
	var (
		out   []byte
		ents  []rawEntity
		stack []open
		n     = len(text)
	)
	for i := 0; i < n; i++ {
		c := text[i]
		if c == '&' {
			if r, l := decodeHTMLEntity(text[i:]); l > 0 {
				out = utf8.AppendRune(out, r)
				i += l - 1
				continue
			}
			out = append(out, c)
			continue
		}
		if c != '<' {
			out = append(out, c)
			continue
		}
		begin := i
		i++
		if i >= n || text[i] != '/' { // a start tag
			j := i
			for j < n && (isAlnumByte(text[j]) || text[j] == '-') {
				j++
			}
			tag := strings.ToLower(text[i:j])
			if _, ok := htmlTags[tag]; !ok {
				return "", nil, fmt.Sprintf("Unsupported start tag \"%s\" at byte offset %d", tag, begin)
			}
			i = j
			attrs := map[string]string{}
			for {
				for i < n && isSpaceByte(text[i]) {
					i++
				}
				if i >= n {
					return "", nil, fmt.Sprintf("Unclosed start tag at byte offset %d", begin)
				}
				if text[i] == '>' {
					break
				}
				k := i
				for i < n && (isAlnumByte(text[i]) || text[i] == '-' || text[i] == '_') {
					i++
				}
				name := strings.ToLower(text[k:i])
				if name == "" {
					return "", nil, fmt.Sprintf("Empty attribute name in the tag \"%s\" at byte offset %d", tag, k)
				}
				for i < n && isSpaceByte(text[i]) {
					i++
				}
				if i >= n {
					return "", nil, fmt.Sprintf("Unclosed start tag at byte offset %d", begin)
				}
				if text[i] != '=' {
					attrs[name] = ""
					continue
				}
				i++
				for i < n && isSpaceByte(text[i]) {
					i++
				}
				if i >= n {
					return "", nil, fmt.Sprintf("Unclosed start tag at byte offset %d", begin)
				}
				var val string
				if q := text[i]; q == '"' || q == '\'' {
					i++
					vs := i
					for i < n && text[i] != q {
						i++
					}
					if i >= n {
						return "", nil, fmt.Sprintf("Unclosed start tag at byte offset %d", begin)
					}
					val = text[vs:i]
					i++
				} else {
					vs := i
					for i < n && !isSpaceByte(text[i]) && text[i] != '>' {
						i++
					}
					val = text[vs:i]
				}
				attrs[name] = decodeHTMLEntities(val)
			}
			o := open{tag: tag, start: len(out)}
			switch tag {
			case "a":
				o.arg = attrs["href"]
			case "code":
				if cl, ok := strings.CutPrefix(attrs["class"], "language-"); ok {
					o.arg = cl
				}
			case "span":
				if attrs["class"] != "tg-spoiler" {
					return "", nil, fmt.Sprintf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
				}
			case "tg-emoji":
				if _, err := strconv.ParseInt(attrs["emoji-id"], 10, 64); err != nil {
					return "", nil, "Custom emoji entity must contain a valid custom emoji identifier"
				}
				o.arg = "tg://emoji?id=" + attrs["emoji-id"]
			case "blockquote":
				if _, ok := attrs["expandable"]; ok {
					o.arg = "expandable"
				}
			}
			stack = append(stack, o)
			continue
		}
		// an end tag
		i++
		j := i
		for j < n && (isAlnumByte(text[j]) || text[j] == '-') {
			j++
		}
		tag := strings.ToLower(text[i:j])
		k := j
		for k < n && isSpaceByte(text[k]) {
			k++
		}
		if k >= n || text[k] != '>' {
			return "", nil, fmt.Sprintf("Unclosed end tag at byte offset %d", begin)
		}
		if len(stack) == 0 {
			return "", nil, fmt.Sprintf("Unexpected end tag at byte offset %d", begin)
		}
		top := stack[len(stack)-1]
		if tag != "" && tag != top.tag {
			return "", nil, fmt.Sprintf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.tag, tag)
		}
		stack = stack[:len(stack)-1]
		i = k
		if len(out) == top.start {
			continue
		}
		e := rawEntity{typ: htmlTags[top.tag], start: top.start, end: len(out)}
		switch top.tag {
		case "a":
			link := top.arg
			if link == "" {
				link = string(out[top.start:])
			}
			norm, ok := checkLink(link)
			if !ok {
				continue
			}
			e.url = norm
		case "code":
			e.lang = top.arg
		case "pre":
			// <pre><code class="language-x">…</code></pre> is one pre entity with a language.
			if l := len(ents); l > 0 && ents[l-1].typ == "code" && ents[l-1].start == e.start && ents[l-1].end == e.end {
				e.lang = ents[l-1].lang
				ents = ents[:l-1]
			}
		case "blockquote":
			if top.arg == "expandable" {
				e.typ = "expandable_blockquote"
			}
		case "tg-emoji":
			e.url = top.arg
		}
		ents = append(ents, e)
	}
	if len(stack) > 0 {
		return "", nil, fmt.Sprintf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].tag)
	}
	// A code entity outside pre carries no language.
	for k := range ents {
		if ents[k].typ == "code" {
			ents[k].lang = ""
		}
	}
	return string(out), ents, ""
}

// checkLink accepts the URLs the Bot API accepts in a text link (http,
// https, tg, ton; a bare domain gets http://) and normalises them as it does
// (an empty path becomes "/").
func checkLink(link string) (string, bool) {
	link = strings.TrimSpace(link)
	if link == "" || strings.ContainsAny(link, " \t\n") {
		return "", false
	}
	lower := strings.ToLower(link)
	for _, p := range []string{"tg:", "ton:", "tonsite:"} {
		if strings.HasPrefix(lower, p) {
			return link, true
		}
	}
	if !strings.Contains(link, "://") {
		link = "http://" + link
	}
	u, err := url.Parse(link)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), true
}

// trimText trims white space around the text, as the Bot API does, and
// clips the entities to what is left.
func trimText(s string, ents []rawEntity) (string, []rawEntity) {
	lead := 0
	for lead < len(s) && isSpaceByte(s[lead]) {
		lead++
	}
	end := len(s)
	for end > lead && isSpaceByte(s[end-1]) {
		end--
	}
	var kept []rawEntity
	for _, e := range ents {
		e.start = min(max(e.start, lead), end) - lead
		e.end = min(max(e.end, lead), end) - lead
		if e.end > e.start {
			kept = append(kept, e)
		}
	}
	return s[lead:end], kept
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// findEntities detects what Telegram marks up by itself in any text: bot
// commands, http(s) URLs, @mentions and #hashtags, outside code, pre and
// text links.
func findEntities(s string, explicit []rawEntity) []rawEntity {
	covered := func(start, end int) bool {
		for _, e := range explicit {
			if (e.typ == "code" || e.typ == "pre" || e.typ == "text_link") && start < e.end && e.start < end {
				return true
			}
		}
		return false
	}
	prevRune := func(i int) rune {
		if i == 0 {
			return ' '
		}
		r, _ := utf8.DecodeLastRuneInString(s[:i])
		return r
	}
	var found []rawEntity
	add := func(typ string, start, end int) {
		if !covered(start, end) {
			found = append(found, rawEntity{typ: typ, start: start, end: end})
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '/' && !isWordRune(prevRune(i)) && prevRune(i) != '/':
			j := i + 1
			for j < len(s) && j-i <= 64 && (isAlnumByte(s[j]) || s[j] == '_') {
				j++
			}
			if j > i+1 {
				if j < len(s) && s[j] == '@' {
					k := j + 1
					for k < len(s) && (isAlnumByte(s[k]) || s[k] == '_') {
						k++
					}
					if k-j-1 >= 3 && k-j-1 <= 32 {
						j = k
					}
				}
				add("bot_command", i, j)
				i = j
				continue
			}
		case c == '@' && !isWordRune(prevRune(i)):
			j := i + 1
			for j < len(s) && (isAlnumByte(s[j]) || s[j] == '_') {
				j++
			}
			if l := j - i - 1; l >= 5 && l <= 32 {
				add("mention", i, j)
				i = j
				continue
			}
		case c == '#' && !isWordRune(prevRune(i)):
			j := i + 1
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if !isWordRune(r) {
					break
				}
				j += size
			}
			if j > i+1 {
				add("hashtag", i, j)
				i = j
				continue
			}
		case (c == 'h' || c == 'H') && !isWordRune(prevRune(i)):
			lower := strings.ToLower(s[i:min(len(s), i+8)])
			if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
				j := i
				for j < len(s) && !isSpaceByte(s[j]) {
					j++
				}
				for j > i && strings.IndexByte(".,:;!?'\")", s[j-1]) >= 0 {
					if s[j-1] == ')' && strings.Count(s[i:j], "(") >= strings.Count(s[i:j], ")") {
						break
					}
					j--
				}
				if _, ok := checkLink(s[i:j]); ok && j-i > len("https://") {
					add("url", i, j)
					i = j
					continue
				}
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return found
}

// utf16Len is the length of s in UTF-16 code units, the Bot API's measure
// of text length and entity offsets.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func toMessageEntities(s string, ents []rawEntity) []MessageEntity {
	if len(ents) == 0 {
		return nil
	}
	out := make([]MessageEntity, 0, len(ents))
	for _, e := range ents {
		off := utf16Len(s[:e.start])
		out = append(out, MessageEntity{
			Type:     e.typ,
			Offset:   off,
			Length:   utf16Len(s[e.start:e.end]),
			URL:      e.url,
			Language: e.lang,
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Offset != out[j].Offset {
			return out[i].Offset < out[j].Offset
		}
		return out[i].Length > out[j].Length
	})
	return out
}
