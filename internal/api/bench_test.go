package api_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
)

// benchGet measures one authenticated GET through the whole stack: a
// loopback TCP connection (kept alive), routing, JWT verification, the
// rate limiter (on, with limits too high to bite), SQLite and JSON.
func benchGet(b *testing.B, path string, wantItems int) {
	bb := setup(b, func(o *setupOpts) {
		o.cfg.RateLimits.Tier1PerMinute = 1 << 30
		o.cfg.RateLimits.Tier2PerMinute = 1 << 30
	})
	alice := bb.creator("alice")
	ws := map[string]any{"blocks": []any{map[string]any{"type": "StartBlock", "inputs": []any{map[string]any{"id": "run_mode", "value": "manual"}}}}}
	var first automationBody
	for i := range max(wantItems, 1) {
		first = bb.create(alice, map[string]any{"name": fmt.Sprintf("automation %04d", i), "description": "benchmark", "workspace": ws})
	}
	url := bb.url + fmt.Sprintf(path, first.ID)
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	client := bb.http
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || n == 0 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

func BenchmarkGetAutomation(b *testing.B) { benchGet(b, base+"/%s", 1) }

func BenchmarkListAutomations100(b *testing.B) { benchGet(b, base+"?limit=100&x=%s", 100) }
