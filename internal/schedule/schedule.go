// Package schedule holds an automation's schedule: what a client may send,
// how it is validated, and when it fires (Rule). It knows nothing of HTTP,
// SQL or how runs are created.
package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/teambition/rrule-go"

	"automate/internal/apperr"
)

// LocalLayout is Qlik's "Y-m-d H:i:s" for startAt and stopAt, which are
// wall times in the schedule's timezone.
const LocalLayout = "2006-01-02 15:04:05"

// Limits on a schedule. Qlik documents none; these keep the computation of
// occurrences cheap and are listed in the README.
const (
	NoInterval          = -1
	MinInterval         = 60
	MaxInterval         = 10 * 366 * 86400 // ten years, in seconds
	MaxRecurrenceLength = 1000
	MaxCount            = 10_000
	// Horizon: a series whose first occurrence lies further away than this
	// from startAt is refused as never firing.
	minYear, maxYear = 1970, 9000
)

// Spec is a schedule as a client sends it (ScheduleRequestObject, whose
// JSON names it carries); nil fields were not sent. The read-only fields of
// a response (id, lastStartedAt, nextRunAt) are not part of it, so a GET
// response can be sent back.
type Spec struct {
	Interval   *int    `json:"interval"`
	Recurrence *string `json:"recurrence"`
	StartAt    *string `json:"startAt"`
	StopAt     *string `json:"stopAt"`
	Timezone   *string `json:"timezone"`
}

// Schedule is a stored schedule (ScheduleResponseObject).
type Schedule struct {
	ID string
	// Interval is seconds, a whole number of minutes, or NoInterval.
	Interval int
	// Recurrence is the RRULE as sent (without DTSTART or UNTIL); it wins
	// over Interval. Empty: none.
	Recurrence string
	// StartAt and StopAt are wall times in Timezone (LocalLayout); StopAt
	// is empty when the series has no end.
	StartAt  string
	StopAt   string
	Timezone string
	// LastStartedAt is when the schedule last created a run (zero: never).
	LastStartedAt time.Time
	// NextRunAt is the next occurrence to fire; zero when none will (the
	// series ended, or the automation is disabled).
	NextRunAt time.Time
}

// fieldError is a 400 naming the schedule field at fault.
func fieldError(field, format string, args ...any) error {
	return apperr.Validation("schedules[0].%s: %s", field, fmt.Sprintf(format, args...))
}

// FromSpec validates a client's schedule and returns it with defaults
// filled in: timezone UTC, startAt the current minute. now is the time of
// the save.
func FromSpec(spec Spec, now time.Time) (*Schedule, error) {
	s := &Schedule{Interval: NoInterval, Timezone: "UTC"}
	if spec.Timezone != nil && *spec.Timezone != "" {
		s.Timezone = *spec.Timezone
	}
	loc, err := loadLocation(s.Timezone)
	if err != nil {
		return nil, err
	}
	if spec.Interval != nil && *spec.Interval != NoInterval {
		iv := *spec.Interval
		// Qlik rounds to the nearest minute, 30 seconds and more up.
		rounded := (iv + 30) / 60 * 60
		if iv < 0 || rounded < MinInterval {
			return nil, fieldError("interval", "must be at least %d seconds (or -1 for none), got %d", MinInterval, iv)
		}
		if iv > MaxInterval {
			return nil, fieldError("interval", "must be at most %d seconds (ten years), got %d", MaxInterval, iv)
		}
		s.Interval = rounded
	}
	if spec.Recurrence != nil {
		s.Recurrence = strings.TrimSpace(*spec.Recurrence)
	}
	if s.Recurrence == "" && s.Interval == NoInterval {
		return nil, apperr.Validation("schedules[0]: a schedule needs a recurrence or an interval")
	}
	if spec.StartAt != nil && *spec.StartAt != "" {
		s.StartAt = *spec.StartAt
	} else {
		s.StartAt = now.In(loc).Truncate(time.Minute).Format(LocalLayout)
	}
	start, err := parseLocal("startAt", s.StartAt)
	if err != nil {
		return nil, err
	}
	if spec.StopAt != nil && *spec.StopAt != "" {
		s.StopAt = *spec.StopAt
		stop, err := parseLocal("stopAt", s.StopAt)
		if err != nil {
			return nil, err
		}
		if !stop.After(start) {
			return nil, fieldError("stopAt", "%q is not after startAt %q", s.StopAt, s.StartAt)
		}
	}
	r, err := s.Rule()
	if err != nil {
		return nil, err
	}
	// A rule whose days never occur (the 30th of February) would be
	// searched to the year 9999 at every save; refuse it once here.
	unbounded := *r
	unbounded.stop, unbounded.opt.Until = time.Time{}, time.Time{}
	if unbounded.Next(r.start.Add(-time.Second)).IsZero() {
		return nil, fieldError("recurrence", "%q never occurs", s.Recurrence)
	}
	return s, nil
}

