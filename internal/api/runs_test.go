package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"automate/internal/access"
	"automate/internal/run"
	"automate/internal/token"
)

// block is one block of a test workspace; flow chains them.
type block map[string]any

func input(id string, v any) map[string]any { return map[string]any{"id": id, "value": v} }

// flow returns a workspace whose StartBlock (run mode, extra inputs) is
// followed by blocks, chained in order. A block's "id" defaults to B<n>.
func flow(runMode string, startInputs []any, blocks ...block) map[string]any {
	start := block{"id": "S", "type": "StartBlock", "name": "Start",
		"inputs": append([]any{input("run_mode", runMode)}, startInputs...)}
	all := []any{start}
	prev := start
	for i, bl := range blocks {
		if bl["id"] == nil {
			bl["id"] = fmt.Sprintf("B%d", i+1)
		}
		if bl["inputs"] == nil {
			bl["inputs"] = []any{}
		}
		prev["childId"] = bl["id"]
		prev = bl
		all = append(all, bl)
	}
	return map[string]any{"blocks": all, "variables": []any{}}
}

func show(name string, v any) block {
	return block{"type": "ShowBlock", "name": name, "inputs": []any{input("input", v)}}
}

func sleep(secs string) block {
	return block{"type": "SleepBlock", "name": "nap", "inputs": []any{input("time", secs)}}
}

func callURL(url string) block {
	return block{"type": "CallUrlBlock", "name": "call", "inputs": []any{input("url", url), input("method", "POST"),
		input("body", map[string]any{"n": "{$.Start.n}"}), input("timeout", "60")}}
}

// gate is an outside server whose calls wait until released; it records
// how many were in flight at most and the order they came in.
type gate struct {
	*httptest.Server
	release  chan struct{}
	opened   sync.Once
	arrived  chan int
	active   atomic.Int32
	maxSeen  atomic.Int32
	mu       sync.Mutex
	arrivals []int
}

func newGate(t *testing.T) *gate {
	g := &gate{release: make(chan struct{}), arrived: make(chan int, 100)}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			N int `json:"n"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		n := g.active.Add(1)
		for {
			m := g.maxSeen.Load()
			if n <= m || g.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		g.mu.Lock()
		g.arrivals = append(g.arrivals, body.N)
		g.mu.Unlock()
		g.arrived <- body.N
		select {
		case <-g.release:
		case <-r.Context().Done():
		}
		g.active.Add(-1)
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(func() {
		g.open()
		g.Close()
	})
	return g
}

// open lets every call through, now and later.
func (g *gate) open() { g.opened.Do(func() { close(g.release) }) }

// wait waits for a call to arrive and returns its n.
func (g *gate) wait(t *testing.T) int {
	t.Helper()
	select {
	case n := <-g.arrived:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no call arrived at the outside server")
		return 0
	}
}

type runBody struct {
	ID                 string            `json:"id"`
	Status             string            `json:"status"`
	Context            string            `json:"context"`
	Title              string            `json:"title"`
	Error              []json.RawMessage `json:"error"`
	Metrics            map[string]any    `json:"metrics"`
	OwnerID            string            `json:"ownerId"`
	ExecutedByID       string            `json:"executedById"`
	StartTime          *string           `json:"startTime"`
	StopTime           *string           `json:"stopTime"`
	ScheduledStartTime *string           `json:"scheduledStartTime"`
	Duration           *int64            `json:"duration"`
}

type runList struct {
	Data  []runBody `json:"data"`
	Links struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"links"`
}

func (b *bundle) startRun(bearer, automationID string, inputs any) runBody {
	b.t.Helper()
	body := map[string]any{"context": "api"}
	if inputs != nil {
		body["inputs"] = inputs
	}
	var r runBody
	b.post(base+"/"+automationID+"/runs", bearer, body).decode(b.t, http.StatusCreated, &r)
	return r
}

