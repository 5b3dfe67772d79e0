package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"automate/internal/clock"
	"automate/internal/workspace"
)

type golden struct {
	Workspace json.RawMessage `json:"workspace"`
	Inputs    any             `json:"inputs"`
	Context   string          `json:"context"`
	Want      struct {
		Status string `json:"status"`
		Title  string `json:"title"`
		Output []any  `json:"output"`
		Errors []struct {
			Name, Message, Level string
		} `json:"errors"`
	} `json:"want"`
}

// instantSleeper records sleeps without waiting.
type instantSleeper struct {
	mu    sync.Mutex
	slept []time.Duration
}

func (s *instantSleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.slept = append(s.slept, d)
	s.mu.Unlock()
	return ctx.Err()
}

// recorder is a Journal and a Checkpointer that keep what they get.
type recorder struct {
	entries   []Entry
	snapshots [][]byte
	// pointers are external state; the server saves them with each
	// checkpoint, so the recorder snapshots them too.
	pointers     *MemoryPointers
	pointerSnaps []map[string]any
}

func (r *recorder) Record(_ context.Context, e Entry) error {
	r.entries = append(r.entries, e)
	return nil
}

func (r *recorder) Checkpoint(_ context.Context, s *State) error {
	b, err := json.Marshal(s)
	r.snapshots = append(r.snapshots, b)
	if r.pointers != nil {
		r.pointers.mu.Lock()
		r.pointerSnaps = append(r.pointerSnaps, maps.Clone(r.pointers.m))
		r.pointers.mu.Unlock()
	}
	return err
}

