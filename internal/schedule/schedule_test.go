package schedule

import (
	"strings"
	"testing"
	"time"

	"automate/internal/apperr"
)

func TestFromSpecDefaults(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 10, 17, 42, 0, time.UTC)
	s, err := FromSpec(Spec{Interval: ptr(30)}, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Interval != 60 || s.Timezone != "UTC" || s.StartAt != "2026-07-01 10:17:00" || s.StopAt != "" || s.Recurrence != "" {
		t.Errorf("defaults: %+v", s)
	}
	s, err = FromSpec(Spec{Recurrence: ptr(" rrule:freq=daily "), Timezone: ptr("Europe/Stockholm")}, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Interval != NoInterval || s.Recurrence != "rrule:freq=daily" || s.StartAt != "2026-07-01 12:17:00" {
		t.Errorf("recurrence defaults: %+v", s)
	}
}

func TestFromSpecErrors(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		spec Spec
		want string // in the error's detail
	}{
		{"nothing", Spec{}, "needs a recurrence or an interval"},
		{"interval -1 only", Spec{Interval: ptr(-1)}, "needs a recurrence or an interval"},
		{"interval too short", Spec{Interval: ptr(29)}, "schedules[0].interval: must be at least 60 seconds"},
		{"interval zero", Spec{Interval: ptr(0)}, "schedules[0].interval"},
		{"interval negative", Spec{Interval: ptr(-5)}, "schedules[0].interval"},
		{"interval too long", Spec{Interval: ptr(1 << 40)}, "must be at most"},
		{"unknown timezone", Spec{Interval: ptr(60), Timezone: ptr("Mars/Olympus")}, `schedules[0].timezone: unknown timezone "Mars/Olympus"`},
		{"Local timezone", Spec{Interval: ptr(60), Timezone: ptr("Local")}, "schedules[0].timezone"},
		{"malformed startAt", Spec{Interval: ptr(60), StartAt: ptr("2026-07-01T10:00:00Z")}, "schedules[0].startAt"},
		{"impossible startAt", Spec{Interval: ptr(60), StartAt: ptr("2026-02-30 10:00:00")}, "schedules[0].startAt"},
		{"malformed stopAt", Spec{Interval: ptr(60), StopAt: ptr("tomorrow")}, "schedules[0].stopAt"},
		{"stopAt before startAt", Spec{Interval: ptr(60), StartAt: ptr("2026-07-02 00:00:00"), StopAt: ptr("2026-07-01 00:00:00")},
			"schedules[0].stopAt: \"2026-07-01 00:00:00\" is not after startAt"},
		{"stopAt equal to startAt", Spec{Interval: ptr(60), StartAt: ptr("2026-07-02 00:00:00"), StopAt: ptr("2026-07-02 00:00:00")}, "schedules[0].stopAt"},
		{"DTSTART", Spec{Recurrence: ptr("DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY")}, "single RRULE line"},
		{"inline DTSTART", Spec{Recurrence: ptr("FREQ=DAILY;DTSTART=20260101T000000Z")}, "must not contain DTSTART; the series starts at startAt"},
		{"UNTIL", Spec{Recurrence: ptr("FREQ=DAILY;UNTIL=20270101T000000Z")}, "must not contain UNTIL; the series ends at stopAt"},
		{"SECONDLY", Spec{Recurrence: ptr("FREQ=SECONDLY")}, "FREQ=SECONDLY is not supported"},
		{"BYSECOND", Spec{Recurrence: ptr("FREQ=MINUTELY;BYSECOND=0,30")}, "BYSECOND"},
		{"no FREQ", Spec{Recurrence: ptr("BYDAY=MO")}, "FREQ is required"},
		{"garbage", Spec{Recurrence: ptr("every day")}, "not a valid RRULE"},
		{"out of bounds", Spec{Recurrence: ptr("FREQ=DAILY;BYHOUR=25")}, "byhour must be between"},
		{"COUNT too large", Spec{Recurrence: ptr("FREQ=DAILY;COUNT=1000000")}, "COUNT must be between"},
		{"never occurs", Spec{Recurrence: ptr("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")}, "never occurs"},
		{"year out of range", Spec{Interval: ptr(60), StartAt: ptr("0001-01-01 00:00:00")}, "between the years"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := FromSpec(tc.spec, now)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !apperr.IsKind(err, apperr.Invalid) {
				t.Fatalf("error %v is not a validation error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// FuzzSchedule feeds arbitrary client schedules through validation and, for
// the ones accepted, checks that the occurrences move forward.
func FuzzSchedule(f *testing.F) {
	f.Add(60, "FREQ=MINUTELY;INTERVAL=15", "2026-01-01 00:00:00", "", "Europe/Stockholm")
	f.Add(-1, "RRULE:FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=9,17", "2026-03-29 02:30:00", "2027-01-01 00:00:00", "America/New_York")
	f.Add(86400, "", "2026-10-25 02:30:00", "", "Australia/Lord_Howe")
	f.Add(0, "FREQ=YEARLY;BYYEARDAY=366;COUNT=2", "", "", "UTC")
	f.Fuzz(func(t *testing.T, interval int, recurrence, startAt, stopAt, tz string) {
		now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
		s, err := FromSpec(Spec{Interval: &interval, Recurrence: &recurrence, StartAt: &startAt, StopAt: &stopAt, Timezone: &tz}, now)
		if err != nil {
			if !apperr.IsKind(err, apperr.Invalid) {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		r, err := s.Rule()
		if err != nil {
			t.Fatalf("accepted schedule has no rule: %v", err)
		}
		at := now
		for range 5 {
			next := r.Next(at)
			if next.IsZero() {
				return
			}
			if !next.After(at) {
				t.Fatalf("Next(%s) = %s", at, next)
			}
			at = next
		}
	})
}
