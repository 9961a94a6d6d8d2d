package client

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// paceSim runs a pacer against a simulated service in virtual time: Workers
// send one request after another through the pacer (waking, as Wait does,
// when their slots move); the service answers each after Latency plus a
// seeded jitter, admitting it through a token bucket of rate Quota and
// burst Burst (the emulator's admit) or answering 429 with the emulator's
// Retry-After; a throttled request waits its Retry-After and is sent again
// through the pacer.
type paceSim struct {
	Quota    float64 // the service's quota; 0 = none
	Burst    int     // 0 = max(1, Quota), as the emulator
	Workers  int
	Latency  time.Duration
	Jitter   time.Duration // uniform in [0, Jitter)
	Ceiling  float64       // Config.Rate
	Duration time.Duration
	Warmup   time.Duration // left out of the steady-state figures
	// QuotaAt, when set, is the quota from the given time on.
	QuotaAt func(time.Duration) float64
}

// paceResult is what a simulation measured.
type paceResult struct {
	ok, throttled             int64   // answers over the whole run
	steadyOK, steadyThrottled int64   // answers after Warmup
	steadyRate                float64 // admitted answers per second after Warmup
	maxLimit                  float64 // highest limit the pacer set
	maxWindow                 int64   // most sends in a 1 s window (100 ms steps)
	okPerSecond               []int64
	limits                    []float64     // the limit at the end of each second
	firstThrottle             time.Duration // when the first 429 came; -1 = never
	trace                     []limitAt     // every change of the limit
	answers                   []simAnswerAt // every answer, in order
}

// limitAt is a limit the pacer set, and when.
type limitAt struct {
	at    time.Duration
	limit float64
}

// simAnswerAt is an answer of the simulated service, and when.
type simAnswerAt struct {
	at        time.Duration
	throttled bool
}

type simEvent struct {
	at      time.Duration
	seq     int64
	kind    int // simWake, simSend, simAnswer
	worker  int
	version int64 // of a simSend: the worker's version when it was scheduled
}

const (
	simWake = iota
	simSend
	simAnswer
)

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (s paceSim) run() paceResult {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return epoch.Add(d) }
	p := newPacer(epoch, s.Ceiling, DefaultThrottleGiveUp, nil)
	var server *rate.Limiter
	if s.Quota > 0 {
		burst := s.Burst
		if burst <= 0 {
			burst = max(1, int(s.Quota))
		}
		server = rate.NewLimiter(rate.Limit(s.Quota), burst)
		server.SetLimitAt(epoch, rate.Limit(s.Quota)) // a full bucket at epoch
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var q simQueue
	var seq int64
	push := func(d time.Duration, kind, w int, version int64) {
		seq++
		heap.Push(&q, simEvent{at: d, seq: seq, kind: kind, worker: w, version: version})
	}
	sentAt := make([]time.Duration, s.Workers)
	slots := make([]int64, s.Workers)
	waiting := make([]bool, s.Workers)
	version := make([]int64, s.Workers)
	gen := p.gen
	// rewake reschedules the waiting workers when the slots moved.
	rewake := func(now time.Duration) {
		if p.gen == gen {
			return
		}
		gen = p.gen
		for w, ok := range waiting {
			if ok {
				version[w]++
				push(now, simSend, w, version[w])
			}
		}
	}
	for w := range s.Workers {
		push(0, simWake, w, 0)
	}
	seconds := int(s.Duration / time.Second)
	res := paceResult{okPerSecond: make([]int64, seconds), limits: make([]float64, seconds), firstThrottle: -1}
	sendsPer := make([]int64, int(s.Duration/pacerBucket)+1)
	for q.Len() > 0 {
		e := heap.Pop(&q).(simEvent)
		if e.at >= s.Duration {
			break
		}
		now := at(e.at)
		switch e.kind {
		case simWake:
			n, d, _ := p.take(now)
			slots[e.worker], waiting[e.worker] = n, true
			version[e.worker]++
			push(e.at+max(d, 0), simSend, e.worker, version[e.worker])
		case simSend:
			if e.version != version[e.worker] {
				continue // superseded: the slots moved
			}
			if d, _ := p.due(slots[e.worker], now); d > 0 {
				push(e.at+d, simSend, e.worker, version[e.worker])
				continue
			}
			waiting[e.worker] = false
			p.sent(now)
			sendsPer[e.at/pacerBucket]++
			sentAt[e.worker] = e.at
			lat := s.Latency
			if s.Jitter > 0 {
				lat += time.Duration(rng.Int64N(int64(s.Jitter)))
			}
			push(e.at+lat, simAnswer, e.worker, 0)
		case simAnswer:
			status, retryAfter := 201, time.Duration(0)
			if server != nil {
				if s.QuotaAt != nil {
					server.SetLimitAt(now, rate.Limit(s.QuotaAt(e.at)))
				}
				if !server.AllowN(now, 1) {
					status = 429
					wait := (1 - server.TokensAt(now)) / float64(server.Limit())
					retryAfter = time.Duration(max(1, int(math.Ceil(wait)))) * time.Second
				}
			}
			p.observe(now, status, e.at-sentAt[e.worker], retryAfter)
			rewake(e.at)
			if l := p.Rate(); len(res.trace) == 0 || res.trace[len(res.trace)-1].limit != l {
				res.trace = append(res.trace, limitAt{e.at, l})
			}
			res.answers = append(res.answers, simAnswerAt{e.at, status == 429})
			if status == 429 && res.firstThrottle < 0 {
				res.firstThrottle = e.at
			}
			res.maxLimit = max(res.maxLimit, p.Rate())
			res.limits[e.at/time.Second] = p.Rate()
			steady := e.at >= s.Warmup
			if status == 429 {
				res.throttled++
				if steady {
					res.steadyThrottled++
				}
				push(e.at+retryAfter, simWake, e.worker, 0)
				continue
			}
			res.ok++
			res.okPerSecond[e.at/time.Second]++
			if steady {
				res.steadyOK++
			}
			push(e.at, simWake, e.worker, 0)
		}
	}
	res.steadyRate = float64(res.steadyOK) / (s.Duration - s.Warmup).Seconds()
	var window int64
	for i, n := range sendsPer {
		window += n
		if i >= pacerBuckets {
			window -= sendsPer[i-pacerBuckets]
		}
		res.maxWindow = max(res.maxWindow, window)
	}
	return res
}

