package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
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
	return q.notify(ctx, EventSchedules)
}

// DeleteSchedule removes an automation's schedule, if it has one.
func (q Queries) DeleteSchedule(ctx context.Context, automationID string) error {
	if _, err := q.DB.ExecContext(ctx, "DELETE FROM schedules WHERE automation_id = $1", automationID); err != nil {
		return apperr.Internalf(err, "delete schedule")
	}
	return q.notify(ctx, EventSchedules)
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
	if q.Dialect.RowLocks {
		return q.dueSchedulesLocked(ctx, now, limit)
	}
	rows, err := q.DB.QueryContext(ctx, `SELECT s.`+strings.ReplaceAll(scheduleColumns, ", ", ", s.")+`,
			a.state, a.owner_id, a.space_id, a.max_concurrent_runs,
			(SELECT COUNT(*) FROM runs r WHERE r.automation_id = s.automation_id AND r.status IN `+liveActive+`),
			(SELECT COUNT(*) FROM runs r WHERE r.automation_id = s.automation_id AND r.status = 'queued')
		FROM schedules s JOIN automations a ON a.id = s.automation_id
		WHERE s.next_run_at > 0 AND s.next_run_at <= $1 ORDER BY s.next_run_at, s.id LIMIT $2`,
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

// dueSchedulesLocked is DueSchedules where other transactions write at
// the same time: it claims the due rows (skipping those another scheduler
// holds), then locks their automations in id order, and only then counts
// their live runs, in a statement of its own that sees every admission
// committed before the locks were granted.
func (q Queries) dueSchedulesLocked(ctx context.Context, now time.Time, limit int) ([]store.DueSchedule, error) {
	fail := func(err error) ([]store.DueSchedule, error) { return nil, apperr.Internalf(err, "due schedules") }
	rows, err := q.DB.QueryContext(ctx, "SELECT "+scheduleColumns+` FROM schedules
		WHERE next_run_at > 0 AND next_run_at <= $1 ORDER BY next_run_at, id LIMIT $2`+q.Dialect.SkipLocked, toMicros(now), limit)
	if err != nil {
		return fail(err)
	}
	var out []store.DueSchedule
	for rows.Next() {
		var d store.DueSchedule
		if err := scanSchedule(rows, &d); err != nil {
			rows.Close()
			return fail(err)
		}
		out = append(out, d)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fail(err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, len(out))
	byID := map[string]*store.DueSchedule{}
	for i := range out {
		ids[i] = out[i].AutomationID
		byID[ids[i]] = &out[i]
	}
	rows, err = q.DB.QueryContext(ctx, `SELECT id, state, owner_id, space_id, max_concurrent_runs FROM automations
		WHERE id = ANY($1) ORDER BY id`+q.Dialect.Collate+q.Dialect.ForUpdate, ids)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var (
			id string
			a  store.DueSchedule
		)
		if err := rows.Scan(&id, &a.State, &a.OwnerID, &a.SpaceID, &a.MaxConcurrentRuns); err != nil {
			rows.Close()
			return fail(err)
		}
		if d := byID[id]; d != nil {
			d.State, d.OwnerID, d.SpaceID, d.MaxConcurrentRuns = a.State, a.OwnerID, a.SpaceID, a.MaxConcurrentRuns
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fail(err)
	}
	rows, err = q.DB.QueryContext(ctx, `SELECT automation_id,
			COALESCE(SUM(CASE WHEN status IN `+liveActive+` THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0)
		FROM runs WHERE automation_id = ANY($1) AND status IN ('starting', 'running', 'must stop', 'queued')
		GROUP BY automation_id`, ids)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			c  store.RunCounts
		)
		if err := rows.Scan(&id, &c.Active, &c.Queued); err != nil {
			return fail(err)
		}
		if d := byID[id]; d != nil {
			d.Counts = c
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	// An automation deleted meanwhile took its schedule with it.
	return slices.DeleteFunc(out, func(d store.DueSchedule) bool { return d.State == "" }), nil
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
