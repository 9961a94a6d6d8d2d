package reports_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/srimport/srimport/reports"
)

const oldReport = "row,status\n2,created\n"

// dirWithReport returns a new directory holding an earlier report r.csv.
func dirWithReport(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "r.csv")
	if err := os.WriteFile(path, []byte(oldReport), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReportIsWrittenBesideAndRenamedOnCommit(t *testing.T) {
	dir, path := dirWithReport(t)
	f, err := reports.Create(path, []string{"Title"})
	if err != nil {
		t.Fatal(err)
	}
	tmp := f.TempName()
	if filepath.Dir(tmp) != dir || !strings.HasPrefix(filepath.Base(tmp), ".r.csv.tmp-") {
		t.Fatalf("temporary file %s, want .r.csv.tmp-* in %s", tmp, dir)
	}
	if err := f.Write(reports.Record{Row: 2, Status: reports.Pending, Input: []string{"t"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	// What a crash would leave: the old report whole, the flushed records
	// in the temporary file.
	if got := readFile(t, path); got != oldReport {
		t.Fatalf("before Commit the report reads %q, want the old one", got)
	}
	partial := "row,status,service_request_id,error_class,error,attempts,request_id,Title\n2,pending,,,,0,,t\n"
	if got := readFile(t, tmp); got != partial {
		t.Fatalf("flushed temporary file %q, want %q", got, partial)
	}

	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != partial {
		t.Fatalf("committed report %q, want %q", got, partial)
	}
	if got := names(t, dir); !reflect.DeepEqual(got, []string{"r.csv"}) {
		t.Fatalf("directory holds %q after Commit, want only r.csv", got)
	}
	if err := f.Commit(); err != nil {
		t.Fatalf("second Commit: %v, want the first one's nil", err)
	}
	if err := f.Abort(); err != nil {
		t.Fatalf("Abort after Commit: %v, want nil", err)
	}
	if err := f.Write(reports.Record{Row: 3}); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Write after Commit: %v, want os.ErrClosed", err)
	}
	if got := readFile(t, path); got != partial {
		t.Fatalf("report changed after Commit: %q", got)
	}
}

func TestNewReportAppearsOnlyOnClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.csv")
	var w reports.Writer
	f, err := reports.Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	w = f // Create's result is a Writer, as callers use it
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("report exists before Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, path), strings.Join(reports.Columns(), ",")+"\n"; got != want {
		t.Fatalf("report %q, want %q", got, want)
	}
	// Created as os.Create would have: compare with a file it makes.
	sibling, err := os.Create(filepath.Join(dir, "sibling"))
	if err != nil {
		t.Fatal(err)
	}
	sibling.Close()
	ri, _ := os.Stat(path)
	si, _ := os.Stat(sibling.Name())
	if ri.Mode() != si.Mode() {
		t.Fatalf("report mode %v, want %v as os.Create gives", ri.Mode(), si.Mode())
	}
}

func TestAbortRemovesTheTemporaryFile(t *testing.T) {
	dir, path := dirWithReport(t)
	f, err := reports.Create(path, []string{"Title"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Write(reports.Record{Row: 2, Status: reports.Created}); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.TempName()); err != nil {
		t.Fatalf("temporary file before Abort: %v", err)
	}
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !reflect.DeepEqual(got, []string{"r.csv"}) {
		t.Fatalf("directory holds %q after Abort, want only r.csv", got)
	}
	if got := readFile(t, path); got != oldReport {
		t.Fatalf("report after Abort %q, want the old one", got)
	}
	if err := f.Commit(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Commit after Abort: %v, want os.ErrClosed", err)
	}
	if err := f.Abort(); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
}

// fullDisk passes the first left bytes to w, then fails as a full disk.
type fullDisk struct {
	w    io.Writer
	left int
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if len(p) <= d.left {
		d.left -= len(p)
		return d.w.Write(p)
	}
	n, _ := d.w.Write(p[:d.left])
	d.left = 0
	return n, &fs.PathError{Op: "write", Path: "report", Err: syscall.ENOSPC}
}

func TestFullDiskFailsTheReportAndKeepsTheOldOne(t *testing.T) {
	long := strings.Repeat("x", 200)
	for _, tc := range []struct {
		name     string
		records  int  // records written
		writeErr bool // the disk fills on Write (else at Flush or Commit)
		flush    bool // Flush before Commit
	}{
		{name: "on Write", records: 2000, writeErr: true, flush: true},
		{name: "on Flush", records: 3, flush: true},
		{name: "on Commit", records: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path := dirWithReport(t)
			f, err := reports.CreateWrapped(path, []string{"Notes"}, func(w io.Writer) io.Writer {
				return &fullDisk{w: w, left: 100}
			})
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			for i := range tc.records {
				if werr = f.Write(reports.Record{Row: i + 2, Status: reports.Created, Input: []string{long}}); werr != nil {
					break
				}
			}
			if tc.writeErr != (werr != nil) || werr != nil && !errors.Is(werr, syscall.ENOSPC) {
				t.Fatalf("Write: %v, want ENOSPC: %v", werr, tc.writeErr)
			}
			if tc.flush {
				if err := f.Flush(); !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Flush: %v, want ENOSPC", err)
				}
			}
			err = f.Commit()
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Commit: %v, want ENOSPC", err)
			}
			if got := readFile(t, path); got != oldReport {
				t.Fatalf("report after a failed Commit %q, want the old one", got)
			}
			if got := names(t, dir); !reflect.DeepEqual(got, []string{"r.csv"}) {
				t.Fatalf("directory holds %q after a failed Commit, want only r.csv", got)
			}
			if again := f.Close(); again != err {
				t.Fatalf("Close after a failed Commit: %v, want Commit's %v", again, err)
			}
		})
	}
}

func TestFailedRenameKeepsTheCompleteReport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	f, err := reports.Create(path, []string{"Title"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Write(reports.Record{Row: 2, Status: reports.Created, Input: []string{"t"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil { // now nothing can be renamed over it
		t.Fatal(err)
	}
	err = f.Commit()
	if err == nil || !strings.Contains(err.Error(), f.TempName()) {
		t.Fatalf("Commit: %v, want an error naming %s", err, f.TempName())
	}
	want := "row,status,service_request_id,error_class,error,attempts,request_id,Title\n2,created,,,,0,,t\n"
	if got := readFile(t, f.TempName()); got != want {
		t.Fatalf("kept report %q, want %q", got, want)
	}
}

func TestCreateRefusesADirectory(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "r.csv")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := reports.Create(sub, nil); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("report path a directory: %v, want an error saying so", err)
	}
	if got := names(t, dir); !reflect.DeepEqual(got, []string{"r.csv"}) {
		t.Fatalf("directory holds %q, want only r.csv", got)
	}
}

func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, name := range []string{"in.csv", "other.csv"} {
		if err := os.WriteFile(name, []byte("Title\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir("sub", 0o755); err != nil {
		t.Fatal(err)
	}
	abs := func(p string) string { return filepath.Join(dir, p) }
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"in.csv", abs("in.csv"), true},
		{"./sub/../in.csv", "in.csv", true},
		{"in.csv", "other.csv", false},
		{"in.csv.report.csv", "in.csv", false},   // report missing, input there
		{"sub/../new.csv", abs("new.csv"), true}, // both missing
		{"sub/new.csv", "new.csv", false},        // both missing
		{abs("sub/x.csv"), filepath.Join("sub", "x.csv"), true},
	} {
		got, err := reports.SameFile(tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("SameFile(%q, %q) = %v, %v, want %v", tc.a, tc.b, got, err, tc.want)
		}
	}
}
