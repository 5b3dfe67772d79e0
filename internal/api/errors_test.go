package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"automate/internal/access"
	"automate/internal/api"
	"automate/internal/token"
)

func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOpts) { o.cfg.MaxBodyBytes = 4096 })
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "target"})
	ws := func(blocks string) string { return `{"name":"w","workspace":{"blocks":` + blocks + `}}` }
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"malformed JSON", "POST", base, `{"name":`, 400, "AUTOMATE-INVALID-JSON"},
		{"not JSON", "POST", base, `name=x`, 400, "AUTOMATE-INVALID-JSON"},
		{"empty body", "POST", base, nil, 400, "AUTOMATE-INVALID-JSON"},
		{"array body", "POST", base, `[]`, 400, "AUTOMATE-INVALID-JSON"},
		{"trailing data", "POST", base, `{"name":"x"} {"name":"y"}`, 400, "AUTOMATE-INVALID-JSON"},
		{"name missing", "POST", base, `{}`, 400, "AUTOMATE-VALIDATION"},
		{"name null", "POST", base, `{"name":null}`, 400, "AUTOMATE-VALIDATION"},
		{"name empty", "POST", base, `{"name":""}`, 400, "AUTOMATE-VALIDATION"},
		{"name a number", "POST", base, `{"name":5}`, 400, "AUTOMATE-VALIDATION"},
		{"name too long", "POST", base, `{"name":"` + strings.Repeat("n", 256) + `"}`, 400, "AUTOMATE-VALIDATION"},
		{"maxConcurrentRuns 0", "POST", base, `{"name":"x","maxConcurrentRuns":0}`, 400, "AUTOMATE-VALIDATION"},
		{"maxConcurrentRuns over cap", "POST", base, `{"name":"x","maxConcurrentRuns":11}`, 400, "AUTOMATE-VALIDATION"},
		{"maxConcurrentRuns fraction", "POST", base, `{"name":"x","maxConcurrentRuns":1.5}`, 400, "AUTOMATE-VALIDATION"},
		{"workspace a list", "POST", base, `{"name":"x","workspace":[]}`, 400, "AUTOMATE-VALIDATION"},
		{"workspace a string", "POST", base, `{"name":"x","workspace":"{}"}`, 400, "AUTOMATE-VALIDATION"},
		{"blocks not a list", "POST", base, ws(`{}`), 400, "AUTOMATE-VALIDATION"},
		{"two start blocks", "POST", base, ws(`[{"type":"StartBlock"},{"type":"StartBlock"}]`), 400, "AUTOMATE-VALIDATION"},
		{"bad run_mode", "POST", base, ws(`[{"type":"StartBlock","inputs":[{"id":"run_mode","value":"sometimes"}]}]`), 400, "AUTOMATE-VALIDATION"},
		{"run_mode not text", "POST", base, ws(`[{"type":"StartBlock","inputs":[{"id":"run_mode","value":3}]}]`), 400, "AUTOMATE-VALIDATION"},
		{"endpoint guid not text", "POST", base, ws(`[{"type":"EndpointBlock","endpoint_guid":7}]`), 400, "AUTOMATE-VALIDATION"},
		{"body over the limit", "POST", base, `{"name":"` + strings.Repeat("x", 5000) + `"}`, 413, "HTTP-413"},
		{"update body over the limit", "PUT", base + "/" + a.ID, `{"description":"` + strings.Repeat("x", 5000) + `"}`, 413, "HTTP-413"},
		{"update malformed", "PUT", base + "/" + a.ID, `{`, 400, "AUTOMATE-INVALID-JSON"},
		{"copy malformed", "POST", base + "/" + a.ID + "/actions/copy", `{"name":`, 400, "AUTOMATE-INVALID-JSON"},
		{"change-owner userId a number", "POST", base + "/" + a.ID + "/actions/change-owner", `{"userId":1}`, 400, "AUTOMATE-VALIDATION"},
		{"settings not a number", "PUT", base + "/settings", `{"maxConcurrentRunsPerAutomation":"ten"}`, 400, "AUTOMATE-VALIDATION"},
		{"limit 0", "GET", base + "?limit=0", nil, 400, "AUTOMATE-INVALID-PARAMETER"},
		{"limit 201", "GET", base + "?limit=201", nil, 400, "AUTOMATE-INVALID-PARAMETER"},
		{"limit -1", "GET", base + "?limit=-1", nil, 400, "AUTOMATE-INVALID-PARAMETER"},
		{"limit text", "GET", base + "?limit=ten", nil, 400, "AUTOMATE-INVALID-PARAMETER"},
		{"sort unknown", "GET", base + "?sort=-owner", nil, 400, "AUTOMATE-INVALID-PARAMETER"},
		{"sort double sign", "GET", base + "?sort=--name", nil, 400, "AUTOMATE-INVALID-PARAMETER"},
		{"listAll not boolean", "GET", base + "?listAll=maybe", nil, 400, "AUTOMATE-INVALID-PARAMETER"},
		{"filter syntax", "GET", base + "?filter=" + q(`name eq`), nil, 400, "AUTOMATE-INVALID-FILTER"},
		{"filter unknown attribute", "GET", base + "?filter=" + q(`executionToken pr`), nil, 400, "AUTOMATE-INVALID-FILTER"},
		{"filter number on text", "GET", base + "?filter=" + q(`name eq 5`), nil, 400, "AUTOMATE-INVALID-FILTER"},
		{"filter null with co", "GET", base + "?filter=" + q(`name co null`), nil, 400, "AUTOMATE-INVALID-FILTER"},
		{"cursor garbage", "GET", base + "?cursor=%21%21", nil, 400, "AUTOMATE-INVALID-CURSOR"},
		{"cursor base64 garbage", "GET", base + "?cursor=bm90IGpzb24", nil, 400, "AUTOMATE-INVALID-CURSOR"},
		{"cursor wrong value type", "GET", base + "?sort=createdAt&cursor=" + q(rawCursor(`{"s":"createdAt","v":"text","i":"x"}`)), nil, 400, "AUTOMATE-INVALID-CURSOR"},
		{"cursor for another sort", "GET", base + "?sort=name&cursor=" + q(rawCursor(`{"s":"id","v":"a","i":"a"}`)), nil, 400, "AUTOMATE-INVALID-CURSOR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.with(t).request(tt.method, tt.path, alice, tt.body).wantError(t, tt.status, tt.code)
		})
	}
	// Nothing above was created.
	var l listBody
	b.get(base, alice).decode(t, http.StatusOK, &l)
	if len(l.Data) != 1 {
		t.Errorf("bad requests created automations: %d", len(l.Data))
	}
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	b.get("/api/workflows/nothing", alice).wantError(t, 404, "HTTP-404")
	b.get("/", "").wantError(t, 404, "HTTP-404")
	r := b.request("PATCH", base, alice, `{}`)
	r.wantError(t, 405, "HTTP-405")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q", allow)
	}
	b.request("POST", "/healthz", alice, nil).wantError(t, 405, "HTTP-405")
	del := b.request("DELETE", base+"/settings", alice, nil)
	del.wantError(t, 405, "HTTP-405")
	if del.header.Get("Allow") != "GET, HEAD, PUT" {
		t.Errorf("DELETE /settings Allow = %q", del.header.Get("Allow"))
	}
	b.request("GET", base+"/x/actions/copy", alice, nil).wantError(t, 405, "HTTP-405")
	b.request("POST", base+"/x/actions/explode", alice, nil).wantError(t, 404, "HTTP-404")
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := b.clock.Now()
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := jwt.MapClaims{"sub": "alice", "roles": []string{"AutomationCreator"}, "exp": now.Add(time.Hour).Unix()}
	noneTok := sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid)
	tests := []struct {
		name, header string
	}{
		{"no header", ""},
		{"not bearer", "Basic YWxpY2U6cHc="},
		{"empty bearer", "Bearer "},
		{"garbage", "Bearer not.a.jwt"},
		{"wrong secret", "Bearer " + sign(jwt.SigningMethodHS256, []byte("another secret"), valid)},
		{"alg none", "Bearer " + noneTok},
		{"expired", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Hour).Unix()})},
		{"no exp", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"sub": "alice"})},
		{"no sub", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"exp": now.Add(time.Hour).Unix()})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", b.url+base, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			res, err := b.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 401 {
				t.Errorf("status = %d, want 401", res.StatusCode)
			}
		})
	}
	// The envelope, through the checked helper.
	b.get(base, "").wantError(t, 401, "HTTP-401")
	b.get(base, sign(jwt.SigningMethodHS256, testSecret, valid)).wantStatus(t, 200)
	// A token from a time after the fake clock's "now" is not yet valid... but an
	// expired one becomes invalid when the clock moves.
	short, _ := token.MintHS256(testSecret, access.Principal{UserID: "alice", TenantID: "default"}, now, time.Minute)
	b.get(base, short).wantStatus(t, 200)
	b.clock.Advance(2 * time.Minute)
	b.get(base, short).wantError(t, 401, "HTTP-401")
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOpts) { o.cfg.RateLimits = api.RateLimits{Tier1PerMinute: 5, Tier2PerMinute: 3} })
	alice, bob := b.creator("alice"), b.creator("bob")
	// Tier 1: five reads, then 429.
	for range 5 {
		b.get(base+"/settings", alice).wantStatus(t, http.StatusOK)
	}
	b.get(base, alice).wantError(t, 429, "HTTP-429")
	b.get(base, bob).wantStatus(t, http.StatusOK)

	// Tier 2: three writes, then 429; reads stay limited only by tier 1.
	for range 3 {
		b.post(base, alice, map[string]any{"name": "n"}).wantStatus(t, http.StatusCreated)
	}
	r := b.post(base, alice, map[string]any{"name": "n"})
	r.wantError(t, 429, "HTTP-429")
	if ra := r.header.Get("Retry-After"); ra != "20" {
		t.Errorf("Retry-After = %q, want 20 (one token per 20 s)", ra)
	}
	// Other users are unaffected.
	b.post(base, bob, map[string]any{"name": "n"}).wantStatus(t, http.StatusCreated)
	// Time refills the bucket.
	b.clock.Advance(20 * time.Second)
	b.post(base, alice, map[string]any{"name": "n"}).wantStatus(t, http.StatusCreated)
	b.post(base, alice, map[string]any{"name": "n"}).wantError(t, 429, "HTTP-429")
	// 20 s also gave tier 1 (one token per 12 s) a token back.
	b.get(base, alice).wantStatus(t, http.StatusOK)
	b.get(base, alice).wantError(t, 429, "HTTP-429")
}

