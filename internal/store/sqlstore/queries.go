package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/store"
)

// DBTX is what the queries need: a *sql.DB or a *sql.Tx.
type DBTX interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Queries runs the shared SQL on a DBTX. An adapter embeds it in its reader
// and its transaction types.
type Queries struct {
	DB      DBTX
	Dialect Dialect
}

type scanner interface {
	Scan(dest ...any) error
}

func scanAutomation(s scanner) (*automation.Automation, error) {
	var (
		a                               automation.Automation
		workspace, snippets, eps, conns string
		lastRunAt, createdAt, updatedAt int64
	)
	err := s.Scan(&a.ID, &a.TenantID, &a.Name, &a.Description, &a.State, &a.OwnerID, &a.SpaceID, &a.RunMode, &workspace,
		&snippets, &eps, &conns, &a.ExecutionToken, &a.MaxConcurrentRuns,
		&a.LastRunID, &lastRunAt, &a.LastRunStatus, &createdAt, &updatedAt)
	if err != nil {
		return nil, err
	}
	a.Workspace = json.RawMessage(workspace)
	for _, f := range []struct {
		src string
		dst *[]string
	}{{snippets, &a.SnippetIDs}, {eps, &a.EndpointIDs}, {conns, &a.ConnectorIDs}} {
		if f.src == "[]" {
			*f.dst = []string{} // the common case, without the decoder
			continue
		}
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return nil, apperr.Internalf(err, "automation %s: decode id list", a.ID)
		}
	}
	a.LastRunAt = fromMicros(lastRunAt)
	a.CreatedAt = fromMicros(createdAt)
	a.UpdatedAt = fromMicros(updatedAt)
	return &a, nil
}

// fromMicros turns stored microseconds into a UTC time; 0 is the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// toMicros turns a time into stored microseconds; the zero time is 0.
func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func idList(ids []string) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// GetAutomation reads one automation of a tenant.
func (q Queries) GetAutomation(ctx context.Context, tenantID, id string) (*automation.Automation, error) {
	return q.automation(ctx, tenantID, id, "")
}

// LockAutomation reads an automation and, where the database has row
// locks, holds it until the transaction ends (SQLite's one writer already
// serialises every transaction).
func (q Queries) LockAutomation(ctx context.Context, tenantID, id string) (*automation.Automation, error) {
	return q.automation(ctx, tenantID, id, q.Dialect.ForUpdate)
}

// automation reads one automation; lock is appended to the SELECT.
func (q Queries) automation(ctx context.Context, tenantID, id, lock string) (*automation.Automation, error) {
	row := q.DB.QueryRowContext(ctx, "SELECT "+AutomationColumns+" FROM automations WHERE id = $1 AND tenant_id = $2"+lock, id, tenantID)
	a, err := scanAutomation(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("automation %q not found", id)
	}
	if err != nil {
		return nil, apperr.Internalf(err, "get automation")
	}
	return a, nil
}

// ListAutomations reads one keyset page.
func (q Queries) ListAutomations(ctx context.Context, lq store.ListQuery) ([]*automation.Automation, error) {
	query, args, err := ListAutomations(q.Dialect, lq)
	if err != nil {
		return nil, err
	}
	rows, err := q.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, apperr.Internalf(err, "list automations")
	}
	defer rows.Close()
	out := make([]*automation.Automation, 0, lq.Limit)
	for rows.Next() {
		a, err := scanAutomation(rows)
		if err != nil {
			return nil, apperr.Internalf(err, "list automations")
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internalf(err, "list automations")
	}
	if lq.Backward {
		slices.Reverse(out)
	}
	return out, nil
}

// GetSettings reads a tenant's settings, or the defaults.
func (q Queries) GetSettings(ctx context.Context, tenantID string) (automation.Settings, error) {
	s := automation.DefaultSettings
	err := q.DB.QueryRowContext(ctx, "SELECT max_concurrent_runs_per_automation FROM tenant_settings WHERE tenant_id = $1", tenantID).
		Scan(&s.MaxConcurrentRunsPerAutomation)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s, apperr.Internalf(err, "get settings")
	}
	return s, nil
}

// InsertAutomation stores a new automation.
func (q Queries) InsertAutomation(ctx context.Context, a *automation.Automation) error {
	_, err := q.DB.ExecContext(ctx, `INSERT INTO automations (`+AutomationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		a.ID, a.TenantID, a.Name, a.Description, a.State, a.OwnerID, a.SpaceID, a.RunMode, string(a.Workspace),
		idList(a.SnippetIDs), idList(a.EndpointIDs), idList(a.ConnectorIDs), a.ExecutionToken, a.MaxConcurrentRuns,
		a.LastRunID, toMicros(a.LastRunAt), a.LastRunStatus, toMicros(a.CreatedAt), toMicros(a.UpdatedAt))
	if err != nil {
		return apperr.Internalf(err, "insert automation")
	}
	return nil
}

