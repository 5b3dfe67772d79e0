package api_test

import (
	"net/http"
	"testing"
	"time"

	"automate/internal/access"
)

type apiKeyBody struct {
	ID     string `json:"id"`
	Sub    string `json:"sub"`
	Status string `json:"status"`
	Expiry string `json:"expiry"`
	Token  string `json:"token"`
}

// TestAPIKeys: a key acts as its user with the roles the user had when it
// was made and still has; it expires and is revoked on the next request.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.user("root", access.RoleTenantAdmin)
	settings := map[string]any{"maxConcurrentRunsPerAutomation": 10}

	for _, bad := range []map[string]any{
		{"description": ""},
		{"description": "x", "expiry": "7 days"},
		{"description": "x", "expiry": "P20Y"},
		{"description": "x", "subType": "externalClient"},
	} {
		b.post("/api/v1/api-keys", root, bad).wantError(t, 400, "AUTOMATE-VALIDATION")
	}
	b.post("/api/v1/api-keys", root, map[string]any{"description": "x", "sub": "someone"}).wantError(t, 403, "HTTP-403")

	var k apiKeyBody
	b.post("/api/v1/api-keys", root, map[string]any{"description": "admin key", "expiry": "PT2H"}).decode(t, http.StatusCreated, &k)
	if k.Sub != "root" || k.Status != "active" || k.Token == "" || k.Expiry != "2026-01-02T05:04:05.000000Z" {
		t.Fatalf("key %+v", k)
	}
	b.request("PUT", base+"/settings", k.Token, settings).wantStatus(t, http.StatusOK)
	b.post("/api/v1/api-keys", k.Token, map[string]any{"description": "from a key"}).wantError(t, 403, "HTTP-403")

	// root loses TenantAdmin: the key loses it too, at once.
	b.get("/api/v1/users/me", b.user("root", access.RoleAutomationCreator)).wantStatus(t, http.StatusOK)
	b.request("PUT", base+"/settings", k.Token, settings).wantError(t, 403, "HTTP-403")
	// and never gains what root gets later.
	b.get("/api/v1/users/me", b.user("root", access.RoleTenantAdmin, access.RoleAutomationCreator)).wantStatus(t, http.StatusOK)
	b.request("PUT", base+"/settings", k.Token, settings).wantStatus(t, http.StatusOK)
	b.post(base, k.Token, map[string]any{"name": "x"}).wantError(t, 403, "HTTP-403")

	// Expiry.
	b.clock.Advance(2 * time.Hour)
	e := b.get(base+"/settings", k.Token).wantError(t, 401, "HTTP-401")
	if e.Errors[0].Detail != "the API key expired" {
		t.Errorf("expired key: %+v", e)
	}
	var got apiKeyBody
	b.get("/api/v1/api-keys/"+k.ID, b.user("root", access.RoleTenantAdmin)).decode(t, http.StatusOK, &got)
	if got.Status != "expired" || got.Token != "" {
		t.Errorf("expired key reads %+v", got)
	}
	// Revocation takes effect on the next request.
	root = b.user("root", access.RoleTenantAdmin)
	b.post("/api/v1/api-keys", root, map[string]any{"description": "second"}).decode(t, http.StatusCreated, &k)
	b.get(base+"/settings", k.Token).wantStatus(t, http.StatusOK)
	b.request("DELETE", "/api/v1/api-keys/"+k.ID, root, nil).wantStatus(t, http.StatusNoContent)
	b.get(base+"/settings", k.Token).wantError(t, 401, "HTTP-401")
	b.get(base+"/settings", "ak_not-a-key").wantError(t, 401, "HTTP-401")
}

// TestUsersMe: users are recorded when first seen, per tenant.
func TestUsersMe(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var me struct {
		ID            string `json:"id"`
		TenantID      string `json:"tenantId"`
		Name          string `json:"name"`
		AssignedRoles []struct {
			Name string `json:"name"`
		} `json:"assignedRoles"`
		CreatedAt string `json:"createdAt"`
	}
	alice := tok(b, access.Principal{UserID: "alice", Name: "Alice", Roles: []string{access.RoleAutomationCreator}})
	b.get("/api/v1/users/me", alice).decode(t, http.StatusOK, &me)
	if me.ID != "alice" || me.TenantID != "default" || me.Name != "Alice" || len(me.AssignedRoles) != 1 ||
		me.CreatedAt != "2026-01-02T03:04:05.000000Z" {
		t.Errorf("me = %+v", me)
	}
	b.clock.Advance(time.Hour)
	other := tok(b, access.Principal{TenantID: "t2", UserID: "alice", Name: "Other Alice"})
	b.get("/api/v1/users/me", other).decode(t, http.StatusOK, &me)
	if me.TenantID != "t2" || me.Name != "Other Alice" || len(me.AssignedRoles) != 0 || me.CreatedAt != "2026-01-02T04:04:05.000000Z" {
		t.Errorf("the other tenant's alice = %+v", me)
	}
}
