package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"automate/internal/apperr"
	"automate/internal/run"
	"automate/internal/store"
)

// runColumns lists the runs columns the run resource reads, in scan order.
const runColumns = `id, tenant_id, automation_id, status, context, title, owner_id, space_id, executed_by_id, test_run,
	inputs, output, errors, metrics, scheduled_start_time, start_time, stop_time, created_at, updated_at, trigger,
	lease_owner, lease_expires_at, attempt, wake_at, journal_seq, schedule_id`

// dispatchColumns adds the checkpoint, which only a worker reads.
const dispatchColumns = runColumns + ", checkpoint"

// liveActive is the SQL list of the statuses that hold a concurrency slot.
const liveActive = `('starting', 'running', 'must stop')`

func rawOr(b json.RawMessage, empty string) string {
	if len(b) == 0 {
		return empty
	}
	return string(b)
}

func scanRun(s scanner, withCheckpoint bool) (*run.Run, error) {
	var (
		r                                       run.Run
		inputs, output, errs, metrics           string
		scheduled, start, stop, created, update int64
		leaseUntil, wake                        int64
		checkpoint                              sql.NullString
	)
	dest := []any{&r.ID, &r.TenantID, &r.AutomationID, &r.Status, &r.Context, &r.Title, &r.OwnerID,
		&r.SpaceID, &r.ExecutedByID, &r.TestRun, &inputs, &output, &errs, &metrics, &scheduled, &start, &stop, &created, &update,
		&r.Trigger, &r.LeaseOwner, &leaseUntil, &r.Attempt, &wake, &r.JournalSeq, &r.ScheduleID}
	if withCheckpoint {
		dest = append(dest, &checkpoint)
	}
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	r.Inputs, r.Output, r.Errors, r.Metrics = json.RawMessage(inputs), json.RawMessage(output), json.RawMessage(errs), json.RawMessage(metrics)
	r.ScheduledStartTime, r.StartTime, r.StopTime = fromMicros(scheduled), fromMicros(start), fromMicros(stop)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(update)
	r.LeaseExpiresAt, r.WakeAt = fromMicros(leaseUntil), fromMicros(wake)
	if checkpoint.Valid {
		r.Checkpoint = json.RawMessage(checkpoint.String)
	}
	return &r, nil
}

func (q Queries) queryRuns(ctx context.Context, what string, withCheckpoint bool, query string, args ...any) ([]*run.Run, error) {
	rows, err := q.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, apperr.Internalf(err, "%s", what)
	}
	defer rows.Close()
	var out []*run.Run
	for rows.Next() {
		r, err := scanRun(rows, withCheckpoint)
		if err != nil {
			return nil, apperr.Internalf(err, "%s", what)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internalf(err, "%s", what)
	}
	return out, nil
}

