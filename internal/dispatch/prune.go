package dispatch

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"automate/internal/clock"
	"automate/internal/store"
)

// Retention defaults: Qlik's documented history per automation.
const (
	DefaultKeepRuns         = 5000
	DefaultKeepJournalBytes = 500 << 20
	pruneEvery              = time.Minute
	pruneBatch              = 200
	pruneAutomations        = 100
)

// Retention says how much run history each automation keeps.
type Retention struct {
	Runs         int
	JournalBytes int64
}

// Pruner deletes finished runs beyond the retention limits, oldest first,
// in small transactions of its own, so that the queue's writes never wait
// long behind it.
type Pruner struct {
	store  store.Store
	clock  clock.Clock
	logger *slog.Logger
	keep   Retention
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// NewPruner returns a pruner; zero limits take the defaults.
func NewPruner(st store.Store, clk clock.Clock, logger *slog.Logger, keep Retention) *Pruner {
	if keep.Runs <= 0 {
		keep.Runs = DefaultKeepRuns
	}
	if keep.JournalBytes <= 0 {
		keep.JournalBytes = DefaultKeepJournalBytes
	}
	return &Pruner{store: st, clock: clk, logger: logger, keep: keep, done: make(chan struct{})}
}

// Start prunes now and then every minute until Stop.
func (p *Pruner) Start(ctx context.Context) {
	ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(p.done)
		for {
			p.Prune(ctx)
			select {
			case <-ctx.Done():
				return
			case <-p.clock.After(pruneEvery):
			}
		}
	}()
}

// Stop ends pruning.
func (p *Pruner) Stop() {
	p.once.Do(func() {
		if p.cancel != nil {
			p.cancel()
			<-p.done
		}
	})
}

// Prune makes one pass and returns how many runs it deleted.
func (p *Pruner) Prune(ctx context.Context) int {
	ids, err := p.store.RetentionCandidates(ctx, p.keep.Runs, p.keep.JournalBytes, pruneAutomations)
	if err != nil {
		if ctx.Err() == nil {
			p.logger.Error("find runs to prune", "err", err)
		}
		return 0
	}
	total := 0
	for _, id := range ids {
		for ctx.Err() == nil {
			var n int
			err := p.store.InTx(ctx, func(tx store.Tx) error {
				var err error
				n, err = tx.PruneRuns(ctx, id, p.keep.Runs, p.keep.JournalBytes, pruneBatch)
				return err
			})
			if err != nil {
				if ctx.Err() == nil {
					p.logger.Error("prune runs", "automation_id", id, "err", err)
				}
				break
			}
			total += n
			if n < pruneBatch {
				break
			}
		}
	}
	return total
}
