package classify

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/aftersales/aftersales/casework"
)

// Example is a labelled text: a line of the corpus (classify/corpus/*.jsonl,
// docs/labelling.md says how to label one).
type Example struct {
	Text        string               `json:"text"`
	Category    casework.Category    `json:"category"`
	Subcategory casework.Subcategory `json:"subcategory"`
	Urgency     casework.Urgency     `json:"urgency"`
}

// ReadExamples reads labelled texts, one JSON object per line; blank lines
// are skipped; name is for errors ("corpus/leaks.jsonl:12: …"). Every label
// is checked against casework.
func ReadExamples(r io.Reader, name string) ([]Example, error) {
	var out []Example
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e Example
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		switch {
		case e.Text == "":
			return nil, fmt.Errorf("%s:%d: no text", name, n)
		case !e.Category.Valid():
			return nil, fmt.Errorf("%s:%d: category %q is not one of %v", name, n, e.Category, casework.Categories)
		case !e.Subcategory.Valid(e.Category):
			return nil, fmt.Errorf("%s:%d: subcategory %q is not one of %v", name, n, e.Subcategory, casework.Subcategories[e.Category])
		case !e.Urgency.Valid():
			return nil, fmt.Errorf("%s:%d: urgency %q is not one of %v", name, n, e.Urgency, casework.Urgencies)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// CorpusDigest is the SHA-256 (hex) of examples as Train sees them: their
// texts and labels in order. A model's Meta.Corpus is the digest of what it
// was trained on.
func CorpusDigest(examples []Example) string {
	h := sha256.New()
	for _, e := range examples {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\n", e.Text, e.Category, e.Subcategory, e.Urgency)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TrainOptions tune Train; the zero value of a field means its default.
type TrainOptions struct {
	// Epochs over the corpus (default 12).
	Epochs int `json:"epochs"`
	// Rate is AdaGrad's learning rate (default 0.3).
	Rate float64 `json:"rate"`
	// L2 regularisation of the weights a text touches (default 1e-4).
	L2 float64 `json:"l2"`
	// MinCount is how many training texts an n-gram must occur in to be a
	// feature (default 2): rarer ones are noise and bloat the model.
	MinCount int `json:"min_count"`
	// Folds of the cross-validation the thresholds are chosen on (default 5).
	Folds int `json:"folds"`
	// UrgentRecall and MajorRecall are the shares of urgent texts and major
	// complaints the thresholds are chosen to catch in cross-validation
	// (defaults 0.96 and 0.92): a missed flood costs more than a false alarm.
	UrgentRecall float64 `json:"urgent_recall"`
	MajorRecall  float64 `json:"major_recall"`
	// Seed of the shuffles (default 1): the same corpus and options train
	// the same model.
	Seed uint64 `json:"seed"`
}

func (o TrainOptions) withDefaults() TrainOptions {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if o.Epochs == 0 {
		o.Epochs = 12
	}
	def(&o.Rate, 0.3)
	def(&o.L2, 1e-4)
	if o.MinCount == 0 {
		o.MinCount = 2
	}
	if o.Folds == 0 {
		o.Folds = 5
	}
	def(&o.UrgentRecall, 0.96)
	def(&o.MajorRecall, 0.92)
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// extracted is an example's features before they have indices.
type extracted struct {
	ngrams []uint64
	dense  []valued
	pair   int
	urg    int
}

// Train learns a model from examples with lexicon (the rules whose scores
// and signals are features; nil means the embedded rules.json). It first
// cross-validates (opts.Folds folds, run in parallel) to choose the urgency
// thresholds and to report how the model does on texts it has not seen,
// then trains on every example.
func Train(examples []Example, lexicon *Rules, opts TrainOptions) (*Model, error) {
	opts = opts.withDefaults()
	if lexicon == nil {
		lexicon = DefaultRules()
	}
	rulesJSON, err := json.Marshal(lexicon)
	if err != nil {
		return nil, err
	}
	if len(examples) < 2*opts.Folds {
		return nil, fmt.Errorf("classify: train: %d examples are too few", len(examples))
	}
	lex := NewMatcher(lexicon)
	pairs := allPairs()
	pairIndex := make(map[string]int, len(pairs))
	for i, p := range pairs {
		pairIndex[string(p.category)+"/"+string(p.subcategory)] = i
	}
	xs := make([]extracted, len(examples))
	for i, e := range examples {
		p, ok := pairIndex[string(e.Category)+"/"+string(e.Subcategory)]
		if !ok {
			return nil, fmt.Errorf("classify: train: example %d: unknown class %s/%s", i+1, e.Category, e.Subcategory)
		}
		u := slices.Index(casework.Urgencies, e.Urgency)
		if u < 0 {
			return nil, fmt.Errorf("classify: train: example %d: unknown urgency %q", i+1, e.Urgency)
		}
		ng, dense, _, _ := textFeatures(lex, e.Text, nil, nil)
		xs[i] = extracted{ngrams: ng, dense: dense, pair: p, urg: u}
	}

	base := &Model{lexicon: lex, rules: rulesJSON, pairs: pairs}
	base.Meta = ModelMeta{Format: modelFormat, Urgencies: slices.Clone(casework.Urgencies),
		Corpus: CorpusDigest(examples), Examples: len(examples), Options: opts}
	for _, p := range pairs {
		base.Meta.Pairs = append(base.Meta.Pairs, string(p.category)+"/"+string(p.subcategory))
	}

	// Cross-validation: every example is predicted by the model of the fold
	// that did not see it.
	order := rand.New(rand.NewPCG(opts.Seed, 0)).Perm(len(xs))
	fold := make([]int, len(xs))
	for k, i := range order {
		fold[i] = k % opts.Folds
	}
	oof := make([]prediction, len(xs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for f := range opts.Folds {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var train []int
			for i := range xs {
				if fold[i] != f {
					train = append(train, i)
				}
			}
			m := fit(base, xs, train, opts)
			for i := range xs {
				if fold[i] == f {
					oof[i] = m.predict(examples[i].Text)
				}
			}
		})
	}
	wg.Wait()
	base.Meta.Thresholds = chooseThresholds(base, examples, oof, opts)
	cv := newTally()
	for i, e := range examples {
		cv.add(e, decide(base, oof[i]))
	}
	r := cv.report()
	base.Meta.CrossValidation = &r

	all := make([]int, len(xs))
	for i := range all {
		all[i] = i
	}
	m := fit(base, xs, all, opts)
	m.Meta = base.Meta
	return m, nil
}

// fit trains a model on the examples xs[which], with base's lexicon and
// classes.
func fit(base *Model, xs []extracted, which []int, opts TrainOptions) *Model {
	// The features: n-grams in at least MinCount training texts, and every
	// lexicon and length feature seen.
	count := make(map[uint64]int)
	var seen []uint64
	for _, i := range which {
		seen = append(seen[:0], xs[i].ngrams...)
		slices.Sort(seen)
		for _, h := range slices.Compact(seen) {
			count[h]++
		}
		for _, d := range xs[i].dense {
			count[d.hash] += opts.MinCount
		}
	}
	var hashes []uint64
	for h, n := range count {
		if n >= opts.MinCount {
			hashes = append(hashes, h)
		}
	}
	slices.Sort(hashes) // deterministic indices
	m := &Model{lexicon: base.lexicon, rules: base.rules, pairs: base.pairs, Meta: base.Meta,
		hashes: hashes, index: make(map[uint64]int32, len(hashes))}
	m.idf = make([]float32, len(hashes))
	docs := float64(len(which))
	for i, h := range hashes {
		m.index[h] = int32(i)
		m.idf[i] = float32(math.Log((docs+1)/(float64(count[h])+1)) + 1)
	}
	vs := make([]sparse, len(which))
	for k, i := range which {
		vs[k], _ = vectorize(m.lookup, m.idf, xs[i].ngrams, xs[i].dense, sparse{})
	}

	k := m.classes()
	np := len(m.pairs)
	w := make([]float64, len(hashes)*k)
	g2 := make([]float64, len(w))
	bias := make([]float64, k)
	bg2 := make([]float64, k)
	z := make([]float64, k)
	grad := make([]float64, k)
	rng := rand.New(rand.NewPCG(opts.Seed, 1))
	order := make([]int, len(which))
	for i := range order {
		order[i] = i
	}
	const eps = 1e-8
	for range opts.Epochs {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, o := range order {
			v, x := vs[o], xs[which[o]]
			copy(z, bias)
			for j, i := range v.idx {
				row := w[int(i)*k : int(i)*k+k]
				for c := range row {
					z[c] += row[c] * float64(v.val[j])
				}
			}
			softmax64(z[:np])
			softmax64(z[np:])
			copy(grad, z)
			grad[x.pair]--
			grad[np+x.urg]--
			for c := range bias {
				bg2[c] += grad[c] * grad[c]
				bias[c] -= opts.Rate * grad[c] / math.Sqrt(bg2[c]+eps)
			}
			for j, i := range v.idx {
				xv := float64(v.val[j])
				row := w[int(i)*k : int(i)*k+k]
				acc := g2[int(i)*k : int(i)*k+k]
				for c := range row {
					g := grad[c]*xv + opts.L2*row[c]
					acc[c] += g * g
					row[c] -= opts.Rate * g / math.Sqrt(acc[c]+eps)
				}
			}
		}
	}
	m.w = make([]float32, len(w))
	for i, x := range w {
		m.w[i] = float32(x)
	}
	m.bias = make([]float32, k)
	for i, x := range bias {
		m.bias[i] = float32(x)
	}
	return m
}

func softmax64(z []float64) {
	top := slices.Max(z)
	var sum float64
	for i, x := range z {
		z[i] = math.Exp(x - top)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
}

// chooseThresholds picks the highest urgency thresholds that catch
// opts.UrgentRecall of the urgent texts and opts.MajorRecall of the major
// complaints in the cross-validation predictions, deciding as decide does;
// never above ½ (the plain decision). When a recall cannot be reached, the
// lowest threshold tried.
func chooseThresholds(m *Model, examples []Example, oof []prediction, opts TrainOptions) Thresholds {
	cats := make([]casework.Category, len(examples))
	for i := range examples {
		cats[i] = decide(&Model{pairs: m.pairs}, oof[i]).Category
	}
	recall := func(t Thresholds, want casework.Urgency) float64 {
		n, right := 0, 0
		for i, e := range examples {
			if e.Urgency == want {
				n++
				if urgencyOf(t, oof[i], cats[i]) == want {
					right++
				}
			}
		}
		return share(right, n)
	}
	pick := func(class int, want casework.Urgency, target float64, set func(*Thresholds, float64), t Thresholds) Thresholds {
		var cands []float64
		for i, e := range examples {
			if e.Urgency == want {
				cands = append(cands, math.Floor(float64(oof[i].urgency[class])*1000)/1000)
			}
		}
		slices.Sort(cands)
		slices.Reverse(cands)
		set(&t, 0.5)
		for _, c := range slices.Compact(cands) {
			if c > 0.5 {
				continue
			}
			set(&t, c)
			if recall(t, want) >= target {
				break
			}
		}
		return t
	}
	t := Thresholds{Urgent: 0.5, Major: 0.5}
	t = pick(1, casework.UrgencyUrgent, opts.UrgentRecall, func(t *Thresholds, x float64) { t.Urgent = x }, t)
	t = pick(2, casework.UrgencyMajorComplaint, opts.MajorRecall, func(t *Thresholds, x float64) { t.Major = x }, t)
	return t
}
