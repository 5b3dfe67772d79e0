// Package e2e drives automate with real outside clients. Its Node project
// lives in testdata/ so that the go tool ignores node_modules.
package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"automate/internal/access"
	"automate/internal/api"
	"automate/internal/clock"
	"automate/internal/dispatch"
	"automate/internal/service"
	"automate/internal/store"
	"automate/internal/store/postgres/pgtest"
	"automate/internal/store/sqlite"
	"automate/internal/token"
)

// TestOfficialClient runs the @qlik/api test suite (node --test) against a
// server on loopback over a fresh SQLite file. CI installs the client with
// `npm ci` (scripts/test); without it the test fails rather than skips.
func TestOfficialClient(t *testing.T) {
	dir, err := filepath.Abs("testdata/qlik-api")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@qlik", "api", "package.json")); err != nil {
		t.Fatalf("@qlik/api is not installed: run `npm ci --prefix %s` (scripts/test does): %v", dir, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required for this test: %v", err)
	}

	ctx := context.Background()
	var db store.Store
	if os.Getenv("AUTOMATE_TEST_DB") == "postgres" {
		db = pgtest.Open(t) // scripts/test runs this test on both databases
	} else {
		sdb, err := sqlite.OpenMigrated(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer sdb.Close()
		db = sdb
	}
	secret := []byte("e2e-secret")
	clk := clock.Real{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	verifier, err := token.NewVerifier(secret, nil, clk)
	if err != nil {
		t.Fatal(err)
	}
	d := dispatch.New(db, clk, logger, dispatch.Config{}, nil)
	d.Start(ctx)
	defer d.Stop()
	sched := dispatch.NewScheduler(d, dispatch.ScheduleConfig{})
	sched.Start(ctx)
	defer sched.Stop()
	srv := api.New(api.Config{RateLimits: api.RateLimits{}}, api.Deps{
		Automations: service.NewAutomations(db, d, sched, clk, logger),
		Runs:        service.NewRuns(db, d, clk, logger),
		Spaces:      service.NewSpaces(db, clk, logger),
		Identity:    service.NewIdentity(db, clk, logger),
		Verifier:    verifier, Database: db, Clock: clk, Logger: logger,
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	mint := func(sub string, roles ...string) string {
		s, err := token.MintHS256(secret, access.Principal{TenantID: "default", UserID: sub, Roles: roles}, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cmd := exec.Command(node, "--test", "--test-reporter=spec", "automations.test.mjs", "spaces.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"AUTOMATE_URL="+ts.URL,
		"AUTOMATE_TOKEN_ALICE="+mint("alice", access.RoleAutomationCreator),
		"AUTOMATE_TOKEN_BOB="+mint("bob", access.RoleAutomationCreator),
		"AUTOMATE_TOKEN_ADMIN="+mint("root", access.RoleTenantAdmin),
		"AUTOMATE_TOKEN_LEAD="+mint("lead", access.RoleSharedSpaceCreator, access.RoleAutomationCreator),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("the official client's tests failed: %v", err)
	}
}
