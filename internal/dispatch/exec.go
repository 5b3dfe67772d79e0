package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/engine"
	"automate/internal/run"
	"automate/internal/store"
	"automate/internal/workspace"
)

// launch executes r in its own goroutine; the caller holds a slot for it,
// which the run gives back when it stops executing here.
func (d *Dispatcher) launch(r *run.Run, fresh bool) {
	ctx, cancel := context.WithCancel(d.ctx)
	d.mu.Lock()
	d.running[r.ID] = cancel
	d.mu.Unlock()
	d.runs.Add(1)
	go func() {
		defer d.runs.Done()
		defer func() {
			cancel()
			d.mu.Lock()
			delete(d.running, r.ID)
			d.mu.Unlock()
			<-d.slots
			d.Notify() // a slot is free
		}()
		d.execute(ctx, cancel, r, fresh)
	}()
}

// Workspace parses an automation's workspace, once per version (the
// cache is keyed by id and updatedAt); the run URL reads its StartBlock
// from here too.
func (d *Dispatcher) Workspace(a *automation.Automation) (*workspace.Workspace, error) {
	key := a.ID + "@" + strconv.FormatInt(a.UpdatedAt.UnixMicro(), 10)
	d.mu.Lock()
	ws := d.wsCache[key]
	d.mu.Unlock()
	if ws != nil {
		return ws, nil
	}
	ws, err := workspace.Parse(a.Workspace)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if len(d.wsCache) >= maxWorkspaceCache {
		clear(d.wsCache)
	}
	d.wsCache[key] = ws
	d.mu.Unlock()
	return ws, nil
}

// execute runs r with the engine, from its checkpoint when it has one, and
// records how it ended.
func (d *Dispatcher) execute(ctx context.Context, cancel context.CancelFunc, r *run.Run, fresh bool) {
	log := d.logger.With("run_id", r.ID, "automation_id", r.AutomationID)
	w := &runWriter{d: d, run: r, cancel: cancel}
	// Read without the run's context: a stop that cancels it this early
	// must still end the run (the engine sees the cancellation at once),
	// not leave it "must stop" under a lease this node keeps renewing.
	a, err := d.store.GetAutomation(context.WithoutCancel(ctx), r.TenantID, r.AutomationID)
	if err != nil {
		if !apperr.IsKind(err, apperr.NotFound) && d.ctx.Err() == nil {
			log.Error("load automation", "err", err)
		}
		return // deleted, or the lease expires and the run is resumed
	}
	ws, err := d.Workspace(a)
	if err != nil {
		d.finish(log, w, engine.Result{Status: run.StatusFailed, Output: []any{},
			Errors: []engine.RunError{{Level: "error", Message: "the workspace cannot run: " + err.Error()}}})
		return
	}
	var inputs any
	if len(r.Inputs) > 0 {
		json.Unmarshal(r.Inputs, &inputs)
	}
	opt := engine.Options{
		RunID: r.ID, Context: r.Context, Inputs: inputs, Clock: d.clock, Journal: w, Checkpoints: w,
		MaxDuration: d.cfg.MaxRunDuration, HTTPClient: d.cfg.HTTPClient, AutomationID: a.ID, ParkAfter: d.cfg.ParkAfter,
	}
	var eng *engine.Engine
	if len(r.Checkpoint) > 0 {
		var st engine.State
		if err := json.Unmarshal(r.Checkpoint, &st); err != nil {
			log.Error("decode checkpoint", "err", err)
			d.finish(log, w, engine.Result{Status: run.StatusFailed, Output: []any{},
				Errors: []engine.RunError{{Level: "error", Message: "the run's checkpoint cannot be read"}}})
			return
		}
		eng = engine.Resume(ws, opt, &st)
		log.Info("run resumed", "attempt", r.Attempt, "journal_seq", r.JournalSeq)
	} else {
		eng = engine.New(ws, opt)
	}
	if r.Status == run.StatusMustStop {
		cancel()
	}
	if fresh {
		d.metrics.started(r, d.clock.Now().Sub(r.CreatedAt))
	}
	res, err := eng.Run(ctx)
	switch {
	case errors.Is(err, store.ErrLeaseLost):
		log.Info("run abandoned: its lease was lost")
		return
	case err != nil:
		if d.ctx.Err() == nil {
			log.Error("run interrupted; it resumes when its lease expires", "err", err)
		}
		return
	case d.ctx.Err() != nil:
		return // shutting down: resumed from its checkpoint later
	case !res.WakeAt.IsZero():
		log.Debug("run parked", "wake_at", res.WakeAt)
		d.parked(res.WakeAt)
		return
	}
	d.finish(log, w, res)
}