// waitRun waits (on the dispatcher's signal, not by polling) for a run
// to end and reads it through the API.
func (b *bundle) waitRun(bearer, automationID, runID string) runBody {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := b.dispatch.Wait(ctx, token.DefaultTenant, automationID, runID); err != nil {
		// What the store holds tells a stuck run from a lost notification.
		r, _ := b.db.GetRun(context.Background(), token.DefaultTenant, automationID, runID)
		if r == nil {
			r = &run.Run{}
		}
		b.t.Fatalf("run %s did not end: %v (stored: status %q, lease owner %q until %v, wake %v, attempt %d)",
			runID, err, r.Status, r.LeaseOwner, r.LeaseExpiresAt, r.WakeAt, r.Attempt)
	}
	var r runBody
	b.get(base+"/"+automationID+"/runs/"+runID, bearer).decode(b.t, http.StatusOK, &r)
	return r
}

// benchFlow is Start → Variable → IfElse → Show, the workload of the
// throughput benchmark.
func benchFlow() map[string]any {
	return map[string]any{
		"blocks": []any{
			block{"id": "S", "type": "StartBlock", "name": "Start", "inputs": []any{input("run_mode", "manual")}, "childId": "V"},
			block{"id": "V", "type": "VariableBlock", "name": "setN", "inputs": []any{}, "variableGuid": "g-n", "childId": "I",
				"operations": []any{map[string]any{"id": "set_value", "key": "k1", "name": "set_value", "value": "{$.Start.n}"}}},
			block{"id": "I", "type": "IfElseBlock", "name": "big", "childTrueId": "T", "childFalseId": "F",
				"inputs": []any{input("conditions", map[string]any{"mode": "all",
					"conditions": []any{map[string]any{"input1": "{$.n}", "operator": ">", "input2": "3"}}})}},
			block{"id": "T", "type": "ShowBlock", "name": "yes", "inputs": []any{input("input", "big {$.n}")}},
			block{"id": "F", "type": "ShowBlock", "name": "no", "inputs": []any{input("input", "small {$.n}")}},
		},
		"variables": []any{map[string]any{"guid": "g-n", "name": "n", "type": "number"}},
	}
}

