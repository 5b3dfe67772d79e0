package service

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"automate/internal/access"
	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/clock"
	"automate/internal/dispatch"
	"automate/internal/engine"
	"automate/internal/run"
	"automate/internal/store"
	"automate/internal/workspace"
)

// Runs limits and defaults.
const (
	DefaultRunListLimit = 10
	// DefaultSyncTimeout is how long a synchronous run URL call waits for
	// the run; the StartBlock input sync_timeout (seconds) changes it per
	// automation, up to MaxSyncTimeout.
	DefaultSyncTimeout = 60 * time.Second
	MaxSyncTimeout     = 300 * time.Second
)

// Runs is the runs use cases: create, list, read, stop, retry, debug
// log, the run URL and usage.
type Runs struct {
	store    store.Store
	dispatch *dispatch.Dispatcher
	clock    clock.Clock
	logger   *slog.Logger
}

// NewRuns returns the runs use cases.
func NewRuns(st store.Store, d *dispatch.Dispatcher, clk clock.Clock, logger *slog.Logger) *Runs {
	return &Runs{store: st, dispatch: d, clock: clk, logger: logger}
}

func (s *Runs) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func disabled(a *automation.Automation) error {
	return apperr.E(apperr.Invalid, apperr.CodeDisabled, "Automation disabled",
		"automation %q is disabled and accepts no new runs; enable it first", a.ID)
}

// newRun is a run of a with everything but its status.
func (s *Runs) newRun(a *automation.Automation, executedBy, context, trigger string, inputs json.RawMessage) *run.Run {
	now := s.now()
	return &run.Run{
		ID: newID(), TenantID: a.TenantID, AutomationID: a.ID, Context: context, Trigger: trigger,
		OwnerID: a.OwnerID, SpaceID: a.SpaceID, ExecutedByID: executedBy, Inputs: inputs,
		CreatedAt: now, UpdatedAt: now, TestRun: context == run.ContextTestRun,
	}
}

// start stores a new run of the automation that load returns (in the
// transaction), as the queue allows, and starts it if a slot is free.
func (s *Runs) start(load func(ctx context.Context, tx store.Tx) (*run.Run, *automation.Automation, error)) (*run.Run, error) {
	return s.dispatch.Create(func(ctx context.Context, tx store.Tx) (*automation.Automation, *run.Run, error) {
		r, a, err := load(ctx, tx)
		if err != nil {
			return nil, nil, err
		}
		if a.State == automation.StateDisabled {
			return nil, nil, disabled(a)
		}
		return a, r, nil
	})
}

// RunInput is the body of POST /runs.
type RunInput struct {
	Context string          `json:"context"`
	Inputs  json.RawMessage `json:"inputs"`
}

// Create starts a run of an automation for p. Its context is api_async:
// the published enum has no "api", and the call answers before the run
// ends.
func (s *Runs) Create(ctx context.Context, p access.Principal, automationID string, in RunInput) (*run.Run, error) {
	if in.Context != "api" {
		return nil, apperr.Validation(`context must be "api"`)
	}
	inputs, err := objectInputs(in.Inputs)
	if err != nil {
		return nil, err
	}
	return s.start(func(ctx context.Context, tx store.Tx) (*run.Run, *automation.Automation, error) {
		a, err := tx.LockAutomation(ctx, p.TenantID, automationID)
		if err != nil {
			return nil, nil, err
		}
		if err := authorizeAutomation(ctx, tx, p, access.RunAutomation, a); err != nil {
			return nil, nil, err
		}
		return s.newRun(a, p.UserID, run.ContextAPIAsync, run.TriggerManual, inputs), a, nil
	})
}

// objectInputs checks that inputs, when given, is a JSON object.
func objectInputs(raw json.RawMessage) (json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return json.RawMessage(`{}`), nil
	}
	if t[0] != '{' {
		return nil, apperr.Validation("inputs must be an object")
	}
	return json.RawMessage(t), nil
}

// automation loads an automation on whose runs p may take action a.
func (s *Runs) automation(ctx context.Context, p access.Principal, id string, a access.Action) (*automation.Automation, error) {
	auto, err := s.store.GetAutomation(ctx, p.TenantID, id)
	if err != nil {
		return nil, err
	}
	if err := authorizeAutomation(ctx, s.store, p, a, auto); err != nil {
		return nil, err
	}
	return auto, nil
}

// Get reads one run.
func (s *Runs) Get(ctx context.Context, p access.Principal, automationID, runID string) (*run.Run, error) {
	if _, err := s.automation(ctx, p, automationID, access.ReadAutomationRuns); err != nil {
		return nil, err
	}
	return s.store.GetRun(ctx, p.TenantID, automationID, runID)
}

