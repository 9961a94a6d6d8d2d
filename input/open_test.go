package input

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// readRows reads every row of r and closes it.
func readRows(t *testing.T, r Reader) [][]string {
	t.Helper()
	defer r.Close()
	var rows [][]string
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("Next after %d rows: %v", len(rows), err)
		}
		rows = append(rows, row.Values)
	}
}

func TestOpenReaderCSVAndTSV(t *testing.T) {
	for _, c := range []struct{ format, text string }{
		{"csv", "A,B\n1,2\n3,4\n"},
		{"CSV", "A;B\n1;2\n3;4\n"},
		{"tsv", "A\tB\n1\t2\n3\t4\n"},
	} {
		r, err := OpenReader(strings.NewReader(c.text), c.format, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.format, err)
		}
		if h := r.Header(); !slices.Equal(h, []string{"A", "B"}) {
			t.Errorf("%s: header %q", c.format, h)
		}
		if rows := readRows(t, r); !slices.Equal(rows[1], []string{"3", "4"}) || len(rows) != 2 {
			t.Errorf("%s: rows %q", c.format, rows)
		}
	}
}

// TestOpenReaderXLSX reads a workbook from a stream and checks that its
// temporary copy is gone after Close.
func TestOpenReaderXLSX(t *testing.T) {
	path := xlsxSave(t, func(f *excelize.File) {
		xlsxMust(t, f.SetSheetRow("Sheet1", "A1", &[]string{"A", "B"}))
		xlsxMust(t, f.SetSheetRow("Sheet1", "A2", &[]string{"1", "2"}))
		_, err := f.NewSheet("Other")
		xlsxMust(t, err)
	})
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := OpenReader(in, "xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	tmp := r.(*tempInput).path
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("temporary copy: %v", err)
	}
	if notes := r.(interface{ Notes() []string }).Notes(); len(notes) != 1 || !strings.Contains(notes[0], `other sheets: "Other"`) {
		t.Errorf("notes %q, want the workbook's", notes)
	}
	if rows := readRows(t, r); len(rows) != 1 || !slices.Equal(rows[0], []string{"1", "2"}) {
		t.Errorf("rows %q", rows)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary copy %s after Close: %v, want it removed", tmp, err)
	}
}

func TestOpenReaderErrors(t *testing.T) {
	if _, err := OpenReader(strings.NewReader("x"), "ods", Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("format ods: %v, want ErrUnsupported", err)
	}
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "srimport-input-*.xlsx"))
	if _, err := OpenReader(strings.NewReader("not a zip"), "xlsx", Options{}); err == nil {
		t.Error("xlsx of text: no error")
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "srimport-input-*.xlsx"))
	if len(after) > len(before) {
		t.Errorf("a failed open left its temporary copy: %q", after)
	}
}

func TestOpenDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "in.csv")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrDirectory) || !strings.Contains(err.Error(), "in.csv is a directory") {
		t.Fatalf("Open(directory) = %v, want ErrDirectory saying so", err)
	}
}

func TestCheckEncoding(t *testing.T) {
	for _, ok := range []string{"", "auto", "UTF-8", "windows-1252", "latin1", "shift_jis"} {
		if err := CheckEncoding(ok); err != nil {
			t.Errorf("CheckEncoding(%q) = %v", ok, err)
		}
	}
	if err := CheckEncoding("foo"); !errors.Is(err, ErrEncodingName) {
		t.Errorf("CheckEncoding(foo) = %v, want ErrEncodingName", err)
	}
}