// TestNULText: NUL characters and broken UTF-8 are refused in bodies,
// paths and query parameters on both databases (PostgreSQL cannot store
// or compare them), while an escaped backslash before "u0000" is text.
func TestNULText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	b.post(base, alice, `{"name":"a\u0000b"}`).wantError(t, 400, "AUTOMATE-VALIDATION")
	b.post(base, alice, `{"name":"x","description":"\\\u0000"}`).wantError(t, 400, "AUTOMATE-VALIDATION")
	a := b.create(alice, `{"name":"a\\u0000b"}`)
	if a.Name != `a\u0000b` {
		t.Errorf("name %q", a.Name)
	}
	b.get(base+"/a%00b", alice).wantError(t, 400, "AUTOMATE-INVALID-PARAMETER")
	b.get(base+"/a%ffb", alice).wantError(t, 400, "AUTOMATE-INVALID-PARAMETER")
	b.get(base+"?filter=name%20eq%20%22a%00%22", alice).wantError(t, 400, "AUTOMATE-INVALID-PARAMETER")
	b.get("/api/v1/spaces?name=%00", alice).wantError(t, 400, "AUTOMATE-INVALID-PARAMETER")
	b.request("POST", "/api/v1/api-keys", alice, `{"description":"k\u0000"}`).wantError(t, 400, "AUTOMATE-VALIDATION")
	b.get(base+"/"+a.ID, alice).wantStatus(t, 200)
}
