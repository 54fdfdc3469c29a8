package classify

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/aftersales/aftersales/casework"
)

// Model is a trained linear classifier (multinomial logistic regression)
// over a text's features (see features.go), with two heads: one over every
// (category, subcategory) pair, which gives both — the category whose pairs
// together are likeliest, then its likeliest subcategory — and one over the
// three urgencies, which Thresholds turn into a decision that favours
// recall: a text is urgent when P(urgent) reaches Thresholds.Urgent, else a
// major complaint when P(major_complaint) reaches Thresholds.Major.
//
// A model carries its lexicon (the rules whose scores and signals are among
// its features), so a model file is whole: replace it, and its lexicon comes
// with it. Train makes one; the one embedded in the binary (model.bin.gz) is
// trained from classify/corpus by
//
//	go run ./cmd/aftersales classify train -o classify/model.bin.gz classify/corpus/*.jsonl
//
// A Model is read-only and safe for concurrent use.
type Model struct {
	Meta    ModelMeta
	lexicon *Matcher
	rules   []byte // the lexicon as JSON, as it was given to Train

	pairs  []pair
	index  map[uint64]int32
	hashes []uint64  // by index
	idf    []float32 // by index: an n-gram's inverse document frequency
	w      []float32 // len(hashes) × classes, row by row
	bias   []float32 // classes
}

// ModelMeta describes a model: what it was trained on and how it decides.
type ModelMeta struct {
	Format int `json:"format"`
	// Pairs are the (category, subcategory) classes, "category/subcategory".
	Pairs     []string           `json:"pairs"`
	Urgencies []casework.Urgency `json:"urgencies"`
	// Thresholds turn the urgency head's probabilities into a decision.
	Thresholds Thresholds `json:"thresholds"`
	// Corpus is the SHA-256 of the training texts as Train read them, in
	// hex; Examples how many there were.
	Corpus   string       `json:"corpus"`
	Examples int          `json:"examples"`
	Options  TrainOptions `json:"options"`
	// CrossValidation is the k-fold figure the thresholds were chosen on.
	CrossValidation *Report `json:"cross_validation,omitempty"`
}

// Thresholds are the probabilities from which a text is urgent or a major
// complaint.
type Thresholds struct {
	Urgent float64 `json:"urgent"`
	Major  float64 `json:"major"`
}

const modelMagic = "aftersales-model"

const modelFormat = 1

//go:embed model.bin.gz
var embeddedModel []byte

// DefaultModel returns the model embedded in the binary, read once.
var DefaultModel = sync.OnceValue(func() *Model {
	m, err := ReadModel(bytes.NewReader(embeddedModel))
	if err != nil {
		panic("classify: embedded model.bin.gz: " + err.Error())
	}
	return m
})

// classes is the number of outputs of a model: its pairs, then the urgencies.
func (m *Model) classes() int { return len(m.pairs) + len(casework.Urgencies) }

// WriteTo writes m, gzip-compressed: a magic line, the meta and the lexicon
// as JSON, the feature hashes and their inverse document frequencies, and
// the weights quantised to 16 bits.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, _ := gzip.NewWriterLevel(cw, gzip.BestCompression)
	bw := bufio.NewWriter(zw)
	meta, err := json.Marshal(m.Meta)
	if err != nil {
		return cw.n, err
	}
	le := binary.LittleEndian
	put32 := func(v uint32) { bw.Write(le.AppendUint32(nil, v)) }
	bw.WriteString(modelMagic + "\n")
	put32(uint32(len(meta)))
	bw.Write(meta)
	put32(uint32(len(m.rules)))
	bw.Write(m.rules)
	put32(uint32(len(m.hashes)))
	for _, h := range m.hashes {
		bw.Write(le.AppendUint64(nil, h))
	}
	for _, x := range m.idf {
		put32(math.Float32bits(x))
	}
	var top float32
	for _, x := range m.w {
		top = max(top, float32(math.Abs(float64(x))))
	}
	scale := top / math.MaxInt16
	if scale == 0 {
		scale = 1
	}
	put32(math.Float32bits(scale))
	for _, b := range m.bias {
		put32(math.Float32bits(b))
	}
	for _, x := range m.w {
		bw.Write(le.AppendUint16(nil, uint16(int16(math.Round(float64(x/scale))))))
	}
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	if err := zw.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// maxModelBytes bounds what ReadModel inflates: a model is a few megabytes.
const maxModelBytes = 256 << 20

