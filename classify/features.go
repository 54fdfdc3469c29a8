package classify

import (
	"math"
	"slices"
	"unicode/utf8"
)

// A text's features, as the Model sees them:
//
//   - Chinese (and any other non-ASCII letters): every character, every two
//     and every three characters in a row within a clause ("漏", "漏水",
//     "往下淌"), so that words nobody listed still count, typos and all;
//   - English (ASCII words, lower-cased and stemmed by appendCanonical):
//     every word, every two words in a row, and the character trigrams of
//     each word with its boundaries ("^le", "lea", "eak", "ak$"), which
//     catch misspellings and compounds; all-digit words (room numbers,
//     dates) are one feature, "a number";
//   - the lexicon (the Matcher of the model's rules): one feature per
//     (category, subcategory) a rule scores, valued by its score, and one
//     per urgency signal found ("gas_smell", "complaint_media");
//   - the length of the text, by powers of two of its characters.
//
// The n-grams of a text are counted once each, weighed by how rare they are
// in the corpus (inverse document frequency) and scaled to length 1
// together, so that long and short texts compare; the lexicon and length
// features weigh the same whatever the length.
// Features are hashed to 64 bits (FNV-1a) with a byte naming their kind;
// a model keeps those it saw in enough training texts.

// Feature kinds: the first byte hashed.
const (
	kindChar   = 'z' // a Chinese character n-gram
	kindWord   = 'w' // an English word
	kindBigram = 'b' // two English words
	kindTri    = 'c' // an English character trigram
	kindNumber = 'n' // a number
	kindRule   = 'r' // a lexicon rule's (category, subcategory)
	kindSignal = 's' // a lexicon signal
	kindLength = 'l' // the length bucket
)

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashStart(kind byte) uint64 { return (fnvOffset ^ uint64(kind)) * fnvPrime }

func hashBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

func hashString(kind byte, s string) uint64 {
	h := hashStart(kind)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// valued is a feature with its value.
type valued struct {
	hash  uint64
	value float32
}

// textFeatures returns the features of text: ngrams (hashes, possibly
// repeated, in text order) and dense (the lexicon and length features with
// their values). m is the lexicon; nil means none. The signals the lexicon
// found are returned too, as Match reports them, and whether one of them is
// decisive.
func textFeatures(m *Matcher, text string, ngrams []uint64, dense []valued) ([]uint64, []valued, Result, bool) {
	if len(text) > MaxTextBytes {
		text = text[:MaxTextBytes]
	}
	var buf [2048]byte
	t := appendCanonical(buf[:0], text)
	ngrams = appendNgrams(ngrams, t)

	var (
		lex      Result
		decisive bool
	)
	if m != nil {
		var pairScore []float64
		lex, pairScore, decisive = m.match(text)
		for i, s := range pairScore {
			if s > 0 {
				p := m.pairs[i]
				dense = append(dense, valued{hashString(kindRule, string(p.category)+"/"+string(p.subcategory)), float32(math.Min(s, 4) / 2)})
			}
		}
		for _, code := range lex.Signals {
			dense = append(dense, valued{hashString(kindSignal, code), 1})
		}
	}
	n := utf8.RuneCountInString(text)
	bucket := 0
	for n > 1 && bucket < 12 {
		n >>= 1
		bucket++
	}
	dense = append(dense, valued{hashStart(kindLength) ^ uint64(bucket), 1})
	return ngrams, dense, lex, decisive
}

// appendNgrams appends the n-gram hashes of the canonical text t.
func appendNgrams(dst []uint64, t []byte) []uint64 {
	var prevWord []byte // the English word before, in this clause
	var r1, r2 rune     // the two Chinese characters before, in this run
	for i := 0; i < len(t); {
		c := t[i]
		switch {
		case c == ' ':
			i++
		case c == '|':
			prevWord, r1, r2 = nil, 0, 0
			i++
		case c < utf8.RuneSelf: // an ASCII word, up to the next space
			j := i
			for j < len(t) && t[j] != ' ' {
				j++
			}
			w := t[i:j]
			i = j
			r1, r2 = 0, 0
			if isNumber(w) {
				dst = append(dst, hashStart(kindNumber))
				prevWord = nil
				continue
			}
			dst = append(dst, hashBytes(hashStart(kindWord), w))
			if prevWord != nil {
				h := hashBytes(hashStart(kindBigram), prevWord)
				h = (h ^ ' ') * fnvPrime
				dst = append(dst, hashBytes(h, w))
			}
			prevWord = w
			if len(w) >= 2 {
				// Trigrams of ^w$.
				var a, b byte = '^', w[0]
				for k := 1; k <= len(w); k++ {
					var c byte = '$'
					if k < len(w) {
						c = w[k]
					}
					h := hashStart(kindTri)
					h = (h ^ uint64(a)) * fnvPrime
					h = (h ^ uint64(b)) * fnvPrime
					h = (h ^ uint64(c)) * fnvPrime
					dst = append(dst, h)
					a, b = b, c
				}
			}
		default: // a Chinese character
			r, size := utf8.DecodeRune(t[i:])
			i += size
			prevWord = nil
			h := hashStart(kindChar)
			h1 := (h ^ uint64(r)) * fnvPrime
			dst = append(dst, h1)
			if r2 != 0 {
				h2 := (((h ^ uint64(r2)) * fnvPrime) ^ uint64(r)) * fnvPrime
				dst = append(dst, h2)
				if r1 != 0 {
					h3 := (((((h ^ uint64(r1)) * fnvPrime) ^ uint64(r2)) * fnvPrime) ^ uint64(r)) * fnvPrime
					dst = append(dst, h3)
				}
			}
			r1, r2 = r2, r
		}
	}
	return dst
}

func isNumber(w []byte) bool {
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(w) > 0
}

// sparse is a text's feature vector over a model's feature indices.
type sparse struct {
	idx []int32
	val []float32
}

// vectorize turns features into a vector over the indices index gives
// them, leaving out those it does not know: n-grams once each, weighed by
// their inverse document frequency idf (rare words say more than common
// ones) and scaled to length 1 together, dense features with their values.
// It returns how many n-grams it knew too.
func vectorize(index func(uint64) (int32, bool), idf []float32, ngrams []uint64, dense []valued, v sparse) (sparse, int) {
	v.idx, v.val = v.idx[:0], v.val[:0]
	for _, h := range ngrams {
		if i, ok := index(h); ok {
			v.idx = append(v.idx, i)
		}
	}
	slices.Sort(v.idx)
	v.idx = slices.Compact(v.idx)
	var norm float64
	for _, i := range v.idx {
		w := idf[i]
		v.val = append(v.val, w)
		norm += float64(w) * float64(w)
	}
	if norm > 0 {
		scale := float32(1 / math.Sqrt(norm))
		for j := range v.val {
			v.val[j] *= scale
		}
	}
	known := len(v.idx)
	for _, d := range dense { // distinct by construction
		if i, ok := index(d.hash); ok {
			v.idx = append(v.idx, i)
			v.val = append(v.val, d.value)
		}
	}
	return v, known
}
