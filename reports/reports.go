// Package reports writes the run report, one record per input data row in
// input order, pairing the row with its new service-request id or its
// error, and reads it back for a retry. The columns follow cli.md; the
// format is picked by the report file's extension (FormatOf): CSV, XLSX
// (a styled sheet and a Summary sheet, see XLSXWriter) or JSON Lines (see
// JSONLWriter). Open reads any of them back, and AsInput recognises a
// report given back as the input of a run.
//
// # Atomic write
//
// Create does not write to the report's path (unless that is a device or
// a pipe, see Create). It writes to a temporary file beside it, ".<name>.tmp-<random>" in the same directory (see
// File.TempName), and Commit (or Close, which is Commit) flushes it, syncs
// it to disk and renames it over the path, then syncs the directory. Until
// then the previous report at the path, if any, is left as it was: a run
// that is killed, or whose report cannot be written in full (a full disk),
// never leaves a half-written report under the report's name. Abort
// discards the temporary file.
//
// Flush writes buffered records to the temporary file, so a person can
// follow a run by watching that file (CSV and JSON Lines: an XLSX report
// is written there whole by Commit, a workbook cannot be read before its
// end). After a crash the temporary file stays behind holding the records
// flushed so far; it is a convenience only, not a complete report: the
// run's journal is the source of truth about which rows were sent.
//
// # Columns
//
// The report's fixed columns (Columns) come first, then the input's
// columns under the names InputColumns gives them: an input column named
// like a fixed column is renamed, so that the fixed columns are never
// ambiguous and every report column name is unique. Open, OpenCSV and
// InputHeader undo the renaming.
package reports

import "errors"

// Status is a row's outcome, as printed in the report's status column.
type Status string

// Row outcomes, as cli.md defines them.
const (
	Created Status = "created" // the service created it
	Invalid Status = "invalid" // failed local validation, never sent
	Failed  Status = "failed"  // the service refused it, or retries ran out on a definite error
	Unknown Status = "unknown" // sent, but whether it was created could not be told
	Skipped Status = "skipped" // already created by an earlier run
	Pending Status = "pending" // not reached: interrupted or stopped
	// Valid is written by validate runs only: the row would be sent.
	Valid Status = "valid"
)

// Statuses lists every Status in report order, for summaries.
func Statuses() []Status { return []Status{Created, Valid, Invalid, Failed, Unknown, Skipped, Pending} }

// known reports whether s is one of Statuses.
func (s Status) known() bool {
	switch s {
	case Created, Valid, Invalid, Failed, Unknown, Skipped, Pending:
		return true
	}
	return false
}

// Record is one report line.
type Record struct {
	Row              int      // row number as a person sees it (header = 1)
	Status           Status   // outcome
	ServiceRequestID string   // the SR id, for created and skipped rows
	ErrorClass       string   // validation, rejected, throttled, transient, auth, ambiguous
	Error            string   // what went wrong, in words a person can act on
	Attempts         int      // requests sent for this row
	RequestID        string   // the MS-RequestId used for this row
	Input            []string // the input row's values as read
}

// Writer receives records in input order.
type Writer interface {
	// Write adds one record. Records arrive in input order.
	Write(Record) error
	// Flush pushes buffered records to the file, so that a report being
	// watched, or a run that crashes, shows what is done. (For a File,
	// that is its temporary file: see File.TempName.)
	Flush() error
	// Close flushes and closes the report; its error must be checked.
	Close() error
}

// ErrFormat is wrapped by the errors of FormatOf, Create and Open for a
// report extension they do not know.
var ErrFormat = errors.New("unsupported report format")

// ErrNotReport is wrapped by the errors of Open, OpenCSV, NewCSVReader and
// InputHeader for a file or header that is not a srimport report.
var ErrNotReport = errors.New("not a srimport report")