// finish records a run's end and wakes whoever waits for it.
func (d *Dispatcher) finish(log *slog.Logger, w *runWriter, res engine.Result) {
	r := w.run
	now := d.clock.Now().UTC().Truncate(time.Microsecond)
	output, _ := json.Marshal(res.Output)
	errs, _ := json.Marshal(res.Errors)
	metrics, _ := json.Marshal(res.Metrics)
	if res.Errors == nil {
		errs = []byte("[]")
	}
	end := store.Ending{Run: r, Status: res.Status, Title: res.Title, Output: output, Errors: errs, Metrics: metrics,
		Journal: w.pending, Now: now, Usage: usageOf(r, now, res.Metrics)}
	err := d.submit(func(ctx context.Context, tx store.Tx) error { return tx.EndRun(ctx, end) })
	if err != nil {
		if !errors.Is(err, store.ErrLeaseLost) {
			log.Error("record run end", "err", err)
		}
		return
	}
	d.metrics.ended(r, res.Status, now.Sub(r.StartTime))
	d.ended(r.ID)
}

// usageOf is what an ended run adds to its day's usage.
func usageOf(r *run.Run, now time.Time, m engine.Metrics) *store.Usage {
	u := &store.Usage{TenantID: r.TenantID, Day: now.UTC().Format(time.DateOnly), AutomationID: r.AutomationID, Runs: 1,
		BandwidthIn: m.Network.RxBytes, BandwidthOut: m.Network.TxBytes}
	if !r.StartTime.IsZero() {
		u.DurationMicros = now.Sub(r.StartTime).Microseconds()
	}
	switch r.Trigger {
	case run.TriggerScheduled:
		u.ScheduledRuns = 1
	case run.TriggerTriggered:
		u.TriggeredRuns = 1
	case run.TriggerWebhook:
		u.WebhookRuns = 1
	}
	return u
}

// runWriter is a run's journal and checkpointer: it keeps the journal
// entries of the running block and writes them with the checkpoint that
// follows, in one transaction.
type runWriter struct {
	d       *Dispatcher
	run     *run.Run
	cancel  context.CancelFunc
	pending []store.JournalEntry
}

// Record keeps a journal entry for the next checkpoint.
func (w *runWriter) Record(_ context.Context, e engine.Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	w.pending = append(w.pending, store.JournalEntry{Seq: e.Seq, Entry: b})
	return nil
}

// Checkpoint writes the state and the pending journal entries; a stop
// request it finds cancels the run.
func (w *runWriter) Checkpoint(_ context.Context, s *engine.State) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	p := store.Progress{RunID: w.run.ID, Attempt: w.run.Attempt, Lease: w.d.lease(), Checkpoint: b, Journal: w.pending, WakeAt: s.WakeAt}
	var status string
	err = w.d.submitRun(w.run.ID, func(ctx context.Context, tx store.Tx) error {
		var err error
		status, err = tx.SaveProgress(ctx, p)
		return err
	})
	if err != nil {
		return err
	}
	w.pending = nil
	if status == run.StatusMustStop {
		w.cancel()
		if !s.WakeAt.IsZero() {
			// The stop came as the run parked, so no worker holds it: end it
			// here. The engine returns parked, and nothing else is written.
			parked := *w.run
			parked.LeaseOwner = ""
			w.d.setStatus(context.Background(), &parked, run.StatusMustStop, run.StatusStopped, nil)
		}
	}
	return nil
}

