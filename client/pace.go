package client

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Pacing: how fast a Client sends, under a quota it does not know.
//
// The service throttles each partner tenant to a quota it does not
// publish, answering 429 with a Retry-After beyond it. A pacer learns that
// quota from the answers. Until the first 429 it does not limit anything
// (or holds Config.Rate); from then on it spaces the attempts evenly at a
// limit it adjusts:
//
//   - A 429 to an attempt sent after the latest cut, pacerHoldoff (or
//     twice the latency) or more after that cut, cuts the limit to what
//     the service admitted over the last second, less pacerBackoff: while
//     it refuses some, it admits as many as its quota allows. A cut keeps
//     at least pacerDeepest of the limit, or the share of the answers
//     since the latest cut the service admitted, if lower, when the limit
//     held the sends back; the first cut, when the rate sent so far
//     stands for the limit, has no such floor.
//   - A first cut that rests on fewer than pacerEvidence admitted answers
//     (a small burst, a low quota) knows little: the limit then grows by
//     pacerSlowStart of itself per second, at most doubling per interval,
//     until the next 429, which takes the middle of the limit before the
//     latest rise (no 429) and the limit then (a 429) for what the service
//     admits, unless the last second says more. Answers admitted before
//     the first cut that arrive just after it (a 429 comes back faster
//     than a create) raise its limit as if they had come before.
//   - At the end of a decision interval (pacerInterval, or the latency if
//     longer) with no such 429, and if the limit rather than the workers
//     holds the attempts back: the limit grows by pacerGrowth of itself
//     per second up to pacerPlateau of what the service admitted before
//     the latest cut, then by pacerProbe for pacerPlateauFor, then ever
//     faster, as it does after the first cut, which may have measured a
//     burst rather than the quota. It never grows beyond Config.Rate, nor
//     while the answers grow slow (a service that queues rather than
//     refuses). A decision interval starts anew after a spell without
//     sends (a Retry-After waited out).
//
// The figures and the simulation that chose them are in pace_sim_test.go.
// A Retry-After of pacerGateMin or more holds all sending until it has
// passed. The pacer has no goroutine: the attempt layer reports to it, and
// every method takes the time, so that tests run it in virtual time.
type pacer struct {
	limited atomic.Bool   // a limit or a gate may be in force: Wait must take a slot
	shown   atomic.Uint64 // math.Float64bits of the limit, for Client.Rate
	ceiling float64       // Config.Rate; 0 = none
	giveUp  time.Duration // Config.ThrottleGiveUp; negative = at once
	onPause func(time.Duration)

	mu    sync.Mutex
	limit float64 // in force, requests per second; 0 = none
	// The send slots: slot n comes at anchor + (n-anchorN)/limit; nextN
	// is the next one to hand out.
	anchor         time.Time
	anchorN, nextN int64
	changed        chan struct{} // closed when the slots move; nil = nobody waits on it
	gen            int64         // counts the moves
	// ring counts the sends and admitted answers of the last second, one
	// bucket per pacerBucket; cur counts those of the decision interval
	// since since, answers to attempts sent before the latest cut left out.
	ring      [pacerBuckets]paceCounts
	ringAt    int64     // number of the newest bucket in ring (time / pacerBucket)
	started   time.Time // the first send or answer the pacer heard of
	cur       paceCounts
	since     time.Time
	sinceCut  paceCounts    // the sends since the latest cut, and the answers to them
	lastSend  time.Time     // the latest send
	slowStart bool          // the limit grows by pacerSlowStart until the next cut
	grownFrom float64       // the limit before it last grew; 0 = not since the latest cut
	latency   time.Duration // moving average of the answers' latency
	minMean   time.Duration // lowest mean latency of 2xx answers over an interval; 0 = none yet
	gateUntil time.Time     // no sending before then
	streak    time.Time     // the first 429 since an attempt got another answer; zero = none
	lastCut   time.Time     // when the limit was last lowered
	known     float64       // what the service admitted before the latest cut, requests per second; 0 = not known
	probeFrom time.Time     // when the limit reached the plateau below known; zero = not since the cut
}

