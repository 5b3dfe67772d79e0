// Package automation holds the automation resource and the rules about it:
// validation, the fields derived from its workspace, and tenant settings.
// It knows nothing of HTTP or SQL.
package automation

import (
	"crypto/rand"
	"encoding/json"
	"time"
)

// States of an automation.
const (
	StateAvailable   = "available"
	StateUnavailable = "unavailable"
	StateDisabled    = "disabled"
)

// Run modes of an automation.
const (
	RunModeManual    = "manual"
	RunModeScheduled = "scheduled"
	RunModeTriggered = "triggered"
	RunModeWebhook   = "webhook"
)

// Limits on what a client may send. Qlik documents none; these keep rows
// small and are listed in the README.
const (
	MaxNameLength        = 255
	MaxDescriptionLength = 10_000
	MaxUserIDLength      = 255
)

// Automation is a stored automation.
type Automation struct {
	ID                string
	TenantID          string
	Name              string
	Description       string
	State             string
	OwnerID           string
	SpaceID           string // empty: the owner's personal space
	RunMode           string
	Workspace         json.RawMessage
	SnippetIDs        []string
	EndpointIDs       []string
	ConnectorIDs      []string
	ExecutionToken    string
	MaxConcurrentRuns int
	LastRunID         string
	LastRunAt         time.Time // zero: never run
	LastRunStatus     string    // empty: never run
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Settings are the per-tenant automation settings.
type Settings struct {
	MaxConcurrentRunsPerAutomation int
}

// DefaultSettings are a tenant's settings until an admin changes them.
var DefaultSettings = Settings{MaxConcurrentRunsPerAutomation: 10}

// MaxConcurrentRunsCap bounds the tenant setting itself, so that one
// automation cannot be allowed to take every worker of the server.
const MaxConcurrentRunsCap = 1000

// tokenAlphabet is the alphabet of execution tokens.
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewExecutionToken returns 64 alphanumeric characters from a CSPRNG.
func NewExecutionToken() string {
	const n = 64
	out := make([]byte, 0, n)
	buf := make([]byte, 96)
	for len(out) < n {
		rand.Read(buf) // never fails (crypto/rand panics on a broken source)
		for _, b := range buf {
			// 248 = 4*62: rejecting bytes above it keeps every character equally likely.
			if b < 248 && len(out) < n {
				out = append(out, tokenAlphabet[int(b)%len(tokenAlphabet)])
			}
		}
	}
	return string(out)
}
