package main

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srimport/srimport/internal/editdist"
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
		if got := editdist.Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// countingReader counts the reads made of it.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

// TestUsageErrorsReadNothing: a usage mistake is found before the input
// is read: standard input given as FILE - is left untouched.
func TestUsageErrorsReadNothing(t *testing.T) {
	r := filepath.Join(t.TempDir(), "r.csv")
	for _, args := range [][]string{
		{"import", "--sandbox", "-"}, // no --report
		{"import", "--sandbox", "--report", r, "--locale", "garbage", "-"},
		{"import", "--sandbox", "--report", r, "--encoding", "foo", "-"},
		{"import", "--sandbox", "--report", r, "--delimiter", "ab", "-"},
		{"import", "--sandbox", "--report", r, "--format", "ods", "-"},
		{"import", "--sandbox", "--report", r, "--timeout", "-1s", "-"},
		{"import", "--sandbox", "--report", r, "--workers", "0", "-"},
		{"import", "--sandbox", "--report", t.TempDir(), "-"},
		{"validate", "--locale", "garbage", "-"},
		{"validate", "--sandbox", "--base-url", "http://127.0.0.1:1", "-"},
	} {
		in := &countingReader{r: strings.NewReader("Title,Description,Severity,SupportTopicId\nA,B,critical,32451178\n")}
		var out, errb bytes.Buffer
		code := run(args, stdio{in: in, out: &out, err: &errb}, func(string) string { return "" })
		if code != exitUsage || in.reads != 0 {
			t.Errorf("%q: exit %d after %d reads of stdin, want 2 after none; stderr %q", args, code, in.reads, errb.String())
		}
	}
	// And the same input is read when nothing is wrong.
	in := &countingReader{r: strings.NewReader("Title,Description,Severity,SupportTopicId\nA,B,critical,32451178\n")}
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "-"}, stdio{in: in, out: &out, err: &errb}, func(string) string { return "" }); code != exitOK || in.reads == 0 {
		t.Errorf("validate -: exit %d after %d reads, want 0 after some; stderr %q", code, in.reads, errb.String())
	}
}
