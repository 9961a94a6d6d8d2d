package progress

import (
	"math"
	"testing"
	"time"

	"github.com/srimport/srimport/reports"
)

func TestSeriesPointPerSample(t *testing.T) {
	clock := newFakeClock()
	s := New(clock.Now)
	if p := s.Series(); p != nil {
		t.Fatalf("series before any sample: %v", p)
	}
	// Second 1: 3 rows created, 1 invalid, 4 requests of which one 429,
	// latencies 10 ms ×3 and 400 ms; the limit is 20/s.
	for _, st := range []reports.Status{reports.Created, reports.Created, reports.Created, reports.Invalid} {
		s.Done(reports.Record{Status: st, Attempts: 1})
	}
	for range 3 {
		s.Attempt(Attempt{Status: 201, Latency: 10 * time.Millisecond})
	}
	s.Attempt(Attempt{Status: 429, Latency: 400 * time.Millisecond, Throttled: true})
	clock.Add(time.Second)
	s.SampleRate(20)
	// Second 2: nothing but a row left pending; no limit.
	s.Done(reports.Record{Status: reports.Pending})
	clock.Add(time.Second)
	s.SampleRate(0)
	// Half a second: a failed row and an unknown one, 2 requests at 100 ms.
	s.Done(reports.Record{Status: reports.Failed, ErrorClass: "rejected", Attempts: 1})
	s.Done(reports.Record{Status: reports.Unknown, ErrorClass: "ambiguous", Attempts: 1})
	s.Attempt(Attempt{Status: 400, Latency: 100 * time.Millisecond})
	s.Attempt(Attempt{Status: 0, Latency: 100 * time.Millisecond})
	clock.Add(500 * time.Millisecond)
	s.SampleRate(10)

	got := s.Series()
	if len(got) != 3 {
		t.Fatalf("%d points, want 3: %+v", len(got), got)
	}
	p := got[0]
	if p.At != 0 || p.Seconds != 1 || p.Done != 4 || p.Created != 3 || p.Invalid != 1 || p.Requests != 4 || p.Throttled != 1 || p.Rate != 20 {
		t.Errorf("point 0 = %+v", p)
	}
	if !near(p.P50, 10) || !near(p.P95, 400) || !near(p.P99, 400) {
		t.Errorf("point 0 latency p50 %v p95 %v p99 %v, want about 10, 400, 400", p.P50, p.P95, p.P99)
	}
	p = got[1]
	if p.At != 1 || p.Seconds != 1 || p.Done != 0 || p.Requests != 0 || p.P50 != 0 || p.Rate != 0 {
		t.Errorf("point 1 = %+v", p)
	}
	p = got[2]
	if p.At != 2 || p.Seconds != 0.5 || p.Done != 2 || p.Failed != 1 || p.Unknown != 1 || p.Requests != 2 || p.Rate != 10 {
		t.Errorf("point 2 = %+v", p)
	}
	if !near(p.P50, 100) || p.PerSecond(p.Done) != 4 {
		t.Errorf("point 2: p50 %v, %v rows/s; want about 100 ms and 4", p.P50, p.PerSecond(p.Done))
	}
}

// near reports whether a latency read from the histogram is within its
// precision (half a bucket, about 4.5 %) of want.
func near(got, want float64) bool { return math.Abs(got-want) <= 0.05*want }

// TestSeriesMergesWhenFull: a run of 10 hours sampled every second keeps
// at most MaxPoints points, of equal length, and loses no count.
func TestSeriesMergesWhenFull(t *testing.T) {
	clock := newFakeClock()
	s := New(clock.Now)
	const seconds = 10 * 3600
	for i := range seconds {
		s.Done(reports.Record{Status: reports.Created, Attempts: 1})
		s.Attempt(Attempt{Status: 201, Latency: time.Duration(1+i%2) * 50 * time.Millisecond})
		clock.Add(time.Second)
		s.SampleRate(float64(1 + i%2)) // alternating 1 and 2: a mean of 1.5
	}
	got := s.Series()
	if len(got) > MaxPoints || len(got) < MaxPoints/2 {
		t.Fatalf("%d points, want between %d and %d", len(got), MaxPoints/2, MaxPoints)
	}
	var done, requests int64
	var end float64
	for i, p := range got {
		done += p.Done
		requests += p.Requests
		if p.At != end {
			t.Fatalf("point %d starts at %v, the previous ended at %v", i, p.At, end)
		}
		end = p.At + p.Seconds
		if i < len(got)-1 && p.Seconds != got[0].Seconds {
			t.Errorf("point %d lasts %vs, point 0 %vs", i, p.Seconds, got[0].Seconds)
		}
		if p.Rate != 1.5 || p.PerSecond(p.Done) != 1 {
			t.Fatalf("point %d: rate %v, %v rows/s; want 1.5 and 1", i, p.Rate, p.PerSecond(p.Done))
		}
		if !near(p.P50, 50) || !near(p.P99, 100) {
			t.Fatalf("point %d: p50 %v, p99 %v; want about 50 and 100", i, p.P50, p.P99)
		}
	}
	if done != seconds || requests != seconds || end != seconds {
		t.Errorf("points sum to %d rows, %d requests over %vs; want %d each", done, requests, end, seconds)
	}
	if got[0].Seconds < 64 || got[0].Seconds > 128 {
		t.Errorf("points of %vs, want 64 to 128 (10 h in 300 to 600 points)", got[0].Seconds)
	}
}

// TestSeriesClockGoingBackwards: a sample taken at an earlier time than
// the last one (a clock stepped back) makes an interval of no length.
func TestSeriesClockGoingBackwards(t *testing.T) {
	clock := newFakeClock()
	s := New(clock.Now)
	clock.Add(2 * time.Second)
	s.SampleRate(0)
	clock.Add(-time.Second)
	s.SampleRate(0)
	got := s.Series()
	if len(got) != 2 || got[1].Seconds != 0 || got[1].At != 2 {
		t.Errorf("series %+v: want a second point of no length at 2 s", got)
	}
}

// BenchmarkSeriesSample measures one sample (once a second on the
// sampler's goroutine): reading the counters and the latency histogram.
func BenchmarkSeriesSample(b *testing.B) {
	s := New(nil)
	for i := range 10000 {
		s.Attempt(Attempt{Status: 201, Latency: time.Duration(i%500) * time.Millisecond})
	}
	b.ResetTimer()
	for i := range b.N {
		s.Attempt(Attempt{Status: 201, Latency: time.Duration(i%500) * time.Millisecond})
		s.SampleRate(10)
	}
}
