// Package input reads the rows of a tabular input file (CSV or XLSX) one at
// a time, as text exactly as a person sees it in a spreadsheet. Nothing holds
// the whole file: a Reader streams.
package input

import (
	"errors"
	"slices"
	"strings"
)

// Row is one data row of an input file.
type Row struct {
	// Num is the row number a person sees: the header is row 1 and the
	// first data row is row 2 (CSV: one record is one row, whatever its
	// physical lines; XLSX: the sheet's own row number).
	Num int
	// Line is the physical line where the record starts (CSV), for
	// messages; 0 when it does not apply.
	Line int
	// Values are the row's cells in header order. A short row is padded
	// with "" to the header's width.
	Values []string
	// Err is non-nil when the record could not be read correctly (bad
	// quoting, wrong field count, invalid encoding). Such a row is reported
	// as invalid and the run goes on. Err names line and column.
	Err error
}

// Reader yields the data rows of one input file in order.
type Reader interface {
	// Header returns the header row's cells.
	Header() []string
	// Next returns the next data row, or io.EOF after the last one. Any
	// other error is fatal for the whole file.
	Next() (Row, error)
	// Close releases the file.
	Close() error
}

// Options tell Open and NewCSV how to read a file. The zero value reads a
// UTF-8 CSV file with a detected delimiter.
type Options struct {
	// Encoding names the CSV text encoding. "" and "auto" read UTF-8
	// with or without a byte-order mark, or UTF-16/UTF-32 by their
	// byte-order mark; any WHATWG or IANA name (utf-16le, windows-1252,
	// latin1, iso-8859-15, shift_jis, …) names it. See NewCSV.
	Encoding string
	// Delimiter separates CSV fields. 0 detects it: an Excel "sep=X"
	// first line names it (and is skipped); otherwise the most frequent
	// of , ; tab | outside quotes in the header line wins, ties going to
	// the earlier in that list (so a one-column file reads as comma
	// separated). Open defaults .tsv files to tab. A "sep=" line is
	// skipped even when Delimiter is set; Delimiter wins.
	Delimiter rune
	// Sheet names the XLSX sheet to read; "" means the first visible one.
	Sheet string
	// Password opens an encrypted XLSX file.
	Password string
}

// Errors callers tell apart with errors.Is.
var (
	// ErrNoHeader means the input has no header row: it is empty, or its
	// first record holds no column names.
	ErrNoHeader = errors.New("no header row")
	// ErrUnsupported means the file's format or encoding cannot be read.
	ErrUnsupported = errors.New("unsupported input")
	// ErrEncoding means text is not valid in the file's encoding: not
	// valid UTF-8, a byte the named code page does not define, or
	// malformed UTF-16/UTF-32. A row with such text is returned with
	// Row.Err wrapping it; a header with such text makes NewCSV fail.
	ErrEncoding = errors.New("text is not valid UTF-8")
)

// columnLetters returns the spreadsheet letters of 0-based column i: A, …,
// Z, AA, AB, ….
func columnLetters(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append(b, byte('A'+(i-1)%26))
	}
	slices.Reverse(b)
	return string(b)
}

// headerNames returns a copy of a header row's cells with each blank name
// replaced by "Column X", X being the column's letters.
func headerNames(cells []string) []string {
	names := slices.Clone(cells)
	for i, name := range names {
		if strings.TrimSpace(name) == "" {
			names[i] = "Column " + columnLetters(i)
		}
	}
	return names
}

// lastNonBlank returns the index of the last cell with more than spaces,
// or -1.
func lastNonBlank(cells []string) int {
	for i := len(cells) - 1; i >= 0; i-- {
		if strings.TrimSpace(cells[i]) != "" {
			return i
		}
	}
	return -1
}