// write is one unit of a group commit.
type write struct {
	fn func(ctx context.Context, tx store.Tx) error
	// runID is set for a write that touches only the row (and journal) of
	// a run this node holds; such writes of different runs never lock the
	// same rows, so they may share a transaction on any database.
	runID string
	err   error
	done  chan struct{}
}

// submit has fn run in the next group-commit transaction and waits for
// its commit. ErrLeaseLost from fn does not spoil the others' writes: it is
// returned before fn writes anything.
func (d *Dispatcher) submit(fn func(ctx context.Context, tx store.Tx) error) error {
	return d.submitTo(d.writes, "", fn)
}

// submitRun is submit for a write touching only run runID's own rows.
func (d *Dispatcher) submitRun(runID string, fn func(ctx context.Context, tx store.Tx) error) error {
	return d.submitTo(d.writes, runID, fn)
}

// submitUrgent is submit for writes that must not wait behind the
// progress of executing runs: the creation of scheduled runs, whose
// lateness counts. They commit in transactions of their own, first.
func (d *Dispatcher) submitUrgent(fn func(ctx context.Context, tx store.Tx) error) error {
	return d.submitTo(d.urgent, "", fn)
}

func (d *Dispatcher) submitTo(ch chan *write, runID string, fn func(ctx context.Context, tx store.Tx) error) error {
	w := &write{fn: fn, runID: runID, done: make(chan struct{})}
	select {
	case ch <- w:
	case <-d.commitDone:
		return apperr.E(apperr.Unavailable, apperr.CodeUnavailable, "Service unavailable", "the server is shutting down")
	}
	<-w.done
	return w.err
}

func (d *Dispatcher) commitLoop() {
	ctx := context.Background() // a commit is never cut short: runs wait for it
	batch := make([]*write, 0, d.cfg.BatchSize)
	for {
		// Urgent writes first, and never in a batch with others.
		select {
		case w := <-d.urgent:
			d.commit(ctx, append(batch[:0], w))
			continue
		default:
		}
		select {
		case w := <-d.urgent:
			d.commit(ctx, append(batch[:0], w))
		case w := <-d.writes:
			batch = append(batch[:0], w)
			var alone *write // a write that may not join this batch
		drain:
			for len(batch) < d.cfg.BatchSize && d.batchable(w) {
				select {
				case w := <-d.writes:
					if !d.batchable(w) {
						alone = w
						break drain
					}
					batch = append(batch, w)
				default:
					break drain
				}
			}
			if d.cfg.RunBatchesOnly {
				// Rows locked in one order by every lane: no deadlock.
				slices.SortFunc(batch, func(a, b *write) int { return strings.Compare(a.runID, b.runID) })
			}
			d.commit(ctx, batch)
			if alone != nil {
				d.commit(ctx, append(batch[:0], alone))
			}
		case <-d.commitStop:
			return
		}
	}
}

// batchable reports whether w may share a transaction with others.
func (d *Dispatcher) batchable(w *write) bool {
	return !d.cfg.RunBatchesOnly || w.runID != ""
}

func (d *Dispatcher) commit(ctx context.Context, batch []*write) {
	err := d.store.InTx(ctx, func(tx store.Tx) error {
		for _, w := range batch {
			w.err = w.fn(ctx, tx)
			if w.err != nil && !errors.Is(w.err, store.ErrLeaseLost) {
				return w.err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		// One write spoilt the batch: give each its own transaction.
		for _, w := range batch {
			d.commit(ctx, []*write{w})
		}
		return
	}
	for _, w := range batch {
		if err != nil {
			w.err = err
		}
		close(w.done)
	}
}
