// Package store defines what automate needs from a database. Adapters live
// in the subpackages named after what they wrap (sqlite, and later
// postgres); storetest holds the one test suite every adapter must pass.
package store

import (
	"context"
	"errors"
	"time"

	"automate/internal/apikey"
	"automate/internal/automation"
	"automate/internal/run"
	"automate/internal/schedule"
	"automate/internal/scim"
	"automate/internal/space"
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
	// RunURLCandidates finds the automations (of any tenant) whose id or
	// name is idOrName, oldest first; the run URL picks the one whose
	// execution token matches.
	RunURLCandidates(ctx context.Context, idOrName string) ([]*automation.Automation, error)
	// GetRun reads one run of an automation (without its checkpoint).
	GetRun(ctx context.Context, tenantID, automationID, id string) (*run.Run, error)
	// ListRuns returns a keyset page of one automation's runs.
	ListRuns(ctx context.Context, q RunListQuery) ([]*run.Run, error)
	// RunJournal returns a run's journal entries in order.
	RunJournal(ctx context.Context, runID string) ([]JournalEntry, error)
	// QueuedAutomations lists automations with queued runs, those with the
	// oldest queued run first. It is a hint: claims recheck in a transaction.
	QueuedAutomations(ctx context.Context, limit int) ([]AutomationRef, error)
	// The dispatcher's hints; what it acts on it rechecks in a transaction.
	// ExpiredLeases lists live runs whose lease ended before now.
	ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]*run.Run, error)
	// DueParked lists parked runs whose wake-up time is at or before now.
	DueParked(ctx context.Context, now time.Time, limit int) ([]*run.Run, error)
	// NextWake is the earliest wake-up time of a parked run (zero if none).
	NextWake(ctx context.Context) (time.Time, error)
	// StaleQueued lists queued runs created before the given time.
	StaleQueued(ctx context.Context, before time.Time, limit int) ([]*run.Run, error)
	// RetentionCandidates lists automations holding more than keepRuns
	// runs or keepBytes of journal.
	RetentionCandidates(ctx context.Context, keepRuns int, keepBytes int64, limit int) ([]string, error)
	// QueueDepth counts queued runs.
	QueueDepth(ctx context.Context) (int64, error)
	// ListUsage returns the tenant's daily usage rows in [From, To], by day
	// and then automation.
	ListUsage(ctx context.Context, tenantID string, from, to string) ([]UsageRow, error)
	// GetSchedule reads an automation's schedule; nil when it has none.
	GetSchedule(ctx context.Context, automationID string) (*schedule.Schedule, error)
	// NextScheduleDue is the earliest time a schedule is due (zero: none).
	NextScheduleDue(ctx context.Context) (time.Time, error)

	GetSpace(ctx context.Context, tenantID, id string) (*space.Space, error)
	ListSpaces(ctx context.Context, q SpaceListQuery) ([]*space.Space, error)
	// SpaceRoles are a user's roles in a space (none: not a member).
	SpaceRoles(ctx context.Context, tenantID, spaceID, userID string) ([]string, error)
	GetAssignment(ctx context.Context, tenantID, spaceID, id string) (*space.Assignment, error)
	// ListAssignments returns up to limit of a space's assignments after
	// the given id, in id order.
	ListAssignments(ctx context.Context, tenantID, spaceID, afterID string, limit int) ([]*space.Assignment, error)
	// CountSpaceAutomations counts the automations in a space.
	CountSpaceAutomations(ctx context.Context, tenantID, spaceID string) (int, error)
	// GetUser reads a user seen before; NotFound otherwise.
	GetUser(ctx context.Context, tenantID, id string) (*User, error)
	GetAPIKey(ctx context.Context, tenantID, id string) (*apikey.Key, error)
	// APIKeyByHash finds a key of any tenant by its secret's hash.
	APIKeyByHash(ctx context.Context, hash string) (*apikey.Key, error)
	// ListAPIKeys returns up to limit keys of the tenant (of one user when
	// userID is set) after the given id, in id order.
	ListAPIKeys(ctx context.Context, tenantID, userID, afterID string, limit int) ([]*apikey.Key, error)
}

