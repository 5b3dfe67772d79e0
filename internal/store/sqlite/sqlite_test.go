package sqlite_test

import (
	"context"
	"testing"

	"automate/internal/store"
	"automate/internal/store/sqlite"
	"automate/internal/store/storetest"
)

func open(t testing.TB) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.OpenMigrated(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	db := open(t)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
}

// FuzzListFilter: every filter, sort and cursor becomes SQL that SQLite
// runs or refuses as Invalid (storetest.FuzzListFilter).
func FuzzListFilter(f *testing.F) {
	storetest.FuzzListFilter(f, open(f))
}
