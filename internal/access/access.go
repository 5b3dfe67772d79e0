// Package access decides who may do what. Every rule lives in the policy
// table below, so that one place answers "may this caller do this?", and
// the README's "who may do what" table is generated from it.
//
// A request is allowed when the rule's grant holds (tenant role, ownership,
// or role in the resource's shared space) AND the token either carries no
// scope claim or carries one of the scopes the rule lists: roles grant,
// scopes narrow.
package access

import "slices"

// Tenant roles that the policy knows. Tokens may carry others; they grant
// nothing here.
const (
	RoleTenantAdmin        = "TenantAdmin"
	RoleAnalyticsAdmin     = "AnalyticsAdmin"
	RoleAutomationCreator  = "AutomationCreator"
	RoleSharedSpaceCreator = "SharedSpaceCreator"
)

// Space roles, Qlik's names. "Editor" in the Qlik reference is Producer.
const (
	SpaceConsumer     = "consumer"
	SpaceContributor  = "contributor"
	SpaceDataConsumer = "dataconsumer"
	SpaceFacilitator  = "facilitator"
	SpaceOperator     = "operator"
	SpaceProducer     = "producer"
)

// SpaceRoles are the roles a member of a shared space may be assigned.
var SpaceRoles = []string{SpaceConsumer, SpaceContributor, SpaceDataConsumer, SpaceFacilitator, SpaceOperator, SpaceProducer}

// Principal is an authenticated caller.
type Principal struct {
	TenantID string
	UserID   string
	Name     string
	Roles    []string
	// Scoped is set when the token carried a scope claim: then only the
	// endpoints listing one of Scopes are open to it.
	Scoped bool
	Scopes []string
	// APIKeyID is the key the caller authenticated with; empty for a JWT.
	APIKeyID string
}

// HasRole reports whether the principal carries role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// HasScope reports whether the principal carries scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

func (p Principal) hasAnyRole(roles []string) bool {
	return slices.ContainsFunc(roles, p.HasRole)
}

// Target is the resource an action is on, as far as the policy needs it.
// The zero Target is the tenant (tenant-level actions).
type Target struct {
	// Kind is what the resource is; it says which read action decides
	// whether a caller may learn that it exists.
	Kind Kind
	// OwnerID owns the resource: an automation's owner, a space's owner,
	// an API key's user.
	OwnerID string
	// SpaceID is the shared space the resource lives in (for a space, the
	// space itself); empty for a user's personal space.
	SpaceID string
	// SpaceRoles are the caller's roles in that space; the space's owner
	// holds every role.
	SpaceRoles []string
}

// Kind is a kind of resource.
type Kind int

// The kinds of resource.
const (
	Tenant Kind = iota
	AutomationKind
	SpaceKind
	APIKeyKind
)

// Action is something a principal may try to do.
type Action string

// The actions.
const (
	CreateAutomation    Action = "automation.create"
	ListAutomations     Action = "automation.list"
	ListAllAutomations  Action = "automation.list-all"
	ReadAutomation      Action = "automation.read"
	UpdateAutomation    Action = "automation.update"
	CopyAutomation      Action = "automation.copy"
	DeleteAutomation    Action = "automation.delete"
	EnableAutomation    Action = "automation.enable"
	DisableAutomation   Action = "automation.disable"
	ChangeOwner         Action = "automation.change-owner"
	ChangeSpace         Action = "automation.change-space"
	RunAutomation       Action = "automation.run"
	ReadAutomationRuns  Action = "automation.runs.read"
	ManageAutomationRun Action = "automation.runs.manage"
	ReadSettings        Action = "settings.read"
	UpdateSettings      Action = "settings.update"
	ReadUsage           Action = "usage.read"

	CreateSpace       Action = "space.create"
	ListSpaces        Action = "space.list"
	ReadSpace         Action = "space.read"
	UpdateSpace       Action = "space.update"
	DeleteSpace       Action = "space.delete"
	ManageAssignments Action = "space.assignments.manage"
	// AddToSpace is putting an automation into a shared space (creating it
	// there, moving or copying it there).
	AddToSpace Action = "space.add-content"

	CreateAPIKey  Action = "api-key.create"
	ListAPIKeys   Action = "api-key.list"
	ListAllAPIKey Action = "api-key.list-all"
	ReadAPIKey    Action = "api-key.read"
	DeleteAPIKey  Action = "api-key.delete"
	ReadMe        Action = "user.me"
)

