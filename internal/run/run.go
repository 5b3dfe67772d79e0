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

// IsFinal reports whether a run with this status has ended.
func IsFinal(status string) bool {
	switch status {
	case StatusFinished, StatusFinishedWithWarnings, StatusFailed, StatusStopped, StatusExceededLimit:
		return true
	}
	return false
}

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
}

// Duration is the run's length in whole seconds, 0 until it has stopped.
func (r *Run) Duration() int64 {
	if r.StartTime.IsZero() || r.StopTime.IsZero() {
		return 0
	}
	return int64(r.StopTime.Sub(r.StartTime) / time.Second)
}
