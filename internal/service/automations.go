// Package service holds automate's use cases: each method checks who may
// act (internal/access), applies the domain rules (internal/automation) and
// reads or writes through the store in one transaction. The HTTP layer
// calls only this package.
package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"automate/internal/access"
	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/clock"
	"automate/internal/dispatch"
	"automate/internal/run"
	"automate/internal/schedule"
	"automate/internal/store"
)

// Automations is the automations and settings use cases.
type Automations struct {
	store     store.Store
	dispatch  *dispatch.Dispatcher
	scheduler *dispatch.Scheduler
	clock     clock.Clock
	logger    *slog.Logger
}

// NewAutomations returns the use cases over st. d is told when runs are
// removed with their automation's history, so that it interrupts those
// executing; sched is told when a schedule changes, so that it wakes for
// an earlier occurrence. Either may be nil when nothing executes runs.
func NewAutomations(st store.Store, d *dispatch.Dispatcher, sched *dispatch.Scheduler, clk clock.Clock, logger *slog.Logger) *Automations {
	return &Automations{store: st, dispatch: d, scheduler: sched, clock: clk, logger: logger}
}

// Detail is an automation with its schedule, as the detail endpoints
// show it.
type Detail struct {
	*automation.Automation
	Schedule *schedule.Schedule // nil: none
	// LastRun is the latest run, on a read by a caller who may read the
	// automation's runs; nil otherwise.
	LastRun *run.Run
}

// saveSchedule stores the schedule an automation has after a change (nil
// removes it) when it differs from the one it had.
func (s *Automations) saveSchedule(ctx context.Context, tx store.Tx, a *automation.Automation, before, after *schedule.Schedule) error {
	switch {
	case after == before:
		return nil
	case after == nil:
		return tx.DeleteSchedule(ctx, a.ID)
	}
	if after.ID == "" {
		after.ID = newID()
	}
	return tx.PutSchedule(ctx, a.TenantID, a.ID, after)
}

// schedulesChanged wakes the scheduler after a commit that changed one.
func (s *Automations) schedulesChanged() {
	if s.scheduler != nil {
		s.scheduler.Changed()
	}
}

// removeHistory deletes an automation's runs (or, with the automation,
// lets the cascade do it) and returns the live ones, whose execution
// must be interrupted after commit.
func removeHistory(ctx context.Context, tx store.Tx, a *automation.Automation, withAutomation bool) ([]string, error) {
	live, err := tx.LiveRuns(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if withAutomation {
		err = tx.DeleteAutomation(ctx, a.TenantID, a.ID)
	} else {
		err = tx.DeleteRunHistory(ctx, a.TenantID, a.ID)
	}
	ids := make([]string, len(live))
	for i, r := range live {
		ids[i] = r.ID
	}
	return ids, err
}

// interrupt stops the execution of removed runs.
func (s *Automations) interrupt(ids []string) {
	if s.dispatch == nil {
		return
	}
	for _, id := range ids {
		s.dispatch.Cancel(id)
	}
	if len(ids) > 0 {
		s.dispatch.Notify()
	}
}

func (s *Automations) now() time.Time {
	return s.clock.Now().UTC().Truncate(time.Microsecond)
}

func newID() string {
	// UUIDv7 ids sort by creation time, so "+id" is creation order.
	return uuid.Must(uuid.NewV7()).String()
}

func spaceNotFound(spaceID string) error {
	return apperr.E(apperr.Invalid, apperr.CodeSpaceNotFound, "Space not found", "space %q does not exist or is not available to you", spaceID)
}

// Create stores a new automation owned by p, with its schedule.
func (s *Automations) Create(ctx context.Context, p access.Principal, in automation.Input) (Detail, error) {
	if err := tenantAction(p, access.CreateAutomation); err != nil {
		return Detail{}, err
	}
	var created Detail
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		spaceID := ""
		if in.SpaceID != nil && *in.SpaceID != "" {
			spaceID = *in.SpaceID
			if err := authorizeAddToSpace(ctx, tx, p, spaceID); err != nil {
				return err
			}
		}
		settings, err := tx.LockSettings(ctx, p.TenantID)
		if err != nil {
			return err
		}
		now := s.now()
		a, sched, err := automation.NewFromInput(in, settings, now)
		if err != nil {
			return err
		}
		a.ID, a.TenantID, a.OwnerID, a.SpaceID, a.CreatedAt, a.UpdatedAt = newID(), p.TenantID, p.UserID, spaceID, now, now
		if err := tx.InsertAutomation(ctx, a); err != nil {
			return err
		}
		if err := s.saveSchedule(ctx, tx, a, nil, sched); err != nil {
			return err
		}
		created = Detail{Automation: a, Schedule: sched}
		return nil
	})
	if err == nil && created.Schedule != nil {
		s.schedulesChanged()
	}
	return created, err
}