// rule says who may take an action. The grant holds when any of its parts
// does; then the scope check narrows it.
type rule struct {
	// anyone: every authenticated principal of the tenant.
	anyone bool
	// owner: the resource's owner, when holding one of ownerRoles (or any
	// roles at all when ownerRoles is empty).
	owner      bool
	ownerRoles []string
	// roles: tenant roles that grant on every resource of the tenant.
	roles []string
	// spaceRoles: roles in the resource's shared space that grant.
	spaceRoles []string
	// scopes a scoped token needs one of; private and shared add the
	// scopes that hold only for a resource in a personal or a shared space.
	scopes, private, shared []string
	// noAPIKey refuses callers that authenticated with an API key.
	noAPIKey bool
}

var (
	adminRoles  = []string{RoleTenantAdmin, RoleAnalyticsAdmin}
	allMembers  = SpaceRoles
	editors     = []string{SpaceProducer, SpaceFacilitator}
	operators   = []string{SpaceProducer, SpaceFacilitator, SpaceOperator}
	adminScopes = []string{"admin.automations", "admin.automations:strict"}

	anyAutomationScope = []string{"automations", "automations.private", "automations.shared", "admin.automations", "admin.automations:strict"}
	private            = []string{"automations.private"}
	shared             = []string{"automations.shared"}
	// userScopes open the spaces, API-keys and users endpoints: Qlik's
	// default scope for user-level APIs, and its admin scope.
	userScopes = []string{"user_default", "admin_classic"}
)

// policy is the one table of who may do what. API-NOTES §5 and the per-
// endpoint text of the Qlik reference are its source; docs/access.md says
// where the reference is silent and what was chosen.
var policy = map[Action]rule{
	CreateAutomation:   {roles: []string{RoleAutomationCreator}, scopes: []string{"automations", "admin.automations", "automations.private", "automations.shared"}},
	ListAutomations:    {anyone: true, scopes: anyAutomationScope},
	ListAllAutomations: {roles: adminRoles, scopes: adminScopes},
	ReadAutomation: {owner: true, ownerRoles: []string{RoleAutomationCreator, RoleTenantAdmin}, roles: adminRoles,
		spaceRoles: allMembers, scopes: append([]string{"automations"}, adminScopes...), private: private, shared: shared},
	UpdateAutomation: {owner: true, ownerRoles: []string{RoleAutomationCreator}, spaceRoles: editors,
		scopes: []string{"automations", "admin.automations"}, private: private, shared: shared},
	CopyAutomation: {owner: true, ownerRoles: []string{RoleAutomationCreator}, spaceRoles: editors,
		scopes: []string{"automations", "admin.automations"}, private: private, shared: shared},
	DeleteAutomation: {owner: true, roles: adminRoles, spaceRoles: editors,
		scopes: append([]string{"automations"}, adminScopes...), private: private, shared: shared},
	EnableAutomation: {owner: true, roles: adminRoles, spaceRoles: editors,
		scopes: append([]string{"automations"}, adminScopes...), private: private, shared: shared},
	DisableAutomation: {owner: true, roles: adminRoles, spaceRoles: editors,
		scopes: append([]string{"automations"}, adminScopes...), private: private, shared: shared},
	ChangeOwner: {roles: adminRoles, scopes: adminScopes},
	ChangeSpace: {owner: true, ownerRoles: []string{RoleAutomationCreator}, roles: adminRoles,
		scopes: []string{"automations", "admin.automations"}, private: private, shared: shared},
	RunAutomation: {owner: true, ownerRoles: []string{RoleAutomationCreator}, spaceRoles: operators,
		scopes: []string{"automations"}, private: private, shared: shared},
	ManageAutomationRun: {owner: true, ownerRoles: []string{RoleAutomationCreator}, roles: adminRoles, spaceRoles: operators,
		scopes: []string{"automations", "admin.automations"}, private: private, shared: shared},
	ReadAutomationRuns: {owner: true, ownerRoles: []string{RoleAutomationCreator}, roles: adminRoles, spaceRoles: operators,
		scopes:  []string{"automations", "admin.automation-runs"},
		private: []string{"automations.private", "automation-runs.private"},
		shared:  []string{"automations.shared", "automation-runs.shared"}},
	ReadSettings:   {anyone: true, scopes: anyAutomationScope},
	UpdateSettings: {roles: []string{RoleTenantAdmin}, scopes: []string{"admin.automations"}},
	ReadUsage:      {roles: adminRoles, scopes: []string{"admin.automations", "admin.automation-runs"}},

	CreateSpace:       {roles: []string{RoleTenantAdmin, RoleSharedSpaceCreator}, scopes: userScopes},
	ListSpaces:        {anyone: true, scopes: userScopes},
	ReadSpace:         {owner: true, roles: []string{RoleTenantAdmin}, spaceRoles: allMembers, scopes: userScopes},
	UpdateSpace:       {owner: true, roles: []string{RoleTenantAdmin}, spaceRoles: []string{SpaceFacilitator}, scopes: userScopes},
	DeleteSpace:       {owner: true, roles: []string{RoleTenantAdmin}, scopes: userScopes},
	ManageAssignments: {owner: true, roles: []string{RoleTenantAdmin}, spaceRoles: []string{SpaceFacilitator}, scopes: userScopes},
	AddToSpace: {owner: true, roles: []string{RoleTenantAdmin}, spaceRoles: []string{SpaceProducer, SpaceFacilitator, SpaceContributor},
		scopes: []string{"automations", "automations.shared", "admin.automations"}},

	CreateAPIKey:  {anyone: true, noAPIKey: true, scopes: userScopes},
	ListAPIKeys:   {anyone: true, scopes: userScopes},
	ListAllAPIKey: {roles: []string{RoleTenantAdmin}, scopes: userScopes},
	ReadAPIKey:    {owner: true, roles: []string{RoleTenantAdmin}, scopes: userScopes},
	DeleteAPIKey:  {owner: true, roles: []string{RoleTenantAdmin}, scopes: userScopes},
	ReadMe:        {anyone: true, scopes: userScopes},
}

