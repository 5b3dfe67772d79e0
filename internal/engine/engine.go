// Package engine runs a parsed workspace. It is an interpreter over an
// explicit stack of frames, so that its whole state can be serialised after
// any block and a run resumed from there without re-running finished
// blocks. It reports every executed block to a Journal.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"automate/internal/clock"
	"automate/internal/formula"
	"automate/internal/run"
	"automate/internal/workspace"
)

// Run statuses the engine ends with (the final ones of package run).
const (
	StatusFinished             = run.StatusFinished
	StatusFinishedWithWarnings = run.StatusFinishedWithWarnings
	StatusFailed               = run.StatusFailed
	StatusStopped              = run.StatusStopped
	StatusExceededLimit        = run.StatusExceededLimit
)

// Defaults for Options.
const (
	DefaultMaxDuration = 4 * time.Hour
	// DefaultMaxSteps guards against endless Goto loops and runaway loops.
	DefaultMaxSteps = 10_000_000
)

// Entry is one executed block, as the journal receives it.
type Entry struct {
	Seq      int64     `json:"seq"`
	BlockID  string    `json:"blockId"`
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	LoopPath []int     `json:"loopPath,omitempty"`
	Inputs   any       `json:"inputs,omitempty"`
	Output   any       `json:"output,omitempty"`
	Error    string    `json:"error,omitempty"`
	Censored bool      `json:"censored,omitempty"`
	Start    time.Time `json:"start"`
	Stop     time.Time `json:"stop"`
}

// Journal receives every executed block.
type Journal interface {
	Record(ctx context.Context, e Entry) error
}

// Checkpointer receives the state after every block; a run resumed from it
// continues with the next block.
type Checkpointer interface {
	Checkpoint(ctx context.Context, s *State) error
}

// Sleeper waits; the engine's SleepBlock uses it so tests need not sleep.
type Sleeper interface {
	Sleep(ctx context.Context, d time.Duration) error
}

// RealSleeper waits on a timer, and stops waiting when ctx is done.
type RealSleeper struct{}

// Sleep waits d or until ctx is done.
func (RealSleeper) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Options configure one run.
type Options struct {
	RunID       string
	Context     string // api, webhook, test_run, ...
	Inputs      any    // the StartBlock's output
	Clock       clock.Clock
	Sleeper     Sleeper
	Location    *time.Location
	Journal     Journal
	Checkpoints Checkpointer
	MaxDuration time.Duration
	MaxSteps    int64
	// HTTPClient makes every outbound call. The server passes one shared
	// NewHTTPClient(policy); without it a run that calls out makes its own,
	// without a dial policy.
	HTTPClient *http.Client
	// AutomationID is the automation being run (CallWidget may not call it).
	AutomationID string
	// Automations runs other automations for CallWidgetBlock.
	Automations AutomationCaller
	// Pointers keeps the pointer blocks' state.
	Pointers Pointers
	// CodeTimeout and CodeMemory bound a CustomCodeBlock3 script.
	CodeTimeout time.Duration
	CodeMemory  int64
	// ParkAfter makes a SleepBlock of at least this long park the run
	// instead of waiting: Run checkpoints and returns a Result with WakeAt
	// set, and the caller resumes it then. Zero never parks.
	ParkAfter time.Duration
}

// RunError is one entry of a run's error[].
type RunError struct {
	BlockID string `json:"blockId,omitempty"`
	Name    string `json:"name,omitempty"`
	Message string `json:"message"`
	Level   string `json:"level"` // error or warning
}

// Result is how a run ended.
type Result struct {
	Status  string     `json:"status"`
	Title   string     `json:"title"`
	Output  []any      `json:"output"`
	Errors  []RunError `json:"error"`
	Metrics Metrics    `json:"metrics"`
	// WakeAt is set when the run parked in a SleepBlock: it has not ended,
	// and continues (Resume) at WakeAt.
	WakeAt time.Time `json:"wakeAt,omitzero"`
}

// errStopRun ends a run early as finished (StopBlock).
var errStopRun = errors.New("stop block")

// blockError is a block's failure; its on-error setting decides what follows.
type blockError struct{ msg string }

func (e *blockError) Error() string { return e.msg }

func failf(format string, args ...any) error { return &blockError{msg: fmt.Sprintf(format, args...)} }

// failRun ends the run as failed regardless of on-error (ErrorBlock stop).
type failRun struct{ msg string }

func (e *failRun) Error() string { return e.msg }

// Engine runs one workspace. It is not safe for concurrent use; make one
// per run.
type Engine struct {
	ws        *workspace.Workspace
	opt       Options
	state     *State
	templates map[string]*formula.Template
	decoded   map[string]any // raw input JSON -> decoded value
	// containers maps block ids to their chain (see Frame.Container); only
	// Goto needs it, so it is built at the first jump.
	containers map[string]string
}

