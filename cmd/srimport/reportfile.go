package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/reports"
)

// reportFormatsHelp is what import's and validate's --report say of the
// report's formats. The figures are measured by BenchmarkReportFormats and
// by running validate on a 1 M-row input (peak RSS 59-69 MiB with an
// .xlsx report, 47-48 MiB with a .csv one).
const reportFormatsHelp = `its extension picks the format: .csv, .jsonl (one JSON
object per row) or .xlsx (a coloured, filtered sheet and a Summary sheet). Written beside
and renamed into place at the end. An .xlsx report holds at most 1,048,575 rows (an Excel
sheet) and costs ~20x the time of a .csv one (~25 s a million rows) and ~20 MiB more memory`

// reportFormat refuses a report path whose format this version cannot
// write (a usage error); flag names the flag that gave it.
func reportFormat(flag, path string) error {
	if _, err := reports.FormatOf(path); err != nil {
		return &usageError{fmt.Errorf("%s %s: %s reports only; name the report FILE.csv, FILE.xlsx or FILE.jsonl",
			flag, path, strings.Join(reports.Extensions(), ", "))}
	}
	return nil
}

// retryFormat refuses a --retry-from report whose format this version
// cannot read (a usage error).
func retryFormat(path string) error {
	if _, err := reports.FormatOf(path); err != nil || filepath.Ext(path) == "" {
		return &usageError{fmt.Errorf("--retry-from %s: give a report srimport wrote: %s",
			path, strings.Join(reports.Extensions(), ", "))}
	}
	return nil
}

// checkXLSXRows refuses an .xlsx report for an input with more data rows
// than an Excel sheet holds, before anything is sent: the report could
// not be finished. An XLSX input always fits (its own sheet has the same
// limit), and so does a file of fewer bytes than the limit has rows; any
// other input is counted, which reads it once more (about a second a
// million rows). An input that cannot be read is left for the run to
// report.
func checkXLSXRows(flag, report, file string, opts input.Options) error {
	if f, err := reports.FormatOf(report); err != nil || f != reports.XLSX {
		return nil
	}
	switch strings.ToLower(filepath.Ext(file)) {
	case ".xlsx", ".xlsm":
		return nil
	}
	if info, err := os.Stat(file); err != nil || info.Size() <= reports.MaxXLSXRows {
		return nil
	}
	src, err := input.Open(file, opts)
	if err != nil {
		return nil
	}
	defer src.Close()
	n := 0
	for {
		_, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil
		}
		if n++; n > reports.MaxXLSXRows {
			return &usageError{fmt.Errorf("%s %s: %s has more than %d rows, which an .xlsx sheet cannot hold; name a .csv or .jsonl report",
				flag, report, file, reports.MaxXLSXRows)}
		}
	}
}

// openReportInput opens the input file as input.Open does and recognises
// a report srimport wrote given back as the input (see reports.AsInput).
func openReportInput(file string, opts input.Options) (input.Reader, error) {
	src, err := input.Open(file, opts)
	if err != nil {
		return nil, err
	}
	src, _ = reports.AsInput(src)
	return src, nil
}
