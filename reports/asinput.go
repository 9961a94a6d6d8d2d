package reports

import (
	"strings"

	"github.com/srimport/srimport/input"
)

// AsInput recognises a report srimport wrote, given back as the input of
// a run: a person fixed the failed rows of an XLSX (or CSV) report in a
// spreadsheet and imports the report itself. When r's header is a
// report's (IsReportHeader: for an XLSX report, its data sheet, which is
// the first), AsInput returns r with the report's fixed columns (row,
// status, service_request_id, error_class, error, attempts, request_id)
// left out of the header and of every row, and the input columns under
// their own names again (InputHeader: "input:status" is "status"), and
// ok true. Row numbers stay those of the report file, which is the file
// a person sees. For any other input it returns r as it is, and ok false.
//
// The reader returned implements, as the input package's readers do,
//
//	interface{ Notes() []string }  // r's notes, and one saying the report's columns are left out
//	interface{ Ghost() int }       // r's, or 0
func AsInput(r input.Reader) (in input.Reader, ok bool) {
	header, err := InputHeader(r.Header())
	if err != nil {
		return r, false
	}
	return &reportInput{Reader: r, header: header}, true
}

// reportInput is a report read as an input.
type reportInput struct {
	input.Reader
	header []string
}

// Header returns the input header the report was made from.
func (r *reportInput) Header() []string { return append([]string(nil), r.header...) }

// Next returns the next data row with the report's fixed columns left out.
func (r *reportInput) Next() (input.Row, error) {
	row, err := r.Reader.Next()
	if err != nil {
		return row, err
	}
	if len(row.Values) >= len(columns) {
		row.Values = row.Values[len(columns):]
	} else {
		row.Values = nil
	}
	for len(row.Values) < len(r.header) {
		row.Values = append(row.Values, "")
	}
	return row, nil
}

// Notes returns the notes of the reader underneath and one saying which
// columns are left out.
func (r *reportInput) Notes() []string {
	var notes []string
	if n, ok := r.Reader.(interface{ Notes() []string }); ok {
		notes = n.Notes()
	}
	return append(notes, "a srimport report: its columns "+strings.Join(columns, ", ")+
		" are left out, and the input columns after them are read under their own names")
}

// Ghost returns the reader underneath's Ghost, or 0.
func (r *reportInput) Ghost() int {
	if g, ok := r.Reader.(interface{ Ghost() int }); ok {
		return g.Ghost()
	}
	return 0
}
