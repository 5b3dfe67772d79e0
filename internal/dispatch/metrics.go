package dispatch

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"automate/internal/run"
)

// Metrics are the dispatcher's Prometheus metrics. It is a
// prometheus.Collector; the server registers it beside its HTTP metrics.
type Metrics struct {
	startedN *prometheus.CounterVec
	endedN   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	latency  prometheus.Histogram
	depth    prometheus.GaugeFunc
	lateness prometheus.Histogram
	missed   prometheus.Counter
}

// NewMetrics returns the metrics; queueDepth (may be nil) is asked for
// the number of queued runs at every scrape.
func NewMetrics(queueDepth func(context.Context) (int64, error)) *Metrics {
	m := &Metrics{
		startedN: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "automate_runs_started_total",
			Help: "Runs that began executing, by trigger.",
		}, []string{"trigger"}),
		endedN: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "automate_runs_ended_total",
			Help: "Runs that reached a final status, by status and trigger.",
		}, []string{"status", "trigger"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "automate_run_duration_seconds",
			Help:    "Run duration from start to end, by trigger.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 12),
		}, []string{"trigger"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "automate_run_dispatch_latency_seconds",
			Help:    "Time from a run's creation to the start of its execution.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 12),
		}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "automate_schedule_lateness_seconds",
			Help:    "Time from a schedule's occurrence to the commit of the run it created.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 12),
		}),
		missed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "automate_schedule_missed_total",
			Help: "Occurrences of schedules that created no run under the catch-up policy (missed while the server was down).",
		}),
	}
	m.depth = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "automate_runs_queued",
		Help: "Runs waiting in the queue for a concurrency slot.",
	}, func() float64 {
		if queueDepth == nil {
			return 0
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := queueDepth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.startedN.Describe(ch)
	m.endedN.Describe(ch)
	m.duration.Describe(ch)
	m.latency.Describe(ch)
	m.depth.Describe(ch)
	m.lateness.Describe(ch)
	m.missed.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.startedN.Collect(ch)
	m.endedN.Collect(ch)
	m.duration.Collect(ch)
	m.latency.Collect(ch)
	m.depth.Collect(ch)
	m.lateness.Collect(ch)
	m.missed.Collect(ch)
}

func trigger(r *run.Run) string {
	if r.Trigger == "" {
		return run.TriggerManual
	}
	return r.Trigger
}

func (m *Metrics) started(r *run.Run, latency time.Duration) {
	m.startedN.WithLabelValues(trigger(r)).Inc()
	m.latency.Observe(latency.Seconds())
}

func (m *Metrics) ended(r *run.Run, status string, d time.Duration) {
	m.endedN.WithLabelValues(status, trigger(r)).Inc()
	if !r.StartTime.IsZero() { // it ran, if only for an instant
		m.duration.WithLabelValues(trigger(r)).Observe(d.Seconds())
	}
}
