package service

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"automate/internal/access"
	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/clock"
	"automate/internal/scim"
	"automate/internal/space"
	"automate/internal/store"
)

// Spaces is the shared spaces and members use cases.
type Spaces struct {
	store  store.Store
	clock  clock.Clock
	logger *slog.Logger
}

// NewSpaces returns the spaces use cases over st.
func NewSpaces(st store.Store, clk clock.Clock, logger *slog.Logger) *Spaces {
	return &Spaces{store: st, clock: clk, logger: logger}
}

// SpaceView is a space with what the caller may do in it.
type SpaceView struct {
	*space.Space
	// Roles are the caller's roles in the space.
	Roles []string
	// Actions are Qlik's action names the caller may take on the space.
	Actions []string
}

// SpaceInput is a space as a client sends it; nil fields are absent.
type SpaceInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Type        *string `json:"type"`
	OwnerID     *string `json:"ownerId"`
}

// SpacePage is one page of spaces.
type SpacePage struct {
	Items      []SpaceView
	NextCursor string
	PrevCursor string
}

// DefaultSpaceLimit and MaxSpaceLimit bound a spaces page (Qlik's).
const (
	DefaultSpaceLimit = 10
	MaxSpaceLimit     = 100
)

// load reads a space p may take action a on.
func (s *Spaces) load(ctx context.Context, r store.Reader, p access.Principal, id string, a access.Action) (*space.Space, access.Target, error) {
	sp, err := r.GetSpace(ctx, p.TenantID, id)
	if err != nil {
		return nil, access.Target{}, err
	}
	t, err := spaceTarget(ctx, r, p, sp)
	if err != nil {
		return nil, t, err
	}
	return sp, t, authorize(p, a, t, "space \""+id+"\"")
}

// view adds what p may do to a space it may read.
func view(p access.Principal, sp *space.Space, t access.Target) SpaceView {
	v := SpaceView{Space: sp, Roles: []string{}, Actions: []string{"read"}}
	if sp.OwnerID != p.UserID && t.SpaceRoles != nil {
		v.Roles = t.SpaceRoles
	}
	for _, a := range []struct {
		name   string
		action access.Action
	}{{"update", access.UpdateSpace}, {"delete", access.DeleteSpace}, {"create", access.AddToSpace}} {
		if access.Can(p, a.action, t) == access.Allow {
			v.Actions = append(v.Actions, a.name)
		}
	}
	return v
}

// Create makes a shared space owned by p.
func (s *Spaces) Create(ctx context.Context, p access.Principal, in SpaceInput) (SpaceView, error) {
	if err := tenantAction(p, access.CreateSpace); err != nil {
		return SpaceView{}, err
	}
	sp := &space.Space{TenantID: p.TenantID, OwnerID: p.UserID, CreatedBy: p.UserID}
	if in.Name != nil {
		sp.Name = *in.Name
	}
	if in.Description != nil {
		sp.Description = *in.Description
	}
	if in.Type != nil {
		sp.Type = *in.Type
	}
	if err := validateSpace(sp); err != nil {
		return SpaceView{}, err
	}
	if err := space.ValidateType(sp.Type); err != nil {
		return SpaceView{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	sp.ID, sp.CreatedAt, sp.UpdatedAt = newID(), now, now
	if err := s.store.InTx(ctx, func(tx store.Tx) error { return tx.InsertSpace(ctx, sp) }); err != nil {
		return SpaceView{}, err
	}
	t := access.Target{Kind: access.SpaceKind, OwnerID: sp.OwnerID, SpaceID: sp.ID, SpaceRoles: access.SpaceRoles}
	return view(p, sp, t), nil
}

func validateSpace(sp *space.Space) error {
	if err := space.ValidateName(sp.Name); err != nil {
		return err
	}
	return space.ValidateDescription(sp.Description)
}

// Get reads a space.
func (s *Spaces) Get(ctx context.Context, p access.Principal, id string) (SpaceView, error) {
	sp, t, err := s.load(ctx, s.store, p, id, access.ReadSpace)
	if err != nil {
		return SpaceView{}, err
	}
	return view(p, sp, t), nil
}

// Update changes the fields of in that are set. Giving the space to
// another owner is for its owner and TenantAdmin.
func (s *Spaces) Update(ctx context.Context, p access.Principal, id string, in SpaceInput) (SpaceView, error) {
	var out SpaceView
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		sp, t, err := s.load(ctx, tx, p, id, access.UpdateSpace)
		if err != nil {
			return err
		}
		if in.Name != nil {
			sp.Name = *in.Name
		}
		if in.Description != nil {
			sp.Description = *in.Description
		}
		if in.OwnerID != nil && *in.OwnerID != sp.OwnerID {
			if access.Can(p, access.DeleteSpace, t) != access.Allow {
				return apperr.Forbiddenf("only the space's owner and TenantAdmin may change its owner")
			}
			if err := automation.ValidateUserID(*in.OwnerID); err != nil {
				return err
			}
			sp.OwnerID = *in.OwnerID
		}
		if err := validateSpace(sp); err != nil {
			return err
		}
		sp.UpdatedAt = s.clock.Now().UTC().Truncate(time.Microsecond)
		if err := tx.UpdateSpace(ctx, sp); err != nil {
			return err
		}
		if t, err = spaceTarget(ctx, tx, p, sp); err != nil {
			return err
		}
		out = view(p, sp, t)
		return nil
	})
	return out, err
}

