package api_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"automate/internal/access"
)

type listItem struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	RunMode           string `json:"runMode"`
	State             string `json:"state"`
	OwnerID           string `json:"ownerId"`
	CreatedAt         string `json:"createdAt"`
	UpdatedAt         string `json:"updatedAt"`
	LastRunAt         string `json:"lastRunAt"`
	LastRunStatus     string `json:"lastRunStatus"`
	MaxConcurrentRuns int    `json:"maxConcurrentRuns"`
}

type itemPage struct {
	Data  []listItem `json:"data"`
	Links struct {
		Next *struct{ Href string } `json:"next"`
		Prev *struct{ Href string } `json:"prev"`
	} `json:"links"`
}

// sortKey compares two items by a sort field, then by id.
func sortKey(field string) func(a, b listItem) int {
	return func(a, b listItem) int {
		var c int
		switch field {
		case "id":
		case "name":
			c = cmp.Compare(a.Name, b.Name)
		case "runMode":
			c = cmp.Compare(a.RunMode, b.RunMode)
		case "state":
			c = cmp.Compare(a.State, b.State)
		case "createdAt":
			c = cmp.Compare(a.CreatedAt, b.CreatedAt) // fixed-width format sorts as text
		case "updatedAt":
			c = cmp.Compare(a.UpdatedAt, b.UpdatedAt)
		case "lastRunAt":
			c = cmp.Compare(a.LastRunAt, b.LastRunAt)
		case "lastRunStatus":
			c = cmp.Compare(a.LastRunStatus, b.LastRunStatus)
		case "maxConcurrentRuns":
			c = cmp.Compare(a.MaxConcurrentRuns, b.MaxConcurrentRuns)
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	}
}

var runModes = []string{"manual", "scheduled", "triggered", "webhook"}

// seedVaried creates automations whose sort fields vary and often tie.
func seedVaried(b *bundle, bearer string, n int, rng *rand.Rand) []string {
	ids := make([]string, 0, n)
	for i := range n {
		body := map[string]any{
			"name":              fmt.Sprintf("auto-%03d", rng.IntN(400)), // about 2.5 per name: ties
			"maxConcurrentRuns": 1 + rng.IntN(10),
			"workspace": map[string]any{"blocks": []any{map[string]any{
				"type": "StartBlock", "inputs": []any{map[string]any{"id": "run_mode", "value": runModes[rng.IntN(4)]}}}}},
		}
		a := b.create(bearer, body)
		if i%7 == 0 {
			b.post(base+"/"+a.ID+"/actions/disable", bearer, nil).wantStatus(b.t, http.StatusNoContent)
		}
		if rng.IntN(3) == 0 {
			b.clock.Advance(time.Second) // otherwise created in the same microsecond: ties
		}
		ids = append(ids, a.ID)
	}
	return ids
}

// TestListPagination walks 1,000 automations by every sort field in both
// directions while new automations are inserted between pages: every
// original shows up exactly once, nothing repeats, and the order holds.
func TestListPagination(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	rng := rand.New(rand.NewPCG(1, 2))
	original := seedVaried(b, alice, 1000, rng)
	inserted := 0
	for _, field := range []string{"id", "name", "runMode", "state", "createdAt", "updatedAt", "lastRunAt", "lastRunStatus", "maxConcurrentRuns"} {
		for _, sign := range []string{"+", "-"} {
			t.Run(sign+field, func(t *testing.T) {
				b := b.with(t)
				next := base + "?limit=37&sort=" + url.QueryEscape(sign+field)
				seen := map[string]int{}
				var all []listItem
				pages := 0
				for next != "" {
					var p itemPage
					b.get(next, alice).decode(t, http.StatusOK, &p)
					pages++
					if pages > 1 && p.Links.Prev == nil {
						t.Fatalf("page %d has no prev link", pages)
					}
					all = append(all, p.Data...)
					for _, it := range p.Data {
						seen[it.ID]++
					}
					next = ""
					if p.Links.Next != nil {
						next = p.Links.Next.Href
						if !strings.HasPrefix(next, b.url+base+"?") {
							t.Fatalf("next link %q is not a full URL of this server", next)
						}
						// Writes between pages must not disturb the walk.
						b.create(alice, map[string]any{"name": fmt.Sprintf("auto-%03d", rng.IntN(400)), "maxConcurrentRuns": 1 + rng.IntN(10)})
						inserted++
						if rng.IntN(2) == 0 {
							b.clock.Advance(time.Second)
						}
					}
				}
				for id, n := range seen {
					if n > 1 {
						t.Errorf("%s seen %d times", id, n)
					}
				}
				for _, id := range original {
					if seen[id] != 1 {
						t.Errorf("original %s seen %d times", id, seen[id])
					}
				}
				less := sortKey(field)
				for i := 1; i < len(all); i++ {
					c := less(all[i-1], all[i])
					if sign == "-" {
						c = -c
					}
					if c >= 0 {
						t.Fatalf("out of order at %d: %+v then %+v", i, all[i-1], all[i])
					}
				}
			})
		}
	}
	if inserted == 0 {
		t.Fatal("no automations were inserted between pages")
	}
}

// TestListPrevLinks walks forward, then back through prev links, and gets
// the same pages.
func TestListPrevLinks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	seedVaried(b, alice, 95, rand.New(rand.NewPCG(3, 4)))
	for _, sort := range []string{"-name", "+maxConcurrentRuns", "-createdAt"} {
		var forward [][]string
		var last itemPage
		next := base + "?limit=10&sort=" + url.QueryEscape(sort)
		for next != "" {
			var p itemPage
			b.get(next, alice).decode(t, http.StatusOK, &p)
			forward = append(forward, pageIDs(p))
			next, last = "", p
			if p.Links.Next != nil {
				next = p.Links.Next.Href
			}
		}
		if len(forward) != 10 || len(forward[9]) != 5 {
			t.Fatalf("%s: %d pages, last with %d items", sort, len(forward), len(forward[len(forward)-1]))
		}
		if first := forward[0]; first == nil {
			t.Fatal("empty first page")
		}
		p := last
		for i := len(forward) - 2; i >= 0; i-- {
			if p.Links.Prev == nil {
				t.Fatalf("%s: page %d has no prev link", sort, i+2)
			}
			var prev itemPage
			b.get(p.Links.Prev.Href, alice).decode(t, http.StatusOK, &prev)
			if got := pageIDs(prev); !slices.Equal(got, forward[i]) {
				t.Fatalf("%s: prev of page %d = %v, want %v", sort, i+2, got, forward[i])
			}
			if prev.Links.Next == nil {
				t.Fatalf("%s: a page reached by prev has no next link", sort)
			}
			p = prev
		}
		if p.Links.Prev != nil {
			t.Errorf("%s: the first page, reached backward, still has a prev link", sort)
		}
	}
}

