package api_test

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"automate/internal/access"
	"automate/internal/automation"
)

// TestListVisibility: 3 users, 2 shared spaces, 200 automations spread
// over personal and shared spaces. Every user's pages, under every sort
// in both directions and several filters, hold exactly the automations
// that user may see (its own, and those of the spaces it owns or is a
// member of), each once.
func TestListVisibility(t *testing.T) {
	t.Parallel()
	b := setup(t)
	users := []string{"u1", "u2", "u3"}
	tokens := map[string]string{}
	for _, u := range users {
		tokens[u] = b.user(u, access.RoleAutomationCreator, access.RoleSharedSpaceCreator)
	}
	newSpace := func(owner, name string, members map[string]string) string {
		var sp struct{ ID string }
		b.post("/api/v1/spaces", tokens[owner], map[string]any{"name": name, "type": "shared"}).decode(t, http.StatusCreated, &sp)
		for u, role := range members {
			b.post("/api/v1/spaces/"+sp.ID+"/assignments", tokens[owner], map[string]any{"type": "user", "assigneeId": u,
				"roles": []string{role}}).wantStatus(t, http.StatusCreated)
		}
		return sp.ID
	}
	spaceA := newSpace("u1", "A", map[string]string{"u2": "consumer"})
	spaceB := newSpace("u3", "B", map[string]string{"u1": "producer", "u2": "contributor"})
	// Who is in each space (owner or member), written out independently
	// of the policy.
	inSpace := map[string][]string{spaceA: {"u1", "u2"}, spaceB: {"u3", "u1", "u2"}}
	// Where each user may put automations.
	places := map[string][]string{"u1": {"", spaceA, spaceB}, "u2": {"", "", spaceB}, "u3": {"", "", spaceB}}

	type item struct{ id, owner, space, name string }
	var all []item
	for i := range 200 {
		owner := users[i%3]
		sp := places[owner][(i/3)%3]
		body := map[string]any{"name": fmt.Sprintf("auto %03d", i), "maxConcurrentRuns": 1 + i%5}
		if sp != "" {
			body["spaceId"] = sp
		}
		a := b.create(tokens[owner], body)
		all = append(all, item{a.ID, owner, sp, a.Name})
	}
	visible := func(user string, it item) bool {
		return it.owner == user || (it.space != "" && slices.Contains(inSpace[it.space], user))
	}
	filters := []struct {
		scim string
		keep func(item) bool
	}{
		{"", func(item) bool { return true }},
		{`name co "1"`, func(it item) bool { return strings.Contains(it.name, "1") }},
		{`spaceId eq "` + spaceA + `"`, func(it item) bool { return it.space == spaceA }},
		{`ownerId eq "u1"`, func(it item) bool { return it.owner == "u1" }},
		{`spaceId eq null or ownerId ne "u2"`, func(it item) bool { return it.space == "" || it.owner != "u2" }},
	}
	pages := 0
	for _, user := range users {
		for _, f := range filters {
			want := map[string]bool{}
			for _, it := range all {
				if visible(user, it) && f.keep(it) {
					want[it.id] = true
				}
			}
			for _, sort := range automation.SortFields {
				for _, dir := range []string{"+", "-"} {
					path := base + "?limit=13&sort=" + q(dir+string(sort))
					if f.scim != "" {
						path += "&filter=" + q(f.scim)
					}
					got := map[string]bool{}
					for path != "" {
						var l listBody
						b.get(path, tokens[user]).decode(t, http.StatusOK, &l)
						pages++
						for _, a := range l.Data {
							if got[a.ID] {
								t.Fatalf("%s, %s, sort %s%s: %s listed twice", user, f.scim, dir, sort, a.ID)
							}
							got[a.ID] = true
						}
						path = ""
						if l.Links.Next != nil {
							path = l.Links.Next.Href
						}
					}
					if !maps.Equal(got, want) {
						extra, missing := 0, 0
						for id := range got {
							if !want[id] {
								extra++
							}
						}
						for id := range want {
							if !got[id] {
								missing++
							}
						}
						t.Errorf("%s, filter %q, sort %s%s: %d listed, want %d (%d not allowed, %d missing)",
							user, f.scim, dir, sort, len(got), len(want), extra, missing)
					}
				}
			}
		}
	}
	t.Logf("%d pages read for 3 users × %d filters × %d sorts × 2 directions", pages, len(filters), len(automation.SortFields))
}
