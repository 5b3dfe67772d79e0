package sqlite_test

import (
	"context"
	"testing"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/scim"
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

// FuzzListFilter runs every filter the SCIM parser accepts, with every
// sort and a cursor, against a real database: the SQL it becomes must run,
// or be refused as Invalid, never fail inside the database.
func FuzzListFilter(f *testing.F) {
	db := open(f)
	ctx := context.Background()
	seed := &automation.Automation{ID: "a", TenantID: "t", Name: "x%_\\y", State: "available", OwnerID: "u", RunMode: "manual",
		Workspace: []byte(`{}`), ExecutionToken: "tok", MaxConcurrentRuns: 1}
	if err := db.InTx(ctx, func(tx store.Tx) error { return tx.InsertAutomation(ctx, seed) }); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{`name co "%_\\"`, `not (runMode eq "manual") or spaceId pr`, `ownerId gt "a" and lastRunStatus eq null`, `name eq 1`, `bogus pr`} {
		f.Add(s, uint8(0), "cursor", true)
	}
	f.Fuzz(func(t *testing.T, filter string, sortIdx uint8, cursorValue string, desc bool) {
		expr, err := scim.Parse(filter)
		if err != nil {
			return
		}
		sort := automation.SortFields[int(sortIdx)%len(automation.SortFields)]
		var v any = cursorValue
		if sort.IsNumeric() {
			v = int64(len(cursorValue))
		}
		q := store.ListQuery{TenantID: "t", OwnerID: "u", Filter: expr, Sort: sort, Desc: desc,
			After: &automation.Position{Value: v, ID: cursorValue}, Backward: len(cursorValue)%2 == 0, Limit: 5}
		if _, err := db.ListAutomations(ctx, q); err != nil && !apperr.IsKind(err, apperr.Invalid) {
			t.Fatalf("filter %q sort %s: %v", filter, sort, err)
		}
	})
}
