package progress

import (
	"math"
	"sync/atomic"
	"time"
)

// The histogram's buckets grow geometrically from histMin, histPerOctave
// buckets per doubling, so a quantile read from it is within about 4.5 %
// of the true value (half a bucket, 2^(1/16)) anywhere from 50 µs to 3.5
// minutes; shorter and longer latencies fall into the first and last
// bucket.
const (
	histMin       = 50 * time.Microsecond
	histPerOctave = 8
	histBuckets   = 22*histPerOctave + 2 // bucket 0: ≤ histMin; the last: beyond histMin·2^22
)

// Histogram counts durations in fixed logarithmic buckets with atomic
// counters: Observe never locks or allocates. Its zero value is ready.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

// bucket is the index of the bucket holding d: bucket i > 0 holds
// (histMin·2^((i-1)/8), histMin·2^(i/8)].
func bucket(d time.Duration) int {
	if d <= histMin {
		return 0
	}
	i := int(math.Ceil(math.Log2(float64(d)/float64(histMin)) * histPerOctave))
	return min(max(i, 1), histBuckets-1)
}

// upper is the upper bound of bucket i.
func upper(i int) float64 {
	return float64(histMin) * math.Exp2(float64(i)/histPerOctave)
}

// Observe counts one duration.
func (h *Histogram) Observe(d time.Duration) {
	h.counts[bucket(d)].Add(1)
	h.n.Add(1)
	h.sum.Add(int64(d))
}

// Count is how many durations were observed.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Total is the sum of the observed durations.
func (h *Histogram) Total() time.Duration { return time.Duration(h.sum.Load()) }

// Quantile returns the q-quantile (0 < q ≤ 1) of the observed durations:
// the geometric middle of the bucket that holds it; 0 when nothing was
// observed.
func (h *Histogram) Quantile(q float64) time.Duration {
	var counts [histBuckets]uint64
	var n uint64
	for i := range h.counts {
		counts[i] = h.counts[i].Load()
		n += counts[i]
	}
	return quantile(counts[:], n, q)
}

func quantile(counts []uint64, n uint64, q float64) time.Duration {
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var cum uint64
	for i, c := range counts {
		cum += c
		if cum < rank {
			continue
		}
		if i == 0 {
			return histMin
		}
		return time.Duration(math.Sqrt(upper(i-1) * upper(i)))
	}
	return time.Duration(upper(len(counts) - 1))
}

// LatencySummary is the latency of a run's requests.
type LatencySummary struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50Ms"`
	P95   float64 `json:"p95Ms"`
	P99   float64 `json:"p99Ms"`
	Mean  float64 `json:"meanMs"`
}

// Summary reads the count, mean and the 50th, 95th and 99th percentiles,
// in milliseconds, from one pass over the buckets.
func (h *Histogram) Summary() LatencySummary {
	var counts [histBuckets]uint64
	var n uint64
	for i := range h.counts {
		counts[i] = h.counts[i].Load()
		n += counts[i]
	}
	if n == 0 {
		return LatencySummary{}
	}
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	return LatencySummary{
		Count: int64(n),
		P50:   ms(quantile(counts[:], n, 0.50)),
		P95:   ms(quantile(counts[:], n, 0.95)),
		P99:   ms(quantile(counts[:], n, 0.99)),
		Mean:  ms(time.Duration(h.sum.Load() / int64(max(h.n.Load(), 1)))),
	}
}