// TestRunLifecycle takes one run from POST /runs to finished and reads it
// every way the API offers.
func TestRunLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "flow", "workspace": benchFlow()})
	r := b.startRun(alice, a.ID, map[string]any{"n": 5})
	if r.Context != "api_async" || r.ExecutedByID != "alice" || r.OwnerID != "alice" {
		t.Errorf("new run %+v", r)
	}
	if r.Status != "running" && r.Status != "queued" {
		t.Errorf("new run status %q", r.Status)
	}
	got := b.waitRun(alice, a.ID, r.ID)
	if got.Status != "finished" || got.StartTime == nil || got.StopTime == nil || len(got.Error) != 0 {
		t.Fatalf("ended run %+v", got)
	}
	if _, ok := got.Metrics["totalApiCalls"]; !ok {
		t.Errorf("metrics %v", got.Metrics)
	}
	var list runList
	b.get(base+"/"+a.ID+"/runs", alice).decode(t, http.StatusOK, &list)
	if len(list.Data) != 1 || list.Data[0].ID != r.ID || list.Data[0].Duration == nil {
		t.Errorf("runs list %+v", list)
	}
	var auto struct {
		LastRunStatus string `json:"lastRunStatus"`
		LastRunAt     string `json:"lastRunAt"`
	}
	b.get(base+"/"+a.ID, alice).decode(t, http.StatusOK, &auto)
	if auto.LastRunStatus != "finished" || auto.LastRunAt == "" {
		t.Errorf("automation after its run: %+v", auto)
	}
	res := b.get(base+"/"+a.ID+"/runs/"+r.ID+"/debug", alice)
	res.wantStatus(t, http.StatusOK)
	log := string(res.body)
	for _, want := range []string{"setN", "big", "yes", `big 5`} {
		if !strings.Contains(log, want) {
			t.Errorf("debug log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "small") {
		t.Errorf("debug log shows a block that did not run:\n%s", log)
	}
	var exp struct {
		URL string `json:"url"`
	}
	b.post(base+"/"+a.ID+"/runs/"+r.ID+"/actions/export", alice, nil).decode(t, http.StatusOK, &exp)
	if !strings.HasSuffix(exp.URL, "/runs/"+r.ID+"/debug") || !strings.HasPrefix(exp.URL, b.url) {
		t.Errorf("export url %q", exp.URL)
	}
	// Another user cannot see the run; a wrong run id is 404.
	b.get(base+"/"+a.ID+"/runs/"+r.ID, b.creator("bob")).wantError(t, http.StatusNotFound, "HTTP-404")
	b.get(base+"/"+a.ID+"/runs/nope", alice).wantError(t, http.StatusNotFound, "HTTP-404")
}

// TestRunBadInput checks POST /runs validation and the disabled state.
func TestRunBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "flow", "workspace": benchFlow()})
	p := base + "/" + a.ID + "/runs"
	b.post(p, alice, map[string]any{"context": "editor"}).wantError(t, http.StatusBadRequest, "AUTOMATE-VALIDATION")
	b.post(p, alice, map[string]any{}).wantError(t, http.StatusBadRequest, "AUTOMATE-VALIDATION")
	b.post(p, alice, map[string]any{"context": "api", "inputs": []int{1}}).wantError(t, http.StatusBadRequest, "AUTOMATE-VALIDATION")
	b.post(p, alice, "{").wantError(t, http.StatusBadRequest, "AUTOMATE-INVALID-JSON")
	b.get(p+"?limit=201", alice).wantError(t, http.StatusBadRequest, "AUTOMATE-INVALID-PARAMETER")
	b.get(p+"?sort=name", alice).wantError(t, http.StatusBadRequest, "AUTOMATE-INVALID-PARAMETER")
	b.get(p+"?filter="+q(`name eq "x"`), alice).wantError(t, http.StatusBadRequest, "AUTOMATE-INVALID-FILTER")
	b.get(p+"?filter="+q(`startTime gt "yesterday"`), alice).wantError(t, http.StatusBadRequest, "AUTOMATE-INVALID-FILTER")
	b.post(base+"/nope/runs", alice, map[string]any{"context": "api"}).wantError(t, http.StatusNotFound, "HTTP-404")
	b.post(p, b.creator("bob"), map[string]any{"context": "api"}).wantError(t, http.StatusNotFound, "HTTP-404")
	b.post(base+"/"+a.ID+"/actions/disable", alice, nil).wantStatus(t, http.StatusNoContent)
	b.post(p, alice, map[string]any{"context": "api"}).wantError(t, http.StatusBadRequest, "AUTOMATE-AUTOMATION-DISABLED")
}

// TestConcurrencyLimit creates 10 runs at once of automations limited to
// 1 and 3 live runs: never more run at once, all finish, and they start
// in creation order.
func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			b := setup(t).with(t)
			g := newGate(t)
			alice := b.creator("alice")
			a := b.create(alice, map[string]any{"name": "limited", "maxConcurrentRuns": limit,
				"workspace": flow("manual", nil, callURL(g.URL), show("out", "{$.Start.n}"))})
			var runs []runBody
			for i := range 10 {
				runs = append(runs, b.startRun(alice, a.ID, map[string]any{"n": i}))
			}
			// The first `limit` runs reach the outside server; the rest wait.
			for range limit {
				g.wait(t)
			}
			var list runList
			b.get(base+"/"+a.ID+"/runs?limit=20&filter="+q(`status eq "queued"`), alice).decode(t, http.StatusOK, &list)
			if len(list.Data) != 10-limit {
				t.Errorf("%d queued runs, want %d", len(list.Data), 10-limit)
			}
			g.open()
			for _, r := range runs {
				if got := b.waitRun(alice, a.ID, r.ID); got.Status != "finished" {
					t.Errorf("run %s ended %s", r.ID, got.Status)
				}
			}
			if m := g.maxSeen.Load(); m > int32(limit) {
				t.Errorf("%d runs were live at once, limit %d", m, limit)
			}
			g.mu.Lock()
			arrivals := slices.Clone(g.arrivals)
			g.mu.Unlock()
			if len(arrivals) != 10 {
				t.Fatalf("arrivals %v", arrivals)
			}
			// FIFO: a run never starts before one created earlier than it,
			// beyond the limit's worth of overlap.
			for i, n := range arrivals {
				if n > i+limit-1 {
					t.Errorf("run %d started as the %dth (arrivals %v)", n, i, arrivals)
				}
			}
		})
	}
}

