package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/progress"
	"github.com/srimport/srimport/reports"
	"github.com/srimport/srimport/runpage"
	"github.com/srimport/srimport/state"
)

// pageOptions is --html: a page about the run.
type pageOptions struct {
	path string
}

func (p *pageOptions) addFlags(cmd *cobra.Command, getenv env) {
	cmd.Flags().StringVar(&p.path, "html", getenv("SRIMPORT_HTML"), "write a page about the run to this HTML file at its end, atomically: counts, errors by\nmessage, charts of rows/s, latency, 429s and the rate limit; self-contained ($SRIMPORT_HTML)")
}

// check refuses a page path that cannot be written, or that would
// replace a file the command reads or writes (others); a usage error.
func (p *pageOptions) check(others ...string) error {
	if p.path == "" {
		return nil
	}
	if info, err := os.Stat(p.path); err == nil && info.IsDir() {
		return &usageError{fmt.Errorf("--html %s is a directory; name a file", p.path)}
	}
	if info, err := os.Stat(filepath.Dir(p.path)); err != nil || !info.IsDir() {
		return &usageError{fmt.Errorf("--html %s: no directory %s to write it in", p.path, filepath.Dir(p.path))}
	}
	for _, o := range others {
		if o == "" {
			continue
		}
		if same, err := reports.SameFile(p.path, o); err == nil && same {
			return &usageError{fmt.Errorf("--html %s is %s, which the command reads or writes; name another file", p.path, o)}
		}
	}
	return nil
}

// importPage is what an import knows for its page and its run's detail.
type importPage struct {
	opts   *pageOptions
	watch  *runWatch
	input  string
	target string
	runID  int64
}

func newImportPage(o *importOptions, w *runWatch, file string) *importPage {
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	return &importPage{opts: &o.page, watch: w, input: abs}
}

// save records the run's detail (time series, error groups, request
// totals) with its history, for `report RUN --html`; a failure is only
// worth a warning.
func (pg *importPage) save(warn io.Writer, h *history) {
	pg.runID, pg.target = h.run.ID(), h.run.Target()
	snap := pg.watch.stats.Snapshot()
	d := state.RunDetail{Series: pg.watch.stats.Series(), Errors: pg.watch.stats.Errors(), Totals: &snap}
	if err := h.store.SaveDetail(context.Background(), pg.runID, d); err != nil {
		fmt.Fprintf(warn, "srimport: warning: the run's charts and errors were not saved for a later page: %v\n", err)
	}
}

// finish writes --html for an import that ended with err, failed and
// interrupted ones included (not a usage error: nothing ran). It returns
// err, or the page's error when err is nil; a page that cannot be written
// after a run that failed anyway is only reported on warn.
func (pg *importPage) finish(warn io.Writer, sum importer.Summary, err error) error {
	code := exitCode(err)
	if pg.opts.path == "" || code == exitUsage {
		return err
	}
	snap := pg.watch.stats.Snapshot()
	r := runpage.Run{
		ID: pg.runID, Input: pg.input, Target: pg.target,
		Started: pg.watch.began, Finished: sum.Finished, ExitCode: &code, Stopped: stopReason(err),
		Rows: sum.Rows, Counts: stringCounts(sum.Counts),
		Errors: pg.watch.stats.Errors(), Series: pg.watch.stats.Series(), Version: version(),
	}
	if r.Finished.IsZero() {
		r.Finished = time.Now()
	}
	if snap.Requests > 0 {
		r.Totals = &snap
	}
	if r.Series == nil {
		r.Note = "The run stopped before it sent anything, so it has no time series."
	}
	if perr := runpage.WriteFile(pg.opts.path, r); perr != nil {
		perr = fmt.Errorf("--html: %w", perr)
		if err == nil {
			return perr
		}
		fmt.Fprintf(warn, "srimport: %v\n", perr)
	}
	return err
}

// stopReason is what stopped a run early, for its page; "" when it ran to
// its end.
func stopReason(err error) string {
	var rr *runResult
	if err == nil || errors.As(err, &rr) && rr.err == nil {
		return ""
	}
	return err.Error()
}

// stringCounts is counts keyed by plain strings, as the state store and
// the page keep them.
func stringCounts[K ~string](counts map[K]int) map[string]int {
	out := make(map[string]int, len(counts))
	for k, n := range counts {
		out[string(k)] = n
	}
	return out
}

// runReportPage writes the page of the run the command line names from
// the state store: its detail when it saved one, else the counts and
// errors its journal holds. also is a file the command writes too (-o),
// which the page must not replace.
func runReportPage(ctx context.Context, std stdio, o *historyOptions, which string, p *pageOptions, also string) error {
	if err := p.check(also); err != nil {
		return err
	}
	s, err := o.open()
	if err != nil {
		return err
	}
	defer s.Close()
	run, err := findRun(ctx, s, which)
	if err != nil {
		return err
	}
	if err := p.check(run.Input); err != nil {
		return err
	}
	d, saved, err := s.Detail(ctx, run.ID)
	if err != nil {
		return fmt.Errorf("state store: %w", err)
	}
	r := runpage.Run{
		ID: run.ID, Input: run.Input, Target: run.Target, Started: run.Started, Finished: run.Finished,
		ExitCode: run.ExitStatus, Rows: run.Rows, Counts: run.Counts,
		Errors: d.Errors, Series: d.Series, Totals: d.Totals, Version: version(),
	}
	finished := run.ExitStatus != nil
	if !finished || !saved {
		// What the journal holds: the counts of a run that did not finish,
		// the errors of a run that saved none.
		var groups progress.ErrorGroups
		counts := map[string]int{}
		n := 0
		err := s.Rows(ctx, run.ID, func(e importer.RowEntry) error {
			counts[string(e.Status)]++
			n++
			if e.ErrorClass != "" {
				groups.Add(e.ErrorClass, e.Error, e.Row)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("state store: %w", err)
		}
		if !finished {
			r.Counts, r.Rows = counts, n
		}
		if !saved {
			r.Errors = groups.Groups()
		}
	}
	switch {
	case !finished:
		r.Note = fmt.Sprintf("Run %d did not finish: it was killed, or it is still running. Its counts and errors are what its journal holds; rows it did not reach are not counted.", run.ID)
	case !saved:
		r.Note = fmt.Sprintf("Run %d was recorded without its time series (by an older srimport): its errors are what its journal holds.", run.ID)
	}
	if err := runpage.WriteFile(p.path, r); err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	fmt.Fprintf(std.out, "run %d (%s): %s\npage: %s\n", run.ID, filepath.Base(run.Input), statusCounts(r.Counts), p.path)
	return nil
}
