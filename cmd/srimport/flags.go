package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/progress"
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
