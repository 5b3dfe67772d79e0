// Package storetest is the one test suite every store adapter must pass.
// An adapter's test calls Run with a function that opens a fresh, migrated
// store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/run"
	"automate/internal/schedule"
	"automate/internal/store"
)

// Run runs the suite. open must return an empty, migrated store that the
// test owns (it is closed by the caller's cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"TenantScoping", testTenantScoping},
		{"UpdateDelete", testUpdateDelete},
		{"Rollback", testRollback},
		{"Settings", testSettings},
		{"ListOrder", testListOrder},
		{"ConcurrentReadModifyWrite", testConcurrentReadModifyWrite},
		{"RunHistory", testRunHistory},
		{"ConcurrentClaims", testConcurrentClaims},
		{"LeaseFencing", testLeaseFencing},
		{"RenewListedLeases", testRenewListedLeases},
		{"Schedules", testSchedules},
		{"ConcurrentScheduleFires", testConcurrentScheduleFires},
		{"Spaces", testSpaces},
		{"APIKeys", testAPIKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

func sample(id, tenant, owner string) *automation.Automation {
	return &automation.Automation{
		ID: id, TenantID: tenant, Name: "name " + id, Description: "d", State: automation.StateAvailable,
		OwnerID: owner, RunMode: automation.RunModeManual, Workspace: json.RawMessage(`{"blocks":[]}`),
		SnippetIDs: []string{}, EndpointIDs: []string{"e1", "e2"}, ConnectorIDs: []string{"c1"},
		ExecutionToken: automation.NewExecutionToken(), MaxConcurrentRuns: 1, CreatedAt: t0, UpdatedAt: t0,
	}
}

func insert(t *testing.T, st store.Store, as ...*automation.Automation) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx store.Tx) error {
		for _, a := range as {
			if err := tx.InsertAutomation(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testRoundTrip(t *testing.T, st store.Store) {
	ctx := context.Background()
	a := sample("a1", "t", "u")
	a.SpaceID, a.LastRunID, a.LastRunAt, a.LastRunStatus = "space", "run", t0.Add(time.Hour), "finished"
	a.Workspace = json.RawMessage(`{"blocks":[{"type":"StartBlock","text":"é \u0000 {x}"}]}`)
	insert(t, st, a)
	got, err := st.GetAutomation(ctx, "t", "a1")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", a) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, a)
	}
	if !got.CreatedAt.Equal(t0) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("createdAt = %v", got.CreatedAt)
	}
}

func testTenantScoping(t *testing.T, st store.Store) {
	ctx := context.Background()
	insert(t, st, sample("a1", "t1", "u"), sample("a2", "t2", "u"))
	if _, err := st.GetAutomation(ctx, "t2", "a1"); !apperr.IsKind(err, apperr.NotFound) {
		t.Errorf("other tenant's get: %v", err)
	}
	items, err := st.ListAutomations(ctx, store.ListQuery{TenantID: "t2", Sort: automation.SortID, Limit: 10})
	if err != nil || len(items) != 1 || items[0].ID != "a2" {
		t.Errorf("t2 list = %v, %v", items, err)
	}
	err = st.InTx(ctx, func(tx store.Tx) error { return tx.DeleteAutomation(ctx, "t2", "a1") })
	if !apperr.IsKind(err, apperr.NotFound) {
		t.Errorf("delete across tenants: %v", err)
	}
	a := sample("a1", "t2", "u")
	err = st.InTx(ctx, func(tx store.Tx) error { return tx.UpdateAutomation(ctx, a) })
	if !apperr.IsKind(err, apperr.NotFound) {
		t.Errorf("update across tenants: %v", err)
	}
	if got, _ := st.GetAutomation(ctx, "t1", "a1"); got == nil || got.Name != "name a1" {
		t.Errorf("a1 changed: %+v", got)
	}
}

func testUpdateDelete(t *testing.T, st store.Store) {
	ctx := context.Background()
	a := sample("a1", "t", "u")
	insert(t, st, a)
	a.Name, a.State, a.OwnerID, a.MaxConcurrentRuns, a.UpdatedAt = "new", automation.StateDisabled, "v", 5, t0.Add(time.Second)
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.UpdateAutomation(ctx, a) }); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetAutomation(ctx, "t", "a1")
	if got.Name != "new" || got.State != automation.StateDisabled || got.OwnerID != "v" || got.MaxConcurrentRuns != 5 || !got.UpdatedAt.Equal(a.UpdatedAt) {
		t.Errorf("after update: %+v", got)
	}
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.DeleteRunHistory(ctx, "t", "a1"); err != nil {
			return err
		}
		return tx.DeleteAutomation(ctx, "t", "a1")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetAutomation(ctx, "t", "a1"); !apperr.IsKind(err, apperr.NotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func testRollback(t *testing.T, st store.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertAutomation(ctx, sample("a1", "t", "u")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx error = %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic inside InTx was swallowed")
			}
		}()
		st.InTx(ctx, func(tx store.Tx) error {
			tx.InsertAutomation(ctx, sample("a2", "t", "u"))
			panic("inside")
		})
	}()
	for _, id := range []string{"a1", "a2"} {
		if _, err := st.GetAutomation(ctx, "t", id); !apperr.IsKind(err, apperr.NotFound) {
			t.Errorf("%s survived a rolled back transaction: %v", id, err)
		}
	}
	// The store still works after both.
	insert(t, st, sample("a3", "t", "u"))
}

