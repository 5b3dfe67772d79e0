package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/run"
	"automate/internal/schedule"
	"automate/internal/store"
)

// CatchUp is what a schedule does about occurrences that passed while no
// scheduler ran (the server was down).
type CatchUp string

// The catch-up policies.
const (
	// CatchUpLatest creates one run, for the most recent missed
	// occurrence, and the schedule goes on by its rule.
	CatchUpLatest CatchUp = "latest"
	// CatchUpSkip creates none: occurrences more than MissedAfter late
	// are dropped.
	CatchUpSkip CatchUp = "skip"
	// CatchUpAll creates a run for each missed occurrence, the most
	// recent CatchUpLimit of them.
	CatchUpAll CatchUp = "all"
)

// ParseCatchUp reads a catch-up policy name.
func ParseCatchUp(v string) (CatchUp, error) {
	switch c := CatchUp(v); c {
	case CatchUpLatest, CatchUpSkip, CatchUpAll:
		return c, nil
	}
	return "", fmt.Errorf("catch-up policy %q is not one of latest, skip, all", v)
}

// Scheduler defaults.
const (
	DefaultCatchUpLimit  = 100
	DefaultScheduleBatch = 100
	DefaultSchedulePoll  = time.Minute
	// MissedAfter is how late an occurrence may fire and still count as on
	// time; under CatchUpSkip a later one is dropped.
	MissedAfter = time.Minute
	// scanOccurrences bounds the missed occurrences walked one by one;
	// beyond it the most recent are found from now backwards.
	scanOccurrences = 1000
	maxRuleCache    = 10_000
)

// ScheduleConfig tunes a Scheduler; zero values take the defaults.
type ScheduleConfig struct {
	CatchUp      CatchUp
	CatchUpLimit int
	// Batch bounds the schedules fired in one transaction.
	Batch int
	// Poll is how often the scheduler looks again without a change
	// notification (for schedules that other processes changed).
	Poll time.Duration
	// Fired, when set, is called after each firing transaction commits,
	// with the occurrences it created runs for (measurements and tests).
	Fired func(occurrences []time.Time, committed time.Time)
}

// Scheduler fires schedules. It sleeps until the earliest next_run_at (one
// index lookup, however many schedules are idle) or a change notification;
// then, in one transaction per batch, it claims the due schedules, creates
// each occurrence's run as the queue admits it, and advances next_run_at
// with a compare-and-set, so that an occurrence fires once even with
// several schedulers on one database.
type Scheduler struct {
	d    *Dispatcher
	cfg  ScheduleConfig
	poke chan struct{}

	mu    sync.Mutex
	rules map[string]*schedule.Rule // parsed rules by schedule id and series

	// held are the admissions of a burst of firing, acted on when it ends
	// (owned by the loop).
	held []*Admission

	cancel context.CancelFunc
	done   chan struct{}
}

// NewScheduler returns a scheduler creating runs through d; Start sets it
// going (after d's Start; Stop it before d's Stop).
func NewScheduler(d *Dispatcher, cfg ScheduleConfig) *Scheduler {
	if cfg.CatchUp == "" {
		cfg.CatchUp = CatchUpLatest
	}
	if cfg.CatchUpLimit <= 0 {
		cfg.CatchUpLimit = DefaultCatchUpLimit
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultScheduleBatch
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultSchedulePoll
	}
	return &Scheduler{d: d, cfg: cfg, poke: make(chan struct{}, 1), rules: map[string]*schedule.Rule{}}
}

// Start begins firing. Occurrences missed while no scheduler ran are
// handled by the catch-up policy on the first pass.
func (s *Scheduler) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.done = make(chan struct{})
	go func() { defer close(s.done); s.loop(ctx) }()
}

// Stop stops firing and waits for a firing transaction under way.
func (s *Scheduler) Stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
}

// Changed tells the scheduler that a schedule changed, so that it looks
// again for the earliest due time.
func (s *Scheduler) Changed() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