// seeing is the action whose grant lets a caller learn that a resource of
// a kind exists; without it the API answers 404, not 403.
var seeing = map[Kind]Action{AutomationKind: ReadAutomation, SpaceKind: ReadSpace, APIKeyKind: ReadAPIKey}

// Decision is the outcome of a policy check.
type Decision int

// The outcomes. Hidden means the caller must not learn that the resource
// exists: the API answers 404 for it, not 403. OutOfScope means the roles
// allow it but the token's scopes do not.
const (
	Allow Decision = iota
	Deny
	Hidden
	OutOfScope
)

// Can decides whether p may take action a on t. Resources of another
// tenant must never reach this function: the store scopes by tenant.
func Can(p Principal, a Action, t Target) Decision {
	r, ok := policy[a]
	if !ok {
		return Deny // an action without a rule is a bug; fail closed
	}
	if !granted(p, r, t) {
		if see, ok := seeing[t.Kind]; ok && t.OwnerID != p.UserID && !granted(p, policy[see], t) {
			return Hidden
		}
		return Deny
	}
	if r.noAPIKey && p.APIKeyID != "" {
		return Deny
	}
	if p.Scoped && !inScope(p, r, t) {
		return OutOfScope
	}
	return Allow
}

func granted(p Principal, r rule, t Target) bool {
	isOwner := t.OwnerID != "" && t.OwnerID == p.UserID
	switch {
	case r.anyone,
		isOwner && r.owner && (len(r.ownerRoles) == 0 || p.hasAnyRole(r.ownerRoles)),
		p.hasAnyRole(r.roles),
		t.SpaceID != "" && slices.ContainsFunc(r.spaceRoles, func(role string) bool { return slices.Contains(t.SpaceRoles, role) }):
		return true
	}
	return false
}

func inScope(p Principal, r rule, t Target) bool {
	extra := r.private
	if t.SpaceID != "" {
		extra = r.shared
	}
	return slices.ContainsFunc(r.scopes, p.HasScope) || slices.ContainsFunc(extra, p.HasScope)
}

// MayCreateInSpaces reports whether p may create automations and put them
// in shared spaces at all, before any space is looked at.
func MayCreateInSpaces(p Principal) bool {
	return Can(p, CreateAutomation, Target{}) == Allow
}

// VisibleAutomations says which automations a list shows p (without
// listAll): its own in its personal space, its own in shared spaces, and
// those of the shared spaces it is a member of. Each holds when p's token
// may read such an automation; membership roles all grant reading.
type VisibleAutomations struct {
	OwnPersonal bool
	OwnShared   bool
	Member      bool
}

// Visible works out VisibleAutomations from the read rule, so that a list
// never shows what a read of the item would refuse.
func Visible(p Principal) VisibleAutomations {
	own := func(space string) bool {
		return Can(p, ReadAutomation, Target{Kind: AutomationKind, OwnerID: p.UserID, SpaceID: space}) == Allow
	}
	return VisibleAutomations{
		OwnPersonal: own(""),
		OwnShared:   own("shared"),
		Member: Can(p, ReadAutomation, Target{Kind: AutomationKind, OwnerID: "\x00someone else",
			SpaceID: "shared", SpaceRoles: []string{SpaceConsumer}}) == Allow,
	}
}
