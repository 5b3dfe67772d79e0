// Package sqlstore holds the SQL that SQLite and PostgreSQL share: the
// queries over database/sql, and the automations list with its keyset, sort
// and SCIM filter. Everything it emits is parameterised ($1, $2, ...);
// values never enter the SQL text.
package sqlstore

import (
	"fmt"
	"strconv"
	"strings"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/scim"
	"automate/internal/store"
)

// Dialect holds what differs between the databases in this SQL.
type Dialect struct {
	// Collate is appended to text columns in comparisons and ORDER BY so
	// that both databases order text by bytes (PostgreSQL: ` COLLATE "C"`).
	Collate string
}

// AutomationColumns lists the automations columns in scan order.
const AutomationColumns = `id, tenant_id, name, description, state, owner_id, space_id, run_mode, workspace,
	snippet_ids, endpoint_ids, connector_ids, execution_token, max_concurrent_runs,
	last_run_id, last_run_at, last_run_status, created_at, updated_at`

// sortColumns maps a sort field to its column.
var sortColumns = map[automation.SortField]string{
	automation.SortID:                "id",
	automation.SortName:              "name",
	automation.SortRunMode:           "run_mode",
	automation.SortState:             "state",
	automation.SortCreatedAt:         "created_at",
	automation.SortUpdatedAt:         "updated_at",
	automation.SortLastRunAt:         "last_run_at",
	automation.SortLastRunStatus:     "last_run_status",
	automation.SortMaxConcurrentRuns: "max_concurrent_runs",
}

// filterColumns maps a filter attribute (matched case-insensitively) to its
// column. All are text; an absent value is stored as ”.
var filterColumns = map[string]string{
	"name":          "name",
	"runmode":       "run_mode",
	"lastrunstatus": "last_run_status",
	"ownerid":       "owner_id",
	"spaceid":       "space_id",
}

// builder accumulates SQL arguments.
type builder struct {
	d    Dialect
	args []any
}

func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *builder) text(col string, isText bool) string {
	if isText {
		return col + b.d.Collate
	}
	return col
}

// ListAutomations returns the SELECT for q and its arguments. Rows come
// back in the order of travel: reversed when q.Backward, which the caller
// undoes.
func ListAutomations(d Dialect, q store.ListQuery) (string, []any, error) {
	col, ok := sortColumns[q.Sort]
	if !ok {
		return "", nil, apperr.InvalidParameter("cannot sort by %q", q.Sort)
	}
	isText := !q.Sort.IsNumeric()
	b := &builder{d: d}
	var sb strings.Builder
	sb.WriteString("SELECT " + AutomationColumns + " FROM automations WHERE tenant_id = " + b.arg(q.TenantID))
	if q.OwnerID != "" {
		sb.WriteString(" AND owner_id = " + b.arg(q.OwnerID))
	}
	if q.Filter != nil {
		w, err := b.filter(q.Filter)
		if err != nil {
			return "", nil, err
		}
		sb.WriteString(" AND " + w)
	}
	// Travelling backward reverses both the comparison and the order.
	desc := q.Desc != q.Backward
	if q.After != nil {
		cmp := ">"
		if desc {
			cmp = "<"
		}
		v := q.After.Value
		_, isString := v.(string)
		_, isInt := v.(int64)
		if (isText && !isString) || (!isText && !isInt) {
			return "", nil, apperr.InvalidCursor("cursor does not fit sort %q", q.Sort)
		}
		if col == "id" {
			fmt.Fprintf(&sb, " AND id%s %s %s", d.Collate, cmp, b.arg(q.After.ID))
		} else {
			fmt.Fprintf(&sb, " AND (%s %s %s OR (%s = %s AND id%s %s %s))",
				b.text(col, isText), cmp, b.arg(v), col, b.arg(v), d.Collate, cmp, b.arg(q.After.ID))
		}
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	if col == "id" {
		fmt.Fprintf(&sb, " ORDER BY id%s %s", d.Collate, dir)
	} else {
		fmt.Fprintf(&sb, " ORDER BY %s %s, id%s %s", b.text(col, isText), dir, d.Collate, dir)
	}
	sb.WriteString(" LIMIT " + b.arg(q.Limit))
	return sb.String(), b.args, nil
}

func invalidFilter(format string, args ...any) error {
	return apperr.E(apperr.Invalid, apperr.CodeInvalidFilter, "Invalid filter", format, args...)
}

func (b *builder) filter(e scim.Expr) (string, error) {
	switch e := e.(type) {
	case *scim.Logical:
		l, err := b.filter(e.Left)
		if err != nil {
			return "", err
		}
		r, err := b.filter(e.Right)
		if err != nil {
			return "", err
		}
		op := " OR "
		if e.And {
			op = " AND "
		}
		return "(" + l + op + r + ")", nil
	case *scim.Not:
		x, err := b.filter(e.X)
		if err != nil {
			return "", err
		}
		return "NOT (" + x + ")", nil
	case *scim.Compare:
		return b.compare(e)
	}
	return "", invalidFilter("unsupported expression")
}

func (b *builder) compare(c *scim.Compare) (string, error) {
	col, ok := filterColumns[strings.ToLower(c.Attr)]
	if !ok {
		return "", invalidFilter("cannot filter on %q; allowed: %s", c.Attr, strings.Join(automation.FilterFields, ", "))
	}
	if c.Op == scim.Pr {
		return col + " <> ''", nil
	}
	var v string
	switch c.Value.Kind {
	case scim.String:
		v = c.Value.Str
	case scim.Null:
		// An absent value is stored as ''; "eq null" asks for absence.
		switch c.Op {
		case scim.Eq:
			return col + " = ''", nil
		case scim.Ne:
			return col + " <> ''", nil
		}
		return "", invalidFilter("null can only be compared with eq or ne")
	default:
		return "", invalidFilter("%s takes a quoted string, not %s", c.Attr, c.Value.Str)
	}
	switch c.Op {
	case scim.Eq:
		return col + " = " + b.arg(v), nil
	case scim.Ne:
		return col + " <> " + b.arg(v), nil
	case scim.Gt, scim.Ge, scim.Lt, scim.Le:
		ops := map[scim.Op]string{scim.Gt: ">", scim.Ge: ">=", scim.Lt: "<", scim.Le: "<="}
		return b.text(col, true) + " " + ops[c.Op] + " " + b.arg(v), nil
	case scim.Co, scim.Sw, scim.Ew:
		// Substring matches ignore case, as SCIM's default caseExact=false asks.
		p := escapeLike(strings.ToLower(v))
		switch c.Op {
		case scim.Co:
			p = "%" + p + "%"
		case scim.Sw:
			p += "%"
		case scim.Ew:
			p = "%" + p
		}
		return "lower(" + col + ") LIKE " + b.arg(p) + ` ESCAPE '\'`, nil
	}
	return "", invalidFilter("unsupported operator %q", c.Op)
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
