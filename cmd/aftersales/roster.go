package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/csvimport"
)

// rosterUsage is the roster command's help.
const rosterUsage = `usage:
  aftersales roster import FILE.csv
                        (the duty roster, 值班表: replaces the rosters of the projects it names,
                        all or nothing; columns project_code, member, day, from, to)
  aftersales roster list [PROJECT]
`

// rosterCommand runs `aftersales roster import FILE` and `aftersales roster
// list [PROJECT]`: the supervisors' duty roster (casework.Duty), on the
// configured database.
func rosterCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, rosterUsage)
		return exitUsage
	}
	sub, rest := args[0], args[1:]
	switch {
	case sub == "import" && len(rest) == 1, sub == "list" && len(rest) <= 1:
	default:
		fmt.Fprint(stderr, rosterUsage)
		return exitUsage
	}
	cfg, _, err := LoadConfig("roster", nil, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "aftersales: %v\n", err)
		return exitUsage
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "aftersales: configuration is invalid:\n%s\n", indent(err.Error()))
		return exitUsage
	}
	var recs []casework.DutyRecord
	if sub == "import" {
		// The file is checked before the database is opened.
		if recs, err = readRoster(rest[0]); err != nil {
			fmt.Fprintf(stderr, "aftersales roster import %s: %v\n", rest[0], err)
			return exitFailed
		}
	}
	m := NewMain(cfg, stderr)
	if err := m.OpenStore(ctx); err != nil {
		m.Logger.Error("roster failed", "error", err)
		return exitFailed
	}
	defer m.Close()
	if sub == "import" {
		projects, n, err := m.importRoster(ctx, recs)
		if err != nil {
			fmt.Fprintf(stderr, "aftersales roster import %s: %v\n", rest[0], err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "imported %s: %d turns of duty for %s\n", rest[0], n, strings.Join(projects, ", "))
		return exitOK
	}
	var code string
	if len(rest) == 1 {
		code = rest[0]
	}
	if err := m.printRoster(ctx, code, stdout); err != nil {
		fmt.Fprintf(stderr, "aftersales roster list: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// readRoster parses a roster file.
func readRoster(path string) ([]casework.DutyRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return csvimport.ParseRoster(f)
}

// importRoster resolves the roster's lines against the registry and
// replaces the rosters of the projects they name; it returns their codes
// and the number of turns stored.
func (m *Main) importRoster(ctx context.Context, recs []casework.DutyRecord) ([]string, int, error) {
	projectIDs, duties, err := casework.ResolveRoster(ctx, m.Store, recs)
	if err != nil {
		return nil, 0, err
	}
	if err := m.Store.ReplaceRoster(ctx, projectIDs, duties); err != nil {
		return nil, 0, err
	}
	var codes []string
	for _, r := range recs {
		if !slices.Contains(codes, r.ProjectCode) {
			codes = append(codes, r.ProjectCode)
		}
	}
	m.Logger.Info("duty roster imported", "projects", len(projectIDs), "turns", len(duties))
	return codes, len(duties), nil
}

// loadExampleRoster loads the example project's duty roster, for the demo.
func (m *Main) loadExampleRoster(ctx context.Context) error {
	recs, err := csvimport.ExampleRoster()
	if err != nil {
		return err
	}
	_, n, err := m.importRoster(ctx, recs)
	if err != nil {
		return fmt.Errorf("example roster: %w", err)
	}
	m.Logger.Info("demo duty roster loaded", "turns", n)
	return nil
}

// printRoster writes the roster of the project with code (every project
// for ""), a turn a line: project, day, hours, the supervisor and phone.
func (m *Main) printRoster(ctx context.Context, code string, w io.Writer) error {
	var projectID int64
	if code != "" {
		p, err := m.Store.FindProjectByCode(ctx, code)
		if errors.Is(err, casework.ErrNotFound) {
			return fmt.Errorf("no project %s", code)
		} else if err != nil {
			return err
		}
		projectID = p.ID
	}
	duties, err := m.Store.ListDuties(ctx, projectID)
	if err != nil {
		return err
	}
	if len(duties) == 0 {
		fmt.Fprintln(w, "no duty roster")
		return nil
	}
	codes := map[int64]string{}
	for _, d := range duties {
		if _, ok := codes[d.ProjectID]; !ok {
			p, err := m.Store.FindProjectByID(ctx, d.ProjectID)
			if err != nil {
				return err
			}
			codes[d.ProjectID] = p.Code
		}
		who, phone := fmt.Sprintf("member %d", d.MemberID), ""
		if mb, err := m.Store.FindMemberByID(ctx, d.MemberID); err == nil {
			who, phone = mb.Name, mb.Phone
		}
		day := d.Date.String()
		if d.Date.IsZero() {
			day = d.Weekday.String()
		}
		to := casework.ClockText(d.To)
		if d.Spans() {
			to += " (next day)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s–%s\t%s\t%s\n", codes[d.ProjectID], day, casework.ClockText(d.From), to, who, phone)
	}
	return nil
}
