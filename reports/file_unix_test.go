//go:build unix

package reports_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/srimport/srimport/reports"
)

func TestCommitKeepsTheOldReportsPermissions(t *testing.T) {
	_, path := dirWithReport(t)
	if err := os.Chmod(path, 0o604); err != nil { // a mode no umask gives
		t.Fatal(err)
	}
	f, err := reports.Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode() != 0o604 {
		t.Fatalf("mode %v, want the old report's -rw----r--", info.Mode())
	}
}

func TestReportThroughASymlinkReplacesItsTarget(t *testing.T) {
	dir, real := dirWithReport(t)
	links := t.TempDir()
	link := filepath.Join(links, "link.csv")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	f, err := reports.Create(link, []string{"Title"})
	if err != nil {
		t.Fatal(err)
	}
	if got := filepath.Dir(f.TempName()); got != dir {
		t.Fatalf("temporary file in %s, want beside the link's target in %s", got, dir)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("link after Commit: %v, %v; want it still a symbolic link", info, err)
	}
	if got, want := readFile(t, real), strings.Join(reports.Columns(), ",")+",Title\n"; got != want {
		t.Fatalf("the link's target holds %q, want %q", got, want)
	}
	if got := names(t, links); !reflect.DeepEqual(got, []string{"link.csv"}) {
		t.Fatalf("link's directory holds %q", got)
	}
}

func TestReportToADeviceIsWrittenStraight(t *testing.T) {
	f, err := reports.Create(os.DevNull, []string{"Title"})
	if err != nil {
		t.Fatal(err)
	}
	if f.TempName() != "" {
		t.Fatalf("temporary file %s for %s", f.TempName(), os.DevNull)
	}
	if err := f.Write(reports.Record{Row: 2, Status: reports.Valid}); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(os.DevNull); err != nil || info.Mode()&fs.ModeDevice == 0 {
		t.Fatalf("%s after Commit: %v, %v; want a device still", os.DevNull, info, err)
	}
}

func TestSameFileThroughLinks(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("in.csv", []byte("Title\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { return os.Symlink("in.csv", "sym.csv") },
		func() error { return os.Link("in.csv", "hard.csv") },
		func() error { return os.Mkdir("d", 0o755) },
		func() error { return os.Symlink("d", "ld") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"sym.csv", "in.csv", true},
		{filepath.Join(dir, "sym.csv"), "in.csv", true},
		{"hard.csv", filepath.Join(dir, "in.csv"), true},
		{"ld/new.csv", "d/new.csv", true}, // both missing, through a linked directory
		{"ld/new.csv", "new.csv", false},
	} {
		got, err := reports.SameFile(tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("SameFile(%q, %q) = %v, %v, want %v", tc.a, tc.b, got, err, tc.want)
		}
	}
	if _, err := reports.SameFile("in.csv/x", "in.csv"); err == nil {
		t.Error("SameFile under a file (not a directory): no error")
	}
}