// TestQueueCap refuses runs beyond the queue's cap as exceeded limit.
func TestQueueCap(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOpts) { o.dispatch.QueueCap = 2 })
	g := newGate(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "capped", "workspace": flow("manual", nil, callURL(g.URL))})
	first := b.startRun(alice, a.ID, nil)
	g.wait(t)
	q1, q2 := b.startRun(alice, a.ID, nil), b.startRun(alice, a.ID, nil)
	over := b.startRun(alice, a.ID, nil)
	if q1.Status != "queued" || q2.Status != "queued" || over.Status != "exceeded limit" {
		t.Fatalf("statuses %s %s %s", q1.Status, q2.Status, over.Status)
	}
	if len(over.Error) != 1 || over.StopTime == nil {
		t.Errorf("refused run %+v", over)
	}
	g.open()
	for _, r := range []runBody{first, q1, q2} {
		if got := b.waitRun(alice, a.ID, r.ID); got.Status != "finished" {
			t.Errorf("run ended %s", got.Status)
		}
	}
}

// TestStopRuns stops a queued run, a run waiting on a call, and runs in a
// 30 s sleep (parked, and held by a worker): each is stopped at once.
func TestStopRuns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := newGate(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "stoppable", "workspace": flow("manual", nil, callURL(g.URL), show("out", "done"))})
	running := b.startRun(alice, a.ID, nil)
	g.wait(t)
	queued := b.startRun(alice, a.ID, nil)
	stop := func(r runBody) {
		b.post(base+"/"+a.ID+"/runs/"+r.ID+"/actions/stop", alice, nil).wantStatus(t, http.StatusNoContent)
	}
	stop(queued)
	var got runBody
	b.get(base+"/"+a.ID+"/runs/"+queued.ID, alice).decode(t, http.StatusOK, &got)
	if got.Status != "stopped" {
		t.Errorf("stopped queued run is %s", got.Status)
	}
	stop(running)
	if got := b.waitRun(alice, a.ID, running.ID); got.Status != "stopped" {
		t.Errorf("stopped running run is %s", got.Status)
	}
	stop(running) // stopping an ended run changes nothing
	if got := b.waitRun(alice, a.ID, running.ID); got.Status != "stopped" {
		t.Errorf("run is %s after a second stop", got.Status)
	}

	for _, parkAfter := range []time.Duration{time.Second, time.Hour} {
		t.Run(fmt.Sprint("park after ", parkAfter), func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(o *setupOpts) { o.dispatch.ParkAfter = parkAfter }).with(t)
			alice := b.creator("alice")
			a := b.create(alice, map[string]any{"name": "sleepy", "workspace": flow("manual", nil, sleep("30"), show("out", "woke"))})
			r := b.startRun(alice, a.ID, nil)
			// Wait until the run is in its sleep: the sleep block's journal entry
			// (parked) or its start (held) shows in the debug log.
			waitFor(t, func() bool {
				var cur runBody
				b.get(base+"/"+a.ID+"/runs/"+r.ID, alice).decode(t, http.StatusOK, &cur)
				return cur.Status == "running"
			})
			began := time.Now()
			b.post(base+"/"+a.ID+"/runs/"+r.ID+"/actions/stop", alice, nil).wantStatus(t, http.StatusNoContent)
			got := b.waitRun(alice, a.ID, r.ID)
			if took := time.Since(began); got.Status != "stopped" || took > time.Second {
				t.Errorf("run in a 30 s sleep: %s after %v", got.Status, took)
			}
		})
	}
}

