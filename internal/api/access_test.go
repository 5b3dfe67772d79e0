package api_test

import (
	"net/http"
	"testing"

	"automate/internal/access"
)

// TestAccessRules walks every automation action for each kind of caller.
func TestAccessRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	owner := b.creator("owner")
	callers := map[string]string{
		"owner":          owner,
		"other creator":  b.creator("other"),
		"tenant admin":   b.user("ta", access.RoleTenantAdmin),
		"analytics":      b.user("aa", access.RoleAnalyticsAdmin),
		"no role":        b.user("nobody"),
		"admin scope":    tok(b, access.Principal{UserID: "svc", Scopes: []string{"admin.automations"}}),
		"owner no roles": b.user("owner"), // the owner after losing the creator role
	}
	type want map[string]int
	// Statuses per caller; 404 means "hidden": the caller must not learn it exists.
	tests := []struct {
		action string
		do     func(bearer, id string) response
		want   want
	}{
		{"get", func(bt, id string) response { return b.get(base+"/"+id, bt) },
			want{"owner": 200, "other creator": 404, "tenant admin": 200, "analytics": 200, "no role": 404, "admin scope": 200, "owner no roles": 403}},
		{"update", func(bt, id string) response {
			return b.request("PUT", base+"/"+id, bt, map[string]any{"description": "x"})
		}, want{"owner": 200, "other creator": 404, "tenant admin": 403, "analytics": 403, "no role": 404, "admin scope": 403, "owner no roles": 403}},
		{"copy", func(bt, id string) response {
			return b.post(base+"/"+id+"/actions/copy", bt, map[string]any{"name": "c"})
		}, want{"owner": 201, "other creator": 404, "tenant admin": 403, "analytics": 403, "no role": 404, "admin scope": 403, "owner no roles": 403}},
		{"disable", func(bt, id string) response { return b.post(base+"/"+id+"/actions/disable", bt, nil) },
			want{"owner": 204, "other creator": 404, "tenant admin": 204, "analytics": 204, "no role": 404, "admin scope": 204, "owner no roles": 204}},
		{"enable", func(bt, id string) response { return b.post(base+"/"+id+"/actions/enable", bt, nil) },
			want{"owner": 204, "other creator": 404, "tenant admin": 204, "analytics": 204, "no role": 404, "admin scope": 204, "owner no roles": 204}},
		{"change-owner", func(bt, id string) response {
			return b.post(base+"/"+id+"/actions/change-owner", bt, map[string]any{"userId": "owner"})
		}, want{"owner": 403, "other creator": 404, "tenant admin": 204, "analytics": 204, "no role": 404, "admin scope": 204, "owner no roles": 403}},
		{"delete", func(bt, id string) response { return b.request("DELETE", base+"/"+id, bt, nil) },
			want{"owner": 204, "other creator": 404, "tenant admin": 204, "analytics": 204, "no role": 404, "admin scope": 204, "owner no roles": 204}},
	}
	for _, tt := range tests {
		for caller, bearer := range callers {
			a := b.create(owner, map[string]any{"name": tt.action + " by " + caller})
			got := tt.do(bearer, a.ID)
			if w := tt.want[caller]; got.status != w {
				t.Errorf("%s by %s: status %d, want %d; body %s", tt.action, caller, got.status, w, got.body)
			} else if w >= 400 {
				got.wantError(t, w, map[int]string{403: "HTTP-403", 404: "HTTP-404"}[w])
			}
		}
	}

	// Create needs the creator role or a creator scope.
	for caller, bearer := range map[string]string{
		"no role":       b.user("nobody"),
		"tenant admin":  b.user("ta", access.RoleTenantAdmin),
		"runs scope":    tok(b, access.Principal{UserID: "svc", Scopes: []string{"automation-runs.private"}}),
		"creator scope": tok(b, access.Principal{UserID: "svc", Scopes: []string{"automations.private"}}),
	} {
		got := b.post(base, bearer, map[string]any{"name": "x"})
		want := http.StatusForbidden
		if caller == "creator scope" {
			want = http.StatusCreated
		}
		if got.status != want {
			t.Errorf("create by %s: %d, want %d", caller, got.status, want)
		}
	}

	// listAll is for admins; a plain list shows the caller's own only.
	b.get(base+"?listAll=true", owner).wantError(t, 403, "HTTP-403")
	b.get(base+"?listAll=true", b.user("aa", access.RoleAnalyticsAdmin)).wantStatus(t, http.StatusOK)
	var l listBody
	b.get(base+"?limit=200", b.creator("other")).decode(t, http.StatusOK, &l)
	for _, a := range l.Data {
		if a.OwnerID != "other" {
			t.Errorf("other's list shows %s's automation", a.OwnerID)
		}
	}
	var all listBody
	b.get(base+"?listAll=true&limit=200", b.user("ta", access.RoleTenantAdmin)).decode(t, http.StatusOK, &all)
	owners := map[string]bool{}
	for _, a := range all.Data {
		owners[a.OwnerID] = true
	}
	if !owners["owner"] || !owners["svc"] {
		t.Errorf("listAll owners = %v, want owner and svc among them", owners)
	}
}

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
