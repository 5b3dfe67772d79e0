// Package dispatch runs runs. The runs table is the queue: a new run is
// admitted in the transaction that creates it (started at once when its
// automation has a free slot, queued otherwise, or refused when the queue
// is full); workers hold runs under a lease that every write checks, so
// several processes on one database never execute a run twice or exceed
// an automation's maxConcurrentRuns. After every block a worker writes the
// engine's checkpoint with the block's journal entry in one transaction;
// writes of concurrent runs share transactions (group commit), since one
// SQLite writer commits a batch as fast as a single write.
package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/clock"
	"automate/internal/engine"
	"automate/internal/run"
	"automate/internal/store"
	"automate/internal/workspace"
)

// Defaults for Config.
const (
	DefaultWorkers    = 256
	DefaultLease      = 30 * time.Second
	DefaultPoll       = time.Second
	DefaultQueueCap   = 1000
	DefaultParkAfter  = 2 * time.Second
	DefaultBatchSize  = 128
	staleCheckEvery   = time.Minute
	claimAutomations  = 64
	rescueBatch       = 100
	maxWorkspaceCache = 1024
)

// Config tunes a Dispatcher; zero values take the defaults.
type Config struct {
	// Node names this process as a lease owner; random when empty.
	Node string
	// Workers bounds the runs this node executes at once. Parked
	// (sleeping) runs do not count.
	Workers int
	// Lease is how long a claim lasts without renewal; it is renewed at a
	// third of it. A run whose worker died is resumed after it ends.
	Lease time.Duration
	// Poll is how often the queue is checked without a notification.
	Poll time.Duration
	// QueueCap is the most queued runs one automation may have; a run
	// beyond it ends at once as exceeded limit.
	QueueCap int
	// ParkAfter: a SleepBlock at least this long parks the run instead of
	// holding a worker.
	ParkAfter time.Duration
	// BatchSize bounds the writes one group-commit transaction carries.
	BatchSize int
	// RunBatchesOnly lets only writes confined to one held run's rows
	// (checkpoints) share a transaction, in run-id order; every other write
	// commits alone. Set where several nodes write at once (PostgreSQL): a
	// batch locking rows of several automations deadlocks with another
	// node's batch.
	RunBatchesOnly bool
	// CommitLanes is how many group-commit transactions may run at once
	// (1 for SQLite's one writer; more where the database takes concurrent
	// writers, with small batches, since a batch locking rows of several
	// automations deadlocks with another node's batch).
	CommitLanes int
	// MaxRunDuration caps a run (engine.DefaultMaxDuration when zero).
	MaxRunDuration time.Duration
	// HTTPClient makes the runs' outbound calls.
	HTTPClient *http.Client
}

