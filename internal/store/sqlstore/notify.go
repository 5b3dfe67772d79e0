package sqlstore

import (
	"context"
	"errors"

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

// stopExecuting tells the nodes executing an automation's runs, which are
// about to be deleted, to stop them (where the dialect notifies; a node
// that misses it finds the run gone at its next write).
func (q Queries) stopExecuting(ctx context.Context, tenantID, automationID string) error {
	if !q.Dialect.Notify {
		return nil
	}
	rows, err := q.DB.QueryContext(ctx, "SELECT id FROM runs WHERE automation_id = $1 AND tenant_id = $2 AND lease_owner <> ''",
		automationID, tenantID)
	if err != nil {
		return apperr.Internalf(err, "executing runs")
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return apperr.Internalf(err, "executing runs")
		}
		ids = append(ids, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return apperr.Internalf(err, "executing runs")
	}
	for _, id := range ids {
		if err := q.notify(ctx, EventRunStop+id); err != nil {
			return err
		}
	}
	return nil
}