// Delete removes a space and its assignments; a space that holds
// automations is a conflict (move or delete them first).
func (s *Spaces) Delete(ctx context.Context, p access.Principal, id string) error {
	return s.store.InTx(ctx, func(tx store.Tx) error {
		if _, _, err := s.load(ctx, tx, p, id, access.DeleteSpace); err != nil {
			return err
		}
		n, err := tx.CountSpaceAutomations(ctx, p.TenantID, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return apperr.E(apperr.Conflict, apperr.CodeConflict, "Conflict",
				"space %q holds %d automations; move or delete them first", id, n)
		}
		return tx.DeleteSpace(ctx, p.TenantID, id)
	})
}

// SpaceListParams is a spaces list request: the common list parameters
// plus Qlik's name (case-insensitive substring) and type.
type SpaceListParams struct {
	ListParams
	Name string
	Type string
}

// List returns a page of the spaces p may read: those it owns or is a
// member of, or every space of the tenant for TenantAdmin.
func (s *Spaces) List(ctx context.Context, p access.Principal, lp SpaceListParams) (SpacePage, error) {
	if err := tenantAction(p, access.ListSpaces); err != nil {
		return SpacePage{}, err
	}
	ks, err := parseKeyset(lp.ListParams, space.SortFields, DefaultSpaceLimit)
	if err != nil {
		return SpacePage{}, err
	}
	if ks.limit > MaxSpaceLimit {
		return SpacePage{}, apperr.InvalidParameter("limit must be between 1 and %d", MaxSpaceLimit)
	}
	filter := ks.filter
	and := func(e scim.Expr) {
		if filter == nil {
			filter = e
		} else {
			filter = &scim.Logical{And: true, Left: filter, Right: e}
		}
	}
	if lp.Name != "" {
		and(&scim.Compare{Attr: "name", Op: scim.Co, Value: scim.Value{Kind: scim.String, Str: lp.Name}})
	}
	if lp.Type != "" {
		var types scim.Expr
		for _, t := range strings.Split(lp.Type, ",") {
			c := &scim.Compare{Attr: "type", Op: scim.Eq, Value: scim.Value{Kind: scim.String, Str: strings.TrimSpace(t)}}
			if types == nil {
				types = c
			} else {
				types = &scim.Logical{Left: types, Right: c}
			}
		}
		and(types)
	}
	q := store.SpaceListQuery{TenantID: p.TenantID, Filter: filter, Sort: ks.sort, Desc: ks.desc, After: ks.after,
		Backward: ks.backward, Limit: ks.limit + 1}
	if !p.HasRole(access.RoleTenantAdmin) {
		q.MemberID = p.UserID
	}
	items, err := s.store.ListSpaces(ctx, q)
	if err != nil {
		return SpacePage{}, err
	}
	var page SpacePage
	var spaces []*space.Space
	spaces, page.NextCursor, page.PrevCursor = finishPage(items, ks, func(sp *space.Space) automation.Position {
		return automation.Position{Value: sp.SortValue(space.SortField(ks.sort)), ID: sp.ID}
	})
	for _, sp := range spaces {
		t, err := spaceTarget(ctx, s.store, p, sp)
		if err != nil {
			return SpacePage{}, err
		}
		page.Items = append(page.Items, view(p, sp, t))
	}
	return page, nil
}

