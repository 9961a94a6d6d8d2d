package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/reports"
)

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
