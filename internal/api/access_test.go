package api_test

import (
	"net/http"
	"testing"

	"automate/internal/access"
)

// TestTenantIsolation checks that nothing crosses tenants, even for the
// same user id and for admins.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	aliceA := tok(b, access.Principal{TenantID: "a", UserID: "alice", Roles: []string{access.RoleAutomationCreator}})
	aliceB := tok(b, access.Principal{TenantID: "b", UserID: "alice", Roles: []string{access.RoleAutomationCreator}})
	adminB := tok(b, access.Principal{TenantID: "b", UserID: "root", Roles: []string{access.RoleTenantAdmin}})
	a := b.create(aliceA, map[string]any{"name": "tenant a's"})

	b.get(base+"/"+a.ID, aliceB).wantError(t, 404, "HTTP-404")
	b.get(base+"/"+a.ID, adminB).wantError(t, 404, "HTTP-404")
	b.request("PUT", base+"/"+a.ID, aliceB, map[string]any{"name": "x"}).wantError(t, 404, "HTTP-404")
	b.request("DELETE", base+"/"+a.ID, adminB, nil).wantError(t, 404, "HTTP-404")
	b.post(base+"/"+a.ID+"/actions/copy", aliceB, map[string]any{"name": "x"}).wantError(t, 404, "HTTP-404")
	b.post(base+"/"+a.ID+"/actions/change-owner", adminB, map[string]any{"userId": "root"}).wantError(t, 404, "HTTP-404")
	b.post(base+"/"+a.ID+"/actions/disable", adminB, nil).wantError(t, 404, "HTTP-404")
	for _, path := range []string{base, base + "?listAll=true", base + "?filter=" + q(`ownerId eq "alice"`)} {
		var l listBody
		bearer := aliceB
		if path != base {
			bearer = adminB
		}
		b.get(path, bearer).decode(t, http.StatusOK, &l)
		if len(l.Data) != 0 {
			t.Errorf("%s in tenant b lists %d automations of tenant a", path, len(l.Data))
		}
	}
	// The automation is untouched in its own tenant.
	var got automationBody
	b.get(base+"/"+a.ID, aliceA).decode(t, http.StatusOK, &got)
	if got.Name != "tenant a's" || got.State != "available" {
		t.Errorf("tenant a's automation changed: %+v", got)
	}
}
