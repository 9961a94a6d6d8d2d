package reports_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/srimport/srimport/reports"
)

func TestCSVRecordsAndHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	w, err := reports.Create(path, []string{"Title", "Notes"})
	if err != nil {
		t.Fatal(err)
	}
	recs := []reports.Record{
		{Row: 2, Status: reports.Created, ServiceRequestID: "616000000000001", Attempts: 2, RequestID: "id-2", Input: []string{"a, \"quoted\"\nline", "n"}},
		{Row: 3, Status: reports.Invalid, ErrorClass: "validation", Error: "row 3: bad", Input: []string{"short"}},
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	got, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"row", "status", "service_request_id", "error_class", "error", "attempts", "request_id", "Title", "Notes"},
		{"2", "created", "616000000000001", "", "", "2", "id-2", "a, \"quoted\"\nline", "n"},
		{"3", "invalid", "", "validation", "row 3: bad", "0", "", "short", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("report\n got %q\nwant %q", got, want)
	}
}

func TestCreateRefusesUnknownFormat(t *testing.T) {
	_, err := reports.Create(filepath.Join(t.TempDir(), "r.pdf"), nil)
	if !errors.Is(err, reports.ErrFormat) {
		t.Fatalf("err %v, want ErrFormat", err)
	}
}

func TestCreateUnwritablePath(t *testing.T) {
	if _, err := reports.Create(filepath.Join(t.TempDir(), "missing", "r.csv"), nil); err == nil {
		t.Fatal("report in a missing directory: no error")
	}
}

// failing fails every write after the first n bytes, and its Close.
type failing struct {
	bytes.Buffer
	n int
}

var errDisk = errors.New("disk full")

func (f *failing) Write(p []byte) (int, error) {
	if f.Len()+len(p) > f.n {
		return 0, errDisk
	}
	return f.Buffer.Write(p)
}
func (f *failing) Close() error { return errDisk }

func TestFlushAndCloseErrorsSurface(t *testing.T) {
	w, err := reports.NewCSV(&failing{n: 10}, []string{"Title"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(reports.Record{Row: 2, Status: reports.Pending}); err != nil {
		t.Fatal(err) // buffered: the failure shows at Flush
	}
	if err := w.Flush(); !errors.Is(err, errDisk) {
		t.Fatalf("Flush: %v, want the write error", err)
	}
	if err := w.Close(); !errors.Is(err, errDisk) {
		t.Fatalf("Close: %v, want the write error", err)
	}
}
