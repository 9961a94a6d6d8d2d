package reports

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
)

// CSVWriter writes the report as CSV (RFC 4180, UTF-8, no BOM).
type CSVWriter struct {
	closer io.Closer // nil when the destination is not ours to close
	buf    *bufio.Writer
	csv    *csv.Writer
	line   []string
	width  int
}

// NewCSV writes the report header to w and returns a writer for the
// records. The header is the fixed columns (Columns) followed by the input
// columns as InputColumns names them. If w is an io.Closer, Close closes
// it.
//
// NewCSV writes straight to w; Create is the atomic way to write a report
// file.
func NewCSV(w io.Writer, inputHeader []string) (*CSVWriter, error) {
	cw, err := newCSV(w, inputHeader)
	if err != nil {
		return nil, err
	}
	if c, ok := w.(io.Closer); ok {
		cw.closer = c
	}
	return cw, nil
}

// newCSV is NewCSV with a destination it never closes.
func newCSV(w io.Writer, inputHeader []string) (*CSVWriter, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	cw := &CSVWriter{buf: buf, csv: csv.NewWriter(buf), width: len(inputHeader)}
	cw.line = make([]string, 0, len(columns)+len(inputHeader))
	if err := cw.csv.Write(append(append(cw.line[:0], columns...), InputColumns(inputHeader)...)); err != nil {
		return nil, fmt.Errorf("write report header: %w", err)
	}
	return cw, nil
}

// Write adds one record.
func (w *CSVWriter) Write(r Record) error {
	w.line = r.fields(w.line[:0], w.width)
	if err := w.csv.Write(w.line); err != nil {
		return fmt.Errorf("write report row %d: %w", r.Row, err)
	}
	return nil
}

// Flush pushes buffered records to the destination.
func (w *CSVWriter) Flush() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Close flushes the report and closes its file.
func (w *CSVWriter) Close() error {
	err := w.Flush()
	if w.closer != nil {
		if cerr := w.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close report: %w", cerr)
		}
	}
	return err
}
