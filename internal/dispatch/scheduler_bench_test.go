package dispatch_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"automate/internal/clock"
	"automate/internal/dispatch"
	"automate/internal/schedule"
	"automate/internal/store"
	"automate/internal/store/sqlite"
)

// seedSchedules stores n automations, each with a one-minute schedule;
// the first due of them are due at dueAt, the others a day later.
func seedSchedules(tb testing.TB, db store.Store, n, due int, dueAt time.Time) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	const perTx = 5000
	for lo := 0; lo < n; lo += perTx {
		err := db.InTx(ctx, func(tx store.Tx) error {
			for i := lo; i < min(n, lo+perTx); i++ {
				next := dueAt
				if i >= due {
					next = dueAt.Add(24 * time.Hour)
				}
				a := testAutomation(fmt.Sprintf("%06d", i), now)
				if err := insertScheduled(ctx, tx, a, dueAt.Format(schedule.LocalLayout), next); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

var benchWorkers = 0

// BenchmarkScheduleFire: 100,000 active schedules, 1,000 of them due in
// the same second. It reports the lateness of run creation (from the
// occurrence to the commit of the transaction that created its run), on a
// real SQLite file with the wall clock, with 256 workers (the default; the
// runs the burst claims execute when it ends) and with one worker.
func BenchmarkScheduleFire(b *testing.B) {
	for _, workers := range []int{dispatch.DefaultWorkers, 1} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { benchScheduleFire(b, workers) })
	}
}

func benchScheduleFire(b *testing.B, workers int) {
	const total, due = 100_000, 1000
	ctx := context.Background()
	var lateness []time.Duration
	for range b.N {
		b.StopTimer()
		db, err := sqlite.OpenMigrated(ctx, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		placeholder := time.Now().UTC().Truncate(time.Second).Add(time.Hour)
		seedSchedules(b, db, total, due, placeholder)
		// Now that seeding is done, the first due ones fall due in the same
		// second, two seconds from now.
		dueAt := time.Now().UTC().Truncate(time.Second).Add(2 * time.Second)
		err = db.InTx(ctx, func(tx store.Tx) error {
			for i := range due {
				if _, err := tx.AdvanceSchedule(ctx, fmt.Sprintf("s%06d", i), placeholder, dueAt, time.Time{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC() // a server does not carry the seeding's garbage
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		d := dispatch.New(db, clock.Real{}, logger, dispatch.Config{Workers: workers}, nil)
		var (
			mu    sync.Mutex
			seen  int
			fired = make(chan struct{})
		)
		s := dispatch.NewScheduler(d, dispatch.ScheduleConfig{Fired: func(occs []time.Time, committed time.Time) {
			mu.Lock()
			defer mu.Unlock()
			for _, o := range occs {
				lateness = append(lateness, committed.Sub(o))
			}
			if seen += len(occs); seen == due {
				close(fired)
			}
		}})
		d.Start(ctx)
		s.Start(ctx)
		if wait := time.Until(dueAt); wait < 500*time.Millisecond {
			b.Fatalf("set-up took too long: %v left before the due time", wait)
		}
		b.StartTimer()
		select {
		case <-fired:
		case <-time.After(time.Minute):
			b.Fatal("the due schedules did not all fire")
		}
		b.StopTimer()
		s.Stop()
		d.Stop()
		db.Close()
	}
	slices.Sort(lateness)
	pct := func(p float64) float64 {
		return float64(lateness[int(float64(len(lateness)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// BenchmarkScheduleIdle measures the CPU the process spends over an idle
// window with 100,000 schedules that are not due, against the same window
// with the dispatcher alone (no scheduler).
func BenchmarkScheduleIdle(b *testing.B) {
	const total, window = 100_000, 10 * time.Second
	ctx := context.Background()
	db := openDB(b, "")
	seedSchedules(b, db, total, 0, time.Now().UTC().Add(time.Hour))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	measure := func(withScheduler bool) time.Duration {
		d := dispatch.New(db, clock.Real{}, logger, dispatch.Config{}, nil)
		d.Start(ctx)
		defer d.Stop()
		if withScheduler {
			s := dispatch.NewScheduler(d, dispatch.ScheduleConfig{})
			s.Start(ctx)
			defer s.Stop()
		}
		time.Sleep(time.Second) // start-up settles
		before := cpu()
		time.Sleep(window)
		return cpu() - before
	}
	b.ResetTimer()
	for range b.N {
		base := measure(false)
		with := measure(true)
		b.ReportMetric(float64(base.Microseconds())/1000, "dispatcher-only-cpu-ms/10s")
		b.ReportMetric(float64(with.Microseconds())/1000, "with-scheduler-cpu-ms/10s")
	}
}
