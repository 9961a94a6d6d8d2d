package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/progress"
	"github.com/srimport/srimport/reports"
)

// inputOptions are the input, mapping and output flags import and validate
// share.
type inputOptions struct {
	stdin     io.Reader // the input when FILE is -
	format    string    // --format of the input read from stdin
	mapping   string
	sheet     string
	password  string
	encoding  string
	delimiter string
	locale    string
	report    string
	retryFrom string // import only
	summary   string
	verbose   bool
	watched   *watched // import: what the run's watch counted, for the summary
}

// watched is what an import's watch counted, for its summary.
type watched struct {
	snap  progress.Snapshot
	began time.Time
}

func (o *inputOptions) addFlags(cmd *cobra.Command, std stdio, getenv env) {
	o.stdin = std.in
	f := cmd.Flags()
	f.StringVar(&o.mapping, "mapping", getenv("SRIMPORT_MAPPING"), "mapping file (YAML); without it, headers are matched to fields by name ($SRIMPORT_MAPPING)")
	f.StringVar(&o.sheet, "sheet", "", "XLSX sheet (default: the first visible sheet)")
	f.StringVar(&o.password, "password", getenv("SRIMPORT_PASSWORD"), "password of an encrypted XLSX workbook; the variable keeps it out of the process list ($SRIMPORT_PASSWORD)")
	f.StringVar(&o.encoding, "encoding", "auto", "CSV text encoding: auto (UTF-8 with or without BOM; UTF-16/32 by BOM),\nor a name such as windows-1252, iso-8859-15, utf-16le, shift_jis")
	f.StringVar(&o.delimiter, "delimiter", "", `CSV delimiter: one character or "tab" (default: detected among , ; tab |)`)
	f.StringVar(&o.locale, "locale", envOr(getenv, "SRIMPORT_LOCALE", "en-US"), "agent locale for rows that do not set one: a language tag such as en-US or de-DE ($SRIMPORT_LOCALE)")
	f.StringVar(&o.format, "format", "", "format of the input when FILE is - (standard input): csv, tsv or xlsx (default csv);\nimport then needs --report")
	f.StringVar(&o.summary, "summary", "", "write the run summary as JSON to this file (- for stdout)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log requests and decisions to stderr")
}

