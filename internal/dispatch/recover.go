package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"automate/internal/apperr"
	"automate/internal/engine"
	"automate/internal/run"
	"automate/internal/store"
)

// renewLoop extends this node's leases at a third of their length, and
// cancels runs executing here that it no longer holds or that must stop.
func (d *Dispatcher) renewLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.clock.After(d.cfg.Lease / 3):
		}
		// Only runs that executed here before the renewal began can be
		// judged by it: one admitted meanwhile may be missing from held
		// although its lease is fine.
		// Only those runs are renewed, too: one this node holds but no
		// longer executes (its execution gave up) must expire and be
		// rescued.
		d.mu.Lock()
		before := make(map[string]bool, len(d.running))
		ids := make([]string, 0, len(d.running))
		for id := range d.running {
			before[id] = true
			ids = append(ids, id)
		}
		d.mu.Unlock()
		var held map[string]string
		err := d.store.InTx(ctx, func(tx store.Tx) error {
			l := d.lease()
			var err error
			held, err = tx.RenewLeases(ctx, l.Owner, ids, l.Until, l.Now)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				d.logger.Error("renew leases", "err", err)
			}
			continue
		}
		d.mu.Lock()
		for id, cancel := range d.running {
			if !before[id] {
				continue
			}
			if status, ok := held[id]; !ok || status == run.StatusMustStop {
				cancel()
			}
		}
		d.mu.Unlock()
	}
}

// rescue takes over live runs whose lease expired: their worker died (or
// lost touch). A run that was asked to stop ends stopped; the others
// continue from their checkpoints.
func (d *Dispatcher) rescue(ctx context.Context) {
	expired, err := d.store.ExpiredLeases(ctx, d.clock.Now(), rescueBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.logger.Error("find expired leases", "err", err)
		}
		return
	}
	for _, r := range expired {
		d.mu.Lock()
		_, here := d.running[r.ID]
		d.mu.Unlock()
		if here {
			continue // executing here; the renewal keeps it
		}
		if r.Status == run.StatusMustStop {
			d.setStatus(ctx, r, r.Status, run.StatusStopped, nil)
			continue
		}
		d.resume(ctx, r)
	}
}

// wakeParked resumes parked runs whose wake-up time has come.
func (d *Dispatcher) wakeParked(ctx context.Context, now time.Time) {
	due, err := d.store.DueParked(ctx, now, rescueBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.logger.Error("find parked runs", "err", err)
		}
		return
	}
	for _, r := range due {
		d.resume(ctx, r)
	}
}

// resume reclaims r at the attempt it was read with and executes it.
func (d *Dispatcher) resume(ctx context.Context, r *run.Run) {
	if !d.reserve() {
		return
	}
	var got *run.Run
	err := d.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		got, err = tx.Reclaim(ctx, r.ID, r.Attempt, d.lease())
		return err
	})
	if err != nil || got == nil {
		<-d.slots
		if err != nil && ctx.Err() == nil {
			d.logger.Error("reclaim run", "run_id", r.ID, "err", err)
		}
		return
	}
	d.launch(got, false)
}

// failStale fails runs that waited in the queue longer than
// run.MaxQueueAge.
func (d *Dispatcher) failStale(ctx context.Context, now time.Time) {
	stale, err := d.store.StaleQueued(ctx, now.Add(-run.MaxQueueAge), rescueBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.logger.Error("find stale queued runs", "err", err)
		}
		return
	}
	for _, r := range stale {
		errs, _ := json.Marshal([]engine.RunError{{Level: "error", Message: "the run waited in the queue for more than 14 days"}})
		d.setStatus(ctx, r, run.StatusQueued, run.StatusFailed, errs)
	}
}

// setStatus moves a run nobody executes from one status to another.
func (d *Dispatcher) setStatus(ctx context.Context, r *run.Run, from, to string, errs []byte) {
	now := d.clock.Now().UTC().Truncate(time.Microsecond)
	var ok bool
	err := d.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		ok, err = tx.SetRunStatus(ctx, r, from, store.Transition{Status: to, Now: now, Errors: errs})
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			d.logger.Error("set run status", "run_id", r.ID, "err", err)
		}
		return
	}
	if ok && run.IsFinal(to) {
		d.metrics.ended(r, to, 0)
		d.ended(r.ID)
	}
}

// RequestStop asks a run to stop, inside tx: a queued or parked run ends
// stopped at once; an executing one goes to must stop, and its worker ends
// it. A run that has ended stays as it is. It returns the status the run
// now has; call StopRequested with it after the transaction commits.
func (d *Dispatcher) RequestStop(ctx context.Context, tx store.Tx, r *run.Run, now time.Time) (string, error) {
	to := store.Transition{Status: run.StatusStopped, Now: now}
	switch {
	case run.IsFinal(r.Status) || r.Status == run.StatusMustStop:
		return r.Status, nil
	case r.Status == run.StatusQueued || r.Status == run.StatusNotStarted:
	case r.LeaseOwner == "" && !r.WakeAt.IsZero(): // parked: nobody executes it
	default:
		to.Status = run.StatusMustStop
	}
	ok, err := tx.SetRunStatus(ctx, r, r.Status, to)
	if err != nil {
		return "", err
	}
	if !ok {
		// It moved on since it was read (claimed, parked or ended): ask
		// again with what it is now.
		cur, err := tx.GetRun(ctx, r.TenantID, r.AutomationID, r.ID)
		if err != nil {
			return "", err
		}
		if cur.Status == r.Status && cur.Attempt == r.Attempt && cur.LeaseOwner == r.LeaseOwner {
			return "", apperr.Internalf(errors.New("status unchanged"), "stop run %s", r.ID)
		}
		return d.RequestStop(ctx, tx, cur, now)
	}
	return to.Status, nil
}

// StopRequested acts on a committed stop request: it interrupts the run if
// it executes here, or reports its end.
func (d *Dispatcher) StopRequested(r *run.Run, status string) {
	switch status {
	case run.StatusMustStop:
		d.Cancel(r.ID)
	case run.StatusStopped:
		if r.Status != run.StatusStopped {
			d.metrics.ended(r, status, 0)
			d.ended(r.ID)
			d.Notify()
		}
	}
}