func (s *Scheduler) loop(ctx context.Context) {
	defer s.release()
	clk := s.d.clock
	for {
		now := clk.Now()
		next, err := s.d.store.NextScheduleDue(ctx)
		if err == nil && !next.IsZero() && !next.After(now) {
			// Full batches mean more are due: fire on without asking.
			n := s.cfg.Batch
			for err == nil && n == s.cfg.Batch {
				n, err = s.fire(ctx, s.cfg.Batch)
			}
			if err != nil && ctx.Err() == nil {
				s.d.logger.Error("fire schedules; firing them one by one", "err", err)
				err = s.fireSingly(ctx)
			}
			s.release()
			if err == nil {
				continue
			}
		}
		wake := now.Add(s.cfg.Poll)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.d.logger.Error("fire schedules", "err", err)
		} else if !next.IsZero() && next.Before(wake) {
			wake = next
		}
		select {
		case <-ctx.Done():
			return
		case <-s.poke:
		case <-clk.At(wake):
		}
	}
}

// release starts the runs a burst of firing claimed and wakes the claimer
// for those it queued. Holding them until every due schedule has fired
// keeps their execution from slowing the creation of the others' runs; a
// burst holds no more runs than the dispatcher has workers, for the
// others were queued.
func (s *Scheduler) release() {
	for _, ad := range s.held {
		s.d.Admitted(ad, nil)
	}
	clear(s.held)
	s.held = s.held[:0]
}

// fireSingly fires due schedules one per transaction after a batch failed,
// so that a schedule whose run cannot be created does not hold the others
// back: its occurrence is skipped, and logged, instead.
func (s *Scheduler) fireSingly(ctx context.Context) error {
	for range s.cfg.Batch {
		n, err := s.fire(ctx, 1)
		if err == nil {
			if n == 0 {
				return nil // none left
			}
			continue
		}
		if ctx.Err() != nil {
			return err
		}
		s.d.logger.Error("fire schedule; skipping its occurrence", "err", err)
		if err := s.skipOne(ctx); err != nil {
			return err
		}
	}
	return nil
}

