package reports

import (
	"errors"
	"fmt"
	"io"

	"github.com/srimport/srimport/input"
)

// xlsxReader reads an XLSX report back through the input package's
// workbook reader, which streams the sheet in little memory.
type xlsxReader struct {
	name   string
	src    input.Reader
	header []string // the input header
}

// openXLSXReport opens the XLSX report at path (see Open).
func openXLSXReport(path string) (*xlsxReader, error) {
	src, err := input.Open(path, input.Options{Sheet: DataSheet})
	if errors.Is(err, input.ErrNoSheet) {
		src, err = input.Open(path, input.Options{})
	}
	switch {
	case errors.Is(err, input.ErrUnsupported) || errors.Is(err, input.ErrCorrupt) ||
		errors.Is(err, input.ErrNoHeader) || errors.Is(err, input.ErrNoSheet):
		return nil, fmt.Errorf("report %s: %w: %w", path, ErrNotReport, err)
	case err != nil:
		return nil, fmt.Errorf("open report: %w", err)
	}
	in, err := InputHeader(src.Header())
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	return &xlsxReader{name: path, src: src, header: in}, nil
}

// Header returns the input's header, as the report was made from.
func (r *xlsxReader) Header() []string { return append([]string(nil), r.header...) }

// Next returns the next record, or io.EOF after the last. An error names
// the file and the sheet's row.
func (r *xlsxReader) Next() (Record, error) {
	row, err := r.src.Next()
	if errors.Is(err, io.EOF) {
		return Record{}, io.EOF
	}
	if err != nil {
		return Record{}, fmt.Errorf("report %s: %w", r.name, err)
	}
	if row.Err != nil {
		return Record{}, fmt.Errorf("report %s row %d: %w", r.name, row.Num, row.Err)
	}
	rec, _, err := parseRecord(row.Values, len(r.header))
	if err != nil {
		return Record{}, fmt.Errorf("report %s row %d: %w", r.name, row.Num, err)
	}
	return rec, nil
}

// Close releases the workbook.
func (r *xlsxReader) Close() error {
	if err := r.src.Close(); err != nil {
		return fmt.Errorf("close report %s: %w", r.name, err)
	}
	return nil
}
