package main

import (
	"automate/internal/clock"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"automate/internal/access"
	"automate/internal/token"
)

// TestMain lets the test binary stand in for the automate binary: with
// AUTOMATE_TEST_MAIN set it runs Main, so process tests need no build step.
func TestMain(m *testing.M) {
	if os.Getenv("AUTOMATE_TEST_MAIN") == "1" {
		ctx, stop := signalContext()
		defer stop()
		if err := Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "automate:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const testJWTSecret = "process-test-secret"

// serverProcess is automate serve in a child process.
type serverProcess struct {
	cmd     *exec.Cmd
	addr    string
	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited is closed
}

func startServer(t testing.TB, dataDir string, extra ...string) *serverProcess {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--rate-tier1", "0", "--rate-tier2", "0"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "AUTOMATE_TEST_MAIN=1", "AUTOMATE_JWT_SECRET="+testJWTSecret)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, exited: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addrc <- line.Addr
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	select {
	case p.addr = <-addrc:
	case <-p.exited:
		t.Fatalf("server exited before listening: %v", p.waitErr)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start listening")
	}
	return p
}

func devToken(t testing.TB) string {
	t.Helper()
	s, err := token.MintHS256([]byte(testJWTSecret), access.Principal{TenantID: "default", UserID: "alice", Roles: []string{access.RoleAutomationCreator}}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func call(client *http.Client, method, url, bearer string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// TestDataSurvivesKill kills the server with SIGKILL while writes are in
// flight and checks that every acknowledged write is there after a restart.
func TestDataSurvivesKill(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	bearer := devToken(t)
	client := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + srv.addr + "/api/workflows/automations"

	var (
		mu    sync.Mutex
		acked = map[string]string{} // id -> last acknowledged name
	)
	const writers = 4
	var wg sync.WaitGroup
	enough := make(chan struct{})
	var once sync.Once
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				status, body, err := call(client, "POST", base, bearer, map[string]any{"name": fmt.Sprintf("w%d-%d", w, i), "workspace": map[string]any{"blocks": []any{}}})
				if err != nil {
					return // the server is gone
				}
				if status != http.StatusCreated {
					t.Errorf("create: %d %s", status, body)
					return
				}
				var a struct{ ID, Name string }
				json.Unmarshal(body, &a)
				mu.Lock()
				acked[a.ID] = a.Name
				n := len(acked)
				mu.Unlock()
				// Update every third one, so that updates are in flight too.
				if i%3 == 0 {
					newName := a.Name + "-renamed"
					status, _, err := call(client, "PUT", base+"/"+a.ID, bearer, map[string]any{"name": newName})
					if err != nil {
						return
					}
					if status == http.StatusOK {
						mu.Lock()
						acked[a.ID] = newName
						mu.Unlock()
					}
				}
				if n >= 300 {
					once.Do(func() { close(enough) })
				}
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		t.Fatal("writers did not get 300 acknowledgements")
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	wg.Wait()

	restarted := startServer(t, dataDir)
	base = "http://" + restarted.addr + "/api/workflows/automations"
	mu.Lock()
	defer mu.Unlock()
	for id, name := range acked {
		status, body, err := call(client, "GET", base+"/"+id, bearer, nil)
		if err != nil {
			t.Fatal(err)
		}
		var a struct{ Name string }
		json.Unmarshal(body, &a)
		if status != http.StatusOK {
			t.Errorf("acknowledged automation %s lost: %d %s", id, status, body)
		} else if a.Name != name && a.Name != strings.TrimSuffix(name, "-renamed")+"-renamed" {
			t.Errorf("automation %s: name %q, want %q", id, a.Name, name)
		}
	}
	t.Logf("%d acknowledged automations survived SIGKILL", len(acked))
}

// TestGracefulShutdown checks that SIGTERM stops the server cleanly.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	srv := startServer(t, t.TempDir())
	status, _, err := call(http.DefaultClient, "GET", "http://"+srv.addr+"/healthz", "", nil)
	if err != nil || status != 200 {
		t.Fatalf("healthz: %d %v", status, err)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-srv.exited:
		if srv.waitErr != nil {
			t.Fatalf("exit after SIGTERM: %v", srv.waitErr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop after SIGTERM")
	}
}

// TestCommands checks the command line: token, migrate, bad input.
func TestCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := func(k string) string {
		if k == "AUTOMATE_JWT_SECRET" {
			return "s3cret"
		}
		return ""
	}
	var out, errb bytes.Buffer
	if err := Main(ctx, []string{"token", "--sub", "alice", "--roles", "AutomationCreator,TenantAdmin", "--scope", "automations"}, env, &out, &errb); err != nil {
		t.Fatalf("token: %v (%s)", err, errb.String())
	}
	v, err := token.NewVerifier([]byte("s3cret"), nil, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("minted token does not verify: %v", err)
	}
	if p.UserID != "alice" || p.TenantID != "default" || !p.HasRole("TenantAdmin") || !p.HasScope("automations") {
		t.Errorf("principal = %+v", p)
	}
	if err := Main(ctx, []string{"token"}, env, &out, &errb); err == nil {
		t.Error("token without --sub succeeded")
	}
	dir := t.TempDir()
	out.Reset()
	if err := Main(ctx, []string{"migrate", "--data", dir}, env, &out, &errb); err != nil || !strings.Contains(out.String(), "applied") {
		t.Fatalf("migrate: %v %q", err, out.String())
	}
	if err := Main(ctx, []string{"migrate", "--data", dir}, env, &out, &errb); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if err := Main(ctx, []string{"serve", "--database-url", "postgres://x"}, env, &out, &errb); err == nil {
		t.Error("serve with --database-url succeeded")
	}
	if err := Main(ctx, []string{"serve", "--data", dir}, func(string) string { return "" }, &out, &errb); err == nil || !strings.Contains(err.Error(), "jwt") {
		t.Errorf("serve without a JWT key: %v", err)
	}
	if err := Main(ctx, []string{"nope"}, env, &out, &errb); err == nil {
		t.Error("unknown command succeeded")
	}
	if err := Main(ctx, []string{"serve", "--rate-tier1", "x"}, env, &out, &errb); err == nil {
		t.Error("bad flag value succeeded")
	}
}

func TestValidateCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var out, errb bytes.Buffer
	env := func(string) string { return "" }
	if err := Main(ctx, []string{"validate", "../../../shared/reference/examples/user-created-add-to-space.json"}, env, &out, &errb); err != nil {
		t.Fatalf("example: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "valid: 3 blocks") {
		t.Errorf("output %q", out.String())
	}
	bad := write("bad.json", `{"name":"wrapped","workspace":{"blocks":[{"id":"A","type":"Nope","name":"a","inputs":[],"childId":"Z"}]}}`)
	out.Reset()
	err := Main(ctx, []string{"validate", bad}, env, &out, &errb)
	if err == nil || !strings.Contains(out.String(), `block "a" (A): unknown block type "Nope"`) ||
		!strings.Contains(out.String(), "childId points at block Z") || !strings.Contains(out.String(), "no StartBlock") {
		t.Errorf("bad workspace: %v\n%s", err, out.String())
	}
	// An automation's schedule is checked and its next occurrences shown.
	scheduled := write("scheduled.json", `{"name":"s","workspace":{"blocks":[{"id":"S","type":"StartBlock","name":"Start","inputs":[]}]},
		"schedules":[{"recurrence":"FREQ=DAILY;COUNT=2","startAt":"2099-03-28 02:30:00","timezone":"Europe/Stockholm"}]}`)
	out.Reset()
	if err := Main(ctx, []string{"validate", scheduled}, env, &out, &errb); err != nil {
		t.Fatalf("scheduled: %v\n%s", err, out.String())
	}
	for _, want := range []string{"schedule in Europe/Stockholm from 2099-03-28 02:30:00, next occurrences:",
		"2099-03-28 Sat 02:30 +0100  (2099-03-28T01:30:00Z)", "2099-03-29 Sun 03:00 +0200  (2099-03-29T01:00:00Z)",
		"(the series ends)", "valid: 1 blocks"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("scheduled output lacks %q:\n%s", want, out.String())
		}
	}
	badSchedule := write("badschedule.json", `{"name":"s","workspace":{"blocks":[]},"schedules":[{"interval":60,"timezone":"Mars/Base"}]}`)
	out.Reset()
	if err := Main(ctx, []string{"validate", badSchedule}, env, &out, &errb); err == nil ||
		!strings.Contains(out.String(), `schedules[0].timezone: unknown timezone "Mars/Base"`) {
		t.Errorf("bad schedule: %v\n%s", err, out.String())
	}
	if err := Main(ctx, []string{"validate"}, env, &out, &errb); err == nil {
		t.Error("validate without a file succeeded")
	}
	if err := Main(ctx, []string{"validate", dir + "/missing.json"}, env, &out, &errb); err == nil {
		t.Error("validate of a missing file succeeded")
	}
}

func TestRunCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := func(string) string { return "" }
	var out, errb bytes.Buffer
	golden := "../../internal/engine/testdata/show_add_merge.json"
	if err := Main(ctx, []string{"run", golden, "--input", `{"name":"Ada","n":5}`}, env, &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"Hello Ada"`) || !strings.Contains(out.String(), "status: finished") {
		t.Errorf("output %q", out.String())
	}
	out.Reset()
	if err := Main(ctx, []string{"run", "--json", "../../internal/engine/testdata/error_block.json", "--input", `{"x":"X"}`}, env, &out, &errb); err == nil {
		t.Error("a failed run exited 0")
	}
	var res struct {
		Status string
		Error  []struct{ Message string }
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Status != "failed" || len(res.Error) != 2 {
		t.Errorf("--json output %q: %v", out.String(), err)
	}
	if err := Main(ctx, []string{"run", golden, "--input", "{"}, env, &out, &errb); err == nil {
		t.Error("bad --input accepted")
	}
}

// TestAPIKeyBootstrap makes a first admin's API key with the CLI and uses
// it against a server on the same data, with no JWT issued to anyone.
func TestAPIKeyBootstrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	noEnv := func(string) string { return "" }
	if err := Main(ctx, []string{"apikey", "create", "--data", dir, "--user", "boss"}, noEnv, &out, &errb); err != nil {
		t.Fatalf("apikey create: %v (%s)", err, errb.String())
	}
	plain := strings.TrimSpace(out.String())
	out.Reset()
	if err := Main(ctx, []string{"apikey", "create", "--data", dir, "--user", "boss", "--roles", "TenantAdmin,AutomationCreator",
		"--expiry", "P30D"}, noEnv, &out, &errb); err != nil {
		t.Fatalf("apikey create: %v (%s)", err, errb.String())
	}
	admin := strings.TrimSpace(out.String())
	for _, bad := range [][]string{{"apikey"}, {"apikey", "create", "--data", dir}, {"apikey", "create", "--data", dir, "--user", "x", "--expiry", "soon"}} {
		if err := Main(ctx, bad, noEnv, &out, &errb); err == nil {
			t.Errorf("%v succeeded", bad)
		}
	}
	srv := startServer(t, dir)
	url := "http://" + srv.addr
	client := &http.Client{Timeout: 10 * time.Second}
	if status, body, err := call(client, "PUT", url+"/api/workflows/automations/settings", admin,
		map[string]any{"maxConcurrentRunsPerAutomation": 5}); err != nil || status != http.StatusOK {
		t.Fatalf("PUT settings with the admin key: %d %s %v", status, body, err)
	}
	status, body, err := call(client, "GET", url+"/api/v1/users/me", admin, nil)
	if err != nil || status != http.StatusOK || !strings.Contains(string(body), `"id":"boss"`) {
		t.Fatalf("users/me with the key: %d %s %v", status, body, err)
	}
	// The user now has the admin roles, but the first key was made with
	// none and keeps none.
	if status, body, _ := call(client, "PUT", url+"/api/workflows/automations/settings", plain,
		map[string]any{"maxConcurrentRunsPerAutomation": 5}); status != http.StatusForbidden {
		t.Errorf("PUT settings with the role-less key: %d %s", status, body)
	}
}
