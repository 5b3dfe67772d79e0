// Package access decides who may do what. Every rule lives in the policy
// table below, so that one place answers "may this caller do this?".
package access

import "slices"

// Roles that the policy knows. Tokens may carry others; they grant nothing here.
const (
	RoleTenantAdmin       = "TenantAdmin"
	RoleAnalyticsAdmin    = "AnalyticsAdmin"
	RoleAutomationCreator = "AutomationCreator"
)

// Principal is an authenticated caller.
type Principal struct {
	TenantID string
	UserID   string
	Name     string
	Roles    []string
	Scopes   []string
}

// HasRole reports whether the principal carries role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// HasScope reports whether the principal carries scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

func (p Principal) hasAny(roles, scopes []string) bool {
	for _, r := range roles {
		if p.HasRole(r) {
			return true
		}
	}
	for _, s := range scopes {
		if p.HasScope(s) {
			return true
		}
	}
	return false
}

// Action is something a principal may try to do.
type Action string

// The actions on automations and tenant settings.
const (
	CreateAutomation    Action = "automation.create"
	ReadAutomation      Action = "automation.read"
	UpdateAutomation    Action = "automation.update"
	CopyAutomation      Action = "automation.copy"
	DeleteAutomation    Action = "automation.delete"
	EnableAutomation    Action = "automation.enable"
	DisableAutomation   Action = "automation.disable"
	ChangeOwner         Action = "automation.change-owner"
	ChangeSpace         Action = "automation.change-space"
	ListAllAutomations  Action = "automation.list-all"
	ReadSettings        Action = "settings.read"
	UpdateSettings      Action = "settings.update"
	ListOwnAutomations  Action = "automation.list"
	ReadUsage           Action = "usage.read"
	RunAutomation       Action = "automation.run"
	ReadAutomationRuns  Action = "automation.runs.read"
	ManageAutomationRun Action = "automation.runs.manage"
)

// rule says who may take an action. A caller is allowed when any grant holds.
type rule struct {
	// anyone: every authenticated principal of the tenant.
	anyone bool
	// ownerAlone: the owner of the resource, with no role or scope needed.
	ownerAlone bool
	// ownerRoles/ownerScopes: the owner, when also holding one of these.
	ownerRoles, ownerScopes []string
	// roles/scopes: anyone holding one of these, owner or not.
	roles, scopes []string
}

var (
	creatorScopes = []string{"automations", "admin.automations", "automations.private", "automations.shared"}
	adminRoles    = []string{RoleTenantAdmin, RoleAnalyticsAdmin}
	adminScopes   = []string{"admin.automations", "admin.automations:strict"}
	runScopes     = []string{"automations", "automations.private", "automations.shared"}
	runReadScopes = []string{"admin.automation-runs", "automation-runs.private", "automation-runs.shared"}
)

// policy is the one table of who may do what; API-NOTES §5 is its source.
// Reads of another user's automation are granted to admins (who can list
// every automation of the tenant anyway) and hidden from everyone else.
var policy = map[Action]rule{
	CreateAutomation:   {roles: []string{RoleAutomationCreator}, scopes: creatorScopes},
	ListOwnAutomations: {anyone: true},
	ListAllAutomations: {roles: adminRoles},
	ReadAutomation: {
		ownerRoles: []string{RoleAutomationCreator, RoleTenantAdmin}, ownerScopes: creatorScopes,
		roles: adminRoles, scopes: adminScopes,
	},
	UpdateAutomation:  {ownerRoles: []string{RoleAutomationCreator}, ownerScopes: creatorScopes},
	CopyAutomation:    {ownerRoles: []string{RoleAutomationCreator}, ownerScopes: creatorScopes},
	ChangeSpace:       {ownerRoles: []string{RoleAutomationCreator}, ownerScopes: creatorScopes, roles: adminRoles, scopes: adminScopes},
	DeleteAutomation:  {ownerAlone: true, roles: adminRoles, scopes: adminScopes},
	EnableAutomation:  {ownerAlone: true, roles: adminRoles, scopes: adminScopes},
	DisableAutomation: {ownerAlone: true, roles: adminRoles, scopes: adminScopes},
	ChangeOwner:       {roles: adminRoles, scopes: adminScopes},
	ReadSettings:      {anyone: true},
	UpdateSettings:    {roles: []string{RoleTenantAdmin}},
	ReadUsage:         {roles: adminRoles},
	RunAutomation:     {ownerRoles: []string{RoleAutomationCreator}, ownerScopes: runScopes},
	ReadAutomationRuns: {
		ownerRoles: []string{RoleAutomationCreator}, ownerScopes: append(slices.Clone(runScopes), runReadScopes...),
		roles: adminRoles, scopes: runReadScopes,
	},
	ManageAutomationRun: {ownerRoles: []string{RoleAutomationCreator}, ownerScopes: runScopes, roles: adminRoles, scopes: adminScopes},
}

// Decision is the outcome of a policy check.
type Decision int

// The outcomes. Hidden means the caller must not learn that the resource
// exists: the API answers 404 for it, not 403.
const (
	Allow Decision = iota
	Deny
	Hidden
)

// Can decides whether p may take action a on a resource owned by ownerID.
// For tenant-level actions pass an empty ownerID. Resources of another
// tenant must never reach this function: the store scopes by tenant.
func Can(p Principal, a Action, ownerID string) Decision {
	r, ok := policy[a]
	if !ok {
		return Deny // an action without a rule is a bug; fail closed
	}
	isOwner := ownerID != "" && ownerID == p.UserID
	if ownerID != "" && !isOwner && !p.hasAny(adminRoles, adminScopes) {
		return Hidden
	}
	switch {
	case r.anyone,
		isOwner && r.ownerAlone,
		isOwner && p.hasAny(r.ownerRoles, r.ownerScopes),
		p.hasAny(r.roles, r.scopes):
		return Allow
	}
	return Deny
}
