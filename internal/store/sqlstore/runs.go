package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"automate/internal/apperr"
	"automate/internal/run"
)

// runColumns lists the runs columns the run resource reads, in scan order.
const runColumns = `id, tenant_id, automation_id, status, context, title, owner_id, space_id, executed_by_id, test_run,
	inputs, output, errors, metrics, scheduled_start_time, start_time, stop_time, created_at, updated_at`

func rawOr(b json.RawMessage, empty string) string {
	if len(b) == 0 {
		return empty
	}
	return string(b)
}

// InsertRun stores a new run.
func (q Queries) InsertRun(ctx context.Context, r *run.Run) error {
	_, err := q.DB.ExecContext(ctx, `INSERT INTO runs (`+runColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		r.ID, r.TenantID, r.AutomationID, r.Status, r.Context, r.Title, r.OwnerID, r.SpaceID, r.ExecutedByID, r.TestRun,
		rawOr(r.Inputs, "null"), rawOr(r.Output, "[]"), rawOr(r.Errors, "[]"), rawOr(r.Metrics, "{}"),
		toMicros(r.ScheduledStartTime), toMicros(r.StartTime), toMicros(r.StopTime), toMicros(r.CreatedAt), toMicros(r.UpdatedAt))
	if err != nil {
		return apperr.Internalf(err, "insert run")
	}
	return nil
}

// GetRun reads one run of an automation.
func (q Queries) GetRun(ctx context.Context, tenantID, automationID, id string) (*run.Run, error) {
	var (
		r                                       run.Run
		inputs, output, errs, metrics           string
		scheduled, start, stop, created, update int64
	)
	err := q.DB.QueryRowContext(ctx, "SELECT "+runColumns+" FROM runs WHERE id = $1 AND automation_id = $2 AND tenant_id = $3",
		id, automationID, tenantID).Scan(&r.ID, &r.TenantID, &r.AutomationID, &r.Status, &r.Context, &r.Title, &r.OwnerID,
		&r.SpaceID, &r.ExecutedByID, &r.TestRun, &inputs, &output, &errs, &metrics, &scheduled, &start, &stop, &created, &update)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("run %q not found", id)
	}
	if err != nil {
		return nil, apperr.Internalf(err, "get run")
	}
	r.Inputs, r.Output, r.Errors, r.Metrics = json.RawMessage(inputs), json.RawMessage(output), json.RawMessage(errs), json.RawMessage(metrics)
	r.ScheduledStartTime, r.StartTime, r.StopTime = fromMicros(scheduled), fromMicros(start), fromMicros(stop)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(update)
	return &r, nil
}
