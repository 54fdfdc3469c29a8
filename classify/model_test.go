package classify

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// readFiles reads the labelled texts of the files matching pattern, in name
// order, as `aftersales classify train corpus/*.jsonl` does.
func readFiles(t testing.TB, pattern string) []Example {
	t.Helper()
	names, err := filepath.Glob(pattern)
	require.NoError(t, err)
	require.NotEmpty(t, names, pattern)
	var all []Example
	for _, name := range names {
		f, err := os.Open(name)
		require.NoError(t, err)
		ex, err := ReadExamples(f, name)
		f.Close()
		require.NoError(t, err)
		all = append(all, ex...)
	}
	return all
}

// TestEmbeddedModelIsTrainedOnCorpus: the model in the binary is the one
// corpus/*.jsonl and rules.json train. When this fails, retrain:
//
//	go run ./cmd/aftersales classify train -o classify/model.bin.gz classify/corpus/*.jsonl
func TestEmbeddedModelIsTrainedOnCorpus(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	corpus := readFiles(t, "corpus/*.jsonl")
	assert.Equal(t, CorpusDigest(corpus), m.Meta.Corpus, "the corpus changed since the model was trained: retrain it")
	assert.Equal(t, len(corpus), m.Meta.Examples)
	assert.JSONEq(t, string(mustJSON(t, DefaultRules())), string(m.rules), "rules.json changed since the model was trained: retrain it")
}

// TestCorpus: the corpus is as big and as balanced as docs/labelling.md
// and the classifier need.
func TestCorpus(t *testing.T) {
	t.Parallel()
	corpus := readFiles(t, "corpus/*.jsonl")
	byCat, byUrg := map[casework.Category]int{}, map[casework.Urgency]int{}
	seen := map[string]bool{}
	for _, e := range corpus {
		byCat[e.Category]++
		byUrg[e.Urgency]++
		assert.False(t, seen[e.Text], "twice in the corpus: %q", e.Text)
		seen[e.Text] = true
	}
	assert.GreaterOrEqual(t, len(corpus), 2000)
	assert.GreaterOrEqual(t, byUrg[casework.UrgencyUrgent], 400)
	assert.GreaterOrEqual(t, byUrg[casework.UrgencyMajorComplaint], 150)
	for _, c := range casework.Categories {
		assert.GreaterOrEqual(t, byCat[c], 150, "%s", c)
	}
	frozen := readFiles(t, "frozen/*.jsonl")
	for _, e := range frozen {
		assert.False(t, seen[e.Text], "a frozen test text is in the corpus: %q", e.Text)
	}
}

// TestFrozenTestSet measures the embedded model on the frozen test set,
// which nobody training or tuning it has read (frozen/README.md), and keeps
// it from getting worse than it was when the set was first run.
func TestFrozenTestSet(t *testing.T) {
	t.Parallel()
	frozen := readFiles(t, "frozen/*.jsonl")
	r := Evaluate(defaultClassifier().Classify, frozen)
	var b strings.Builder
	require.NoError(t, r.Write(&b))
	t.Logf("frozen test set:\n%s", b.String())
	assert.GreaterOrEqual(t, len(frozen), 300)
	assert.GreaterOrEqual(t, r.CategoryAccuracy, frozenFloor.category, "category accuracy")
	assert.GreaterOrEqual(t, r.Urgent.Recall, frozenFloor.urgentRecall, "urgent recall")
	assert.GreaterOrEqual(t, r.Urgent.Precision, frozenFloor.urgentPrecision, "urgent precision")
	assert.GreaterOrEqual(t, r.Major.Recall, frozenFloor.majorRecall, "major-complaint recall")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestModelRoundTrip(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	var buf bytes.Buffer
	_, err := m.WriteTo(&buf)
	require.NoError(t, err)
	again, err := ReadModel(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, m.Meta, again.Meta)
	assert.Equal(t, m.hashes, again.hashes)
	assert.InDeltaSlice(t, m.w, again.w, 1e-3)
	for _, s := range []string{"卫生间一直在漏水", "房产证什么时候办", "the lift is stuck with my mum inside"} {
		assert.Equal(t, NewWithModel(m, nil).Classify(s), NewWithModel(again, nil).Classify(s), s)
	}
}

func TestReadModelErrors(t *testing.T) {
	t.Parallel()
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	var whole bytes.Buffer
	_, err := DefaultModel().WriteTo(&whole)
	require.NoError(t, err)
	raw, err := gzip.NewReader(bytes.NewReader(whole.Bytes()))
	require.NoError(t, err)
	var plain bytes.Buffer
	_, err = plain.ReadFrom(raw)
	require.NoError(t, err)
	for name, in := range map[string][]byte{
		"not gzip":        []byte("hello"),
		"not a model":     gz("hello\n"),
		"truncated":       gz(plain.String()[:plain.Len()/2]),
		"trailing data":   gz(plain.String() + "x"),
		"bad meta":        gz(modelMagic + "\n\x05\x00\x00\x00{nope"),
		"huge meta claim": gz(modelMagic + "\n\xff\xff\xff\x7f"),
	} {
		_, err := ReadModel(bytes.NewReader(in))
		assert.Error(t, err, name)
	}
}

// TestTrainDeterministic: the same corpus and options train the same model,
// so that the embedded model can be checked against its corpus.
func TestTrainDeterministic(t *testing.T) {
	t.Parallel()
	corpus := readFiles(t, "corpus/seed.jsonl")
	train := func() []byte {
		m, err := Train(corpus, nil, TrainOptions{Epochs: 3, Folds: 3})
		require.NoError(t, err)
		var b bytes.Buffer
		_, err = m.WriteTo(&b)
		require.NoError(t, err)
		return b.Bytes()
	}
	assert.Equal(t, train(), train())
}

func TestTrainErrors(t *testing.T) {
	t.Parallel()
	_, err := Train([]Example{{Text: "漏水", Category: "engineering_quality", Subcategory: "leak", Urgency: "normal"}}, nil, TrainOptions{})
	assert.ErrorContains(t, err, "too few")
	_, err = ReadExamples(strings.NewReader(`{"text":"x","category":"eng","subcategory":"leak","urgency":"normal"}`), "bad.jsonl")
	assert.ErrorContains(t, err, "bad.jsonl:1: category")
	_, err = ReadExamples(strings.NewReader("\n{nope"), "bad.jsonl")
	assert.ErrorContains(t, err, "bad.jsonl:2")
}

// BenchmarkTrain trains on the whole corpus, cross-validation included:
// go test -run '^$' -bench Train -benchtime 1x ./classify/
func BenchmarkTrain(b *testing.B) {
	corpus := readFiles(b, "corpus/*.jsonl")
	for b.Loop() {
		if _, err := Train(corpus, nil, TrainOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// frozenFloor is what the embedded model must keep on the frozen test set.
var frozenFloor = struct{ category, urgentRecall, urgentPrecision, majorRecall float64 }{0.90, 0.95, 0.70, 0.80}
