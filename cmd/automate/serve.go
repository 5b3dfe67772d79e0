package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"automate/internal/api"
	"automate/internal/clock"
	"automate/internal/dispatch"
	"automate/internal/engine"
	"automate/internal/service"
	"automate/internal/store"
	"automate/internal/store/postgres"
	"automate/internal/store/sqlite"
	"automate/internal/store/sqlstore"
	"automate/internal/token"
)

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "dev"
}

// openStore opens and migrates the configured database.
// openStore opens and migrates the database: PostgreSQL when a
// --database-url is given, the embedded SQLite file otherwise.
func openStore(ctx context.Context, c config) (store.Store, error) {
	if c.DatabaseURL != "" {
		if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
			return nil, errors.New("--database-url: only postgres:// URLs are supported")
		}
		return postgres.OpenMigrated(ctx, c.DatabaseURL, c.DatabaseMaxConns)
	}
	return sqlite.OpenMigrated(ctx, c.Data)
}

// onClusterEvent acts on an event another node sent.
func onClusterEvent(d *dispatch.Dispatcher, s *dispatch.Scheduler) func(string) {
	return func(event string) {
		switch {
		case event == postgres.Resync:
			d.Notify()
			s.Changed()
		case event == sqlstore.EventRunQueued:
			d.Notify()
		case strings.HasPrefix(event, sqlstore.EventRunStop):
			d.Cancel(strings.TrimPrefix(event, sqlstore.EventRunStop))
		case strings.HasPrefix(event, sqlstore.EventRunEnded):
			d.RunEnded(strings.TrimPrefix(event, sqlstore.EventRunEnded))
		case event == sqlstore.EventSchedules:
			s.Changed()
		}
	}
}

func newVerifier(c config, clk clock.Clock) (*token.Verifier, error) {
	var pem []byte
	if c.JWTPublicKey != "" {
		var err error
		if pem, err = os.ReadFile(c.JWTPublicKey); err != nil {
			return nil, fmt.Errorf("--jwt-public-key: %w", err)
		}
	}
	return token.NewVerifier([]byte(c.JWTSecret), pem, clk)
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var c config
	fs := newFlagSet("serve", stderr)
	serveFlags(fs, &c)
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	logger, err := newLogger(stderr, c.LogLevel)
	if err != nil {
		return err
	}
	catchUp, err := dispatch.ParseCatchUp(c.CatchUp)
	if err != nil {
		return fmt.Errorf("--schedule-catch-up: %w", err)
	}
	clk := clock.Real{}
	verifier, err := newVerifier(c, clk)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()

	runBatchesOnly := false
	if c.DatabaseURL != "" {
		// PostgreSQL takes writers at once; batches that lock several
		// automations' rows would deadlock with other nodes' batches.
		if c.CommitLanes == 0 {
			c.CommitLanes = 8
		}
		runBatchesOnly = true
	}
	metrics := dispatch.NewMetrics(db.QueueDepth)
	dispatcher := dispatch.New(db, clk, logger, dispatch.Config{
		Workers: c.Workers, Lease: c.RunLease, QueueCap: c.RunQueueCap, ParkAfter: c.ParkAfter,
		CommitLanes: c.CommitLanes, BatchSize: c.CommitBatch, RunBatchesOnly: runBatchesOnly,
		HTTPClient: engine.NewHTTPClient(nil),
	}, metrics)
	dispatcher.Start(ctx)
	defer dispatcher.Stop()
	scheduler := dispatch.NewScheduler(dispatcher, dispatch.ScheduleConfig{CatchUp: catchUp, CatchUpLimit: c.CatchUpLimit})
	scheduler.Start(ctx)
	defer scheduler.Stop() // before the dispatcher's: it creates runs through it
	if c.DatabaseURL != "" {
		// Other nodes' new runs, stops, ends and schedule changes, at once
		// (polling covers what passes while the connection is down).
		listener := postgres.NewListener(c.DatabaseURL, logger, onClusterEvent(dispatcher, scheduler))
		listener.Start(ctx)
		defer listener.Stop()
	}
	pruner := dispatch.NewPruner(db, clk, logger, dispatch.Retention{Runs: c.KeepRuns, JournalBytes: c.KeepJournalMB << 20})
	pruner.Start(ctx)
	defer pruner.Stop()

	srv := api.New(api.Config{
		PublicURL:    c.PublicURL,
		MaxBodyBytes: c.MaxBodyBytes,
		RateLimits:   api.RateLimits{Tier1PerMinute: c.RateTier1, Tier2PerMinute: c.RateTier2},
		Version:      version(),
	}, api.Deps{
		Automations: service.NewAutomations(db, dispatcher, scheduler, clk, logger),
		Runs:        service.NewRuns(db, dispatcher, clk, logger),
		Spaces:      service.NewSpaces(db, clk, logger),
		Identity:    service.NewIdentity(db, clk, logger),
		Collectors:  []prometheus.Collector{metrics},
		Verifier:    verifier,
		Database:    db,
		Clock:       clk,
		Logger:      logger,
	})
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "data", c.Data, "version", version())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := newFlagSet("migrate", stderr)
	storageFlags(fs, &c)
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	db, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return db.Close()
}
