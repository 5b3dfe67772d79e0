package formula

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezones work on machines without a zoneinfo database
)

// dateFn is {date: value, 'outFormat'[, 'inFormat'[, 'timezone']]}: value
// is now/today/yesterday/tomorrow, a Unix timestamp, a date in inFormat
// (PHP style) or in a common format; it is shown in outFormat (PHP style,
// default ISO 8601) in timezone (default the run's).
func dateFn(env Env, a []any) (any, error) {
	loc := env.Location()
	if len(a) >= 4 && String(a[3]) != "" {
		l, err := time.LoadLocation(String(a[3]))
		if err != nil {
			return nil, fmt.Errorf("unknown timezone %q", String(a[3]))
		}
		loc = l
	}
	inFormat := ""
	if len(a) >= 3 {
		inFormat = String(a[2])
	}
	// The value is read in the run's timezone and shown in the one asked for.
	t, err := parseDate(a[0], inFormat, env.Now(), env.Location(), loc)
	if err != nil {
		return nil, err
	}
	out := "c"
	if len(a) >= 2 && String(a[1]) != "" {
		out = String(a[1])
	}
	return FormatPHP(t.In(loc), out), nil
}

var commonLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02",
	time.RFC1123Z, time.RFC1123, "01/02/2006", "02-01-2006",
}

// parseDate reads a date in loc; today/yesterday/tomorrow are midnights in
// dayLoc, the timezone the date will be shown in.
func parseDate(v any, inFormat string, now time.Time, loc, dayLoc *time.Location) (time.Time, error) {
	s := strings.TrimSpace(String(v))
	day := func(offset int) time.Time {
		n := now.In(dayLoc)
		return time.Date(n.Year(), n.Month(), n.Day()+offset, 0, 0, 0, 0, dayLoc)
	}
	switch strings.ToLower(s) {
	case "now", "":
		return now, nil
	case "today":
		return day(0), nil
	case "yesterday":
		return day(-1), nil
	case "tomorrow":
		return day(1), nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && (inFormat == "U" || inFormat == "") {
		sec := int64(n)
		return time.Unix(sec, int64((n-float64(sec))*1e9)), nil
	}
	if inFormat != "" && inFormat != "U" {
		layout, ok := phpToGoLayout(inFormat)
		if !ok {
			return time.Time{}, fmt.Errorf("input format %q has a part that cannot be read", inFormat)
		}
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q does not match the format %q", s, inFormat)
		}
		return t, nil
	}
	for _, l := range commonLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date automate can read; give its format", s)
}

// phpToGoLayout translates the PHP format characters that have a Go
// layout equivalent.
func phpToGoLayout(f string) (string, bool) {
	m := map[byte]string{'d': "02", 'j': "2", 'D': "Mon", 'l': "Monday", 'm': "01", 'n': "1", 'M': "Jan", 'F': "January",
		'Y': "2006", 'y': "06", 'H': "15", 'G': "15", 'h': "03", 'g': "3", 'i': "04", 's': "05", 'a': "pm", 'A': "PM",
		'T': "MST", 'P': "-07:00", 'O': "-0700", 'e': "MST", 'u': "000000", 'v': "000"}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '\\' && i+1 < len(f):
			i++
			b.WriteByte(f[i])
		case c == 'c':
			b.WriteString("2006-01-02T15:04:05-07:00")
		case m[c] != "":
			b.WriteString(m[c])
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// FormatPHP formats t with a PHP date() format.
func FormatPHP(t time.Time, f string) string {
	var b strings.Builder
	pad := func(n, w int) string { return fmt.Sprintf("%0*d", w, n) }
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch c {
		case '\\':
			if i+1 < len(f) {
				i++
				b.WriteByte(f[i])
			}
		case 'd':
			b.WriteString(pad(t.Day(), 2))
		case 'D':
			b.WriteString(t.Format("Mon"))
		case 'j':
			b.WriteString(strconv.Itoa(t.Day()))
		case 'S':
			b.WriteString(ordinalSuffix(t.Day()))
		case 'l':
			b.WriteString(t.Weekday().String())
		case 'N':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(strconv.Itoa(wd))
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'z':
			b.WriteString(strconv.Itoa(t.YearDay() - 1))
		case 'W':
			_, w := t.ISOWeek()
			b.WriteString(pad(w, 2))
		case 'o':
			y, _ := t.ISOWeek()
			b.WriteString(strconv.Itoa(y))
		case 'F':
			b.WriteString(t.Month().String())
		case 'M':
			b.WriteString(t.Format("Jan"))
		case 'm':
			b.WriteString(pad(int(t.Month()), 2))
		case 'n':
			b.WriteString(strconv.Itoa(int(t.Month())))
		case 't':
			b.WriteString(strconv.Itoa(time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, t.Location()).Day()))
		case 'L':
			y := t.Year()
			if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'y':
			b.WriteString(pad(t.Year()%100, 2))
		case 'a':
			b.WriteString(t.Format("pm"))
		case 'A':
			b.WriteString(t.Format("PM"))
		case 'g':
			b.WriteString(t.Format("3"))
		case 'G':
			b.WriteString(strconv.Itoa(t.Hour()))
		case 'h':
			b.WriteString(t.Format("03"))
		case 'H':
			b.WriteString(pad(t.Hour(), 2))
		case 'i':
			b.WriteString(pad(t.Minute(), 2))
		case 's':
			b.WriteString(pad(t.Second(), 2))
		case 'u':
			b.WriteString(pad(t.Nanosecond()/1000, 6))
		case 'v':
			b.WriteString(pad(t.Nanosecond()/1e6, 3))
		case 'e':
			b.WriteString(t.Location().String())
		case 'T':
			b.WriteString(t.Format("MST"))
		case 'P':
			b.WriteString(t.Format("-07:00"))
		case 'O':
			b.WriteString(t.Format("-0700"))
		case 'p':
			if _, off := t.Zone(); off == 0 {
				b.WriteByte('Z')
			} else {
				b.WriteString(t.Format("-07:00"))
			}
		case 'Z':
			_, off := t.Zone()
			b.WriteString(strconv.Itoa(off))
		case 'c':
			b.WriteString(t.Format("2006-01-02T15:04:05-07:00"))
		case 'r':
			b.WriteString(t.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
		case 'U':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ordinalSuffix is PHP's S: st, nd, rd or th.
func ordinalSuffix(day int) string {
	if day >= 11 && day <= 13 {
		return "th"
	}
	switch day % 10 {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}
