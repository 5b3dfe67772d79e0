package dispatch_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"automate/internal/automation"
	"automate/internal/schedule"
	"automate/internal/store"
	"automate/internal/store/sqlite"
)

// openDB opens a migrated SQLite store in dir (a fresh temporary one when
// dir is empty), closed when the test ends.
func openDB(tb testing.TB, dir string) *sqlite.DB {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	db, err := sqlite.OpenMigrated(context.Background(), dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// testAutomation is an available automation of tenant "t" owned by "u":
// a lone StartBlock, one run at a time.
func testAutomation(id string, at time.Time) *automation.Automation {
	return &automation.Automation{ID: id, TenantID: "t", Name: id, State: automation.StateAvailable, OwnerID: "u",
		RunMode: automation.RunModeScheduled, Workspace: json.RawMessage(`{"blocks":[{"id":"S","type":"StartBlock","name":"Start","inputs":[]}]}`),
		SnippetIDs: []string{}, EndpointIDs: []string{}, ConnectorIDs: []string{}, ExecutionToken: "x",
		MaxConcurrentRuns: 1, CreatedAt: at, UpdatedAt: at}
}

// insertScheduled stores a with a one-minute recurrence (an RRULE) "s"+a.ID
// from startAt (UTC), next due at next.
func insertScheduled(ctx context.Context, tx store.Tx, a *automation.Automation, startAt string, next time.Time) error {
	if err := tx.InsertAutomation(ctx, a); err != nil {
		return err
	}
	return tx.PutSchedule(ctx, a.TenantID, a.ID, &schedule.Schedule{ID: "s" + a.ID, Interval: -1, Recurrence: "FREQ=MINUTELY",
		StartAt: startAt, Timezone: "UTC", NextRunAt: next})
}
