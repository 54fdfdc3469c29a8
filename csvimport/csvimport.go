// Package csvimport reads the department's registry spreadsheets, saved as
// CSV, into a casework.ImportBatch that a casework.Store applies all or
// nothing with Store.Import. There are four kinds of file: units (with their
// projects and buildings), owners, responsible parties (with their people)
// and routing rules.
//
// Files are UTF-8, with or without a byte-order mark, with Windows or Unix
// line endings. The first non-blank line is the header; its columns may come
// in any order and be written in English or Chinese (see Columns). Blank
// lines, including rows of empty cells, are skipped, and spaces around values
// are trimmed.
//
// Parse checks every row and returns a *casework.ImportError listing every
// problem it found, each with its line as a spreadsheet numbers it (the
// header is line 1 when the file starts with it). References to things that
// must already exist — the unit an owner is bound to, the party a route names
// — are checked by Store.Import, which sees the database.
package csvimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aftersales/aftersales/casework"
)

// Limits on what Parse reads.
const (
	// MaxFileSize is the largest file Parse accepts, in bytes.
	MaxFileSize = 20 << 20
	// MaxRows is the largest number of data rows Parse accepts in one file.
	MaxRows = 100_000
	// MaxProblems is how many problems Parse lists before it stops checking.
	MaxProblems = 1000
	// maxCell is the longest value, in bytes, of a single cell.
	maxCell = 500
)

// Kind is the kind of a registry file.
type Kind string

// The kinds of registry files.
const (
	KindUnits   Kind = "units"   // projects, buildings and units (房屋)
	KindOwners  Kind = "owners"  // owners bound to units (业主)
	KindParties Kind = "parties" // responsible parties and their people (责任单位)
	KindRoutes  Kind = "routes"  // which party gets which cases (派单规则)
)

// Kinds lists every Kind in the order their files are imported: owners need
// units, routes need parties.
var Kinds = []Kind{KindUnits, KindOwners, KindParties, KindRoutes}

// Valid reports whether k is a known Kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

var kindNames = map[Kind][]string{
	KindUnits:   {"unit", "房屋", "房号"},
	KindOwners:  {"owner", "业主"},
	KindParties: {"party", "责任单位", "单位"},
	KindRoutes:  {"route", "派单规则", "派单"},
}

// ParseKind returns the Kind named s: units, owners, parties or routes, in
// the singular or plural, or by its Chinese name (房屋, 业主, 责任单位,
// 派单规则). It returns a *casework.ValidationError otherwise.
func ParseKind(s string) (Kind, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, k := range Kinds {
		if t == string(k) || slices.Contains(kindNames[k], t) {
			return k, nil
		}
	}
	return "", casework.Invalid("kind", "%q is not one of %v", s, Kinds)
}

var bom = []byte("\ufeff")

// Parse reads a registry file of the given kind and returns the batch to
// import, whose records carry the line they came from; only the slice of the
// batch that matches kind is filled.
//
// When the file has problems Parse returns a *casework.ImportError listing
// every one of them (up to MaxProblems): missing, unknown or repeated
// columns; rows with the wrong number of cells; empty required values;
// dates, floors, phone numbers, kinds, categories and subcategories that do
// not parse; values that casework's Validate methods refuse; the same record
// twice in the file; a project, building or party described differently on
// two lines; a file without data rows, larger than MaxFileSize, with more
// than MaxRows rows or not in UTF-8. An error reading r is returned wrapped,
// and an unknown kind as a *casework.ValidationError.
func Parse(kind Kind, r io.Reader) (*casework.ImportBatch, error) {
	if !kind.Valid() {
		return nil, casework.Invalid("kind", "%q is not one of %v", kind, Kinds)
	}
	p, err := newParser(kind, r)
	if err != nil {
		return nil, err
	}
	return p.run()
}

// newParser reads a file of kind whole, checks its size and encoding, and
// returns the parser of its rows.
func newParser(kind Kind, r io.Reader) (*parser, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("csvimport: reading the %s file: %w", kind, err)
	}
	if len(data) > MaxFileSize {
		return nil, refuse(lineAt(data, MaxFileSize), "", fmt.Sprintf("the file is larger than %d MB; split it into smaller files", MaxFileSize>>20))
	}
	data = bytes.TrimPrefix(data, bom)
	if !utf8.Valid(data) {
		return nil, refuse(lineAt(data, firstInvalidUTF8(data)), "",
			`the file is not UTF-8 text: in Excel save it as "CSV UTF-8 (逗号分隔)", not plain "CSV", which is GBK on a Chinese system`)
	}
	p := &parser{kind: kind, cr: csv.NewReader(bytes.NewReader(data))}
	p.cr.FieldsPerRecord = -1
	p.cr.TrimLeadingSpace = true
	return p, nil
}