// outside is the "outside world" the golden CallUrl workspaces call:
// http://SERVER in a workspace (and SERVERHOST in expected errors) becomes
// this server.
var outside = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/json":
		body, _ := io.ReadAll(r.Body)
		var decoded any
		json.Unmarshal(body, &decoded)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "query": r.URL.RawQuery, "header": r.Header.Get("X-Test"),
			"body": decoded, "idempotencyKey": r.Header.Get(IdempotencyHeader)})
	case "/text":
		io.WriteString(w, "plain text {not json}")
	case "/boom":
		http.Error(w, "internal trouble", http.StatusInternalServerError)
	case "/slow":
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"no such thing"}`)
	}
}))

func loadGolden(t *testing.T, path string) (golden, *workspace.Workspace) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.ReplaceAll(string(raw), "http://SERVER", outside.URL))
	raw = []byte(strings.ReplaceAll(string(raw), "SERVERHOST", strings.TrimPrefix(outside.URL, "http://")))
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.Parse(g.Workspace)
	if err != nil {
		t.Fatalf("workspace: %v", err)
	}
	return g, ws
}

// fakeCaller stands in for the server's runs: it answers with what it got.
type fakeCaller struct{}

func (fakeCaller) CallAutomation(_ context.Context, id string, inputs any) (any, error) {
	return map[string]any{"called": id, "inputs": inputs}, nil
}

func options(g golden, rec *recorder) Options {
	if rec.pointers == nil {
		rec.pointers = &MemoryPointers{}
	}
	return Options{RunID: "run-golden", Context: g.Context, Inputs: g.Inputs,
		AutomationID: "self-id", Automations: fakeCaller{}, Pointers: rec.pointers,
		Clock: clock.NewFake(time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)), Sleeper: &instantSleeper{}, Journal: rec, Checkpoints: rec}
}

func checkResult(t *testing.T, g golden, res Result) {
	t.Helper()
	if res.Status != g.Want.Status || res.Title != g.Want.Title {
		t.Errorf("status %q title %q, want %q %q; errors %+v", res.Status, res.Title, g.Want.Status, g.Want.Title, res.Errors)
	}
	got, _ := json.Marshal(res.Output)
	want, _ := json.Marshal(g.Want.Output)
	if string(got) != string(want) {
		t.Errorf("output\n got %s\nwant %s", got, want)
	}
	if len(res.Errors) != len(g.Want.Errors) {
		t.Fatalf("errors %+v, want %+v", res.Errors, g.Want.Errors)
	}
	for i, w := range g.Want.Errors {
		if e := res.Errors[i]; e.Name != w.Name || e.Message != w.Message || e.Level != w.Level {
			t.Errorf("error %d = %+v, want %+v", i, e, w)
		}
	}
}

// TestGolden runs every workspace under testdata/ and compares its result.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) == 0 {
		t.Fatal("no golden workspaces")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			t.Parallel()
			g, ws := loadGolden(t, f)
			res, err := New(ws, options(g, &recorder{})).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, g, res)
		})
	}
}

// TestResume snapshots the state after every block, resumes each snapshot
// in a fresh engine, and checks the result is the same and no block runs
// twice: the resumed journal is exactly the rest of the full one.
func TestResume(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			t.Parallel()
			g, ws := loadGolden(t, f)
			full := &recorder{}
			want, err := New(ws, options(g, full)).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(full.entries) > 1000 {
				t.Skip("too long to resume from every block") // the endless-Goto guard
			}
			if len(full.snapshots) != len(full.entries) {
				t.Fatalf("%d snapshots for %d blocks", len(full.snapshots), len(full.entries))
			}
			for k, snap := range full.snapshots {
				var s State
				if err := json.Unmarshal(snap, &s); err != nil {
					t.Fatal(err)
				}
				rest := &recorder{pointers: &MemoryPointers{m: maps.Clone(full.pointerSnaps[k])}}
				got, err := Resume(ws, options(g, rest), &s).Run(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(normal(got), normal(want)) {
					t.Fatalf("resumed after block %d: %+v, want %+v", k+1, got, want)
				}
				if len(rest.entries) != len(full.entries)-k-1 {
					t.Fatalf("resumed after block %d ran %d blocks, want %d", k+1, len(rest.entries), len(full.entries)-k-1)
				}
				for i, e := range rest.entries {
					w := full.entries[k+1+i]
					if e.BlockID != w.BlockID || e.Seq != w.Seq || !reflect.DeepEqual(e.LoopPath, w.LoopPath) {
						t.Fatalf("resumed after block %d: entry %d is %s%v, want %s%v", k+1, i, e.Name, e.LoopPath, w.Name, w.LoopPath)
					}
				}
			}
		})
	}
}

// normal makes results comparable after a JSON round trip.
func normal(r Result) any {
	b, _ := json.Marshal(r)
	var v any
	json.Unmarshal(b, &v)
	return v
}

// TestStopWhileSleeping cancels a run inside a long SleepBlock: it must end
// stopped at once, not after the sleep.
func TestStopWhileSleeping(t *testing.T) {
	t.Parallel()
	ws, err := workspace.Parse([]byte(`{"blocks":[
		{"id":"S","type":"StartBlock","name":"Start","inputs":[],"childId":"Z"},
		{"id":"Z","type":"SleepBlock","name":"nap","inputs":[{"id":"time","value":"3600"}],"childId":"A"},
		{"id":"A","type":"ShowBlock","name":"after","inputs":[{"id":"input","value":"x"}]}],"variables":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	sleeper := sleeperFunc(func(ctx context.Context, d time.Duration) error {
		close(started)
		return RealSleeper{}.Sleep(ctx, d)
	})
	done := make(chan Result, 1)
	go func() {
		res, _ := New(ws, Options{Sleeper: sleeper}).Run(ctx)
		done <- res
	}()
	<-started
	cancel()
	select {
	case res := <-done:
		if res.Status != StatusStopped || len(res.Output) != 0 {
			t.Errorf("result %+v, want stopped with no output", res)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run did not stop while sleeping")
	}
}

type sleeperFunc func(ctx context.Context, d time.Duration) error

func (f sleeperFunc) Sleep(ctx context.Context, d time.Duration) error { return f(ctx, d) }

// TestMaxDuration ends a run that outlives its limit as exceeded limit.
func TestMaxDuration(t *testing.T) {
	t.Parallel()
	ws, err := workspace.Parse([]byte(`{"blocks":[
		{"id":"S","type":"StartBlock","name":"Start","inputs":[],"childId":"Z"},
		{"id":"Z","type":"SleepBlock","name":"nap","inputs":[{"id":"time","value":"3600"}]}],"variables":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := New(ws, Options{MaxDuration: 20 * time.Millisecond}).Run(context.Background())
	if res.Status != StatusExceededLimit {
		t.Errorf("status %q, want exceeded limit", res.Status)
	}
}

// TestCensoredJournal keeps a censored block's data out of the journal.
func TestCensoredJournal(t *testing.T) {
	t.Parallel()
	ws, err := workspace.Parse([]byte(`{"blocks":[
		{"id":"S","type":"StartBlock","name":"Start","inputs":[],"childId":"A"},
		{"id":"A","type":"ShowBlock","name":"secret","inputs":[{"id":"input","value":"{$.Start.password}"}],
		 "settings":[{"id":"automations_censor_data","value":true}],"childId":"B"},
		{"id":"B","type":"ShowBlock","name":"open","inputs":[{"id":"input","value":"visible"}]}],"variables":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	res, _ := New(ws, Options{Inputs: map[string]any{"password": "hunter2"}, Journal: rec}).Run(context.Background())
	if res.Status != StatusFinished || len(rec.entries) != 3 {
		t.Fatalf("result %+v, %d entries", res, len(rec.entries))
	}
	b, _ := json.Marshal(rec.entries[1])
	if strings.Contains(string(b), "hunter2") || !rec.entries[1].Censored || rec.entries[1].Inputs != nil || rec.entries[1].Output != nil {
		t.Errorf("censored data in the journal: %s", b)
	}
	if rec.entries[2].Output != "visible" {
		t.Errorf("uncensored block lost its output: %+v", rec.entries[2])
	}
}

func TestDebugLog(t *testing.T) {
	t.Parallel()
	ws, err := workspace.Parse([]byte(`{"blocks":[
		{"id":"S","type":"StartBlock","name":"Start","inputs":[],"childId":"L"},
		{"id":"L","type":"ForEachBlock","name":"loop","inputs":[{"id":"input","value":"{$.Start.items}"}],"loopBlockId":"A","childId":"X"},
		{"id":"A","type":"ShowBlock","name":"show","inputs":[{"id":"input","value":"item {$.loop.item}"}]},
		{"id":"X","type":"ShowBlock","name":"secret","inputs":[{"id":"input","value":"{$.Start.pw}"}],"settings":[{"id":"automations_censor_data","value":true}],"childId":"E"},
		{"id":"E","type":"ErrorBlock","name":"fail","inputs":[{"id":"message","value":"boom"},{"id":"action","value":"stop"}]}],"variables":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	New(ws, Options{Inputs: map[string]any{"items": []any{"a", "b"}, "pw": "hunter2"}, Journal: rec}).Run(context.Background())
	var sb strings.Builder
	if err := RenderDebugLog(&sb, rec.entries); err != nil {
		t.Fatal(err)
	}
	log := sb.String()
	for _, want := range []string{`show (ShowBlock, A) loop 1`, `input: {"input":"item b"}`, `output: "item b"`,
		"secret (ShowBlock, X)", "input: (censored)", "error: boom"} {
		if !strings.Contains(log, want) {
			t.Errorf("debug log lacks %q:\n%s", want, log)
		}
	}
	secret := log[strings.Index(log, "secret ("):]
	if strings.Count(log, "\n#") != len(rec.entries)-1 || strings.Contains(secret, "hunter2") || strings.Contains(log, "loop -1") {
		t.Errorf("debug log:\n%s", log)
	}
}

// TestParkAndResume parks a run in a long SleepBlock: Run returns at once
// with the wake-up time and a checkpoint after the sleep, and a resume from
// that checkpoint at the wake-up time runs only the blocks after it.
func TestParkAndResume(t *testing.T) {
	t.Parallel()
	ws, err := workspace.Parse([]byte(`{"blocks":[
		{"id":"S","type":"StartBlock","name":"Start","inputs":[],"childId":"B"},
		{"id":"B","type":"ShowBlock","name":"before","inputs":[{"id":"input","value":"b"}],"childId":"Z"},
		{"id":"Z","type":"SleepBlock","name":"nap","inputs":[{"id":"time","value":"30"}],"childId":"A"},
		{"id":"A","type":"ShowBlock","name":"after","inputs":[{"id":"input","value":"a"}]}],"variables":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC))
	noSleep := sleeperFunc(func(context.Context, time.Duration) error {
		t.Error("a parked sleep must not wait")
		return nil
	})
	rec := &recorder{}
	opt := Options{Clock: clk, Sleeper: noSleep, Journal: rec, Checkpoints: rec, ParkAfter: time.Second}
	res, err := New(ws, opt).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().Add(30 * time.Second); !res.WakeAt.Equal(want) || res.Status != "" {
		t.Fatalf("result %+v, want parked until %v", res, want)
	}
	if len(rec.entries) != 3 || rec.entries[2].Name != "nap" {
		t.Fatalf("journal %+v, want Start, before, nap", rec.entries)
	}
	var st State
	if err := json.Unmarshal(rec.snapshots[len(rec.snapshots)-1], &st); err != nil {
		t.Fatal(err)
	}
	// Resumed early, a run parks again rather than running on.
	res, _ = Resume(ws, opt, &st).Run(context.Background())
	if res.WakeAt.IsZero() || len(rec.entries) != 3 {
		t.Fatalf("an early resume ran on: %+v", res)
	}
	clk.Advance(30 * time.Second)
	if err := json.Unmarshal(rec.snapshots[len(rec.snapshots)-1], &st); err != nil {
		t.Fatal(err)
	}
	res, err = Resume(ws, opt, &st).Run(context.Background())
	if err != nil || res.Status != StatusFinished {
		t.Fatalf("resumed: %+v, %v", res, err)
	}
	if len(rec.entries) != 4 || rec.entries[3].Name != "after" || rec.entries[3].Seq != 4 {
		t.Errorf("journal after resume %+v", rec.entries)
	}
	if got := fmt.Sprint(res.Output); got != "[b a]" {
		t.Errorf("output %s, want [b a]", got)
	}
}