// Tx is a write transaction. Its reads see its own writes.
type Tx interface {
	Reader
	InsertAutomation(ctx context.Context, a *automation.Automation) error
	UpdateAutomation(ctx context.Context, a *automation.Automation) error
	DeleteAutomation(ctx context.Context, tenantID, id string) error
	// LockAutomation reads an automation and holds it until commit: run
	// creation, claims and stops of one automation's runs serialise on it.
	LockAutomation(ctx context.Context, tenantID, id string) (*automation.Automation, error)
	// SetLastRun points an automation at its latest run.
	SetLastRun(ctx context.Context, r *run.Run) error
	InsertRun(ctx context.Context, r *run.Run) error
	// CountRuns counts an automation's live runs that hold a slot
	// (starting, running, must stop) and its queued ones.
	CountRuns(ctx context.Context, automationID string) (RunCounts, error)
	// ClaimQueued moves the oldest n queued runs of an automation to
	// running under lease l (the automation's lastRunStatus follows), and
	// returns them with their checkpoints.
	ClaimQueued(ctx context.Context, automationID string, n int, l Lease) ([]*run.Run, error)
	// Reclaim takes over a live run whose lease expired or whose wake-up
	// time came, if it still has the given attempt; it returns nil when
	// another worker got there first.
	Reclaim(ctx context.Context, runID string, attempt int64, l Lease) (*run.Run, error)
	// LiveRuns lists an automation's live runs.
	LiveRuns(ctx context.Context, automationID string) ([]*run.Run, error)
	// SaveProgress writes a worker's progress if it still holds the run
	// (same attempt and owner), and returns the run's status, so that the
	// worker learns of a stop request. ErrLeaseLost when it does not.
	SaveProgress(ctx context.Context, p Progress) (string, error)
	// RenewLeases extends the leases owner holds on the given runs (those
	// it executes: a run it holds but no longer executes must expire, so
	// that it is rescued) and returns the ids and statuses of those it
	// still holds.
	RenewLeases(ctx context.Context, owner string, runIDs []string, until, now time.Time) (map[string]string, error)
	// SetRunStatus moves a run that no worker is executing from status
	// from to status to; false when it was not in from, or no longer has
	// r's attempt and lease owner (it was claimed, parked or taken over
	// since r was read: the caller decides again on what it is now).
	SetRunStatus(ctx context.Context, r *run.Run, from string, to Transition) (bool, error)
	// EndRun records how a run ended if the worker still holds it, adds
	// its usage, and updates the automation's lastRunStatus when it is the
	// latest run. ErrLeaseLost when the worker does not hold it.
	EndRun(ctx context.Context, e Ending) error
	// PruneRuns deletes up to batch of an automation's oldest finished runs
	// beyond keepRuns runs and keepBytes of journal; it returns how many.
	PruneRuns(ctx context.Context, automationID string, keepRuns int, keepBytes int64, batch int) (int, error)
	// DeleteRunHistory removes every run of an automation, with its journal.
	DeleteRunHistory(ctx context.Context, tenantID, automationID string) error
	// LockSettings reads the tenant's settings and holds them until commit,
	// so that automation writes and settings writes do not interleave.
	LockSettings(ctx context.Context, tenantID string) (automation.Settings, error)
	PutSettings(ctx context.Context, tenantID string, s automation.Settings, now time.Time) error
	// PutSchedule stores an automation's schedule, replacing any other.
	PutSchedule(ctx context.Context, tenantID, automationID string, s *schedule.Schedule) error
	// DeleteSchedule removes an automation's schedule, if it has one.
	DeleteSchedule(ctx context.Context, automationID string) error
	// DueSchedules lists up to limit schedules due at now, earliest first,
	// holding them until commit where the database can, each with what
	// admitting its runs needs of its automation: one read for a batch,
	// instead of a lock and a count per schedule. The counts must be those
	// an admission would see under the automation's lock (on SQLite the one
	// writer holds it; a database with row locks locks the automation
	// before it counts).
	DueSchedules(ctx context.Context, now time.Time, limit int) ([]DueSchedule, error)
	// AdvanceSchedule moves a schedule due at from to next (and records
	// startedAt as its last start unless zero); false when it was no longer
	// due at from, because another scheduler fired it or it was changed.
	AdvanceSchedule(ctx context.Context, id string, from, next, startedAt time.Time) (bool, error)
	InsertSpace(ctx context.Context, s *space.Space) error
	UpdateSpace(ctx context.Context, s *space.Space) error
	DeleteSpace(ctx context.Context, tenantID, id string) error
	InsertAssignment(ctx context.Context, a *space.Assignment) error
	UpdateAssignment(ctx context.Context, a *space.Assignment) error
	DeleteAssignment(ctx context.Context, tenantID, spaceID, id string) error
	// SeeUser records a user as seen now, with its name and roles.
	SeeUser(ctx context.Context, u *User) error
	InsertAPIKey(ctx context.Context, k *apikey.Key, hash string) error
	// RevokeAPIKey marks a key revoked; false when it was already.
	RevokeAPIKey(ctx context.Context, tenantID, id string, now time.Time) (bool, error)
	// MaxConcurrentRunsInUse is the highest maxConcurrentRuns of any of the
	// tenant's automations, or 0 when it has none.
	MaxConcurrentRunsInUse(ctx context.Context, tenantID string) (int, error)
}