// refuse returns an ImportError with a single problem.
func refuse(line int, column, reason string) error {
	return &casework.ImportError{Lines: []casework.LineError{{Line: line, Column: column, Reason: reason}}}
}

// lineAt returns the 1-based line of byte offset i.
func lineAt(data []byte, i int) int {
	return bytes.Count(data[:min(i, len(data))], []byte{'\n'}) + 1
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// parser reads one file. Its record methods (units.go, …) add to batch and
// to problems.
type parser struct {
	kind     Kind
	cr       *csv.Reader
	header   []string       // header cells as written, trimmed
	unnamed  []bool         // header cells that name no column ("", "*")
	index    map[string]int // column name → cell index
	missing  bool           // a required column is missing
	problems []casework.LineError
	full     bool // MaxProblems reached
	fullLine int  // the line being checked when it was
	batch    casework.ImportBatch
	check    func(r *row) // the kind's row checker
}

func (p *parser) add(line int, column, reason string) {
	if len(p.problems) >= MaxProblems {
		if !p.full {
			p.full, p.fullLine = true, line
		}
		return
	}
	p.problems = append(p.problems, casework.LineError{Line: line, Column: column, Reason: reason})
}

func (p *parser) run() (*casework.ImportBatch, error) {
	headerLine, ok := p.readHeader()
	if !ok {
		return nil, &casework.ImportError{Lines: p.problems}
	}
	switch p.kind {
	case KindUnits:
		p.check = newUnitChecker(p).check
	case KindOwners:
		p.check = newOwnerChecker(p).check
	case KindParties:
		p.check = newPartyChecker(p).check
	case KindRoutes:
		p.check = newRouteChecker(p).check
	case KindRoster:
		// ParseRoster set its checker, which keeps the records.
	}

	rows := 0
	for !p.full {
		cells, err := p.cr.Read()
		if err == io.EOF {
			break
		}
		if pe, ok := errors.AsType[*csv.ParseError](err); ok {
			rows++
			p.add(pe.StartLine, "", csvReason(pe))
			continue
		} else if err != nil {
			// A bytes.Reader does not fail; stop all the same.
			p.add(headerLine, "", err.Error())
			break
		}
		line, _ := p.cr.FieldPos(0)
		trimAll(cells)
		if blank(cells) {
			continue
		}
		if rows++; rows > MaxRows {
			p.add(line, "", fmt.Sprintf("the file has more than %d rows; split it into smaller files", MaxRows))
			break
		}
		r := &row{p: p, line: line, cells: cells}
		if p.checkCells(r) {
			p.check(r)
		}
	}
	if rows == 0 {
		p.add(headerLine, "", "the file has a header but no data rows")
	}
	if p.full {
		p.problems = append(p.problems, casework.LineError{Line: p.fullLine, Reason: fmt.Sprintf(
			"stopped checking at this line after %d problems; fix those and import again", MaxProblems)})
	}
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b casework.LineError) int { return a.Line - b.Line })
		return nil, &casework.ImportError{Lines: p.problems}
	}
	return &p.batch, nil
}

// readHeader reads the first non-blank record and maps its cells to columns.
// It reports false when there is nothing to check rows against.
func (p *parser) readHeader() (int, bool) {
	var cells []string
	for {
		rec, err := p.cr.Read()
		if err == io.EOF {
			p.add(1, "", "the file is empty; the first line must be a header naming the columns")
			return 0, false
		}
		if pe, ok := errors.AsType[*csv.ParseError](err); ok {
			p.add(pe.StartLine, "", csvReason(pe))
			return 0, false
		} else if err != nil {
			p.add(1, "", err.Error())
			return 0, false
		}
		trimAll(rec)
		if !blank(rec) {
			cells = rec
			break
		}
	}
	line, _ := p.cr.FieldPos(0)
	p.header = cells
	p.index = make(map[string]int, len(cells))
	p.unnamed = make([]bool, len(cells))
	known := headerIndex[p.kind]
	for i, h := range cells {
		n := normHeader(h)
		if n == "" {
			p.unnamed[i] = true
			continue // an empty column, as spreadsheets leave; its cells must be empty too
		}
		c, ok := known[n]
		switch {
		case !ok:
			reason := "unknown column; the " + string(p.kind) + " columns are " + columnList(p.kind)
			if len(cells) == 1 && strings.ContainsAny(h, ";\t，") {
				reason = "the header has a single column; separate the columns with commas (,)"
			}
			p.add(line, h, reason)
		default:
			if j, dup := p.index[c.Name]; dup {
				p.add(line, h, fmt.Sprintf("column %s appears twice: as %q (column %d) and %q (column %d)", c.Name, cells[j], j+1, h, i+1))
				continue
			}
			p.index[c.Name] = i
		}
	}
	var missing []string
	for _, c := range columns[p.kind] {
		if _, ok := p.index[c.Name]; c.Required && !ok {
			missing = append(missing, c.Name+" ("+c.Chinese+")")
		}
	}
	if len(missing) > 0 {
		p.missing = true
		p.add(line, "", "missing required column(s): "+strings.Join(missing, ", "))
	}
	return line, true
}

