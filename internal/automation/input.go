package automation

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"automate/internal/apperr"
	"automate/internal/schedule"
)

// Input is what a client may set on create or update. A nil field was not
// sent: on update it keeps its stored value.
type Input struct {
	Name              *string
	Description       *string
	SpaceID           *string
	Workspace         json.RawMessage
	MaxConcurrentRuns *int
	// Schedules replaces the schedule when not nil: an empty list removes
	// it; more than one is refused.
	Schedules *[]schedule.Spec
}

// emptyWorkspace is the workspace of an automation created without one.
var emptyWorkspace = json.RawMessage(`{}`)

// NewFromInput validates a create request and builds the automation it
// describes, with every derived field set, and its schedule (nil: none).
// IDs, owner and times are the caller's to fill in; now is the time of the
// save.
func NewFromInput(in Input, settings Settings, now time.Time) (*Automation, *schedule.Schedule, error) {
	if in.Name == nil {
		return nil, nil, apperr.Validation("name is required")
	}
	a := &Automation{State: StateAvailable, MaxConcurrentRuns: 1, Workspace: emptyWorkspace}
	sched, err := a.Apply(in, settings, nil, now)
	if err != nil {
		return nil, nil, err
	}
	if in.SpaceID != nil {
		a.SpaceID = *in.SpaceID
	}
	a.ExecutionToken = NewExecutionToken()
	return a, sched, nil
}

// Apply validates the fields present in in and copies them onto a,
// re-deriving what depends on the workspace and the schedule. sched is the
// automation's stored schedule (nil: none); Apply returns the one it has
// after the change, with its next run computed when it changed (a
// schedule sent unchanged keeps its state). SpaceID is not applied:
// moving between spaces is its own action.
func (a *Automation) Apply(in Input, settings Settings, sched *schedule.Schedule, now time.Time) (*schedule.Schedule, error) {
	if err := a.apply(in, settings); err != nil {
		return nil, err
	}
	active, known := false, false
	if in.Schedules != nil {
		specs := *in.Schedules
		switch len(specs) {
		case 0:
			sched = nil
		case 1:
			next, err := schedule.FromSpec(specs[0], now)
			if err != nil {
				return nil, err
			}
			if sched == nil || !sched.SameSpec(next) {
				if sched != nil {
					next.ID, next.LastStartedAt = sched.ID, sched.LastStartedAt
				}
				active, known = next.Reschedule(now, a.State != StateDisabled), true
				sched = next
			}
		default:
			return nil, apperr.Validation("schedules: an automation has at most one schedule; got %d", len(specs))
		}
	}
	if sched != nil && !known {
		active = sched.Active(now)
	}
	// An active schedule wins over the StartBlock's run mode.
	if active {
		a.RunMode = RunModeScheduled
	}
	return sched, nil
}

func (a *Automation) apply(in Input, settings Settings) error {
	if in.Name != nil {
		if err := ValidateName(*in.Name); err != nil {
			return err
		}
		a.Name = *in.Name
	}
	if in.Description != nil {
		if n := utf8.RuneCountInString(*in.Description); n > MaxDescriptionLength {
			return apperr.Validation("description is %d characters long; the limit is %d", n, MaxDescriptionLength)
		}
		a.Description = *in.Description
	}
	if in.MaxConcurrentRuns != nil {
		if err := ValidateMaxConcurrentRuns(*in.MaxConcurrentRuns, settings); err != nil {
			return err
		}
		a.MaxConcurrentRuns = *in.MaxConcurrentRuns
	}
	if in.Workspace != nil && !isJSONNull(in.Workspace) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, in.Workspace); err != nil {
			return apperr.Validation("workspace is not valid JSON")
		}
		a.Workspace = buf.Bytes()
	}
	d, err := Derive(a.Workspace)
	if err != nil {
		return err
	}
	a.RunMode = d.RunMode
	a.SnippetIDs, a.EndpointIDs, a.ConnectorIDs = d.SnippetIDs, d.EndpointIDs, d.ConnectorIDs
	return nil
}

// ValidateName checks an automation name.
func ValidateName(name string) error {
	if strings.TrimSpace(name) == "" {
		return apperr.Validation("name must not be empty")
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return apperr.Validation("name is %d characters long; the limit is %d", n, MaxNameLength)
	}
	return nil
}

// ValidateMaxConcurrentRuns checks an automation's concurrency against the
// tenant's cap.
func ValidateMaxConcurrentRuns(n int, settings Settings) error {
	if n < 1 || n > settings.MaxConcurrentRunsPerAutomation {
		return apperr.Validation("maxConcurrentRuns must be between 1 and %d (the tenant's maxConcurrentRunsPerAutomation), got %d",
			settings.MaxConcurrentRunsPerAutomation, n)
	}
	return nil
}

// ValidateSettings checks new tenant settings on their own; whether they fit
// the tenant's automations is the caller's to check.
func ValidateSettings(s Settings) error {
	if s.MaxConcurrentRunsPerAutomation < 1 || s.MaxConcurrentRunsPerAutomation > MaxConcurrentRunsCap {
		return apperr.Validation("maxConcurrentRunsPerAutomation must be between 1 and %d, got %d",
			MaxConcurrentRunsCap, s.MaxConcurrentRunsPerAutomation)
	}
	return nil
}

// ValidateUserID checks the target of change-owner and move.
func ValidateUserID(id string) error {
	if strings.TrimSpace(id) == "" {
		return apperr.Validation("userId is required")
	}
	if len(id) > MaxUserIDLength {
		return apperr.Validation("userId is longer than %d bytes", MaxUserIDLength)
	}
	return nil
}

func isJSONNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}
