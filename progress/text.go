package progress

import (
	"fmt"
	"strings"
	"time"

	"github.com/srimport/srimport/reports"
)

// Meter turns successive counts of rows done into a recent rate: rows per
// second over the last Window of samples (over the whole run until it is
// that long). It is not safe for concurrent use: one view owns it.
type Meter struct {
	window  time.Duration
	samples []sample
}

type sample struct {
	at   time.Duration
	done int64
}

// NewMeter returns a Meter that averages over window.
func NewMeter(window time.Duration) *Meter {
	return &Meter{window: window, samples: []sample{{0, 0}}}
}

// Rate records that done rows were done after elapsed and returns the rate
// over the window that ends there.
func (m *Meter) Rate(elapsed time.Duration, done int64) float64 {
	m.samples = append(m.samples, sample{elapsed, done})
	// Keep the newest sample at least window old: the rate spans the
	// whole window.
	drop := 0
	for drop+1 < len(m.samples)-1 && elapsed-m.samples[drop+1].at >= m.window {
		drop++
	}
	m.samples = m.samples[drop:]
	first := m.samples[0]
	dt := (elapsed - first.at).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(done-first.done) / dt
}

// ETA is the time the rows left need at rate; false when the total or the
// rate is not known.
func (s Snapshot) ETA(rate float64) (time.Duration, bool) {
	left := s.Total - s.Done()
	switch {
	case s.Total < 0 || left < 0:
		return 0, false
	case left == 0:
		return 0, true
	case rate <= 0:
		return 0, false
	}
	return time.Duration(float64(left) / rate * float64(time.Second)), true
}

// progressFields are "rows done[/total (percent)]", "N rows/s" and, when it
// can be told, "ETA D".
func (s Snapshot) progressFields(rate float64) []string {
	done := s.Done()
	var f []string
	if s.Total >= 0 {
		pct := 100.0
		if s.Total > 0 {
			pct = min(100*float64(done)/float64(s.Total), 100)
		}
		f = append(f, fmt.Sprintf("%d/%d rows (%.0f%%)", done, s.Total, pct))
	} else {
		f = append(f, fmt.Sprintf("%d rows", done))
	}
	f = append(f, formatRate(rate)+" rows/s")
	if eta, ok := s.ETA(rate); ok {
		f = append(f, "ETA "+FormatDuration(eta))
	}
	return f
}

// countFields are the live counts: created, failed, in doubt (unknown),
// retries, 429s, and invalid and skipped rows when there are any.
func (s Snapshot) countFields() []string {
	f := []string{
		fmt.Sprintf("created %d", s.Rows[reports.Created]),
		fmt.Sprintf("failed %d", s.Rows[reports.Failed]),
	}
	if n := s.Rows[reports.Invalid]; n > 0 {
		f = append(f, fmt.Sprintf("invalid %d", n))
	}
	if n := s.Rows[reports.Skipped]; n > 0 {
		f = append(f, fmt.Sprintf("skipped %d", n))
	}
	return append(f,
		fmt.Sprintf("in doubt %d", s.Rows[reports.Unknown]),
		fmt.Sprintf("retries %d", s.Retries),
		fmt.Sprintf("429s %d", s.Throttled),
	)
}

// Line is the status line printed every few seconds off a terminal:
//
//	1234/5000 rows (25%), 95 rows/s, ETA 40s; created 1200, failed 3, in doubt 0, retries 12, 429s 5
func (s Snapshot) Line(rate float64) string {
	return strings.Join(s.progressFields(rate), ", ") + "; " + strings.Join(s.countFields(), ", ")
}

// BarStatus is what the progress bar shows beside the bar: rows done of
// the total, rows per second and the time left.
func (s Snapshot) BarStatus(rate float64) string {
	return strings.Join(s.progressFields(rate), "  ")
}

// BarCounts is the line under the progress bar: the live counts.
func (s Snapshot) BarCounts() string {
	return strings.Join(s.countFields(), " · ")
}

func formatRate(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.0f", r)
}

// FormatDuration writes d as a person reads a time left: "40s", "3m20s",
// "2h05m".
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
