package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"automate/internal/access"
	"automate/internal/store/sqlite"
	"automate/internal/token"
)

// crashWorkspace has several blocks and a short sleep, so that a kill
// lands in the middle of many runs.
var crashWorkspace = map[string]any{
	"blocks": []any{
		map[string]any{"id": "S", "type": "StartBlock", "name": "Start", "inputs": []any{map[string]any{"id": "run_mode", "value": "manual"}}, "childId": "V"},
		map[string]any{"id": "V", "type": "VariableBlock", "name": "setN", "inputs": []any{}, "variableGuid": "g-n", "childId": "Z",
			"operations": []any{map[string]any{"id": "set_value", "key": "k", "name": "set_value", "value": "{$.Start.n}"}}},
		map[string]any{"id": "Z", "type": "SleepBlock", "name": "nap", "inputs": []any{map[string]any{"id": "time", "value": "0.05"}}, "childId": "A"},
		map[string]any{"id": "A", "type": "ShowBlock", "name": "out", "inputs": []any{map[string]any{"id": "input", "value": "out {$.n}"}}, "childId": "B"},
		map[string]any{"id": "B", "type": "ShowBlock", "name": "end", "inputs": []any{map[string]any{"id": "input", "value": "end"}}},
	},
	"variables": []any{map[string]any{"guid": "g-n", "name": "n", "type": "number"}},
}

// TestRunsSurviveKill creates 1,000 runs, kills the server with SIGKILL
// while they execute, restarts it, and checks that every run ends
// finished with the right output and that no journal holds a block twice.
func TestRunsSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	const runs = 1000
	dir := t.TempDir()
	lease := []string{"--run-lease", "1s"}
	srv := startServer(t, dir, lease...)
	alice := devToken(t)
	admin, err := token.MintHS256([]byte(testJWTSecret), access.Principal{TenantID: "default", UserID: "root", Roles: []string{access.RoleTenantAdmin}}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	base := func(s *serverProcess) string { return "http://" + s.addr + "/api/workflows/automations" }

	status, body, err := call(client, "POST", base(srv), alice, map[string]any{"name": "crashy", "maxConcurrentRuns": 10, "workspace": crashWorkspace})
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create automation: %d %s %v", status, body, err)
	}
	var a struct{ ID string }
	json.Unmarshal(body, &a)
	// Many clients at once, so that the queue is long when the kill comes.
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				status, body, err := call(client, "POST", base(srv)+"/"+a.ID+"/runs", alice, map[string]any{"context": "api", "inputs": map[string]any{"n": i}})
				if err != nil || status != http.StatusCreated {
					t.Errorf("run %d: %d %s %v", i, status, body, err)
				}
			}
		})
	}
	for i := range runs {
		next <- i
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Kill it once a good share of the runs has ended, with many in flight.
	ended := func(s *serverProcess) int {
		status, body, err := call(client, "GET", base(s)+"/usage?filter="+url.QueryEscape(`name eq "runs" and date ge "2000-01-01"`), admin, nil)
		if err != nil || status != http.StatusOK {
			return -1
		}
		var u struct{ Data []struct{ Value float64 } }
		json.Unmarshal(body, &u)
		n := 0
		for _, d := range u.Data {
			n += int(d.Value)
		}
		return n
	}
	// Runs executing right now, read beside the server (WAL allows it).
	dbFile := "file:" + filepath.Join(dir, sqlite.FileName) + "?mode=ro"
	executing := func() int {
		db, err := sql.Open("sqlite", dbFile)
		if err != nil {
			return 0
		}
		defer db.Close()
		var n int
		db.QueryRow("SELECT COUNT(*) FROM runs WHERE status = 'running'").Scan(&n)
		return n
	}
	waitUntil(t, 60*time.Second, func() bool { return ended(srv) >= runs/4 && executing() >= 3 })
	killedAt := ended(srv)
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	if killedAt >= runs {
		t.Fatalf("all runs ended before the kill (%d)", killedAt)
	}
	t.Logf("killed with %d of %d runs ended", killedAt, runs)

	srv = startServer(t, dir, lease...)
	waitUntil(t, 120*time.Second, func() bool { return ended(srv) >= runs })
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-srv.exited

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	resumed := verifyCrashRuns(t, db, runs)
	t.Logf("%d runs were resumed by the restarted server", resumed)
	if resumed == 0 {
		t.Error("no run was in flight at the kill; the test proved nothing")
	}
}

// verifyCrashRuns checks the runs of crashWorkspace after a kill: want of
// them, each finished with the output its input asks for, each journal
// holding each of the 5 blocks exactly once, in order. It returns how many
// were resumed (attempt > 1).
func verifyCrashRuns(t *testing.T, db *sql.DB, want int) (resumed int) {
	t.Helper()
	rows, err := db.Query("SELECT id, status, inputs, output, attempt FROM runs")
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for rows.Next() {
		var id, st, inputs, output string
		var attempt int
		if err := rows.Scan(&id, &st, &inputs, &output, &attempt); err != nil {
			t.Fatal(err)
		}
		count++
		if attempt > 1 {
			resumed++
		}
		var in struct{ N int }
		json.Unmarshal([]byte(inputs), &in)
		if want := fmt.Sprintf(`["out %d","end"]`, in.N); st != "finished" || output != want {
			t.Errorf("run %s: %s %s, want finished %s", id, st, output, want)
		}
	}
	rows.Close()
	if count != want {
		t.Fatalf("%d runs stored, want %d", count, want)
	}
	jrows, err := db.Query("SELECT run_id, entry FROM run_journal ORDER BY run_id, seq")
	if err != nil {
		t.Fatal(err)
	}
	defer jrows.Close()
	blocks := map[string][]string{}
	for jrows.Next() {
		var runID, entry string
		if err := jrows.Scan(&runID, &entry); err != nil {
			t.Fatal(err)
		}
		var e struct{ BlockID string }
		json.Unmarshal([]byte(entry), &e)
		blocks[runID] = append(blocks[runID], e.BlockID)
	}
	for id, b := range blocks {
		if fmt.Sprint(b) != "[S V Z A B]" {
			t.Errorf("run %s journal %v", id, b)
		}
	}
	if len(blocks) != want {
		t.Errorf("%d journals, want %d", len(blocks), want)
	}
	return resumed
}

func waitUntil(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
