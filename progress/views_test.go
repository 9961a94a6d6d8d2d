package progress

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/reports"
)

// lockedBuffer is a bytes.Buffer safe for concurrent use that announces
// every write.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes chan struct{}
}

func newLockedBuffer() *lockedBuffer { return &lockedBuffer{writes: make(chan struct{}, 1000)} }

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.writes <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// halfDone is a run of 100 rows, half of them done after 10 s.
func halfDone() *Stats {
	clock := newFakeClock()
	s := New(clock.Now)
	s.SetTotal(100)
	for i := range 50 {
		rec := reports.Record{Row: i + 2, Status: reports.Created, Attempts: 1}
		if i%10 == 0 {
			rec.Status, rec.ErrorClass = reports.Failed, "rejected"
		}
		s.Done(rec)
	}
	s.Attempt(Attempt{Status: 429, Throttled: true})
	clock.Add(10 * time.Second)
	return s
}

func TestBarRendersToBuffer(t *testing.T) {
	buf := newLockedBuffer()
	refresh := make(chan any)
	out := NewOutput(buf)
	b := StartBar(context.Background(), out, halfDone(), BarOptions{Width: 100, Refresh: refresh})
	refresh <- struct{}{}
	fmt.Fprintln(out, "level=DEBUG msg=sending row=7")
	refresh <- struct{}{}
	b.Stop()
	fmt.Fprintln(out, "after the bar")

	text := ansi.ReplaceAllString(buf.String(), "")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) < 4 {
		t.Fatalf("output:\n%s\nwant a bar, its counts, a log line above them, and a line after", text)
	}
	bar, counts := lines[len(lines)-3], lines[len(lines)-2]
	if want := "[===============               ] 50/100 rows (50%)  5.0 rows/s  ETA 10s"; bar != want {
		t.Errorf("bar line:\n got %q\nwant %q", bar, want)
	}
	if want := "created 45 · failed 5 · in doubt 0 · retries 0 · 429s 1"; counts != want {
		t.Errorf("counts line:\n got %q\nwant %q", counts, want)
	}
	if got := lines[len(lines)-1]; got != "after the bar" {
		t.Errorf("last line %q: writes after Stop go straight to the writer", got)
	}
	logAt := strings.Index(text, "level=DEBUG msg=sending row=7\n")
	if logAt < 0 || logAt > strings.LastIndex(text, bar) {
		t.Errorf("the log line is not printed above the bar:\n%s", text)
	}
}

func TestBarSpinnerAndNarrowTerminal(t *testing.T) {
	buf := newLockedBuffer()
	s := halfDone()
	s.SetTotal(-1)
	b := StartBar(context.Background(), NewOutput(buf), s, BarOptions{Width: 40, Spinner: true, Refresh: make(chan any)})
	b.Stop()
	text := ansi.ReplaceAllString(buf.String(), "")
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if n := len([]rune(line)); n > 40 {
			t.Errorf("%q: %d columns on a 40-column terminal", line, n)
		}
	}
	if !strings.Contains(text, "50 rows  5.0 rows/s") || strings.Contains(text, "ETA") {
		t.Errorf("output:\n%s\nwant rows and rows/s, and no ETA without a total", text)
	}
	if !regexp.MustCompile(`(?m)^created 45 · failed 5 · .*…$`).MatchString(text) {
		t.Errorf("output:\n%s\nwant the counts cut at the width", text)
	}
}

func TestLines(t *testing.T) {
	buf := newLockedBuffer()
	l := StartLines(context.Background(), buf, time.Millisecond, "srimport: ", halfDone())
	select {
	case <-buf.writes:
	case <-time.After(10 * time.Second):
		t.Fatal("no status line in 10s")
	}
	l.Stop()
	first := strings.SplitN(buf.String(), "\n", 2)[0]
	if want := "srimport: 50/100 rows (50%), 5.0 rows/s, ETA 10s; created 45, failed 5, in doubt 0, retries 0, 429s 1"; first != want {
		t.Errorf("status line:\n got %q\nwant %q", first, want)
	}
}

func TestLinesStopWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l := StartLines(ctx, newLockedBuffer(), time.Hour, "", New(nil))
	cancel()
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the status lines did not stop with their context")
	}
	l.Stop() // and Stop after that returns
}
