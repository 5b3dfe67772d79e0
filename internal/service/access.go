package service

import (
	"context"

	"automate/internal/access"
	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/space"
	"automate/internal/store"
)

// authorize turns a policy decision into an error: Hidden becomes NotFound
// (what names the resource), so that a caller cannot learn that another
// user's resource exists.
func authorize(p access.Principal, a access.Action, t access.Target, what string) error {
	switch access.Can(p, a, t) {
	case access.Allow:
		return nil
	case access.Hidden:
		return apperr.NotFoundf("%s not found", what)
	case access.OutOfScope:
		return apperr.Forbiddenf("the token's scopes do not allow %s", a)
	}
	return apperr.Forbiddenf("not allowed to %s", a)
}

// tenantAction authorizes an action on the tenant itself.
func tenantAction(p access.Principal, a access.Action) error {
	return authorize(p, a, access.Target{}, "")
}

// spaceRoles are p's roles in a shared space: every role for its owner,
// the assignment's for a member, none otherwise.
func spaceRoles(ctx context.Context, r store.Reader, p access.Principal, spaceID, ownerID string) ([]string, error) {
	if ownerID == p.UserID {
		return access.SpaceRoles, nil
	}
	return r.SpaceRoles(ctx, p.TenantID, spaceID, p.UserID)
}

// spaceTarget is a space as the policy sees it from p.
func spaceTarget(ctx context.Context, r store.Reader, p access.Principal, sp *space.Space) (access.Target, error) {
	roles, err := spaceRoles(ctx, r, p, sp.ID, sp.OwnerID)
	return access.Target{Kind: access.SpaceKind, OwnerID: sp.OwnerID, SpaceID: sp.ID, SpaceRoles: roles}, err
}

// automationTarget is an automation as the policy sees it from p.
func automationTarget(ctx context.Context, r store.Reader, p access.Principal, a *automation.Automation) (access.Target, error) {
	t := access.Target{Kind: access.AutomationKind, OwnerID: a.OwnerID, SpaceID: a.SpaceID}
	if a.SpaceID == "" {
		return t, nil
	}
	sp, err := r.GetSpace(ctx, a.TenantID, a.SpaceID)
	if err != nil {
		return t, err
	}
	t.SpaceRoles, err = spaceRoles(ctx, r, p, sp.ID, sp.OwnerID)
	return t, err
}

// authorizeAutomation checks that p may take action on automation a.
func authorizeAutomation(ctx context.Context, r store.Reader, p access.Principal, action access.Action, a *automation.Automation) error {
	t, err := automationTarget(ctx, r, p, a)
	if err != nil {
		return err
	}
	return authorize(p, action, t, "automation \""+a.ID+"\"")
}

// authorizeAddToSpace checks that p may put an automation into a shared
// space; a space p cannot see is "not found".
func authorizeAddToSpace(ctx context.Context, r store.Reader, p access.Principal, spaceID string) error {
	sp, err := r.GetSpace(ctx, p.TenantID, spaceID)
	if apperr.IsKind(err, apperr.NotFound) {
		return spaceNotFound(spaceID)
	}
	if err != nil {
		return err
	}
	t, err := spaceTarget(ctx, r, p, sp)
	if err != nil {
		return err
	}
	switch access.Can(p, access.AddToSpace, t) {
	case access.Allow:
		return nil
	case access.Hidden:
		return spaceNotFound(spaceID)
	}
	return apperr.Forbiddenf("not allowed to add automations to space %q", spaceID)
}