// waitFor polls cond; only for states the API exposes no signal for.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRetryKeepsInputs retries a run: the new run has the old one's inputs.
func TestRetryKeepsInputs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "echo", "workspace": flow("manual", nil, show("out", "n={$.Start.n}"))})
	r := b.startRun(alice, a.ID, map[string]any{"n": 42})
	b.waitRun(alice, a.ID, r.ID)
	b.post(base+"/"+a.ID+"/runs/"+r.ID+"/actions/retry", alice, nil).wantStatus(t, http.StatusNoContent)
	var list runList
	b.get(base+"/"+a.ID+"/runs?sort=-id", alice).decode(t, http.StatusOK, &list)
	if len(list.Data) != 2 || list.Data[1].ID != r.ID {
		t.Fatalf("runs after retry %+v", list.Data)
	}
	retried := b.waitRun(alice, a.ID, list.Data[0].ID)
	if retried.Status != "finished" {
		t.Fatalf("retried run %+v", retried)
	}
	debug := b.get(base+"/"+a.ID+"/runs/"+retried.ID+"/debug", alice)
	if !strings.Contains(string(debug.body), "n=42") {
		t.Errorf("retried run did not see the inputs:\n%s", debug.body)
	}
}

// TestDebugLogCensors keeps a censored block's data out of the debug log.
func TestDebugLogCensors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	secret := show("secret", "pw={$.Start.password}")
	secret["settings"] = []any{map[string]any{"id": "automations_censor_data", "value": true}}
	a := b.create(alice, map[string]any{"name": "censor", "workspace": flow("manual", nil, secret, show("open", "visible"))})
	r := b.startRun(alice, a.ID, map[string]any{"password": "hunter2"})
	b.waitRun(alice, a.ID, r.ID)
	log := string(b.get(base+"/"+a.ID+"/runs/"+r.ID+"/debug", alice).body)
	if strings.Contains(log, "pw=") || !strings.Contains(log, "secret") || !strings.Contains(log, "visible") {
		t.Errorf("debug log:\n%s", log)
	}
}

// TestRunsPagination pages through 25 runs with next links.
func TestRunsPagination(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "many", "maxConcurrentRuns": 5, "workspace": flow("manual", nil, show("o", "x"))})
	want := map[string]bool{}
	for range 25 {
		r := b.startRun(alice, a.ID, nil)
		want[r.ID] = true
	}
	seen := map[string]bool{}
	next := base + "/" + a.ID + "/runs?sort=-id"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		var list runList
		b.get(strings.TrimPrefix(next, b.url), alice).decode(t, http.StatusOK, &list)
		if len(list.Data) > 10 {
			t.Fatalf("page of %d", len(list.Data))
		}
		for _, r := range list.Data {
			if seen[r.ID] {
				t.Fatalf("run %s twice", r.ID)
			}
			seen[r.ID] = true
		}
		next = ""
		if list.Links.Next != nil {
			next = list.Links.Next.Href
		}
	}
	if len(seen) != len(want) {
		t.Errorf("saw %d runs of %d", len(seen), len(want))
	}
}

// TestDeleteStopsRuns deletes an automation with a run in progress.
func TestDeleteStopsRuns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := newGate(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "doomed", "workspace": flow("manual", nil, callURL(g.URL))})
	b.startRun(alice, a.ID, nil)
	g.wait(t)
	b.startRun(alice, a.ID, nil)
	b.request("DELETE", base+"/"+a.ID, alice, nil).wantStatus(t, http.StatusNoContent)
	// The interrupted call ends: the worker let go of it.
	waitFor(t, func() bool { return g.active.Load() == 0 })
	b.get(base+"/"+a.ID+"/runs", alice).wantError(t, http.StatusNotFound, "HTTP-404")
}

// runURL calls an automation's run URL.
func (b *bundle) runURL(method, idOrName, token, query string, body any) response {
	b.t.Helper()
	path := "/api/v1/automations/" + idOrName + "/actions/execute"
	if query != "" {
		path += "?" + query
	}
	req := b.newRequest(method, path, "", body)
	if token != "" {
		req.Header.Set("X-Execution-Token", token)
	}
	return b.do(req)
}

