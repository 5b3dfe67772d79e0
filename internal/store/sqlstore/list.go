// Package sqlstore holds the SQL that SQLite and PostgreSQL share: the
// queries over database/sql, and the automations list with its keyset, sort
// and SCIM filter. Everything it emits is parameterised ($1, $2, ...);
// values never enter the SQL text.
package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/run"
	"automate/internal/scim"
	"automate/internal/store"
)

// Dialect holds what differs between the databases in this SQL.
type Dialect struct {
	// Collate is appended to text columns in comparisons and ORDER BY so
	// that both databases order text by bytes (PostgreSQL: ` COLLATE "C"`).
	Collate string
	// SkipLocked is appended to a SELECT whose rows a transaction is about
	// to update, so that concurrent transactions take different rows
	// (PostgreSQL: ` FOR UPDATE SKIP LOCKED`; SQLite's one writer needs none).
	SkipLocked string
	// ForUpdate is appended to a SELECT of a row the transaction must hold
	// until it commits (PostgreSQL: ` FOR UPDATE`).
	ForUpdate string
	// RowLocks says that concurrent write transactions exist and rows must
	// be locked before what depends on them is counted (PostgreSQL).
	RowLocks bool
	// Notify says that writes other servers must learn of at once send a
	// notification on commit (PostgreSQL's NOTIFY; see Event).
	Notify bool
}

// Postgres is PostgreSQL's dialect.
var Postgres = Dialect{Collate: ` COLLATE "C"`, SkipLocked: ` FOR UPDATE SKIP LOCKED`, ForUpdate: ` FOR UPDATE`, RowLocks: true, Notify: true}

// AutomationColumns lists the automations columns in scan order.
const AutomationColumns = `id, tenant_id, name, description, state, owner_id, space_id, run_mode, workspace,
	snippet_ids, endpoint_ids, connector_ids, execution_token, max_concurrent_runs,
	last_run_id, last_run_at, last_run_status, created_at, updated_at`

// column is a list column: its SQL, and how its values compare.
type column struct {
	sql  string
	kind columnKind
}

type columnKind int

const (
	textColumn columnKind = iota
	numberColumn
	timeColumn // Unix microseconds; filters compare with an RFC 3339 string
	boolColumn // filters compare with true or false
)

// listTable describes a table the list builder can page through.
type listTable struct {
	name    string
	columns string
	sort    map[string]column // sort field -> column
	filter  map[string]column // lower-case filter attribute -> column
	// filterNames are the filter attributes as the API spells them.
	filterNames []string
}

var automationsTable = listTable{
	name:    "automations",
	columns: AutomationColumns,
	sort: map[string]column{
		string(automation.SortID):                {"id", textColumn},
		string(automation.SortName):              {"name", textColumn},
		string(automation.SortRunMode):           {"run_mode", textColumn},
		string(automation.SortState):             {"state", textColumn},
		string(automation.SortCreatedAt):         {"created_at", numberColumn},
		string(automation.SortUpdatedAt):         {"updated_at", numberColumn},
		string(automation.SortLastRunAt):         {"last_run_at", numberColumn},
		string(automation.SortLastRunStatus):     {"last_run_status", textColumn},
		string(automation.SortMaxConcurrentRuns): {"max_concurrent_runs", numberColumn},
	},
	// All text; an absent value is stored as ''.
	filter: map[string]column{
		"name":          {"name", textColumn},
		"runmode":       {"run_mode", textColumn},
		"lastrunstatus": {"last_run_status", textColumn},
		"ownerid":       {"owner_id", textColumn},
		"spaceid":       {"space_id", textColumn},
	},
	filterNames: automation.FilterFields,
}

var runsTable = listTable{
	name:    "runs",
	columns: runColumns,
	sort: map[string]column{
		string(run.SortID):        {"id", textColumn},
		string(run.SortStatus):    {"status", textColumn},
		string(run.SortStartTime): {"start_time", numberColumn},
	},
	filter: map[string]column{
		"status":       {"status", textColumn},
		"context":      {"context", textColumn},
		"starttime":    {"start_time", timeColumn},
		"title":        {"title", textColumn},
		"spaceid":      {"space_id", textColumn},
		"ownerid":      {"owner_id", textColumn},
		"executedbyid": {"executed_by_id", textColumn},
		// Test runs are not billed.
		"billable": {"test_run = 0", boolColumn},
	},
	filterNames: run.FilterFields,
}

// builder accumulates SQL arguments.
type builder struct {
	d    Dialect
	t    *listTable
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
	b := &builder{d: d, t: &automationsTable}
	where := "tenant_id = " + b.arg(q.TenantID)
	if q.OwnerID != "" {
		where += " AND owner_id = " + b.arg(q.OwnerID)
	}
	if v := q.Visible; v != nil {
		var or []string
		if v.OwnPersonal {
			or = append(or, "(owner_id = "+b.arg(v.UserID)+" AND space_id = '')")
		}
		if v.OwnShared {
			or = append(or, "(owner_id = "+b.arg(v.UserID)+" AND space_id <> '')")
		}
		if v.Member {
			or = append(or, "space_id IN "+memberSpaces(b, q.TenantID, v.UserID))
		}
		if len(or) == 0 {
			or = append(or, "1 = 0")
		}
		where += " AND (" + strings.Join(or, " OR ") + ")"
	}
	return b.list(where, page{q.Filter, string(q.Sort), q.Desc, q.After, q.Backward, q.Limit})
}