// skipOne advances the earliest due schedule past now without a run.
func (s *Scheduler) skipOne(ctx context.Context) error {
	return s.d.submitUrgent(func(ctx context.Context, tx store.Tx) error {
		now := s.d.clock.Now().UTC().Truncate(time.Microsecond)
		due, err := tx.DueSchedules(ctx, now, 1)
		if err != nil {
			return err
		}
		for _, ds := range due {
			var next time.Time
			if r, err := s.rule(ds.Schedule); err == nil {
				next = r.Next(now)
			}
			s.d.metrics.missed.Inc()
			s.d.logger.Error("schedule occurrence skipped", "automation_id", ds.AutomationID, "schedule_id", ds.Schedule.ID,
				"occurrence", ds.Schedule.NextRunAt)
			if _, err := tx.AdvanceSchedule(ctx, ds.Schedule.ID, ds.Schedule.NextRunAt, next, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
}

// fire creates the runs of up to limit due schedules in one group-commit
// transaction, and returns how many were due.
func (s *Scheduler) fire(ctx context.Context, limit int) (int, error) {
	var (
		n      int
		ads    []*Admission
		fired  []time.Time // occurrences, for the lateness metric
		missed []missedNote
	)
	err := s.d.submitUrgent(func(ctx context.Context, tx store.Tx) error {
		for _, ad := range ads {
			ad.release(s.d) // slots of an attempt whose transaction failed
		}
		ads, fired, missed = ads[:0], fired[:0], missed[:0]
		now := s.d.clock.Now().UTC().Truncate(time.Microsecond)
		due, err := tx.DueSchedules(ctx, now, limit)
		if err != nil {
			return err
		}
		n = len(due)
		for i := range due {
			ds := &due[i]
			sc := ds.Schedule
			occs, next, dropped := s.plan(sc, now)
			var started time.Time
			if len(occs) > 0 {
				started = now
			}
			ok, err := tx.AdvanceSchedule(ctx, sc.ID, sc.NextRunAt, next, started)
			if err != nil {
				return err
			}
			if !ok {
				continue // another scheduler fired it
			}
			if dropped > 0 {
				missed = append(missed, missedNote{ds.AutomationID, sc.ID, dropped})
			}
			if len(occs) == 0 {
				continue
			}
			if ds.State == automation.StateDisabled {
				continue // its schedule is cleared on disable; never fire one
			}
			for _, occ := range occs {
				created := s.d.clock.Now().UTC().Truncate(time.Microsecond)
				ad, err := s.d.admit(ctx, tx, ds.MaxConcurrentRuns, &ds.Counts, scheduledRun(ds, occ, created))
				if err != nil {
					return err
				}
				ads = append(ads, ad)
				fired = append(fired, occ)
			}
		}
		return nil
	})
	committed := s.d.clock.Now()
	if err != nil {
		for _, ad := range ads {
			s.d.Admitted(ad, err)
		}
		if apperr.IsKind(err, apperr.Unavailable) {
			return 0, ctx.Err()
		}
		return 0, err
	}
	for _, m := range missed {
		s.d.metrics.missed.Add(float64(m.n))
		s.d.logger.Info("schedule missed occurrences", "automation_id", m.automationID,
			"schedule_id", m.scheduleID, "missed", m.n, "policy", string(s.cfg.CatchUp))
	}
	s.held = append(s.held, ads...)
	for _, occ := range fired {
		s.d.metrics.lateness.Observe(committed.Sub(occ).Seconds())
	}
	if s.cfg.Fired != nil && len(fired) > 0 {
		s.cfg.Fired(fired, committed)
	}
	return n, nil
}

// missedNote records occurrences a schedule dropped, for the log and the
// metric once the transaction has committed.
type missedNote struct {
	automationID, scheduleID string
	n                        int
}

// scheduledRun is the run an occurrence creates: it executes as the
// automation's owner, with no inputs.
func scheduledRun(ds *store.DueSchedule, occ, now time.Time) *run.Run {
	return &run.Run{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: ds.TenantID, AutomationID: ds.AutomationID,
		Context: run.ContextAPIAsync, Trigger: run.TriggerScheduled, ScheduleID: ds.Schedule.ID, ScheduledStartTime: occ,
		OwnerID: ds.OwnerID, SpaceID: ds.SpaceID, ExecutedByID: ds.OwnerID, Inputs: json.RawMessage(`{}`),
		CreatedAt: now, UpdatedAt: now,
	}
}

// plan decides which of a due schedule's occurrences up to now create runs
// (in order), what its next occurrence is, and how many it drops.
func (s *Scheduler) plan(sc *schedule.Schedule, now time.Time) (fire []time.Time, next time.Time, missed int) {
	r, err := s.rule(sc)
	if err != nil {
		// Only FromSpec's schedules are stored; never fire a broken one.
		s.d.logger.Error("schedule has no valid rule", "schedule_id", sc.ID, "err", err)
		return nil, time.Time{}, 0
	}
	var occs []time.Time
	t := sc.NextRunAt
	for !t.IsZero() && !t.After(now) && len(occs) < scanOccurrences {
		occs = append(occs, t)
		t = r.Next(t)
	}
	total := len(occs)
	if !t.IsZero() && !t.After(now) {
		// Down for a long time: keep the most recent occurrences only.
		occs, total = recent(r, now, max(s.cfg.CatchUpLimit, 1)), total+1
		t = r.Next(now)
	}
	switch {
	case len(occs) == 0:
	case s.cfg.CatchUp == CatchUpLatest:
		fire = occs[len(occs)-1:]
	case s.cfg.CatchUp == CatchUpSkip:
		for _, o := range occs {
			if now.Sub(o) <= MissedAfter {
				fire = append(fire, o)
			}
		}
	case s.cfg.CatchUp == CatchUpAll:
		fire = occs[max(0, len(occs)-s.cfg.CatchUpLimit):]
	}
	return fire, t, max(0, total-len(fire))
}

// recent returns up to n of the most recent occurrences at or before now,
// looking further back until it has them (or a century).
func recent(r *schedule.Rule, now time.Time, n int) []time.Time {
	var occs []time.Time
	for back := time.Hour; back < 100*365*24*time.Hour; back *= 4 {
		occs = occs[:0]
		for t := r.Next(now.Add(-back)); !t.IsZero() && !t.After(now); t = r.Next(t) {
			occs = append(occs, t)
		}
		if len(occs) >= n {
			break
		}
	}
	return occs[max(0, len(occs)-n):]
}

// rule parses a schedule's rule, once per series.
func (s *Scheduler) rule(sc *schedule.Schedule) (*schedule.Rule, error) {
	key := sc.ID + "\x00" + sc.Recurrence + "\x00" + sc.StartAt + "\x00" + sc.StopAt + "\x00" + sc.Timezone +
		"\x00" + fmt.Sprint(sc.Interval)
	s.mu.Lock()
	r := s.rules[key]
	s.mu.Unlock()
	if r != nil {
		return r, nil
	}
	r, err := sc.Rule()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.rules) >= maxRuleCache {
		clear(s.rules)
	}
	s.rules[key] = r
	s.mu.Unlock()
	return r, nil
}
