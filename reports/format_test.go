package reports_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srimport/srimport/reports"
)

func TestFormatOf(t *testing.T) {
	for path, want := range map[string]reports.Format{
		"r.csv": reports.CSV, "R.CSV": reports.CSV, "/dev/stdout": reports.CSV,
		"r.xlsx": reports.XLSX, "out.Xlsx": reports.XLSX,
		"r.jsonl": reports.JSONL, "dir.d/r.JSONL": reports.JSONL,
	} {
		if got, err := reports.FormatOf(path); err != nil || got != want {
			t.Errorf("FormatOf(%q) = %v, %v; want %v", path, got, err, want)
		}
	}
	for _, path := range []string{"r.pdf", "r.json", "r.xls", "r.csv.gz", "r.ndjson"} {
		_, err := reports.FormatOf(path)
		if !errors.Is(err, reports.ErrFormat) || !strings.Contains(err.Error(), ".csv, .xlsx or .jsonl") {
			t.Errorf("FormatOf(%q): %v, want ErrFormat naming the extensions allowed", path, err)
		}
	}
}

func TestCreateRefusesUnknownFormatBeforeCreatingAnything(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"r.pdf", "r.xls", "r.json"} {
		if _, err := reports.Create(filepath.Join(dir, name), nil); !errors.Is(err, reports.ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
	if got := names(t, dir); len(got) != 0 {
		t.Fatalf("directory holds %q", got)
	}
}

func TestOpenReadsEveryFormat(t *testing.T) {
	header := []string{"Title", "Notes"}
	recs := []reports.Record{
		{Row: 2, Status: reports.Created, ServiceRequestID: "616000000000001", Attempts: 1, RequestID: "id-2", Input: []string{"a", "b"}},
		{Row: 3, Status: reports.Failed, ErrorClass: "rejected", Error: "HTTP 400", Attempts: 1, RequestID: "id-3", Input: []string{"c", "d"}},
	}
	for _, ext := range reports.Extensions() {
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
		gotHeader, got := readBack(t, path)
		if strings.Join(gotHeader, ",") != "Title,Notes" || len(got) != 2 || got[1].Error != "HTTP 400" || got[0].Input[1] != "b" {
			t.Errorf("%s read back as %q %+v", ext, gotHeader, got)
		}
	}
}

func TestOpenRefusesWhatIsNotAReport(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(csvPath, []byte("Title\nx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notXLSX := filepath.Join(dir, "text.xlsx")
	if err := os.WriteFile(notXLSX, []byte("Title\nx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{csvPath, notXLSX, filepath.Join(dir, "missing.xlsx"), filepath.Join(dir, "r.txt")} {
		r, err := reports.Open(path)
		switch {
		case r != nil:
			t.Errorf("%s: a reader", path)
		case strings.HasSuffix(path, ".txt"):
			if !errors.Is(err, reports.ErrFormat) {
				t.Errorf("%s: %v, want ErrFormat", path, err)
			}
		case strings.HasPrefix(filepath.Base(path), "missing"):
			if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %v, want os.ErrNotExist", path, err)
			}
		case !errors.Is(err, reports.ErrNotReport):
			t.Errorf("%s: %v, want ErrNotReport", path, err)
		}
	}
}
