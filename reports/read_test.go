package reports_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/srimport/srimport/reports"
)

// readAll reads every record of the report at path.
func readAll(t *testing.T, path string) ([]string, []reports.Record) {
	t.Helper()
	r, err := reports.OpenCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []reports.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the end: %v, want io.EOF", err)
	}
	return r.Header(), recs
}

func TestReportReadsBackAsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	header := []string{"Title", "status", "input:status", "Title", " Row "}
	recs := []reports.Record{
		{Row: 2, Status: reports.Created, ServiceRequestID: "616000000000001", Attempts: 2, RequestID: "id-2",
			Input: []string{"a, \"quoted\"\nline", "s", "t", "u", "v"}},
		{Row: 4, Status: reports.Failed, ErrorClass: "rejected", Error: "Title: too long", Attempts: 1, RequestID: "id-4",
			Input: []string{"", "", "", "", ""}},
		{Row: 5, Status: reports.Invalid, ErrorClass: "validation", Error: "bad", Input: []string{"short"}},
		{Row: 6, Status: reports.Unknown, ErrorClass: "ambiguous", Attempts: 3, RequestID: "id-6",
			Input: []string{"1", "2", "3", "4", "5", "extra"}},
	}
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

	gotHeader, got := readAll(t, path)
	if !reflect.DeepEqual(gotHeader, header) {
		t.Fatalf("header %q, want %q", gotHeader, header)
	}
	recs[2].Input = []string{"short", "", "", "", ""} // a short row is written padded
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("records\n got %+v\nwant %+v", got, recs)
	}
}

func TestReportSavedBySpreadsheetReadsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	saved := "\uFEFFrow;status;service_request_id;error_class;error;attempts;request_id;Title;input:status\r\n" +
		"2;failed;;rejected;\"bad; really\";1;id-2;x;y\r\n" +
		";;;;;;;;\r\n" +
		"\r\n" +
		"3;pending;;;;;;z\r\n"
	if err := os.WriteFile(path, []byte(saved), 0o644); err != nil {
		t.Fatal(err)
	}
	header, got := readAll(t, path)
	if want := []string{"Title", "status"}; !reflect.DeepEqual(header, want) {
		t.Fatalf("header %q, want %q", header, want)
	}
	want := []reports.Record{
		{Row: 2, Status: reports.Failed, ErrorClass: "rejected", Error: "bad; really", Attempts: 1, RequestID: "id-2", Input: []string{"x", "y"}},
		{Row: 3, Status: reports.Pending, Input: []string{"z", ""}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records\n got %+v\nwant %+v", got, want)
	}
}

func TestOpenCSVRefusesWhatIsNotAReport(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty":       "",
		"an input":    "Title,Notes\nx,y\n",
		"reordered":   "status,row,service_request_id,error_class,error,attempts,request_id\n",
		"one short":   "row,status,service_request_id,error_class,error,attempts\n",
		"bad quoting": "row,\"status\n",
		"binary":      "PK\x03\x04\x14\x00\x06\x00",
	} {
		path := filepath.Join(dir, name+".csv")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := reports.OpenCSV(path)
		if !errors.Is(err, reports.ErrNotReport) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: OpenCSV: %v, want ErrNotReport naming %s", name, err, path)
		}
		if r != nil {
			t.Errorf("%s: a reader with the error", name)
		}
	}
	if _, err := reports.OpenCSV(filepath.Join(dir, "missing.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
}

func TestNextRefusesBadLines(t *testing.T) {
	const head = "row,status,service_request_id,error_class,error,attempts,request_id,Title\n2,created,1,,,1,id,x\n"
	for _, tc := range []struct{ line, want string }{
		{"x,created,,,,1,id,t\n", `line 3: row "x" is not a row number`},
		{"0,created,,,,1,id,t\n", `line 3: row "0" is not a row number`},
		{"3,done,,,,1,id,t\n", `line 3: status "done" is not a report status`},
		{"3,Created,,,,1,id,t\n", `line 3: status "Created" is not a report status`},
		{"3,failed,,,,-1,id,t\n", `line 3: attempts "-1" is not a count`},
		{"3,failed,,,,one,id,t\n", `line 3: attempts "one" is not a count`},
		{"3,failed,,\n", "line 3: 4 fields, where a report line has at least 7"},
		{"3,failed,\"x\"y,,,1,id,t\n", "line 3"},
	} {
		r, err := reports.NewCSVReader(strings.NewReader(head+tc.line), "r.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatalf("first line: %v", err)
		}
		_, err = r.Next()
		if err == nil || !strings.Contains(err.Error(), "r.csv") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("line %q: %v, want an error naming r.csv and saying %q", tc.line, err, tc.want)
		}
	}
}