// User is a user the server has seen: its id is a token's sub.
type User struct {
	TenantID   string
	ID         string
	Name       string
	Roles      []string
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// ErrLeaseLost is returned for a write by a worker that no longer holds
// the run: another worker took it over, or it was deleted.
var ErrLeaseLost = errors.New("the run's lease was lost")

// RunListQuery selects a page of one automation's runs by keyset.
type RunListQuery struct {
	TenantID     string
	AutomationID string
	Filter       scim.Expr
	Sort         run.SortField
	Desc         bool
	After        *automation.Position
	Backward     bool
	Limit        int
}

// RunCounts are an automation's runs by kind of live status.
type RunCounts struct {
	Active int // starting, running, must stop
	Queued int
}

// DueSchedule is a schedule with the automation it belongs to.
type DueSchedule struct {
	TenantID     string
	AutomationID string
	Schedule     *schedule.Schedule
	// Set by DueSchedules only: the automation's state, owner, space and
	// concurrency limit, and its live runs.
	State             string
	OwnerID           string
	SpaceID           string
	MaxConcurrentRuns int
	Counts            RunCounts
}

// Visibility is which automations a user sees in lists: its own in its
// personal space, its own in shared spaces, and those of the shared spaces
// it owns or is a member of, each when the flag is set.
type Visibility struct {
	UserID      string
	OwnPersonal bool
	OwnShared   bool
	Member      bool
}

// SpaceListQuery selects a page of spaces by keyset.
type SpaceListQuery struct {
	TenantID string
	// MemberID restricts the list to the spaces this user owns or is a
	// member of; empty: every space of the tenant.
	MemberID string
	Filter   scim.Expr
	Sort     string
	Desc     bool
	After    *automation.Position
	Backward bool
	Limit    int
}

// AutomationRef names an automation.
type AutomationRef struct {
	TenantID string
	ID       string
}

// Lease is a worker's claim: who holds the runs, until when, and now.
type Lease struct {
	Owner string
	Until time.Time
	Now   time.Time
}

// JournalEntry is one journal row: the engine's entry as JSON.
type JournalEntry struct {
	Seq   int64
	Entry []byte
}

// Progress is a worker's write after a block.
type Progress struct {
	RunID   string
	Attempt int64
	Lease   Lease
	// Checkpoint is the engine state to resume from.
	Checkpoint []byte
	Journal    []JournalEntry
	// WakeAt, when set, parks the run: it releases the lease and is taken
	// up again at WakeAt.
	WakeAt time.Time
}

// Transition is a status change of a run nobody executes.
type Transition struct {
	Status string
	Now    time.Time
	// Errors replaces the run's error list when set (JSON).
	Errors []byte
	// Usage is added when the run ends with this transition.
	Usage *Usage
}

// Ending is how a run ended.
type Ending struct {
	Run     *run.Run // the run as claimed (id, tenant, automation, attempt, lease owner)
	Status  string
	Title   string
	Output  []byte
	Errors  []byte
	Metrics []byte
	Journal []JournalEntry
	Now     time.Time
	Usage   *Usage
}

// Usage is what one ended run adds to its day's aggregates.
type Usage struct {
	TenantID       string
	Day            string // YYYY-MM-DD, UTC
	AutomationID   string
	Runs           int64
	ScheduledRuns  int64
	TriggeredRuns  int64
	WebhookRuns    int64
	DurationMicros int64
	BandwidthIn    int64
	BandwidthOut   int64
}

// UsageRow is one day's usage of one automation, with the automation's
// name and owner when it still exists.
type UsageRow struct {
	Usage
	Name    string
	OwnerID string
}

// ListQuery selects a page of automations by keyset.
type ListQuery struct {
	TenantID string
	// OwnerID restricts the list to one owner when not empty.
	OwnerID string
	// Visible restricts the list to what one user may see; nil: every
	// automation of the tenant.
	Visible *Visibility
	Filter  scim.Expr
	Sort    automation.SortField
	Desc    bool
	// After is the keyset position the page starts after (in sort order),
	// or before when Backward is set. Nil starts at the beginning.
	After    *automation.Position
	Backward bool
	Limit    int
}
