// Package progress counts what an import run does — rows by outcome and
// error class, requests, retries, 429s, latency, the rate limit in force —
// and shows it: a progress bar on a terminal, a status line every few
// seconds elsewhere, the figures of the run summary and a Prometheus
// textfile.
//
// One Stats holds the counts of one run. The workers update it with atomic
// operations only (no lock per row or per request; a row with an error
// also takes the lock of its error group); the views read it through
// Snapshot, on their own goroutines. The sampler that records the rate
// limit once a second also closes a point of the run's time series
// (Series), from the same counters, for the charts of a run's page.
package progress

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srimport/srimport/reports"
)

// Attempt is one HTTP attempt as Stats counts it.
type Attempt struct {
	// Status is the HTTP status code; 0 when no response arrived.
	Status int
	// Latency is how long the attempt took.
	Latency time.Duration
	// Throttled is true for a 429 answer.
	Throttled bool
}

// statuses are the report statuses in report order; Stats counts rows per
// index into it.
var statuses = reports.Statuses()

// Classes are the report's error classes (cli.md), in the order summaries
// list them; Stats counts others under their own name as well.
var classes = []string{"validation", "rejected", "throttled", "transient", "auth", "ambiguous"}

// Stats counts one run. Its zero value is not ready: use New. All methods
// are safe for concurrent use; Sending, Done, Attempt and Pause cost a few
// atomic additions and never block.
type Stats struct {
	start time.Time
	now   func() time.Time

	total    atomic.Int64 // rows the input holds; -1 unknown
	byStatus [8]atomic.Int64
	byClass  [8]atomic.Int64
	other    sync.Map // error class (string) → *atomic.Int64, for classes not in classes

	sent      atomic.Int64 // rows with at least one attempt
	attempts  atomic.Int64 // create attempts of finished rows
	retries   atomic.Int64 // attempts beyond each row's first
	requests  atomic.Int64 // HTTP attempts of any call
	throttled atomic.Int64 // of which answered 429
	silent    atomic.Int64 // of which got no response
	pauses    atomic.Int64 // Retry-After holds
	latency   Histogram

	rmu   sync.Mutex // guards the rate samples; taken once a second, not per row
	rates RateRange

	series series      // the time series, sampled with the rate
	errors ErrorGroups // the rows' errors by class and message
}

// New returns the Stats of a run starting now; now is the clock (nil =
// time.Now).
func New(now func() time.Time) *Stats {
	if now == nil {
		now = time.Now
	}
	s := &Stats{start: now(), now: now}
	s.total.Store(-1)
	return s
}

// SetTotal records how many rows the input holds, when known.
func (s *Stats) SetTotal(n int64) { s.total.Store(n) }

// Sending is part of importer.Observer; Stats counts a row when it is
// done, so it does nothing.
func (s *Stats) Sending(int) {}

// Done counts a row's final record (importer.Observer).
func (s *Stats) Done(rec reports.Record) {
	for i, st := range statuses {
		if st == rec.Status {
			s.byStatus[i].Add(1)
			break
		}
	}
	if rec.ErrorClass != "" {
		s.countClass(rec.ErrorClass)
		s.errors.Add(rec.ErrorClass, rec.Error, rec.Row)
	}
	if rec.Attempts > 0 {
		s.sent.Add(1)
		s.attempts.Add(int64(rec.Attempts))
		s.retries.Add(int64(rec.Attempts - 1))
	}
}

