package progress

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Headroom is how many more workers than Little's law's bare minimum the
// advice asks for: latency varies, and a worker waiting on a slow answer
// sends nothing.
const Headroom = 1.3

// WorkersAdvice tells whether workers requests in flight can keep up with
// a rate limit of rate requests per second when an attempt takes latency.
// By Little's law they reach at most workers / latency requests per
// second; when that is under 90 % of rate it returns the advice to print,
// such as
//
//	--workers 8 reach about 60 requests/s at 130 ms latency; --rate 200 needs --workers >= 34
//
// and true. rateFlag is the --rate given (0 = none): the advice names it
// when the limit in force is that rate.
func WorkersAdvice(workers int, rate, rateFlag float64, latency time.Duration) (string, bool) {
	if workers <= 0 || rate <= 0 || latency <= 0 {
		return "", false
	}
	reach := float64(workers) / latency.Seconds()
	if reach >= 0.9*rate {
		return "", false
	}
	need := int(math.Ceil(rate * latency.Seconds() * Headroom))
	limit := fmt.Sprintf("--rate %s", formatFloat(rate))
	if rateFlag <= 0 || math.Abs(rate-rateFlag) > 0.01*rateFlag {
		limit = fmt.Sprintf("the rate limit in force, %s requests/s,", formatFloat(rate))
	}
	return fmt.Sprintf("--workers %d reach about %s requests/s at %s latency; %s needs --workers >= %d",
		workers, roughly(reach), formatLatency(latency), limit, need), true
}

// Advisor watches a run for WorkersAdvice, once a second, and gives its
// advice once: after a few seconds in which a rate limit was in force,
// from the mean latency of the attempts made meanwhile. It is not safe for
// concurrent use.
type Advisor struct {
	// Workers is --workers; RateFlag is --rate.
	Workers  int
	RateFlag float64
	// After is how long a limit must have been in force (default 3s).
	After time.Duration

	since       time.Duration // when the limit came in force; -1 = not in force
	n0          uint64
	sum0        time.Duration
	given, init bool
}

// Check is called about once a second with the time since the run started,
// the rate limit in force (0 = none) and the attempts' latencies. It
// returns the advice when it is time to give it.
func (a *Advisor) Check(elapsed time.Duration, limit float64, h *Histogram) (string, bool) {
	if a.given {
		return "", false
	}
	if !a.init {
		a.init, a.since = true, -1
	}
	if limit <= 0 {
		a.since = -1
		return "", false
	}
	if a.since < 0 {
		a.since, a.n0, a.sum0 = elapsed, h.Count(), h.Total()
		return "", false
	}
	after := a.After
	if after <= 0 {
		after = 3 * time.Second
	}
	n := h.Count() - a.n0
	if elapsed-a.since < after || n < 10 {
		return "", false
	}
	mean := (h.Total() - a.sum0) / time.Duration(n)
	msg, ok := WorkersAdvice(a.Workers, limit, a.RateFlag, mean)
	a.given = ok
	return msg, ok
}

// roughly rounds x as a person says "about": to a multiple of 5 from 10
// to 100 (61.5 → "60"), to two significant digits above (1234 → "1200"),
// to a tenth below.
func roughly(x float64) string {
	switch {
	case x < 10:
		return formatFloat(math.Round(x*10) / 10)
	case x < 100:
		return formatFloat(math.Round(x/5) * 5)
	}
	mag := math.Pow(10, math.Floor(math.Log10(x))-1)
	return formatFloat(math.Round(x/mag) * mag)
}

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func formatLatency(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