// TestRunURL drives the run URL: sync output, async 202, timeout 202,
// tokens, run modes, names and GET query inputs.
func TestRunURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	echo := b.create(alice, map[string]any{"name": "echo-hook", "maxConcurrentRuns": 5,
		"workspace": flow("triggered", nil, show("out", map[string]any{"got": "{$.Start.n}"}))})
	text := b.create(alice, map[string]any{"name": "text-hook",
		"workspace": flow("triggered", nil, show("out", "hello {$.Start.who}"))})
	failing := b.create(alice, map[string]any{"name": "failing-hook",
		"workspace": flow("triggered", nil, block{"type": "ErrorBlock", "name": "boom", "inputs": []any{input("message", "it broke")}})})
	manual := b.create(alice, map[string]any{"name": "manual", "workspace": flow("manual", nil, show("o", "x"))})

	t.Run("sync JSON", func(t *testing.T) {
		res := b.with(t).runURL("POST", echo.ID, echo.ExecutionToken, "", map[string]any{"n": 7})
		res.wantStatus(t, http.StatusOK)
		if string(res.body) != `{"got":7}` || res.header.Get("X-Run-Id") == "" {
			t.Errorf("body %s, run id %q", res.body, res.header.Get("X-Run-Id"))
		}
		var r runBody
		b.with(t).get(base+"/"+echo.ID+"/runs/"+res.header.Get("X-Run-Id"), alice).decode(t, http.StatusOK, &r)
		if r.Context != "api_sync" || r.Status != "finished" || r.ExecutedByID != "alice" {
			t.Errorf("run %+v", r)
		}
	})
	t.Run("sync text by name with GET query and token in the query", func(t *testing.T) {
		res := b.with(t).runURL("GET", "text-hook", "", "who=world&X-Execution-Token="+text.ExecutionToken, nil)
		res.wantStatus(t, http.StatusOK)
		if string(res.body) != "hello world" || !strings.HasPrefix(res.header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s %q", res.header.Get("Content-Type"), res.body)
		}
	})
	t.Run("async", func(t *testing.T) {
		var acc struct{ ID, Status string }
		b.with(t).runURL("POST", echo.ID, echo.ExecutionToken, "async=true", map[string]any{"n": 1}).decode(t, http.StatusAccepted, &acc)
		if got := b.with(t).waitRun(alice, echo.ID, acc.ID); got.Context != "api_async" || got.Status != "finished" {
			t.Errorf("async run %+v", got)
		}
	})
	t.Run("failed run", func(t *testing.T) {
		res := b.with(t).runURL("POST", failing.ID, failing.ExecutionToken, "", nil)
		e := res.wantError(t, http.StatusUnprocessableEntity, "AUTOMATE-RUN-FAILED")
		if !strings.Contains(e.Errors[0].Detail, res.header.Get("X-Run-Id")) || !strings.Contains(e.Errors[0].Detail, "it broke") {
			t.Errorf("detail %q", e.Errors[0].Detail)
		}
	})
	t.Run("tokens and modes", func(t *testing.T) {
		b := b.with(t)
		b.runURL("POST", echo.ID, "", "", nil).wantError(t, http.StatusUnauthorized, "HTTP-401")
		b.runURL("POST", echo.ID, text.ExecutionToken, "", nil).wantError(t, http.StatusForbidden, "HTTP-403")
		b.runURL("POST", "no-such-hook", echo.ExecutionToken, "", nil).wantError(t, http.StatusForbidden, "HTTP-403")
		e := b.runURL("POST", manual.ID, manual.ExecutionToken, "", nil).wantError(t, http.StatusBadRequest, "AUTOMATE-NOT-TRIGGERED")
		if !strings.Contains(e.Errors[0].Detail, "manual") {
			t.Errorf("detail %q", e.Errors[0].Detail)
		}
		b.runURL("POST", echo.ID, echo.ExecutionToken, "async=maybe", nil).wantError(t, http.StatusBadRequest, "AUTOMATE-INVALID-PARAMETER")
		b.runURL("POST", echo.ID, echo.ExecutionToken, "", "{not json").wantError(t, http.StatusBadRequest, "AUTOMATE-INVALID-JSON")
	})
}

// TestRunURLTimeout answers 202 when a sync run outlasts the automation's
// sync timeout, and the run goes on to finish.
func TestRunURLTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := newGate(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "slow-hook",
		"workspace": flow("triggered", []any{input("sync_timeout", "0.2")}, callURL(g.URL), show("out", "late"))})
	var acc struct{ ID, Status string }
	b.runURL("POST", a.ID, a.ExecutionToken, "", nil).decode(t, http.StatusAccepted, &acc)
	if acc.Status != "running" {
		t.Errorf("timed-out run is %q", acc.Status)
	}
	g.open()
	if got := b.waitRun(alice, a.ID, acc.ID); got.Status != "finished" {
		t.Errorf("run ended %s", got.Status)
	}
}

