package progress

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var all []time.Duration
	for range 20000 {
		// Log-normal around 130 ms, as a service's latencies are.
		d := time.Duration(math.Exp(rng.NormFloat64()*0.6) * float64(130*time.Millisecond))
		h.Observe(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.95, 0.99} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		got := h.Quantile(q)
		if r := float64(got) / float64(exact); r < 0.955 || r > 1.045 {
			t.Errorf("p%.0f = %v, exact %v: off by more than half a bucket", q*100, got, exact)
		}
	}
	if h.Count() != uint64(len(all)) {
		t.Errorf("Count = %d, want %d", h.Count(), len(all))
	}
	sum := h.Summary()
	if sum.Count != int64(len(all)) || sum.P50 <= 0 || sum.P50 > sum.P95 || sum.P95 > sum.P99 {
		t.Errorf("Summary = %+v: want a count and rising percentiles", sum)
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("empty: p50 = %v, want 0", got)
	}
	if got := h.Summary(); got != (LatencySummary{}) {
		t.Errorf("empty: Summary = %+v, want zero", got)
	}
	h.Observe(0)
	h.Observe(time.Microsecond)
	if got := h.Quantile(1); got != histMin {
		t.Errorf("tiny durations: p100 = %v, want %v", got, histMin)
	}
	h.Observe(time.Hour)
	if got := h.Quantile(1); got < 3*time.Minute {
		t.Errorf("an hour: p100 = %v, want the last bucket (over 3 minutes)", got)
	}
	for _, d := range []time.Duration{histMin + 1, 130 * time.Millisecond, 2 * time.Second} {
		i := bucket(d)
		if lo, hi := upper(i-1), upper(i); float64(d) <= lo || float64(d) > hi {
			t.Errorf("%v in bucket %d = (%v, %v]", d, i, time.Duration(lo), time.Duration(hi))
		}
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	var h Histogram
	b.RunParallel(func(pb *testing.PB) {
		d := 130 * time.Millisecond
		for pb.Next() {
			h.Observe(d)
		}
	})
}