func testSettings(t *testing.T, st store.Store) {
	ctx := context.Background()
	s, err := st.GetSettings(ctx, "t")
	if err != nil || s != automation.DefaultSettings {
		t.Fatalf("defaults = %+v, %v", s, err)
	}
	for _, n := range []int{20, 30} {
		err = st.InTx(ctx, func(tx store.Tx) error {
			return tx.PutSettings(ctx, "t", automation.Settings{MaxConcurrentRunsPerAutomation: n}, t0)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if s, _ := st.GetSettings(ctx, "t"); s.MaxConcurrentRunsPerAutomation != 30 {
		t.Errorf("after two puts: %+v", s)
	}
	if s, _ := st.GetSettings(ctx, "other"); s != automation.DefaultSettings {
		t.Errorf("other tenant: %+v", s)
	}
	a, b := sample("a1", "t", "u"), sample("a2", "t", "u")
	a.MaxConcurrentRuns, b.MaxConcurrentRuns = 4, 9
	insert(t, st, a, b, sample("a3", "other", "u"))
	err = st.InTx(ctx, func(tx store.Tx) error {
		n, err := tx.MaxConcurrentRunsInUse(ctx, "t")
		if err != nil || n != 9 {
			return fmt.Errorf("in use = %d, %v", n, err)
		}
		n, err = tx.MaxConcurrentRunsInUse(ctx, "empty")
		if err != nil || n != 0 {
			return fmt.Errorf("in use (empty tenant) = %d, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func testListOrder(t *testing.T, st store.Store) {
	ctx := context.Background()
	var all []*automation.Automation
	for i := range 20 {
		a := sample(fmt.Sprintf("id%02d", i), "t", []string{"u", "v"}[i%2])
		a.Name = fmt.Sprintf("n%d", i%5)
		a.MaxConcurrentRuns = 1 + i%3
		a.CreatedAt = t0.Add(time.Duration(i%4) * time.Second)
		all = append(all, a)
	}
	insert(t, st, all...)
	byNameDesc := slices.Clone(all)
	slices.SortFunc(byNameDesc, func(a, b *automation.Automation) int {
		if a.Name != b.Name {
			return -cmpStr(a.Name, b.Name)
		}
		return -cmpStr(a.ID, b.ID)
	})
	// Walk forward by 6, then check a backward page.
	var got []*automation.Automation
	var after *automation.Position
	for {
		page, err := st.ListAutomations(ctx, store.ListQuery{TenantID: "t", Sort: automation.SortName, Desc: true, After: after, Limit: 6})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 6 {
			break
		}
		p := automation.PositionOf(page[len(page)-1], automation.SortName)
		after = &p
	}
	if ids(got) != ids(byNameDesc) {
		t.Errorf("forward walk:\n got %s\nwant %s", ids(got), ids(byNameDesc))
	}
	p := automation.PositionOf(byNameDesc[12], automation.SortName)
	back, err := st.ListAutomations(ctx, store.ListQuery{TenantID: "t", Sort: automation.SortName, Desc: true, After: &p, Backward: true, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if ids(back) != ids(byNameDesc[7:12]) {
		t.Errorf("backward page:\n got %s\nwant %s", ids(back), ids(byNameDesc[7:12]))
	}
	// Owner restriction and a numeric sort.
	own, err := st.ListAutomations(ctx, store.ListQuery{TenantID: "t", OwnerID: "v", Sort: automation.SortMaxConcurrentRuns, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(own) != 10 {
		t.Fatalf("v owns %d", len(own))
	}
	for i := 1; i < len(own); i++ {
		if own[i].OwnerID != "v" || own[i-1].MaxConcurrentRuns > own[i].MaxConcurrentRuns {
			t.Errorf("owner list out of order or foreign at %d", i)
		}
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func ids(as []*automation.Automation) string {
	s := ""
	for _, a := range as {
		s += a.ID + " "
	}
	return s
}

// testConcurrentReadModifyWrite runs transactions that read the settings,
// then write them back incremented: none may be lost (the SQLITE_BUSY and
// stale-read traps of DESIGN-NOTES).
func testConcurrentReadModifyWrite(t *testing.T, st store.Store) {
	ctx := context.Background()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Each transaction also writes and reads: queries an adapter
				// meets for the first time while others are in flight.
				errs <- st.InTx(ctx, func(tx store.Tx) error {
					s, err := tx.LockSettings(ctx, "t")
					if err != nil {
						return err
					}
					s.MaxConcurrentRunsPerAutomation++
					id := fmt.Sprintf("w%d-%d", w, i)
					if err := tx.InsertAutomation(ctx, sample(id, "t", "u")); err != nil {
						return err
					}
					if _, err := tx.GetAutomation(ctx, "t", id); err != nil {
						return err
					}
					return tx.PutSettings(ctx, "t", s, t0)
				})
				if _, err := st.ListAutomations(ctx, store.ListQuery{TenantID: "t", Sort: automation.SortName, Limit: 3}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, _ := st.GetSettings(ctx, "t")
	if want := automation.DefaultSettings.MaxConcurrentRunsPerAutomation + workers*each; s.MaxConcurrentRunsPerAutomation != want {
		t.Errorf("after %d increments: %d, want %d", workers*each, s.MaxConcurrentRunsPerAutomation, want)
	}
}

// testRunHistory stores runs and checks that DeleteRunHistory (change-owner)
// and deleting the automation remove them, and only them.
func testRunHistory(t *testing.T, st store.Store) {
	ctx := context.Background()
	insert(t, st, sample("a1", "t", "u"), sample("a2", "t", "u"))
	mk := func(id, automationID string) *run.Run {
		return &run.Run{ID: id, TenantID: "t", AutomationID: automationID, Status: run.StatusFinished, Context: run.ContextAPISync,
			OwnerID: "u", ExecutedByID: "v", Inputs: json.RawMessage(`{"x":1}`), Output: json.RawMessage(`["done"]`),
			StartTime: t0, StopTime: t0.Add(3 * time.Second), CreatedAt: t0, UpdatedAt: t0}
	}
	err := st.InTx(ctx, func(tx store.Tx) error {
		for _, r := range []*run.Run{mk("r1", "a1"), mk("r2", "a1"), mk("r3", "a2")} {
			if err := tx.InsertRun(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.GetRun(ctx, "t", "a1", "r1")
	if err != nil || string(got.Output) != `["done"]` || string(got.Inputs) != `{"x":1}` || got.Duration() != 3 || got.ExecutedByID != "v" || !got.StopTime.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("run = %+v, %v", got, err)
	}
	if _, err := st.GetRun(ctx, "t", "a2", "r1"); !apperr.IsKind(err, apperr.NotFound) {
		t.Errorf("run of another automation: %v", err)
	}
	if _, err := st.GetRun(ctx, "other", "a1", "r1"); !apperr.IsKind(err, apperr.NotFound) {
		t.Errorf("run of another tenant: %v", err)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.DeleteRunHistory(ctx, "t", "a1") }); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2"} {
		if _, err := st.GetRun(ctx, "t", "a1", id); !apperr.IsKind(err, apperr.NotFound) {
			t.Errorf("%s survived DeleteRunHistory: %v", id, err)
		}
	}
	if _, err := st.GetRun(ctx, "t", "a2", "r3"); err != nil {
		t.Errorf("another automation's run went too: %v", err)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.DeleteAutomation(ctx, "t", "a2") }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetRun(ctx, "t", "a2", "r3"); !apperr.IsKind(err, apperr.NotFound) {
		t.Errorf("run survived its automation: %v", err)
	}
}

// testConcurrentClaims has 8 claimers take 10 automations × 30 queued runs
// with at most 2 live per automation, ending runs as they go: every run is
// claimed exactly once and no automation ever has more than 2 live runs.
func testConcurrentClaims(t *testing.T, st store.Store) {
	ctx := context.Background()
	const automations, perAutomation, limit, claimers = 10, 30, 2, 8
	var as []*automation.Automation
	for i := range automations {
		a := sample(fmt.Sprintf("a%02d", i), "t1", "u1")
		a.MaxConcurrentRuns = limit
		as = append(as, a)
	}
	insert(t, st, as...)
	err := st.InTx(ctx, func(tx store.Tx) error {
		for i := range automations * perAutomation {
			a := as[i%automations]
			r := &run.Run{ID: fmt.Sprintf("r%05d", i), TenantID: "t1", AutomationID: a.ID, Status: run.StatusQueued,
				Context: run.ContextAPIAsync, OwnerID: "u1", CreatedAt: t0, UpdatedAt: t0}
			if err := tx.InsertRun(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		claimed  = map[string]int{}
		live     = map[string]int{}
		overflow []string
		wg       sync.WaitGroup
	)
	for c := range claimers {
		wg.Go(func() {
			owner := fmt.Sprint("node", c)
			for {
				refs, err := st.QueuedAutomations(ctx, automations)
				if err != nil {
					t.Error(err)
					return
				}
				if len(refs) == 0 {
					return
				}
				for _, ref := range refs {
					var got []*run.Run
					err := st.InTx(ctx, func(tx store.Tx) error {
						a, err := tx.LockAutomation(ctx, ref.TenantID, ref.ID)
						if err != nil {
							return err
						}
						n, err := tx.CountRuns(ctx, a.ID)
						if err != nil {
							return err
						}
						if free := a.MaxConcurrentRuns - n.Active; free > 0 {
							got, err = tx.ClaimQueued(ctx, a.ID, free, store.Lease{Owner: owner, Until: t0.Add(time.Hour), Now: t0})
						}
						return err
					})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, r := range got {
						claimed[r.ID]++
						live[r.AutomationID]++
						if live[r.AutomationID] > limit {
							overflow = append(overflow, r.AutomationID)
						}
					}
					mu.Unlock()
					for _, r := range got {
						// Counted down before the end commits: the checker may
						// miss an overshoot racing this, but never reports a
						// false one.
						mu.Lock()
						live[r.AutomationID]--
						mu.Unlock()
						err := st.InTx(ctx, func(tx store.Tx) error {
							return tx.EndRun(ctx, store.Ending{Run: r, Status: run.StatusFinished, Output: []byte("[]"),
								Errors: []byte("[]"), Metrics: []byte("{}"), Now: t0})
						})
						if err != nil {
							t.Error(err)
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	expectEachOnce(t, "claimed", claimed, automations*perAutomation)
	if len(overflow) > 0 {
		t.Errorf("limit exceeded for %v", overflow)
	}
}

// testLeaseFencing checks that a worker whose run was reclaimed can no
// longer write it, and that parking releases the lease.
func testLeaseFencing(t *testing.T, st store.Store) {
	ctx := context.Background()
	a := sample("a1", "t1", "u1")
	insert(t, st, a)
	r := &run.Run{ID: "r1", TenantID: "t1", AutomationID: "a1", Status: run.StatusQueued, Context: run.ContextAPIAsync,
		OwnerID: "u1", CreatedAt: t0, UpdatedAt: t0}
	var first, second *run.Run
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertRun(ctx, r); err != nil {
			return err
		}
		got, err := tx.ClaimQueued(ctx, "a1", 1, store.Lease{Owner: "old", Until: t0.Add(time.Second), Now: t0})
		if err != nil || len(got) != 1 {
			return fmt.Errorf("claim: %v %d", err, len(got))
		}
		first = got[0]
		second, err = tx.Reclaim(ctx, "r1", first.Attempt, store.Lease{Owner: "new", Until: t0.Add(time.Hour), Now: t0})
		return err
	})
	if err != nil || second == nil || second.Attempt != first.Attempt+1 {
		t.Fatalf("reclaim: %v %+v", err, second)
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.SaveProgress(ctx, store.Progress{RunID: "r1", Attempt: first.Attempt, Lease: store.Lease{Owner: "old", Now: t0},
			Checkpoint: []byte("{}")})
		return err
	})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("the old worker's write: %v, want ErrLeaseLost", err)
	}
	// The new holder parks the run: nobody holds it, and it is due at its wake-up.
	wake := t0.Add(time.Minute)
	err = st.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.SaveProgress(ctx, store.Progress{RunID: "r1", Attempt: second.Attempt, Lease: store.Lease{Owner: "new", Until: t0.Add(time.Hour), Now: t0},
			Checkpoint: []byte(`{"x":1}`), Journal: []store.JournalEntry{{Seq: 1, Entry: []byte(`{"seq":1}`)}}, WakeAt: wake})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if due, _ := st.DueParked(ctx, wake.Add(-time.Second), 10); len(due) != 0 {
		t.Errorf("parked run due early: %+v", due)
	}
	due, err := st.DueParked(ctx, wake, 10)
	if err != nil || len(due) != 1 || due[0].LeaseOwner != "" {
		t.Fatalf("due parked %+v %v", due, err)
	}
	if next, _ := st.NextWake(ctx); !next.Equal(wake) {
		t.Errorf("next wake %v", next)
	}
	j, err := st.RunJournal(ctx, "r1")
	if err != nil || len(j) != 1 {
		t.Errorf("journal %v %v", j, err)
	}
}

func put(t *testing.T, st store.Store, a *automation.Automation, s *schedule.Schedule) {
	t.Helper()
	ctx := context.Background()
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.PutSchedule(ctx, a.TenantID, a.ID, s) }); err != nil {
		t.Fatal(err)
	}
}

func testSchedules(t *testing.T, st store.Store) {
	ctx := context.Background()
	a, b, c := sample("a", "t", "u"), sample("b", "t", "u"), sample("c", "t", "u")
	b.OwnerID, b.SpaceID, b.MaxConcurrentRuns = "ub", "space", 3
	insert(t, st, a, b, c)
	// b's live runs, which DueSchedules counts: two active, one queued.
	err := st.InTx(ctx, func(tx store.Tx) error {
		for i, status := range []string{run.StatusRunning, run.StatusMustStop, run.StatusQueued, run.StatusFinished, run.StatusFailed} {
			r := &run.Run{ID: fmt.Sprintf("live%d", i), TenantID: "t", AutomationID: "b", Status: status,
				Context: run.ContextAPIAsync, CreatedAt: t0, UpdatedAt: t0}
			if err := tx.InsertRun(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := st.GetSchedule(ctx, "a"); err != nil || s != nil {
		t.Fatalf("no schedule yet: %v, %v", s, err)
	}
	if next, err := st.NextScheduleDue(ctx); err != nil || !next.IsZero() {
		t.Fatalf("NextScheduleDue with none: %v, %v", next, err)
	}
	sa := &schedule.Schedule{ID: "sa", Interval: 60, StartAt: "2026-03-04 05:06:00", Timezone: "Europe/Stockholm",
		NextRunAt: t0.Add(2 * time.Minute)}
	put(t, st, a, sa)
	put(t, st, b, &schedule.Schedule{ID: "sb", Interval: -1, Recurrence: "FREQ=DAILY", StartAt: "2026-03-04 00:00:00",
		StopAt: "2027-01-01 00:00:00", Timezone: "UTC", LastStartedAt: t0, NextRunAt: t0.Add(time.Minute)})
	put(t, st, c, &schedule.Schedule{ID: "sc", Interval: 120, StartAt: "2026-03-04 00:00:00", Timezone: "UTC"}) // not due: next 0
	got, err := st.GetSchedule(ctx, "a")
	if err != nil || got == nil || *got != *sa {
		t.Fatalf("GetSchedule = %+v, %v; want %+v", got, err, sa)
	}
	// Replacing keeps one schedule per automation.
	sa2 := *sa
	sa2.ID, sa2.Interval, sa2.NextRunAt = "sa2", 300, t0.Add(3*time.Minute)
	put(t, st, a, &sa2)
	if got, _ := st.GetSchedule(ctx, "a"); got == nil || got.ID != "sa2" || got.Interval != 300 {
		t.Fatalf("replaced schedule = %+v", got)
	}
	if next, err := st.NextScheduleDue(ctx); err != nil || !next.Equal(t0.Add(time.Minute)) {
		t.Fatalf("NextScheduleDue = %v, %v", next, err)
	}
	var due []store.DueSchedule
	err = st.InTx(ctx, func(tx store.Tx) error {
		var err error
		due, err = tx.DueSchedules(ctx, t0.Add(5*time.Minute), 10)
		if err != nil {
			return err
		}
		if len(due) != 2 || due[0].Schedule.ID != "sb" || due[1].Schedule.ID != "sa2" || due[0].AutomationID != "b" || due[0].TenantID != "t" {
			return fmt.Errorf("due = %+v, %+v", due[0], due[len(due)-1])
		}
		// With what admitting b's runs needs, and b's live runs counted.
		want := store.DueSchedule{TenantID: "t", AutomationID: "b", Schedule: due[0].Schedule, State: automation.StateAvailable,
			OwnerID: "ub", SpaceID: "space", MaxConcurrentRuns: 3, Counts: store.RunCounts{Active: 2, Queued: 1}}
		if due[0] != want || due[1].Counts != (store.RunCounts{}) || due[1].OwnerID != "u" {
			return fmt.Errorf("due = %+v, %+v; want %+v first", due[0], due[1], want)
		}
		if ok, err := tx.AdvanceSchedule(ctx, "sb", t0.Add(time.Minute), t0.Add(time.Hour), t0.Add(90*time.Second)); err != nil || !ok {
			return fmt.Errorf("advance: %v %v", ok, err)
		}
		// The second advance from the same occurrence loses.
		if ok, err := tx.AdvanceSchedule(ctx, "sb", t0.Add(time.Minute), t0.Add(2*time.Hour), t0); err != nil || ok {
			return fmt.Errorf("second advance: %v %v", ok, err)
		}
		limited, err := tx.DueSchedules(ctx, t0.Add(5*time.Minute), 1)
		if err != nil || len(limited) != 1 || limited[0].Schedule.ID != "sa2" {
			return fmt.Errorf("limited due = %v, %v", limited, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetSchedule(ctx, "b"); got == nil || !got.NextRunAt.Equal(t0.Add(time.Hour)) || !got.LastStartedAt.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("advanced schedule = %+v", got)
	}
	// A run per occurrence: the second insert of one occurrence fails.
	r := &run.Run{ID: "r1", TenantID: "t", AutomationID: "b", Status: run.StatusQueued, Context: run.ContextAPIAsync,
		Trigger: run.TriggerScheduled, ScheduleID: "sb", ScheduledStartTime: t0.Add(time.Minute), CreatedAt: t0, UpdatedAt: t0}
	dup := *r
	dup.ID = "r2"
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.InsertRun(ctx, r) }); err != nil {
		t.Fatal(err)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.InsertRun(ctx, &dup) }); err == nil {
		t.Fatal("a second run of one occurrence was stored")
	}
	if got, err := st.GetRun(ctx, "t", "b", "r1"); err != nil || got.ScheduleID != "sb" || !got.ScheduledStartTime.Equal(r.ScheduledStartTime) {
		t.Fatalf("run = %+v, %v", got, err)
	}
	// Deleting the schedule, and the automation, removes it.
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.DeleteSchedule(ctx, "a") }); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetSchedule(ctx, "a"); got != nil {
		t.Fatalf("deleted schedule still there: %+v", got)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.DeleteAutomation(ctx, "t", "b") }); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetSchedule(ctx, "b"); got != nil {
		t.Fatalf("schedule outlived its automation: %+v", got)
	}
}

// testConcurrentScheduleFires lets several schedulers fire the same due
// schedules at once; every occurrence must create exactly one run.
func testConcurrentScheduleFires(t *testing.T, st store.Store) {
	ctx := context.Background()
	const automations, occurrences, firers = 20, 5, 6
	for i := range automations {
		a := sample(fmt.Sprintf("a%02d", i), "t", "u")
		insert(t, st, a)
		put(t, st, a, &schedule.Schedule{ID: "s" + a.ID, Interval: 60, StartAt: "2026-03-04 05:06:00", Timezone: "UTC", NextRunAt: t0})
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fired = map[string]int{}
		seq   int
	)
	for f := range firers {
		wg.Go(func() {
			for {
				var mine []string
				err := st.InTx(ctx, func(tx store.Tx) error {
					mine = mine[:0]
					due, err := tx.DueSchedules(ctx, t0.Add(time.Hour), 7)
					if err != nil || len(due) == 0 {
						return err
					}
					for _, d := range due {
						at := d.Schedule.NextRunAt
						next := at.Add(time.Minute)
						if n := int(next.Sub(t0) / time.Minute); n >= occurrences {
							next = time.Time{}
						}
						ok, err := tx.AdvanceSchedule(ctx, d.Schedule.ID, at, next, at)
						if err != nil {
							return err
						}
						if !ok {
							continue
						}
						mu.Lock()
						seq++
						id := fmt.Sprintf("r%d-%d", f, seq)
						mu.Unlock()
						r := &run.Run{ID: id, TenantID: "t", AutomationID: d.AutomationID, Status: run.StatusQueued,
							Context: run.ContextAPIAsync, Trigger: run.TriggerScheduled, ScheduleID: d.Schedule.ID,
							ScheduledStartTime: at, CreatedAt: t0, UpdatedAt: t0}
						if err := tx.InsertRun(ctx, r); err != nil {
							return err
						}
						mine = append(mine, d.Schedule.ID+"@"+at.Format(time.TimeOnly))
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if len(mine) == 0 {
					if next, _ := st.NextScheduleDue(ctx); next.IsZero() {
						return
					}
					continue
				}
				mu.Lock()
				for _, k := range mine {
					fired[k]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	expectEachOnce(t, "fired", fired, automations*occurrences)
}

// testRenewListedLeases: a renewal extends only the leases of the runs it
// names (those its node executes); another run the node holds keeps its
// expiry, so that it is rescued when it passes.
func testRenewListedLeases(t *testing.T, st store.Store) {
	ctx := context.Background()
	insert(t, st, sample("a1", "t1", "u1"))
	lease := store.Lease{Owner: "n1", Until: t0.Add(time.Second), Now: t0}
	err := st.InTx(ctx, func(tx store.Tx) error {
		for i := range 70 { // more than one chunk of the renewal
			r := &run.Run{ID: fmt.Sprintf("r%02d", i), TenantID: "t1", AutomationID: "a1", Status: run.StatusQueued,
				Context: run.ContextAPIAsync, OwnerID: "u1", CreatedAt: t0, UpdatedAt: t0}
			if err := tx.InsertRun(ctx, r); err != nil {
				return err
			}
		}
		got, err := tx.ClaimQueued(ctx, "a1", 70, lease)
		if err != nil || len(got) != 70 {
			return fmt.Errorf("claim: %v %d", err, len(got))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 69 { // all but r69
		ids = append(ids, fmt.Sprintf("r%02d", i))
	}
	ids = append(ids, "not-a-run")
	var held map[string]string
	err = st.InTx(ctx, func(tx store.Tx) error {
		var err error
		held, err = tx.RenewLeases(ctx, "n1", ids, t0.Add(time.Hour), t0)
		return err
	})
	if err != nil || len(held) != 69 || held["r00"] != run.StatusRunning || held["r69"] != "" {
		t.Fatalf("renewal held %d runs: %v", len(held), err)
	}
	expired, err := st.ExpiredLeases(ctx, t0.Add(2*time.Second), 100)
	if err != nil || len(expired) != 1 || expired[0].ID != "r69" {
		t.Fatalf("expired after the renewal: %d %v", len(expired), err)
	}
	// Another owner renews nothing of n1's.
	err = st.InTx(ctx, func(tx store.Tx) error {
		var err error
		held, err = tx.RenewLeases(ctx, "n2", ids, t0.Add(time.Hour), t0)
		return err
	})
	if err != nil || len(held) != 0 {
		t.Fatalf("another owner renewed %d runs: %v", len(held), err)
	}
}

// expectEachOnce checks that want distinct things happened, each once.
func expectEachOnce(t *testing.T, what string, counts map[string]int, want int) {
	t.Helper()
	if len(counts) != want {
		t.Errorf("%d %s, want %d", len(counts), what, want)
	}
	for k, n := range counts {
		if n != 1 {
			t.Errorf("%s %s %d times", k, what, n)
		}
	}
}
