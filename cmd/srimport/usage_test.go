package main

import (
	"errors"
	"strings"
	"testing"
)

// TestDefaultReportUnwritable: when the report's default place beside the
// input cannot be written (here under /proc, which no one can write in,
// root included), the run says so before anything is sent and points to
// --report; a --report somewhere else is then accepted.
func TestDefaultReportUnwritable(t *testing.T) {
	o := &inputOptions{}
	const file = "/proc/self/tickets.csv"
	err := o.checkReport(file, file+".report.csv")
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Fatalf("checkReport = %v, want a usage error", err)
	}
	for _, want := range []string{"the report goes beside the input, to /proc/self/tickets.csv.report.csv", "cannot be written", "--report FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	o.report = t.TempDir() + "/r.csv"
	if err := o.checkReport(file, o.report); err != nil {
		t.Fatalf("with --report %s: %v", o.report, err)
	}
}

// TestEditDistance checks the distance flag suggestions are made with.
func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"workers", "workers", 0}, {"wrokers", "workers", 2}, {"retires", "retries", 2},
		{"Report", "report", 0}, {"repor", "report", 1}, {"", "abc", 3}, {"timeout", "time", 3},
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
