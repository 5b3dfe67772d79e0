package dispatch_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"automate/internal/automation"
	"automate/internal/clock"
	"automate/internal/dispatch"
	"automate/internal/run"
	"automate/internal/schedule"
	"automate/internal/store"
	"automate/internal/store/sqlite"
)

// TestSchedulePoisonSkipped: a schedule whose run cannot be created (here
// the occurrence already has a run, so the unique key refuses a second)
// does not hold back the others due with it; its occurrence is skipped.
func TestSchedulePoisonSkipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.OpenMigrated(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0.Add(-time.Second))
	err = db.InTx(ctx, func(tx store.Tx) error {
		for _, id := range []string{"a", "b", "c"} {
			a := &automation.Automation{ID: id, TenantID: "t", Name: id, State: automation.StateAvailable, OwnerID: "u",
				RunMode: automation.RunModeScheduled, Workspace: json.RawMessage(`{"blocks":[{"id":"S","type":"StartBlock"}]}`),
				ExecutionToken: "x", MaxConcurrentRuns: 1, CreatedAt: t0, UpdatedAt: t0}
			if err := tx.InsertAutomation(ctx, a); err != nil {
				return err
			}
			sc := &schedule.Schedule{ID: "s" + id, Interval: 60, StartAt: "2026-06-01 11:00:00", Timezone: "UTC", NextRunAt: t0}
			if err := tx.PutSchedule(ctx, "t", id, sc); err != nil {
				return err
			}
		}
		// b's occurrence at t0 already has its run.
		return tx.InsertRun(ctx, &run.Run{ID: "r-b", TenantID: "t", AutomationID: "b", Status: run.StatusFinished,
			Context: run.ContextAPIAsync, Trigger: run.TriggerScheduled, ScheduleID: "sb", ScheduledStartTime: t0,
			CreatedAt: t0, UpdatedAt: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	fired := make(chan []time.Time, 10)
	d := dispatch.New(db, clk, slog.New(slog.NewTextHandler(io.Discard, nil)), dispatch.Config{}, nil)
	d.Start(ctx)
	defer d.Stop()
	s := dispatch.NewScheduler(d, dispatch.ScheduleConfig{Fired: func(occs []time.Time, _ time.Time) { fired <- occs }})
	s.Start(ctx)
	defer s.Stop()
	clk.Set(t0)
	// a and c fire (one by one, after the batch failed).
	for n := 0; n < 2; {
		select {
		case occs := <-fired:
			n += len(occs)
		case <-time.After(10 * time.Second):
			t.Fatal("a and c did not fire")
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		sc, err := db.GetSchedule(ctx, id)
		if err != nil || !sc.NextRunAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("schedule of %s: %+v %v", id, sc, err)
		}
		var q store.RunListQuery
		q.TenantID, q.AutomationID, q.Sort, q.Limit = "t", id, run.SortID, 10
		rs, err := db.ListRuns(ctx, q)
		if err != nil || len(rs) != 1 || !rs[0].ScheduledStartTime.Equal(t0) {
			t.Errorf("runs of %s: %d %v", id, len(rs), err)
		}
	}
}
