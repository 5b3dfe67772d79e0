package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"automate/internal/access"
	"automate/internal/token"
)

// matrixCallers are the principals of the access matrix, by short name:
//
//	own      the automations' owner (AutomationCreator); not a member of the space
//	key      the owner's API key
//	oth      another AutomationCreator, in no space
//	ta, aa   TenantAdmin, AnalyticsAdmin
//	sown     the shared space's owner (SharedSpaceCreator, AutomationCreator)
//	con ctr dcn fac opr pro   members of the space with one role each (and AutomationCreator)
//	sc:a sc:ap sc:as sc:aa sc:ra sc:rp sc:rs sc:x   the owner with one scope each:
//	         automations, automations.private, automations.shared, admin.automations,
//	         admin.automation-runs, automation-runs.private, automation-runs.shared,
//	         and an unrelated one (apps)
//	ta:aa ta:ud   TenantAdmin with scope admin.automations, with user_default
//	xten     a TenantAdmin and AutomationCreator of another tenant, with the owner's user id
//	revoked expired unsigned foreign   the owner's revoked API key, an expired JWT,
//	         an unsigned JWT (alg none), a JWT signed with another secret: 401 everywhere
var matrixCallers = strings.Fields(`own key oth ta aa sown con ctr dcn fac opr pro
	sc:a sc:ap sc:as sc:aa sc:ra sc:rp sc:rs sc:x ta:aa ta:ud xten revoked expired unsigned foreign`)

// badAuth are the callers every endpoint answers 401.
var badAuth = []string{"revoked", "expired", "unsigned", "foreign"}

// allScoped are the owner's scoped tokens.
const allScoped = "sc:a sc:ap sc:as sc:aa sc:ra sc:rp sc:rs sc:x"

// members are the space's members.
const members = "con ctr dcn fac opr pro"

// expect is one row's expected statuses: each "status: callers" clause
// names callers; rest is the status of every caller not named (bad
// authentication is always 401).
type expect struct {
	clauses string
	rest    int
}

func (e expect) of(caller string) int {
	if slices.Contains(badAuth, caller) {
		return http.StatusUnauthorized
	}
	for _, clause := range strings.Split(e.clauses, ";") {
		status, names, ok := strings.Cut(clause, ":")
		if !ok {
			continue
		}
		var s int
		fmt.Sscan(strings.TrimSpace(status), &s)
		fields := strings.Fields(strings.NewReplacer("ALLSCOPED", allScoped, "MEMBERS", members).Replace(names))
		if slices.Contains(fields, caller) {
			return s
		}
	}
	return e.rest
}

// matrixEnv is the shared state of the matrix: tokens, the space, and
// helpers making fresh resources for the rows that change them.
type matrixEnv struct {
	b       *bundle
	tokens  map[string]string
	spaceID string
	ownerK  string // id of an active API key of the owner
	seq     atomic.Int64
}

func (m *matrixEnv) fresh(prefix string) string { return fmt.Sprintf("%s-%d", prefix, m.seq.Add(1)) }

// automation makes a fresh automation of the owner, in the space when
// shared, with one finished run; it returns the automation and run ids.
func (m *matrixEnv) automation(shared bool) (string, string) {
	body := map[string]any{"name": m.fresh("a"), "workspace": flow("manual", nil)}
	if shared {
		body["spaceId"] = m.spaceID
	}
	// The space's owner puts it there, then gives it to the owner: the
	// owner is not a member of the space.
	creator := m.tokens["own"]
	if shared {
		creator = m.tokens["sown"]
	}
	a := m.b.create(creator, body)
	if shared {
		m.b.post(base+"/"+a.ID+"/actions/change-owner", m.tokens["ta"], map[string]any{"userId": "owner"}).wantStatus(m.b.t, http.StatusNoContent)
	}
	var r runBody
	m.b.post(base+"/"+a.ID+"/runs", m.tokens["own"], map[string]any{"context": "api"}).decode(m.b.t, http.StatusCreated, &r)
	m.b.waitRun(m.tokens["own"], a.ID, r.ID)
	return a.ID, r.ID
}

// space makes a fresh space of sown with the members assigned.
func (m *matrixEnv) space() string {
	var sp struct {
		ID string `json:"id"`
	}
	m.b.post(spaces, m.tokens["sown"], map[string]any{"name": m.fresh("space"), "type": "shared"}).decode(m.b.t, http.StatusCreated, &sp)
	for _, role := range access.SpaceRoles {
		short := map[string]string{"consumer": "con", "contributor": "ctr", "dataconsumer": "dcn", "facilitator": "fac",
			"operator": "opr", "producer": "pro"}[role]
		m.b.post(spaces+"/"+sp.ID+"/assignments", m.tokens["sown"], map[string]any{"type": "user", "assigneeId": short,
			"roles": []string{role}}).wantStatus(m.b.t, http.StatusCreated)
	}
	return sp.ID
}