// AssignmentInput is an assignment as a client sends it.
type AssignmentInput struct {
	Type       string   `json:"type"`
	AssigneeID string   `json:"assigneeId"`
	Roles      []string `json:"roles"`
}

// ListAssignments returns a page of a space's members, in id order.
func (s *Spaces) ListAssignments(ctx context.Context, p access.Principal, spaceID, after string, limit int) ([]*space.Assignment, bool, error) {
	if limit == 0 {
		limit = DefaultSpaceLimit
	}
	if limit < 1 || limit > MaxSpaceLimit {
		return nil, false, apperr.InvalidParameter("limit must be between 1 and %d", MaxSpaceLimit)
	}
	if _, _, err := s.load(ctx, s.store, p, spaceID, access.ReadSpace); err != nil {
		return nil, false, err
	}
	items, err := s.store.ListAssignments(ctx, p.TenantID, spaceID, after, limit+1)
	if err != nil {
		return nil, false, err
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	return items, more, nil
}

// GetAssignment reads one member of a space.
func (s *Spaces) GetAssignment(ctx context.Context, p access.Principal, spaceID, id string) (*space.Assignment, error) {
	if _, _, err := s.load(ctx, s.store, p, spaceID, access.ReadSpace); err != nil {
		return nil, err
	}
	return s.store.GetAssignment(ctx, p.TenantID, spaceID, id)
}

// Assign adds a member to a space.
func (s *Spaces) Assign(ctx context.Context, p access.Principal, spaceID string, in AssignmentInput) (*space.Assignment, error) {
	if err := space.ValidateAssignee(in.Type, in.AssigneeID); err != nil {
		return nil, err
	}
	if err := space.ValidateRoles(in.Roles); err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	a := &space.Assignment{ID: newID(), TenantID: p.TenantID, SpaceID: spaceID, Type: in.Type, AssigneeID: in.AssigneeID,
		Roles: in.Roles, CreatedBy: p.UserID, UpdatedBy: p.UserID, CreatedAt: now, UpdatedAt: now}
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		if _, _, err := s.load(ctx, tx, p, spaceID, access.ManageAssignments); err != nil {
			return err
		}
		return tx.InsertAssignment(ctx, a)
	})
	return a, err
}

// UpdateAssignment replaces a member's roles.
func (s *Spaces) UpdateAssignment(ctx context.Context, p access.Principal, spaceID, id string, roles []string) (*space.Assignment, error) {
	if err := space.ValidateRoles(roles); err != nil {
		return nil, err
	}
	var a *space.Assignment
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		if _, _, err := s.load(ctx, tx, p, spaceID, access.ManageAssignments); err != nil {
			return err
		}
		var err error
		if a, err = tx.GetAssignment(ctx, p.TenantID, spaceID, id); err != nil {
			return err
		}
		a.Roles, a.UpdatedBy, a.UpdatedAt = roles, p.UserID, s.clock.Now().UTC().Truncate(time.Microsecond)
		return tx.UpdateAssignment(ctx, a)
	})
	return a, err
}

// Unassign removes a member from a space.
func (s *Spaces) Unassign(ctx context.Context, p access.Principal, spaceID, id string) error {
	return s.store.InTx(ctx, func(tx store.Tx) error {
		if _, _, err := s.load(ctx, tx, p, spaceID, access.ManageAssignments); err != nil {
			return err
		}
		if _, err := tx.GetAssignment(ctx, p.TenantID, spaceID, id); err != nil {
			return err
		}
		return tx.DeleteAssignment(ctx, p.TenantID, spaceID, id)
	})
}