// paceCounts counts the attempts of a span of time.
type paceCounts struct {
	sends, ok, throttled int64
	latSum               time.Duration // of the 2xx answers
	latN                 int64
}

func (c *paceCounts) add(o paceCounts) {
	c.sends += o.sends
	c.ok += o.ok
	c.throttled += o.throttled
	c.latSum += o.latSum
	c.latN += o.latN
}

// Tuning of the pacer.
const (
	pacerBucket        = 100 * time.Millisecond // granularity of the last second's counts
	pacerBuckets       = 10                     // buckets in the last second
	pacerInterval      = 250 * time.Millisecond // shortest decision interval
	pacerIntervalSends = 4                      // sends at the limit a decision interval lasts for at least
	pacerBinding       = 0.9                    // sends at this share of the limit or more: the limit binds
	pacerFloor         = 0.5                    // lowest limit, requests per second
	pacerGateMin       = 2 * time.Second        // shortest Retry-After that holds all sending
	pacerHoldoff       = 500 * time.Millisecond // shortest time between cuts (or twice the latency)
	pacerBackoff       = 0.9                    // a cut goes this far below what the service admitted
	pacerDeepest       = 0.7                    // a cut keeps at least this share of the limit
	pacerEvidence      = 8                      // admitted answers that make the first cut trusted
	pacerGrowth        = 0.05                   // growth of a binding limit, of itself per second
	pacerPlateau       = 0.97                   // share of the last admitted rate where fast growth stops
	pacerProbe         = 0.005                  // growth beyond the plateau, of itself per second
	pacerPlateauFor    = 10 * time.Second       // how long growth stays at pacerProbe
	pacerDoubling      = 5 * time.Second        // past the plateau, growth doubles this often
	pacerGrowthMax     = 0.5                    // fastest growth, of itself per second
	pacerSlowStart     = 1.5                    // growth after the first cut, of itself per second
	pacerSlowStartMax  = 2                      // most growth in one decision interval, as a factor
	// A 2xx latency mean over an interval above both slowFactor times and
	// slowMargin more than the lowest one seen holds the limit where it is.
	slowFactor = 2
	slowMargin = 20 * time.Millisecond
)

// newPacer returns a pacer that starts at ceiling (0: no limit) at now.
func newPacer(now time.Time, ceiling float64, giveUp time.Duration, onPause func(time.Duration)) *pacer {
	p := &pacer{ceiling: ceiling, giveUp: giveUp, onPause: onPause}
	if ceiling > 0 {
		p.setLimit(now, ceiling)
	}
	return p
}

// Rate returns the limit in force, 0 for none.
func (p *pacer) Rate() float64 { return math.Float64frombits(p.shown.Load()) }

// slot returns when send slot n comes under the limit in force. p.mu is
// held and p.limit > 0.
func (p *pacer) slot(n int64) time.Time {
	return p.anchor.Add(time.Duration(float64(n-p.anchorN) / p.limit * float64(time.Second)))
}

// firstNotDue returns the first slot handed out that is not due at now
// (nextN when all are). p.mu is held.
func (p *pacer) firstNotDue(now time.Time) int64 {
	if p.limit == 0 {
		return p.nextN
	}
	e := now.Sub(p.anchor)
	if e < 0 {
		return min(p.nextN, p.anchorN)
	}
	// Slots anchorN … anchorN+⌊e·limit⌋ are due.
	return min(p.nextN, p.anchorN+int64(e.Seconds()*p.limit)+1)
}

// setLimit puts r in force at now. The slots handed out but not due yet
// are spaced anew: the first comes 1/r after the last one due, and not
// before now or the end of a gate. p.mu is held, or p is not shared yet.
func (p *pacer) setLimit(now time.Time, r float64) {
	at, n := now, p.nextN
	if p.limit > 0 {
		n = p.firstNotDue(now)
		at = later(at, p.slot(n-1).Add(time.Duration(float64(time.Second)/r)))
	}
	p.anchor, p.anchorN = later(at, p.gateUntil), n
	p.limit = r
	p.shown.Store(math.Float64bits(r))
	p.limited.Store(true)
	p.moved()
}

