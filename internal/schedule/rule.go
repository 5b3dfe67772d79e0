package schedule

import (
	"time"

	"github.com/teambition/rrule-go"
)

// dstMargin bounds how far a zone's offset ever jumps in one transition
// (an hour in practice, two in a few historical zones), with room to spare.
const dstMargin = 3 * time.Hour

// Rule computes a schedule's occurrences. It is immutable and safe for
// concurrent use.
//
// Recurrences are evaluated on the wall clock of the schedule's timezone
// (RFC 5545): "daily at 09:00" stays 09:00 across DST changes. A wall time
// that does not exist (the hour skipped in spring) fires once, at the
// instant the clocks jump; a wall time that exists twice (the hour repeated
// in autumn) fires once, at its first instant, except for hourly and
// minutely rules, which fire in both passes of the repeated hour so that
// "every 15 minutes" never pauses for an hour. Intervals that are not whole
// days are elapsed time from startAt.
type Rule struct {
	loc   *time.Location
	start time.Time // the instant of startAt
	stop  time.Time // the instant of stopAt; zero: none
	every time.Duration

	// The recurrence on floating wall-clock time (UTC standing in for the
	// zone's wall clock), with Dtstart = startAt and Until = the end of the
	// series (stopAt, or the COUNT-th occurrence).
	opt      rrule.ROption
	subDaily bool
	dayRules bool // the rule names its days, so Dtstart's date is no default
}

// Next returns the first occurrence strictly after after, or the zero time
// when the series has ended.
func (r *Rule) Next(after time.Time) time.Time {
	var t time.Time
	if r.every > 0 {
		t = r.start
		if !after.Before(r.start) {
			t = r.start.Add((after.Sub(r.start)/r.every + 1) * r.every)
		}
	} else {
		t = r.nextWall(after)
	}
	if t.IsZero() || (!r.stop.IsZero() && t.After(r.stop)) {
		return time.Time{}
	}
	return t
}

// nextWall walks the recurrence's wall times from just before after and
// maps each to its instants.
func (r *Rule) nextWall(after time.Time) time.Time {
	from := floating(after.In(r.loc))
	if start, end := after.In(r.loc).ZoneBounds(); (!start.IsZero() && after.Sub(start) < dstMargin) ||
		(!end.IsZero() && end.Sub(after) < dstMargin) {
		// Near a transition: wall times of a repeated hour that precede
		// after's wall time may still have a second instant ahead.
		from = from.Add(-dstMargin)
	}
	opt := r.opt
	opt.Dtstart = r.rebase(from)
	rr, err := rrule.NewRRule(opt)
	if err != nil {
		return time.Time{} // validated when the schedule was saved
	}
	next := rr.Iterator()
	var best time.Time
	for {
		w, ok := next()
		if !ok {
			return best
		}
		if w.Before(from) {
			continue
		}
		first, second := instants(w, r.loc)
		if !r.subDaily {
			second = time.Time{} // a repeated wall time fires once
		}
		for _, t := range []time.Time{first, second} {
			if !t.IsZero() && t.After(after) && (best.IsZero() || t.Before(best)) {
				best = t
			}
		}
		if best.IsZero() {
			continue
		}
		// No transition between after and best: wall order is time order.
		s1, _ := after.In(r.loc).ZoneBounds()
		s2, _ := best.In(r.loc).ZoneBounds()
		if s1.Equal(s2) || w.After(floating(best.In(r.loc)).Add(dstMargin)) {
			return best
		}
	}
}

// rebase moves Dtstart forward by whole periods of the rule, to just
// before from, so that finding the next occurrence does not walk every
// occurrence since startAt. Whole periods keep the rule's phase, and the
// fields Dtstart supplies as defaults (time of day, weekday, day of month)
// stay the same.
func (r *Rule) rebase(from time.Time) time.Time {
	d := r.opt.Dtstart
	n := max(r.opt.Interval, 1)
	var period time.Duration
	switch r.opt.Freq {
	case rrule.MINUTELY:
		period = time.Duration(n) * time.Minute
	case rrule.HOURLY:
		period = time.Duration(n) * time.Hour
	case rrule.DAILY:
		period = time.Duration(n) * 24 * time.Hour
	case rrule.WEEKLY:
		period = time.Duration(n) * 7 * 24 * time.Hour
	case rrule.MONTHLY, rrule.YEARLY:
		// Whole years (a multiple of the interval either way) keep the
		// month; the day of month is kept when it exists in every month,
		// or is irrelevant when the rule names its days.
		years := (from.Year() - d.Year() - 2) / n * n
		if years <= 0 || (!r.dayRules && d.Day() > 28) {
			return d
		}
		day := d.Day()
		if r.dayRules {
			day = 1
		}
		return time.Date(d.Year()+years, d.Month(), day, d.Hour(), d.Minute(), d.Second(), 0, time.UTC)
	default:
		return d
	}
	if k := from.Sub(d)/period - 1; k > 0 {
		return d.Add(k * period)
	}
	return d
}

// floating is t's wall clock read as UTC.
func floating(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

// instant is the instant of wall time w (floating) in loc: its first
// instant when the wall time repeats, the end of the gap when it does not
// exist.
func instant(w time.Time, loc *time.Location) time.Time {
	first, _ := instants(w, loc)
	return first
}

// instants maps the floating wall time w to the instants it names in loc:
// one, or two in a repeated hour (second is zero otherwise). A wall time
// skipped by a transition maps to the transition itself.
func instants(w time.Time, loc *time.Location) (first, second time.Time) {
	u := w.Unix()
	_, before := time.Unix(u-86400, 0).In(loc).Zone()
	_, after := time.Unix(u+86400, 0).In(loc).Zone()
	c1 := time.Unix(u-int64(before), 0).In(loc)
	c2 := time.Unix(u-int64(after), 0).In(loc)
	ok1, ok2 := floating(c1).Equal(w), floating(c2).Equal(w)
	switch {
	case before == after || (ok1 && !ok2):
		if !ok1 {
			// Two transitions within a day; let the library decide.
			t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc)
			return t, time.Time{}
		}
		return c1, time.Time{}
	case ok2 && !ok1:
		return c2, time.Time{}
	case ok1 && ok2:
		if c2.Before(c1) {
			c1, c2 = c2, c1
		}
		return c1, c2
	}
	// A gap: the later candidate lies past the jump; its zone began at it.
	late := c1
	if c2.After(c1) {
		late = c2
	}
	start, _ := late.ZoneBounds()
	return start.In(loc), time.Time{}
}
