package classify

import (
	"unicode"
	"unicode/utf8"
)

// appendCanonical appends the canonical form of s to dst. Texts and keywords
// are both canonicalised, so that matching a keyword is a plain substring
// search in the canonical text:
//
//   - letters are lower-cased and full-width ASCII (ＡＢＣ１２３，) is folded to ASCII;
//   - an ASCII word (letters, digits, inner apostrophes) is stemmed and written
//     with a space on each side: "Leaking!" → " leak | ", so an English keyword
//     " leak " only matches whole words, and "leaks", "leaked" match it too;
//   - sentence and clause punctuation, line breaks and emoji become a "|"
//     separator, which phrases and negation don't cross;
//   - other letters (Chinese) are kept as they are; whitespace and other
//     punctuation between them is dropped, so "外墙 渗水" matches "外墙渗水";
//   - invalid UTF-8 is treated like whitespace.
func appendCanonical(dst []byte, s string) []byte {
	word := -1 // start of the ASCII word being written, or -1
	endWord := func() {
		if word < 0 {
			return
		}
		dst = append(dst[:word], stem(dst[word:])...)
		dst = append(dst, ' ')
		word = -1
	}
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		r = fold(r)
		switch {
		case isWordByte(r) || r == '\'' && word >= 0 && i < len(s) && isWordByte(fold(rune(s[i]))):
			if word < 0 {
				if len(dst) == 0 || dst[len(dst)-1] != ' ' {
					dst = append(dst, ' ')
				}
				word = len(dst)
			}
			dst = append(dst, byte(r))
		case r == utf8.RuneError || unicode.IsSpace(r) && r != '\n' && r != '\r':
			endWord()
		case isSeparator(r):
			endWord()
			if n := len(dst); n >= 2 && dst[n-2] == '|' && dst[n-1] == ' ' {
				continue // collapse "!!!" and "。。。"
			}
			if len(dst) == 0 || dst[len(dst)-1] != ' ' {
				dst = append(dst, ' ')
			}
			dst = append(dst, '|', ' ')
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r):
			endWord()
			dst = utf8.AppendRune(dst, r)
		default: // other punctuation and symbols: a word boundary only
			endWord()
		}
	}
	endWord()
	return dst
}

// fold lower-cases r and folds full-width ASCII and typographic apostrophes.
func fold(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		r -= 0xFEE0
	case r == 0x3000: // ideographic space
		return ' '
	case r == '’' || r == '‘' || r == '`' || r == '´':
		return '\''
	}
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

func isWordByte(r rune) bool { return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' }

// isSeparator reports whether r ends a clause: phrases and negation don't
// reach across it.
func isSeparator(r rune) bool {
	switch r {
	case '\n', '\r', ',', '.', '!', '?', ';', ':', '。', '，', '！', '？', '；', '：', '、', '…', '｡', '､':
		return true
	}
	return unicode.Is(unicode.So, r) // emoji and pictographs
}

// stem strips common English inflections from a lower-case ASCII word in
// place, much like step 1 of Porter's stemmer: leaks, leaked, leaking → leak;
// dripping → drip; closes, closed, closing → close; switches → switch;
// flies → fly. It is deliberately crude: keywords go through the same
// function, so it only has to be consistent, not linguistically right, and it
// must not merge unrelated words (note ≠ not, tape ≠ tap). Words with an
// apostrophe (isn't) are left alone.
func stem(w []byte) []byte {
	if len(w) <= 3 {
		return w
	}
	for _, c := range w {
		if c == '\'' {
			return w
		}
	}
	has := func(suffix string) bool {
		return len(w) > len(suffix) && string(w[len(w)-len(suffix):]) == suffix
	}
	switch {
	case (has("ies") || has("ied")) && len(w) > 4:
		w[len(w)-3] = 'y'
		return w[:len(w)-2]
	case has("sses") || has("ches") || has("shes") || has("xes"):
		return w[:len(w)-2]
	case has("s") && !has("ss") && !has("us") && !has("is"):
		w = w[:len(w)-1] // and on: ceilings → ceiling → ceil
	}
	switch {
	case has("ing") && len(w) >= 6:
		return restoreE(w[:len(w)-3])
	case has("ed") && len(w) >= 5:
		return restoreE(w[:len(w)-2])
	}
	return w
}

// restoreE tidies a word whose -ing or -ed was stripped: a doubled final
// consonant is undoubled (dripp → drip, trapp → trap, but fall and hiss
// stay), and a short consonant-vowel-consonant stem gets its e back
// (clos → close, com → come, smok → smoke).
func restoreE(w []byte) []byte {
	n := len(w)
	last := w[n-1]
	switch {
	case n >= 3 && last == w[n-2] && !isVowel(last) && last != 'l' && last != 's' && last != 'z':
		return w[:n-1]
	case n <= 4 && n >= 3 && !isVowel(last) && last != 'w' && last != 'x' && last != 'y' &&
		isVowel(w[n-2]) && !isVowel(w[n-3]):
		return append(w, 'e')
	}
	return w
}

func isVowel(c byte) bool { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' }