// InsertRun stores a new run.
func (q Queries) InsertRun(ctx context.Context, r *run.Run) error {
	trigger := r.Trigger
	if trigger == "" {
		trigger = run.TriggerManual
	}
	_, err := q.DB.ExecContext(ctx, `INSERT INTO runs (`+runColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)`,
		r.ID, r.TenantID, r.AutomationID, r.Status, r.Context, r.Title, r.OwnerID, r.SpaceID, r.ExecutedByID, boolInt(r.TestRun),
		rawOr(r.Inputs, "null"), rawOr(r.Output, "[]"), rawOr(r.Errors, "[]"), rawOr(r.Metrics, "{}"),
		toMicros(r.ScheduledStartTime), toMicros(r.StartTime), toMicros(r.StopTime), toMicros(r.CreatedAt), toMicros(r.UpdatedAt),
		trigger, r.LeaseOwner, toMicros(r.LeaseExpiresAt), r.Attempt, toMicros(r.WakeAt), r.JournalSeq, r.ScheduleID)
	if err != nil {
		return apperr.Internalf(err, "insert run")
	}
	if r.Status == run.StatusQueued {
		return q.notify(ctx, EventRunQueued)
	}
	return nil
}

// GetRun reads one run of an automation.
func (q Queries) GetRun(ctx context.Context, tenantID, automationID, id string) (*run.Run, error) {
	row := q.DB.QueryRowContext(ctx, "SELECT "+runColumns+" FROM runs WHERE id = $1 AND automation_id = $2 AND tenant_id = $3",
		id, automationID, tenantID)
	r, err := scanRun(row, false)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("run %q not found", id)
	}
	if err != nil {
		return nil, apperr.Internalf(err, "get run")
	}
	return r, nil
}

// ListRuns reads one keyset page of runs.
func (q Queries) ListRuns(ctx context.Context, lq store.RunListQuery) ([]*run.Run, error) {
	query, args, err := ListRuns(q.Dialect, lq)
	if err != nil {
		return nil, err
	}
	out, err := q.queryRuns(ctx, "list runs", false, query, args...)
	if err != nil {
		return nil, err
	}
	if lq.Backward {
		slices.Reverse(out)
	}
	return out, nil
}

// RunJournal returns a run's journal in order.
func (q Queries) RunJournal(ctx context.Context, runID string) ([]store.JournalEntry, error) {
	rows, err := q.DB.QueryContext(ctx, "SELECT seq, entry FROM run_journal WHERE run_id = $1 ORDER BY seq", runID)
	if err != nil {
		return nil, apperr.Internalf(err, "read journal")
	}
	defer rows.Close()
	var out []store.JournalEntry
	for rows.Next() {
		var e store.JournalEntry
		var entry string
		if err := rows.Scan(&e.Seq, &entry); err != nil {
			return nil, apperr.Internalf(err, "read journal")
		}
		e.Entry = []byte(entry)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internalf(err, "read journal")
	}
	return out, nil
}

// SetLastRun points an automation at a run.
func (q Queries) SetLastRun(ctx context.Context, r *run.Run) error {
	_, err := q.DB.ExecContext(ctx, "UPDATE automations SET last_run_id = $1, last_run_at = $2, last_run_status = $3 WHERE id = $4",
		r.ID, toMicros(r.CreatedAt), run.AutomationStatus(r.Status), r.AutomationID)
	if err != nil {
		return apperr.Internalf(err, "set last run")
	}
	return nil
}

// followLastRun copies a run's new status to its automation when it is the
// automation's latest run.
func (q Queries) followLastRun(ctx context.Context, r *run.Run, status string) error {
	_, err := q.DB.ExecContext(ctx, "UPDATE automations SET last_run_status = $1 WHERE id = $2 AND last_run_id = $3",
		run.AutomationStatus(status), r.AutomationID, r.ID)
	if err != nil {
		return apperr.Internalf(err, "update last run status")
	}
	return nil
}

// CountRuns counts an automation's active and queued runs.
func (q Queries) CountRuns(ctx context.Context, automationID string) (store.RunCounts, error) {
	var c store.RunCounts
	err := q.DB.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN status IN `+liveActive+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0)
		FROM runs WHERE automation_id = $1 AND status IN ('starting', 'running', 'must stop', 'queued')`, automationID).
		Scan(&c.Active, &c.Queued)
	if err != nil {
		return c, apperr.Internalf(err, "count runs")
	}
	return c, nil
}

// QueuedAutomations lists automations with queued runs, oldest first.
func (q Queries) QueuedAutomations(ctx context.Context, limit int) ([]store.AutomationRef, error) {
	rows, err := q.DB.QueryContext(ctx, `SELECT tenant_id, automation_id FROM runs WHERE status = 'queued'
		GROUP BY tenant_id, automation_id ORDER BY MIN(id) LIMIT $1`, limit)
	if err != nil {
		return nil, apperr.Internalf(err, "queued automations")
	}
	defer rows.Close()
	var out []store.AutomationRef
	for rows.Next() {
		var a store.AutomationRef
		if err := rows.Scan(&a.TenantID, &a.ID); err != nil {
			return nil, apperr.Internalf(err, "queued automations")
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ClaimQueued claims the oldest n queued runs of an automation. Run ids are
// UUIDv7, so id order is creation order.
func (q Queries) ClaimQueued(ctx context.Context, automationID string, n int, l store.Lease) ([]*run.Run, error) {
	rs, err := q.queryRuns(ctx, "claim runs", true, `UPDATE runs SET status = 'running', lease_owner = $1, lease_expires_at = $2,
		attempt = attempt + 1, start_time = $3, updated_at = $3
		WHERE id IN (SELECT id FROM runs WHERE automation_id = $4 AND status = 'queued' ORDER BY id LIMIT $5)
		AND status = 'queued'
		RETURNING `+dispatchColumns, l.Owner, toMicros(l.Until), toMicros(l.Now), automationID, n)
	if err != nil {
		return nil, err
	}
	// RETURNING has no order; callers start runs in creation order.
	slices.SortFunc(rs, func(a, b *run.Run) int { return strings.Compare(a.ID, b.ID) })
	for _, r := range rs {
		if err := q.followLastRun(ctx, r, r.Status); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// Reclaim takes over a run at a known attempt.
func (q Queries) Reclaim(ctx context.Context, runID string, attempt int64, l store.Lease) (*run.Run, error) {
	rs, err := q.queryRuns(ctx, "reclaim run", true, `UPDATE runs SET lease_owner = $1, lease_expires_at = $2, wake_at = 0,
		attempt = attempt + 1, updated_at = $3
		WHERE id = $4 AND attempt = $5 AND status IN `+liveActive+`
		RETURNING `+dispatchColumns, l.Owner, toMicros(l.Until), toMicros(l.Now), runID, attempt)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return rs[0], nil
}

// ExpiredLeases lists live runs whose lease ended.
func (q Queries) ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]*run.Run, error) {
	return q.queryRuns(ctx, "expired leases", false, `SELECT `+runColumns+` FROM runs
		WHERE lease_owner <> '' AND lease_expires_at < $1 AND status IN `+liveActive+` ORDER BY lease_expires_at LIMIT $2`,
		toMicros(now), limit)
}

// DueParked lists parked runs due to wake.
func (q Queries) DueParked(ctx context.Context, now time.Time, limit int) ([]*run.Run, error) {
	return q.queryRuns(ctx, "due parked runs", false, `SELECT `+runColumns+` FROM runs
		WHERE wake_at > 0 AND wake_at <= $1 AND lease_owner = '' ORDER BY wake_at LIMIT $2`, toMicros(now), limit)
}

// NextWake is the earliest wake-up time of a parked run.
func (q Queries) NextWake(ctx context.Context) (time.Time, error) {
	var us sql.NullInt64
	if err := q.DB.QueryRowContext(ctx, "SELECT MIN(wake_at) FROM runs WHERE wake_at > 0").Scan(&us); err != nil {
		return time.Time{}, apperr.Internalf(err, "next wake")
	}
	return fromMicros(us.Int64), nil
}

// StaleQueued lists queued runs created before a time.
func (q Queries) StaleQueued(ctx context.Context, before time.Time, limit int) ([]*run.Run, error) {
	return q.queryRuns(ctx, "stale queued runs", false, `SELECT `+runColumns+` FROM runs
		WHERE status = 'queued' AND created_at < $1 ORDER BY id LIMIT $2`, toMicros(before), limit)
}

// LiveRuns lists an automation's live runs.
func (q Queries) LiveRuns(ctx context.Context, automationID string) ([]*run.Run, error) {
	return q.queryRuns(ctx, "live runs", false, `SELECT `+runColumns+` FROM runs
		WHERE automation_id = $1 AND status IN ('not started', 'starting', 'queued', 'running', 'must stop') ORDER BY id`, automationID)
}

func (q Queries) insertJournal(ctx context.Context, runID string, entries []store.JournalEntry) (int64, error) {
	var n int64
	for _, e := range entries {
		if _, err := q.DB.ExecContext(ctx, "INSERT INTO run_journal (run_id, seq, entry) VALUES ($1, $2, $3)", runID, e.Seq, string(e.Entry)); err != nil {
			return 0, apperr.Internalf(err, "write journal")
		}
		n += int64(len(e.Entry))
	}
	return n, nil
}

func lastSeq(entries []store.JournalEntry) int64 {
	if len(entries) == 0 {
		return 0
	}
	return entries[len(entries)-1].Seq
}

// SaveProgress writes a checkpoint and its journal entries.
func (q Queries) SaveProgress(ctx context.Context, p store.Progress) (string, error) {
	owner, until := p.Lease.Owner, toMicros(p.Lease.Until)
	if !p.WakeAt.IsZero() {
		owner, until = "", 0 // parked: nobody holds it until it wakes
	}
	var status string
	err := q.DB.QueryRowContext(ctx, `UPDATE runs SET
		checkpoint = $1, lease_owner = $2, lease_expires_at = $3, wake_at = $4, updated_at = $5,
		journal_seq = CASE WHEN $6 > journal_seq THEN $6 ELSE journal_seq END, journal_bytes = journal_bytes + $7
		WHERE id = $8 AND attempt = $9 AND lease_owner = $10 AND status IN `+liveActive+`
		RETURNING status`,
		string(p.Checkpoint), owner, until, toMicros(p.WakeAt), toMicros(p.Lease.Now),
		lastSeq(p.Journal), journalBytes(p.Journal), p.RunID, p.Attempt, p.Lease.Owner).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrLeaseLost
	}
	if err != nil {
		return "", apperr.Internalf(err, "save progress")
	}
	if _, err := q.insertJournal(ctx, p.RunID, p.Journal); err != nil {
		return "", err
	}
	return status, nil
}

func journalBytes(entries []store.JournalEntry) int64 {
	var n int64
	for _, e := range entries {
		n += int64(len(e.Entry))
	}
	return n
}

// RenewLeases extends the leases owner holds on the given runs.
func (q Queries) RenewLeases(ctx context.Context, owner string, runIDs []string, until, now time.Time) (map[string]string, error) {
	held := map[string]string{}
	// In id (byte) order, as the dispatcher's checkpoint batches lock them,
	// so that the two never wait on each other in a cycle.
	runIDs = slices.Sorted(slices.Values(runIDs))
	for len(runIDs) > 0 {
		// Chunks of a power of two in size: few statement shapes to cache.
		n := 64
		for n > len(runIDs) {
			n /= 2
		}
		chunk := runIDs[:n]
		runIDs = runIDs[n:]
		args := []any{toMicros(until), owner}
		marks := make([]string, len(chunk))
		for i, id := range chunk {
			args = append(args, id)
			marks[i] = "$" + strconv.Itoa(i+3)
		}
		if q.Dialect.RowLocks {
			// An UPDATE locks rows in whatever order its plan visits them.
			lockMarks := make([]string, len(chunk))
			for i := range chunk {
				lockMarks[i] = "$" + strconv.Itoa(i+2)
			}
			lock, err := q.DB.QueryContext(ctx, `SELECT id FROM runs WHERE lease_owner = $1 AND id IN (`+strings.Join(lockMarks, ", ")+`)
				ORDER BY id`+q.Dialect.Collate+q.Dialect.ForUpdate, args[1:]...)
			if err != nil {
				return nil, apperr.Internalf(err, "lock leases")
			}
			lock.Close()
		}
		rows, err := q.DB.QueryContext(ctx, `UPDATE runs SET lease_expires_at = $1
			WHERE lease_owner = $2 AND status IN `+liveActive+` AND id IN (`+strings.Join(marks, ", ")+`) RETURNING id, status`, args...)
		if err != nil {
			return nil, apperr.Internalf(err, "renew leases")
		}
		for rows.Next() {
			var id, status string
			if err := rows.Scan(&id, &status); err != nil {
				rows.Close()
				return nil, apperr.Internalf(err, "renew leases")
			}
			held[id] = status
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, apperr.Internalf(err, "renew leases")
		}
	}
	return held, nil
}

// SetRunStatus moves a run nobody executes to a new status.
func (q Queries) SetRunStatus(ctx context.Context, r *run.Run, from string, to store.Transition) (bool, error) {
	stop := int64(0)
	if run.IsFinal(to.Status) {
		stop = toMicros(to.Now)
	}
	errs := rawOr(to.Errors, "")
	res, err := q.DB.ExecContext(ctx, `UPDATE runs SET status = $1, updated_at = $2,
		stop_time = CASE WHEN CAST($3 AS BIGINT) > 0 THEN $3 ELSE stop_time END,
		errors = CASE WHEN $4 = '' THEN errors ELSE $4 END,
		lease_owner = CASE WHEN CAST($3 AS BIGINT) > 0 THEN '' ELSE lease_owner END, wake_at = CASE WHEN CAST($3 AS BIGINT) > 0 THEN 0 ELSE wake_at END,
		checkpoint = CASE WHEN CAST($3 AS BIGINT) > 0 THEN NULL ELSE checkpoint END
		WHERE id = $5 AND status = $6 AND attempt = $7 AND lease_owner = $8`,
		to.Status, toMicros(to.Now), stop, errs, r.ID, from, r.Attempt, r.LeaseOwner)
	if err != nil {
		return false, apperr.Internalf(err, "set run status")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := q.followLastRun(ctx, r, to.Status); err != nil {
		return false, err
	}
	event := EventRunStop + r.ID
	if run.IsFinal(to.Status) {
		event = EventRunEnded + r.ID
	}
	if err := q.notify(ctx, event); err != nil {
		return false, err
	}
	if to.Usage != nil {
		if err := q.addUsage(ctx, to.Usage); err != nil {
			return false, err
		}
	}
	return true, nil
}

// EndRun records how a run ended.
func (q Queries) EndRun(ctx context.Context, e store.Ending) error {
	r := e.Run
	res, err := q.DB.ExecContext(ctx, `UPDATE runs SET status = $1, title = $2, output = $3, errors = $4, metrics = $5,
		stop_time = $6, updated_at = $6, lease_owner = '', lease_expires_at = 0, wake_at = 0, checkpoint = NULL,
		journal_seq = CASE WHEN $7 > journal_seq THEN $7 ELSE journal_seq END, journal_bytes = journal_bytes + $8
		WHERE id = $9 AND attempt = $10 AND lease_owner = $11 AND status IN `+liveActive,
		e.Status, e.Title, string(e.Output), string(e.Errors), string(e.Metrics), toMicros(e.Now),
		lastSeq(e.Journal), journalBytes(e.Journal), r.ID, r.Attempt, r.LeaseOwner)
	if err != nil {
		return apperr.Internalf(err, "end run")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrLeaseLost
	}
	if _, err := q.insertJournal(ctx, r.ID, e.Journal); err != nil {
		return err
	}
	if err := q.followLastRun(ctx, r, e.Status); err != nil {
		return err
	}
	if err := q.notify(ctx, EventRunEnded+r.ID); err != nil {
		return err
	}
	if e.Usage != nil {
		return q.addUsage(ctx, e.Usage)
	}
	return nil
}

func (q Queries) addUsage(ctx context.Context, u *store.Usage) error {
	_, err := q.DB.ExecContext(ctx, `INSERT INTO usage_daily (tenant_id, day, automation_id, runs, scheduled_runs, triggered_runs,
		webhook_runs, duration_us, bandwidth_in, bandwidth_out) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id, day, automation_id) DO UPDATE SET runs = usage_daily.runs + excluded.runs,
		scheduled_runs = usage_daily.scheduled_runs + excluded.scheduled_runs,
		triggered_runs = usage_daily.triggered_runs + excluded.triggered_runs,
		webhook_runs = usage_daily.webhook_runs + excluded.webhook_runs,
		duration_us = usage_daily.duration_us + excluded.duration_us,
		bandwidth_in = usage_daily.bandwidth_in + excluded.bandwidth_in,
		bandwidth_out = usage_daily.bandwidth_out + excluded.bandwidth_out`,
		u.TenantID, u.Day, u.AutomationID, u.Runs, u.ScheduledRuns, u.TriggeredRuns, u.WebhookRuns, u.DurationMicros,
		u.BandwidthIn, u.BandwidthOut)
	if err != nil {
		return apperr.Internalf(err, "add usage")
	}
	return nil
}

// ListUsage reads the tenant's usage rows for days in [from, to].
func (q Queries) ListUsage(ctx context.Context, tenantID, from, to string) ([]store.UsageRow, error) {
	rows, err := q.DB.QueryContext(ctx, `SELECT u.tenant_id, u.day, u.automation_id, u.runs, u.scheduled_runs, u.triggered_runs,
		u.webhook_runs, u.duration_us, u.bandwidth_in, u.bandwidth_out, COALESCE(a.name, ''), COALESCE(a.owner_id, '')
		FROM usage_daily u LEFT JOIN automations a ON a.id = u.automation_id
		WHERE u.tenant_id = $1 AND u.day >= $2 AND u.day <= $3 ORDER BY u.day, u.automation_id`, tenantID, from, to)
	if err != nil {
		return nil, apperr.Internalf(err, "list usage")
	}
	defer rows.Close()
	var out []store.UsageRow
	for rows.Next() {
		var u store.UsageRow
		if err := rows.Scan(&u.TenantID, &u.Day, &u.AutomationID, &u.Runs, &u.ScheduledRuns, &u.TriggeredRuns, &u.WebhookRuns,
			&u.DurationMicros, &u.BandwidthIn, &u.BandwidthOut, &u.Name, &u.OwnerID); err != nil {
			return nil, apperr.Internalf(err, "list usage")
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// RetentionCandidates lists automations over a retention limit.
func (q Queries) RetentionCandidates(ctx context.Context, keepRuns int, keepBytes int64, limit int) ([]string, error) {
	rows, err := q.DB.QueryContext(ctx, `SELECT automation_id FROM runs GROUP BY automation_id
		HAVING COUNT(*) > $1 OR SUM(journal_bytes) > $2 LIMIT $3`, keepRuns, keepBytes, limit)
	if err != nil {
		return nil, apperr.Internalf(err, "retention candidates")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, apperr.Internalf(err, "retention candidates")
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// PruneRuns deletes a batch of an automation's oldest finished runs beyond
// its limits. Newest first, it walks the runs adding up count and journal
// size; the finished ones past either limit go.
func (q Queries) PruneRuns(ctx context.Context, automationID string, keepRuns int, keepBytes int64, batch int) (int, error) {
	rows, err := q.DB.QueryContext(ctx, `SELECT id, status, journal_bytes FROM runs WHERE automation_id = $1 ORDER BY id DESC`, automationID)
	if err != nil {
		return 0, apperr.Internalf(err, "prune runs")
	}
	var (
		victims []string
		n       int
		bytes   int64
	)
	for rows.Next() {
		var id, status string
		var jb int64
		if err := rows.Scan(&id, &status, &jb); err != nil {
			rows.Close()
			return 0, apperr.Internalf(err, "prune runs")
		}
		n++
		bytes += jb
		if (n > keepRuns || bytes > keepBytes) && run.IsFinal(status) {
			victims = append(victims, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, apperr.Internalf(err, "prune runs")
	}
	// The oldest go first, a batch at a time.
	if len(victims) > batch {
		victims = victims[len(victims)-batch:]
	}
	for _, id := range victims {
		if _, err := q.DB.ExecContext(ctx, "DELETE FROM runs WHERE id = $1", id); err != nil {
			return 0, apperr.Internalf(err, "prune runs")
		}
	}
	return len(victims), nil
}

// QueueDepth counts queued runs.
func (q Queries) QueueDepth(ctx context.Context) (int64, error) {
	var n int64
	if err := q.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM runs WHERE status = 'queued'").Scan(&n); err != nil {
		return 0, apperr.Internalf(err, "queue depth")
	}
	return n, nil
}

// boolInt stores a flag as 0 or 1: both databases keep flags in integer
// columns.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