func (c *Config) defaults() {
	if c.Node == "" {
		b := make([]byte, 8)
		rand.Read(b)
		c.Node = "node-" + hex.EncodeToString(b)
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.QueueCap <= 0 {
		c.QueueCap = DefaultQueueCap
	}
	if c.ParkAfter <= 0 {
		c.ParkAfter = DefaultParkAfter
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.CommitLanes <= 0 {
		c.CommitLanes = 1
	}
}

// Dispatcher admits, claims, executes, stops and resumes runs.
type Dispatcher struct {
	store   store.Store
	clock   clock.Clock
	logger  *slog.Logger
	cfg     Config
	metrics *Metrics

	slots  chan struct{} // one per executing run
	poke   chan struct{} // something may be claimable
	writes chan *write
	urgent chan *write // scheduled runs' creation: committed before other writes

	mu      sync.Mutex
	running map[string]context.CancelFunc // run id -> cancel, for runs executing here
	waiters map[string][]chan struct{}    // run id -> closed when it ends here
	wsCache map[string]*workspace.Workspace
	// nextWake is the earliest wake-up of a parked run, as last read from
	// the store or noted by a run that parked here since (zero: none).
	nextWake time.Time

	ctx        context.Context // runs execute under it; Stop cancels it
	cancel     context.CancelFunc
	commitStop chan struct{}
	wg         sync.WaitGroup // the claim and renew loops
	commitDone chan struct{}
	runs       sync.WaitGroup // executing runs
	started    bool
	stopOnce   sync.Once
}

// New returns a dispatcher; Start sets it going.
func New(st store.Store, clk clock.Clock, logger *slog.Logger, cfg Config, m *Metrics) *Dispatcher {
	cfg.defaults()
	if m == nil {
		m = NewMetrics(nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{
		ctx: ctx, cancel: cancel, commitStop: make(chan struct{}), commitDone: make(chan struct{}),
		store: st, clock: clk, logger: logger, cfg: cfg, metrics: m,
		slots:   make(chan struct{}, cfg.Workers),
		poke:    make(chan struct{}, 1),
		writes:  make(chan *write, cfg.BatchSize*4),
		urgent:  make(chan *write, 4),
		running: map[string]context.CancelFunc{},
		waiters: map[string][]chan struct{}{},
		wsCache: map[string]*workspace.Workspace{},
	}
}

// Start begins claiming, rescuing and waking runs. Runs whose lease
// expired (their worker died) are resumed from their checkpoints.
// It runs until Stop; ctx only carries values.
func (d *Dispatcher) Start(ctx context.Context) {
	d.started = true
	var lanes sync.WaitGroup
	for range d.cfg.CommitLanes {
		lanes.Go(d.commitLoop)
	}
	go func() { lanes.Wait(); close(d.commitDone) }()
	d.wg.Add(2)
	go func() { defer d.wg.Done(); d.loop(d.ctx) }()
	go func() { defer d.wg.Done(); d.renewLoop(d.ctx) }()
}

// Stop stops claiming and interrupts the runs executing here without
// ending them: each keeps its lease and last checkpoint, and is resumed
// when the lease expires (by another node, or by this server's next
// start). Calling it again does nothing.
func (d *Dispatcher) Stop() {
	d.stopOnce.Do(d.stop)
}

func (d *Dispatcher) stop() {
	d.cancel()
	d.wg.Wait()
	d.runs.Wait()
	if d.started {
		close(d.commitStop)
		<-d.commitDone
	}
}

// Notify tells the dispatcher that a run may be claimable (a run was
// queued or a slot freed).
func (d *Dispatcher) Notify() {
	select {
	case d.poke <- struct{}{}:
	default:
	}
}

// RunEnded is told that another node ended a run: its waiters here wake
// (a sync run-URL call answered here for a run executed there), and the
// claimer looks again, since a slot of its automation freed.
func (d *Dispatcher) RunEnded(runID string) {
	d.ended(runID)
	d.Notify()
}

// Cancel cancels a run executing on this node (after a stop request or
// the deletion of its automation); it reports whether it was here.
func (d *Dispatcher) Cancel(runID string) bool {
	d.mu.Lock()
	cancel := d.running[runID]
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return cancel != nil
}

// Create stores a new run in the next group-commit transaction: load
// (which runs inside it) reads and locks the automation, checks the
// caller's rights and returns the run to add; Admit decides its status.
// Creating runs this way lets many requests share one commit.
func (d *Dispatcher) Create(load func(ctx context.Context, tx store.Tx) (*automation.Automation, *run.Run, error)) (*run.Run, error) {
	var ad *Admission
	err := d.submit(func(ctx context.Context, tx store.Tx) error {
		ad.release(d) // a slot taken by an attempt whose transaction failed
		ad = nil
		a, r, err := load(ctx, tx)
		if err != nil {
			return err
		}
		ad, err = d.Admit(ctx, tx, a, r)
		return err
	})
	d.Admitted(ad, err)
	if err != nil {
		return nil, err
	}
	return ad.run, nil
}

// Admission is a new run's fate, decided in the transaction creating it.
type Admission struct {
	run     *run.Run
	started bool // claimed at once: Admitted must execute it
	slot    bool // holds a worker slot
}

// Admit stores a new run of a (locked by tx) in the status its
// automation's queue allows, and points the automation at it. Call
// Admitted with the result after the transaction ends.
func (d *Dispatcher) Admit(ctx context.Context, tx store.Tx, a *automation.Automation, r *run.Run) (*Admission, error) {
	counts, err := tx.CountRuns(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return d.admit(ctx, tx, a.MaxConcurrentRuns, &counts, r)
}

// admit is Admit for a caller that has counted the automation's live runs
// under its lock; it counts r in.
func (d *Dispatcher) admit(ctx context.Context, tx store.Tx, maxConcurrent int, counts *store.RunCounts, r *run.Run) (*Admission, error) {
	now := r.CreatedAt
	ad := &Admission{run: r}
	switch {
	case counts.Queued >= d.cfg.QueueCap:
		r.Status, r.StopTime = run.StatusExceededLimit, now
		r.Errors, _ = json.Marshal([]engine.RunError{{Level: "error",
			Message: fmt.Sprintf("the automation already has %d queued runs, its limit", d.cfg.QueueCap)}})
	case counts.Queued == 0 && counts.Active < maxConcurrent && d.reserve():
		ad.slot, ad.started = true, true
		r.Status, r.StartTime, r.Attempt = run.StatusRunning, now, 1
		r.LeaseOwner, r.LeaseExpiresAt = d.cfg.Node, d.clock.Now().Add(d.cfg.Lease)
	default:
		r.Status = run.StatusQueued
	}
	if err := tx.InsertRun(ctx, r); err != nil {
		ad.release(d)
		return nil, err
	}
	if err := tx.SetLastRun(ctx, r); err != nil {
		ad.release(d)
		return nil, err
	}
	switch r.Status {
	case run.StatusRunning:
		counts.Active++
	case run.StatusQueued:
		counts.Queued++
	}
	return ad, nil
}

func (ad *Admission) release(d *Dispatcher) {
	if ad != nil && ad.slot {
		ad.slot = false
		<-d.slots
	}
}

// Admitted acts on an admission once its transaction ended with err:
// it starts a run claimed at once, or wakes the claimer for a queued one.
func (d *Dispatcher) Admitted(ad *Admission, err error) {
	if ad == nil {
		return
	}
	if err != nil {
		ad.release(d)
		return
	}
	switch {
	case ad.started:
		ad.slot = false // the run owns it now
		d.launch(ad.run, true)
	case ad.run.Status == run.StatusQueued:
		d.Notify()
	default:
		d.metrics.ended(ad.run, ad.run.Status, 0)
	}
}

// reserve takes a worker slot if one is free.
func (d *Dispatcher) reserve() bool {
	select {
	case d.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Wait blocks until the run has ended (or ctx is done) and returns it.
// Runs ending on this node wake it at once; it also polls, for runs that
// another node executes.
func (d *Dispatcher) Wait(ctx context.Context, tenantID, automationID, runID string) (*run.Run, error) {
	done := make(chan struct{})
	d.mu.Lock()
	d.waiters[runID] = append(d.waiters[runID], done)
	d.mu.Unlock()
	defer d.unwait(runID, done)
	for {
		r, err := d.store.GetRun(ctx, tenantID, automationID, runID)
		if err != nil {
			return nil, err
		}
		if run.IsFinal(r.Status) {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-done:
			done = make(chan struct{})
			d.mu.Lock()
			d.waiters[runID] = append(d.waiters[runID], done)
			d.mu.Unlock()
		case <-d.clock.After(d.cfg.Poll):
		}
	}
}

func (d *Dispatcher) unwait(runID string, done chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ws := d.waiters[runID]
	for i, w := range ws {
		if w == done {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(d.waiters, runID)
	} else {
		d.waiters[runID] = ws
	}
}

// ended wakes the waiters of a run.
func (d *Dispatcher) ended(runID string) {
	d.mu.Lock()
	ws := d.waiters[runID]
	delete(d.waiters, runID)
	d.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// loop claims queued runs when woken (a run was queued or a slot freed),
// and when a tick is due (every Poll, or at the next wake-up if sooner)
// also resumes runs whose worker died, wakes parked runs and fails runs
// queued too long. Ticks go by the clock, not by which wake-up came, so
// that a stream of notifications cannot starve them.
func (d *Dispatcher) loop(ctx context.Context) {
	var lastStale, nextTick time.Time
	for {
		if now := d.clock.Now(); !now.Before(nextTick) {
			if now.Sub(lastStale) >= staleCheckEvery {
				d.failStale(ctx, now)
				lastStale = now
			}
			d.rescue(ctx)
			d.wakeParked(ctx, now)
			// Parked runs of other nodes, and of this one before a restart.
			if next, err := d.store.NextWake(ctx); err == nil {
				d.mu.Lock()
				d.nextWake = next
				d.mu.Unlock()
			}
			nextTick = now.Add(d.cfg.Poll)
		}
		d.claim(ctx)
		// A wake-up already past (its run waits for a free worker) must not
		// make the loop spin: a freed slot notifies, and ticks go on.
		d.mu.Lock()
		if w := d.nextWake; w.After(d.clock.Now()) && w.Before(nextTick) {
			nextTick = w
		}
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-d.poke:
		case <-d.clock.At(nextTick):
		}
	}
}

// parked notes the wake-up time of a run that parked here, so that the
// loop wakes for it without asking the store.
func (d *Dispatcher) parked(at time.Time) {
	d.mu.Lock()
	if d.nextWake.IsZero() || at.Before(d.nextWake) {
		d.nextWake = at
	}
	d.mu.Unlock()
	d.Notify()
}

func (d *Dispatcher) lease() store.Lease {
	now := d.clock.Now()
	return store.Lease{Owner: d.cfg.Node, Until: now.Add(d.cfg.Lease), Now: now}
}

// claim starts queued runs while there are free slots: per automation,
// in one transaction that locks the automation, counts its active runs and
// claims the oldest queued ones that fit.
func (d *Dispatcher) claim(ctx context.Context) {
	refs, err := d.store.QueuedAutomations(ctx, claimAutomations)
	if err != nil {
		if ctx.Err() == nil {
			d.logger.Error("list queued automations", "err", err)
		}
		return
	}
	for _, ref := range refs {
		free := cap(d.slots) - len(d.slots)
		if free <= 0 || ctx.Err() != nil {
			return
		}
		var claimed []*run.Run
		err := d.store.InTx(ctx, func(tx store.Tx) error {
			claimed = nil
			a, err := tx.LockAutomation(ctx, ref.TenantID, ref.ID)
			if err != nil {
				return err
			}
			c, err := tx.CountRuns(ctx, a.ID)
			if err != nil {
				return err
			}
			n := min(a.MaxConcurrentRuns-c.Active, free)
			if n <= 0 {
				return nil
			}
			claimed, err = tx.ClaimQueued(ctx, a.ID, n, d.lease())
			return err
		})
		if err != nil {
			if ctx.Err() == nil && !apperr.IsKind(err, apperr.NotFound) {
				d.logger.Error("claim runs", "automation_id", ref.ID, "err", err)
			}
			continue
		}
		for _, r := range claimed {
			d.slots <- struct{}{}
			d.launch(r, false)
		}
	}
}