func (m *matrixEnv) assignment(spaceID string) string {
	var a struct {
		ID string `json:"id"`
	}
	m.b.post(spaces+"/"+spaceID+"/assignments", m.tokens["sown"], map[string]any{"type": "user", "assigneeId": m.fresh("newbie"),
		"roles": []string{"consumer"}}).decode(m.b.t, http.StatusCreated, &a)
	return a.ID
}

func (m *matrixEnv) apiKey() string {
	var k struct {
		ID string `json:"id"`
	}
	m.b.post("/api/v1/api-keys", m.tokens["own"], map[string]any{"description": m.fresh("key")}).decode(m.b.t, http.StatusCreated, &k)
	return k.ID
}

const spaces = "/api/v1/spaces"

// matrixRow is one endpoint on one kind of resource.
type matrixRow struct {
	name string
	// do sends the request as bearer; it may make fresh resources first.
	do   func(m *matrixEnv, bearer string) response
	want expect
}

// onAutomation is a row on a fresh automation (personal or in the space).
func onAutomation(shared bool, method, suffix string, body any) func(m *matrixEnv, bearer string) response {
	return func(m *matrixEnv, bearer string) response {
		id, runID := m.automation(shared)
		path := base + "/" + id + strings.ReplaceAll(suffix, "{run}", runID)
		if s, ok := body.(string); ok && s == "space" {
			return m.b.request(method, path, bearer, map[string]any{"spaceId": m.spaceID})
		}
		return m.b.request(method, path, bearer, body)
	}
}

