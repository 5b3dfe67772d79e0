package service

import (
	"context"
	"math"
	"strings"
	"time"

	"automate/internal/access"
	"automate/internal/apperr"
	"automate/internal/scim"
	"automate/internal/store"
)

// UsageMetricNames are the usage metrics, in the order they are answered.
var UsageMetricNames = []string{"runs", "scheduledRuns", "triggeredRuns", "webhookRuns", "duration", "bandwidthIn", "bandwidthOut"}

// UsageItem is one metric of one day, of the tenant or of one automation.
type UsageItem struct {
	Date       string
	Name       string
	Value      float64
	Automation *UsageAutomation
}

// UsageAutomation names the automation of a broken-down usage item.
type UsageAutomation struct {
	GUID    string
	Name    string
	OwnerID string
}

// usageHorizon bounds the days a usage query reads when its filter sets
// no lower bound on date.
const usageHorizon = 3660 * 24 * time.Hour

// Usage answers GET /usage: daily metrics of the tenant matching filter (a
// SCIM filter on name and date, required), summed per day or, with
// breakdownBy=automation, per day and automation. It reads the daily
// aggregates, never the runs.
func (s *Runs) Usage(ctx context.Context, p access.Principal, filter, breakdownBy string) ([]UsageItem, error) {
	if err := tenantAction(p, access.ReadUsage); err != nil {
		if access.Can(p, access.ReadUsage, access.Target{}) == access.Deny {
			return nil, apperr.Forbiddenf("usage metrics are for TenantAdmin and AnalyticsAdmin only")
		}
		return nil, err
	}
	if breakdownBy != "" && breakdownBy != "automation" {
		return nil, apperr.InvalidParameter(`breakdownBy must be "automation" or absent`)
	}
	if strings.TrimSpace(filter) == "" {
		return nil, apperr.InvalidParameter(`filter is required, e.g. name eq "runs" and date ge "2026-11-01"`)
	}
	expr, err := scim.Parse(filter)
	if err != nil {
		return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidFilter, "Invalid filter", "%v", err)
	}
	if err := checkUsageFilter(expr); err != nil {
		return nil, err
	}
	from, to := dateBounds(expr, s.now())
	rows, err := s.store.ListUsage(ctx, p.TenantID, from, to)
	if err != nil {
		return nil, err
	}
	var out []UsageItem
	emit := func(day string, u store.Usage, a *UsageAutomation) {
		values := []float64{float64(u.Runs), float64(u.ScheduledRuns), float64(u.TriggeredRuns), float64(u.WebhookRuns),
			math.Round(float64(u.DurationMicros)/1e3) / 1e3, float64(u.BandwidthIn), float64(u.BandwidthOut)}
		for i, name := range UsageMetricNames {
			if usageMatch(expr, name, day) {
				out = append(out, UsageItem{Date: day, Name: name, Value: values[i], Automation: a})
			}
		}
	}
	if breakdownBy == "automation" {
		for _, r := range rows {
			emit(r.Day, r.Usage, &UsageAutomation{GUID: r.AutomationID, Name: r.Name, OwnerID: r.OwnerID})
		}
		return out, nil
	}
	// Rows come by day; sum each day's automations.
	for i := 0; i < len(rows); {
		day := rows[i].Day
		var sum store.Usage
		for ; i < len(rows) && rows[i].Day == day; i++ {
			u := rows[i].Usage
			sum.Runs += u.Runs
			sum.ScheduledRuns += u.ScheduledRuns
			sum.TriggeredRuns += u.TriggeredRuns
			sum.WebhookRuns += u.WebhookRuns
			sum.DurationMicros += u.DurationMicros
			sum.BandwidthIn += u.BandwidthIn
			sum.BandwidthOut += u.BandwidthOut
		}
		emit(day, sum, nil)
	}
	return out, nil
}

// checkUsageFilter allows name and date only, dates as YYYY-MM-DD.
func checkUsageFilter(e scim.Expr) error {
	switch e := e.(type) {
	case *scim.Logical:
		if err := checkUsageFilter(e.Left); err != nil {
			return err
		}
		return checkUsageFilter(e.Right)
	case *scim.Not:
		return checkUsageFilter(e.X)
	case *scim.Compare:
		attr := strings.ToLower(e.Attr)
		if attr != "name" && attr != "date" {
			return apperr.E(apperr.Invalid, apperr.CodeInvalidFilter, "Invalid filter", "cannot filter on %q; allowed: name, date", e.Attr)
		}
		if e.Op == scim.Pr {
			return nil
		}
		if e.Value.Kind != scim.String {
			return apperr.E(apperr.Invalid, apperr.CodeInvalidFilter, "Invalid filter", "%s takes a quoted string", e.Attr)
		}
		if attr == "date" {
			if _, err := time.Parse(time.DateOnly, e.Value.Str); err != nil {
				return apperr.E(apperr.Invalid, apperr.CodeInvalidFilter, "Invalid filter", "date %q is not a date such as \"2026-11-01\"", e.Value.Str)
			}
		}
	}
	return nil
}

// usageMatch evaluates the filter for one metric of one day. Dates in
// YYYY-MM-DD order as strings.
func usageMatch(e scim.Expr, name, day string) bool {
	switch e := e.(type) {
	case *scim.Logical:
		if e.And {
			return usageMatch(e.Left, name, day) && usageMatch(e.Right, name, day)
		}
		return usageMatch(e.Left, name, day) || usageMatch(e.Right, name, day)
	case *scim.Not:
		return !usageMatch(e.X, name, day)
	case *scim.Compare:
		v := name
		if strings.EqualFold(e.Attr, "date") {
			v = day
		}
		return compareString(v, e.Op, e.Value.Str)
	}
	return false
}

func compareString(v string, op scim.Op, want string) bool {
	switch op {
	case scim.Pr:
		return true
	case scim.Eq:
		return v == want
	case scim.Ne:
		return v != want
	case scim.Gt:
		return v > want
	case scim.Ge:
		return v >= want
	case scim.Lt:
		return v < want
	case scim.Le:
		return v <= want
	case scim.Co:
		return strings.Contains(strings.ToLower(v), strings.ToLower(want))
	case scim.Sw:
		return strings.HasPrefix(strings.ToLower(v), strings.ToLower(want))
	case scim.Ew:
		return strings.HasSuffix(strings.ToLower(v), strings.ToLower(want))
	}
	return false
}

// dateBounds narrows the days to read from the filter's top-level "and"
// terms on date; the exact filter is applied afterwards.
func dateBounds(e scim.Expr, now time.Time) (from, to string) {
	from, to = now.Add(-usageHorizon).Format(time.DateOnly), "9999-12-31"
	var walk func(scim.Expr)
	walk = func(e scim.Expr) {
		switch e := e.(type) {
		case *scim.Logical:
			if e.And {
				walk(e.Left)
				walk(e.Right)
			}
		case *scim.Compare:
			if !strings.EqualFold(e.Attr, "date") {
				return
			}
			switch e.Op {
			case scim.Eq:
				from, to = max(from, e.Value.Str), min(to, e.Value.Str)
			case scim.Gt, scim.Ge:
				from = max(from, e.Value.Str)
			case scim.Lt, scim.Le:
				to = min(to, e.Value.Str)
			}
		}
	}
	walk(e)
	return from, to
}