// RunPage is one page of runs.
type RunPage struct {
	Items      []*run.Run
	NextCursor string
	PrevCursor string
}

// List returns a page of an automation's runs.
func (s *Runs) List(ctx context.Context, p access.Principal, automationID string, lp ListParams) (RunPage, error) {
	if _, err := s.automation(ctx, p, automationID, access.ReadAutomationRuns); err != nil {
		return RunPage{}, err
	}
	ks, err := parseKeyset(lp, run.SortFields, DefaultRunListLimit)
	if err != nil {
		return RunPage{}, err
	}
	q := store.RunListQuery{TenantID: p.TenantID, AutomationID: automationID, Filter: ks.filter,
		Sort: run.SortField(ks.sort), Desc: ks.desc, After: ks.after, Backward: ks.backward, Limit: ks.limit + 1}
	items, err := s.store.ListRuns(ctx, q)
	if err != nil {
		return RunPage{}, err
	}
	var page RunPage
	page.Items, page.NextCursor, page.PrevCursor = finishPage(items, ks, func(r *run.Run) automation.Position {
		return automation.Position{Value: r.SortValue(q.Sort), ID: r.ID}
	})
	return page, nil
}

// Stop stops a run: a queued or sleeping one at once, an executing one
// within a second (must stop, then stopped). Stopping an ended run does
// nothing.
func (s *Runs) Stop(ctx context.Context, p access.Principal, automationID, runID string) error {
	var (
		r      *run.Run
		status string
	)
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		a, err := tx.LockAutomation(ctx, p.TenantID, automationID)
		if err != nil {
			return err
		}
		if err := authorizeAutomation(ctx, tx, p, access.ManageAutomationRun, a); err != nil {
			return err
		}
		if r, err = tx.GetRun(ctx, p.TenantID, automationID, runID); err != nil {
			return err
		}
		status, err = s.dispatch.RequestStop(ctx, tx, r, s.now())
		return err
	})
	if err != nil {
		return err
	}
	s.dispatch.StopRequested(r, status)
	return nil
}

// Retry starts a new run with the inputs and context of an earlier one.
func (s *Runs) Retry(ctx context.Context, p access.Principal, automationID, runID string) (*run.Run, error) {
	return s.start(func(ctx context.Context, tx store.Tx) (*run.Run, *automation.Automation, error) {
		a, err := tx.LockAutomation(ctx, p.TenantID, automationID)
		if err != nil {
			return nil, nil, err
		}
		t, err := automationTarget(ctx, tx, p, a)
		if err != nil {
			return nil, nil, err
		}
		// Retrying is stopping's right plus starting's.
		for _, action := range []access.Action{access.ManageAutomationRun, access.RunAutomation} {
			if err := authorize(p, action, t, "automation \""+a.ID+"\""); err != nil {
				return nil, nil, err
			}
		}
		old, err := tx.GetRun(ctx, p.TenantID, automationID, runID)
		if err != nil {
			return nil, nil, err
		}
		return s.newRun(a, p.UserID, old.Context, old.Trigger, old.Inputs), a, nil
	})
}

// Check reads a run for an action on it that changes nothing (export).
func (s *Runs) Check(ctx context.Context, p access.Principal, automationID, runID string) error {
	if _, err := s.automation(ctx, p, automationID, access.ReadAutomationRuns); err != nil {
		return err
	}
	_, err := s.store.GetRun(ctx, p.TenantID, automationID, runID)
	return err
}

// DebugLog renders a run's debug log from its journal: each executed
// block's input and output, censored blocks without them.
func (s *Runs) DebugLog(ctx context.Context, p access.Principal, automationID, runID string) (string, error) {
	r, err := s.Get(ctx, p, automationID, runID)
	if err != nil {
		return "", err
	}
	rows, err := s.store.RunJournal(ctx, r.ID)
	if err != nil {
		return "", err
	}
	entries := make([]engine.Entry, 0, len(rows))
	for _, row := range rows {
		var e engine.Entry
		if err := json.Unmarshal(row.Entry, &e); err != nil {
			return "", apperr.Internalf(err, "run %s: journal entry %d", r.ID, row.Seq)
		}
		entries = append(entries, e)
	}
	var sb strings.Builder
	sb.WriteString("run " + r.ID + " of automation " + r.AutomationID + ": " + r.Status + "\n")
	if err := engine.RenderDebugLog(&sb, entries); err != nil {
		return "", apperr.Internalf(err, "render debug log")
	}
	return sb.String(), nil
}