func pageIDs(p itemPage) []string {
	ids := make([]string, len(p.Data))
	for i, it := range p.Data {
		ids[i] = it.ID
	}
	return ids
}

// TestListFilter checks SCIM filters against the set they should select.
func TestListFilter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	mk := func(name, mode string) {
		b.create(alice, map[string]any{"name": name, "workspace": map[string]any{"blocks": []any{map[string]any{
			"type": "StartBlock", "inputs": []any{map[string]any{"id": "run_mode", "value": mode}}}}}})
	}
	mk("Daily report", "scheduled")
	mk("daily cleanup", "manual")
	mk("Webhook intake", "webhook")
	mk("100% done_ok", "triggered")
	mk(`quote " and {braces}`, "manual")
	b.create(b.creator("bob"), map[string]any{"name": "Daily bob"})
	admin := b.user("root", access.RoleTenantAdmin)

	tests := []struct {
		filter string
		admin  bool
		want   []string
	}{
		{`name eq "Daily report"`, false, []string{"Daily report"}},
		{`name eq "daily report"`, false, nil},
		{`name co "DAILY"`, false, []string{"Daily report", "daily cleanup"}},
		{`name sw "daily"`, false, []string{"Daily report", "daily cleanup"}},
		{`name ew "INTAKE"`, false, []string{"Webhook intake"}},
		{`name co "%"`, false, []string{"100% done_ok"}},
		{`name co "_"`, false, []string{"100% done_ok"}},
		{`name co "{braces}"`, false, []string{`quote " and {braces}`}},
		{`name eq "quote \" and {braces}"`, false, []string{`quote " and {braces}`}},
		{`runMode eq "manual"`, false, []string{"daily cleanup", `quote " and {braces}`}},
		{`runMode ne "manual"`, false, []string{"Daily report", "Webhook intake", "100% done_ok"}},
		{`runMode eq "manual" and name sw "d"`, false, []string{"daily cleanup"}},
		{`runMode eq "webhook" or runMode eq "triggered"`, false, []string{"Webhook intake", "100% done_ok"}},
		{`not (runMode eq "manual") and name co "daily"`, false, []string{"Daily report"}},
		{`(runMode eq "manual" or runMode eq "scheduled") and not (name sw "q")`, false, []string{"Daily report", "daily cleanup"}},
		{`name gt "Webhook intake"`, false, []string{"daily cleanup", `quote " and {braces}`}},
		{`name le "100% done_ok"`, false, []string{"100% done_ok"}},
		{`spaceId pr`, false, nil},
		{`spaceId eq null`, false, []string{"Daily report", "daily cleanup", "Webhook intake", "100% done_ok", `quote " and {braces}`}},
		{`lastRunStatus pr`, false, nil},
		{`ownerId eq "bob"`, false, nil}, // bob's are not alice's to list
		{`ownerId eq "bob"`, true, []string{"Daily bob"}},
		{`name sw "Daily"`, true, []string{"Daily report", "daily cleanup", "Daily bob"}},
	}
	for _, tt := range tests {
		path := base + "?limit=200&filter=" + url.QueryEscape(tt.filter)
		bearer := alice
		if tt.admin {
			path += "&listAll=true"
			bearer = admin
		}
		var p itemPage
		b.get(path, bearer).decode(t, http.StatusOK, &p)
		var got []string
		for _, it := range p.Data {
			got = append(got, it.Name)
		}
		slices.Sort(got)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("filter %s: got %q, want %q", tt.filter, got, want)
		}
	}
	// A filter travels in the pagination links.
	var p itemPage
	b.get(base+"?limit=1&filter="+url.QueryEscape(`name co "daily"`), alice).decode(t, http.StatusOK, &p)
	if p.Links.Next == nil {
		t.Fatal("no next link")
	}
	var p2 itemPage
	b.get(p.Links.Next.Href, alice).decode(t, http.StatusOK, &p2)
	if len(p2.Data) != 1 || !strings.Contains(strings.ToLower(p2.Data[0].Name), "daily") || p2.Links.Next != nil {
		t.Errorf("second filtered page = %+v", p2)
	}
}

// TestPublicURL checks that links use the configured public base URL, as
// behind a reverse proxy.
func TestPublicURL(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOpts) { o.cfg.PublicURL = "https://automate.example.com/" })
	alice := b.creator("alice")
	b.create(alice, map[string]any{"name": "a"})
	b.create(alice, map[string]any{"name": "b"})
	var p itemPage
	b.get(base+"?limit=1&sort=-name", alice).decode(t, http.StatusOK, &p)
	if p.Links.Next == nil || !strings.HasPrefix(p.Links.Next.Href, "https://automate.example.com"+base+"?") ||
		!strings.Contains(p.Links.Next.Href, "sort=-name") || !strings.Contains(p.Links.Next.Href, "limit=1") {
		t.Fatalf("next link = %+v", p.Links.Next)
	}
	// The link works when sent to this server.
	u, _ := url.Parse(p.Links.Next.Href)
	var p2 itemPage
	b.get(base+"?"+u.RawQuery, alice).decode(t, http.StatusOK, &p2)
	if len(p2.Data) != 1 || p2.Data[0].Name != "a" {
		t.Errorf("second page = %+v", p2.Data)
	}
}
