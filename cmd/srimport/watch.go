package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/progress"
	"github.com/srimport/srimport/reports"
)

// Log formats --log-format accepts.
var logFormats = []string{"text", "json"}

// watchOptions are import's flags for watching a run: progress, logs and
// the metrics file.
type watchOptions struct {
	quiet         bool
	logFormat     string
	progressEvery time.Duration
	metricsFile   string
	term          string // $TERM: "dumb" gets status lines, not a bar
}

func (w *watchOptions) addFlags(cmd *cobra.Command, getenv env) {
	w.term = getenv("TERM")
	f := cmd.Flags()
	f.BoolVarP(&w.quiet, "quiet", "q", false, "print no progress, notices or summary; errors only")
	f.StringVar(&w.logFormat, "log-format", envOr(getenv, "SRIMPORT_LOG_FORMAT", "text"), "log format of -v and of warnings: text or json ($SRIMPORT_LOG_FORMAT)")
	f.DurationVar(&w.progressEvery, "progress-every", 10*time.Second, "when stderr is not a terminal, print a status line on it this often (0 = never);\non a terminal, a progress bar shows instead")
	f.StringVar(&w.metricsFile, "metrics-file", getenv("SRIMPORT_METRICS_FILE"), "write the run's metrics to this file in the Prometheus text format, for node_exporter's\ntextfile collector, at the end of every run, atomically ($SRIMPORT_METRICS_FILE)")
}

// check refuses usage mistakes before anything is read or sent.
func (w *watchOptions) check() error {
	if !validLogFormat(w.logFormat) {
		return &usageError{fmt.Errorf("--log-format %q: want %s", w.logFormat, strings.Join(logFormats, " or "))}
	}
	if w.progressEvery < 0 {
		return &usageError{fmt.Errorf("--progress-every %v: cannot be negative (0 = never)", w.progressEvery)}
	}
	if w.metricsFile != "" {
		if info, err := os.Stat(w.metricsFile); err == nil && info.IsDir() {
			return &usageError{fmt.Errorf("--metrics-file %s is a directory; name a file", w.metricsFile)}
		}
		if info, err := os.Stat(filepath.Dir(w.metricsFile)); err != nil || !info.IsDir() {
			return &usageError{fmt.Errorf("--metrics-file %s: no directory %s to write it in", w.metricsFile, filepath.Dir(w.metricsFile))}
		}
	}
	return nil
}

func validLogFormat(f string) bool {
	for _, v := range logFormats {
		if f == v {
			return true
		}
	}
	return false
}

// runWatch is what watches one import: its counts, the view of them on
// stderr (a bar on a terminal, status lines elsewhere, nothing with
// --quiet), the log, and the notices a person should see.
type runWatch struct {
	opts     *watchOptions
	began    time.Time
	stats    *progress.Stats
	out      *progress.Output // stderr, printing above the bar while there is one
	notices  io.Writer        // out, or nowhere with --quiet
	logger   *slog.Logger
	tty      bool
	workers  int
	rateFlag float64

	cancel context.CancelFunc
	wg     sync.WaitGroup
	bar    *progress.Bar
	lines  *progress.Lines
	rate   func() float64
}