// ExecuteRequest is a call of an automation's run URL.
type ExecuteRequest struct {
	// IDOrName is the automation's id, or its name.
	IDOrName string
	Token    string
	// Inputs is the StartBlock's output: the JSON body, or the query.
	Inputs json.RawMessage
	// Async overrides the StartBlock's async input when set.
	Async *bool
	// Charge counts the call against the automation owner's rate limit.
	Charge func(a *automation.Automation) error
}

// ExecuteResult is what a run URL call answers: the run, and whether it
// ended before the answer (Done).
type ExecuteResult struct {
	Run  *run.Run
	Done bool
}

// Execute runs a triggered automation for its run URL. The execution
// token authorises it; no user is involved, so the run executes as (and is
// recorded as executed by) the owner. Sync calls wait for the run's end up
// to the automation's sync timeout.
func (s *Runs) Execute(ctx context.Context, req ExecuteRequest) (ExecuteResult, error) {
	if req.Token == "" {
		return ExecuteResult{}, apperr.E(apperr.Unauthenticated, apperr.CodeUnauthorized, "Unauthorized",
			"the run URL needs the automation's execution token, in the X-Execution-Token header or the query")
	}
	a, err := s.byToken(ctx, req.IDOrName, req.Token)
	if err != nil {
		return ExecuteResult{}, err
	}
	if req.Charge != nil {
		if err := req.Charge(a); err != nil {
			return ExecuteResult{}, err
		}
	}
	if a.RunMode != automation.RunModeTriggered {
		return ExecuteResult{}, apperr.E(apperr.Invalid, apperr.CodeNotTriggered, "Not a triggered automation",
			"automation %q runs in %s mode; only triggered automations accept the run URL (set the StartBlock's run mode to triggered)", a.ID, a.RunMode)
	}
	ws, err := s.dispatch.Workspace(a) // start refuses a disabled automation
	if err != nil {
		return ExecuteResult{}, apperr.Internalf(err, "automation %s: workspace", a.ID)
	}
	async, timeout := startOptions(ws)
	if req.Async != nil {
		async = *req.Async
	}
	runContext := run.ContextAPISync
	if async {
		runContext = run.ContextAPIAsync
	}
	inputs := req.Inputs
	if len(bytes.TrimSpace(inputs)) == 0 {
		inputs = json.RawMessage(`{}`)
	}
	r, err := s.start(func(ctx context.Context, tx store.Tx) (*run.Run, *automation.Automation, error) {
		locked, err := tx.LockAutomation(ctx, a.TenantID, a.ID)
		if err != nil {
			return nil, nil, err
		}
		return s.newRun(locked, locked.OwnerID, runContext, run.TriggerTriggered, inputs), locked, nil
	})
	if err != nil {
		return ExecuteResult{}, err
	}
	if async || run.IsFinal(r.Status) {
		return ExecuteResult{Run: r, Done: run.IsFinal(r.Status)}, nil
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ended, err := s.dispatch.Wait(wctx, r.TenantID, r.AutomationID, r.ID)
	switch {
	case err == nil:
		return ExecuteResult{Run: ended, Done: true}, nil
	case errors.Is(err, context.DeadlineExceeded) && ended != nil:
		return ExecuteResult{Run: ended}, nil // the run goes on
	case ended != nil && ctx.Err() != nil:
		return ExecuteResult{Run: ended}, ctx.Err() // the caller went away
	}
	return ExecuteResult{}, err
}

// byToken finds the automation a run URL names whose execution token
// matches. The same answer comes for an unknown automation and a wrong
// token, so that the run URL does not tell which names exist.
func (s *Runs) byToken(ctx context.Context, idOrName, token string) (*automation.Automation, error) {
	candidates, err := s.store.RunURLCandidates(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	var found *automation.Automation
	for _, a := range candidates {
		if subtle.ConstantTimeCompare([]byte(a.ExecutionToken), []byte(token)) == 1 && found == nil {
			found = a
		}
	}
	if found == nil {
		return nil, apperr.E(apperr.Forbidden, apperr.CodeForbidden, "Forbidden",
			"no automation %q with this execution token", idOrName)
	}
	return found, nil
}

// startOptions reads the StartBlock's async input and sync_timeout.
func startOptions(ws *workspace.Workspace) (async bool, timeout time.Duration) {
	timeout = DefaultSyncTimeout
	if ws.Start == nil {
		return false, timeout
	}
	async = strings.EqualFold(ws.Start.InputString("async"), "yes")
	if v := ws.Start.InputString("sync_timeout"); v != "" {
		var secs float64
		if err := json.Unmarshal([]byte(v), &secs); err == nil && secs > 0 {
			timeout = min(time.Duration(secs*float64(time.Second)), MaxSyncTimeout)
		}
	}
	return async, timeout
}