func columnList(k Kind) string {
	var parts []string
	for _, c := range columns[k] {
		parts = append(parts, c.Name+" ("+c.Chinese+")")
	}
	return strings.Join(parts, ", ")
}

func csvReason(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf(`a quote (") inside a value that does not start with one (line %d, column %d); put the whole value in quotes and double the quote ("")`, pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf(`a quoted value is not closed properly (line %d, column %d); a quote inside quotes must be doubled ("")`, pe.Line, pe.Column)
	}
	return pe.Err.Error()
}

func trimAll(cells []string) {
	for i, c := range cells {
		cells[i] = strings.TrimFunc(c, func(r rune) bool {
			return r == ' ' || r == '\t' || r == '\u3000' || r == '\u00a0' || r == '\ufeff' || r == '\u200b' || r == '\r' || r == '\n'
		})
	}
}

func blank(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

// checkCells checks what every row must satisfy whatever its kind; the kind's
// checks run only when it reports true, so that a problem is not reported
// twice.
func (p *parser) checkCells(r *row) bool {
	if len(r.cells) != len(p.header) {
		p.add(r.line, "", fmt.Sprintf("the row has %d cells but the header has %d columns; check for a comma inside a value that is not quoted", len(r.cells), len(p.header)))
		return false
	}
	ok := true
	for i, c := range r.cells {
		col := p.header[i]
		if p.unnamed[i] {
			col = fmt.Sprintf("column %d", i+1)
			if c != "" {
				p.add(r.line, col, "has a value but the column has no header")
				ok = false
				continue
			}
		}
		switch {
		case len(c) > maxCell:
			p.add(r.line, col, fmt.Sprintf("is %d bytes long; at most %d are accepted", len(c), maxCell))
			ok = false
		case strings.ContainsFunc(c, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			p.add(r.line, col, "contains control characters or a line break")
			ok = false
		}
	}
	return ok
}

// row is one data row being checked.
type row struct {
	p     *parser
	line  int
	cells []string
	bad   int // problems reported on this row
}

// value returns the cell of column name, "" when the file lacks the column.
func (r *row) value(name string) string {
	if i, ok := r.p.index[name]; ok {
		return r.cells[i]
	}
	return ""
}

// column returns the header of column name as the file writes it.
func (r *row) column(name string) string {
	if i, ok := r.p.index[name]; ok {
		return r.p.header[i]
	}
	return name
}

func (r *row) problem(name, reason string) {
	r.bad++
	r.p.add(r.line, r.column(name), reason)
}

// required returns the value of a required column and whether it is there;
// it reports an empty value.
func (r *row) required(name string) (string, bool) {
	return r.requiredWith(name, "is required")
}

// requiredWith is required with a reason of its own for an empty value.
func (r *row) requiredWith(name, reason string) (string, bool) {
	if _, ok := r.p.index[name]; !ok {
		return "", false // reported once, with the header
	}
	v := r.value(name)
	if v == "" {
		r.problem(name, reason)
		return "", false
	}
	return v, true
}

// invalid reports err, a *casework.ValidationError whose Field is mapped to
// a column by fields, or any other error against column fallback.
func (r *row) invalid(err error, fallback string, fields map[string]string) {
	if err == nil {
		return
	}
	if ve, ok := err.(*casework.ValidationError); ok {
		col := fallback
		if c, ok := fields[ve.Field]; ok {
			col = c
		}
		r.problem(col, ve.Reason)
		return
	}
	r.problem(fallback, err.Error())
}

// date parses an optional date column.
func (r *row) date(name string) (casework.Date, bool) {
	v := r.value(name)
	if v == "" {
		return casework.Date{}, true
	}
	d, err := parseDate(v)
	if err != nil {
		r.problem(name, err.Error())
		return casework.Date{}, false
	}
	return d, true
}

// phone normalises a phone column with norm; it reports a bad number.
func (r *row) phone(name, v string, norm func(string) (string, error)) (string, bool) {
	ph, err := norm(v)
	if err != nil {
		reason := err.Error()
		if ve, ok := err.(*casework.ValidationError); ok {
			reason = ve.Reason
		}
		r.problem(name, phoneHint(v, reason))
		return "", false
	}
	return ph, true
}

// duplicate reports that the record on this row repeats the one on line first.
func (r *row) duplicate(what string, first int) {
	r.problem("", fmt.Sprintf("%s is already on line %d; each may appear once", what, first))
}