// ReadModel reads a model written by WriteTo.
func ReadModel(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("classify: read model: %w", err)
	}
	br := bufio.NewReader(io.LimitReader(zr, maxModelBytes))
	bad := func(what string, err error) (*Model, error) {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("classify: read model: %s: %w", what, err)
	}
	magic, err := br.ReadString('\n')
	if err != nil || magic != modelMagic+"\n" {
		return nil, errors.New("classify: read model: not an aftersales model file")
	}
	le := binary.LittleEndian
	var b8 [8]byte
	get32 := func() (uint32, error) {
		_, err := io.ReadFull(br, b8[:4])
		return le.Uint32(b8[:4]), err
	}
	blob := func(limit uint32) ([]byte, error) {
		n, err := get32()
		if err != nil {
			return nil, err
		}
		if n > limit {
			return nil, fmt.Errorf("%d bytes is too long", n)
		}
		p := make([]byte, n)
		_, err = io.ReadFull(br, p)
		return p, err
	}
	m := &Model{}
	metaJSON, err := blob(16 << 20)
	if err != nil {
		return bad("meta", err)
	}
	if err := json.Unmarshal(metaJSON, &m.Meta); err != nil {
		return bad("meta", err)
	}
	if m.Meta.Format != modelFormat {
		return nil, fmt.Errorf("classify: read model: format %d, this version reads %d: retrain it", m.Meta.Format, modelFormat)
	}
	for _, p := range m.Meta.Pairs {
		c, sub, _ := strings.Cut(p, "/")
		cat := casework.Category(c)
		if !cat.Valid() || !casework.Subcategory(sub).Valid(cat) {
			return nil, fmt.Errorf("classify: read model: unknown class %q: retrain it", p)
		}
		m.pairs = append(m.pairs, pair{category: cat, subcategory: casework.Subcategory(sub), catIndex: slices.Index(casework.Categories, cat)})
	}
	if len(m.Meta.Urgencies) != len(casework.Urgencies) {
		return nil, errors.New("classify: read model: urgencies differ from this version's: retrain it")
	}
	for i, u := range m.Meta.Urgencies {
		if u != casework.Urgencies[i] {
			return nil, errors.New("classify: read model: urgencies differ from this version's: retrain it")
		}
	}
	if m.rules, err = blob(16 << 20); err != nil {
		return bad("lexicon", err)
	}
	lex, err := LoadRules(bytes.NewReader(m.rules))
	if err != nil {
		return bad("lexicon", err)
	}
	m.lexicon = NewMatcher(lex)
	n, err := get32()
	if err != nil {
		return bad("features", err)
	}
	k := m.classes()
	if uint64(n)*uint64(k)*2 > maxModelBytes {
		return bad("features", fmt.Errorf("%d features is too many", n))
	}
	m.hashes = make([]uint64, n)
	m.index = make(map[uint64]int32, n)
	for i := range m.hashes {
		if _, err := io.ReadFull(br, b8[:]); err != nil {
			return bad("features", err)
		}
		m.hashes[i] = le.Uint64(b8[:])
		m.index[m.hashes[i]] = int32(i)
	}
	m.idf = make([]float32, n)
	for i := range m.idf {
		bits, err := get32()
		if err != nil {
			return bad("features", err)
		}
		m.idf[i] = math.Float32frombits(bits)
	}
	sbits, err := get32()
	if err != nil {
		return bad("weights", err)
	}
	scale := math.Float32frombits(sbits)
	m.bias = make([]float32, k)
	for i := range m.bias {
		bits, err := get32()
		if err != nil {
			return bad("weights", err)
		}
		m.bias[i] = math.Float32frombits(bits)
	}
	raw := make([]byte, int(n)*k*2)
	if _, err := io.ReadFull(br, raw); err != nil {
		return bad("weights", err)
	}
	m.w = make([]float32, int(n)*k)
	for i := range m.w {
		m.w[i] = float32(int16(le.Uint16(raw[2*i:]))) * scale
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		return nil, errors.New("classify: read model: unexpected data after the weights")
	}
	return m, nil
}

// allPairs lists every (category, subcategory) in casework order.
func allPairs() []pair {
	var out []pair
	for ci, cat := range casework.Categories {
		for _, sub := range casework.Subcategories[cat] {
			out = append(out, pair{cat, sub, ci})
		}
	}
	return out
}

func (m *Model) lookup(h uint64) (int32, bool) {
	i, ok := m.index[h]
	return i, ok
}

// prediction is a model's output for one text.
type prediction struct {
	pair     []float32 // P(pair), by m.pairs
	urgency  []float32 // P(urgency), by casework.Urgencies
	lexicon  Result    // what the lexicon found
	decisive bool      // a decisive signal among it
	ngrams   int       // how many n-grams of the text the model knows
}

// predict runs m over text.
func (m *Model) predict(text string) prediction {
	var (
		ng    [512]uint64
		dense [32]valued
		idx   [512]int32
		val   [512]float32
	)
	ngrams, dv, lex, decisive := textFeatures(m.lexicon, text, ng[:0], dense[:0])
	v, known := vectorize(m.lookup, m.idf, ngrams, dv, sparse{idx[:0], val[:0]})
	k := m.classes()
	out := make([]float32, k)
	copy(out, m.bias)
	for j, i := range v.idx {
		x := v.val[j]
		row := m.w[int(i)*k : int(i)*k+k]
		for c, w := range row {
			out[c] += w * x
		}
	}
	np := len(m.pairs)
	softmax(out[:np])
	softmax(out[np:])
	return prediction{pair: out[:np], urgency: out[np:], lexicon: lex, decisive: decisive, ngrams: known}
}

func softmax(z []float32) {
	top := z[0]
	for _, x := range z {
		top = max(top, x)
	}
	var sum float64
	for i, x := range z {
		e := math.Exp(float64(x - top))
		z[i] = float32(e)
		sum += e
	}
	for i := range z {
		z[i] = float32(float64(z[i]) / sum)
	}
}
