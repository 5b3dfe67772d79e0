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

	"automate/internal/apikey"
	"automate/internal/apperr"
	"automate/internal/space"
	"automate/internal/store"
)

// isUnique reports a unique-constraint violation (SQLite's and
// PostgreSQL's wording).
func isUnique(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "UNIQUE constraint failed") ||
		strings.Contains(err.Error(), "duplicate key value"))
}

const spaceColumns = `id, tenant_id, name, description, type, owner_id, created_by, created_at, updated_at`

var spacesTable = listTable{
	name:    "spaces",
	columns: spaceColumns,
	sort: map[string]column{
		string(space.SortID):        {"id", textColumn},
		string(space.SortName):      {"name", textColumn},
		string(space.SortType):      {"type", textColumn},
		string(space.SortCreatedAt): {"created_at", numberColumn},
	},
	filter: map[string]column{
		"name": {"name", textColumn},
		"type": {"type", textColumn},
	},
	filterNames: space.FilterFields,
}

func scanSpace(s scanner) (*space.Space, error) {
	var (
		sp                   space.Space
		createdAt, updatedAt int64
	)
	err := s.Scan(&sp.ID, &sp.TenantID, &sp.Name, &sp.Description, &sp.Type, &sp.OwnerID, &sp.CreatedBy, &createdAt, &updatedAt)
	sp.CreatedAt, sp.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &sp, err
}

// GetSpace reads one space.
func (q Queries) GetSpace(ctx context.Context, tenantID, id string) (*space.Space, error) {
	sp, err := scanSpace(q.DB.QueryRowContext(ctx, "SELECT "+spaceColumns+" FROM spaces WHERE id = $1 AND tenant_id = $2", id, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("space %q not found", id)
	}
	if err != nil {
		return nil, apperr.Internalf(err, "get space")
	}
	return sp, nil
}

// memberSpaces is the SQL set of the ids of the spaces a user owns or is
// a member of, with arg naming the user's tenant and id.
func memberSpaces(b *builder, tenantID, userID string) string {
	t, u := b.arg(tenantID), b.arg(userID)
	return "(SELECT space_id FROM space_assignments WHERE tenant_id = " + t + " AND assignee_id = " + u +
		" UNION SELECT id FROM spaces WHERE tenant_id = " + t + " AND owner_id = " + u + ")"
}

// ListSpaces reads one keyset page of spaces.
func (q Queries) ListSpaces(ctx context.Context, lq store.SpaceListQuery) ([]*space.Space, error) {
	b := &builder{d: q.Dialect, t: &spacesTable}
	where := "tenant_id = " + b.arg(lq.TenantID)
	if lq.MemberID != "" {
		where += " AND id IN " + memberSpaces(b, lq.TenantID, lq.MemberID)
	}
	query, args, err := b.list(where, page{lq.Filter, lq.Sort, lq.Desc, lq.After, lq.Backward, lq.Limit})
	if err != nil {
		return nil, err
	}
	rows, err := q.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, apperr.Internalf(err, "list spaces")
	}
	defer rows.Close()
	var out []*space.Space
	for rows.Next() {
		sp, err := scanSpace(rows)
		if err != nil {
			return nil, apperr.Internalf(err, "list spaces")
		}
		out = append(out, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internalf(err, "list spaces")
	}
	if lq.Backward {
		slices.Reverse(out)
	}
	return out, nil
}

// InsertSpace stores a new space; a name the tenant already uses is a
// conflict.
func (q Queries) InsertSpace(ctx context.Context, s *space.Space) error {
	_, err := q.DB.ExecContext(ctx, `INSERT INTO spaces (`+spaceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.ID, s.TenantID, s.Name, s.Description, s.Type, s.OwnerID, s.CreatedBy, toMicros(s.CreatedAt), toMicros(s.UpdatedAt))
	return spaceWriteError(err, s.Name)
}

// UpdateSpace writes a space's name, description and owner.
func (q Queries) UpdateSpace(ctx context.Context, s *space.Space) error {
	_, err := q.DB.ExecContext(ctx, `UPDATE spaces SET name = $1, description = $2, owner_id = $3, updated_at = $4
		WHERE id = $5 AND tenant_id = $6`, s.Name, s.Description, s.OwnerID, toMicros(s.UpdatedAt), s.ID, s.TenantID)
	return spaceWriteError(err, s.Name)
}

func spaceWriteError(err error, name string) error {
	switch {
	case err == nil:
		return nil
	case isUnique(err):
		return apperr.E(apperr.Conflict, apperr.CodeConflict, "Conflict", "a space named %q already exists", name)
	}
	return apperr.Internalf(err, "write space")
}

// DeleteSpace removes a space with its assignments.
func (q Queries) DeleteSpace(ctx context.Context, tenantID, id string) error {
	if _, err := q.DB.ExecContext(ctx, "DELETE FROM spaces WHERE id = $1 AND tenant_id = $2", id, tenantID); err != nil {
		return apperr.Internalf(err, "delete space")
	}
	return nil
}

// CountSpaceAutomations counts the automations in a space.
func (q Queries) CountSpaceAutomations(ctx context.Context, tenantID, spaceID string) (int, error) {
	var n int
	err := q.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM automations WHERE tenant_id = $1 AND space_id = $2", tenantID, spaceID).Scan(&n)
	if err != nil {
		return 0, apperr.Internalf(err, "count space automations")
	}
	return n, nil
}

// SpaceRoles are a user's roles in a space, from its assignment.
func (q Queries) SpaceRoles(ctx context.Context, tenantID, spaceID, userID string) ([]string, error) {
	var raw string
	err := q.DB.QueryRowContext(ctx, "SELECT roles FROM space_assignments WHERE space_id = $1 AND assignee_id = $2 AND tenant_id = $3",
		spaceID, userID, tenantID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Internalf(err, "space roles")
	}
	return decodeList(raw, "space roles")
}

func decodeList(raw, what string) ([]string, error) {
	var out []string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, apperr.Internalf(err, "decode %s", what)
	}
	return out, nil
}

