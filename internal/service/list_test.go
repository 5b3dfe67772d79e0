package service

import (
	"testing"

	"automate/internal/apperr"
	"automate/internal/automation"
)

func TestParseSort(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]struct {
		f    automation.SortField
		desc bool
	}{
		"": {automation.SortID, false}, "name": {automation.SortName, false}, "+name": {automation.SortName, false},
		"-lastRunAt": {automation.SortLastRunAt, true}, "-maxConcurrentRuns": {automation.SortMaxConcurrentRuns, true},
	} {
		f, desc, err := ParseSort(in)
		if err != nil || f != want.f || desc != want.desc {
			t.Errorf("ParseSort(%q) = %s %v %v", in, f, desc, err)
		}
	}
	for _, bad := range []string{"-", "+", "Name", "--name", "owner", " name", "name "} {
		if _, _, err := ParseSort(bad); !apperr.IsKind(err, apperr.Invalid) {
			t.Errorf("ParseSort(%q) err = %v", bad, err)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []cursor{
		{Sort: string(automation.SortName), Value: "x \"quoted\" é", ID: "id1"},
		{Sort: string(automation.SortCreatedAt), Desc: true, Value: int64(1767323045123456), ID: "id2", Backward: true},
		{Sort: string(automation.SortMaxConcurrentRuns), Value: int64(7), ID: "id3"},
	} {
		got, err := decodeCursor(encodeCursor(c), c.Sort, automation.SortField(c.Sort).IsNumeric(), c.Desc)
		if err != nil || got != c {
			t.Errorf("round trip of %+v = %+v, %v", c, got, err)
		}
	}
}

// FuzzDecodeCursor feeds the cursor parser hostile input: it must answer
// with a cursor of the right value type or an Invalid error, never panic.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(cursor{Sort: string(automation.SortName), Value: "a", ID: "b"}), "name", false)
	f.Add(encodeCursor(cursor{Sort: string(automation.SortCreatedAt), Value: int64(5), ID: "b", Backward: true}), "createdAt", false)
	f.Add("eyJzIjoibmFtZSIsInYiOjEuNSwiaSI6ImEifQ", "name", true)
	f.Fuzz(func(t *testing.T, s, sort string, desc bool) {
		field := automation.SortField(sort)
		c, err := decodeCursor(s, sort, field.IsNumeric(), desc)
		if err != nil {
			if !apperr.IsKind(err, apperr.Invalid) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		if c.Sort != sort || c.Desc != desc || c.ID == "" {
			t.Fatalf("accepted a cursor for another sort: %+v", c)
		}
		switch c.Value.(type) {
		case string:
			if field.IsNumeric() {
				t.Fatalf("text value for numeric sort %s", sort)
			}
		case int64:
			if !field.IsNumeric() {
				t.Fatalf("number value for text sort %s", sort)
			}
		default:
			t.Fatalf("value of type %T", c.Value)
		}
	})
}