// ListRuns returns the SELECT for a page of one automation's runs.
func ListRuns(d Dialect, q store.RunListQuery) (string, []any, error) {
	b := &builder{d: d, t: &runsTable}
	where := "automation_id = " + b.arg(q.AutomationID) + " AND tenant_id = " + b.arg(q.TenantID)
	return b.list(where, page{q.Filter, string(q.Sort), q.Desc, q.After, q.Backward, q.Limit})
}

// page is what a list request asks of any table.
type page struct {
	filter   scim.Expr
	sort     string
	desc     bool
	after    *automation.Position
	backward bool
	limit    int
}

func (b *builder) list(where string, q page) (string, []any, error) {
	d := b.d
	c, ok := b.t.sort[q.sort]
	if !ok {
		return "", nil, apperr.InvalidParameter("cannot sort by %q", q.sort)
	}
	col, isText := c.sql, c.kind == textColumn
	var sb strings.Builder
	sb.WriteString("SELECT " + b.t.columns + " FROM " + b.t.name + " WHERE " + where)
	if q.filter != nil {
		w, err := b.filter(q.filter)
		if err != nil {
			return "", nil, err
		}
		sb.WriteString(" AND " + w)
	}
	// Travelling backward reverses both the comparison and the order.
	desc := q.desc != q.backward
	if q.after != nil {
		cmp := ">"
		if desc {
			cmp = "<"
		}
		v := q.after.Value
		str, isString := v.(string)
		_, isInt := v.(int64)
		if (isText && !isString) || (!isText && !isInt) {
			return "", nil, apperr.InvalidCursor("cursor does not fit sort %q", q.sort)
		}
		if !storableText(str) || !storableText(q.after.ID) {
			return "", nil, apperr.InvalidCursor("cursor is not one this server issued")
		}
		if col == "id" {
			fmt.Fprintf(&sb, " AND id%s %s %s", d.Collate, cmp, b.arg(q.after.ID))
		} else {
			fmt.Fprintf(&sb, " AND (%s %s %s OR (%s = %s AND id%s %s %s))",
				b.text(col, isText), cmp, b.arg(v), col, b.arg(v), d.Collate, cmp, b.arg(q.after.ID))
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
	sb.WriteString(" LIMIT " + b.arg(q.limit))
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
	fc, ok := b.t.filter[strings.ToLower(c.Attr)]
	if !ok {
		return "", invalidFilter("cannot filter on %q; allowed: %s", c.Attr, strings.Join(b.t.filterNames, ", "))
	}
	switch fc.kind {
	case boolColumn:
		return b.compareBool(c, fc.sql)
	case timeColumn:
		return b.compareTime(c, fc.sql)
	}
	col := fc.sql
	if c.Op == scim.Pr {
		return col + " <> ''", nil
	}
	var v string
	switch c.Value.Kind {
	case scim.String:
		v = c.Value.Str
		if !storableText(v) {
			return "", invalidFilter("%s: the value must be UTF-8 text without NUL characters", c.Attr)
		}
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
		return b.text(col, true) + " " + orderOps[c.Op] + " " + b.arg(v), nil
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

var orderOps = map[scim.Op]string{scim.Gt: ">", scim.Ge: ">=", scim.Lt: "<", scim.Le: "<=", scim.Eq: "=", scim.Ne: "<>"}

// compareBool handles a boolean attribute; cond is the SQL that is true
// when the attribute is.
func (b *builder) compareBool(c *scim.Compare, cond string) (string, error) {
	if c.Op == scim.Pr {
		return "1 = 1", nil
	}
	if c.Value.Kind != scim.Bool || (c.Op != scim.Eq && c.Op != scim.Ne) {
		return "", invalidFilter("%s takes eq or ne with true or false", c.Attr)
	}
	if (c.Value.Str == "true") == (c.Op == scim.Eq) {
		return "(" + cond + ")", nil
	}
	return "NOT (" + cond + ")", nil
}

// compareTime handles a time attribute stored as Unix microseconds (0 for
// never), compared with an RFC 3339 date-time or a date.
func (b *builder) compareTime(c *scim.Compare, col string) (string, error) {
	if c.Op == scim.Pr {
		return col + " <> 0", nil
	}
	op, ok := orderOps[c.Op]
	if !ok {
		return "", invalidFilter("%s takes eq, ne, gt, ge, lt or le", c.Attr)
	}
	if c.Value.Kind == scim.Null && (c.Op == scim.Eq || c.Op == scim.Ne) {
		return col + " " + op + " 0", nil
	}
	if c.Value.Kind != scim.String {
		return "", invalidFilter("%s takes a quoted date-time such as \"2026-11-01T00:00:00Z\"", c.Attr)
	}
	t, err := time.Parse(time.RFC3339Nano, c.Value.Str)
	if err != nil {
		if t, err = time.Parse(time.DateOnly, c.Value.Str); err != nil {
			return "", invalidFilter("%s: %q is not a date-time such as \"2026-11-01T00:00:00Z\"", c.Attr, c.Value.Str)
		}
	}
	return col + " " + op + " " + b.arg(t.UnixMicro()), nil
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// storableText reports whether both databases can compare s with stored
// text: UTF-8 without NUL (PostgreSQL refuses either).
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