func matrixRows() []matrixRow {
	var rows []matrixRow
	add := func(name string, do func(m *matrixEnv, bearer string) response, clauses string, rest int) {
		rows = append(rows, matrixRow{name, do, expect{clauses, rest}})
	}
	for _, kind := range []struct {
		name   string
		shared bool
		// The expectations differ by where the automation lives.
		read, edit, del, owner, run, runsRead, manage, retry string
	}{
		{
			name:     "personal",
			read:     "200: own key ta aa sc:a sc:ap sc:aa ta:aa; 403: sc:as sc:ra sc:rp sc:rs sc:x ta:ud",
			edit:     "OK: own key sc:a sc:ap sc:aa; 403: ta aa sc:as sc:ra sc:rp sc:rs sc:x ta:aa ta:ud",
			del:      "OK: own key ta aa sc:a sc:ap sc:aa ta:aa; 403: sc:as sc:ra sc:rp sc:rs sc:x ta:ud",
			owner:    "OK: ta aa ta:aa; 403: own key ALLSCOPED ta:ud",
			run:      "OK: own key sc:a sc:ap; 403: ta aa sc:as sc:aa sc:ra sc:rp sc:rs sc:x ta:aa ta:ud",
			runsRead: "OK: own key ta aa sc:a sc:ap sc:ra sc:rp; 403: sc:as sc:aa sc:rs sc:x ta:aa ta:ud",
			manage:   "OK: own key ta aa sc:a sc:ap sc:aa ta:aa; 403: sc:as sc:ra sc:rp sc:rs sc:x ta:ud",
			retry:    "OK: own key sc:a sc:ap; 403: ta aa sc:as sc:aa sc:ra sc:rp sc:rs sc:x ta:aa ta:ud",
		},
		{
			name: "shared", shared: true,
			read:     "200: own key ta aa sown MEMBERS sc:a sc:as sc:aa ta:aa; 403: sc:ap sc:ra sc:rp sc:rs sc:x ta:ud",
			edit:     "OK: own key sown fac pro sc:a sc:as sc:aa; 403: ta aa con ctr dcn opr sc:ap sc:ra sc:rp sc:rs sc:x ta:aa ta:ud",
			del:      "OK: own key ta aa sown fac pro sc:a sc:as sc:aa ta:aa; 403: con ctr dcn opr sc:ap sc:ra sc:rp sc:rs sc:x ta:ud",
			owner:    "OK: ta aa ta:aa; 403: own key sown MEMBERS ALLSCOPED ta:ud",
			run:      "OK: own key sown fac opr pro sc:a sc:as; 403: ta aa con ctr dcn sc:ap sc:aa sc:ra sc:rp sc:rs sc:x ta:aa ta:ud",
			runsRead: "OK: own key ta aa sown fac opr pro sc:a sc:as sc:ra sc:rs; 403: con ctr dcn sc:ap sc:aa sc:rp sc:x ta:aa ta:ud",
			manage:   "OK: own key ta aa sown fac opr pro sc:a sc:as sc:aa ta:aa; 403: con ctr dcn sc:ap sc:ra sc:rp sc:rs sc:x ta:ud",
			retry:    "OK: own key sown fac opr pro sc:a sc:as; 403: ta aa con ctr dcn sc:ap sc:aa sc:ra sc:rp sc:rs sc:x ta:aa ta:ud",
		},
	} {
		ok := func(clauses string, status int) string { return strings.ReplaceAll(clauses, "OK", fmt.Sprint(status)) }
		sh, n := kind.shared, " ("+kind.name+")"
		add("get"+n, onAutomation(sh, "GET", "", nil), kind.read, 404)
		add("update"+n, onAutomation(sh, "PUT", "", map[string]any{"description": "x"}), ok(kind.edit, 200), 404)
		add("copy"+n, onAutomation(sh, "POST", "/actions/copy", map[string]any{"name": "c"}), ok(kind.edit, 201), 404)
		add("delete"+n, onAutomation(sh, "DELETE", "", nil), ok(kind.del, 204), 404)
		add("enable"+n, onAutomation(sh, "POST", "/actions/enable", nil), ok(kind.del, 204), 404)
		add("disable"+n, onAutomation(sh, "POST", "/actions/disable", nil), ok(kind.del, 204), 404)
		add("change-owner"+n, onAutomation(sh, "POST", "/actions/change-owner", map[string]any{"userId": "newowner"}), ok(kind.owner, 204), 404)
		add("move"+n, onAutomation(sh, "POST", "/actions/move", map[string]any{"userId": "newowner"}), ok(kind.owner, 204), 404)
		add("list runs"+n, onAutomation(sh, "GET", "/runs", nil), ok(kind.runsRead, 200), 404)
		add("get run"+n, onAutomation(sh, "GET", "/runs/{run}", nil), ok(kind.runsRead, 200), 404)
		add("debug log"+n, onAutomation(sh, "GET", "/runs/{run}/debug", nil), ok(kind.runsRead, 200), 404)
		add("create run"+n, onAutomation(sh, "POST", "/runs", map[string]any{"context": "api"}), ok(kind.run, 201), 404)
		add("stop run"+n, onAutomation(sh, "POST", "/runs/{run}/actions/stop", nil), ok(kind.manage, 204), 404)
		add("export run"+n, onAutomation(sh, "POST", "/runs/{run}/actions/export", nil), ok(kind.runsRead, 200), 404)
		add("retry run"+n, onAutomation(sh, "POST", "/runs/{run}/actions/retry", nil), ok(kind.retry, 204), 404)
	}
	// Into the space: the mover must be allowed to move it and to add to
	// the space; a space the caller cannot see is "not found" (400).
	add("change-space to the space (personal)", onAutomation(false, "POST", "/actions/change-space", "space"),
		"204: ta ta:aa; 400: own key aa sc:a sc:ap sc:aa; 403: sc:as sc:ra sc:rp sc:rs sc:x ta:ud", 404)
	add("change-space to personal (shared)", onAutomation(true, "POST", "/actions/change-space", map[string]any{"spaceId": ""}),
		"204: own key ta aa sc:a sc:as sc:aa ta:aa; 403: sown MEMBERS sc:ap sc:ra sc:rp sc:rs sc:x ta:ud", 404)

	// Tenant-level endpoints; xten acts in its own tenant.
	get := func(path string) func(m *matrixEnv, bearer string) response {
		return func(m *matrixEnv, bearer string) response { return m.b.get(path, bearer) }
	}
	add("list automations", get(base), "403: sc:ra sc:rp sc:rs sc:x ta:ud", 200)
	add("list all automations", get(base+"?listAll=true"), "200: ta aa ta:aa xten", 403)
	add("create automation", func(m *matrixEnv, bearer string) response {
		return m.b.post(base, bearer, map[string]any{"name": m.fresh("new")})
	}, "201: own key oth sown MEMBERS sc:a sc:ap sc:as sc:aa xten", 403)
	add("create automation in the space", func(m *matrixEnv, bearer string) response {
		return m.b.post(base, bearer, map[string]any{"name": m.fresh("new"), "spaceId": m.spaceID})
	}, "201: sown ctr fac pro; 400: own key oth sc:a sc:ap sc:as sc:aa xten; 403: con dcn opr ta aa ta:aa ta:ud sc:ra sc:rp sc:rs sc:x", 0)
	add("get settings", get(base+"/settings"), "403: sc:ra sc:rp sc:rs sc:x ta:ud", 200)
	add("put settings", func(m *matrixEnv, bearer string) response {
		return m.b.request("PUT", base+"/settings", bearer, map[string]any{"maxConcurrentRunsPerAutomation": 10})
	}, "200: ta ta:aa xten", 403)
	add("usage", get(base+"/usage?filter="+q(`name eq "runs"`)), "200: ta aa ta:aa xten", 403)

	// Spaces.
	userScoped := "403: ALLSCOPED ta:aa"
	add("list spaces", get(spaces), userScoped, 200)
	add("create space", func(m *matrixEnv, bearer string) response {
		return m.b.post(spaces, bearer, map[string]any{"name": m.fresh("sp"), "type": "shared"})
	}, "201: ta sown ta:ud xten", 403)
	spaceRead := "200: ta sown MEMBERS ta:ud; 403: ta:aa"
	add("get space", func(m *matrixEnv, bearer string) response { return m.b.get(spaces+"/"+m.spaceID, bearer) }, spaceRead, 404)
	add("patch space", func(m *matrixEnv, bearer string) response {
		return m.b.request("PATCH", spaces+"/"+m.space(), bearer, []map[string]any{{"op": "replace", "path": "/description", "value": "d"}})
	}, "200: ta sown fac ta:ud; 403: con ctr dcn opr pro ta:aa", 404)
	add("put space", func(m *matrixEnv, bearer string) response {
		return m.b.request("PUT", spaces+"/"+m.space(), bearer, map[string]any{"description": "d"})
	}, "200: ta sown fac ta:ud; 403: con ctr dcn opr pro ta:aa", 404)
	add("delete space", func(m *matrixEnv, bearer string) response {
		return m.b.request("DELETE", spaces+"/"+m.space(), bearer, nil)
	}, "204: ta sown ta:ud; 403: MEMBERS ta:aa", 404)
	add("list assignments", func(m *matrixEnv, bearer string) response {
		return m.b.get(spaces+"/"+m.spaceID+"/assignments", bearer)
	}, spaceRead, 404)
	manage := "OK: ta sown fac ta:ud; 403: con ctr dcn opr pro ta:aa"
	add("create assignment", func(m *matrixEnv, bearer string) response {
		return m.b.post(spaces+"/"+m.spaceID+"/assignments", bearer, map[string]any{"type": "user", "assigneeId": m.fresh("u"), "roles": []string{"consumer"}})
	}, strings.ReplaceAll(manage, "OK", "201"), 404)
	add("get assignment", func(m *matrixEnv, bearer string) response {
		return m.b.get(spaces+"/"+m.spaceID+"/assignments/"+m.assignment(m.spaceID), bearer)
	}, spaceRead, 404)
	add("put assignment", func(m *matrixEnv, bearer string) response {
		return m.b.request("PUT", spaces+"/"+m.spaceID+"/assignments/"+m.assignment(m.spaceID), bearer, map[string]any{"roles": []string{"operator"}})
	}, strings.ReplaceAll(manage, "OK", "200"), 404)
	add("delete assignment", func(m *matrixEnv, bearer string) response {
		return m.b.request("DELETE", spaces+"/"+m.spaceID+"/assignments/"+m.assignment(m.spaceID), bearer, nil)
	}, strings.ReplaceAll(manage, "OK", "204"), 404)

	// API keys and the caller.
	add("create API key", func(m *matrixEnv, bearer string) response {
		return m.b.post("/api/v1/api-keys", bearer, map[string]any{"description": "k"})
	}, "403: key ALLSCOPED ta:aa", 201)
	add("list API keys", get("/api/v1/api-keys"), userScoped, 200)
	add("get API key", func(m *matrixEnv, bearer string) response { return m.b.get("/api/v1/api-keys/"+m.ownerK, bearer) },
		"200: own key ta ta:ud; 403: ALLSCOPED ta:aa", 404)
	add("revoke API key", func(m *matrixEnv, bearer string) response {
		return m.b.request("DELETE", "/api/v1/api-keys/"+m.apiKey(), bearer, nil)
	}, "204: own key ta ta:ud; 403: ALLSCOPED ta:aa", 404)
	add("users/me", get("/api/v1/users/me"), userScoped, 200)
	return rows
}

