package progress

import (
	"testing"
	"time"

	"github.com/srimport/srimport/reports"
)

func TestLine(t *testing.T) {
	snap := Snapshot{
		Total:     5000,
		Rows:      map[reports.Status]int64{reports.Created: 1200, reports.Failed: 3, reports.Unknown: 1, reports.Pending: 7},
		Retries:   12,
		Throttled: 5,
	}
	// (5000-1204)/95.4 s = 39.8 s
	if got, want := snap.Line(95.4), "1204/5000 rows (24%), 95 rows/s, ETA 40s; created 1200, failed 3, in doubt 1, retries 12, 429s 5"; got != want {
		t.Errorf("Line:\n got %q\nwant %q", got, want)
	}
	if got, want := snap.BarStatus(95.4), "1204/5000 rows (24%)  95 rows/s  ETA 40s"; got != want {
		t.Errorf("BarStatus:\n got %q\nwant %q", got, want)
	}
	if got, want := snap.BarCounts(), "created 1200 · failed 3 · in doubt 1 · retries 12 · 429s 5"; got != want {
		t.Errorf("BarCounts:\n got %q\nwant %q", got, want)
	}

	snap = Snapshot{Total: -1, Rows: map[reports.Status]int64{reports.Created: 8, reports.Invalid: 2, reports.Skipped: 30}}
	if got, want := snap.Line(2.25), "40 rows, 2.2 rows/s; created 8, failed 0, invalid 2, skipped 30, in doubt 0, retries 0, 429s 0"; got != want {
		t.Errorf("unknown total:\n got %q\nwant %q", got, want)
	}
	snap = Snapshot{Total: 10, Rows: map[reports.Status]int64{}}
	if got, want := snap.BarStatus(0), "0/10 rows (0%)  0.0 rows/s"; got != want {
		t.Errorf("nothing done yet: %q, want %q", got, want)
	}
	snap = Snapshot{Total: 0, Rows: map[reports.Status]int64{}}
	if got, want := snap.BarStatus(0), "0/0 rows (100%)  0.0 rows/s  ETA 0s"; got != want {
		t.Errorf("empty file: %q, want %q", got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {400 * time.Millisecond, "0s"}, {39800 * time.Millisecond, "40s"},
		{200 * time.Second, "3m20s"}, {2*time.Hour + 5*time.Minute + 10*time.Second, "2h05m"},
	} {
		if got := FormatDuration(c.d); got != c.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestMeter(t *testing.T) {
	m := NewMeter(10 * time.Second)
	// 100 rows/s for 20 s, then 10 rows/s.
	var rate float64
	done := int64(0)
	for s := 1; s <= 20; s++ {
		done += 100
		rate = m.Rate(time.Duration(s)*time.Second, done)
	}
	if rate != 100 {
		t.Errorf("steady: %v rows/s, want 100", rate)
	}
	for s := 21; s <= 30; s++ {
		done += 10
		rate = m.Rate(time.Duration(s)*time.Second, done)
	}
	if rate != 10 {
		t.Errorf("after 10 s at 10 rows/s: %v rows/s, want 10 (the window forgot the fast part)", rate)
	}
	if n := len(m.samples); n > 12 {
		t.Errorf("the meter keeps %d samples; want about a window's worth", n)
	}
	m = NewMeter(10 * time.Second)
	if r := m.Rate(500*time.Millisecond, 50); r != 100 {
		t.Errorf("first half second: %v rows/s, want 100 (over the run so far)", r)
	}
}
