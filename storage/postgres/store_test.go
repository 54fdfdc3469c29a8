package postgres

import (
	"testing"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/storage/storagetest"
)

// TestStore runs the conformance suite; every subtest gets its own schema.
func TestStore(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, storagetest.Harness{
		Open: func(t testing.TB) casework.Store {
			db, _ := openTestDB(t, Options{})
			return db
		},
		OpenFailing: func(t testing.TB, err error) (failing, normal casework.Store) {
			db, dbURL := openTestDB(t, Options{})
			return mustOpen(t, dbURL, Options{MaxConns: 4, failAfterCaseWrite: err}), db
		},
	})
}

// BenchmarkStore measures the backend with the suite's workload:
//
//	go test ./storage/postgres/ -run xxx -bench . -benchtime 3s
func BenchmarkStore(b *testing.B) {
	storagetest.Bench(b, func(b testing.TB) casework.Store {
		db, _ := openTestDB(b, Options{MaxConns: -1})
		return db
	})
}