// New returns an engine for ws with a fresh state.
func New(ws *workspace.Workspace, opt Options) *Engine {
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Sleeper == nil {
		opt.Sleeper = RealSleeper{}
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.MaxDuration <= 0 {
		opt.MaxDuration = DefaultMaxDuration
	}
	if opt.MaxSteps <= 0 {
		opt.MaxSteps = DefaultMaxSteps
	}
	if opt.CodeTimeout <= 0 {
		opt.CodeTimeout = DefaultCodeTimeout
	}
	if opt.CodeMemory <= 0 {
		opt.CodeMemory = DefaultCodeMemory
	}
	return &Engine{ws: ws, opt: opt, templates: map[string]*formula.Template{}, decoded: map[string]any{}}
}

// Resume returns an engine that continues from a checkpointed state.
func Resume(ws *workspace.Workspace, opt Options, s *State) *Engine {
	e := New(ws, opt)
	e.state = s
	return e
}

// Run runs the workspace to its end, or until ctx is cancelled (the run
// ends stopped) or the maximum duration passes (exceeded limit).
func (e *Engine) Run(ctx context.Context) (Result, error) {
	if e.state == nil {
		e.state = newState(e.ws, e.opt.Inputs)
		if e.ws.Start != nil {
			e.state.push(Frame{Kind: frameChain, Next: e.ws.Start.ID})
		}
	}
	if e.state.StartedAt.IsZero() {
		e.state.StartedAt = e.opt.Clock.Now()
	}
	// The limit counts from the run's first start, across resumes.
	remaining := e.state.StartedAt.Add(e.opt.MaxDuration).Sub(e.opt.Clock.Now())
	ctx, cancel := context.WithTimeoutCause(ctx, max(remaining, 0), errRunTooLong)
	defer cancel()
	if !e.state.WakeAt.IsZero() {
		// Resumed from a park: sleep what is left (normally nothing).
		if d := e.state.WakeAt.Sub(e.opt.Clock.Now()); d > 0 {
			if e.opt.ParkAfter > 0 && d >= e.opt.ParkAfter {
				return Result{WakeAt: e.state.WakeAt}, nil
			}
			if err := e.opt.Sleeper.Sleep(ctx, d); err != nil {
				return e.end(e.statusFor(ctx), nil), nil
			}
		}
		e.state.WakeAt = time.Time{}
	}
	for {
		if ctx.Err() != nil {
			return e.end(e.statusFor(ctx), nil), nil
		}
		b, done := e.advance()
		if done {
			return e.end(e.state.status(), nil), nil
		}
		if e.state.Steps >= e.opt.MaxSteps {
			return e.end(StatusExceededLimit, &RunError{Message: fmt.Sprintf("the run executed more than %d blocks", e.opt.MaxSteps), Level: "error"}), nil
		}
		err := e.exec(ctx, b)
		if ctx.Err() != nil {
			return e.end(e.statusFor(ctx), nil), nil
		}
		switch {
		case errors.Is(err, errStopRun):
			e.state.Frames = nil
		case err != nil:
			var fr *failRun
			if errors.As(err, &fr) {
				e.state.Errors = append(e.state.Errors, RunError{BlockID: b.ID, Name: b.Name, Message: fr.msg, Level: "error"})
				e.state.Failed = true
				e.state.Frames = nil
				break
			}
			if abort := e.onError(b, err); abort {
				e.state.Frames = nil
			}
		}
		if e.opt.Checkpoints != nil {
			if err := e.opt.Checkpoints.Checkpoint(ctx, e.state); err != nil {
				return Result{}, fmt.Errorf("checkpoint: %w", err)
			}
		}
		if !e.state.WakeAt.IsZero() {
			return Result{WakeAt: e.state.WakeAt}, nil
		}
	}
}

// errRunTooLong is the cause of the context that ends a run at its limit.
var errRunTooLong = errors.New("the run took longer than its maximum duration")

// statusFor says how a run whose context ended finishes: at its time
// limit, exceeded limit; otherwise (a stop was asked for) stopped.
func (e *Engine) statusFor(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), errRunTooLong) {
		return StatusExceededLimit
	}
	return StatusStopped
}

func (e *Engine) end(status string, re *RunError) Result {
	if re != nil {
		e.state.Errors = append(e.state.Errors, *re)
	}
	errs := e.state.Errors
	if errs == nil {
		errs = []RunError{}
	}
	out := e.state.Output
	if out == nil {
		out = []any{}
	}
	m := e.state.Metrics
	if m.Blocks == nil {
		m.Blocks = []BlockMetrics{}
	}
	return Result{Status: status, Title: e.state.Title, Output: out, Errors: errs, Metrics: m}
}

// onError applies a block's blendr_on_error setting (default stop) and
// reports whether the run must end.
func (e *Engine) onError(b *workspace.Block, err error) bool {
	switch b.SettingString("blendr_on_error") {
	case "ignore":
		return false
	case "warning":
		e.state.Errors = append(e.state.Errors, RunError{BlockID: b.ID, Name: b.Name, Message: err.Error(), Level: "warning"})
		e.state.Warned = true
		return false
	}
	e.state.Errors = append(e.state.Errors, RunError{BlockID: b.ID, Name: b.Name, Message: err.Error(), Level: "error"})
	e.state.Failed = true
	return true
}

// exec runs one block and records it in the journal.
func (e *Engine) exec(ctx context.Context, b *workspace.Block) error {
	e.state.Steps++
	var start time.Time
	var path []int
	if e.opt.Journal != nil {
		start, path = e.opt.Clock.Now(), e.state.loopPath()
	}
	inputs, output, err := e.run(ctx, b)
	if err == nil && output != nil {
		e.state.Outputs[b.Name] = output
	}
	if e.opt.Journal != nil {
		entry := Entry{Seq: e.state.Steps, BlockID: b.ID, Name: b.Name, Type: b.Type, LoopPath: path,
			Start: start, Stop: e.opt.Clock.Now()}
		if censored(b) {
			entry.Censored = true
		} else {
			entry.Inputs, entry.Output = inputs, output
		}
		if err != nil && !errors.Is(err, errStopRun) {
			entry.Error = err.Error()
		}
		if jerr := e.opt.Journal.Record(ctx, entry); jerr != nil {
			return &failRun{msg: "journal: " + jerr.Error()}
		}
	}
	return err
}

func censored(b *workspace.Block) bool {
	raw, ok := b.Setting("automations_censor_data")
	if !ok {
		return false
	}
	var v any
	json.Unmarshal(raw, &v)
	return formula.Truthy(v)
}