// firstWave is the number of 429s no client can avoid: the requests sent
// at once before the first answer, beyond the service's burst.
func (s paceSim) firstWave() int64 {
	if s.Quota == 0 {
		return 0
	}
	burst := s.Burst
	if burst <= 0 {
		burst = max(1, int(s.Quota))
	}
	return int64(max(0, s.Workers-burst))
}

func (r paceResult) share(throttled, ok int64) float64 {
	return float64(throttled) / float64(max(1, throttled+ok))
}

// rate returns the admitted answers per second over seconds [from, to).
func (r paceResult) rate(from, to int) float64 {
	var n int64
	for _, c := range r.okPerSecond[from:to] {
		n += c
	}
	return float64(n) / float64(to-from)
}

func (r paceResult) String() string {
	return fmt.Sprintf("%d admitted, %d 429s (%.2f%%); after warm-up %.1f/s, %.2f%% 429s; highest limit %.1f, most sends in 1 s %d",
		r.ok, r.throttled, 100*r.share(r.throttled, r.ok), r.steadyRate, 100*r.share(r.steadyThrottled, r.steadyOK), r.maxLimit, r.maxWindow)
}

// paceScenarios are the quotas, latencies and worker counts the pacer is
// checked against: workers enough to send 2 or 20 times the quota, the
// emulator's burst (the quota) and, for 2 times, a tenth of it.
func paceScenarios() []paceSim {
	var out []paceSim
	for _, q := range []float64{50, 150, 300, 1000} {
		for _, lat := range []time.Duration{time.Millisecond, 20 * time.Millisecond, 200 * time.Millisecond} {
			for _, over := range []float64{2, 20} {
				workers := max(4, int(math.Ceil(over*q*lat.Seconds())))
				if workers > 2000 {
					continue
				}
				s := paceSim{Quota: q, Workers: workers, Latency: lat, Jitter: lat / 5, Duration: 60 * time.Second, Warmup: 10 * time.Second}
				out = append(out, s)
				if over == 2 {
					s.Burst = max(1, int(q/10))
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// TestPacerConverges: under an unknown quota Q the pacer settles at 90 %
// of Q or more, with at most 2 % of the requests answered 429 once settled
// and over the whole minute, the first wave aside.
func TestPacerConverges(t *testing.T) {
	t.Parallel()
	for _, s := range paceScenarios() {
		t.Run(fmt.Sprintf("Q=%g/burst=%d/latency=%s/workers=%d", s.Quota, s.Burst, s.Latency, s.Workers), func(t *testing.T) {
			t.Parallel()
			r := s.run()
			t.Log(r)
			beyond := r.share(max(0, r.throttled-s.firstWave()), r.ok)
			if r.steadyRate < 0.9*s.Quota || r.share(r.steadyThrottled, r.steadyOK) > 0.02 || beyond > 0.02 {
				t.Errorf("%s; %.2f%% 429s beyond the first wave; want >= %.0f/s and <= 2%% 429s", r, 100*beyond, 0.9*s.Quota)
			}
		})
	}
}

// TestPacerBurstOne: a service that allows no burst at all costs some
// throughput but nothing breaks down.
func TestPacerBurstOne(t *testing.T) {
	t.Parallel()
	for _, q := range []float64{50, 300, 1000} {
		for _, lat := range []time.Duration{time.Millisecond, 20 * time.Millisecond, 200 * time.Millisecond} {
			s := paceSim{Quota: q, Burst: 1, Workers: max(4, int(2*q*lat.Seconds())), Latency: lat, Duration: 60 * time.Second, Warmup: 10 * time.Second}
			t.Run(fmt.Sprintf("Q=%g/latency=%s/workers=%d", q, lat, s.Workers), func(t *testing.T) {
				t.Parallel()
				r := s.run()
				t.Log(r)
				if r.steadyRate < 0.85*q || r.share(r.steadyThrottled, r.steadyOK) > 0.025 {
					t.Errorf("%s; want >= %.0f/s and <= 2.5%% 429s", r, 0.85*q)
				}
			})
		}
	}
}

// TestPacerExactRate: with Config.Rate R and a quota of R, every request
// is admitted, at 99.5 % of R or more, and no second ever sees more than R
// sends.
func TestPacerExactRate(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{50, 150, 1000} {
		for _, lat := range []time.Duration{time.Millisecond, 200 * time.Millisecond} {
			s := paceSim{Quota: r, Ceiling: r, Workers: max(4, int(2*r*lat.Seconds())), Latency: lat, Jitter: lat / 5, Duration: 60 * time.Second}
			t.Run(fmt.Sprintf("R=%g/latency=%s", r, lat), func(t *testing.T) {
				t.Parallel()
				res := s.run()
				got := float64(res.ok) / s.Duration.Seconds()
				if res.throttled != 0 || got < 0.995*r || float64(res.maxWindow) > r+1 || res.maxLimit != r {
					t.Errorf("%s; want no 429, >= %.1f/s, at most %g sends in 1 s, limit %g", res, 0.995*r, r+1, r)
				}
			})
		}
	}
}

// TestPacerCeiling: with Config.Rate above the quota the pacer finds the
// quota, and never lets the limit exceed Config.Rate.
func TestPacerCeiling(t *testing.T) {
	t.Parallel()
	s := paceSim{Quota: 100, Ceiling: 250, Workers: 20, Latency: 20 * time.Millisecond, Jitter: 4 * time.Millisecond,
		Duration: 60 * time.Second, Warmup: 10 * time.Second}
	r := s.run()
	if r.maxLimit > s.Ceiling || float64(r.maxWindow) > s.Ceiling+1 || r.steadyRate < 90 || r.share(r.steadyThrottled, r.steadyOK) > 0.02 {
		t.Errorf("%s; want the limit and the sends within %g/s, >= 90/s", r, s.Ceiling)
	}
}

// TestPacerUnthrottled: without 429s nothing is ever limited.
func TestPacerUnthrottled(t *testing.T) {
	t.Parallel()
	r := paceSim{Workers: 8, Latency: time.Millisecond, Duration: 10 * time.Second}.run()
	if r.maxLimit != 0 || r.throttled != 0 || r.ok < 79000 {
		t.Errorf("%s; want no limit and 8 workers at 1 ms", r)
	}
}

// TestPacerQuotaChanges: the quota falls from 300 to 100, then rises to
// 300 again; the pacer follows both.
func TestPacerQuotaChanges(t *testing.T) {
	t.Parallel()
	s := paceSim{Quota: 300, Workers: 30, Latency: 20 * time.Millisecond, Jitter: 4 * time.Millisecond, Duration: 90 * time.Second,
		QuotaAt: func(d time.Duration) float64 {
			if d >= 20*time.Second && d < 50*time.Second {
				return 100
			}
			return 300
		}}
	r := s.run()
	low, high := r.rate(25, 50), r.rate(75, 90)
	t.Logf("%s; %.1f/s at 100/s, %.1f/s at 300/s again", r, low, high)
	if low < 90 || low > 100 || high < 270 || r.share(r.throttled, r.ok) > 0.02 {
		t.Errorf("%.1f/s after the quota fell to 100, %.1f/s after it rose to 300; %s", low, high, r)
	}
}