// TestRunURLAsyncDefault takes async from the StartBlock input.
func TestRunURLAsyncDefault(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "async-hook",
		"workspace": flow("triggered", []any{input("async", "yes")}, show("out", "x"))})
	b.runURL("POST", a.ID, a.ExecutionToken, "", nil).wantStatus(t, http.StatusAccepted)
	b.runURL("POST", a.ID, a.ExecutionToken, "async=false", nil).wantStatus(t, http.StatusOK)
}

// TestUsage checks that usage sums match the runs, per day and per
// automation.
func TestUsage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	admin := b.user("root", "TenantAdmin")
	one := b.create(alice, map[string]any{"name": "one", "maxConcurrentRuns": 5, "workspace": flow("manual", nil, show("o", "x"))})
	hook := b.create(alice, map[string]any{"name": "hook", "workspace": flow("triggered", nil, show("o", "y"))})
	for range 3 {
		r := b.startRun(alice, one.ID, nil)
		b.waitRun(alice, one.ID, r.ID)
	}
	for range 2 {
		b.runURL("POST", hook.ID, hook.ExecutionToken, "", nil).wantStatus(t, http.StatusOK)
	}
	day := b.clock.Now().UTC().Format(time.DateOnly)
	type item struct {
		Date       string  `json:"date"`
		Name       string  `json:"name"`
		Value      float64 `json:"value"`
		Automation *struct {
			GUID, Name, OwnerID string
		} `json:"automation"`
	}
	var res struct{ Data []item }
	b.get(base+"/usage?filter="+q(`date eq "`+day+`" and (name eq "runs" or name eq "triggeredRuns")`), admin).decode(t, http.StatusOK, &res)
	got := map[string]float64{}
	for _, it := range res.Data {
		if it.Date != day || it.Automation != nil {
			t.Errorf("item %+v", it)
		}
		got[it.Name] = it.Value
	}
	if len(res.Data) != 2 || got["runs"] != 5 || got["triggeredRuns"] != 2 {
		t.Errorf("usage %+v", res.Data)
	}
	b.get(base+"/usage?breakdownBy=automation&filter="+q(`name eq "runs" and date ge "2020-01-01"`), admin).decode(t, http.StatusOK, &res)
	per := map[string]float64{}
	for _, it := range res.Data {
		if it.Automation == nil {
			t.Fatalf("item without automation %+v", it)
		}
		per[it.Automation.Name] = it.Value
	}
	if per["one"] != 3 || per["hook"] != 2 {
		t.Errorf("per automation %v", per)
	}
	b.get(base+"/usage", admin).wantError(t, http.StatusBadRequest, "AUTOMATE-INVALID-PARAMETER")
	b.get(base+"/usage?filter="+q(`status eq "x"`), admin).wantError(t, http.StatusBadRequest, "AUTOMATE-INVALID-FILTER")
	b.get(base+"/usage?filter="+q(`date eq "today"`), admin).wantError(t, http.StatusBadRequest, "AUTOMATE-INVALID-FILTER")
	b.get(base+"/usage?filter="+q(`name eq "runs"`), alice).wantError(t, http.StatusForbidden, "HTTP-403")
}

// TestParkedRunWakes parks a run in a 30 s sleep and finishes it when the
// (fake) clock reaches its wake-up time; no worker is held meanwhile.
func TestParkedRunWakes(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOpts) { o.dispatch.ParkAfter = time.Second; o.dispatch.Workers = 1 })
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "sleepy", "maxConcurrentRuns": 2,
		"workspace": flow("manual", nil, sleep("30"), show("out", "woke"))})
	quick := b.create(alice, map[string]any{"name": "quick", "workspace": flow("manual", nil, show("out", "quick"))})
	r := b.startRun(alice, a.ID, nil)
	waitFor(t, func() bool {
		return strings.Contains(string(b.get(base+"/"+a.ID+"/runs/"+r.ID+"/debug", alice).body), "nap")
	})
	// With one worker, another run can only finish if the parked one holds none.
	q := b.startRun(alice, quick.ID, nil)
	if got := b.waitRun(alice, quick.ID, q.ID); got.Status != "finished" {
		t.Fatalf("quick run %s", got.Status)
	}
	b.clock.Advance(30 * time.Second)
	b.dispatch.Notify()
	got := b.waitRun(alice, a.ID, r.ID)
	if got.Status != "finished" {
		t.Fatalf("parked run ended %s", got.Status)
	}
	if log := string(b.get(base+"/"+a.ID+"/runs/"+r.ID+"/debug", alice).body); strings.Count(log, "nap") != 1 || !strings.Contains(log, "woke") {
		t.Errorf("debug log:\n%s", log)
	}
}

