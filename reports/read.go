package reports

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// CSVReader reads a CSV report back, one record at a time, so that a
// report of any size can be read in little memory. It reads what
// CSVWriter writes and also the same file saved again by a spreadsheet:
// a UTF-8 byte-order mark before the header is skipped, and the fields may
// be separated by semicolons or tabs instead of commas. Blank lines and
// lines of empty fields are skipped.
type CSVReader struct {
	name   string    // the file's name, for errors
	closer io.Closer // nil when the source is not ours to close
	csv    *csv.Reader
	header []string // the input header
}

// OpenCSV opens the CSV report at path and reads its header. The error
// wraps ErrNotReport when the file is not a srimport report (its first
// columns are not Columns, in order). Close the reader when done.
func OpenCSV(path string) (*CSVReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open report: %w", err)
	}
	r, err := NewCSVReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewCSVReader reads the header of the CSV report r, named name in errors,
// as OpenCSV does. If r is an io.Closer, Close does not close it.
func NewCSVReader(r io.Reader, name string) (*CSVReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(len(bom)); string(head) == bom {
		br.Discard(len(bom))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // a record may hold fewer input values than the header names
	for _, sep := range []rune{';', '\t'} {
		start := columns[0] + string(sep) + columns[1] + string(sep)
		if head, _ := br.Peek(len(start)); string(head) == start {
			cr.Comma = sep
		}
	}
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("report %s: %w: the file is empty", name, ErrNotReport)
	case err != nil:
		return nil, fmt.Errorf("report %s: %w: its header cannot be read: %w", name, ErrNotReport, err)
	}
	in, err := InputHeader(header)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", name, err)
	}
	return &CSVReader{name: name, csv: cr, header: in}, nil
}

// Header returns the input's header, as the report was made from (see
// InputHeader).
func (r *CSVReader) Header() []string { return append([]string(nil), r.header...) }

// Next returns the next record, or io.EOF after the last. Record.Input
// holds at least as many values as Header has names: empty ones are added
// for a short line. An error names the file and the line.
func (r *CSVReader) Next() (Record, error) {
	var f []string
	for {
		var err error
		f, err = r.csv.Read()
		if errors.Is(err, io.EOF) {
			return Record{}, io.EOF
		}
		if err != nil {
			return Record{}, fmt.Errorf("report %s: %w", r.name, err)
		}
		if !empty(f) {
			break
		}
	}
	rec, field, err := parseRecord(f, len(r.header))
	if err != nil {
		return Record{}, r.bad(field, err)
	}
	return rec, nil
}

// parseRecord makes a record of a report line's fields, its input padded
// with empty values to width. When the fields are not a record, the error
// says why and field is the index of the one at fault.
func parseRecord(f []string, width int) (rec Record, field int, err error) {
	if len(f) < len(columns) {
		return Record{}, len(f) - 1, fmt.Errorf("%d fields, where a report line has at least %d", len(f), len(columns))
	}
	rec = Record{
		Status:           Status(f[1]),
		ServiceRequestID: f[2],
		ErrorClass:       f[3],
		Error:            f[4],
		RequestID:        f[6],
		Input:            f[len(columns):],
	}
	if rec.Row, err = strconv.Atoi(f[0]); err != nil || rec.Row < 1 {
		return Record{}, 0, fmt.Errorf("row %q is not a row number", f[0])
	}
	if !rec.Status.known() {
		return Record{}, 1, fmt.Errorf("status %q is not a report status", f[1])
	}
	if f[5] != "" {
		if rec.Attempts, err = strconv.Atoi(f[5]); err != nil || rec.Attempts < 0 {
			return Record{}, 5, fmt.Errorf("attempts %q is not a count", f[5])
		}
	}
	for len(rec.Input) < width {
		rec.Input = append(rec.Input, "")
	}
	return rec, 0, nil
}

// bad is the error for field i of the record just read.
func (r *CSVReader) bad(i int, err error) error {
	line, _ := r.csv.FieldPos(i)
	return fmt.Errorf("report %s line %d: %w", r.name, line, err)
}

// empty reports whether every field is empty, as on a line of separators
// a spreadsheet may leave below the data.
func empty(fields []string) bool {
	for _, s := range fields {
		if s != "" {
			return false
		}
	}
	return true
}

// Close closes the file OpenCSV opened.
func (r *CSVReader) Close() error {
	if r.closer == nil {
		return nil
	}
	if err := r.closer.Close(); err != nil {
		return fmt.Errorf("close report %s: %w", r.name, err)
	}
	return nil
}

// Reader reads a report back, one record at a time, whatever its format.
type Reader interface {
	// Header returns the input's header, as the report was made from
	// (see InputHeader); nil when the report does not tell, as a JSON
	// Lines report without records.
	Header() []string
	// Next returns the next record, or io.EOF after the last. Its Input
	// holds at least as many values as Header has names.
	Next() (Record, error)
	// Close releases the file.
	Close() error
}

// Open opens the report at path, in the format its extension names (see
// FormatOf), and reads its header. For an XLSX report it reads the sheet
// named DataSheet or, when the workbook has none (a person renamed it),
// its first visible sheet. The error wraps ErrFormat for an extension that
// is not a report's, ErrNotReport when the file is not a srimport report,
// and fs.ErrNotExist when there is no such file. Close the reader when
// done.
func Open(path string) (Reader, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	var r Reader
	switch format {
	case XLSX:
		r, err = openXLSXReport(path)
	case JSONL:
		r, err = openJSONL(path)
	default:
		r, err = OpenCSV(path)
	}
	if err != nil {
		return nil, err // not a nil *CSVReader in a non-nil Reader
	}
	return r, nil
}
