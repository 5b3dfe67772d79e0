// Package run holds the run resource: its statuses, contexts and fields.
// The dispatcher that moves runs through their statuses comes with the
// runs API (issue 4); this is the shape it stores.
package run

import (
	"encoding/json"
	"time"
)

// Statuses of a run, per API-NOTES §4.
const (
	StatusNotStarted           = "not started"
	StatusStarting             = "starting"
	StatusQueued               = "queued"
	StatusRunning              = "running"
	StatusMustStop             = "must stop"
	StatusFinished             = "finished"
	StatusFinishedWithWarnings = "finished with warnings"
	StatusFailed               = "failed"
	StatusStopped              = "stopped"
	StatusExceededLimit        = "exceeded limit"
)

// Contexts of a run, the published enum.
const (
	ContextTestRun  = "test_run"
	ContextEditor   = "editor"
	ContextDetail   = "detail"
	ContextAPISync  = "api_sync"
	ContextAPIAsync = "api_async"
	ContextWebhook  = "webhook"
	ContextLookup   = "lookup"
)

// IsLive reports whether a run with this status may still change.
func IsLive(status string) bool {
	switch status {
	case StatusNotStarted, StatusStarting, StatusQueued, StatusRunning, StatusMustStop:
		return true
	}
	return false
}

// AutomationStatus is how an automation's lastRunStatus shows a run's
// status: the published enum of lastRunStatus has no "queued", so a run
// waiting for a slot shows as "not started".
func AutomationStatus(status string) string {
	if status == StatusQueued {
		return StatusNotStarted
	}
	return status
}

// IsFinal reports whether a run with this status has ended.
func IsFinal(status string) bool {
	switch status {
	case StatusFinished, StatusFinishedWithWarnings, StatusFailed, StatusStopped, StatusExceededLimit:
		return true
	}
	return false
}

// Triggers say what started a run; usage counts them apart. The context
// field cannot, since it only takes the published enum.
const (
	TriggerManual    = "manual"    // POST /runs, or a retry of one
	TriggerTriggered = "triggered" // the run URL
	TriggerScheduled = "scheduled" // a schedule
	TriggerWebhook   = "webhook"   // a webhook event
)

// MaxQueueAge is how long a run may wait as queued before it fails.
const MaxQueueAge = 14 * 24 * time.Hour

// Run is a stored run. Output, Errors and Metrics are the engine's JSON.
type Run struct {
	ID                 string
	TenantID           string
	AutomationID       string
	Status             string
	Context            string
	Title              string
	OwnerID            string
	SpaceID            string
	ExecutedByID       string
	TestRun            bool
	Inputs             json.RawMessage
	Output             json.RawMessage
	Errors             json.RawMessage
	Metrics            json.RawMessage
	ScheduledStartTime time.Time
	StartTime          time.Time
	StopTime           time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
	Trigger            string
	// ScheduleID names the schedule that created the run (empty when none
	// did); with ScheduledStartTime it is unique.
	ScheduleID string

	// Dispatch state: the worker holding the run, until when, and how many
	// times it has been claimed (the fencing number every write checks).
	LeaseOwner     string
	LeaseExpiresAt time.Time
	Attempt        int64
	// WakeAt is when a parked (sleeping) run continues; zero when not parked.
	WakeAt time.Time
	// Checkpoint is the engine state after the last finished block; only
	// the dispatcher reads it.
	Checkpoint json.RawMessage
	// JournalSeq is the sequence number of the last journal entry.
	JournalSeq int64
}

// SortField is a field runs can be listed by.
type SortField string

// The sort fields of the runs list, per the API reference.
const (
	SortID        SortField = "id"
	SortStatus    SortField = "status"
	SortStartTime SortField = "startTime"
)

// SortFields lists every SortField.
var SortFields = []SortField{SortID, SortStatus, SortStartTime}

// FilterFields are the attributes a runs list filter may name.
var FilterFields = []string{"status", "context", "startTime", "title", "spaceId", "ownerId", "executedById", "billable"}

// IsNumeric reports whether f sorts by a number (Unix microseconds).
func (f SortField) IsNumeric() bool { return f == SortStartTime }

// SortValue is r's value in a list sorted by f: a string, or an int64 for
// times (Unix microseconds, 0 for never).
func (r *Run) SortValue(f SortField) any {
	switch f {
	case SortStatus:
		return r.Status
	case SortStartTime:
		if r.StartTime.IsZero() {
			return int64(0)
		}
		return r.StartTime.UnixMicro()
	}
	return r.ID
}

// Duration is the run's length in whole seconds, 0 until it has stopped.
func (r *Run) Duration() int64 {
	if r.StartTime.IsZero() || r.StopTime.IsZero() {
		return 0
	}
	return int64(r.StopTime.Sub(r.StartTime) / time.Second)
}
