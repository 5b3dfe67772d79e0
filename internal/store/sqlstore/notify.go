package sqlstore

import (
	"context"

	"automate/internal/apperr"
)

// Channel is the PostgreSQL notification channel of automate's events.
const Channel = "automate"

// The events servers send each other; a run event carries the run's id
// after a colon.
const (
	EventRunQueued = "queued"    // a run waits for a slot: claim it
	EventRunStop   = "stop:"     // a run must stop: cancel it where it executes
	EventRunEnded  = "ended:"    // a run ended: wake its waiters, and the claimers
	EventSchedules = "schedules" // a schedule changed: look again for the next due time
)

// notify sends event on commit where the dialect notifies (identical
// events of one transaction arrive once).
func (q Queries) notify(ctx context.Context, event string) error {
	if !q.Dialect.Notify {
		return nil
	}
	if _, err := q.DB.ExecContext(ctx, "SELECT pg_notify('"+Channel+"', $1)", event); err != nil {
		return apperr.Internalf(err, "notify %s", event)
	}
	return nil
}
