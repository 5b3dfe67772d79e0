package schedule

import (
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// series returns the first n occurrences after from, as wall times with
// their offset in the schedule's zone.
func series(t *testing.T, spec Spec, from time.Time, n int) []string {
	t.Helper()
	s, err := FromSpec(spec, from)
	if err != nil {
		t.Fatalf("FromSpec: %v", err)
	}
	r, err := s.Rule()
	if err != nil {
		t.Fatalf("Rule: %v", err)
	}
	var out []string
	at := from
	for range n {
		next := r.Next(at)
		if next.IsZero() {
			out = append(out, "end")
			break
		}
		if !next.After(at) {
			t.Fatalf("Next(%s) = %s, not after it", at, next)
		}
		out = append(out, next.In(r.loc).Format("2006-01-02 Mon 15:04 -0700"))
		at = next
	}
	return out
}

func TestRecurrences(t *testing.T) {
	t.Parallel()
	// 2026-01-07 is a Wednesday.
	from := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
	rec := func(rule, start string) Spec {
		return Spec{Recurrence: ptr(rule), StartAt: ptr(start), Timezone: ptr("Europe/Stockholm")}
	}
	tests := []struct {
		name string
		spec Spec
		n    int
		want []string
	}{
		{"every 15 minutes", rec("FREQ=MINUTELY;INTERVAL=15", "2026-01-01 00:00:00"), 3,
			[]string{"2026-01-07 Wed 13:15 +0100", "2026-01-07 Wed 13:30 +0100", "2026-01-07 Wed 13:45 +0100"}},
		{"hourly", rec("RRULE:FREQ=HOURLY", "2026-01-01 00:30:00"), 2,
			[]string{"2026-01-07 Wed 13:30 +0100", "2026-01-07 Wed 14:30 +0100"}},
		{"daily at 06:00", rec("FREQ=DAILY;BYHOUR=6;BYMINUTE=0", "2026-01-01 00:00:00"), 2,
			[]string{"2026-01-08 Thu 06:00 +0100", "2026-01-09 Fri 06:00 +0100"}},
		{"weekly on Monday", rec("FREQ=WEEKLY;BYDAY=MO", "2026-01-01 08:00:00"), 2,
			[]string{"2026-01-12 Mon 08:00 +0100", "2026-01-19 Mon 08:00 +0100"}},
		{"weekdays", rec("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "2026-01-01 07:30:00"), 4,
			[]string{"2026-01-08 Thu 07:30 +0100", "2026-01-09 Fri 07:30 +0100", "2026-01-12 Mon 07:30 +0100", "2026-01-13 Tue 07:30 +0100"}},
		{"twice a day", rec("FREQ=DAILY;BYHOUR=9,17", "2026-01-01 00:15:00"), 3,
			[]string{"2026-01-07 Wed 17:15 +0100", "2026-01-08 Thu 09:15 +0100", "2026-01-08 Thu 17:15 +0100"}},
		{"1st of month", rec("FREQ=MONTHLY;BYMONTHDAY=1", "2025-06-01 10:00:00"), 2,
			[]string{"2026-02-01 Sun 10:00 +0100", "2026-03-01 Sun 10:00 +0100"}},
		{"first Monday", rec("FREQ=MONTHLY;BYDAY=1MO", "2025-06-01 10:00:00"), 3,
			[]string{"2026-02-02 Mon 10:00 +0100", "2026-03-02 Mon 10:00 +0100", "2026-04-06 Mon 10:00 +0200"}},
		{"last day of month", rec("FREQ=MONTHLY;BYMONTHDAY=-1", "2025-06-01 23:00:00"), 3,
			[]string{"2026-01-31 Sat 23:00 +0100", "2026-02-28 Sat 23:00 +0100", "2026-03-31 Tue 23:00 +0200"}},
		{"COUNT=1", rec("FREQ=DAILY;COUNT=1", "2026-01-10 09:00:00"), 2,
			[]string{"2026-01-10 Sat 09:00 +0100", "end"}},
		{"COUNT=3 counted from startAt", rec("FREQ=DAILY;COUNT=3", "2026-01-06 09:00:00"), 3,
			[]string{"2026-01-08 Thu 09:00 +0100", "end"}},
		{"startAt supplies the time of day", rec("FREQ=WEEKLY", "2026-01-02 18:45:00"), 2,
			[]string{"2026-01-09 Fri 18:45 +0100", "2026-01-16 Fri 18:45 +0100"}},
		{"stopAt ends the series", Spec{Recurrence: ptr("FREQ=DAILY"), StartAt: ptr("2026-01-01 09:00:00"),
			StopAt: ptr("2026-01-09 09:00:00"), Timezone: ptr("Europe/Stockholm")}, 3,
			[]string{"2026-01-08 Thu 09:00 +0100", "2026-01-09 Fri 09:00 +0100", "end"}},
		{"interval 90 minutes is elapsed time", Spec{Interval: ptr(5400), StartAt: ptr("2026-01-07 10:00:00"),
			Timezone: ptr("Europe/Stockholm")}, 2,
			[]string{"2026-01-07 Wed 14:30 +0100", "2026-01-07 Wed 16:00 +0100"}},
		{"interval rounds to the minute", Spec{Interval: ptr(89), StartAt: ptr("2026-01-07 13:00:00"),
			Timezone: ptr("Europe/Stockholm")}, 2,
			[]string{"2026-01-07 Wed 13:01 +0100", "2026-01-07 Wed 13:02 +0100"}},
		{"startAt in the future", Spec{Interval: ptr(3600), StartAt: ptr("2026-02-01 00:00:00"), Timezone: ptr("UTC")}, 2,
			[]string{"2026-02-01 Sun 00:00 +0000", "2026-02-01 Sun 01:00 +0000"}},
		{"recurrence wins over interval", Spec{Interval: ptr(60), Recurrence: ptr("FREQ=DAILY"),
			StartAt: ptr("2026-01-01 05:00:00"), Timezone: ptr("UTC")}, 1,
			[]string{"2026-01-08 Thu 05:00 +0000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := series(t, tc.spec, from, tc.n)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDST(t *testing.T) {
	t.Parallel()
	// Europe switches on 2026-03-29 (02:00 -> 03:00) and 2026-10-25
	// (03:00 -> 02:00); America/New_York on 2026-03-08 (02:00 -> 03:00)
	// and 2026-11-01 (02:00 -> 01:00).
	spec := func(tz, rule, start string) Spec {
		return Spec{Recurrence: ptr(rule), StartAt: ptr(start), Timezone: ptr(tz)}
	}
	at := func(tz, wall string) time.Time {
		loc, _ := time.LoadLocation(tz)
		t, _ := time.ParseInLocation("2006-01-02 15:04", wall, loc)
		return t
	}
	const sto, nyc = "Europe/Stockholm", "America/New_York"
	tests := []struct {
		name string
		spec Spec
		from time.Time
		n    int
		want []string
	}{
		{"09:00 stays 09:00 in spring", spec(sto, "FREQ=DAILY", "2026-01-01 09:00:00"), at(sto, "2026-03-28 10:00"), 2,
			[]string{"2026-03-29 Sun 09:00 +0200", "2026-03-30 Mon 09:00 +0200"}},
		{"09:00 stays 09:00 in autumn", spec(sto, "FREQ=DAILY", "2026-01-01 09:00:00"), at(sto, "2026-10-24 10:00"), 2,
			[]string{"2026-10-25 Sun 09:00 +0100", "2026-10-26 Mon 09:00 +0100"}},
		{"a skipped time fires once at the jump", spec(sto, "FREQ=DAILY", "2026-01-01 02:30:00"), at(sto, "2026-03-28 03:00"), 2,
			[]string{"2026-03-29 Sun 03:00 +0200", "2026-03-30 Mon 02:30 +0200"}},
		{"a repeated time fires once", spec(sto, "FREQ=DAILY", "2026-01-01 02:30:00"), at(sto, "2026-10-24 03:00"), 2,
			[]string{"2026-10-25 Sun 02:30 +0200", "2026-10-26 Mon 02:30 +0100"}},
		{"every 30 minutes across spring", spec(sto, "FREQ=MINUTELY;INTERVAL=30", "2026-01-01 00:00:00"), at(sto, "2026-03-29 01:00"), 3,
			[]string{"2026-03-29 Sun 01:30 +0100", "2026-03-29 Sun 03:00 +0200", "2026-03-29 Sun 03:30 +0200"}},
		{"every 30 minutes across autumn fires in both passes", spec(sto, "FREQ=MINUTELY;INTERVAL=30", "2026-01-01 00:00:00"), at(sto, "2026-10-25 01:45"), 6,
			[]string{"2026-10-25 Sun 02:00 +0200", "2026-10-25 Sun 02:30 +0200", "2026-10-25 Sun 02:00 +0100",
				"2026-10-25 Sun 02:30 +0100", "2026-10-25 Sun 03:00 +0100", "2026-10-25 Sun 03:30 +0100"}},
		{"hourly across autumn", spec(sto, "FREQ=HOURLY", "2026-01-01 00:10:00"), at(sto, "2026-10-25 01:30"), 3,
			[]string{"2026-10-25 Sun 02:10 +0200", "2026-10-25 Sun 02:10 +0100", "2026-10-25 Sun 03:10 +0100"}},
		{"weekly on Monday keeps 06:00 in New York", spec(nyc, "FREQ=WEEKLY;BYDAY=MO;BYHOUR=6;BYMINUTE=0", "2026-01-01 00:00:00"), at(nyc, "2026-03-01 12:00"), 2,
			[]string{"2026-03-02 Mon 06:00 -0500", "2026-03-09 Mon 06:00 -0400"}},
		{"New York spring: 02:30 fires at 03:00", spec(nyc, "FREQ=DAILY", "2026-01-01 02:30:00"), at(nyc, "2026-03-07 12:00"), 2,
			[]string{"2026-03-08 Sun 03:00 -0400", "2026-03-09 Mon 02:30 -0400"}},
		{"New York autumn: 01:30 fires once", spec(nyc, "FREQ=DAILY", "2026-01-01 01:30:00"), at(nyc, "2026-10-31 12:00"), 2,
			[]string{"2026-11-01 Sun 01:30 -0400", "2026-11-02 Mon 01:30 -0500"}},
		{"New York every 20 minutes across autumn", spec(nyc, "FREQ=MINUTELY;INTERVAL=20", "2026-01-01 00:00:00"), at(nyc, "2026-11-01 00:50"), 5,
			[]string{"2026-11-01 Sun 01:00 -0400", "2026-11-01 Sun 01:20 -0400", "2026-11-01 Sun 01:40 -0400",
				"2026-11-01 Sun 01:00 -0500", "2026-11-01 Sun 01:20 -0500"}},
		{"New York every 20 minutes across spring", spec(nyc, "FREQ=MINUTELY;INTERVAL=20", "2026-01-01 00:00:00"), at(nyc, "2026-03-08 01:30"), 3,
			[]string{"2026-03-08 Sun 01:40 -0500", "2026-03-08 Sun 03:00 -0400", "2026-03-08 Sun 03:20 -0400"}},
		{"a daily interval keeps the wall clock", Spec{Interval: ptr(86400), StartAt: ptr("2026-01-01 09:00:00"), Timezone: ptr(sto)},
			at(sto, "2026-03-28 10:00"), 2, []string{"2026-03-29 Sun 09:00 +0200", "2026-03-30 Mon 09:00 +0200"}},
		{"an hourly interval is elapsed time", Spec{Interval: ptr(3600), StartAt: ptr("2026-01-01 00:00:00"), Timezone: ptr(sto)},
			at(sto, "2026-03-29 01:00"), 2, []string{"2026-03-29 Sun 03:00 +0200", "2026-03-29 Sun 04:00 +0200"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := series(t, tc.spec, tc.from, tc.n)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
