package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aftersales/aftersales/classify"
	"github.com/aftersales/aftersales/lifecycle"
)

// loadRules reads the staff's classification rules of path, which override
// the model where they match; "" means none.
func loadRules(path string) (*classify.Rules, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rules, err := classify.LoadRules(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rules, nil
}

// loadModel reads the model file of path; "" means the embedded model.
func loadModel(path string) (*classify.Model, error) {
	if path == "" {
		return classify.DefaultModel(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := classify.ReadModel(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// newClassifier builds the classifier cfg configures: the model (embedded,
// or AFTERSALES_CLASSIFY_MODEL) with the staff rules over it, and the LLM
// in front of them when AFTERSALES_CLASSIFY_LLM_URL is set.
func newClassifier(cfg Config, logger *slog.Logger) (lifecycle.Classifier, error) {
	rules, err := loadRules(cfg.RulesFile)
	if err != nil {
		return nil, fmt.Errorf("AFTERSALES_CLASSIFY_RULES: %w", err)
	}
	model, err := loadModel(cfg.ModelFile)
	if err != nil {
		return nil, fmt.Errorf("AFTERSALES_CLASSIFY_MODEL: %w", err)
	}
	local := classify.NewWithModel(model, rules)
	if cfg.LLMURL == "" {
		return local, nil
	}
	if cfg.LLMModel == "" {
		return nil, errors.New("AFTERSALES_CLASSIFY_LLM_MODEL: is needed with AFTERSALES_CLASSIFY_LLM_URL")
	}
	timeout, err := time.ParseDuration(cfg.LLMTimeout)
	if err != nil || timeout <= 0 {
		return nil, fmt.Errorf("AFTERSALES_CLASSIFY_LLM_TIMEOUT: %q is not a duration such as 4s", cfg.LLMTimeout)
	}
	return &classify.LLM{URL: cfg.LLMURL, Key: cfg.LLMKey, Model: cfg.LLMModel, Timeout: timeout, Local: local,
		Client: &http.Client{Timeout: timeout + time.Second}, Logger: logger}, nil
}

const classifyUsage = `usage:
  aftersales classify [flags] < texts.txt
      read one text per line, print {"category","subcategory","urgency","confidence",…} per line
  aftersales classify eval [flags] FILE.jsonl...
      classify labelled texts ({"text","category","subcategory","urgency"} per line) and
      print accuracy, per-category precision and recall, urgent and major-complaint recall
      and precision, and the confusion matrices
  aftersales classify train [-o MODEL] [-lexicon RULES.json] [-folds N] CORPUS.jsonl...
      train a model on labelled texts, print its k-fold cross-validation, write it to MODEL
      (default model.bin.gz); serve uses it with AFTERSALES_CLASSIFY_MODEL=MODEL
`

// classifyCommand is `aftersales classify`.
func classifyCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub := ""
	if len(args) > 0 && (args[0] == "train" || args[0] == "eval") {
		sub, args = args[0], args[1:]
	}
	if sub == "train" {
		return trainCommand(args, stdout, stderr)
	}
	cfg, rest, err := LoadConfig("classify", args, getenv)
	if err != nil || (sub == "" && len(rest) > 0) || (sub == "eval" && len(rest) == 0) {
		if err != nil {
			fmt.Fprintf(stderr, "aftersales classify: %v\n", err)
		}
		fmt.Fprint(stderr, classifyUsage)
		return exitUsage
	}
	c, err := newClassifier(cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		fmt.Fprintf(stderr, "aftersales classify: %v\n", err)
		return exitUsage
	}
	if sub == "eval" {
		examples, err := readCorpus(rest)
		if err != nil {
			fmt.Fprintf(stderr, "aftersales classify eval: %v\n", err)
			return exitUsage
		}
		if err := classify.Evaluate(c.Classify, examples).Write(stdout); err != nil {
			return exitFailed
		}
		return exitOK
	}
	if err := classify.RunCLI(c, stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "aftersales classify: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// readCorpus reads the labelled texts of files, in order.
func readCorpus(files []string) ([]classify.Example, error) {
	var all []classify.Example
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		ex, err := classify.ReadExamples(f, name)
		f.Close()
		if err != nil {
			return nil, err
		}
		all = append(all, ex...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no labelled texts in %v", files)
	}
	return all, nil
}

func trainCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("aftersales classify train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "model.bin.gz", "where to write the model")
	lexicon := fs.String("lexicon", "", "the lexicon rules (JSON in the format of classify/rules.json); default: the built-in one")
	var opts classify.TrainOptions
	fs.IntVar(&opts.Folds, "folds", 5, "folds of the cross-validation")
	fs.IntVar(&opts.Epochs, "epochs", 0, "epochs of training (0: the default)")
	fs.Float64Var(&opts.Rate, "rate", 0, "AdaGrad's learning rate (0: the default)")
	fs.Float64Var(&opts.L2, "l2", 0, "L2 regularisation (0: the default)")
	fs.IntVar(&opts.MinCount, "min-count", 0, "texts an n-gram must be in to be a feature (0: the default)")
	fs.Float64Var(&opts.UrgentRecall, "urgent-recall", 0, "share of urgent texts the threshold is chosen to catch in cross-validation (0: the default)")
	fs.Float64Var(&opts.MajorRecall, "major-recall", 0, "the same for major complaints (0: the default)")
	folds := &opts.Folds
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 || *folds < 2 {
		fmt.Fprint(stderr, classifyUsage)
		return exitUsage
	}
	examples, err := readCorpus(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "aftersales classify train: %v\n", err)
		return exitUsage
	}
	var lex *classify.Rules
	if *lexicon != "" {
		if lex, err = loadRules(*lexicon); err != nil {
			fmt.Fprintf(stderr, "aftersales classify train: lexicon: %v\n", err)
			return exitUsage
		}
	}
	start := time.Now()
	m, err := classify.Train(examples, lex, opts)
	if err != nil {
		fmt.Fprintf(stderr, "aftersales classify train: %v\n", err)
		return exitFailed
	}
	took := time.Since(start)
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".model-*")
	if err != nil {
		fmt.Fprintf(stderr, "aftersales classify train: %v\n", err)
		return exitFailed
	}
	defer os.Remove(tmp.Name())
	n, err := m.WriteTo(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), *out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "aftersales classify train: write %s: %v\n", *out, err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "trained on %d texts in %s: %s, %d bytes; thresholds urgent %.3f, major complaint %.3f\n\n%d-fold cross-validation:\n",
		len(examples), took.Round(time.Millisecond), *out, n, m.Meta.Thresholds.Urgent, m.Meta.Thresholds.Major, *folds)
	if err := m.Meta.CrossValidation.Write(stdout); err != nil {
		return exitFailed
	}
	return exitOK
}
