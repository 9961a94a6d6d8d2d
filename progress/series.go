package progress

import (
	"math"
	"sync"
	"time"

	"github.com/srimport/srimport/reports"
)

// MaxPoints is how many points a run's time series holds at most. When it
// is full, adjacent points are merged two into one and later points cover
// twice as many samples, so a run of any length fits: sampled once a
// second, a 10-hour run ends with points of a minute or two.
const MaxPoints = 600

// Point is one interval of a run's time series: what happened between two
// samples (or, once points were merged, several). Counts are of the
// interval, not running totals; divide by Seconds for a rate.
type Point struct {
	// At is when the interval began, in seconds since the run started.
	At float64 `json:"t"`
	// Seconds is how long the interval lasted.
	Seconds float64 `json:"s"`
	// Done counts the rows that got an outcome (any status but pending).
	Done int64 `json:"done"`
	// Created, Invalid, Failed and Unknown count the rows that got that
	// status.
	Created int64 `json:"created"`
	Invalid int64 `json:"invalid"`
	Failed  int64 `json:"failed"`
	Unknown int64 `json:"unknown"`
	// Requests counts the HTTP attempts, and Throttled those answered 429.
	Requests  int64 `json:"requests"`
	Throttled int64 `json:"throttled"`
	// P50, P95 and P99 are the latency percentiles of the interval's
	// attempts, in milliseconds; 0 when it made none.
	P50 float64 `json:"p50Ms"`
	P95 float64 `json:"p95Ms"`
	P99 float64 `json:"p99Ms"`
	// Rate is the mean rate limit in force over the interval, in requests
	// per second; 0 when there was none.
	Rate float64 `json:"rate,omitempty"`
}

// PerSecond is n over the interval's length; 0 for an empty interval.
func (p Point) PerSecond(n int64) float64 {
	if p.Seconds <= 0 {
		return 0
	}
	return float64(n) / p.Seconds
}

// bin is one non-empty bucket of a latency histogram.
type bin struct {
	i int
	n uint64
}

// interval is a point being built: counts, the latency histogram as its
// non-empty buckets in bucket order (a few dozen at most, as latencies
// cluster), and the rate samples.
type interval struct {
	start, end time.Duration
	samples    int
	done       int64
	byStatus   [4]int64 // created, invalid, failed, unknown
	requests   int64
	throttled  int64
	lat        []bin
	rateSum    float64
	rateN      int
}

// add adds o, the interval that follows, to v.
func (v *interval) add(o *interval) {
	if v.samples == 0 {
		v.start = o.start
	}
	v.end = o.end
	v.samples += o.samples
	v.done += o.done
	for i := range v.byStatus {
		v.byStatus[i] += o.byStatus[i]
	}
	v.requests += o.requests
	v.throttled += o.throttled
	v.lat = mergeBins(v.lat, o.lat)
	v.rateSum += o.rateSum
	v.rateN += o.rateN
}

// mergeBins adds the histogram b to a, both in bucket order.
func mergeBins(a, b []bin) []bin {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return append(a, b...)
	}
	out := make([]bin, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].i < b[j].i:
			out = append(out, a[i])
			i++
		case a[i].i > b[j].i:
			out = append(out, b[j])
			j++
		default:
			out = append(out, bin{a[i].i, a[i].n + b[j].n})
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// point is v as a Point.
func (v *interval) point() Point {
	p := Point{
		At:        v.start.Seconds(),
		Seconds:   (v.end - v.start).Seconds(),
		Done:      v.done,
		Created:   v.byStatus[0],
		Invalid:   v.byStatus[1],
		Failed:    v.byStatus[2],
		Unknown:   v.byStatus[3],
		Requests:  v.requests,
		Throttled: v.throttled,
	}
	if v.rateN > 0 {
		p.Rate = v.rateSum / float64(v.rateN)
	}
	if len(v.lat) > 0 {
		var counts [histBuckets]uint64
		var n uint64
		for _, b := range v.lat {
			counts[b.i] = b.n
			n += b.n
		}
		ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
		p.P50 = ms(quantile(counts[:], n, 0.50))
		p.P95 = ms(quantile(counts[:], n, 0.95))
		p.P99 = ms(quantile(counts[:], n, 0.99))
	}
	return p
}