// newWatch sets up the watch of an import: its log and notices go to
// std.err, through the bar once there is one.
func newWatch(std stdio, o *importOptions) *runWatch {
	w := &runWatch{
		opts:     &o.watchOptions,
		began:    time.Now(),
		stats:    progress.New(nil),
		out:      progress.NewOutput(std.err),
		workers:  o.workers,
		rateFlag: o.rate,
	}
	w.tty = isTerminal(std.err) && o.term != "dumb"
	w.notices = w.out
	if w.opts.quiet {
		w.notices = io.Discard
	}
	w.logger = newLogger(w.out, o.verbose, w.opts.logFormat, w.opts.quiet)
	return w
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// attempt counts one HTTP attempt (client.Config.Observe).
func (w *runWatch) attempt(a client.Attempt) {
	w.stats.Attempt(progress.Attempt{Status: a.Status, Latency: a.Latency, Throttled: a.Throttled})
}

// paused tells the user the service asked all sending to hold
// (client.Config.OnPause).
func (w *runWatch) paused(d time.Duration) {
	w.stats.Pause(d)
	fmt.Fprintf(w.notices, "srimport: service asked to wait %s (Retry-After)\n", progress.FormatDuration(d))
}

// observer is the importer's Observer: the counts, and with -v a log line
// per row sent and per row done.
func (w *runWatch) observer() importer.Observer {
	if w.logger.Enabled(context.Background(), slog.LevelDebug) {
		return &rowLogger{Stats: w.stats, log: w.logger}
	}
	return w.stats
}

// rowLogger logs each row's decisions, naming its row number.
type rowLogger struct {
	*progress.Stats
	log *slog.Logger
}

func (l *rowLogger) Sending(row int) {
	l.Stats.Sending(row)
	l.log.Debug("sending", "row", row)
}

func (l *rowLogger) Done(rec reports.Record) {
	l.Stats.Done(rec)
	attrs := []any{"row", rec.Row, "status", string(rec.Status), "attempts", rec.Attempts}
	if rec.RequestID != "" {
		attrs = append(attrs, "request_id", rec.RequestID)
	}
	if rec.ServiceRequestID != "" {
		attrs = append(attrs, "service_request_id", rec.ServiceRequestID)
	}
	if rec.ErrorClass != "" {
		attrs = append(attrs, "error_class", rec.ErrorClass)
	}
	if rec.Error != "" {
		attrs = append(attrs, "error", rec.Error)
	}
	l.log.Debug("done", attrs...)
}

// start shows the run's progress until stop, counts the input's rows for
// the total when it shows them, and samples the client's rate limit once a second (for the
// summary and the --workers advice). It must be followed by stop.
func (w *runWatch) start(ctx context.Context, file string, rate func() float64) {
	// The view outlives an interruption: requests in flight finish, and
	// their rows are counted, after ctx ends.
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.rate = rate
	// The total is only for a view to show: a run that shows none does not
	// read its input twice.
	shown := !w.opts.quiet && (w.tty || w.opts.progressEvery > 0)
	countable := countableCSV(file)
	if countable && shown {
		w.wg.Go(func() { w.countRows(ctx, file) })
	}
	w.wg.Go(func() { w.sampleRate(ctx) })
	switch {
	case w.opts.quiet:
	case w.tty:
		w.bar = progress.StartBar(ctx, w.out, w.stats, progress.BarOptions{Spinner: !countable})
	case w.opts.progressEvery > 0:
		w.lines = progress.StartLines(ctx, w.out, w.opts.progressEvery, "srimport: ", w.stats)
	}
}

// stop ends what start began, leaving the bar's last frame on the screen.
func (w *runWatch) stop() {
	if w.cancel == nil {
		return
	}
	if w.bar != nil {
		w.bar.Stop()
	}
	if w.lines != nil {
		w.lines.Stop()
	}
	w.cancel()
	w.wg.Wait()
	w.stats.SampleRate(w.rate())
}

// countableCSV tells whether file is a regular CSV file whose rows can be
// counted up front.
func countableCSV(file string) bool {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".csv", ".tsv", ".txt":
	default:
		return false
	}
	info, err := os.Stat(file)
	return err == nil && info.Mode().IsRegular()
}

// countRows sets the progress total to the number of rows of file. It
// reads the file beside the import, so the run does not wait for it.
func (w *runWatch) countRows(ctx context.Context, file string) {
	f, err := os.Open(file)
	if err != nil {
		return // the import says why
	}
	defer f.Close()
	n, err := progress.CountRows(ctx, f)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			w.logger.Debug("progress: rows not counted", "err", err)
		}
		return
	}
	w.stats.SetTotal(n)
}

// sampleRate records the client's rate limit once a second, and gives the
// --workers advice when the workers cannot keep up with --rate.
func (w *runWatch) sampleRate(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	adv := &progress.Advisor{Workers: w.workers, RateFlag: w.rateFlag}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r := w.rate()
			w.stats.SampleRate(r)
			// Advise only while --rate itself binds: a limit the service's
			// 429s lowered is not the workers' to reach.
			binding := 0.0
			if w.rateFlag > 0 && r >= 0.99*w.rateFlag {
				binding = r
			}
			if msg, ok := adv.Check(time.Since(w.began), binding, w.stats.Latency()); ok {
				fmt.Fprintf(w.notices, "srimport: %s\n", msg)
			}
		}
	}
}

// writeMetrics writes --metrics-file for a run that ended with code.
func (w *runWatch) writeMetrics(sum importer.Summary, code int) error {
	if w.opts.metricsFile == "" {
		return nil
	}
	snap := w.stats.Snapshot()
	return progress.WriteTextfile(w.opts.metricsFile, progress.RunMetrics{
		Rows:     sum.Counts,
		Requests: snap.Requests, Throttled: snap.Throttled, Retries: snap.Retries,
		Duration: time.Since(w.began), ExitCode: code, Finished: time.Now(),
	})
}
