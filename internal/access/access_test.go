package access

import "testing"

func TestCan(t *testing.T) {
	t.Parallel()
	creator := Principal{UserID: "a", Roles: []string{RoleAutomationCreator}}
	admin := Principal{UserID: "root", Roles: []string{RoleTenantAdmin}}
	tests := []struct {
		p      Principal
		action Action
		owner  string
		want   Decision
	}{
		{creator, CreateAutomation, "", Allow},
		{Principal{UserID: "x"}, CreateAutomation, "", Deny},
		{Principal{UserID: "x", Scopes: []string{"automations.shared"}}, CreateAutomation, "", Allow},
		{creator, ReadAutomation, "a", Allow},
		{creator, ReadAutomation, "b", Hidden},
		{creator, UpdateAutomation, "b", Hidden},
		{admin, ReadAutomation, "b", Allow},
		{admin, UpdateAutomation, "b", Deny},
		{admin, ChangeOwner, "b", Allow},
		{creator, ChangeOwner, "a", Deny},
		{Principal{UserID: "a"}, DeleteAutomation, "a", Allow},
		{creator, ListAllAutomations, "", Deny},
		{admin, ListAllAutomations, "", Allow},
		{Principal{UserID: "s", Scopes: []string{"admin.automations"}}, ListAllAutomations, "", Deny},
		{creator, UpdateSettings, "", Deny},
		{Principal{UserID: "x", Roles: []string{RoleAnalyticsAdmin}}, UpdateSettings, "", Deny},
		{admin, UpdateSettings, "", Allow},
		{Principal{UserID: "x"}, ReadSettings, "", Allow},
		{creator, Action("no such action"), "", Deny},
	}
	for _, tt := range tests {
		if got := Can(tt.p, tt.action, tt.owner); got != tt.want {
			t.Errorf("Can(%+v, %s, owner %q) = %d, want %d", tt.p, tt.action, tt.owner, got, tt.want)
		}
	}
}

// TestEveryActionHasARule keeps the policy table complete.
func TestEveryActionHasARule(t *testing.T) {
	t.Parallel()
	for _, a := range []Action{CreateAutomation, ReadAutomation, UpdateAutomation, CopyAutomation, DeleteAutomation,
		EnableAutomation, DisableAutomation, ChangeOwner, ChangeSpace, ListAllAutomations, ReadSettings, UpdateSettings,
		ListOwnAutomations, ReadUsage, RunAutomation, ReadAutomationRuns, ManageAutomationRun} {
		if _, ok := policy[a]; !ok {
			t.Errorf("no rule for %s", a)
		}
	}
}
