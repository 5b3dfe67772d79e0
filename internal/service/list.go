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

// ParseSort reads "+field", "-field" or "field".
func ParseSort(s string) (automation.SortField, bool, error) {
	if s == "" {
		return automation.SortID, false, nil
	}
	desc := false
	switch s[0] {
	case '-':
		desc, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	for _, f := range automation.SortFields {
		if string(f) == s {
			return f, desc, nil
		}
	}
	names := make([]string, len(automation.SortFields))
	for i, f := range automation.SortFields {
		names[i] = string(f)
	}
	return "", false, apperr.InvalidParameter("sort must be one of %s, with an optional + or - prefix", strings.Join(names, ", "))
}

// cursor is what an opaque cursor holds.
type cursor struct {
	Sort     automation.SortField `json:"s"`
	Desc     bool                 `json:"d,omitempty"`
	Value    any                  `json:"v"`
	ID       string               `json:"i"`
	Backward bool                 `json:"b,omitempty"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor and checks that it belongs to this sort.
func decodeCursor(s string, sort automation.SortField, desc bool) (cursor, error) {
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
		if sort.IsNumeric() {
			return c, apperr.InvalidCursor("cursor does not fit sort %q", sort)
		}
	case json.Number:
		n, err := v.Int64()
		if err != nil || !sort.IsNumeric() {
			return c, apperr.InvalidCursor("cursor does not fit sort %q", sort)
		}
		c.Value = n
	default:
		return c, apperr.InvalidCursor("cursor is not one this server issued")
	}
	return c, nil
}

// List returns one page of the automations p may see: its own, or with
// ListAll (admins only) every automation of the tenant.
func (s *Automations) List(ctx context.Context, p access.Principal, lp ListParams) (Page, error) {
	q := store.ListQuery{TenantID: p.TenantID, OwnerID: p.UserID}
	if lp.ListAll {
		if err := authorize(p, access.ListAllAutomations, "", ""); err != nil {
			return Page{}, apperr.Forbiddenf("listAll is for TenantAdmin and AnalyticsAdmin only")
		}
		q.OwnerID = ""
	} else if err := authorize(p, access.ListOwnAutomations, "", ""); err != nil {
		return Page{}, err
	}
	limit := lp.Limit
	if limit == 0 {
		limit = DefaultListLimit
	}
	if limit < 1 || limit > MaxListLimit {
		return Page{}, apperr.InvalidParameter("limit must be between 1 and %d, got %d", MaxListLimit, lp.Limit)
	}
	var err error
	if q.Sort, q.Desc, err = ParseSort(lp.Sort); err != nil {
		return Page{}, err
	}
	if lp.Filter != "" {
		if q.Filter, err = scim.Parse(lp.Filter); err != nil {
			return Page{}, apperr.E(apperr.Invalid, apperr.CodeInvalidFilter, "Invalid filter", "%v", err)
		}
	}
	if lp.Cursor != "" {
		c, err := decodeCursor(lp.Cursor, q.Sort, q.Desc)
		if err != nil {
			return Page{}, err
		}
		q.After = &automation.Position{Value: c.Value, ID: c.ID}
		q.Backward = c.Backward
	}
	// One extra row tells whether there is more in the direction of travel.
	q.Limit = limit + 1
	items, err := s.store.ListAutomations(ctx, q)
	if err != nil {
		return Page{}, err
	}
	more := len(items) > limit
	if more {
		if q.Backward {
			items = items[1:] // the extra row is the farthest back
		} else {
			items = items[:limit]
		}
	}
	page := Page{Items: items}
	if len(items) == 0 {
		return page, nil
	}
	at := func(a *automation.Automation, backward bool) string {
		pos := automation.PositionOf(a, q.Sort)
		return encodeCursor(cursor{Sort: q.Sort, Desc: q.Desc, Value: pos.Value, ID: pos.ID, Backward: backward})
	}
	first, last := items[0], items[len(items)-1]
	if q.Backward {
		page.NextCursor = at(last, false)
		if more {
			page.PrevCursor = at(first, true)
		}
	} else {
		if more {
			page.NextCursor = at(last, false)
		}
		if q.After != nil {
			page.PrevCursor = at(first, true)
		}
	}
	return page, nil
}
