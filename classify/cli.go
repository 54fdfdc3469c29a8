package classify

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// RunCLI classifies one text per line of in and writes one JSON object per
// line to out: {"category":…,"subcategory":…,"urgency":…,"confidence":…}, with
// "signals" when any urgency signal was found. Empty lines are skipped; a line
// longer than MaxTextBytes is classified by its beginning without being held
// in memory whole; invalid UTF-8 is ignored. It stops at the first read or
// write error.
func RunCLI(c interface{ Classify(string) Result }, in io.Reader, out io.Writer) error {
	br := bufio.NewReaderSize(in, 64<<10)
	bw := bufio.NewWriter(out)
	enc := json.NewEncoder(bw)
	line := make([]byte, 0, 4096)
	for {
		frag, err := br.ReadSlice('\n')
		if room := MaxTextBytes - len(line); room > 0 {
			line = append(line, frag[:min(len(frag), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // the rest of a long line
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("classify: read input: %w", err)
		}
		if text := strings.TrimSpace(string(line)); text != "" {
			if werr := enc.Encode(c.Classify(text)); werr != nil {
				return fmt.Errorf("classify: write output: %w", werr)
			}
		}
		line = line[:0]
		if err != nil { // io.EOF
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("classify: write output: %w", err)
	}
	return nil
}