// TestRunMetrics shows the run metrics on /metrics.
func TestRunMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "m", "workspace": flow("manual", nil, show("o", "x"))})
	r := b.startRun(alice, a.ID, nil)
	b.waitRun(alice, a.ID, r.ID)
	body := string(b.get("/metrics", "").body)
	for _, want := range []string{`automate_runs_started_total{trigger="manual"} 1`, `automate_runs_ended_total{status="finished",trigger="manual"} 1`,
		"automate_run_duration_seconds_count", "automate_run_dispatch_latency_seconds_count 1", "automate_runs_queued 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestStaleQueuedRunFails fails a run that waited in the queue for more
// than 14 days.
func TestStaleQueuedRunFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := newGate(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "blocked", "workspace": flow("manual", nil, callURL(g.URL))})
	b.startRun(alice, a.ID, nil)
	g.wait(t)
	waiting := b.startRun(alice, a.ID, nil)
	b.clock.Advance(13 * 24 * time.Hour)
	b.dispatch.Notify()
	alice = b.creator("alice") // tokens last an hour
	var got runBody
	b.get(base+"/"+a.ID+"/runs/"+waiting.ID, alice).decode(t, http.StatusOK, &got)
	if got.Status != "queued" {
		t.Fatalf("after 13 days the run is %s", got.Status)
	}
	b.clock.Advance(2 * 24 * time.Hour)
	b.dispatch.Notify()
	alice = b.creator("alice")
	if got := b.waitRun(alice, a.ID, waiting.ID); got.Status != "failed" || len(got.Error) != 1 {
		t.Errorf("after 15 days: %+v", got)
	}
}

// TestLastRun: GET of an automation carries its latest run, for callers
// who may read its runs; a space member who may read the automation but
// not its runs gets none.
func TestLastRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	lead := b.user("lead", access.RoleSharedSpaceCreator, access.RoleAutomationCreator)
	var sp struct{ ID string }
	b.post("/api/v1/spaces", lead, map[string]any{"name": "team", "type": "shared"}).decode(t, http.StatusCreated, &sp)
	b.post("/api/v1/spaces/"+sp.ID+"/assignments", lead, map[string]any{"type": "user", "assigneeId": "viewer",
		"roles": []string{"consumer"}}).wantStatus(t, http.StatusCreated)
	a := b.create(lead, map[string]any{"name": "with runs", "spaceId": sp.ID, "workspace": flow("manual", nil, show("o", "x"))})
	type detail struct {
		LastRun *struct {
			ID, Status string
		} `json:"lastRun"`
	}
	var got detail
	b.get(base+"/"+a.ID, lead).decode(t, http.StatusOK, &got)
	if got.LastRun != nil {
		t.Fatalf("lastRun before any run: %+v", got.LastRun)
	}
	r := b.startRun(lead, a.ID, nil)
	b.waitRun(lead, a.ID, r.ID)
	b.get(base+"/"+a.ID, lead).decode(t, http.StatusOK, &got)
	if got.LastRun == nil || got.LastRun.ID != r.ID || got.LastRun.Status != "finished" {
		t.Errorf("lastRun %+v, want run %s finished", got.LastRun, r.ID)
	}
	var viewed detail
	b.get(base+"/"+a.ID, b.creator("viewer")).decode(t, http.StatusOK, &viewed)
	if viewed.LastRun != nil {
		t.Errorf("a consumer sees the last run: %+v", viewed.LastRun)
	}
}
