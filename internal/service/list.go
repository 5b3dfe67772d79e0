package service

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"automate/internal/access"
	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/scim"
	"automate/internal/store"
)

// List limits, per the API reference.
const (
	DefaultListLimit = 100
	MaxListLimit     = 200
)

// ListParams are a list request as the client sent it.
type ListParams struct {
	Filter  string
	Sort    string // e.g. "-name"; empty is "+id"
	Limit   int    // 0 is the default
	Cursor  string
	ListAll bool
}

// Page is one page of a list, with opaque cursors to its neighbours
// (empty when there is none).
type Page struct {
	Items      []*automation.Automation
	NextCursor string
	PrevCursor string
}

// ParseSort reads "+field", "-field" or "field" for the automations list.
func ParseSort(s string) (automation.SortField, bool, error) {
	return parseSort(s, automation.SortFields)
}

// sortField is the sort field type of a list: automation.SortField or
// run.SortField.
type sortField interface {
	~string
	IsNumeric() bool
}

// parseSort reads "+field", "-field" or "field", one of fields; empty is
// the first field ascending.
func parseSort[F sortField](s string, fields []F) (F, bool, error) {
	if s == "" {
		return fields[0], false, nil
	}
	desc := false
	switch s[0] {
	case '-':
		desc, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		if string(f) == s {
			return f, desc, nil
		}
		names[i] = string(f)
	}
	return "", false, apperr.InvalidParameter("sort must be one of %s, with an optional + or - prefix", strings.Join(names, ", "))
}

// cursor is what an opaque cursor holds.
type cursor struct {
	Sort     string `json:"s"`
	Desc     bool   `json:"d,omitempty"`
	Value    any    `json:"v"`
	ID       string `json:"i"`
	Backward bool   `json:"b,omitempty"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor and checks that it belongs to this sort;
// numeric says whether the sort's values are numbers.
func decodeCursor(s string, sort string, numeric, desc bool) (cursor, error) {
	var c cursor
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) > 4096 {
		return c, apperr.InvalidCursor("cursor is not one this server issued")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil || c.ID == "" {
		return c, apperr.InvalidCursor("cursor is not one this server issued")
	}
	if c.Sort != sort || c.Desc != desc {
		return c, apperr.InvalidCursor("cursor was issued for another sort order; follow links with the same sort")
	}
	switch v := c.Value.(type) {
	case string:
		if numeric {
			return c, apperr.InvalidCursor("cursor does not fit sort %q", sort)
		}
	case json.Number:
		n, err := v.Int64()
		if err != nil || !numeric {
			return c, apperr.InvalidCursor("cursor does not fit sort %q", sort)
		}
		c.Value = n
	default:
		return c, apperr.InvalidCursor("cursor is not one this server issued")
	}
	return c, nil
}

// keyset is a list request, parsed: what every list of this API takes.
type keyset struct {
	sort     string
	numeric  bool
	desc     bool
	filter   scim.Expr
	after    *automation.Position
	backward bool
	limit    int
}

// parseKeyset reads a list request for a list sortable by fields.
func parseKeyset[F sortField](lp ListParams, fields []F, defaultLimit int) (keyset, error) {
	var ks keyset
	ks.limit = lp.Limit
	if ks.limit == 0 {
		ks.limit = defaultLimit
	}
	if ks.limit < 1 || ks.limit > MaxListLimit {
		return ks, apperr.InvalidParameter("limit must be between 1 and %d, got %d", MaxListLimit, lp.Limit)
	}
	f, desc, err := parseSort(lp.Sort, fields)
	if err != nil {
		return ks, err
	}
	ks.sort, ks.desc, ks.numeric = string(f), desc, f.IsNumeric()
	if lp.Filter != "" {
		if ks.filter, err = scim.Parse(lp.Filter); err != nil {
			return ks, apperr.E(apperr.Invalid, apperr.CodeInvalidFilter, "Invalid filter", "%v", err)
		}
	}
	if lp.Cursor != "" {
		c, err := decodeCursor(lp.Cursor, ks.sort, ks.numeric, ks.desc)
		if err != nil {
			return ks, err
		}
		ks.after = &automation.Position{Value: c.Value, ID: c.ID}
		ks.backward = c.Backward
	}
	return ks, nil
}

// finishPage trims the one extra row a query asked for (it tells whether
// there is more in the direction of travel) and makes the cursors.
func finishPage[T any](items []T, ks keyset, pos func(T) automation.Position) (out []T, next, prev string) {
	more := len(items) > ks.limit
	if more {
		if ks.backward {
			items = items[1:] // the extra row is the farthest back
		} else {
			items = items[:ks.limit]
		}
	}
	if len(items) == 0 {
		return items, "", ""
	}
	at := func(it T, backward bool) string {
		p := pos(it)
		return encodeCursor(cursor{Sort: ks.sort, Desc: ks.desc, Value: p.Value, ID: p.ID, Backward: backward})
	}
	first, last := items[0], items[len(items)-1]
	if ks.backward {
		next = at(last, false)
		if more {
			prev = at(first, true)
		}
	} else {
		if more {
			next = at(last, false)
		}
		if ks.after != nil {
			prev = at(first, true)
		}
	}
	return items, next, prev
}

// List returns one page of the automations p may see: its own and those
// of the shared spaces it owns or is a member of (each as far as its
// token's scopes allow reading them), or with ListAll (admins only) every
// automation of the tenant.
func (s *Automations) List(ctx context.Context, p access.Principal, lp ListParams) (Page, error) {
	q := store.ListQuery{TenantID: p.TenantID}
	if lp.ListAll {
		if err := tenantAction(p, access.ListAllAutomations); err != nil {
			if access.Can(p, access.ListAllAutomations, access.Target{}) == access.Deny {
				return Page{}, apperr.Forbiddenf("listAll is for TenantAdmin and AnalyticsAdmin only")
			}
			return Page{}, err
		}
	} else {
		if err := tenantAction(p, access.ListAutomations); err != nil {
			return Page{}, err
		}
		v := access.Visible(p)
		q.Visible = &store.Visibility{UserID: p.UserID, OwnPersonal: v.OwnPersonal, OwnShared: v.OwnShared, Member: v.Member}
	}
	ks, err := parseKeyset(lp, automation.SortFields, DefaultListLimit)
	if err != nil {
		return Page{}, err
	}
	q.Sort, q.Desc, q.Filter, q.After, q.Backward = automation.SortField(ks.sort), ks.desc, ks.filter, ks.after, ks.backward
	q.Limit = ks.limit + 1
	items, err := s.store.ListAutomations(ctx, q)
	if err != nil {
		return Page{}, err
	}
	var page Page
	page.Items, page.NextCursor, page.PrevCursor = finishPage(items, ks, func(a *automation.Automation) automation.Position {
		return automation.PositionOf(a, q.Sort)
	})
	return page, nil
}