// seriesStatuses are the statuses a Point counts on its own, in the order
// of interval.byStatus.
var seriesStatuses = [4]reports.Status{reports.Created, reports.Invalid, reports.Failed, reports.Unknown}

// series is a run's time series. The sampler adds to it about once a
// second, reading the Stats' counters (no lock, nothing per row) and
// taking mu, which only readers of the series share.
type series struct {
	mu     sync.Mutex
	max    int        // points kept at most before merging; even
	level  uint       // each closed point holds 1<<level samples
	points []interval // closed points
	cur    interval   // samples not yet making a point

	// The counters at the last sample, to take differences from.
	last      time.Duration
	done      int64
	byStatus  [4]int64
	requests  int64
	throttled int64
	lat       [histBuckets]uint64
}

// sample closes the interval from the last sample to elapsed, reading s's
// counters; rate is the limit in force (0 = none).
func (ser *series) sample(s *Stats, elapsed time.Duration, rate float64) {
	var done int64
	var byStatus [4]int64
	for i, st := range statuses {
		n := s.byStatus[i].Load()
		if st != reports.Pending {
			done += n
		}
		for j, want := range seriesStatuses {
			if st == want {
				byStatus[j] = n
			}
		}
	}
	requests, throttled := s.requests.Load(), s.throttled.Load()

	ser.mu.Lock()
	defer ser.mu.Unlock()
	if ser.max == 0 {
		ser.max = MaxPoints
	}
	elapsed = max(elapsed, ser.last)
	v := interval{start: ser.last, end: elapsed, samples: 1,
		done: done - ser.done, requests: requests - ser.requests, throttled: throttled - ser.throttled}
	for i := range byStatus {
		v.byStatus[i] = byStatus[i] - ser.byStatus[i]
	}
	for i := range ser.lat {
		n := s.latency.counts[i].Load()
		if d := n - ser.lat[i]; d > 0 {
			v.lat = append(v.lat, bin{i, d})
		}
		ser.lat[i] = n
	}
	if rate > 0 && !math.IsInf(rate, 0) && !math.IsNaN(rate) {
		v.rateSum, v.rateN = rate, 1
	}
	ser.last, ser.done, ser.byStatus, ser.requests, ser.throttled = elapsed, done, byStatus, requests, throttled

	ser.cur.add(&v)
	if ser.cur.samples < 1<<ser.level {
		return
	}
	ser.points = append(ser.points, ser.cur)
	ser.cur = interval{}
	if len(ser.points) < ser.max {
		return
	}
	// Full: merge pairs, and let later points hold twice as many samples.
	half := ser.points[:0]
	for i := 0; i+1 < len(ser.points); i += 2 {
		m := ser.points[i]
		m.add(&ser.points[i+1])
		half = append(half, m)
	}
	clear(ser.points[len(half):])
	ser.points = half
	ser.level++
}

// read returns the points, the open interval last when it has samples.
func (ser *series) read() []Point {
	ser.mu.Lock()
	defer ser.mu.Unlock()
	out := make([]Point, 0, len(ser.points)+1)
	for i := range ser.points {
		out = append(out, ser.points[i].point())
	}
	if ser.cur.samples > 0 {
		out = append(out, ser.cur.point())
	}
	return out
}

// Series returns the run's time series, oldest first: one point per call
// of SampleRate (whose sampler calls it about once a second), merged two
// into one whenever MaxPoints are reached. Nil before the first sample.
func (s *Stats) Series() []Point {
	p := s.series.read()
	if len(p) == 0 {
		return nil
	}
	return p
}