// Get reads one automation with its schedule.
func (s *Automations) Get(ctx context.Context, p access.Principal, id string) (Detail, error) {
	a, err := s.store.GetAutomation(ctx, p.TenantID, id)
	if err != nil {
		return Detail{}, err
	}
	t, err := automationTarget(ctx, s.store, p, a)
	if err != nil {
		return Detail{}, err
	}
	if err := authorize(p, access.ReadAutomation, t, "automation \""+a.ID+"\""); err != nil {
		return Detail{}, err
	}
	sched, err := s.store.GetSchedule(ctx, a.ID)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Automation: a, Schedule: sched}
	if a.LastRunID != "" && access.Can(p, access.ReadAutomationRuns, t) == access.Allow {
		d.LastRun, err = s.store.GetRun(ctx, a.TenantID, a.ID, a.LastRunID)
		if apperr.IsKind(err, apperr.NotFound) {
			d.LastRun, err = nil, nil // pruned meanwhile
		}
	}
	return d, err
}

// modify loads an automation in a write transaction, checks that p may take
// action on it, and lets fn change it within the same transaction.
func (s *Automations) modify(ctx context.Context, p access.Principal, id string, action access.Action,
	fn func(tx store.Tx, a *automation.Automation) error) (*automation.Automation, error) {
	var out *automation.Automation
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		a, err := tx.LockAutomation(ctx, p.TenantID, id)
		if err != nil {
			return err
		}
		if err := authorizeAutomation(ctx, tx, p, action, a); err != nil {
			return err
		}
		if err := fn(tx, a); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, err
}

// Update changes the fields present in in. The run mode is derived again
// on every save, so a schedule whose series ended stops making the
// automation "scheduled" at its next save.
func (s *Automations) Update(ctx context.Context, p access.Principal, id string, in automation.Input) (Detail, error) {
	var (
		out     Detail
		changed bool
	)
	_, err := s.modify(ctx, p, id, access.UpdateAutomation, func(tx store.Tx, a *automation.Automation) error {
		settings, err := tx.LockSettings(ctx, p.TenantID)
		if err != nil {
			return err
		}
		before, err := tx.GetSchedule(ctx, a.ID)
		if err != nil {
			return err
		}
		in.SpaceID = nil // moving between spaces is change-space's job
		now := s.now()
		after, err := a.Apply(in, settings, before, now)
		if err != nil {
			return err
		}
		a.UpdatedAt = now
		if err := tx.UpdateAutomation(ctx, a); err != nil {
			return err
		}
		changed = after != before
		out = Detail{Automation: a, Schedule: after}
		return s.saveSchedule(ctx, tx, a, before, after)
	})
	if err != nil {
		return Detail{}, err
	}
	if changed {
		s.schedulesChanged()
	}
	return out, nil
}

// Delete removes an automation and its run history; its live runs stop
// first (queued ones never start, executing ones are interrupted).
func (s *Automations) Delete(ctx context.Context, p access.Principal, id string) error {
	var live []string
	_, err := s.modify(ctx, p, id, access.DeleteAutomation, func(tx store.Tx, a *automation.Automation) error {
		var err error
		live, err = removeHistory(ctx, tx, a, true)
		return err
	})
	if err == nil {
		s.interrupt(live)
	}
	return err
}

// Copy duplicates an automation under a new name. The copy belongs to p,
// stays in the same space, is available, and has a new execution token and
// no run history.
func (s *Automations) Copy(ctx context.Context, p access.Principal, id, name string) (*automation.Automation, error) {
	if err := automation.ValidateName(name); err != nil {
		return nil, err
	}
	var copied *automation.Automation
	var sched *schedule.Schedule
	_, err := s.modify(ctx, p, id, access.CopyAutomation, func(tx store.Tx, src *automation.Automation) error {
		now := s.now()
		var err error
		if sched, err = tx.GetSchedule(ctx, src.ID); err != nil {
			return err
		}
		// The copy stays in the source's shared space when p may add to
		// it, and lands in p's personal space otherwise.
		spaceID := src.SpaceID
		if spaceID != "" {
			if err := authorizeAddToSpace(ctx, tx, p, spaceID); err != nil {
				if !apperr.IsKind(err, apperr.Invalid) && !apperr.IsKind(err, apperr.Forbidden) {
					return err
				}
				spaceID = ""
			}
		}
		c := &automation.Automation{
			ID: newID(), TenantID: src.TenantID, Name: name, Description: src.Description,
			State: automation.StateAvailable, OwnerID: p.UserID, SpaceID: spaceID, RunMode: src.RunMode,
			Workspace: src.Workspace, SnippetIDs: src.SnippetIDs, EndpointIDs: src.EndpointIDs, ConnectorIDs: src.ConnectorIDs,
			ExecutionToken: automation.NewExecutionToken(), MaxConcurrentRuns: src.MaxConcurrentRuns,
			CreatedAt: now, UpdatedAt: now,
		}
		copied = c
		if err := tx.InsertAutomation(ctx, c); err != nil {
			return err
		}
		if sched == nil {
			return nil
		}
		// The copy has the same series, starting afresh.
		sc := *sched
		sc.ID, sc.LastStartedAt = "", time.Time{}
		sc.Reschedule(now, true)
		return s.saveSchedule(ctx, tx, c, nil, &sc)
	})
	if err == nil && sched != nil {
		s.schedulesChanged()
	}
	return copied, err
}

