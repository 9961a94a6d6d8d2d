package reports

import "io"

// CreateWrapped is Create with the report file's writes passing through
// wrap, to inject write errors.
func CreateWrapped(path string, inputHeader []string, wrap func(io.Writer) io.Writer) (*File, error) {
	return create(path, inputHeader, wrap)
}

// SetXLSXLimit lowers the number of records w takes, which is
// MaxXLSXRows, for a test of what happens past it.
func SetXLSXLimit(w *XLSXWriter, n int) { w.limit = n }
