package api

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"automate/internal/automation"
)

// automationJSON is AutomationDetailResponseObject as encoding/json sees it:
// the reference that appendAutomation must match. It is, and (with Schedules
// left out) AutomationListObject.
type automationJSON struct {
	ID                string          `json:"id"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	State             string          `json:"state"`
	OwnerID           string          `json:"ownerId"`
	SpaceID           string          `json:"spaceId,omitempty"`
	RunMode           string          `json:"runMode"`
	Schedules         json.RawMessage `json:"schedules,omitempty"`
	Workspace         json.RawMessage `json:"workspace"`
	SnippetIDs        []string        `json:"snippetIds"`
	EndpointIDs       []string        `json:"endpointIds"`
	ConnectorIDs      []string        `json:"connectorIds"`
	ExecutionToken    string          `json:"executionToken"`
	MaxConcurrentRuns int             `json:"maxConcurrentRuns"`
	LastRunAt         string          `json:"lastRunAt,omitempty"`
	LastRunStatus     string          `json:"lastRunStatus,omitempty"`
	CreatedAt         string          `json:"createdAt"`
	UpdatedAt         string          `json:"updatedAt"`
}

func toJSON(a *automation.Automation, detail bool) automationJSON {
	j := automationJSON{
		ID: a.ID, Name: a.Name, Description: a.Description, State: a.State, OwnerID: a.OwnerID, SpaceID: a.SpaceID,
		RunMode: a.RunMode, Workspace: a.Workspace, SnippetIDs: a.SnippetIDs, EndpointIDs: a.EndpointIDs,
		ConnectorIDs: a.ConnectorIDs, ExecutionToken: a.ExecutionToken, MaxConcurrentRuns: a.MaxConcurrentRuns,
		LastRunAt: formatTime(a.LastRunAt), LastRunStatus: a.LastRunStatus,
		CreatedAt: formatTime(a.CreatedAt), UpdatedAt: formatTime(a.UpdatedAt),
	}
	if detail {
		// Schedules arrive with the scheduler; until then there are none.
		j.Schedules = json.RawMessage(`[]`)
	}
	return j
}

func TestAppendAutomationMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	texts := []string{"", "plain", "quote \" back \\ slash", "<script>&amp;</script>", "tab\tnew\nline\r\b\f\x00\x1f",
		"é ü 日本", "\u2028\u2029", "bad \xff\xfe utf8", "\x7f del"}
	rng := rand.New(rand.NewPCG(5, 6))
	pick := func() string { return texts[rng.IntN(len(texts))] }
	for i := range 300 {
		a := &automation.Automation{
			ID: pick(), Name: pick(), Description: pick(), State: pick(), OwnerID: pick(), RunMode: pick(),
			Workspace: json.RawMessage(`{"blocks":[{"type":"StartBlock","x":"\\u00e9"}]}`), ExecutionToken: pick(),
			SnippetIDs: []string{}, EndpointIDs: []string{pick(), pick()}, ConnectorIDs: []string{pick()},
			MaxConcurrentRuns: rng.IntN(1000), CreatedAt: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).Truncate(time.Microsecond),
			UpdatedAt: time.Unix(rng.Int64N(4e9), 0),
		}
		if i%2 == 0 {
			a.SpaceID, a.LastRunStatus, a.LastRunAt = pick(), pick(), time.Unix(rng.Int64N(4e9), 0)
		}
		if i%5 == 0 {
			a.SnippetIDs = nil
		}
		for _, detail := range []bool{false, true} {
			want, err := json.Marshal(toJSON(a, detail))
			if err != nil {
				t.Fatal(err)
			}
			if got := appendAutomation(nil, a, detail, nil); string(got) != string(want) {
				t.Fatalf("detail=%v\n got %s\nwant %s", detail, got, want)
			}
		}
	}
}

// TestWorkspaceVerbatim: the stored workspace goes out byte for byte, where
// encoding/json would have HTML-escaped it.
func TestWorkspaceVerbatim(t *testing.T) {
	t.Parallel()
	ws := `{"blocks":[{"type":"StartBlock","x":"<&> é"}]}`
	a := &automation.Automation{Workspace: json.RawMessage(ws)}
	got := string(appendAutomation(nil, a, true, nil))
	if !strings.Contains(got, `"workspace":`+ws+`,`) {
		t.Errorf("workspace not verbatim: %s", got)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Errorf("not JSON: %v", err)
	}
}
