package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"automate/internal/api"
	"automate/internal/dispatch"
)

// config is every setting of the server. Each flag --some-name can also be
// set as AUTOMATE_SOME_NAME; a flag on the command line wins.
type config struct {
	Addr        string
	Data        string
	DatabaseURL string
	// DatabaseMaxConns sizes the PostgreSQL connection pool.
	DatabaseMaxConns int
	JWTSecret        string
	JWTPublicKey     string
	PublicURL        string
	MaxBodyBytes     int64
	RateTier1        int
	RateTier2        int
	LogLevel         string
	ShutdownGrace    time.Duration
	Workers          int
	RunLease         time.Duration
	RunQueueCap      int
	ParkAfter        time.Duration
	KeepRuns         int
	KeepJournalMB    int64
	CommitLanes      int
	CommitBatch      int
	CatchUp          string
	CatchUpLimit     int
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("automate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// storageFlags are the flags every command that opens the database shares.
func storageFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.Data, "data", "./data", "directory of the embedded SQLite database")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "PostgreSQL URL (postgres://user@host:5432/db); empty: the embedded SQLite database in --data")
	fs.IntVar(&c.DatabaseMaxConns, "database-max-conns", 20, "PostgreSQL connection pool size")
}

func jwtFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.JWTSecret, "jwt-secret", "", "HS256 secret that signs bearer tokens")
	fs.StringVar(&c.JWTPublicKey, "jwt-public-key", "", "PEM file of the RSA public key that verifies RS256 bearer tokens")
}

func serveFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	storageFlags(fs, c)
	jwtFlags(fs, c)
	fs.StringVar(&c.PublicURL, "public-url", "", "base URL of pagination links (default: from each request)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", api.DefaultMaxBodyBytes, "largest request body accepted")
	fs.IntVar(&c.RateTier1, "rate-tier1", api.DefaultRateLimits.Tier1PerMinute, "tier 1 (read) requests per minute per user; 0 turns the limit off")
	fs.IntVar(&c.RateTier2, "rate-tier2", api.DefaultRateLimits.Tier2PerMinute, "tier 2 (write) requests per minute per user; 0 turns the limit off")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 15*time.Second, "how long shutdown waits for requests in flight")
	fs.IntVar(&c.Workers, "workers", dispatch.DefaultWorkers, "runs this server executes at once (sleeping runs do not count)")
	fs.IntVar(&c.CommitLanes, "commit-lanes", 0, "write transactions in flight at once (default: 1 on SQLite, 8 on PostgreSQL)")
	fs.IntVar(&c.CommitBatch, "commit-batch", 0, "writes grouped in one transaction (default 128; on PostgreSQL only checkpoints are grouped)")
	fs.DurationVar(&c.RunLease, "run-lease", dispatch.DefaultLease, "how long a run's claim lasts without renewal; a run whose server died resumes after it")
	fs.IntVar(&c.RunQueueCap, "run-queue-cap", dispatch.DefaultQueueCap, "queued runs one automation may have; beyond it a run ends as exceeded limit")
	fs.DurationVar(&c.ParkAfter, "park-after", dispatch.DefaultParkAfter, "a SleepBlock at least this long parks its run instead of holding a worker")
	fs.IntVar(&c.KeepRuns, "keep-runs", dispatch.DefaultKeepRuns, "finished runs kept per automation (older ones are pruned)")
	fs.Int64Var(&c.KeepJournalMB, "keep-journal-mb", dispatch.DefaultKeepJournalBytes>>20, "run journal kept per automation, in MiB (older runs are pruned)")
	fs.StringVar(&c.CatchUp, "schedule-catch-up", string(dispatch.CatchUpLatest),
		"occurrences a schedule missed while the server was down: latest (one run for the most recent), skip (none) or all (one run each, bounded)")
	fs.IntVar(&c.CatchUpLimit, "schedule-catch-up-limit", dispatch.DefaultCatchUpLimit, "most missed occurrences of one schedule that --schedule-catch-up all runs")
}

// parseFlags parses args, first applying AUTOMATE_* environment variables
// as defaults.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "AUTOMATE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	return fs.Parse(args)
}
