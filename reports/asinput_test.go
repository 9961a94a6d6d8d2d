package reports_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/reports"
)

// readInput reads every row of an input.
func readInput(t *testing.T, r input.Reader) []input.Row {
	t.Helper()
	var rows []input.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
}

func TestReportGivenAsInputReadsAsItsInput(t *testing.T) {
	header := []string{"Title", "status", "Notes", "Notes"}
	recs := []reports.Record{
		{Row: 2, Status: reports.Created, ServiceRequestID: "616000000000001", Attempts: 1, RequestID: "id-2", Input: []string{"a", "open", "n1", "n2"}},
		{Row: 3, Status: reports.Failed, ErrorClass: "rejected", Error: "HTTP 400", Attempts: 1, RequestID: "id-3", Input: []string{"b", "", "", "m2"}},
	}
	for _, ext := range []string{".csv", ".xlsx"} {
		path := filepath.Join(t.TempDir(), "r"+ext)
		f, err := reports.Create(path, header)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := f.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		src, err := input.Open(path, input.Options{})
		if err != nil {
			t.Fatal(err)
		}
		in, ok := reports.AsInput(src)
		if !ok {
			t.Fatalf("%s: not recognised as a report", ext)
		}
		if got := in.Header(); !reflect.DeepEqual(got, header) {
			t.Errorf("%s: header %q, want %q", ext, got, header)
		}
		rows := readInput(t, in)
		if len(rows) != 2 {
			t.Fatalf("%s: %d rows, want 2", ext, len(rows))
		}
		for i, row := range rows {
			if row.Num != recs[i].Row || !reflect.DeepEqual(row.Values, recs[i].Input) || row.Err != nil {
				t.Errorf("%s: row %d %d %q (%v), want %d %q", ext, i, row.Num, row.Values, row.Err, recs[i].Row, recs[i].Input)
			}
		}
		notes := in.(interface{ Notes() []string }).Notes()
		if len(notes) == 0 || !strings.Contains(notes[len(notes)-1], "srimport report") {
			t.Errorf("%s: notes %q, want one saying it is a report", ext, notes)
		}
		if g, ok := in.(interface{ Ghost() int }); !ok || g.Ghost() != 0 {
			t.Errorf("%s: no Ghost, or a ghost row", ext)
		}
		in.Close()
	}
}

func TestInputThatIsNotAReportIsLeftAsItIs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	// Like a report's header, but not quite: a person's own columns.
	if err := os.WriteFile(path, []byte("row,status,Title\n1,open,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := input.Open(path, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if in, ok := reports.AsInput(src); ok || in != src {
		t.Fatal("an input recognised as a report")
	}
}