func (s *Stats) countClass(c string) {
	for i, k := range classes {
		if k == c {
			s.byClass[i].Add(1)
			return
		}
	}
	n, _ := s.other.LoadOrStore(c, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

// Attempt counts one HTTP attempt of any call.
func (s *Stats) Attempt(a Attempt) {
	s.requests.Add(1)
	if a.Throttled {
		s.throttled.Add(1)
	}
	if a.Status == 0 {
		s.silent.Add(1)
	}
	s.latency.Observe(a.Latency)
}

// Pause counts a hold the service asked for with Retry-After.
func (s *Stats) Pause(time.Duration) { s.pauses.Add(1) }

// SampleRate records the rate limit in force, in requests per second (0:
// no limit), and closes a point of the time series (see Series). A
// sampler calls it about once a second, and once more when the run ends.
func (s *Stats) SampleRate(r float64) {
	s.series.sample(s, s.now().Sub(s.start), r)
	if r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.rates.Samples == 0 || r < s.rates.Min {
		s.rates.Min = r
	}
	if r > s.rates.Max {
		s.rates.Max = r
	}
	s.rates.Final = r
	s.rates.Samples++
}

// Errors returns the rows' errors grouped by class and message (see
// ErrorGroups.Groups).
func (s *Stats) Errors() []ErrorGroup { return s.errors.Groups() }

// Latency is the attempt-latency histogram.
func (s *Stats) Latency() *Histogram { return &s.latency }

// Snapshot is the counts of a run at one instant.
type Snapshot struct {
	// Elapsed is the time since the run started.
	Elapsed time.Duration `json:"-"`
	// Total is how many rows the input holds; -1 when not known.
	Total int64 `json:"-"`
	// Rows counts rows by report status.
	Rows map[reports.Status]int64 `json:"-"`
	// Classes counts rows by error class; classes with no row are absent.
	Classes map[string]int64 `json:"errorClasses,omitempty"`
	// Sent is how many rows were sent at least once.
	Sent int64 `json:"rowsSent"`
	// Attempts is how many creates the finished rows sent (the report's
	// attempts column, summed).
	Attempts int64 `json:"attempts"`
	// Retries is how many attempts were beyond each row's first.
	Retries int64 `json:"retries"`
	// Requests is how many HTTP attempts were made, of every kind (creates,
	// the topic list, look-ups).
	Requests int64 `json:"requests"`
	// Throttled is how many of them the service answered 429.
	Throttled int64 `json:"throttled"`
	// NoResponse is how many of them got no answer at all.
	NoResponse int64 `json:"noResponse"`
	// Pauses is how many times the service asked, with Retry-After, for
	// all sending to hold.
	Pauses int64 `json:"retryAfterPauses"`
	// Latency summarises the latency of the requests.
	Latency LatencySummary `json:"latency"`
	// RateLimit is the rate limit in force over the run; nil when there
	// was none.
	RateLimit *RateRange `json:"rateLimit,omitempty"`
}

// RateRange is the client-side rate limit over a run, in requests per
// second.
type RateRange struct {
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Final   float64 `json:"final"`
	Samples int     `json:"samples"`
}

// Snapshot reads the counts. The counters are read one by one, so a
// snapshot taken while rows complete may be off by the rows that complete
// meanwhile.
func (s *Stats) Snapshot() Snapshot {
	snap := Snapshot{
		Elapsed:    s.now().Sub(s.start),
		Total:      s.total.Load(),
		Rows:       make(map[reports.Status]int64, len(statuses)),
		Sent:       s.sent.Load(),
		Attempts:   s.attempts.Load(),
		Retries:    s.retries.Load(),
		Requests:   s.requests.Load(),
		Throttled:  s.throttled.Load(),
		NoResponse: s.silent.Load(),
		Pauses:     s.pauses.Load(),
		Latency:    s.latency.Summary(),
	}
	for i, st := range statuses {
		if n := s.byStatus[i].Load(); n > 0 {
			snap.Rows[st] = n
		}
	}
	for i, c := range classes {
		if n := s.byClass[i].Load(); n > 0 {
			if snap.Classes == nil {
				snap.Classes = make(map[string]int64)
			}
			snap.Classes[c] = n
		}
	}
	s.other.Range(func(k, v any) bool {
		if snap.Classes == nil {
			snap.Classes = make(map[string]int64)
		}
		snap.Classes[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	s.rmu.Lock()
	if s.rates.Samples > 0 {
		r := s.rates
		snap.RateLimit = &r
	}
	s.rmu.Unlock()
	return snap
}

// Done is how many rows have an outcome: every row counted but the
// pending ones.
func (s Snapshot) Done() int64 {
	var n int64
	for st, c := range s.Rows {
		if st != reports.Pending {
			n += c
		}
	}
	return n
}
