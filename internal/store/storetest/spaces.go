package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"automate/internal/apikey"
	"automate/internal/apperr"
	"automate/internal/automation"
	"automate/internal/space"
	"automate/internal/store"
)

func inTx(t *testing.T, st store.Store, fn func(ctx context.Context, tx store.Tx) error) error {
	t.Helper()
	ctx := context.Background()
	return st.InTx(ctx, func(tx store.Tx) error { return fn(ctx, tx) })
}

// testSpaces: spaces and members round-trip, names are unique per tenant,
// lists show a member its spaces only, visibility lists follow membership,
// and deleting a space removes its members.
func testSpaces(t *testing.T, st store.Store) {
	ctx := context.Background()
	sp := func(id, tenant, name, owner string) *space.Space {
		return &space.Space{ID: id, TenantID: tenant, Name: name, Description: "d " + id, Type: space.TypeShared, OwnerID: owner,
			CreatedBy: owner, CreatedAt: t0, UpdatedAt: t0}
	}
	a, b, other := sp("s1", "t", "alpha", "u1"), sp("s2", "t", "beta", "u2"), sp("s3", "t2", "alpha", "u1")
	err := inTx(t, st, func(ctx context.Context, tx store.Tx) error {
		for _, s := range []*space.Space{a, b, other} {
			if err := tx.InsertSpace(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetSpace(ctx, "t", "s1"); err != nil || *got != *a {
		t.Fatalf("GetSpace = %+v, %v; want %+v", got, err, a)
	}
	if _, err := st.GetSpace(ctx, "t2", "s1"); !apperr.IsKind(err, apperr.NotFound) {
		t.Fatalf("a space read from another tenant: %v", err)
	}
	err = inTx(t, st, func(ctx context.Context, tx store.Tx) error { return tx.InsertSpace(ctx, sp("s4", "t", "alpha", "u3")) })
	if !apperr.IsKind(err, apperr.Conflict) {
		t.Fatalf("a second space named alpha: %v", err)
	}
	asg := &space.Assignment{ID: "as1", TenantID: "t", SpaceID: "s2", Type: space.AssigneeUser, AssigneeID: "u1",
		Roles: []string{"producer", "operator"}, CreatedBy: "u2", UpdatedBy: "u2", CreatedAt: t0, UpdatedAt: t0}
	if err := inTx(t, st, func(ctx context.Context, tx store.Tx) error { return tx.InsertAssignment(ctx, asg) }); err != nil {
		t.Fatal(err)
	}
	dup := *asg
	dup.ID = "as2"
	if err := inTx(t, st, func(ctx context.Context, tx store.Tx) error { return tx.InsertAssignment(ctx, &dup) }); !apperr.IsKind(err, apperr.Conflict) {
		t.Fatalf("a second assignment of u1 to s2: %v", err)
	}
	if roles, err := st.SpaceRoles(ctx, "t", "s2", "u1"); err != nil || !slices.Equal(roles, asg.Roles) {
		t.Fatalf("SpaceRoles = %v, %v", roles, err)
	}
	if roles, err := st.SpaceRoles(ctx, "t", "s1", "u2"); err != nil || roles != nil {
		t.Fatalf("SpaceRoles of a non-member = %v, %v", roles, err)
	}
	// u1 owns s1 and is a member of s2; u2 owns s2; u3 has none.
	for user, want := range map[string][]string{"u1": {"s1", "s2"}, "u2": {"s2"}, "u3": nil, "": {"s1", "s2"}} {
		got, err := st.ListSpaces(ctx, store.SpaceListQuery{TenantID: "t", MemberID: user, Sort: string(space.SortName), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range got {
			ids = append(ids, s.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("spaces of %q = %v, want %v", user, ids, want)
		}
	}
	// Automations: u1's personal one, u2's in s2 (u1 sees it as member),
	// u3's in s1 (u1 owns s1).
	inAuto := func(id, owner, spaceID string) *automation.Automation {
		x := sample(id, "t", owner)
		x.SpaceID = spaceID
		return x
	}
	insert(t, st, inAuto("p1", "u1", ""), inAuto("x2", "u2", "s2"), inAuto("x3", "u3", "s1"), inAuto("p3", "u3", ""))
	for _, tc := range []struct {
		v    store.Visibility
		want []string
	}{
		{store.Visibility{UserID: "u1", OwnPersonal: true, OwnShared: true, Member: true}, []string{"p1", "x2", "x3"}},
		{store.Visibility{UserID: "u1", OwnPersonal: true}, []string{"p1"}},
		{store.Visibility{UserID: "u1", Member: true}, []string{"x2", "x3"}},
		{store.Visibility{UserID: "u3", OwnPersonal: true, OwnShared: true, Member: true}, []string{"p3", "x3"}},
		{store.Visibility{UserID: "u3", OwnShared: true}, []string{"x3"}},
		{store.Visibility{UserID: "u2"}, nil},
	} {
		v := tc.v
		got, err := st.ListAutomations(ctx, store.ListQuery{TenantID: "t", Visible: &v, Sort: automation.SortID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("visible to %+v: %v, want %v", v, ids, tc.want)
		}
	}
	if n, err := st.CountSpaceAutomations(ctx, "t", "s1"); err != nil || n != 1 {
		t.Errorf("CountSpaceAutomations = %d, %v", n, err)
	}
	// Deleting a space removes its members.
	err = inTx(t, st, func(ctx context.Context, tx store.Tx) error {
		asg.Roles, asg.UpdatedAt = []string{"consumer"}, t0.Add(time.Second)
		if err := tx.UpdateAssignment(ctx, asg); err != nil {
			return err
		}
		return tx.DeleteSpace(ctx, "t", "s2")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetAssignment(ctx, "t", "s2", "as1"); !apperr.IsKind(err, apperr.NotFound) {
		t.Errorf("an assignment outlived its space: %v", err)
	}
}

// testAPIKeys: keys are found by their hash only, revoke once, and users
// round-trip with their roles.
func testAPIKeys(t *testing.T, st store.Store) {
	ctx := context.Background()
	k := &apikey.Key{ID: "k1", TenantID: "t", UserID: "u1", Description: "ci", Roles: []string{"TenantAdmin"}, CreatedBy: "u1",
		CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	secret, hash := apikey.NewSecret()
	u := &store.User{TenantID: "t", ID: "u1", Name: "One", Roles: []string{"TenantAdmin"}, LastSeenAt: t0}
	err := inTx(t, st, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SeeUser(ctx, u); err != nil {
			return err
		}
		return tx.InsertAPIKey(ctx, k, hash)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.APIKeyByHash(ctx, apikey.Hash(secret))
	if err != nil || got.ID != "k1" || got.UserID != "u1" || !slices.Equal(got.Roles, k.Roles) || !got.ExpiresAt.Equal(k.ExpiresAt) {
		t.Fatalf("APIKeyByHash = %+v, %v", got, err)
	}
	if _, err := st.APIKeyByHash(ctx, apikey.Hash(secret+"x")); !apperr.IsKind(err, apperr.NotFound) {
		t.Fatalf("a wrong secret found a key: %v", err)
	}
	if _, err := st.GetAPIKey(ctx, "t2", "k1"); !apperr.IsKind(err, apperr.NotFound) {
		t.Fatalf("a key read from another tenant: %v", err)
	}
	for _, want := range []bool{true, false} {
		var ok bool
		err := inTx(t, st, func(ctx context.Context, tx store.Tx) error {
			var err error
			ok, err = tx.RevokeAPIKey(ctx, "t", "k1", t0.Add(time.Hour))
			return err
		})
		if err != nil || ok != want {
			t.Fatalf("revoke = %v, %v; want %v", ok, err, want)
		}
	}
	if got, _ := st.GetAPIKey(ctx, "t", "k1"); !got.Revoked {
		t.Error("the key is not revoked")
	}
	if keys, err := st.ListAPIKeys(ctx, "t", "u2", "", 10); err != nil || len(keys) != 0 {
		t.Errorf("u2's keys = %v, %v", keys, err)
	}
	// A user seen again keeps its first sighting and takes the new roles.
	u.Roles, u.LastSeenAt = []string{}, t0.Add(time.Hour)
	if err := inTx(t, st, func(ctx context.Context, tx store.Tx) error { return tx.SeeUser(ctx, u) }); err != nil {
		t.Fatal(err)
	}
	seen, err := st.GetUser(ctx, "t", "u1")
	if err != nil || !seen.CreatedAt.Equal(t0) || !seen.LastSeenAt.Equal(t0.Add(time.Hour)) || len(seen.Roles) != 0 || seen.Name != "One" {
		t.Errorf("user = %+v, %v", seen, err)
	}
	if _, err := st.GetUser(ctx, "t2", "u1"); !apperr.IsKind(err, apperr.NotFound) {
		t.Errorf("a user read from another tenant: %v", err)
	}
}
