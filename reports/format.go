package reports

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format is a report file format. The report's path picks it by its
// extension (FormatOf).
type Format int

// Report formats.
const (
	// CSV is RFC 4180 text, UTF-8 without a byte-order mark: the
	// columns of Columns, then the input's (InputColumns).
	CSV Format = iota
	// XLSX is an Excel workbook: the report on a sheet named "Report",
	// with a frozen and filtered header and coloured statuses, and a
	// "Summary" sheet with the run's counts. A sheet holds at most
	// MaxXLSXRows records.
	XLSX
	// JSONL is one JSON object per line, one line per record: the fixed
	// columns as members, then an "input" object of the input's columns.
	JSONL
)

// extensions are the report file extensions, in the order error messages
// name them.
var extensions = []struct {
	ext    string
	format Format
}{{".csv", CSV}, {".xlsx", XLSX}, {".jsonl", JSONL}}

// Extensions returns the report file extensions FormatOf knows, with
// their dots: ".csv", ".xlsx", ".jsonl".
func Extensions() []string {
	out := make([]string, len(extensions))
	for i, e := range extensions {
		out[i] = e.ext
	}
	return out
}

// FormatOf returns the format of a report at path, by its extension in
// any case: .csv, .xlsx or .jsonl. A path without an extension is CSV (a
// device such as /dev/stdout, say). Any other extension is an error
// wrapping ErrFormat that names the extensions allowed.
func FormatOf(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if ext == "" {
		return CSV, nil
	}
	for _, e := range extensions {
		if ext == e.ext {
			return e.format, nil
		}
	}
	return 0, fmt.Errorf("report %s: %w %q: name the report .csv, .xlsx or .jsonl", path, ErrFormat, ext)
}

// String returns the format's file extension without its dot.
func (f Format) String() string {
	for _, e := range extensions {
		if e.format == f {
			return e.ext[1:]
		}
	}
	return fmt.Sprintf("Format(%d)", int(f))
}