// moved wakes the waiters, for their slots have moved. p.mu is held.
func (p *pacer) moved() {
	p.gen++
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
}

// changes returns a channel closed when the slots next move. p.mu is held.
func (p *pacer) changes() <-chan struct{} {
	if p.changed == nil {
		p.changed = make(chan struct{})
	}
	return p.changed
}

// gate holds all sending until until. p.mu is held.
func (p *pacer) gate(now, until time.Time) {
	if p.limit > 0 {
		n := p.firstNotDue(now)
		p.anchor, p.anchorN = later(p.slot(n), until), n
	}
	p.gateUntil = until
	p.limited.Store(true)
	p.moved()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// errPaceDeadline is a wait for a send slot that the caller's deadline
// would cut short.
var errPaceDeadline = errors.New("the wait for a send slot would pass the deadline")

// Wait blocks until the limit and any gate allow one more attempt. It
// fails with ctx's error when ctx ends first, and with errPaceDeadline at
// once when ctx's deadline would pass before then. A limit lowered or a
// gate set while it waits moves its slot later.
func (p *pacer) Wait(ctx context.Context) error {
	if !p.limited.Load() {
		return nil
	}
	now := time.Now()
	n, d, moved := p.take(now)
	var t *time.Timer
	for d > 0 {
		if dl, ok := ctx.Deadline(); ok && dl.Before(now.Add(d)) {
			return errPaceDeadline
		}
		if t == nil {
			t = time.NewTimer(d)
			defer t.Stop()
		} else {
			t.Reset(d)
		}
		select {
		case <-t.C:
		case <-moved:
			if !t.Stop() {
				<-t.C
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		now = time.Now()
		d, moved = p.due(n, now)
	}
	return nil
}

// take hands out the next send slot and returns it with how long after now
// it comes, and a channel closed if the slots move meanwhile.
func (p *pacer) take(now time.Time) (n int64, d time.Duration, moved <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.limit == 0 {
		return 0, p.gateUntil.Sub(now), p.changes()
	}
	n = p.nextN
	p.nextN++
	at := p.slot(n)
	if at.Before(now) && !p.gateUntil.After(now) {
		// Nobody waited for a while: this one goes now, the next one a
		// slot later (a bucket of burst 1).
		p.anchor, p.anchorN, at = now, n, now
	}
	return n, at.Sub(now), p.changes()
}

// due returns how long after now slot n comes, under the limit and gate in
// force now, and a channel closed if the slots move meanwhile.
func (p *pacer) due(n int64, now time.Time) (time.Duration, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.limit == 0 {
		return p.gateUntil.Sub(now), p.changes()
	}
	return p.slot(n).Sub(now), p.changes()
}

// bucket returns the ring's bucket for now, clearing those that have
// fallen out of the last second. p.mu is held.
func (p *pacer) bucket(now time.Time) *paceCounts {
	if p.started.IsZero() {
		p.started, p.since = now, now
	}
	n := now.UnixNano() / int64(pacerBucket)
	if n > p.ringAt {
		for i := max(p.ringAt+1, n-pacerBuckets+1); i <= n; i++ {
			p.ring[i%pacerBuckets] = paceCounts{}
		}
		p.ringAt = n
	}
	if n <= p.ringAt-pacerBuckets { // a late report of a bygone bucket
		n = p.ringAt
	}
	return &p.ring[n%pacerBuckets]
}

// sent records an attempt handed to the network at now.
func (p *pacer) sent(now time.Time) {
	p.mu.Lock()
	p.bucket(now).sends++
	if gap := now.Sub(p.lastSend); gap >= pacerInterval && (p.limit == 0 || gap.Seconds()*p.limit >= 2) {
		// After a spell without sends (a Retry-After waited out) a
		// decision interval starts anew.
		p.since, p.cur = now, paceCounts{}
	}
	p.lastSend = now
	p.cur.sends++
	p.sinceCut.sends++
	p.mu.Unlock()
}

// observe records an attempt that got an answer with status at now, after
// latency, with the answer's Retry-After (0: none).
func (p *pacer) observe(now time.Time, status int, latency, retryAfter time.Duration) {
	var pause time.Duration
	p.mu.Lock()
	b := p.bucket(now)
	if p.latency == 0 {
		p.latency = latency
	} else {
		p.latency += (latency - p.latency) / 8
	}
	// An answer to a request sent before the latest cut says nothing about
	// the limit now in force: it is left out of the counts.
	current := now.Add(-latency).After(p.lastCut)
	if status == 429 {
		if p.streak.IsZero() {
			p.streak = now
		}
		if retryAfter >= pacerGateMin {
			if until := now.Add(retryAfter); until.After(p.gateUntil) {
				if !p.gateUntil.After(now) {
					pause = retryAfter
				}
				p.gate(now, until)
			}
		}
		if current {
			p.cur.throttled++
			p.sinceCut.throttled++
		}
	} else {
		p.streak = time.Time{}
		b.ok++
		if current {
			p.cur.ok++
			p.sinceCut.ok++
			if status >= 200 && status <= 299 {
				p.cur.latSum += latency
				p.cur.latN++
			}
		}
	}
	switch {
	case status != 429 && !current && p.slowStart && p.grownFrom == 0 && now.Sub(p.lastCut) < pacerInterval:
		p.admittedLate(now)
	case status == 429 && current && now.Sub(p.lastCut) >= max(pacerHoldoff, 2*p.latency):
		p.cut(now)
	case now.Sub(p.since) >= p.interval():
		p.intervalEnd(now)
	}
	p.mu.Unlock()
	if pause > 0 && p.onPause != nil {
		p.onPause(pause)
	}
}

// interval returns the shortest decision interval: pacerInterval, but at
// least the answers' latency and long enough for pacerIntervalSends sends at
// the limit. p.mu is held.
func (p *pacer) interval() time.Duration {
	d := max(pacerInterval, p.latency)
	if p.limit > 0 {
		sends := float64(pacerIntervalSends)
		if p.slowStart {
			sends = 1
		}
		d = max(d, time.Duration(sends/p.limit*float64(time.Second)))
	}
	return d
}

// cut lowers the limit at now after a 429, to what the service admitted
// over the last second, less pacerBackoff: while it refuses some, it
// admits as many as its quota allows. The limit never rises, and falls by
// pacerDeepest at most, or to the share of answers admitted since the
// latest cut when the limit held the sends back, unless it is the first
// cut (the limit is the rate sent). A first cut on fewer than
// pacerEvidence admitted answers starts a slow start (see intervalEnd);
// the cut that ends it trusts the middle of the limits before and after
// the latest rise. p.mu is held.
func (p *pacer) cut(now time.Time) {
	w, span := p.lastSecond(now)
	first := p.limit == 0
	sent := p.limit
	if first {
		sent = float64(w.sends) / min(span, max(now.Sub(p.started), p.latency, time.Millisecond)).Seconds()
	}
	known := min(sent, float64(w.ok)/span.Seconds())
	if !first {
		// Sending at the limit, the service admitted this share of the
		// answers since the latest cut: when it is low, the cut goes
		// deeper than pacerDeepest.
		c, d := p.sinceCut, now.Sub(p.lastCut)
		share := float64(c.ok) / float64(max(1, c.ok+c.throttled))
		if float64(c.sends) < pacerBinding*sent*d.Seconds() {
			share = 1 // the workers rather than the limit held sending back
		}
		known = max(known, sent*min(pacerDeepest, share))
	}
	if p.slowStart && p.grownFrom > 0 {
		// The quota lies between the limit the latest growth started
		// from, without a 429, and the limit now: take the middle.
		known = max(known, math.Sqrt(p.grownFrom*sent))
	}
	thin := first && w.ok < pacerEvidence
	known = max(pacerFloor, known)
	// The first cut's admitted answers may be a burst the service allowed
	// rather than its quota: it sets no plateau.
	p.known = known
	p.slowStart, p.grownFrom = thin, 0
	if first {
		p.known = 0
	}
	p.setLimit(now, max(pacerFloor, min(sent, known*pacerBackoff)))
	p.probeFrom = time.Time{}
	p.lastCut, p.since, p.cur, p.sinceCut = now, now, paceCounts{}, paceCounts{}
}

// lastSecond returns the counts of the last second at now and the span
// they cover. p.mu is held.
func (p *pacer) lastSecond(now time.Time) (w paceCounts, span time.Duration) {
	for _, b := range p.ring {
		w.add(b)
	}
	// The ring covers the nine buckets before now's and now's so far
	// (nothing before the first attempt, hence no shorter span).
	return w, (pacerBuckets-1)*pacerBucket + time.Duration(now.UnixNano()%int64(pacerBucket))
}

// admittedLate raises the limit a thin first cut set at now, when answers
// admitted before it arrive just after it (a 429 answers faster than a
// create): the first cut counts them too. p.mu is held.
func (p *pacer) admittedLate(now time.Time) {
	w, span := p.lastSecond(now)
	if r := float64(w.ok) / span.Seconds() * pacerBackoff; r > p.limit {
		p.setLimit(now, r)
	}
}

// intervalEnd ends a decision interval at now without a 429 worth a cut:
// the limit grows if it binds and the service does not slow down. p.mu is
// held.
func (p *pacer) intervalEnd(now time.Time) {
	w, dt := p.cur, now.Sub(p.since)
	p.since, p.cur = now, paceCounts{}
	var mean time.Duration
	if w.latN > 0 {
		mean = w.latSum / time.Duration(w.latN)
		if p.minMean == 0 || mean < p.minMean {
			p.minMean = mean
		}
	}
	switch {
	case w.throttled > 0, p.limit == 0, float64(w.sends) < pacerBinding*p.limit*dt.Seconds():
		// A 429 too soon after a cut to count, no limit, or the workers
		// rather than the limit hold sending back.
	case mean > slowFactor*p.minMean && mean > p.minMean+slowMargin:
		// The service answers ever slower: it queues; hold.
	default:
		growth := pacerGrowth
		if p.slowStart {
			// The first cut rested on a handful of admitted answers: the
			// quota may lie far above; grow fast until the next cut.
			growth = pacerSlowStart
		} else if p.known == 0 {
			// The quota is not known: grow ever faster since the last cut.
			growth = min(pacerGrowthMax, pacerGrowth*math.Exp2(now.Sub(p.lastCut).Seconds()/pacerDoubling.Seconds()))
		} else if p.limit >= p.known*pacerPlateau {
			// Near what the service let through before the last cut: probe
			// slowly, for pacerPlateauFor, then as fast as ever.
			if p.probeFrom.IsZero() {
				p.probeFrom = now
			}
			switch past := now.Sub(p.probeFrom) - pacerPlateauFor; {
			case past < 0:
				growth = pacerProbe
			default:
				// No 429 for long past the old quota: it was an
				// underestimate, or the quota grew; grow ever faster.
				growth = min(pacerGrowthMax, pacerGrowth*math.Exp2(past.Seconds()/pacerDoubling.Seconds()))
			}
		}
		r := p.limit * (1 + growth*dt.Seconds())
		if p.slowStart {
			r = min(r, p.limit*pacerSlowStartMax)
		}
		if p.known > 0 && p.limit < p.known*pacerPlateau {
			r = min(r, p.known*pacerPlateau)
		}
		if p.ceiling > 0 {
			r = min(r, p.ceiling)
		}
		if r != p.limit {
			p.grownFrom = p.limit
			p.setLimit(now, r)
		}
	}
}

// keepWaiting reports whether a 429 answered at now should be waited out
// rather than returned: the Client is not giving up on throttling.
func (p *pacer) keepWaiting(now time.Time) bool {
	if p.giveUp < 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.streak.IsZero() || now.Sub(p.streak) < p.giveUp
}
