package automation

import "time"

// SortField is a field automations can be listed by.
type SortField string

// The sort fields of the automations list, per the API reference.
const (
	SortID                SortField = "id"
	SortName              SortField = "name"
	SortRunMode           SortField = "runMode"
	SortState             SortField = "state"
	SortCreatedAt         SortField = "createdAt"
	SortUpdatedAt         SortField = "updatedAt"
	SortLastRunAt         SortField = "lastRunAt"
	SortLastRunStatus     SortField = "lastRunStatus"
	SortMaxConcurrentRuns SortField = "maxConcurrentRuns"
)

// SortFields lists every SortField.
var SortFields = []SortField{SortID, SortName, SortRunMode, SortState, SortCreatedAt, SortUpdatedAt, SortLastRunAt, SortLastRunStatus, SortMaxConcurrentRuns}

// FilterFields are the attributes a list filter may name.
var FilterFields = []string{"name", "runMode", "lastRunStatus", "ownerId", "spaceId"}

// Position is a place in a sorted list: the sort value and id of the item
// just before it. Value is a string, or an int64 for numbers and for times
// (as Unix microseconds).
type Position struct {
	Value any
	ID    string
}

// PositionOf returns the position of a in a list sorted by f.
func PositionOf(a *Automation, f SortField) Position {
	p := Position{ID: a.ID}
	switch f {
	case SortID:
		p.Value = a.ID
	case SortName:
		p.Value = a.Name
	case SortRunMode:
		p.Value = a.RunMode
	case SortState:
		p.Value = a.State
	case SortCreatedAt:
		p.Value = micros(a.CreatedAt)
	case SortUpdatedAt:
		p.Value = micros(a.UpdatedAt)
	case SortLastRunAt:
		p.Value = micros(a.LastRunAt)
	case SortLastRunStatus:
		p.Value = a.LastRunStatus
	case SortMaxConcurrentRuns:
		p.Value = int64(a.MaxConcurrentRuns)
	}
	return p
}

// IsNumeric reports whether f sorts by a number (its Position values are int64).
func (f SortField) IsNumeric() bool {
	switch f {
	case SortCreatedAt, SortUpdatedAt, SortLastRunAt, SortMaxConcurrentRuns:
		return true
	}
	return false
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}