func encodeList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

const assignmentColumns = `id, tenant_id, space_id, type, assignee_id, roles, created_by, updated_by, created_at, updated_at`

func scanAssignment(s scanner) (*space.Assignment, error) {
	var (
		a                    space.Assignment
		roles                string
		createdAt, updatedAt int64
	)
	if err := s.Scan(&a.ID, &a.TenantID, &a.SpaceID, &a.Type, &a.AssigneeID, &roles, &a.CreatedBy, &a.UpdatedBy, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	var err error
	a.Roles, err = decodeList(roles, "assignment roles")
	return &a, err
}

// GetAssignment reads one assignment of a space.
func (q Queries) GetAssignment(ctx context.Context, tenantID, spaceID, id string) (*space.Assignment, error) {
	a, err := scanAssignment(q.DB.QueryRowContext(ctx, "SELECT "+assignmentColumns+
		" FROM space_assignments WHERE id = $1 AND space_id = $2 AND tenant_id = $3", id, spaceID, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("assignment %q not found", id)
	}
	if err != nil {
		return nil, apperr.Internalf(err, "get assignment")
	}
	return a, nil
}

// ListAssignments reads a page of a space's assignments in id order.
func (q Queries) ListAssignments(ctx context.Context, tenantID, spaceID, afterID string, limit int) ([]*space.Assignment, error) {
	rows, err := q.DB.QueryContext(ctx, "SELECT "+assignmentColumns+` FROM space_assignments
		WHERE space_id = $1 AND tenant_id = $2 AND id`+q.Dialect.Collate+` > $3 ORDER BY id`+q.Dialect.Collate+` LIMIT $4`,
		spaceID, tenantID, afterID, limit)
	if err != nil {
		return nil, apperr.Internalf(err, "list assignments")
	}
	defer rows.Close()
	var out []*space.Assignment
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, apperr.Internalf(err, "list assignments")
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// InsertAssignment adds a member; a second assignment of one user to one
// space is a conflict.
func (q Queries) InsertAssignment(ctx context.Context, a *space.Assignment) error {
	_, err := q.DB.ExecContext(ctx, `INSERT INTO space_assignments (`+assignmentColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, a.ID, a.TenantID, a.SpaceID, a.Type, a.AssigneeID, encodeList(a.Roles),
		a.CreatedBy, a.UpdatedBy, toMicros(a.CreatedAt), toMicros(a.UpdatedAt))
	switch {
	case isUnique(err):
		return apperr.E(apperr.Conflict, apperr.CodeConflict, "Conflict", "user %q is already assigned to this space", a.AssigneeID)
	case err != nil:
		return apperr.Internalf(err, "insert assignment")
	}
	return nil
}

// UpdateAssignment writes an assignment's roles.
func (q Queries) UpdateAssignment(ctx context.Context, a *space.Assignment) error {
	_, err := q.DB.ExecContext(ctx, `UPDATE space_assignments SET roles = $1, updated_by = $2, updated_at = $3
		WHERE id = $4 AND tenant_id = $5`, encodeList(a.Roles), a.UpdatedBy, toMicros(a.UpdatedAt), a.ID, a.TenantID)
	if err != nil {
		return apperr.Internalf(err, "update assignment")
	}
	return nil
}

// DeleteAssignment removes a member.
func (q Queries) DeleteAssignment(ctx context.Context, tenantID, spaceID, id string) error {
	_, err := q.DB.ExecContext(ctx, "DELETE FROM space_assignments WHERE id = $1 AND space_id = $2 AND tenant_id = $3", id, spaceID, tenantID)
	if err != nil {
		return apperr.Internalf(err, "delete assignment")
	}
	return nil
}

// GetUser reads a user seen before.
func (q Queries) GetUser(ctx context.Context, tenantID, id string) (*store.User, error) {
	var (
		u             store.User
		roles         string
		created, seen int64
	)
	err := q.DB.QueryRowContext(ctx, "SELECT tenant_id, id, name, roles, created_at, last_seen_at FROM users WHERE tenant_id = $1 AND id = $2",
		tenantID, id).Scan(&u.TenantID, &u.ID, &u.Name, &roles, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("user %q not found", id)
	}
	if err != nil {
		return nil, apperr.Internalf(err, "get user")
	}
	u.CreatedAt, u.LastSeenAt = fromMicros(created), fromMicros(seen)
	u.Roles, err = decodeList(roles, "user roles")
	return &u, err
}

// SeeUser records a user as seen.
func (q Queries) SeeUser(ctx context.Context, u *store.User) error {
	_, err := q.DB.ExecContext(ctx, `INSERT INTO users (tenant_id, id, name, roles, created_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, roles = excluded.roles, last_seen_at = excluded.last_seen_at`,
		u.TenantID, u.ID, u.Name, encodeList(u.Roles), toMicros(u.LastSeenAt))
	if err != nil {
		return apperr.Internalf(err, "record user")
	}
	return nil
}

const apiKeyColumns = `id, tenant_id, user_id, description, roles, revoked, created_by, created_at, updated_at, expires_at`

func scanAPIKey(s scanner) (*apikey.Key, error) {
	var (
		k                         apikey.Key
		roles                     string
		revoked                   int
		created, updated, expires int64
	)
	if err := s.Scan(&k.ID, &k.TenantID, &k.UserID, &k.Description, &roles, &revoked, &k.CreatedBy, &created, &updated, &expires); err != nil {
		return nil, err
	}
	k.Revoked = revoked != 0
	k.CreatedAt, k.UpdatedAt, k.ExpiresAt = fromMicros(created), fromMicros(updated), fromMicros(expires)
	var err error
	k.Roles, err = decodeList(roles, "key roles")
	return &k, err
}

func (q Queries) oneAPIKey(ctx context.Context, where string, args ...any) (*apikey.Key, error) {
	k, err := scanAPIKey(q.DB.QueryRowContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFoundf("API key not found")
	}
	if err != nil {
		return nil, apperr.Internalf(err, "get API key")
	}
	return k, nil
}

// GetAPIKey reads one key of a tenant.
func (q Queries) GetAPIKey(ctx context.Context, tenantID, id string) (*apikey.Key, error) {
	return q.oneAPIKey(ctx, "id = $1 AND tenant_id = $2", id, tenantID)
}

// APIKeyByHash finds a key by its secret's hash.
func (q Queries) APIKeyByHash(ctx context.Context, hash string) (*apikey.Key, error) {
	return q.oneAPIKey(ctx, "token_hash = $1", hash)
}

// ListAPIKeys reads a page of keys in id order.
func (q Queries) ListAPIKeys(ctx context.Context, tenantID, userID, afterID string, limit int) ([]*apikey.Key, error) {
	query := "SELECT " + apiKeyColumns + " FROM api_keys WHERE tenant_id = $1 AND id" + q.Dialect.Collate + " > $2"
	args := []any{tenantID, afterID}
	if userID != "" {
		query += " AND user_id = $3"
		args = append(args, userID)
	}
	rows, err := q.DB.QueryContext(ctx, query+" ORDER BY id"+q.Dialect.Collate+" LIMIT "+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, apperr.Internalf(err, "list API keys")
	}
	defer rows.Close()
	var out []*apikey.Key
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, apperr.Internalf(err, "list API keys")
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// InsertAPIKey stores a key with its secret's hash.
func (q Queries) InsertAPIKey(ctx context.Context, k *apikey.Key, hash string) error {
	_, err := q.DB.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, user_id, description, token_hash, roles, revoked,
		created_by, created_at, updated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10)`,
		k.ID, k.TenantID, k.UserID, k.Description, hash, encodeList(k.Roles), k.CreatedBy,
		toMicros(k.CreatedAt), toMicros(k.UpdatedAt), toMicros(k.ExpiresAt))
	if err != nil {
		return apperr.Internalf(err, "insert API key")
	}
	return nil
}

// RevokeAPIKey marks a key revoked.
func (q Queries) RevokeAPIKey(ctx context.Context, tenantID, id string, now time.Time) (bool, error) {
	res, err := q.DB.ExecContext(ctx, "UPDATE api_keys SET revoked = 1, updated_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked = 0",
		toMicros(now), id, tenantID)
	if err != nil {
		return false, apperr.Internalf(err, "revoke API key")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
