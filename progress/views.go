package progress

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// rateWindow is how far back the rows/s of the views look.
const rateWindow = 10 * time.Second

// Output is where a run's other messages (logs, notices) go while a view
// shows its progress: above the bar while a bar runs, so that neither tears
// the other; straight to the underlying writer otherwise. It is safe for
// concurrent use.
type Output struct {
	mu  sync.RWMutex
	w   io.Writer
	bar *mpb.Progress // nil when no bar runs
}

// NewOutput returns an Output writing to w (the terminal's stderr, say).
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// Write writes p, a whole line or lines, above the bar or to the writer.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.bar != nil {
		if n, err := o.bar.Write(p); err == nil {
			return n, nil
		}
		// The bar has ended on its own (its context did): print plainly.
	}
	return o.w.Write(p)
}

// Lines prints a status line now and then, for a run whose stderr is not
// a terminal (a log file, a CI job).
type Lines struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// StartLines prints prefix and the status line of s to w every interval
// until ctx ends or Stop is called. Each line is one Write.
func StartLines(ctx context.Context, w io.Writer, every time.Duration, prefix string, s *Stats) *Lines {
	ctx, cancel := context.WithCancel(ctx)
	l := &Lines{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		m := NewMeter(rateWindow)
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				snap := s.Snapshot()
				rate := m.Rate(snap.Elapsed, snap.Done())
				fmt.Fprintf(w, "%s%s\n", prefix, snap.Line(rate))
			}
		}
	}()
	return l
}

// Stop stops the lines and returns once the last one is written.
func (l *Lines) Stop() {
	l.cancel()
	<-l.done
}

// BarOptions shape a progress bar.
type BarOptions struct {
	// Width is the width in columns; 0 takes the terminal's.
	Width int
	// Spinner spins instead of filling a bar: the total will not be known
	// (standard input, XLSX).
	Spinner bool
	// Refresh, when set, renders a frame whenever it receives instead of
	// every 150 ms (tests).
	Refresh <-chan any
}

// Bar is a progress bar on a terminal: a bar with rows done of the total,
// rows/s and the time left, and under it the live counts. It is drawn by
// its own goroutine from Snapshots of the Stats, so the rows never wait
// for it.
type Bar struct {
	p   *mpb.Progress
	bar *mpb.Bar
	out *Output

	mu    sync.Mutex // guards the frame, shared by the parts of one render
	meter *Meter
	snap  Snapshot
}

// StartBar draws a bar of s on out's writer until Stop (or ctx ends);
// meanwhile out's writes are printed above it.
func StartBar(ctx context.Context, out *Output, s *Stats, opt BarOptions) *Bar {
	b := &Bar{out: out, meter: NewMeter(rateWindow)}
	popts := []mpb.ContainerOption{mpb.WithOutput(out.w), mpb.WithWidth(opt.Width)}
	if opt.Refresh != nil {
		popts = append(popts, mpb.WithManualRefresh(opt.Refresh))
	}
	b.p = mpb.NewWithContext(ctx, popts...)
	var style mpb.BarFillerBuilder = mpb.BarStyle().Lbound("[").Filler("=").Tip(">").Padding(" ").Rbound("]")
	width := 32
	if opt.Spinner {
		style, width = mpb.SpinnerStyle().PositionLeft(), 1
	}
	b.bar = b.p.New(0, style,
		mpb.BarWidth(width),
		mpb.BarFillerTrim(),
		// The status is drawn first: it takes the frame's snapshot that
		// the bar and the counts below then draw.
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return b.status(s) })),
		mpb.BarFillerMiddleware(func(base mpb.BarFiller) mpb.BarFiller {
			return mpb.BarFillerFunc(func(w io.Writer, st decor.Statistics) error {
				b.mu.Lock()
				snap := b.snap
				b.mu.Unlock()
				if snap.Total > 0 {
					st.Total, st.Current = snap.Total, min(snap.Done(), snap.Total)
				} else {
					st.Total, st.Current = 1, 0
				}
				return base.Fill(w, st)
			})
		}),
		mpb.BarBtmExtender(mpb.BarFillerFunc(func(w io.Writer, st decor.Statistics) error {
			b.mu.Lock()
			line := b.snap.BarCounts()
			b.mu.Unlock()
			_, err := io.WriteString(w, truncate(line, st.AvailableWidth)+"\n")
			return err
		})),
	)
	out.mu.Lock()
	out.bar = b.p
	out.mu.Unlock()
	return b
}

// status takes this frame's snapshot and returns the text beside the bar.
func (b *Bar) status(s *Stats) string {
	snap := s.Snapshot()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.snap = snap
	return " " + snap.BarStatus(b.meter.Rate(snap.Elapsed, snap.Done()))
}

// Stop draws the last frame, leaves it on the screen and returns once it
// is drawn; the Output writes straight to its writer again.
func (b *Bar) Stop() {
	b.out.mu.Lock()
	b.out.bar = nil
	b.out.mu.Unlock()
	// The bar's own counter is not used (the frame is drawn from
	// Snapshots): completing it at its current value ends it.
	b.bar.SetTotal(-1, true)
	b.p.Wait()
}

// truncate cuts s to width columns (its runes are one column each).
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}
