package dispatch_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"automate/internal/clock"
	"automate/internal/dispatch"
	"automate/internal/run"
	"automate/internal/store"
)

// TestPrune keeps the newest runs within the count and journal limits,
// never touching live runs, oldest removed first.
func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t, "")
	t0 := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	a := testAutomation("a1", t0)
	entry := []byte(fmt.Sprintf(`{"pad":%q}`, make([]byte, 1000)))
	err := db.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertAutomation(ctx, a); err != nil {
			return err
		}
		for i := range 30 {
			status := run.StatusFinished
			if i == 0 {
				status = run.StatusQueued // the oldest run is live: it stays
			}
			r := &run.Run{ID: fmt.Sprintf("r%03d", i), TenantID: "t", AutomationID: "a1", Status: status, Context: run.ContextAPIAsync,
				OwnerID: "u", CreatedAt: t0, UpdatedAt: t0, LeaseOwner: "w", Attempt: 1}
			if status == run.StatusFinished {
				r.Status = run.StatusRunning
			}
			if err := tx.InsertRun(ctx, r); err != nil {
				return err
			}
			if status == run.StatusFinished {
				if err := tx.EndRun(ctx, store.Ending{Run: r, Status: status, Output: []byte("[]"), Errors: []byte("[]"),
					Metrics: []byte("{}"), Now: t0, Journal: []store.JournalEntry{{Seq: 1, Entry: entry}}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	left := func() []string {
		rs, err := db.ListRuns(ctx, store.RunListQuery{TenantID: "t", AutomationID: "a1", Sort: run.SortID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	// Keep 20 runs: the 9 oldest finished go; the live r000 stays.
	if n := dispatch.NewPruner(db, clock.Real{}, logger, dispatch.Retention{Runs: 20, JournalBytes: 1 << 30}).Prune(ctx); n != 9 {
		t.Errorf("pruned %d, want 9", n)
	}
	ids := left()
	if len(ids) != 21 || ids[0] != "r000" || ids[1] != "r010" {
		t.Errorf("left %v", ids)
	}
	// Keep about 5 journals' worth of bytes.
	if n := dispatch.NewPruner(db, clock.Real{}, logger, dispatch.Retention{Runs: 1000, JournalBytes: int64(5*len(entry) + 10)}).Prune(ctx); n != 15 {
		t.Errorf("pruned %d by size, want 15", n)
	}
	if ids := left(); len(ids) != 6 || ids[0] != "r000" || ids[1] != "r025" {
		t.Errorf("left %v", ids)
	}
}
