// Package input reads the rows of a tabular input file (CSV or XLSX) one at
// a time, as text exactly as a person sees it in a spreadsheet. Nothing holds
// the whole file: a Reader streams.
package input

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
