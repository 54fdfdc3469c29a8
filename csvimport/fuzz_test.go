package csvimport

import (
	"bytes"
	"errors"
	"testing"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/examples"
)

// FuzzParse proves that no input makes Parse panic or hang, and that it
// returns either a batch of well-numbered records of the right kind or an
// *ImportError with line numbers.
func FuzzParse(f *testing.F) {
	for i, k := range Kinds {
		data, err := examples.FS.ReadFile(string(k) + ".csv")
		if err != nil {
			f.Fatal(err)
		}
		// The header and a few rows: the fuzzer minimises every input it
		// finds interesting, which takes long on whole files.
		head := bytes.Join(bytes.SplitN(data, []byte("\n"), 5)[:4], []byte("\n"))
		f.Add(uint8(i), head)
		f.Add(uint8(i), append([]byte("\ufeff"), bytes.ReplaceAll(head, []byte("\n"), []byte("\r\n"))...))
	}
	for _, s := range []string{
		"", "\ufeff", ",,,\n\n", "a\"b", "\"unclosed\n",
		unitsHeader + "HJY,海景苑,2024-06-28,3,,2,B1,1502,2024年11月16日\n",
		ownersHeader + "HJY,3栋2单元1502,张伟,+86 139 0000 0001\n",
		partiesHeader + "GCB,工程部,工程部,,021-60000006,林峰,13900009009,supervisor\n",
		routesHeader + "HJY,*,*,*,GCB\nHJY,,工程质量类,渗漏水,DYFS\n",
	} {
		for i := range Kinds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		kind := Kinds[int(k)%len(Kinds)]
		b, err := Parse(kind, bytes.NewReader(data))
		if err != nil {
			if b != nil {
				t.Fatal("a batch and an error")
			}
			var ie *casework.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("not an ImportError: %v", err)
			}
			if len(ie.Lines) == 0 || len(ie.Lines) > MaxProblems+1 {
				t.Fatalf("%d problems", len(ie.Lines))
			}
			for _, l := range ie.Lines {
				if l.Line < 1 || l.Reason == "" {
					t.Fatalf("bad problem %+v", l)
				}
			}
			return
		}
		lines := make([]int, 0)
		for _, r := range b.Units {
			lines = append(lines, r.Line)
		}
		for _, r := range b.Owners {
			lines = append(lines, r.Line)
		}
		for _, r := range b.Parties {
			lines = append(lines, r.Line)
		}
		for _, r := range b.Routes {
			lines = append(lines, r.Line)
		}
		if len(lines) == 0 {
			t.Fatal("no records and no error")
		}
		for i, l := range lines {
			if l < 2 || (i > 0 && l <= lines[i-1]) {
				t.Fatalf("record lines %v", lines)
			}
		}
		if n := map[Kind]int{KindUnits: len(b.Units), KindOwners: len(b.Owners), KindParties: len(b.Parties), KindRoutes: len(b.Routes)}[kind]; n != len(lines) {
			t.Fatalf("records of another kind than %s", kind)
		}
	})
}
