package progress

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/reports"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestStatsCountsRowsAndAttempts(t *testing.T) {
	clock := newFakeClock()
	s := New(clock.Now)
	recs := []reports.Record{
		{Row: 2, Status: reports.Created, Attempts: 1},
		{Row: 3, Status: reports.Created, Attempts: 3},
		{Row: 4, Status: reports.Failed, ErrorClass: "rejected", Attempts: 1},
		{Row: 5, Status: reports.Unknown, ErrorClass: "ambiguous", Attempts: 2},
		{Row: 6, Status: reports.Invalid, ErrorClass: "validation"},
		{Row: 7, Status: reports.Pending},
		{Row: 8, Status: reports.Failed, ErrorClass: "teapot", Attempts: 1},
	}
	for _, r := range recs {
		s.Sending(r.Row)
		s.Done(r)
	}
	s.Attempt(Attempt{Status: 201, Latency: 10 * time.Millisecond})
	s.Attempt(Attempt{Status: 429, Latency: 2 * time.Millisecond, Throttled: true})
	s.Attempt(Attempt{Status: 0, Latency: time.Second})
	s.Pause(30 * time.Second)
	clock.Add(4 * time.Second)

	snap := s.Snapshot()
	wantRows := map[reports.Status]int64{reports.Created: 2, reports.Failed: 2, reports.Unknown: 1, reports.Invalid: 1, reports.Pending: 1}
	if len(snap.Rows) != len(wantRows) {
		t.Errorf("rows %v, want %v", snap.Rows, wantRows)
	}
	for st, n := range wantRows {
		if snap.Rows[st] != n {
			t.Errorf("rows[%s] = %d, want %d", st, snap.Rows[st], n)
		}
	}
	wantClasses := map[string]int64{"rejected": 1, "ambiguous": 1, "validation": 1, "teapot": 1}
	if len(snap.Classes) != len(wantClasses) {
		t.Errorf("classes %v, want %v", snap.Classes, wantClasses)
	}
	for c, n := range wantClasses {
		if snap.Classes[c] != n {
			t.Errorf("classes[%s] = %d, want %d", c, snap.Classes[c], n)
		}
	}
	checks := []struct {
		name      string
		got, want int64
	}{
		{"Done", snap.Done(), 6},
		{"Sent", snap.Sent, 5},
		{"Attempts", snap.Attempts, 8},
		{"Retries", snap.Retries, 3},
		{"Requests", snap.Requests, 3},
		{"Throttled", snap.Throttled, 1},
		{"NoResponse", snap.NoResponse, 1},
		{"Pauses", snap.Pauses, 1},
		{"Latency.Count", snap.Latency.Count, 3},
		{"Total", snap.Total, -1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if snap.Elapsed != 4*time.Second {
		t.Errorf("Elapsed = %v, want 4s", snap.Elapsed)
	}
	if snap.RateLimit != nil {
		t.Errorf("RateLimit = %+v without a sample, want nil", snap.RateLimit)
	}
}

func TestStatsRateRange(t *testing.T) {
	s := New(nil)
	for _, r := range []float64{0, 50, 20, math.NaN(), 80, 0, 60} {
		s.SampleRate(r)
	}
	got := s.Snapshot().RateLimit
	want := RateRange{Min: 20, Max: 80, Final: 60, Samples: 4}
	if got == nil || *got != want {
		t.Fatalf("RateLimit = %+v, want %+v", got, want)
	}
}

// TestStatsConcurrent counts rows from many goroutines at once (run with
// -race): no count is lost.
func TestStatsConcurrent(t *testing.T) {
	s := New(nil)
	const workers, rows = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rows {
				st := reports.Created
				if i%4 == 0 {
					st = reports.Failed
				}
				s.Done(reports.Record{Row: w*rows + i, Status: st, ErrorClass: map[bool]string{true: "rejected"}[st == reports.Failed], Attempts: 2})
				s.Attempt(Attempt{Status: 201, Latency: time.Duration(i) * time.Microsecond})
				_ = s.Snapshot().Done() // a view reading meanwhile
			}
		})
	}
	wg.Wait()
	snap := s.Snapshot()
	if got, want := snap.Done(), int64(workers*rows); got != want {
		t.Errorf("Done = %d, want %d", got, want)
	}
	if got, want := snap.Rows[reports.Failed], int64(workers*rows/4); got != want {
		t.Errorf("failed = %d, want %d", got, want)
	}
	if got, want := snap.Classes["rejected"], int64(workers*rows/4); got != want {
		t.Errorf("rejected = %d, want %d", got, want)
	}
	if got, want := snap.Retries, int64(workers*rows); got != want {
		t.Errorf("Retries = %d, want %d", got, want)
	}
	if got, want := snap.Requests, int64(workers*rows); got != want {
		t.Errorf("Requests = %d, want %d", got, want)
	}
}
