package reports

import (
	"fmt"
	"strconv"
	"strings"
)

// columns are the report's fixed leading columns; the input columns follow.
var columns = []string{"row", "status", "service_request_id", "error_class", "error", "attempts", "request_id"}

// inputPrefix marks an input column renamed by InputColumns.
const inputPrefix = "input:"

// bom is the UTF-8 byte-order mark Excel puts at the start of a CSV file.
const bom = "\uFEFF"

// Columns returns the report's fixed leading column names, in order.
func Columns() []string { return append([]string(nil), columns...) }

// InputColumns returns the names under which the report shows the input
// columns named inputHeader, in the same order. A name is kept as it is
// unless
//
//   - it equals a fixed column name (ignoring case and surrounding space)
//     or begins with "input:": it is written "input:" + name, so that
//     "status" becomes "input:status" and an input column really named
//     "input:status" becomes "input:input:status";
//   - it repeats an earlier input column name: its n-th occurrence (n ≥ 2)
//     is written "input:<n>:" + name, so that a second "Notes" becomes
//     "input:2:Notes".
//
// The report's column names are thus all different and none of the input
// columns can be mistaken for a fixed column, and InputHeader gives back
// inputHeader exactly.
func InputColumns(inputHeader []string) []string {
	out := make([]string, len(inputHeader))
	seen := make(map[string]int, len(inputHeader))
	for i, name := range inputHeader {
		seen[name]++
		n := seen[name]
		switch {
		case n > 1:
			out[i] = inputPrefix + strconv.Itoa(n) + ":" + name
		case isFixed(name) || strings.HasPrefix(name, inputPrefix):
			out[i] = inputPrefix + name
		default:
			out[i] = name
		}
	}
	return out
}

// isFixed reports whether name is a fixed column's name, ignoring case and
// surrounding space.
func isFixed(name string) bool {
	name = strings.TrimSpace(name)
	for _, c := range columns {
		if strings.EqualFold(name, c) {
			return true
		}
	}
	return false
}

// inputName is the inverse of InputColumns for one report column name. A
// name InputColumns never writes (such as "input:x") is kept as it is.
func inputName(col string) string {
	rest, ok := strings.CutPrefix(col, inputPrefix)
	if !ok {
		return col
	}
	if num, name, ok := strings.Cut(rest, ":"); ok {
		if n, err := strconv.Atoi(num); err == nil && n > 1 && strconv.Itoa(n) == num {
			return name
		}
	}
	if isFixed(rest) || strings.HasPrefix(rest, inputPrefix) {
		return rest
	}
	return col
}

// IsReportHeader reports whether header is a srimport report's header: its
// first cells are the fixed columns (Columns), in order and exactly. A
// UTF-8 byte-order mark before the first cell is ignored.
func IsReportHeader(header []string) bool {
	if len(header) < len(columns) {
		return false
	}
	for i, c := range columns {
		h := header[i]
		if i == 0 {
			h = strings.TrimPrefix(h, bom)
		}
		if h != c {
			return false
		}
	}
	return true
}

// InputHeader returns the input header a report's header was made from:
// the columns after the fixed ones, with the renaming of InputColumns
// undone. The error wraps ErrNotReport when header is not a report's
// header (IsReportHeader).
func InputHeader(reportHeader []string) ([]string, error) {
	if !IsReportHeader(reportHeader) {
		return nil, notReport(reportHeader)
	}
	in := make([]string, 0, len(reportHeader)-len(columns))
	for _, col := range reportHeader[len(columns):] {
		in = append(in, inputName(col))
	}
	return in, nil
}

// notReport says how header differs from a report's header.
func notReport(header []string) error {
	n := min(len(header), len(columns))
	return fmt.Errorf("%w: the header starts %q, a report's starts %q", ErrNotReport, header[:n], columns)
}
