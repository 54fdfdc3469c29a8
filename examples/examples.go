// Package examples holds the example registry files of a fictional project,
// 海景苑 (code HJY): units.csv, owners.csv, parties.csv and routes.csv, and
// its supervisors' duty roster, roster.csv. They are the files README.md
// describes and, embedded in FS, the data the demo mode loads through
// csvimport.ExampleBatch and csvimport.ExampleRoster. Every name and phone
// number in them is made up.
package examples

import "embed"

// FS holds units.csv, owners.csv, parties.csv, routes.csv and roster.csv.
//
//go:embed *.csv
var FS embed.FS
