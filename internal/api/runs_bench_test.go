package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"automate/internal/engine"
	"automate/internal/token"
)

// benchServer is a server on the wall clock with rate limits out of reach.
func benchServer(b *testing.B) *bundle {
	bb := setup(b, func(o *setupOpts) {
		o.realClock = true
		o.cfg.RateLimits.Tier1PerMinute = 1 << 30
		o.cfg.RateLimits.Tier2PerMinute = 1 << 30
	})
	// Let one automation run 64 at once.
	bb.request("PUT", base+"/settings", bb.user("root", "TenantAdmin"), map[string]any{"maxConcurrentRunsPerAutomation": 64}).wantStatus(b, http.StatusOK)
	return bb
}

// rawPost sends a JSON POST without the contract check (it would dominate).
func (b *bundle) rawPost(url, bearer string, body []byte, header ...string) (*http.Response, []byte) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, raw
}

func percentile(ds []time.Duration, p float64) time.Duration {
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

// BenchmarkRunThroughput creates Start → Variable → IfElse → Show runs
// through HTTP from 16 clients and waits until every one has finished with
// its journal persisted; it reports runs per second end to end.
func BenchmarkRunThroughput(b *testing.B) {
	bb := benchServer(b)
	alice := bb.creator("alice")
	const automations, clients = 4, 16
	var ids []string
	for i := range automations {
		a := bb.create(alice, map[string]any{"name": fmt.Sprint("bench ", i), "maxConcurrentRuns": 64, "workspace": benchFlow()})
		ids = append(ids, a.ID)
	}
	type created struct{ automation, run string }
	out := make(chan created, b.N)
	work := make(chan int, b.N)
	for i := range b.N {
		work <- i
	}
	close(work)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range work {
				aid := ids[i%automations]
				body, _ := json.Marshal(map[string]any{"context": "api", "inputs": map[string]any{"n": i % 7}})
				res, raw := bb.rawPost(bb.url+base+"/"+aid+"/runs", alice, body)
				if res.StatusCode != http.StatusCreated {
					b.Errorf("create run: %d %s", res.StatusCode, raw)
					return
				}
				var r struct{ ID string }
				json.Unmarshal(raw, &r)
				out <- created{aid, r.ID}
			}
		})
	}
	wg.Wait()
	close(out)
	ctx := context.Background()
	for c := range out {
		r, err := bb.dispatch.Wait(ctx, token.DefaultTenant, c.automation, c.run)
		if err != nil || r.Status != "finished" {
			b.Fatalf("run %s: %v %v", c.run, r, err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "runs/s")
}

// BenchmarkDispatchLatency measures, on an idle server, the time from
// sending POST /runs to the StartBlock beginning (its journal entry's
// start time).
func BenchmarkDispatchLatency(b *testing.B) {
	bb := benchServer(b)
	alice := bb.creator("alice")
	a := bb.create(alice, map[string]any{"name": "latency", "workspace": benchFlow()})
	body, _ := json.Marshal(map[string]any{"context": "api", "inputs": map[string]any{"n": 1}})
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		sent := time.Now()
		res, raw := bb.rawPost(bb.url+base+"/"+a.ID+"/runs", alice, body)
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("%d %s", res.StatusCode, raw)
		}
		var r struct{ ID string }
		json.Unmarshal(raw, &r)
		if _, err := bb.dispatch.Wait(ctx, token.DefaultTenant, a.ID, r.ID); err != nil {
			b.Fatal(err)
		}
		journal, err := bb.db.RunJournal(ctx, r.ID)
		if err != nil || len(journal) == 0 {
			b.Fatalf("journal: %v", err)
		}
		var e engine.Entry
		json.Unmarshal(journal[0].Entry, &e)
		lat = append(lat, e.Start.Sub(sent))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
}

// hookServer is a bench server with a triggered automation that echoes
// its input; it returns the run URL and the execution token.
func hookServer(b *testing.B, maxRuns int) (bb *bundle, url, token string) {
	bb = benchServer(b)
	a := bb.create(bb.creator("alice"), map[string]any{"name": "hook", "maxConcurrentRuns": maxRuns,
		"workspace": flow("triggered", nil, show("out", map[string]any{"n": "{$.Start.n}"}))})
	return bb, bb.url + "/api/v1/automations/" + a.ID + "/actions/execute", a.ExecutionToken
}

// BenchmarkRunURLSync measures a synchronous run URL call (request to
// answer with the run's output) one at a time.
func BenchmarkRunURLSync(b *testing.B) {
	bb, url, token := hookServer(b, 1)
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		res, raw := bb.rawPost(url, "", []byte(`{"n":3}`), "X-Execution-Token", token)
		lat = append(lat, time.Since(t0))
		if res.StatusCode != http.StatusOK || string(raw) != `{"n":3}` {
			b.Fatalf("%d %s", res.StatusCode, raw)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
}

// BenchmarkRunURLSyncParallel is the same call from 16 concurrent clients;
// it reports calls per second.
func BenchmarkRunURLSyncParallel(b *testing.B) {
	bb, url, token := hookServer(b, 64)
	bb.http.Transport.(*http.Transport).MaxIdleConnsPerHost = 32
	b.SetParallelism(16 / max(1, runtime.GOMAXPROCS(0)))
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, raw := bb.rawPost(url, "", []byte(`{"n":3}`), "X-Execution-Token", token)
			if res.StatusCode != http.StatusOK {
				b.Errorf("%d %s", res.StatusCode, raw)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}
