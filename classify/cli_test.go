package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func runCLI(t *testing.T, in io.Reader) []map[string]any {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, RunCLI(defaultClassifier(), in, &out))
	var rows []map[string]any
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var row map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &row), "line %q", sc.Text())
		rows = append(rows, row)
	}
	return rows
}

func TestRunCLI(t *testing.T) {
	t.Parallel()
	rows := runCLI(t, strings.NewReader("卫生间一直在漏水\n\n   \r\nThe lift is broken\r\n\xff\xfe\n房产证什么时候办"))
	require.Len(t, rows, 4, "blank lines are skipped; the last line needs no newline")
	assert.Equal(t, map[string]any{
		"category": "engineering_quality", "subcategory": "leak", "urgency": "urgent",
		"confidence": rows[0]["confidence"], "signals": []any{"active_leak"}, "by": "model",
	}, rows[0])
	assert.Equal(t, "lift", rows[1]["subcategory"])
	assert.Equal(t, map[string]any{"category": "other", "subcategory": "other", "urgency": "normal", "confidence": 0.0, "by": "model"}, rows[2], "invalid UTF-8")
	assert.Equal(t, "certificate", rows[3]["subcategory"])
}

func TestRunCLIHugeLine(t *testing.T) {
	t.Parallel()
	huge := "天花板一直在漏水 " + strings.Repeat("a ", 5<<20) // 10 MB
	rows := runCLI(t, strings.NewReader(huge+"\n电梯困人\n"))
	require.Len(t, rows, 2)
	assert.Equal(t, string(casework.SubLeak), rows[0]["subcategory"])
	assert.Equal(t, string(casework.UrgencyUrgent), rows[0]["urgency"])
	assert.Equal(t, string(casework.SubLift), rows[1]["subcategory"], "the line after a huge one")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestRunCLIErrors(t *testing.T) {
	t.Parallel()
	err := RunCLI(defaultClassifier(), strings.NewReader("漏水\n"), failingWriter{})
	assert.ErrorContains(t, err, "disk full")
	err = RunCLI(defaultClassifier(), failingReader{}, io.Discard)
	assert.ErrorContains(t, err, "broken pipe")
	assert.NoError(t, RunCLI(defaultClassifier(), strings.NewReader(""), io.Discard))
}
