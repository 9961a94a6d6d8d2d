package progress

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/srimport/srimport/reports"
)

// LastSuccessMetric is the metric that keeps, across runs, when a run last
// exited 0.
const LastSuccessMetric = "srimport_last_success_timestamp_seconds"

// RunMetrics is what a run's Prometheus textfile holds.
type RunMetrics struct {
	// Rows counts the run's rows by report status.
	Rows map[reports.Status]int
	// Requests, Throttled and Retries are Snapshot's.
	Requests, Throttled, Retries int64
	// Duration is the run's wall time.
	Duration time.Duration
	// ExitCode is the run's exit status.
	ExitCode int
	// Finished is when the run ended.
	Finished time.Time
}

// WriteTextfile writes m to path in the Prometheus text format, for
// node_exporter's textfile collector: to a temporary file beside it
// (whose name does not end in .prom, so the collector never reads it
// half-written), renamed into place. When m.ExitCode is 0 the last-success
// time is m.Finished; otherwise it is the one the file held before, if
// any. A previous file that cannot be parsed is replaced all the same,
// and the error says that its last-success time was lost.
func WriteTextfile(path string, m RunMetrics) error {
	last, ok, prevErr := LastSuccess(path)
	if m.ExitCode == 0 {
		last, ok, prevErr = float64(m.Finished.UnixMilli())/1e3, true, nil
	}
	reg := prometheus.NewRegistry()
	rows := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "srimport_rows_total",
		Help: "Rows of the last srimport run, by report status (created, invalid, failed, unknown, skipped, pending, valid).",
	}, []string{"status"})
	for _, st := range reports.Statuses() {
		if st == reports.Valid {
			continue // validation runs write no metrics
		}
		rows.WithLabelValues(string(st)).Add(float64(m.Rows[st]))
	}
	counter := func(name, help string, v int64) prometheus.Collector {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		c.Add(float64(v))
		return c
	}
	gauge := func(name, help string, v float64) prometheus.Collector {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		return g
	}
	cs := []prometheus.Collector{
		rows,
		counter("srimport_requests_total", "HTTP requests the last srimport run sent, retries and look-ups included.", m.Requests),
		counter("srimport_throttled_requests_total", "Requests of the last srimport run that the service answered 429 (too many requests).", m.Throttled),
		counter("srimport_retries_total", "Create attempts of the last srimport run beyond each row's first.", m.Retries),
		gauge("srimport_run_duration_seconds", "Wall time of the last srimport run.", m.Duration.Seconds()),
		gauge("srimport_last_run_exit_code", "Exit status of the last srimport run (0 = every row created; see srimport --help).", float64(m.ExitCode)),
		gauge("srimport_last_run_timestamp_seconds", "When the last srimport run ended, in seconds since the Unix epoch.", float64(m.Finished.UnixMilli())/1e3),
	}
	if ok {
		cs = append(cs, gauge(LastSuccessMetric, "When the last srimport run that exited 0 ended, in seconds since the Unix epoch.", last))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("metrics %s: %w", path, err)
	}
	if prevErr != nil {
		return fmt.Errorf("metrics %s: written, without the last success time of the previous file: %w", path, prevErr)
	}
	return nil
}

// LastSuccess reads the last-success time from a textfile WriteTextfile
// wrote; false when the file does not exist or holds none.
func LastSuccess(path string) (float64, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", path, err)
	}
	fam, ok := fams[LastSuccessMetric]
	if !ok || len(fam.GetMetric()) == 0 || fam.GetMetric()[0].GetGauge() == nil {
		return 0, false, nil
	}
	return fam.GetMetric()[0].GetGauge().GetValue(), true, nil
}
