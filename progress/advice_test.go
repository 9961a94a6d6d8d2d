package progress

import (
	"testing"
	"time"
)

func TestWorkersAdvice(t *testing.T) {
	msg, ok := WorkersAdvice(8, 200, 200, 130*time.Millisecond)
	want := "--workers 8 reach about 60 requests/s at 130 ms latency; --rate 200 needs --workers >= 34"
	if !ok || msg != want {
		t.Errorf("got %q, %v\nwant %q", msg, ok, want)
	}
	msg, ok = WorkersAdvice(8, 150, 200, 130*time.Millisecond)
	want = "--workers 8 reach about 60 requests/s at 130 ms latency; the rate limit in force, 150 requests/s, needs --workers >= 26"
	if !ok || msg != want {
		t.Errorf("a limit below --rate: got %q, %v\nwant %q", msg, ok, want)
	}
	// 8 workers at 40 ms reach 200/s: enough for 200/s at 90 %.
	for _, c := range []struct {
		workers int
		rate    float64
		lat     time.Duration
	}{{8, 200, 40 * time.Millisecond}, {8, 210, 40 * time.Millisecond}, {8, 0, time.Second}, {8, 50, 0}} {
		if msg, ok := WorkersAdvice(c.workers, c.rate, c.rate, c.lat); ok {
			t.Errorf("%d workers, %v/s, %v: advice %q, want none", c.workers, c.rate, c.lat, msg)
		}
	}
}

func TestRoughly(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 3.14: "3.1", 61.5: "60", 73: "75", 1234: "1200", 98000: "98000"} {
		if got := roughly(x); got != want {
			t.Errorf("roughly(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestAdvisor(t *testing.T) {
	var h Histogram
	a := &Advisor{Workers: 4, RateFlag: 100, After: 3 * time.Second}
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	observe := func(n int, d time.Duration) {
		for range n {
			h.Observe(d)
		}
	}
	// Slow attempts while no limit is in force: not counted.
	observe(50, time.Second)
	if _, ok := a.Check(sec(1), 0, &h); ok {
		t.Fatal("advice with no limit in force")
	}
	if _, ok := a.Check(sec(2), 100, &h); ok { // the limit comes in force
		t.Fatal("advice at once")
	}
	observe(40, 100*time.Millisecond) // 4 workers / 100 ms = 40/s < 90/s
	if _, ok := a.Check(sec(4), 100, &h); ok {
		t.Fatal("advice before After")
	}
	msg, ok := a.Check(sec(5), 100, &h)
	want := "--workers 4 reach about 40 requests/s at 100 ms latency; --rate 100 needs --workers >= 13"
	if !ok || msg != want {
		t.Fatalf("got %q, %v\nwant %q", msg, ok, want)
	}
	if msg, ok := a.Check(sec(6), 100, &h); ok {
		t.Errorf("advice given twice: %q", msg)
	}
}
