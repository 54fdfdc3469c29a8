package csvimport

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestExampleBatchGolden parses the embedded example files and compares the
// batch, one record a line, with testdata/examples.golden. Run
// go test ./csvimport -run Golden -update after changing the examples.
func TestExampleBatchGolden(t *testing.T) {
	t.Parallel()
	b, err := ExampleBatch()
	require.NoError(t, err)
	var out strings.Builder
	for _, r := range b.Units {
		fmt.Fprintf(&out, "unit %+v\n", r)
	}
	for _, r := range b.Owners {
		fmt.Fprintf(&out, "owner %+v\n", r)
	}
	for _, r := range b.Parties {
		fmt.Fprintf(&out, "party %+v\n", r)
	}
	for _, r := range b.Routes {
		fmt.Fprintf(&out, "route %+v\n", r)
	}
	compareWithGolden(t, out.String(), "examples.golden")
}

func compareWithGolden(t *testing.T, got, name string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), got, "run with -update if the change is intended")
}

// TestExampleBatchIsConsistent checks what Store.Import would check and what
// the demo relies on: every owner's unit and every route's party exists, and
// every category has a project-wide route.
func TestExampleBatchIsConsistent(t *testing.T) {
	t.Parallel()
	b, err := ExampleBatch()
	require.NoError(t, err)
	require.Len(t, b.Units, 100)
	require.Len(t, b.Owners, 40)
	require.Len(t, b.Routes, 11)

	delivered := map[string]bool{}
	undelivered := 0
	buildings := map[string]bool{}
	for _, u := range b.Units {
		assert.Equal(t, "HJY", u.ProjectCode)
		unit := casework.Unit{Building: u.Building, Entrance: u.Entrance, Room: u.Room}
		delivered[unit.Label()] = !u.Delivery.IsZero()
		if u.Delivery.IsZero() {
			undelivered++
		}
		buildings[u.Building] = true
	}
	assert.Equal(t, map[string]bool{"1": true, "3": true}, buildings)
	assert.Equal(t, 6, undelivered)
	for _, o := range b.Owners {
		d, ok := delivered[o.Unit]
		assert.True(t, ok, "owner on line %d: unit %s does not exist", o.Line, o.Unit)
		assert.True(t, d, "owner on line %d: unit %s is not delivered", o.Line, o.Unit)
		assert.True(t, strings.HasPrefix(o.Phone, "1390000"), "owner on line %d: use made-up 1390000xxxx numbers", o.Line)
	}

	parties := map[string]casework.PartyKind{}
	for _, p := range b.Parties {
		parties[p.Code] = p.Kind
		assert.True(t, strings.HasPrefix(p.MemberPhone, "1390000"), "party on line %d: use made-up 1390000xxxx numbers", p.Line)
	}
	assert.Len(t, parties, 6)
	projectWide := map[casework.Category]bool{}
	for _, r := range b.Routes {
		_, ok := parties[r.PartyCode]
		assert.True(t, ok, "route on line %d: party %s does not exist", r.Line, r.PartyCode)
		if r.Building == "" && r.Subcategory == "" {
			projectWide[r.Category] = true
		}
	}
	for _, c := range casework.Categories {
		assert.True(t, projectWide[c], "no project-wide route for %s", c)
	}
}
