package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"automate/internal/apperr"
	"automate/internal/schedule"
	"automate/internal/store"
)

const scheduleColumns = `id, tenant_id, automation_id, interval_s, recurrence, start_at, stop_at, timezone, last_started_at, next_run_at`

// scanSchedule scans scheduleColumns into d, and the columns after them
// into extra.
func scanSchedule(s scanner, d *store.DueSchedule, extra ...any) error {
	var (
		sc            schedule.Schedule
		started, next int64
	)
	err := s.Scan(append([]any{&sc.ID, &d.TenantID, &d.AutomationID, &sc.Interval, &sc.Recurrence, &sc.StartAt, &sc.StopAt,
		&sc.Timezone, &started, &next}, extra...)...)
	sc.LastStartedAt, sc.NextRunAt = fromMicros(started), fromMicros(next)
	d.Schedule = &sc
	return err
}

// GetSchedule reads an automation's schedule; nil when it has none.
func (q Queries) GetSchedule(ctx context.Context, automationID string) (*schedule.Schedule, error) {
	var d store.DueSchedule
	err := scanSchedule(q.DB.QueryRowContext(ctx, "SELECT "+scheduleColumns+" FROM schedules WHERE automation_id = $1", automationID), &d)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Internalf(err, "get schedule")
	}
	return d.Schedule, nil
}

// PutSchedule stores an automation's schedule, replacing the one it had.
func (q Queries) PutSchedule(ctx context.Context, tenantID, automationID string, s *schedule.Schedule) error {
	_, err := q.DB.ExecContext(ctx, `INSERT INTO schedules (`+scheduleColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (automation_id) DO UPDATE SET id = excluded.id, interval_s = excluded.interval_s,
			recurrence = excluded.recurrence, start_at = excluded.start_at, stop_at = excluded.stop_at,
			timezone = excluded.timezone, last_started_at = excluded.last_started_at, next_run_at = excluded.next_run_at`,
		s.ID, tenantID, automationID, s.Interval, s.Recurrence, s.StartAt, s.StopAt, s.Timezone,
		toMicros(s.LastStartedAt), toMicros(s.NextRunAt))
	if err != nil {
		return apperr.Internalf(err, "put schedule")
	}
	return nil
}

// DeleteSchedule removes an automation's schedule, if it has one.
func (q Queries) DeleteSchedule(ctx context.Context, automationID string) error {
	if _, err := q.DB.ExecContext(ctx, "DELETE FROM schedules WHERE automation_id = $1", automationID); err != nil {
		return apperr.Internalf(err, "delete schedule")
	}
	return nil
}

// NextScheduleDue is the earliest next_run_at; an index lookup.
func (q Queries) NextScheduleDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := q.DB.QueryRowContext(ctx, "SELECT MIN(next_run_at) FROM schedules WHERE next_run_at > 0").Scan(&next); err != nil {
		return time.Time{}, apperr.Internalf(err, "next schedule due")
	}
	return fromMicros(next.Int64), nil
}

// DueSchedules reads the schedules due at now, earliest first, and (on
// PostgreSQL) locks them, skipping those another transaction holds.
func (q Queries) DueSchedules(ctx context.Context, now time.Time, limit int) ([]store.DueSchedule, error) {
	rows, err := q.DB.QueryContext(ctx, `SELECT s.`+strings.ReplaceAll(scheduleColumns, ", ", ", s.")+`,
			a.state, a.owner_id, a.space_id, a.max_concurrent_runs,
			(SELECT COUNT(*) FROM runs r WHERE r.automation_id = s.automation_id AND r.status IN `+liveActive+`),
			(SELECT COUNT(*) FROM runs r WHERE r.automation_id = s.automation_id AND r.status = 'queued')
		FROM schedules s JOIN automations a ON a.id = s.automation_id
		WHERE s.next_run_at > 0 AND s.next_run_at <= $1 ORDER BY s.next_run_at, s.id LIMIT $2`+q.Dialect.SkipLocked,
		toMicros(now), limit)
	if err != nil {
		return nil, apperr.Internalf(err, "due schedules")
	}
	defer rows.Close()
	var out []store.DueSchedule
	for rows.Next() {
		var d store.DueSchedule
		err := scanSchedule(rows, &d, &d.State, &d.OwnerID, &d.SpaceID, &d.MaxConcurrentRuns, &d.Counts.Active, &d.Counts.Queued)
		if err != nil {
			return nil, apperr.Internalf(err, "due schedules")
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// AdvanceSchedule moves a schedule from the occurrence it was due at to
// the next, if it is still due at from: a compare-and-set, so that of two
// schedulers reading the same row only one fires it.
func (q Queries) AdvanceSchedule(ctx context.Context, id string, from, next, startedAt time.Time) (bool, error) {
	var (
		res sql.Result
		err error
	)
	if startedAt.IsZero() {
		res, err = q.DB.ExecContext(ctx, `UPDATE schedules SET next_run_at = $3 WHERE id = $1 AND next_run_at = $2`,
			id, toMicros(from), toMicros(next))
	} else {
		res, err = q.DB.ExecContext(ctx, `UPDATE schedules SET next_run_at = $3, last_started_at = $4
			WHERE id = $1 AND next_run_at = $2`, id, toMicros(from), toMicros(next), toMicros(startedAt))
	}
	if err != nil {
		return false, apperr.Internalf(err, "advance schedule")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