// SetEnabled enables or disables an automation. Doing it twice is harmless.
func (s *Automations) SetEnabled(ctx context.Context, p access.Principal, id string, enabled bool) error {
	action, state := access.DisableAutomation, automation.StateDisabled
	if enabled {
		action, state = access.EnableAutomation, automation.StateAvailable
	}
	var sched *schedule.Schedule
	_, err := s.modify(ctx, p, id, action, func(tx store.Tx, a *automation.Automation) error {
		if a.State == state {
			return nil
		}
		now := s.now()
		a.State, a.UpdatedAt = state, now
		if err := tx.UpdateAutomation(ctx, a); err != nil {
			return err
		}
		var err error
		if sched, err = tx.GetSchedule(ctx, a.ID); err != nil || sched == nil {
			return err
		}
		// Disabled, nothing fires; enabled again, the series resumes from
		// now, without replaying what it missed.
		sched.Reschedule(now, enabled)
		return tx.PutSchedule(ctx, a.TenantID, a.ID, sched)
	})
	if err == nil && sched != nil {
		s.schedulesChanged()
	}
	return err
}

// ChangeOwner gives an automation to another user of the tenant and removes
// its run history, as Qlik does. An automation in its owner's personal space
// moves to the new owner's personal space.
func (s *Automations) ChangeOwner(ctx context.Context, p access.Principal, id, userID string) error {
	if err := automation.ValidateUserID(userID); err != nil {
		return err
	}
	var live []string
	_, err := s.modify(ctx, p, id, access.ChangeOwner, func(tx store.Tx, a *automation.Automation) error {
		var err error
		if live, err = removeHistory(ctx, tx, a, false); err != nil {
			return err
		}
		a.OwnerID, a.UpdatedAt = userID, s.now()
		a.LastRunID, a.LastRunAt, a.LastRunStatus = "", time.Time{}, ""
		return tx.UpdateAutomation(ctx, a)
	})
	if err == nil {
		s.interrupt(live)
	}
	return err
}

// ChangeSpace moves an automation to a shared space, or back to its
// owner's personal space when spaceID is empty. The caller must be allowed
// to move it and to add content to the target space.
func (s *Automations) ChangeSpace(ctx context.Context, p access.Principal, id, spaceID string) error {
	_, err := s.modify(ctx, p, id, access.ChangeSpace, func(tx store.Tx, a *automation.Automation) error {
		if spaceID == a.SpaceID {
			return nil
		}
		if spaceID != "" {
			if err := authorizeAddToSpace(ctx, tx, p, spaceID); err != nil {
				return err
			}
		}
		a.SpaceID, a.UpdatedAt = spaceID, s.now()
		return tx.UpdateAutomation(ctx, a)
	})
	return err
}

// GetSettings reads the tenant's settings; every user of the tenant may.
func (s *Automations) GetSettings(ctx context.Context, p access.Principal) (automation.Settings, error) {
	if err := tenantAction(p, access.ReadSettings); err != nil {
		return automation.Settings{}, err
	}
	return s.store.GetSettings(ctx, p.TenantID)
}

// UpdateSettings changes the tenant's settings. Lowering the cap below what
// an automation already uses is a conflict and changes nothing.
func (s *Automations) UpdateSettings(ctx context.Context, p access.Principal, next automation.Settings) (automation.Settings, error) {
	if err := tenantAction(p, access.UpdateSettings); err != nil {
		return automation.Settings{}, err
	}
	if err := automation.ValidateSettings(next); err != nil {
		return automation.Settings{}, err
	}
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.LockSettings(ctx, p.TenantID); err != nil {
			return err
		}
		inUse, err := tx.MaxConcurrentRunsInUse(ctx, p.TenantID)
		if err != nil {
			return err
		}
		if inUse > next.MaxConcurrentRunsPerAutomation {
			return apperr.E(apperr.Conflict, apperr.CodeSettingsConflict, "Conflict",
				"an automation has maxConcurrentRuns %d; lower it before setting maxConcurrentRunsPerAutomation to %d",
				inUse, next.MaxConcurrentRunsPerAutomation)
		}
		return tx.PutSettings(ctx, p.TenantID, next, s.now())
	})
	if err != nil {
		return automation.Settings{}, err
	}
	return next, nil
}
