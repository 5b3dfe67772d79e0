package storetest

import (
	"context"
	"testing"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/scim"
	"automate/internal/store"
)

// FuzzListFilter runs every filter the SCIM parser accepts, with every sort
// and a cursor, against a real database: the SQL it becomes must run, or
// be refused as Invalid, never fail inside the database. Each adapter's
// fuzz target calls it with its own store.
func FuzzListFilter(f *testing.F, st store.Store) {
	ctx := context.Background()
	seed := &automation.Automation{ID: "a", TenantID: "t", Name: "x%_\\y", State: "available", OwnerID: "u", RunMode: "manual",
		Workspace: []byte(`{}`), ExecutionToken: "tok", MaxConcurrentRuns: 1}
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.InsertAutomation(ctx, seed) }); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{`name co "%_\\"`, `not (runMode eq "manual") or spaceId pr`, `ownerId gt "a" and lastRunStatus eq null`,
		`name eq 1`, `bogus pr`, `name eq "\u0000"`} {
		f.Add(s, uint8(0), "cursor", true)
	}
	f.Add(`name sw "é"`, uint8(1), "c\x00\xff", false)
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
			After: &automation.Position{Value: v, ID: cursorValue}, Backward: len(cursorValue)%2 == 0, Limit: 5,
			Visible: &store.Visibility{UserID: "u", OwnPersonal: true, Member: len(cursorValue)%3 == 0}}
		if _, err := st.ListAutomations(ctx, q); err != nil && !apperr.IsKind(err, apperr.Invalid) {
			t.Fatalf("filter %q sort %s: %v", filter, sort, err)
		}
	})
}