func loadLocation(name string) (*time.Location, error) {
	if name == "Local" || strings.ContainsAny(name, " \\") {
		return nil, fieldError("timezone", "unknown timezone %q; use an IANA name such as Europe/Stockholm", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fieldError("timezone", "unknown timezone %q; use an IANA name such as Europe/Stockholm", name)
	}
	return loc, nil
}

// parseLocal reads a wall time as floating time (UTC standing in).
func parseLocal(field, v string) (time.Time, error) {
	t, err := time.Parse(LocalLayout, v)
	if err != nil {
		return time.Time{}, fieldError(field, "%q is not a date and time in the form YYYY-MM-DD HH:MM:SS", v)
	}
	if t.Year() < minYear || t.Year() > maxYear {
		return time.Time{}, fieldError(field, "%q is not between the years %d and %d", v, minYear, maxYear)
	}
	return t, nil
}

// Rule returns the schedule's occurrence rule. The schedule must have come
// from FromSpec (or the store, which holds only what FromSpec returned);
// an error means it did not.
func (s *Schedule) Rule() (*Rule, error) {
	loc, err := loadLocation(s.Timezone)
	if err != nil {
		return nil, err
	}
	startWall, err := parseLocal("startAt", s.StartAt)
	if err != nil {
		return nil, err
	}
	r := &Rule{loc: loc, start: instant(startWall, loc)}
	var stopWall time.Time
	if s.StopAt != "" {
		if stopWall, err = parseLocal("stopAt", s.StopAt); err != nil {
			return nil, err
		}
		r.stop = instant(stopWall, loc)
	}
	switch {
	case s.Recurrence != "":
		opt, err := parseRecurrence(s.Recurrence)
		if err != nil {
			return nil, err
		}
		r.opt = *opt
	case s.Interval%86400 == 0:
		// Whole days keep their time of day, as a daily recurrence would.
		r.opt = rrule.ROption{Freq: rrule.DAILY, Interval: s.Interval / 86400}
	default:
		r.every = time.Duration(s.Interval) * time.Second
		return r, nil
	}
	r.opt.Dtstart, r.opt.Until = startWall, stopWall
	r.subDaily = r.opt.Freq == rrule.HOURLY || r.opt.Freq == rrule.MINUTELY
	r.dayRules = len(r.opt.Byweekno)+len(r.opt.Byyearday)+len(r.opt.Bymonthday)+len(r.opt.Byweekday)+len(r.opt.Byeaster) > 0
	if _, err := rrule.NewRRule(r.opt); err != nil {
		return nil, fieldError("recurrence", "%s", err)
	}
	if r.opt.Count > 0 {
		// COUNT becomes the series' end, so that later occurrences can be
		// found without counting from startAt.
		rr, _ := rrule.NewRRule(r.opt)
		all := rr.All()
		if len(all) > 0 {
			r.opt.Until = all[len(all)-1]
		}
		r.opt.Count = 0
	}
	return r, nil
}

// parseRecurrence reads one RRULE (its "RRULE:" prefix optional). The
// window of the series is startAt/stopAt, so DTSTART and UNTIL are refused;
// occurrences are whole minutes, so are SECONDLY and BYSECOND.
func parseRecurrence(v string) (*rrule.ROption, error) {
	if len(v) > MaxRecurrenceLength {
		return nil, fieldError("recurrence", "is %d bytes long; the limit is %d", len(v), MaxRecurrenceLength)
	}
	if strings.ContainsAny(v, "\r\n") {
		return nil, fieldError("recurrence", "must be a single RRULE line")
	}
	body := strings.ToUpper(v)
	body = strings.TrimPrefix(body, "RRULE:")
	for _, part := range strings.Split(body, ";") {
		key, _, _ := strings.Cut(part, "=")
		switch strings.TrimSpace(key) {
		case "DTSTART":
			return nil, fieldError("recurrence", "must not contain DTSTART; the series starts at startAt")
		case "UNTIL":
			return nil, fieldError("recurrence", "must not contain UNTIL; the series ends at stopAt")
		case "BYSECOND":
			return nil, fieldError("recurrence", "must not contain BYSECOND; schedules fire on whole minutes")
		case "TZID":
			return nil, fieldError("recurrence", "must not contain TZID; use timezone")
		}
	}
	opt, err := rrule.StrToROption(body)
	if err != nil {
		return nil, fieldError("recurrence", "%q is not a valid RRULE: %s", v, err)
	}
	switch opt.Freq {
	case rrule.SECONDLY:
		return nil, fieldError("recurrence", "FREQ=SECONDLY is not supported; the smallest unit is a minute")
	case rrule.YEARLY, rrule.MONTHLY, rrule.WEEKLY, rrule.DAILY, rrule.HOURLY, rrule.MINUTELY:
	default:
		return nil, fieldError("recurrence", "FREQ is not supported")
	}
	if opt.Count < 0 || opt.Count > MaxCount {
		return nil, fieldError("recurrence", "COUNT must be between 1 and %d", MaxCount)
	}
	if opt.Interval < 0 || opt.Interval > 1000 {
		return nil, fieldError("recurrence", "INTERVAL must be between 1 and 1000")
	}
	return opt, nil
}

// SameSpec reports whether o describes the same series as s.
func (s *Schedule) SameSpec(o *Schedule) bool {
	return s.Interval == o.Interval && s.Recurrence == o.Recurrence && s.StartAt == o.StartAt &&
		s.StopAt == o.StopAt && s.Timezone == o.Timezone
}

// Active reports whether the series has an occurrence after now (whether
// or not the automation is enabled).
func (s *Schedule) Active(now time.Time) bool {
	r, err := s.Rule()
	return err == nil && !r.Next(now).IsZero()
}

// Reschedule sets NextRunAt to the first occurrence after now, or to zero
// when the automation is disabled: occurrences missed while disabled are
// never replayed. It reports whether the series is active (see Active).
func (s *Schedule) Reschedule(now time.Time, enabled bool) (active bool) {
	s.NextRunAt = time.Time{}
	r, err := s.Rule()
	if err != nil {
		return false
	}
	next := r.Next(now)
	if enabled {
		s.NextRunAt = next
	}
	return !next.IsZero()
}
