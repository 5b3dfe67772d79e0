package api_test

import (
	"encoding/json"
	"net/url"
	"testing"
)

// FuzzCreateAutomation posts arbitrary bodies: every answer is a created
// automation or an error in the envelope, never a 5xx.
func FuzzCreateAutomation(f *testing.F) {
	b := setup(f, func(o *setupOpts) { o.cfg.MaxBodyBytes = 1 << 16 })
	alice := b.creator("alice")
	for _, s := range []string{`{"name":"x"}`, `{"name":"x","workspace":{"blocks":[{"type":"StartBlock","inputs":[{"id":"run_mode","value":"webhook"}]}]}}`,
		`{"name":1}`, `[`, `{"name":"x","maxConcurrentRuns":3,"workspace":{"blocks":[{"type":"EndpointBlock","endpoint_guid":"e"}]}}`,
		`{"name":"s","schedules":[{"recurrence":"RRULE:FREQ=WEEKLY;BYDAY=MO","startAt":"2026-03-29 02:30:00","timezone":"Europe/Stockholm"}]}`,
		`{"name":"s","schedules":[{"interval":90,"stopAt":"2027-01-01 00:00:00"},{"interval":-1}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := b.with(t).request("POST", base, alice, body)
		switch r.status {
		case 201:
			var a automationBody
			if err := json.Unmarshal(r.body, &a); err != nil || a.ID == "" {
				t.Fatalf("201 without an automation: %s", r.body)
			}
		case 400, 413:
			var env errorEnvelope
			if err := json.Unmarshal(r.body, &env); err != nil || len(env.Errors) != 1 || env.TraceID == "" {
				t.Fatalf("%d without the envelope: %s", r.status, r.body)
			}
		default:
			t.Fatalf("status %d for body %q: %s", r.status, body, r.body)
		}
	})
}

// FuzzListQuery sends arbitrary list parameters: the answer is a page or a
// 400, never a 5xx.
func FuzzListQuery(f *testing.F) {
	b := setup(f)
	alice := b.creator("alice")
	b.create(alice, map[string]any{"name": "one"})
	f.Add(`name co "o"`, "-name", "5", "")
	f.Add(`(runMode eq "manual")`, "+createdAt", "200", "eyJzIjoiY3JlYXRlZEF0IiwidiI6MSwiaSI6ImEifQ")
	f.Fuzz(func(t *testing.T, filter, sort, limit, cursor string) {
		v := url.Values{"filter": {filter}, "sort": {sort}, "limit": {limit}, "cursor": {cursor}}
		r := b.with(t).get(base+"?"+v.Encode(), alice)
		if r.status != 200 && r.status != 400 {
			t.Fatalf("status %d for %v: %s", r.status, v, r.body)
		}
	})
}

// FuzzRunsQuery sends arbitrary runs-list parameters: a page or a 400.
func FuzzRunsQuery(f *testing.F) {
	b := setup(f)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "one", "workspace": flow("manual", nil, show("o", "x"))})
	b.startRun(alice, a.ID, nil)
	f.Add(`status eq "finished" and billable eq true`, "-startTime", "5", "")
	f.Add(`startTime ge "2026-01-01T00:00:00Z" or not (title co "x")`, "+status", "200", "eyJzIjoic3RhdHVzIiwidiI6IngiLCJpIjoiYSJ9")
	f.Fuzz(func(t *testing.T, filter, sort, limit, cursor string) {
		v := url.Values{"filter": {filter}, "sort": {sort}, "limit": {limit}, "cursor": {cursor}}
		r := b.with(t).get(base+"/"+a.ID+"/runs?"+v.Encode(), alice)
		if r.status != 200 && r.status != 400 {
			t.Fatalf("status %d for %v: %s", r.status, v, r.body)
		}
	})
}

// FuzzRunURL calls a run URL with arbitrary bodies and queries: an answer
// from the run, or an error in the envelope, never a 5xx.
func FuzzRunURL(f *testing.F) {
	b := setup(f, func(o *setupOpts) { o.cfg.MaxBodyBytes = 1 << 16 })
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "hook", "maxConcurrentRuns": 10,
		"workspace": flow("triggered", nil, show("o", "{$.Start.x}"))})
	f.Add([]byte(`{"x":1}`), "async=false")
	f.Add([]byte(`[1,2]`), "async=true&x=2")
	f.Add([]byte(`"text"`), "")
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		// Only queries a client can send: net/http itself refuses the rest.
		v, err := url.ParseQuery(query)
		if err != nil {
			t.Skip()
		}
		r := b.with(t).runURL("POST", a.ID, a.ExecutionToken, v.Encode(), body)
		if r.status >= 500 || (r.status >= 400 && !json.Valid(r.body)) {
			t.Fatalf("status %d for %q %q: %s", r.status, body, query, r.body)
		}
	})
}

// FuzzUsageFilter sends arbitrary usage filters: data or a 400.
func FuzzUsageFilter(f *testing.F) {
	b := setup(f)
	admin := b.user("root", "TenantAdmin")
	f.Add(`name eq "runs" and date ge "2026-01-01"`, "automation")
	f.Add(`not (date lt "2026-01-01") or name sw "band"`, "")
	f.Fuzz(func(t *testing.T, filter, breakdown string) {
		v := url.Values{"filter": {filter}, "breakdownBy": {breakdown}}
		r := b.with(t).get(base+"/usage?"+v.Encode(), admin)
		if r.status != 200 && r.status != 400 {
			t.Fatalf("status %d for %v: %s", r.status, v, r.body)
		}
	})
}

// FuzzSpacesAPI sends arbitrary bodies to the spaces, assignments and
// API-keys endpoints, and arbitrary spaces-list parameters: every answer
// is a success or a 4xx in the envelope, never a 5xx.
func FuzzSpacesAPI(f *testing.F) {
	b := setup(f, func(o *setupOpts) { o.cfg.MaxBodyBytes = 1 << 16 })
	lead := b.user("lead", "SharedSpaceCreator")
	var sp struct{ ID string }
	b.post("/api/v1/spaces", lead, map[string]any{"name": "fuzz", "type": "shared"}).decode(f, 201, &sp)
	f.Add(0, []byte(`{"name":"x","type":"shared"}`), `name co "x"`, "-name", "5", "")
	f.Add(1, []byte(`[{"op":"replace","path":"/name","value":"y"}]`), `type eq "shared"`, "+createdAt", "100", "eyJzIjoibmFtZSJ9")
	f.Add(2, []byte(`{"type":"user","assigneeId":"a","roles":["producer"]}`), "", "type", "", "")
	f.Add(3, []byte(`{"description":"k","expiry":"P1DT2H"}`), "", "", "", "")
	f.Fuzz(func(t *testing.T, which int, body []byte, filter, sort, limit, cursor string) {
		bb := b.with(t)
		var r response
		switch uint(which) % 5 {
		case 0:
			r = bb.request("POST", "/api/v1/spaces", lead, body)
		case 1:
			r = bb.request("PATCH", "/api/v1/spaces/"+sp.ID, lead, body)
		case 2:
			r = bb.request("POST", "/api/v1/spaces/"+sp.ID+"/assignments", lead, body)
		case 3:
			r = bb.request("POST", "/api/v1/api-keys", lead, body)
		case 4:
			v := url.Values{"filter": {filter}, "sort": {sort}, "limit": {limit}, "next": {cursor}, "name": {filter}}
			r = bb.get("/api/v1/spaces?"+v.Encode(), lead)
		}
		if r.status >= 500 || (r.status >= 400 && !json.Valid(r.body)) {
			t.Fatalf("status %d for %d %q: %s", r.status, which, body, r.body)
		}
		if r.status >= 400 {
			var env errorEnvelope
			if err := json.Unmarshal(r.body, &env); err != nil || len(env.Errors) != 1 || env.TraceID == "" {
				t.Fatalf("%d without the envelope: %s", r.status, r.body)
			}
		}
	})
}
