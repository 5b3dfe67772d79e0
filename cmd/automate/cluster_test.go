package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"automate/internal/access"
	"automate/internal/automation"
	"automate/internal/clock"
	"automate/internal/dispatch"
	"automate/internal/schedule"
	"automate/internal/store"
	"automate/internal/store/postgres"
	"automate/internal/store/postgres/pgtest"
	"automate/internal/store/sqlite"
	"automate/internal/token"
)

// TestClusterSurvivesKill runs three servers on one PostgreSQL database,
// creates 3,000 runs across them (30 automations at maxConcurrentRuns 2,
// 100 runs each, a short sleep in every run), kills one server with
// SIGKILL while runs execute, and checks that every run ends finished with
// its output, that no journal holds a block twice, and that the journals'
// timestamps never show more than 2 runs of one automation live at once.
func TestClusterSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dbURL := pgtest.Schema(t)
	const automations, perAutomation, maxRuns = 30, 100, 2
	lease := []string{"--database-url", dbURL, "--run-lease", "2s", "--database-max-conns", "10"}
	var nodes []*serverProcess
	for range 3 {
		nodes = append(nodes, startServer(t, t.TempDir(), lease...))
	}
	alice := devToken(t)
	admin, err := token.MintHS256([]byte(testJWTSecret), access.Principal{TenantID: "default", UserID: "root",
		Roles: []string{access.RoleTenantAdmin}}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	base := func(s *serverProcess) string { return "http://" + s.addr + "/api/workflows/automations" }

	var ids []string
	for i := range automations {
		status, body, err := call(client, "POST", base(nodes[i%3]), alice, map[string]any{"name": fmt.Sprintf("cluster %d", i),
			"maxConcurrentRuns": maxRuns, "workspace": crashWorkspace})
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create automation: %d %s %v", status, body, err)
		}
		var a struct{ ID string }
		json.Unmarshal(body, &a)
		ids = append(ids, a.ID)
	}
	// Runs created across the three nodes by 16 clients at once.
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				node := nodes[i%3]
				status, body, err := call(client, "POST", base(node)+"/"+ids[i%automations]+"/runs", alice,
					map[string]any{"context": "api", "inputs": map[string]any{"n": i}})
				if err != nil || status != http.StatusCreated {
					t.Errorf("run %d: %d %s %v", i, status, body, err)
				}
			}
		})
	}
	for i := range automations * perAutomation {
		next <- i
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(query string) int {
		var n int
		db.QueryRow(query).Scan(&n)
		return n
	}
	total := automations * perAutomation
	// Kill a node once a share of the runs has ended, while every node
	// executes several.
	waitUntil(t, 120*time.Second, func() bool {
		return count("SELECT COUNT(*) FROM runs WHERE status = 'finished'") >= total/4 &&
			count(`SELECT COUNT(*) FROM (SELECT lease_owner FROM runs WHERE status = 'running' AND lease_owner <> ''
				GROUP BY lease_owner HAVING COUNT(*) >= 3) busy`) == 3
	})
	victim := nodes[2]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.exited
	killedAt := count("SELECT COUNT(*) FROM runs WHERE status = 'finished'")
	t.Logf("node killed with %d of %d runs finished", killedAt, total)
	if killedAt >= total {
		t.Fatal("every run had finished before the kill")
	}
	began := time.Now()
	waitUntil(t, 300*time.Second, func() bool {
		return count("SELECT COUNT(*) FROM runs WHERE status IN ('finished', 'failed', 'stopped', 'exceeded limit', 'finished with warnings')") >= total
	})
	t.Logf("the other two nodes finished the rest in %v", time.Since(began).Round(time.Millisecond))
	// The surviving nodes answer for every run, whichever node ran it.
	status, body, err := call(client, "GET", base(nodes[0])+"/usage?filter="+url.QueryEscape(`name eq "runs" and date ge "2000-01-01"`), admin, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("usage: %d %s %v", status, body, err)
	}

	resumed := verifyCrashRuns(t, db, total)
	t.Logf("%d runs were resumed by another node", resumed)
	if resumed == 0 {
		t.Error("no run was taken over after the kill; the test proved nothing")
	}

	// Each run's live span (its first block's start to its last block's
	// stop), per automation.
	jrows, err := db.Query(`SELECT r.automation_id, j.run_id, j.entry FROM run_journal j JOIN runs r ON r.id = j.run_id ORDER BY j.run_id, j.seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer jrows.Close()
	type span struct{ start, stop time.Time }
	spans := map[string]map[string]*span{}
	for jrows.Next() {
		var automationID, runID, entry string
		if err := jrows.Scan(&automationID, &runID, &entry); err != nil {
			t.Fatal(err)
		}
		var e struct{ Start, Stop time.Time }
		json.Unmarshal([]byte(entry), &e)
		if spans[automationID] == nil {
			spans[automationID] = map[string]*span{}
		}
		s := spans[automationID][runID]
		if s == nil {
			s = &span{start: e.Start, stop: e.Stop}
			spans[automationID][runID] = s
		}
		s.start, s.stop = minTime(s.start, e.Start), maxTime(s.stop, e.Stop)
	}
	peak := 0
	for automationID, byRun := range spans {
		type edge struct {
			at    time.Time
			delta int
		}
		var edges []edge
		for _, s := range byRun {
			edges = append(edges, edge{s.start, +1}, edge{s.stop, -1})
		}
		// Ends before starts at the same instant: touching spans do not overlap.
		sort.Slice(edges, func(i, j int) bool {
			if !edges[i].at.Equal(edges[j].at) {
				return edges[i].at.Before(edges[j].at)
			}
			return edges[i].delta < edges[j].delta
		})
		live := 0
		for _, e := range edges {
			live += e.delta
			if live > maxRuns {
				t.Errorf("automation %s had %d runs live at %s", automationID, live, e.at.Format(time.RFC3339Nano))
				break
			}
			peak = max(peak, live)
		}
	}
	t.Logf("peak live runs of one automation, from the journals: %d (limit %d)", peak, maxRuns)
	if peak != maxRuns {
		t.Errorf("the limit was never reached (peak %d): the test proved nothing", peak)
	}
}

func minTime(a, b time.Time) time.Time {
	return slices.MinFunc([]time.Time{a, b}, func(x, y time.Time) int { return x.Compare(y) })
}

func maxTime(a, b time.Time) time.Time {
	return slices.MaxFunc([]time.Time{a, b}, func(x, y time.Time) int { return x.Compare(y) })
}

// BenchmarkClusterThroughput: runs per second end to end (HTTP create
// through to the run finished with its journal) with 1, 2 and 3 server
// processes on one PostgreSQL database, 16 clients spread over the nodes,
// 4 automations at maxConcurrentRuns 10. The SQLite figure to compare with
// is BenchmarkRunThroughput in internal/api.
func BenchmarkClusterThroughput(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchCluster(b, 0) })
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) { benchCluster(b, n) })
	}
}

// quickWorkspace is Start → Variable → Show: no sleep.
var quickWorkspace = map[string]any{
	"blocks": []any{
		map[string]any{"id": "S", "type": "StartBlock", "name": "Start", "inputs": []any{map[string]any{"id": "run_mode", "value": "manual"}}, "childId": "V"},
		map[string]any{"id": "V", "type": "VariableBlock", "name": "setN", "inputs": []any{}, "variableGuid": "g-n", "childId": "A",
			"operations": []any{map[string]any{"id": "set_value", "key": "k", "name": "set_value", "value": "{$.Start.n}"}}},
		map[string]any{"id": "A", "type": "ShowBlock", "name": "out", "inputs": []any{map[string]any{"id": "input", "value": "out {$.n}"}}},
	},
	"variables": []any{map[string]any{"guid": "g-n", "name": "n", "type": "number"}},
}

// benchCluster measures n nodes on PostgreSQL, or with n = 0 one node on
// its SQLite file, the same way.
func benchCluster(b *testing.B, n int) {
	var (
		nodes []*serverProcess
		db    *sql.DB
		err   error
	)
	if n == 0 {
		dir := b.TempDir()
		nodes = append(nodes, startServer(b, dir))
		db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName)+"?mode=ro")
		n = 1
	} else {
		dbURL := pgtest.Schema(b)
		for range n {
			nodes = append(nodes, startServer(b, b.TempDir(), "--database-url", dbURL, "--database-max-conns", "10"))
		}
		db, err = sql.Open("pgx", dbURL)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	alice := devToken(b)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	base := func(s *serverProcess) string { return "http://" + s.addr + "/api/workflows/automations" }
	var ids []string
	for i := range 4 {
		status, body, err := call(client, "POST", base(nodes[0]), alice, map[string]any{"name": fmt.Sprint("bench ", i),
			"maxConcurrentRuns": 10, "workspace": quickWorkspace})
		if err != nil || status != http.StatusCreated {
			b.Fatalf("create automation: %d %s %v", status, body, err)
		}
		var a struct{ ID string }
		json.Unmarshal(body, &a)
		ids = append(ids, a.ID)
	}
	work := make(chan int, b.N)
	for i := range b.N {
		work <- i
	}
	close(work)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				status, body, err := call(client, "POST", base(nodes[i%n])+"/"+ids[i%4]+"/runs", alice,
					map[string]any{"context": "api", "inputs": map[string]any{"n": i}})
				if err != nil || status != http.StatusCreated {
					b.Errorf("run %d: %d %s %v", i, status, body, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for {
		var done int
		db.QueryRow("SELECT COUNT(*) FROM runs WHERE status = 'finished'").Scan(&done)
		if done >= b.N {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("%d of %d runs finished", done, b.N)
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "runs/s")
}

// TestClusterRunURLAndStop: node A has one worker, busy with a run in a
// long sleep; a sync run-URL call answered by A queues its run, node B
// executes it (woken by A's notification), and A returns its output (woken
// by B's). A stop sent to B for the run A executes reaches A by
// notification: its lease renewal is minutes away.
func TestClusterRunURLAndStop(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dbURL := pgtest.Schema(t)
	common := []string{"--database-url", dbURL, "--run-lease", "10m", "--park-after", "1h"}
	nodeA := startServer(t, t.TempDir(), append(common, "--workers", "1")...)
	nodeB := startServer(t, t.TempDir(), common...)
	alice := devToken(t)
	client := &http.Client{Timeout: 60 * time.Second}
	base := func(s *serverProcess) string { return "http://" + s.addr + "/api/workflows/automations" }
	create := func(body map[string]any) (id, token string) {
		status, raw, err := call(client, "POST", base(nodeA), alice, body)
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create automation: %d %s %v", status, raw, err)
		}
		var a struct{ ID, ExecutionToken string }
		json.Unmarshal(raw, &a)
		return a.ID, a.ExecutionToken
	}
	start := func(mode string, next ...map[string]any) []any {
		s := map[string]any{"id": "S", "type": "StartBlock", "name": "Start", "inputs": []any{map[string]any{"id": "run_mode", "value": mode}}}
		blocks := []any{s}
		prev := s
		for i, b := range next {
			b["id"] = fmt.Sprint("B", i)
			prev["childId"] = b["id"]
			blocks, prev = append(blocks, b), b
		}
		return blocks
	}
	holdID, _ := create(map[string]any{"name": "hold", "workspace": map[string]any{"blocks": start("manual",
		map[string]any{"type": "SleepBlock", "name": "nap", "inputs": []any{map[string]any{"id": "time", "value": "600"}}})}})
	echoID, echoToken := create(map[string]any{"name": "echo", "workspace": map[string]any{"blocks": start("triggered",
		map[string]any{"type": "ShowBlock", "name": "out", "inputs": []any{map[string]any{"id": "input", "value": "echo {$.Start.x}"}}})}})

	// A's one worker takes the long run.
	status, raw, err := call(client, "POST", base(nodeA)+"/"+holdID+"/runs", alice, map[string]any{"context": "api"})
	if err != nil || status != http.StatusCreated {
		t.Fatalf("start hold: %d %s %v", status, raw, err)
	}
	var hold struct{ ID, Status string }
	json.Unmarshal(raw, &hold)
	if hold.Status != "running" {
		t.Fatalf("the long run is %s on A, want running", hold.Status)
	}

	req, _ := http.NewRequest("POST", "http://"+nodeA.addr+"/api/v1/automations/"+echoID+"/actions/execute?async=false",
		strings.NewReader(`{"x":"from B"}`))
	req.Header.Set("X-Execution-Token", echoToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "echo from B") {
		t.Fatalf("sync run URL through A: %d %s", res.StatusCode, body)
	}

	// Stop, through B, the run A executes.
	status, raw, err = call(client, "POST", base(nodeB)+"/"+holdID+"/runs/"+hold.ID+"/actions/stop", alice, nil)
	if err != nil || status != http.StatusNoContent {
		t.Fatalf("stop through B: %d %s %v", status, raw, err)
	}
	waitUntil(t, 60*time.Second, func() bool {
		status, raw, err := call(client, "GET", base(nodeB)+"/"+holdID+"/runs/"+hold.ID, alice, nil)
		return err == nil && status == http.StatusOK && strings.Contains(string(raw), `"status":"stopped"`)
	})
}

// tcpProxy forwards a local port to PostgreSQL and can cut every
// connection and refuse new ones, standing for a database that goes away.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target}
	p.up("127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) up(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
}

// down closes the listener and every connection.
func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestDatabaseOutage: a node on PostgreSQL reports not ready while the
// database is unreachable, and recovers by itself when it comes back.
func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dbURL := pgtest.Schema(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	node := startServer(t, t.TempDir(), "--database-url", u.String())
	client := &http.Client{Timeout: 10 * time.Second}
	ready := func() int {
		res, err := client.Get("http://" + node.addr + "/readyz")
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	create := func() int {
		status, _, _ := call(client, "POST", "http://"+node.addr+"/api/workflows/automations", devToken(t), map[string]any{"name": "x"})
		return status
	}
	if s := ready(); s != http.StatusOK {
		t.Fatalf("readyz %d before the outage", s)
	}
	proxy.down()
	waitUntil(t, 30*time.Second, func() bool { return ready() == http.StatusServiceUnavailable })
	if s := create(); s < 500 {
		t.Errorf("a write during the outage answered %d", s)
	}
	proxy.up(proxy.addr)
	waitUntil(t, 30*time.Second, func() bool { return ready() == http.StatusOK })
	waitUntil(t, 30*time.Second, func() bool { return create() == http.StatusCreated })
}

// TestMigratePostgres: `automate migrate --database-url` applies the
// migrations without serving, and again is a no-op.
func TestMigratePostgres(t *testing.T) {
	dbURL := pgtest.Schema(t)
	var out, errb bytes.Buffer
	for range 2 {
		if err := Main(context.Background(), []string{"migrate", "--database-url", dbURL}, func(string) string { return "" }, &out, &errb); err != nil {
			t.Fatalf("migrate: %v (%s)", err, errb.String())
		}
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRow("SELECT MAX(version_id) FROM goose_db_version").Scan(&version); err != nil || version != 5 {
		t.Errorf("schema version %d, %v; want 5", version, err)
	}
}

// TestScheduleChangeWakesOtherNode: a schedule stored through one node's
// database pool wakes another node's scheduler by notification; on the
// fake clock its one-minute poll never comes.
func TestScheduleChangeWakesOtherNode(t *testing.T) {
	dbURL := pgtest.Schema(t)
	ctx := context.Background()
	open := func() *postgres.DB {
		db, err := postgres.OpenMigrated(ctx, dbURL, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	nodeA, nodeB := open(), open()
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := dispatch.New(nodeA, clk, logger, dispatch.Config{}, nil)
	d.Start(ctx)
	defer d.Stop()
	fired := make(chan time.Time, 1)
	s := dispatch.NewScheduler(d, dispatch.ScheduleConfig{Fired: func(occs []time.Time, _ time.Time) { fired <- occs[0] }})
	s.Start(ctx)
	defer s.Stop()
	listening := make(chan struct{})
	var once sync.Once
	handle := onClusterEvent(d, s)
	l := postgres.NewListener(dbURL, logger, func(event string) {
		if event == postgres.Resync {
			once.Do(func() { close(listening) })
		}
		handle(event)
	})
	l.Start(ctx)
	defer l.Stop()
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("the listener did not connect")
	}
	// Node B stores an automation whose schedule is due now.
	a := &automation.Automation{ID: "a1", TenantID: "t", Name: "a1", State: automation.StateAvailable, OwnerID: "u",
		RunMode: automation.RunModeScheduled, Workspace: json.RawMessage(`{"blocks":[{"id":"S","type":"StartBlock","name":"Start","inputs":[]}]}`),
		SnippetIDs: []string{}, EndpointIDs: []string{}, ConnectorIDs: []string{}, ExecutionToken: "x", MaxConcurrentRuns: 1,
		CreatedAt: t0, UpdatedAt: t0}
	err := nodeB.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertAutomation(ctx, a); err != nil {
			return err
		}
		return tx.PutSchedule(ctx, "t", "a1", &schedule.Schedule{ID: "s1", Interval: -1, Recurrence: "FREQ=MINUTELY",
			StartAt: "2026-06-01 12:00:00", Timezone: "UTC", NextRunAt: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case occ := <-fired:
		if !occ.Equal(t0) {
			t.Errorf("fired %v, want %v", occ, t0)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("node A's scheduler did not learn of the schedule")
	}
}