// UpdateAutomation writes every field of an existing automation but its id,
// tenant and creation time.
func (q Queries) UpdateAutomation(ctx context.Context, a *automation.Automation) error {
	res, err := q.DB.ExecContext(ctx, `UPDATE automations SET name = $3, description = $4, state = $5, owner_id = $6,
		space_id = $7, run_mode = $8, workspace = $9, snippet_ids = $10, endpoint_ids = $11, connector_ids = $12,
		execution_token = $13, max_concurrent_runs = $14, last_run_id = $15, last_run_at = $16, last_run_status = $17,
		updated_at = $18
		WHERE id = $1 AND tenant_id = $2`,
		a.ID, a.TenantID, a.Name, a.Description, a.State, a.OwnerID, a.SpaceID, a.RunMode, string(a.Workspace),
		idList(a.SnippetIDs), idList(a.EndpointIDs), idList(a.ConnectorIDs), a.ExecutionToken, a.MaxConcurrentRuns,
		a.LastRunID, toMicros(a.LastRunAt), a.LastRunStatus, toMicros(a.UpdatedAt))
	if err != nil {
		return apperr.Internalf(err, "update automation")
	}
	return mustAffect(res, "automation %q not found", a.ID)
}

// DeleteAutomation removes an automation and, by cascade, its runs.
func (q Queries) DeleteAutomation(ctx context.Context, tenantID, id string) error {
	if err := q.stopExecuting(ctx, tenantID, id); err != nil {
		return err
	}
	res, err := q.DB.ExecContext(ctx, "DELETE FROM automations WHERE id = $1 AND tenant_id = $2", id, tenantID)
	if err != nil {
		return apperr.Internalf(err, "delete automation")
	}
	return mustAffect(res, "automation %q not found", id)
}

// DeleteRunHistory removes every run of an automation.
func (q Queries) DeleteRunHistory(ctx context.Context, tenantID, automationID string) error {
	if err := q.stopExecuting(ctx, tenantID, automationID); err != nil {
		return err
	}
	if _, err := q.DB.ExecContext(ctx, "DELETE FROM runs WHERE automation_id = $1 AND tenant_id = $2", automationID, tenantID); err != nil {
		return apperr.Internalf(err, "delete run history")
	}
	return nil
}

// PutSettings writes a tenant's settings.
func (q Queries) PutSettings(ctx context.Context, tenantID string, s automation.Settings, now time.Time) error {
	_, err := q.DB.ExecContext(ctx, `INSERT INTO tenant_settings (tenant_id, max_concurrent_runs_per_automation, updated_at)
		VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET max_concurrent_runs_per_automation = excluded.max_concurrent_runs_per_automation,
			updated_at = excluded.updated_at`,
		tenantID, s.MaxConcurrentRunsPerAutomation, toMicros(now))
	if err != nil {
		return apperr.Internalf(err, "put settings")
	}
	return nil
}

// MaxConcurrentRunsInUse is the highest maxConcurrentRuns in the tenant.
func (q Queries) MaxConcurrentRunsInUse(ctx context.Context, tenantID string) (int, error) {
	var n sql.NullInt64
	if err := q.DB.QueryRowContext(ctx, "SELECT MAX(max_concurrent_runs) FROM automations WHERE tenant_id = $1", tenantID).Scan(&n); err != nil {
		return 0, apperr.Internalf(err, "max concurrent runs")
	}
	return int(n.Int64), nil
}

func mustAffect(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return apperr.Internalf(err, "rows affected")
	}
	if n == 0 {
		return apperr.NotFoundf(format, args...)
	}
	return nil
}

// RunURLCandidates finds automations by id or name, across tenants.
func (q Queries) RunURLCandidates(ctx context.Context, idOrName string) ([]*automation.Automation, error) {
	rows, err := q.DB.QueryContext(ctx, "SELECT "+AutomationColumns+` FROM automations WHERE id = $1
		UNION SELECT `+AutomationColumns+" FROM automations WHERE name = $1 ORDER BY id LIMIT 20", idOrName)
	if err != nil {
		return nil, apperr.Internalf(err, "find automation")
	}
	defer rows.Close()
	var out []*automation.Automation
	for rows.Next() {
		a, err := scanAutomation(rows)
		if err != nil {
			return nil, apperr.Internalf(err, "find automation")
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
