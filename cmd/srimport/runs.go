package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
	"github.com/srimport/srimport/state"
)

// historyOptions are the flags of the commands that read the state store.
type historyOptions struct {
	stateDir string
}

func (o *historyOptions) addFlags(cmd *cobra.Command, getenv env) {
	cmd.Flags().StringVar(&o.stateDir, "state-dir", envOr(getenv, "SRIMPORT_STATE_DIR", defaultStateDir(getenv)), "where the journal and the import history live ($SRIMPORT_STATE_DIR)")
}

func (o *historyOptions) open() (*state.Store, error) {
	if o.stateDir == "" {
		return nil, &usageError{errors.New("no state directory: set --state-dir or $SRIMPORT_STATE_DIR")}
	}
	s, err := state.Open(o.stateDir)
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	return s, nil
}

func newRunsCmd(io stdio, getenv env) *cobra.Command {
	o := &historyOptions{}
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List recent runs from the state store",
		Long: `List recent import runs from the state store, newest first: input, target,
start, row counts and exit status. A run without an exit status did not
finish (it is running, or it was killed): run the same command again to go
on, and "srimport report RUN -o FILE" rebuilds its report.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return &usageError{fmt.Errorf("--limit %d: need at least 1", limit)}
			}
			s, err := o.open()
			if err != nil {
				return err
			}
			defer s.Close()
			runs, err := s.Runs(cmd.Context(), limit)
			if err != nil {
				return fmt.Errorf("state store: %w", err)
			}
			if asJSON {
				if runs == nil {
					runs = []state.RunRecord{}
				}
				enc := json.NewEncoder(io.out)
				enc.SetIndent("", "  ")
				return enc.Encode(runs)
			}
			printRuns(io.out, runs)
			return nil
		},
	}
	o.addFlags(cmd, getenv)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the runs as JSON, for scripts")
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs to list")
	return cmd
}

// printRuns prints runs as a table.
func printRuns(w io.Writer, runs []state.RunRecord) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs recorded")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tEXIT\tROWS\tCOUNTS\tINPUT\tTARGET")
	for _, r := range runs {
		exit := "unfinished"
		if r.ExitStatus != nil {
			exit = strconv.Itoa(*r.ExitStatus)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.Started.Local().Format(time.DateTime), exit, r.Rows,
			statusCounts(r.Counts), r.Input, r.Target)
	}
	tw.Flush()
}

func newReportCmd(io stdio, getenv env) *cobra.Command {
	o := &historyOptions{}
	in := &inputOptions{}
	var out string
	page := &pageOptions{}
	cmd := &cobra.Command{
		Use:   "report RUN|FILE -o OUT",
		Short: "Write the report of a run from the state store",
		Long: `Write the report of a run from the state store: RUN is a run id (see
"srimport runs"), or an input file for its latest run. The input is read
again (it must not have changed) and each row gets the outcome the journal
holds, so this is also how a run that was killed gets its report. Rows the
journal has no outcome for are reported pending.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if page.path != "" { // the run's page, and its report too with -o
				if err := runReportPage(cmd.Context(), io, o, a[0], page, out); err != nil || out == "" {
					return err
				}
			}
			if out == "" {
				return &usageError{errors.New("-o OUT is required: the report file to write (.csv, .xlsx or .jsonl)")}
			}
			if err := reportFormat("-o", out); err != nil {
				return err
			}
			return runReport(cmd.Context(), io, o, in, a[0], out)
		},
	}
	o.addFlags(cmd, getenv)
	cmd.Flags().StringVar(&page.path, "html", "", "write the run's page to this HTML file: counts, errors by message and, for a run that\nfinished, charts over time; self-contained (with -o, the report too)")
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "the report file to write; its extension picks the format: .csv, .xlsx or .jsonl")
	f.StringVar(&in.sheet, "sheet", "", "XLSX sheet, as given to import")
	f.StringVar(&in.password, "password", getenv("SRIMPORT_PASSWORD"), "password of an encrypted XLSX workbook ($SRIMPORT_PASSWORD)")
	f.StringVar(&in.encoding, "encoding", "auto", "CSV text encoding, as given to import")
	f.StringVar(&in.delimiter, "delimiter", "", "CSV delimiter, as given to import")
	return cmd
}

func runReport(ctx context.Context, std stdio, o *historyOptions, in *inputOptions, which, out string) error {
	opts, err := in.inputOpts()
	if err != nil {
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
	if same, err := reports.SameFile(out, run.Input); err != nil || same {
		return &usageError{fmt.Errorf("-o %s: name a file other than the input", out)}
	}
	hash, err := hashFile(run.Input)
	if err != nil {
		return fmt.Errorf("run %d's input: %w", run.ID, err)
	}
	if hash != run.InputHash {
		return fmt.Errorf("run %d's input %s has changed since the run; its report cannot be rebuilt from it", run.ID, run.Input)
	}
	if err := checkXLSXRows("-o", out, run.Input, opts); err != nil {
		return err
	}
	src, err := openReportInput(run.Input, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", run.Input, err)
	}
	defer src.Close()
	file, err := reports.Create(out, src.Header())
	if err != nil {
		return err
	}
	defer file.Abort()
	file.SetInfo(reports.Info{Input: run.Input, Run: run.ID, Started: run.Started, Finished: run.Finished})
	entries := make(chan importer.RowEntry)
	listErr := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(entries)
		listErr <- s.Rows(ctx, run.ID, func(e importer.RowEntry) error {
			select {
			case entries <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	next, more := <-entries
	var counts = map[reports.Status]int{}
	for seq := 0; ; seq++ {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", run.Input, err)
		}
		for more && next.Seq < seq {
			next, more = <-entries
		}
		rec := reports.Record{Row: row.Num, Input: row.Values, Status: reports.Pending,
			Error: "the journal holds no outcome for this row: the run ended before it; run the same command again to send it"}
		if more && next.Seq == seq {
			rec.Status, rec.ServiceRequestID, rec.ErrorClass, rec.Error = next.Status, next.ServiceRequestID, next.ErrorClass, next.Error
			rec.Attempts, rec.RequestID = next.Attempts, next.RequestID
		}
		counts[rec.Status]++
		if err := file.Write(rec); err != nil {
			return err
		}
	}
	cancel()
	for range entries {
	}
	if err := <-listErr; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("state store: %w", err)
	}
	if err := file.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "run %d (%s): %s\nreport: %s\n", run.ID, filepath.Base(run.Input), statusCounts(counts), out)
	return nil
}

// findRun finds the run a command line names: a run id, or an input file
// (its latest run into any target).
func findRun(ctx context.Context, s *state.Store, which string) (state.RunRecord, error) {
	if id, err := strconv.ParseInt(which, 10, 64); err == nil {
		r, err := s.Run(ctx, id)
		if errors.Is(err, state.ErrNoRun) {
			return r, fmt.Errorf("no run %d in the state store; \"srimport runs\" lists them", id)
		}
		return r, err
	}
	abs, err := filepath.Abs(which)
	if err != nil {
		return state.RunRecord{}, err
	}
	runs, err := s.Runs(ctx, 1000)
	if err != nil {
		return state.RunRecord{}, fmt.Errorf("state store: %w", err)
	}
	for _, r := range runs {
		if r.Input == abs {
			return r, nil
		}
	}
	return state.RunRecord{}, fmt.Errorf("no run of %s in the state store; \"srimport runs\" lists them", which)
}
