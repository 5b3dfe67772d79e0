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
		`{"name":1}`, `[`, `{"name":"x","maxConcurrentRuns":3,"workspace":{"blocks":[{"type":"EndpointBlock","endpoint_guid":"e"}]}}`} {
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