// TestAccessMatrix sends every endpoint of the automations, runs, usage,
// settings, spaces and API-keys APIs as every kind of principal, and
// compares each status with the table in matrixRows.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := &matrixEnv{b: b, tokens: map[string]string{}}
	creator := []string{access.RoleAutomationCreator}
	set := func(name string, p access.Principal) { m.tokens[name] = tok(b, p) }
	set("own", access.Principal{UserID: "owner", Roles: creator})
	set("oth", access.Principal{UserID: "other", Roles: creator})
	set("ta", access.Principal{UserID: "ta", Roles: []string{access.RoleTenantAdmin}})
	set("aa", access.Principal{UserID: "aa", Roles: []string{access.RoleAnalyticsAdmin}})
	set("sown", access.Principal{UserID: "sown", Roles: []string{access.RoleSharedSpaceCreator, access.RoleAutomationCreator}})
	for _, short := range strings.Fields(members) {
		set(short, access.Principal{UserID: short, Roles: creator})
	}
	for short, scope := range map[string]string{"sc:a": "automations", "sc:ap": "automations.private", "sc:as": "automations.shared",
		"sc:aa": "admin.automations", "sc:ra": "admin.automation-runs", "sc:rp": "automation-runs.private",
		"sc:rs": "automation-runs.shared", "sc:x": "apps"} {
		set(short, access.Principal{UserID: "owner", Roles: creator, Scoped: true, Scopes: []string{scope}})
	}
	set("ta:aa", access.Principal{UserID: "ta", Roles: []string{access.RoleTenantAdmin}, Scoped: true, Scopes: []string{"admin.automations"}})
	set("ta:ud", access.Principal{UserID: "ta", Roles: []string{access.RoleTenantAdmin}, Scoped: true, Scopes: []string{"user_default"}})
	set("xten", access.Principal{TenantID: "t2", UserID: "owner", Roles: []string{access.RoleTenantAdmin, access.RoleAutomationCreator}})
	expired, err := token.MintHS256(testSecret, access.Principal{TenantID: token.DefaultTenant, UserID: "owner", Roles: creator},
		b.clock.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m.tokens["expired"] = expired
	foreign, err := token.MintHS256([]byte("another-secret-of-enough-length-for-hs256"), access.Principal{TenantID: token.DefaultTenant,
		UserID: "owner", Roles: creator}, b.clock.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m.tokens["foreign"] = foreign
	seg := func(v any) string { j, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(j) }
	m.tokens["unsigned"] = seg(map[string]string{"alg": "none", "typ": "JWT"}) + "." +
		seg(map[string]any{"sub": "owner", "roles": creator, "exp": b.clock.Now().Add(time.Hour).Unix()}) + "."

	// The owner's keys: one to act with, one to read, one revoked.
	newKey := func() (id, secret string) {
		var k struct{ ID, Token string }
		b.post("/api/v1/api-keys", m.tokens["own"], map[string]any{"description": "matrix"}).decode(t, http.StatusCreated, &k)
		return k.ID, k.Token
	}
	_, m.tokens["key"] = newKey()
	m.ownerK, _ = newKey()
	revokedID, revoked := newKey()
	b.request("DELETE", "/api/v1/api-keys/"+revokedID, m.tokens["own"], nil).wantStatus(t, http.StatusNoContent)
	m.tokens["revoked"] = revoked
	m.spaceID = m.space()
	// Members and admins are users the server has seen.
	for _, name := range matrixCallers {
		if !slices.Contains(badAuth, name) {
			b.get("/api/v1/users/me", m.tokens[name])
		}
	}

	rows := matrixRows()
	cells := 0
	for _, row := range rows {
		for _, caller := range matrixCallers {
			want := row.want.of(caller)
			if want == 0 {
				t.Fatalf("%s: no expectation for %s", row.name, caller)
			}
			got := row.do(m, m.tokens[caller])
			cells++
			if got.status != want {
				t.Errorf("%s as %s: status %d, want %d; body %.300s", row.name, caller, got.status, want, got.body)
				continue
			}
			if want >= 400 {
				var env errorEnvelope
				if err := json.Unmarshal(got.body, &env); err != nil || len(env.Errors) == 0 || env.Errors[0].Code == "" || env.TraceID == "" {
					t.Errorf("%s as %s: %d without the error envelope: %s", row.name, caller, got.status, got.body)
				}
			}
		}
	}
	t.Logf("access matrix: %d endpoints × %d principals = %d cells", len(rows), len(matrixCallers), cells)
}
