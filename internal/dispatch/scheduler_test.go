package dispatch_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"automate/internal/clock"
	"automate/internal/dispatch"
	"automate/internal/run"
	"automate/internal/store"
	"automate/internal/store/postgres"
	"automate/internal/store/postgres/pgtest"
)

// TestSchedulePoisonSkipped: a schedule whose run cannot be created (here
// the occurrence already has a run, so the unique key refuses a second)
// does not hold back the others due with it; its occurrence is skipped.
func TestSchedulePoisonSkipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t, "")
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0.Add(-time.Second))
	err := db.InTx(ctx, func(tx store.Tx) error {
		for _, id := range []string{"a", "b", "c"} {
			if err := insertScheduled(ctx, tx, testAutomation(id, t0), "2026-06-01 11:00:00", t0); err != nil {
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

// TestTwoSchedulersFireOnce runs two servers' dispatchers and schedulers on
// one database file (each with its own connections, as two processes
// would): every occurrence creates exactly one run.
func TestTwoSchedulersFireOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testSchedulersFireOnce(t, []store.Store{openDB(t, dir), openDB(t, dir)}, 30, 5)
}

// TestSchedulesAcrossNodesPostgres: three nodes (each with its own pool)
// on one PostgreSQL database, 200 automations with one-minute schedules,
// five occurrences on a shared fake clock: each fires exactly once.
func TestSchedulesAcrossNodesPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	var nodes []store.Store
	for range 3 {
		db, err := postgres.OpenMigrated(context.Background(), url, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		nodes = append(nodes, db)
	}
	testSchedulersFireOnce(t, nodes, 200, 5)
}

// testSchedulersFireOnce runs a dispatcher and a scheduler on each store
// (nodes sharing one database) over n one-minute schedules for the given
// number of occurrences, and checks that each occurrence has one run.
func testSchedulersFireOnce(t *testing.T, nodes []store.Store, automations, occurrences int) {
	ctx := context.Background()
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	err := nodes[0].InTx(ctx, func(tx store.Tx) error {
		for i := range automations {
			a := testAutomation(fmt.Sprintf("a%03d", i), t0)
			if err := insertScheduled(ctx, tx, a, "2026-06-01 12:00:00", t0.Add(time.Minute)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	firedBy := make([]atomic.Int64, len(nodes))
	for i, db := range nodes {
		d := dispatch.New(db, clk, logger, dispatch.Config{Node: fmt.Sprintf("node-%d", i)}, nil)
		d.Start(ctx)
		defer d.Stop()
		s := dispatch.NewScheduler(d, dispatch.ScheduleConfig{Batch: 7, Fired: func(occs []time.Time, _ time.Time) {
			firedBy[i].Add(int64(len(occs)))
		}})
		s.Start(ctx)
		defer s.Stop()
	}
	for k := 1; k <= occurrences; k++ {
		clk.Set(t0.Add(time.Duration(k) * time.Minute))
		deadline := time.Now().Add(20 * time.Second)
		for {
			next, err := nodes[0].NextScheduleDue(ctx)
			if err == nil && next.After(clk.Now()) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("occurrence %d did not fire everywhere", k)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	for i := range automations {
		var q store.RunListQuery
		q.TenantID, q.AutomationID, q.Sort, q.Limit = "t", fmt.Sprintf("a%03d", i), run.SortID, 100
		rs, err := nodes[len(nodes)-1].ListRuns(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[time.Time]int{}
		for _, r := range rs {
			seen[r.ScheduledStartTime]++
		}
		if len(rs) != occurrences || len(seen) != occurrences {
			t.Errorf("automation %d: %d runs for %d occurrences", i, len(rs), len(seen))
		}
	}
	// A firing's runs are visible once it commits; its Fired hook runs just
	// after: wait for the hooks before adding them up.
	want := int64(automations * occurrences)
	var total int64
	var by []int64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		total, by = 0, by[:0]
		for i := range firedBy {
			by = append(by, firedBy[i].Load())
			total += firedBy[i].Load()
		}
		if total >= want || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("occurrences fired by each scheduler: %v", by)
	if total != want {
		t.Errorf("the schedulers report %d firings, want %d", total, want)
	}
}

// TestScheduleCatchUpAdmits: the runs one schedule creates in one firing
// (here four missed occurrences under catch-up "all") are admitted against
// the automation's live runs and each other: with one run already active
// and maxConcurrentRuns 3, two start and two queue.
func TestScheduleCatchUpAdmits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t, "")
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	a := testAutomation("a", t0)
	a.MaxConcurrentRuns = 3
	err := db.InTx(ctx, func(tx store.Tx) error {
		if err := insertScheduled(ctx, tx, a, "2026-06-01 11:00:00", t0.Add(-3*time.Minute)); err != nil {
			return err
		}
		// Another node executes one of a's runs.
		return tx.InsertRun(ctx, &run.Run{ID: "0-elsewhere", TenantID: "t", AutomationID: "a", Status: run.StatusRunning,
			Context: run.ContextAPIAsync, LeaseOwner: "other", LeaseExpiresAt: t0.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	created := make(chan []string, 1)
	d := dispatch.New(db, clk, slog.New(slog.NewTextHandler(io.Discard, nil)), dispatch.Config{}, nil)
	d.Start(ctx)
	defer d.Stop()
	// Fired runs before the burst's runs start, so it sees them as created.
	s := dispatch.NewScheduler(d, dispatch.ScheduleConfig{CatchUp: dispatch.CatchUpAll, Fired: func([]time.Time, time.Time) {
		var q store.RunListQuery
		q.TenantID, q.AutomationID, q.Sort, q.Limit = "t", "a", run.SortID, 10
		rs, err := db.ListRuns(ctx, q)
		if err != nil {
			t.Error(err)
		}
		var got []string
		for _, r := range rs {
			if r.ScheduleID != "" {
				got = append(got, r.ScheduledStartTime.Format("15:04")+" "+r.Status)
			}
		}
		created <- got
	}})
	s.Start(ctx)
	defer s.Stop()
	want := []string{"11:57 running", "11:58 running", "11:59 queued", "12:00 queued"}
	select {
	case got := <-created:
		if !slices.Equal(got, want) {
			t.Fatalf("created runs %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the schedule did not fire")
	}
}
