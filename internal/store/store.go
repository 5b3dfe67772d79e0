// Package store defines what automate needs from a database. Adapters live
// in the subpackages named after what they wrap (sqlite, and later
// postgres); storetest holds the one test suite every adapter must pass.
package store

import (
	"context"
	"time"

	"automate/internal/automation"
	"automate/internal/run"
	"automate/internal/scim"
)

// Store is a database of automations and settings. Reads go to a pool of
// readers; every write happens inside InTx.
type Store interface {
	Reader
	// InTx runs fn in one write transaction and commits it when fn returns
	// nil. Transactions are serialised per tenant settings row at least, so
	// a check made inside fn still holds at commit.
	InTx(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Reader reads automations and settings. Methods that find nothing return an
// *apperr.Error of kind NotFound.
type Reader interface {
	GetAutomation(ctx context.Context, tenantID, id string) (*automation.Automation, error)
	// ListAutomations returns at most q.Limit automations in the order q
	// asks for, starting after q.After (or before it, when q.Backward).
	ListAutomations(ctx context.Context, q ListQuery) ([]*automation.Automation, error)
	// GetSettings returns the tenant's settings, or the defaults.
	GetSettings(ctx context.Context, tenantID string) (automation.Settings, error)
	// GetRun reads one run of an automation.
	GetRun(ctx context.Context, tenantID, automationID, id string) (*run.Run, error)
}

// Tx is a write transaction. Its reads see its own writes.
type Tx interface {
	Reader
	InsertAutomation(ctx context.Context, a *automation.Automation) error
	UpdateAutomation(ctx context.Context, a *automation.Automation) error
	DeleteAutomation(ctx context.Context, tenantID, id string) error
	InsertRun(ctx context.Context, r *run.Run) error
	// DeleteRunHistory removes every run of an automation, with its journal.
	DeleteRunHistory(ctx context.Context, tenantID, automationID string) error
	// LockSettings reads the tenant's settings and holds them until commit,
	// so that automation writes and settings writes do not interleave.
	LockSettings(ctx context.Context, tenantID string) (automation.Settings, error)
	PutSettings(ctx context.Context, tenantID string, s automation.Settings, now time.Time) error
	// MaxConcurrentRunsInUse is the highest maxConcurrentRuns of any of the
	// tenant's automations, or 0 when it has none.
	MaxConcurrentRunsInUse(ctx context.Context, tenantID string) (int, error)
}

// ListQuery selects a page of automations by keyset.
type ListQuery struct {
	TenantID string
	// OwnerID restricts the list to one owner when not empty.
	OwnerID string
	Filter  scim.Expr
	Sort    automation.SortField
	Desc    bool
	// After is the keyset position the page starts after (in sort order),
	// or before when Backward is set. Nil starts at the beginning.
	After    *automation.Position
	Backward bool
	Limit    int
}
