package client

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// A Retry-After of 2 s or more holds every send until it has passed, and
// OnPause hears of each such hold once.
func TestPacerGate(t *testing.T) {
	var pauses []time.Duration
	p := newPacer(t0, 0, DefaultThrottleGiveUp, func(d time.Duration) { pauses = append(pauses, d) })
	p.observe(t0, 429, ms(10), 5*time.Second)
	if _, d, _ := p.take(t0.Add(ms(1))); d < 5*time.Second-ms(1) {
		t.Errorf("a send during the gate waits %v, want the rest of 5s", d)
	}
	p.observe(t0.Add(time.Second), 429, ms(10), 3*time.Second) // within the gate
	p.observe(t0.Add(2*time.Second), 429, ms(10), 10*time.Second)
	if _, d, _ := p.take(t0.Add(3 * time.Second)); d < 9*time.Second {
		t.Errorf("after a longer Retry-After a send waits %v, want until 12s", d)
	}
	p.observe(t0.Add(20*time.Second), 429, ms(10), time.Second) // too short to hold everything
	p.observe(t0.Add(30*time.Second), 429, ms(10), 2*time.Second)
	if len(pauses) != 2 || pauses[0] != 5*time.Second || pauses[1] != 2*time.Second {
		t.Errorf("OnPause calls %v, want 5s then 2s", pauses)
	}
}

// A cut re-spaces the slots already handed out; a rise too, and both wake
// the waiters.
func TestPacerRespaces(t *testing.T) {
	p := newPacer(t0, 10, DefaultThrottleGiveUp, nil)
	var slots []int64
	for range 5 {
		n, _, _ := p.take(t0)
		slots = append(slots, n)
	}
	if d, _ := p.due(slots[4], t0); d != ms(400) {
		t.Fatalf("fifth slot at 10/s in %v, want 400ms", d)
	}
	_, _, moved := p.take(t0) // a sixth waiter
	p.mu.Lock()
	p.setLimit(t0.Add(ms(50)), 5)
	p.mu.Unlock()
	select {
	case <-moved:
	default:
		t.Error("lowering the limit did not wake the waiters")
	}
	now := t0.Add(ms(50))
	for i := 1; i < 5; i++ {
		d, _ := p.due(slots[i], now)
		if want := ms(200*i - 50); d != want { // slot 0 went at t0, slot i 200ms·i after it
			t.Errorf("slot %d at 5/s due in %v, want %v", i, d, want)
		}
	}
	p.mu.Lock()
	p.setLimit(now, 20)
	p.mu.Unlock()
	for i := 1; i < 5; i++ {
		d, _ := p.due(slots[i], now)
		if want := ms(50 * (i - 1)); d != want {
			t.Errorf("slot %d at 20/s due in %v, want %v", i, d, want)
		}
	}
	if p.Rate() != 20 {
		t.Errorf("Rate() = %g, want 20", p.Rate())
	}
}

// After an idle spell one send goes at once, the next one a slot later.
func TestPacerBurstOfOne(t *testing.T) {
	p := newPacer(t0, 10, DefaultThrottleGiveUp, nil)
	later := t0.Add(time.Minute)
	if _, d, _ := p.take(later); d != 0 {
		t.Errorf("first send after idling waits %v", d)
	}
	if _, d, _ := p.take(later); d != ms(100) {
		t.Errorf("second send waits %v, want 100ms", d)
	}
}

// Throttling is waited out until no attempt got another answer than 429
// for the give-up time.
func TestPacerKeepWaiting(t *testing.T) {
	p := newPacer(t0, 0, time.Minute, nil)
	if !p.keepWaiting(t0) {
		t.Error("gives up before any 429")
	}
	p.observe(t0, 429, ms(10), time.Second)
	p.observe(t0.Add(30*time.Second), 429, ms(10), time.Second)
	if !p.keepWaiting(t0.Add(59 * time.Second)) {
		t.Error("gave up 59s into throttling")
	}
	if p.keepWaiting(t0.Add(61 * time.Second)) {
		t.Error("still waiting 61s into throttling, with a 1m give-up")
	}
	p.observe(t0.Add(62*time.Second), 201, ms(10), 0)
	if !p.keepWaiting(t0.Add(63 * time.Second)) {
		t.Error("gives up although the last answer was a 201")
	}
	if newPacer(t0, 0, -1, nil).keepWaiting(t0) {
		t.Error("a negative give-up waits")
	}
}

// A binding limit grows while the answers stay fast, holds while they are
// slow (a service that queues), and stays put when the workers, not the
// limit, hold sending back.
func TestPacerGrowth(t *testing.T) {
	p := newPacer(t0, 0, DefaultThrottleGiveUp, nil)
	p.mu.Lock()
	p.setLimit(t0, 100)
	p.known = 100 // as after a cut
	p.mu.Unlock()
	now := t0
	run := func(d, every, latency time.Duration) {
		for end := now.Add(d); now.Before(end); now = now.Add(every) {
			p.sent(now)
			p.observe(now, 201, latency, 0)
		}
	}
	run(2*time.Second, ms(10), ms(10)) // sending at the limit
	fast := p.Rate()
	if fast <= 100 {
		t.Fatalf("limit %g after 2s binding with fast answers, want it above 100", fast)
	}
	// The first interval of each phase may mix in the one before.
	run(500*time.Millisecond, ms(10), ms(80))
	slow := p.Rate()
	run(2*time.Second, ms(10), ms(80))
	if p.Rate() != slow {
		t.Errorf("limit went from %g to %g while the answers were 8x slower", slow, p.Rate())
	}
	run(500*time.Millisecond, ms(20), ms(10)) // half the limit: the workers hold back
	idle := p.Rate()
	run(2*time.Second, ms(20), ms(10))
	if p.Rate() != idle {
		t.Errorf("limit went from %g to %g while it did not bind", idle, p.Rate())
	}
	run(2*time.Second, ms(10), ms(10))
	if p.Rate() <= idle {
		t.Errorf("limit %g did not grow again once binding with fast answers", p.Rate())
	}
}

// A 429 cuts the limit to what the service admitted, less 10 %.
func TestPacerCut(t *testing.T) {
	p := newPacer(t0, 0, DefaultThrottleGiveUp, nil)
	now := t0
	for i := range 1000 { // 1 s at 1000/s, 100 admitted
		now = t0.Add(time.Duration(i) * time.Millisecond)
		p.sent(now)
		status := 201
		if i%10 != 0 {
			status = 429
		}
		if i < 900 { // the first 429s come at 900 ms
			status = 201
		}
		p.observe(now, status, ms(1), time.Second)
		if status == 429 {
			break
		}
	}
	// 900 admitted in the last second (a burst): the first cut trusts it.
	if r := p.Rate(); r < 0.9*900*0.9 || r > 900 {
		t.Errorf("first cut to %g, want about 90 %% of the 900/s admitted", r)
	}
}
