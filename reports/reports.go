// Package reports writes the run report: one record per input data row, in
// input order, pairing the row with its new service-request id or its error.
// The format follows cli.md; it is picked by the report file's extension.
package reports

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

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

// columns are the report's fixed leading columns; the input columns follow.
var columns = []string{"row", "status", "service_request_id", "error_class", "error", "attempts", "request_id"}

// Columns returns the report's fixed leading column names, in order.
func Columns() []string { return append([]string(nil), columns...) }

// Writer receives records in input order.
type Writer interface {
	// Write adds one record. Records arrive in input order.
	Write(Record) error
	// Flush pushes buffered records to the file, so that a report being
	// watched, or a run that crashes, shows what is done.
	Flush() error
	// Close flushes and closes the report; its error must be checked.
	Close() error
}

// ErrFormat is returned by Create for a report extension it cannot write.
var ErrFormat = errors.New("unsupported report format")

// DefaultPath returns the report path used when none is given:
// "<input>.report.csv" beside the input.
func DefaultPath(input string) string { return input + ".report.csv" }

// Create creates the report file at path, with the format chosen by its
// extension (.csv), and writes the header made of the fixed columns and the
// input's header.
func Create(path string, inputHeader []string) (Writer, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv", "":
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("create report: %w", err)
		}
		w, err := NewCSV(f, inputHeader)
		if err != nil {
			f.Close()
			return nil, err
		}
		return w, nil
	default:
		return nil, fmt.Errorf("report %s: %w %q (use .csv)", path, ErrFormat, ext)
	}
}