func envOr(getenv env, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// envNum reads a numeric environment default with parse; a malformed value
// is kept in *bad, to be reported as a usage error when the command runs.
func envNum[T any](getenv env, name string, def T, parse func(string) (T, error), bad *error) T {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := parse(v)
	if err != nil {
		*bad = &usageError{fmt.Errorf("$%s=%q is not a number", name, v)}
		return def
	}
	return n
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

func (o *inputOptions) inputOpts() (input.Options, error) {
	opts := input.Options{Encoding: o.encoding, Sheet: o.sheet, Password: o.password}
	switch d := o.delimiter; {
	case d == "":
	case strings.EqualFold(d, "tab") || d == `\t`:
		opts.Delimiter = '\t'
	case utf8.RuneCountInString(d) == 1:
		opts.Delimiter, _ = utf8.DecodeRuneInString(d)
	default:
		return opts, &usageError{fmt.Errorf("--delimiter %q: give one character, or tab", d)}
	}
	return opts, nil
}

// stdinName is the FILE that means standard input.
const stdinName = "-"

func isStdin(file string) bool { return file == stdinName }

// inputName names the input in messages and provenance notes.
func inputName(file string) string {
	if isStdin(file) {
		return "stdin"
	}
	return file
}

// oneFile checks that import or validate (verb) is given one FILE.
func oneFile(verb string) cobra.PositionalArgs {
	return func(_ *cobra.Command, a []string) error {
		switch {
		case len(a) == 0:
			return &usageError{fmt.Errorf("%s needs FILE: a CSV or XLSX file, or - for standard input", verb)}
		case len(a) > 1:
			return &usageError{fmt.Errorf("%s takes one FILE, and was given %d (%s); run it once for each file",
				verb, len(a), strings.Join(a, " "))}
		}
		return nil
	}
}

// check refuses input flag mistakes, and an input that is a directory,
// before anything is read or sent. An input that does not exist is an
// error (exit 1), found here too.
func (o *inputOptions) check(file string) error {
	if _, err := o.inputOpts(); err != nil {
		return err
	}
	if err := input.CheckEncoding(o.encoding); err != nil {
		return &usageError{fmt.Errorf("--encoding %s: %w", o.encoding, err)}
	}
	if err := checkLocale(o.locale); err != nil {
		return err
	}
	if isStdin(file) {
		if o.format != "" && !slices.Contains(input.Formats(), strings.ToLower(o.format)) {
			return &usageError{fmt.Errorf("--format %q: want %s", o.format, strings.Join(input.Formats(), ", "))}
		}
		return nil
	}
	if o.format != "" {
		return &usageError{fmt.Errorf("--format %s: only for an input read from standard input (FILE -); a file's extension names its format", o.format)}
	}
	info, err := os.Stat(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	if info.IsDir() {
		return &usageError{fmt.Errorf("%s %w; give a CSV or XLSX file", file, input.ErrDirectory)}
	}
	return nil
}

// checkLocale refuses a --locale that is not a language tag, the way
// mapping does.
func checkLocale(locale string) error {
	_, err := mapping.Auto(mapping.Columns(), mapping.Options{Locale: locale})
	if errors.Is(err, mapping.ErrLocale) {
		return &usageError{fmt.Errorf("--locale %q: not a locale; give a language tag such as en-US, de-DE or pt-BR", locale)}
	}
	return nil
}

// templateNote is the note the XLSX reader gives on srimport's own
// template: its Columns sheet explains the columns and is known to be
// there, so it is not worth a remark.
var templateNote = fmt.Sprintf("using sheet %q; other sheets: %q (choose one with --sheet)", templateSheet, columnsSheet)

// pipeline is an opened input with its mapper.
type pipeline struct {
	src    input.Reader
	mapper *mapping.Mapper
	file   string // the input file's path
}

// open opens the input file and compiles the mapping against its header.
// topics, when known, let validation check support topics. Remarks on how
// the file is read (hidden sheets skipped) go to notes.
func (o *inputOptions) open(notes io.Writer, file string, topics []client.SupportTopic) (*pipeline, error) {
	opts, err := o.inputOpts()
	if err != nil {
		return nil, err
	}
	var src input.Reader
	if isStdin(file) {
		format := o.format
		if format == "" {
			format = "csv"
		}
		if src, err = input.OpenReader(o.stdin, format, opts); err == nil {
			src, _ = reports.AsInput(src)
		}
	} else {
		src, err = openReportInput(file, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", inputName(file), err)
	}
	if n, ok := src.(interface{ Notes() []string }); ok {
		for _, note := range n.Notes() {
			if note != templateNote {
				fmt.Fprintf(notes, "srimport: %s: %s\n", inputName(file), note)
			}
		}
	}
	mopts := mapping.Options{File: filepath.Base(inputName(file)), Locale: o.locale, Topics: topics}
	var m *mapping.Mapper
	if o.mapping != "" {
		spec, err := mapping.LoadSpec(o.mapping)
		if err == nil {
			m, err = mapping.Compile(spec, src.Header(), mopts)
		}
		if err != nil {
			src.Close()
			return nil, fmt.Errorf("mapping %s: %w", o.mapping, err)
		}
	} else if m, err = mapping.Auto(src.Header(), mopts); err != nil {
		src.Close()
		return nil, fmt.Errorf("%s: %w", inputName(file), err)
	}
	return &pipeline{src: src, mapper: m, file: file}, nil
}

// checkReport refuses a report path that would replace a file the run
// reads as it goes (the input, the mapping) or that has a format this
// version cannot write. The report given to --retry-from is read in full
// before anything is sent, and the new report replaces it only at the end,
// so it may be the same file.
func (o *inputOptions) checkReport(file, report string) error {
	if o.retryFrom != "" {
		if err := retryFormat(o.retryFrom); err != nil {
			return err
		}
	}
	if report == "" {
		return nil
	}
	for _, read := range []struct{ what, path string }{{"the input", file}, {"the mapping", o.mapping}} {
		if read.path == "" || read.what == "the input" && isStdin(file) {
			continue
		}
		same, err := reports.SameFile(report, read.path)
		if err != nil {
			return &usageError{fmt.Errorf("--report %s: %w", report, err)}
		}
		if same {
			return &usageError{fmt.Errorf("--report %s is %s, which the run reads; name another report file", report, read.what)}
		}
	}
	if info, err := os.Stat(report); err == nil && info.IsDir() {
		return &usageError{fmt.Errorf("--report %s is a directory; name a file", report)}
	}
	if err := reportFormat("--report", report); err != nil {
		return err
	}
	if err := writableDir(report); err != nil {
		if o.report == "" {
			return &usageError{fmt.Errorf("the report goes beside the input, to %s, but %w; name another place with --report FILE", report, err)}
		}
		return &usageError{fmt.Errorf("--report %s: %w", report, err)}
	}
	if isStdin(file) {
		return nil
	}
	opts, err := o.inputOpts()
	if err != nil {
		return err
	}
	return checkXLSXRows("--report", report, file, opts)
}

// writableDir tells whether a file can be created in the directory of
// path, by creating (and removing) an empty file there: a permission
// check alone misses read-only mounts.
func writableDir(path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return fmt.Errorf("there is no directory %s to write it in", dir)
	}
	f, err := os.CreateTemp(dir, ".srimport-probe-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("its directory %s cannot be written (%w)", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// run imports (creator non-nil) or validates the pipeline's rows into the
// report at reportPath ("" = no report), then closes input and report.
// The report is written beside reportPath and renamed into place at the
// end, so a run that dies leaves the previous report whole; remarks go to
// notes.
func (p *pipeline) run(ctx context.Context, cfg importer.Config, reportPath string, notes io.Writer) (importer.Summary, error) {
	defer p.src.Close()
	var sink reports.Writer = discard{}
	var file *reports.File
	replacing := false
	if reportPath != "" {
		_, err := os.Stat(reportPath)
		replacing = err == nil
		if file, err = reports.Create(reportPath, p.src.Header()); err != nil {
			return importer.Summary{}, fmt.Errorf("%w: %w", importer.ErrReport, err)
		}
		sink = file
	}
	cfg.Mapper, cfg.Sink = p.mapper, sink
	sum, err := importer.Run(ctx, p.src, cfg)
	if file == nil {
		return sum, err
	}
	if errors.Is(err, importer.ErrReport) {
		// What was written is incomplete: keep the previous report.
		_ = file.Abort()
		return sum, err
	}
	file.SetInfo(reports.Info{Input: p.file, Run: cfg.RunID, Started: sum.Started, Finished: sum.Finished})
	if cerr := file.Commit(); cerr != nil {
		_ = file.Abort()
		if err == nil {
			err = fmt.Errorf("%w: %w", importer.ErrReport, cerr)
		}
		return sum, err
	}
	if replacing && cfg.Creator != nil && sum.Counts[reports.Created] == 0 {
		fmt.Fprintf(notes, "srimport: %s replaced; this run created nothing new (rows created earlier are listed as skipped, with their ids)\n", reportPath)
	}
	return sum, err
}

// selectFromReport reads a report of an earlier run of this input and
// returns the identities of its failed and unknown rows, for
// importer.Config.Select.
func selectFromReport(path string, p *pipeline) (func(string) bool, error) {
	r, err := reports.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--retry-from %s: %w", path, err)
	}
	defer r.Close()
	// (A JSON Lines report without records does not tell its columns.)
	if got, want := r.Header(), p.src.Header(); got != nil && !slices.Equal(got, want) {
		return nil, fmt.Errorf("--retry-from %s: its input columns %q are not the input's %q; give the report of a run of this file", path, got, want)
	}
	namer := importer.NewNamer()
	sel := make(map[string]bool)
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("--retry-from: %w", err)
		}
		req, err := p.mapper.Map(rec.Input, rec.Row)
		if err != nil {
			continue // invalid then; the input's row says why
		}
		id, err := namer.Identity(req)
		if err != nil {
			return nil, fmt.Errorf("--retry-from %s: row %d: %w", path, rec.Row, err)
		}
		if rec.Status == reports.Failed || rec.Status == reports.Unknown {
			sel[id] = true
		}
	}
	return func(id string) bool { return sel[id] }, nil
}

// discard is the report of a validate run without --report.
type discard struct{}

func (discard) Write(reports.Record) error { return nil }
func (discard) Flush() error               { return nil }
func (discard) Close() error               { return nil }

// writeSummary writes the run summary as JSON when --summary is set.
// rowsPerSecond counts the rows sent (import) or the rows with an outcome
// (validate): not the rows left pending, which took no time.
func (o *inputOptions) writeSummary(sum importer.Summary, file, report string, code int) error {
	if o.summary == "" {
		return nil
	}
	type watchedFields struct {
		WallSeconds float64 `json:"wallSeconds"`
		progress.Snapshot
	}
	doc := struct {
		Input     string  `json:"input"`
		Report    string  `json:"report,omitempty"`
		ExitCode  int     `json:"exitCode"`
		Seconds   float64 `json:"seconds"`
		RowsPerSe float64 `json:"rowsPerSecond"`
		importer.Summary
		*watchedFields
	}{file, report, code, sum.Duration().Seconds(), donePerSecond(sum), sum, nil}
	if w := o.watched; w != nil {
		doc.RowsPerSe = sentPerSecond(sum, w.snap)
		doc.watchedFields = &watchedFields{time.Since(w.began).Seconds(), w.snap}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if o.summary == "-" {
		_, err = os.Stdout.Write(append(b, '\n'))
	} else {
		err = os.WriteFile(o.summary, append(b, '\n'), 0o644)
	}
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}

// donePerSecond is the rate of the rows that reached an outcome.
func donePerSecond(sum importer.Summary) float64 {
	d := sum.Duration().Seconds()
	if d <= 0 {
		return 0
	}
	return float64(sum.Rows-sum.Counts[reports.Pending]) / d
}

// sentPerSecond is the rate of the rows an import sent.
func sentPerSecond(sum importer.Summary, snap progress.Snapshot) float64 {
	d := sum.Duration().Seconds()
	if d <= 0 {
		return 0
	}
	return float64(snap.Sent) / d
}

// statusCounts lists the non-zero counts in report order, such as
// "45 created, 5 invalid"; "" when there are none.
func statusCounts[K ~string](counts map[K]int) string {
	var parts []string
	for _, s := range reports.Statuses() {
		if n := counts[K(s)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return strings.Join(parts, ", ")
}

// printSummary prints the human summary of a validation.
func printSummary(w io.Writer, verb string, sum importer.Summary, report string) {
	printRunSummary(w, verb, sum, report, donePerSecond(sum))
}

// printRunSummary prints the human summary of a run, with its rows/s.
func printRunSummary(w io.Writer, verb string, sum importer.Summary, report string, perSecond float64) {
	counts := statusCounts(sum.Counts)
	if counts == "" {
		counts = "nothing to do"
	}
	fmt.Fprintf(w, "%s %d rows: %s", verb, sum.Rows, counts)
	if sum.GhostRows > 0 {
		fmt.Fprintf(w, " (%d trailing empty rows ignored)", sum.GhostRows)
	}
	rate := fmt.Sprintf("%.0f", perSecond)
	if perSecond < 10 {
		rate = fmt.Sprintf("%.1f", perSecond)
	}
	fmt.Fprintf(w, " in %.2fs (%s rows/s)\n", sum.Duration().Seconds(), rate)
	if report != "" {
		fmt.Fprintf(w, "report: %s\n", report)
	}
}

// printRequests prints what an import's rows cost in requests, when it
// sent any: "sent 304 rows in 350 requests (46 retries, 40 answered 429);
// latency p50 120 ms, p95 310 ms, p99 800 ms".
func printRequests(w io.Writer, snap progress.Snapshot) {
	if snap.Sent == 0 {
		return
	}
	fmt.Fprintf(w, "sent %d rows in %d requests (%d retries, %d answered 429); latency p50 %s, p95 %s, p99 %s\n",
		snap.Sent, snap.Requests, snap.Retries, snap.Throttled,
		formatMs(snap.Latency.P50), formatMs(snap.Latency.P95), formatMs(snap.Latency.P99))
}

func formatMs(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
