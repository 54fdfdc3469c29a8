package csvimport

import (
	"fmt"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/examples"
)

// ExampleBatch returns the example registry of examples/ — the fictional
// project 海景苑 (HJY) with its units, owners, parties and routes — as one
// batch, parsed from the copies embedded in the binary. The demo mode imports
// it into an empty store.
func ExampleBatch() (*casework.ImportBatch, error) {
	var all casework.ImportBatch
	for _, k := range Kinds {
		name := string(k) + ".csv"
		f, err := examples.FS.Open(name)
		if err != nil {
			return nil, fmt.Errorf("csvimport: example %s: %w", name, err)
		}
		b, err := Parse(k, f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("csvimport: example %s: %w", name, err)
		}
		all.Units = append(all.Units, b.Units...)
		all.Owners = append(all.Owners, b.Owners...)
		all.Parties = append(all.Parties, b.Parties...)
		all.Routes = append(all.Routes, b.Routes...)
	}
	return &all, nil
}

// ExampleRoster returns the example duty roster of examples/roster.csv —
// who of 海景苑's supervisors is on duty out of hours — parsed from the copy
// embedded in the binary, to resolve against the example registry
// (casework.ResolveRoster). The demo mode loads it after the registry.
func ExampleRoster() ([]casework.DutyRecord, error) {
	f, err := examples.FS.Open("roster.csv")
	if err != nil {
		return nil, fmt.Errorf("csvimport: example roster.csv: %w", err)
	}
	defer f.Close()
	recs, err := ParseRoster(f)
	if err != nil {
		return nil, fmt.Errorf("csvimport: example roster.csv: %w", err)
	}
	return recs, nil
}
