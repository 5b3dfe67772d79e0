package api

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"automate/internal/automation"
	"automate/internal/schedule"
)

// appendAutomation writes the JSON of an automation by hand. It is the
// hottest encoding of the API (every list item); encoding/json spends most
// of its time re-validating the stored workspace, which was compacted and
// validated when it was saved. TestAppendAutomationMatchesEncodingJSON
// keeps it equal to encoding/json's output of automationJSON.
func appendAutomation(b []byte, a *automation.Automation, detail bool, sched *schedule.Schedule) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, a.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, a.Name)
	b = append(b, `,"description":`...)
	b = appendString(b, a.Description)
	b = append(b, `,"state":`...)
	b = appendString(b, a.State)
	b = append(b, `,"ownerId":`...)
	b = appendString(b, a.OwnerID)
	if a.SpaceID != "" {
		b = append(b, `,"spaceId":`...)
		b = appendString(b, a.SpaceID)
	}
	b = append(b, `,"runMode":`...)
	b = appendString(b, a.RunMode)
	if detail {
		b = append(b, `,"schedules":`...)
		if sched == nil {
			b = append(b, `[]`...)
		} else {
			// Rare and small: encoding/json is fine here.
			raw, _ := json.Marshal(schedulesJSON(sched))
			b = append(b, raw...)
		}
	}
	b = append(b, `,"workspace":`...)
	b = append(b, a.Workspace...)
	b = append(b, `,"snippetIds":`...)
	b = appendStrings(b, a.SnippetIDs)
	b = append(b, `,"endpointIds":`...)
	b = appendStrings(b, a.EndpointIDs)
	b = append(b, `,"connectorIds":`...)
	b = appendStrings(b, a.ConnectorIDs)
	b = append(b, `,"executionToken":`...)
	b = appendString(b, a.ExecutionToken)
	b = append(b, `,"maxConcurrentRuns":`...)
	b = strconv.AppendInt(b, int64(a.MaxConcurrentRuns), 10)
	if !a.LastRunAt.IsZero() {
		b = append(b, `,"lastRunAt":"`...)
		b = a.LastRunAt.UTC().AppendFormat(b, timeFormat)
		b = append(b, '"')
	}
	if a.LastRunStatus != "" {
		b = append(b, `,"lastRunStatus":`...)
		b = appendString(b, a.LastRunStatus)
	}
	b = append(b, `,"createdAt":"`...)
	b = a.CreatedAt.UTC().AppendFormat(b, timeFormat)
	b = append(b, `","updatedAt":"`...)
	b = a.UpdatedAt.UTC().AppendFormat(b, timeFormat)
	return append(b, `"}`...)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does:
// HTML-safe, invalid UTF-8 replaced, U+2028/U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
