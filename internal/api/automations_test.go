package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"automate/internal/access"
)

const base = "/api/workflows/automations"

var (
	tokenPattern = regexp.MustCompile(`^[A-Za-z0-9]{64}$`)
	timePattern  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$`)
)

func exampleWorkspace(t *testing.T) json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile("../../../shared/reference/examples/user-created-add-to-space.json")
	if err != nil {
		t.Fatalf("the example workspace from shared/reference: %v", err)
	}
	return raw
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func TestCreateAndGet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	ws := exampleWorkspace(t)

	a := b.create(alice, map[string]any{"name": "Add users to spaces", "description": "from the example", "workspace": ws, "unknownField": 1})
	if a.Name != "Add users to spaces" || a.Description != "from the example" || a.OwnerID != "alice" || a.State != "available" {
		t.Errorf("created = %+v", a)
	}
	if a.SpaceID != nil {
		t.Errorf("spaceId = %q, want absent (personal space)", *a.SpaceID)
	}
	if a.RunMode != "webhook" {
		t.Errorf("runMode = %q, want webhook (from the StartBlock)", a.RunMode)
	}
	if want := []string{"61a87510-c7a3-11ea-95da-0fb0c241e75c"}; !slices.Equal(a.ConnectorIDs, want) {
		t.Errorf("connectorIds = %v, want %v", a.ConnectorIDs, want)
	}
	if len(a.EndpointIDs) != 2 || !slices.Contains(a.EndpointIDs, "272d9c70-6d31-11eb-870f-67624392ed86") {
		t.Errorf("endpointIds = %v", a.EndpointIDs)
	}
	if len(a.SnippetIDs) != 0 {
		t.Errorf("snippetIds = %v, want none", a.SnippetIDs)
	}
	if !tokenPattern.MatchString(a.ExecutionToken) {
		t.Errorf("executionToken = %q", a.ExecutionToken)
	}
	if a.MaxConcurrentRuns != 1 {
		t.Errorf("maxConcurrentRuns = %d, want default 1", a.MaxConcurrentRuns)
	}
	if !timePattern.MatchString(a.CreatedAt) || a.CreatedAt != a.UpdatedAt || a.CreatedAt != "2026-01-02T03:04:05.000000Z" {
		t.Errorf("createdAt %q updatedAt %q", a.CreatedAt, a.UpdatedAt)
	}
	if !jsonEqual(t, a.Workspace, ws) {
		t.Errorf("workspace changed on the way in")
	}

	var got automationBody
	b.get(base+"/"+a.ID, alice).decode(t, http.StatusOK, &got)
	if got.ID != a.ID || got.ExecutionToken != a.ExecutionToken || !jsonEqual(t, got.Workspace, ws) || got.Schedules == nil {
		t.Errorf("get = %+v", got)
	}

	// A whole GET response can be posted back: read-only fields are ignored.
	var again automationBody
	b.post(base, alice, got).decode(t, http.StatusCreated, &again)
	if again.ID == got.ID || again.ExecutionToken == got.ExecutionToken || again.Name != got.Name {
		t.Errorf("re-posted = %+v", again)
	}

	// Tokens are unique.
	if c := b.create(alice, map[string]any{"name": "other"}); c.ExecutionToken == a.ExecutionToken {
		t.Error("two automations share an execution token")
	}
}

func TestCreateDefaults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.create(b.creator("alice"), map[string]any{"name": "bare"})
	if a.RunMode != "manual" || string(a.Workspace) != "{}" || a.ConnectorIDs == nil || len(a.ConnectorIDs) != 0 {
		t.Errorf("bare automation = %+v", a)
	}
	a = b.create(b.creator("alice"), map[string]any{"name": "triggered", "maxConcurrentRuns": 10,
		"workspace": map[string]any{"blocks": []any{map[string]any{"type": "StartBlock", "inputs": []any{map[string]any{"id": "run_mode", "value": "triggered"}}}}}})
	if a.RunMode != "triggered" || a.MaxConcurrentRuns != 10 {
		t.Errorf("triggered automation = %+v", a)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "before", "description": "keep me", "maxConcurrentRuns": 3})
	b.clock.Advance(90 * time.Second)

	var u automationBody
	b.request("PUT", base+"/"+a.ID, alice, map[string]any{
		"name":      "after",
		"workspace": map[string]any{"blocks": []any{map[string]any{"type": "StartBlock", "inputs": []any{map[string]any{"id": "run_mode", "value": "triggered"}}}}},
	}).decode(t, http.StatusOK, &u)
	if u.Name != "after" || u.Description != "keep me" || u.MaxConcurrentRuns != 3 || u.RunMode != "triggered" {
		t.Errorf("updated = %+v", u)
	}
	if u.CreatedAt != a.CreatedAt || u.UpdatedAt != "2026-01-02T03:05:35.000000Z" || u.ExecutionToken != a.ExecutionToken {
		t.Errorf("timestamps/token after update: %+v", u)
	}
	var got automationBody
	b.get(base+"/"+a.ID, alice).decode(t, http.StatusOK, &got)
	if got.Name != "after" || got.RunMode != "triggered" {
		t.Errorf("get after update = %+v", got)
	}

	b.request("PUT", base+"/"+a.ID, alice, map[string]any{"maxConcurrentRuns": 11}).wantError(t, 400, "AUTOMATE-VALIDATION")
	b.request("PUT", base+"/"+a.ID, alice, map[string]any{"name": ""}).wantError(t, 400, "AUTOMATE-VALIDATION")
	b.request("PUT", base+"/nope", alice, map[string]any{"name": "x"}).wantError(t, 404, "HTTP-404")
}

func TestDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "doomed"})
	b.request("DELETE", base+"/"+a.ID, alice, nil).wantStatus(t, http.StatusNoContent)
	b.get(base+"/"+a.ID, alice).wantError(t, 404, "HTTP-404")
	b.request("DELETE", base+"/"+a.ID, alice, nil).wantError(t, 404, "HTTP-404")
}

func TestCopy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "original", "description": "d", "maxConcurrentRuns": 4, "workspace": exampleWorkspace(t)})
	b.post(base+"/"+a.ID+"/actions/disable", alice, nil).wantStatus(t, http.StatusNoContent)

	var out struct{ ID string }
	b.post(base+"/"+a.ID+"/actions/copy", alice, map[string]any{"name": "the copy"}).decode(t, http.StatusCreated, &out)
	var c automationBody
	b.get(base+"/"+out.ID, alice).decode(t, http.StatusOK, &c)
	if c.Name != "the copy" || c.Description != "d" || c.MaxConcurrentRuns != 4 || c.RunMode != "webhook" ||
		c.OwnerID != "alice" || c.State != "available" || c.ExecutionToken == a.ExecutionToken || !jsonEqual(t, c.Workspace, a.Workspace) {
		t.Errorf("copy = %+v", c)
	}
	b.post(base+"/"+a.ID+"/actions/copy", alice, map[string]any{}).wantError(t, 400, "AUTOMATE-VALIDATION")
	b.post(base+"/"+a.ID+"/actions/copy", alice, map[string]any{"name": " "}).wantError(t, 400, "AUTOMATE-VALIDATION")
	b.post(base+"/missing/actions/copy", alice, map[string]any{"name": "x"}).wantError(t, 404, "HTTP-404")
}

func TestEnableDisable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "switch"})
	state := func() string {
		var got automationBody
		b.get(base+"/"+a.ID, alice).decode(t, http.StatusOK, &got)
		return got.State
	}
	b.post(base+"/"+a.ID+"/actions/disable", alice, nil).wantStatus(t, http.StatusNoContent)
	if s := state(); s != "disabled" {
		t.Errorf("after disable: %s", s)
	}
	b.post(base+"/"+a.ID+"/actions/disable", alice, nil).wantStatus(t, http.StatusNoContent)
	b.post(base+"/"+a.ID+"/actions/enable", alice, nil).wantStatus(t, http.StatusNoContent)
	if s := state(); s != "available" {
		t.Errorf("after enable: %s", s)
	}
}

func TestChangeOwnerAndMove(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice, bob := b.creator("alice"), b.creator("bob")
	admin := b.user("root", access.RoleTenantAdmin)
	for _, action := range []string{"change-owner", "move"} {
		a := b.create(alice, map[string]any{"name": action})
		// The owner may not give it away; another user may not know it exists.
		b.post(base+"/"+a.ID+"/actions/"+action, alice, map[string]any{"userId": "bob"}).wantError(t, 403, "HTTP-403")
		b.post(base+"/"+a.ID+"/actions/"+action, bob, map[string]any{"userId": "bob"}).wantError(t, 404, "HTTP-404")
		b.post(base+"/"+a.ID+"/actions/"+action, admin, map[string]any{}).wantError(t, 400, "AUTOMATE-VALIDATION")
		b.post(base+"/"+a.ID+"/actions/"+action, admin, map[string]any{"userId": "bob"}).wantStatus(t, http.StatusNoContent)

		b.get(base+"/"+a.ID, alice).wantError(t, 404, "HTTP-404")
		var got automationBody
		b.get(base+"/"+a.ID, bob).decode(t, http.StatusOK, &got)
		if got.OwnerID != "bob" {
			t.Errorf("%s: owner = %q", action, got.OwnerID)
		}
	}
	b.post(base+"/missing/actions/change-owner", admin, map[string]any{"userId": "bob"}).wantError(t, 404, "HTTP-404")
}

// TestSpaces walks shared spaces through the API: creation, names, types,
// members, automations in them, and deletion.
func TestSpaces(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	lead := b.user("lead", access.RoleSharedSpaceCreator, access.RoleAutomationCreator)
	b.post(base, alice, map[string]any{"name": "x", "spaceId": "5f0f78b239ff4f0001234567"}).wantError(t, 400, "AUTOMATE-SPACE-NOT-FOUND")

	b.post("/api/v1/spaces", alice, map[string]any{"name": "team", "type": "shared"}).wantError(t, 403, "HTTP-403")
	b.post("/api/v1/spaces", lead, map[string]any{"name": "team", "type": "managed"}).wantError(t, 400, "AUTOMATE-VALIDATION")
	b.post("/api/v1/spaces", lead, map[string]any{"name": " ", "type": "shared"}).wantError(t, 400, "AUTOMATE-VALIDATION")
	var sp struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		OwnerID string `json:"ownerId"`
		Type    string `json:"type"`
		Meta    struct {
			Actions []string `json:"actions"`
		} `json:"meta"`
	}
	b.post("/api/v1/spaces", lead, map[string]any{"name": "team", "type": "shared"}).decode(t, http.StatusCreated, &sp)
	if sp.OwnerID != "lead" || sp.Type != "shared" || !slices.Contains(sp.Meta.Actions, "delete") {
		t.Errorf("space %+v", sp)
	}
	b.post("/api/v1/spaces", lead, map[string]any{"name": "team", "type": "shared"}).wantError(t, 409, "HTTP-409")
	spacePath := "/api/v1/spaces/" + sp.ID

	// Alice is not a member: the space is hidden from her.
	b.get(spacePath, alice).wantError(t, 404, "HTTP-404")
	b.post(base, alice, map[string]any{"name": "x", "spaceId": sp.ID}).wantError(t, 400, "AUTOMATE-SPACE-NOT-FOUND")
	for _, bad := range []map[string]any{
		{"type": "group", "assigneeId": "alice", "roles": []string{"producer"}},
		{"type": "user", "assigneeId": "", "roles": []string{"producer"}},
		{"type": "user", "assigneeId": "alice", "roles": []string{}},
		{"type": "user", "assigneeId": "alice", "roles": []string{"editor"}},
		{"type": "user", "assigneeId": "alice", "roles": []string{"producer", "producer"}},
	} {
		b.post(spacePath+"/assignments", lead, bad).wantError(t, 400, "AUTOMATE-VALIDATION")
	}
	var asg struct {
		ID string `json:"id"`
	}
	b.post(spacePath+"/assignments", lead, map[string]any{"type": "user", "assigneeId": "alice", "roles": []string{"consumer"}}).
		decode(t, http.StatusCreated, &asg)
	b.post(spacePath+"/assignments", lead, map[string]any{"type": "user", "assigneeId": "alice", "roles": []string{"producer"}}).
		wantError(t, 409, "HTTP-409")
	// A consumer sees the space but may not add to it.
	b.get(spacePath, alice).wantStatus(t, http.StatusOK)
	b.post(base, alice, map[string]any{"name": "x", "spaceId": sp.ID}).wantError(t, 403, "HTTP-403")
	b.request("PUT", spacePath+"/assignments/"+asg.ID, lead, map[string]any{"roles": []string{"producer"}}).wantStatus(t, http.StatusOK)
	a := b.create(alice, map[string]any{"name": "in the space", "spaceId": sp.ID})
	if a.SpaceID == nil || *a.SpaceID != sp.ID {
		t.Fatalf("created in space %v", a.SpaceID)
	}
	mine := b.create(alice, map[string]any{"name": "personal"})
	b.post(base+"/"+mine.ID+"/actions/change-space", alice, map[string]any{"spaceId": sp.ID}).wantStatus(t, http.StatusNoContent)
	b.post(base+"/"+mine.ID+"/actions/change-space", b.creator("bob"), map[string]any{"spaceId": sp.ID}).wantError(t, 404, "HTTP-404")
	b.post(base+"/"+mine.ID+"/actions/change-space", alice, map[string]any{"spaceId": "5f0f78b239ff4f0001234567"}).
		wantError(t, 400, "AUTOMATE-SPACE-NOT-FOUND")

	// A space holding automations cannot be deleted.
	b.request("DELETE", spacePath, lead, nil).wantError(t, 409, "HTTP-409")
	b.request("DELETE", base+"/"+a.ID, alice, nil).wantStatus(t, http.StatusNoContent)
	// Back to the personal space: an empty or absent spaceId.
	b.post(base+"/"+mine.ID+"/actions/change-space", alice, map[string]any{}).wantStatus(t, http.StatusNoContent)
	var got automationBody
	b.get(base+"/"+mine.ID, alice).decode(t, http.StatusOK, &got)
	if got.SpaceID != nil && *got.SpaceID != "" {
		t.Errorf("back in the personal space, spaceId %q", *got.SpaceID)
	}
	b.request("DELETE", spacePath, lead, nil).wantStatus(t, http.StatusNoContent)
	b.get(spacePath, lead).wantError(t, 404, "HTTP-404")
	// The member's assignment went with it.
	b.get(spacePath+"/assignments/"+asg.ID, b.user("root", access.RoleTenantAdmin)).wantError(t, 404, "HTTP-404")
}

func TestSettings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	plain := b.user("nobody")
	admin := b.user("root", access.RoleTenantAdmin)
	analytics := b.user("analyst", access.RoleAnalyticsAdmin)
	type settings struct {
		Max int `json:"maxConcurrentRunsPerAutomation"`
	}
	var s settings
	b.get(base+"/settings", plain).decode(t, http.StatusOK, &s)
	if s.Max != 10 {
		t.Errorf("default = %d, want 10", s.Max)
	}
	b.request("PUT", base+"/settings", alice, map[string]int{"maxConcurrentRunsPerAutomation": 20}).wantError(t, 403, "HTTP-403")
	b.request("PUT", base+"/settings", analytics, map[string]int{"maxConcurrentRunsPerAutomation": 20}).wantError(t, 403, "HTTP-403")
	b.request("PUT", base+"/settings", admin, map[string]int{"maxConcurrentRunsPerAutomation": 0}).wantError(t, 400, "AUTOMATE-VALIDATION")
	b.request("PUT", base+"/settings", admin, map[string]int{}).wantError(t, 400, "AUTOMATE-VALIDATION")
	b.request("PUT", base+"/settings", admin, map[string]int{"maxConcurrentRunsPerAutomation": 20}).decode(t, http.StatusOK, &s)
	if s.Max != 20 {
		t.Errorf("after put = %d", s.Max)
	}
	a := b.create(alice, map[string]any{"name": "busy", "maxConcurrentRuns": 15})
	b.request("PUT", base+"/settings", admin, map[string]int{"maxConcurrentRunsPerAutomation": 12}).wantError(t, 409, "AUTOMATE-SETTINGS-CONFLICT")
	b.get(base+"/settings", plain).decode(t, http.StatusOK, &s)
	if s.Max != 20 {
		t.Errorf("a refused put changed the setting to %d", s.Max)
	}
	b.request("PUT", base+"/settings", admin, map[string]int{"maxConcurrentRunsPerAutomation": 15}).decode(t, http.StatusOK, &s)
	b.request("PUT", base+"/"+a.ID, alice, map[string]any{"maxConcurrentRuns": 16}).wantError(t, 400, "AUTOMATE-VALIDATION")

	// Another tenant has its own settings.
	other := tok(b, access.Principal{TenantID: "t2", UserID: "x"})
	b.get(base+"/settings", other).decode(t, http.StatusOK, &s)
	if s.Max != 10 {
		t.Errorf("other tenant sees %d", s.Max)
	}
}

// TestCopyInSpace: a copy stays in the space when its maker may add there,
// and lands in the maker's personal space otherwise.
func TestCopyInSpace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	lead := b.user("lead", access.RoleSharedSpaceCreator, access.RoleAutomationCreator)
	alice := b.creator("alice")
	var sp struct{ ID string }
	b.post("/api/v1/spaces", lead, map[string]any{"name": "team", "type": "shared"}).decode(t, http.StatusCreated, &sp)
	var asg struct{ ID string }
	b.post("/api/v1/spaces/"+sp.ID+"/assignments", lead, map[string]any{"type": "user", "assigneeId": "alice",
		"roles": []string{"producer"}}).decode(t, http.StatusCreated, &asg)
	a := b.create(alice, map[string]any{"name": "shared one", "spaceId": sp.ID})
	copyTo := func() string {
		var c struct{ ID string }
		b.post(base+"/"+a.ID+"/actions/copy", alice, map[string]any{"name": "copy"}).decode(t, http.StatusCreated, &c)
		var got automationBody
		b.get(base+"/"+c.ID, alice).decode(t, http.StatusOK, &got)
		if got.SpaceID == nil {
			return ""
		}
		return *got.SpaceID
	}
	if s := copyTo(); s != sp.ID {
		t.Errorf("a producer's copy is in space %q, want %q", s, sp.ID)
	}
	// Alice leaves the space; she still owns the automation and may copy it.
	b.request("DELETE", "/api/v1/spaces/"+sp.ID+"/assignments/"+asg.ID, lead, nil).wantStatus(t, http.StatusNoContent)
	if s := copyTo(); s != "" {
		t.Errorf("a non-member's copy is in space %q, want her personal space", s)
	}
}
