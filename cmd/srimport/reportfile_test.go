package main

import (
	"bufio"
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srimport/srimport/emulator"
	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/reports"
)

// writeRows writes a CSV input of n data rows to a new file.
func writeRows(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("Title\n")
	for range n {
		w.WriteString("x\n")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestXLSXReportOfMoreRowsThanASheetIsRefusedUpFront(t *testing.T) {
	em := emulator.New(emulator.Config{})
	srv := httptest.NewServer(em)
	defer srv.Close()
	state := t.TempDir()
	env := map[string]string{"SRIMPORT_BASE_URL": srv.URL, "SRIMPORT_TOKEN": "t", "SRIMPORT_STATE_DIR": state}
	getenv := func(k string) string { return env[k] }

	big := writeRows(t, reports.MaxXLSXRows+1)
	for _, args := range [][]string{
		{"import", "--report", filepath.Join(t.TempDir(), "r.xlsx"), big},
		{"validate", "--report", filepath.Join(t.TempDir(), "r.xlsx"), big},
	} {
		var out, errb bytes.Buffer
		code := run(args, stdio{in: strings.NewReader(""), out: &out, err: &errb}, getenv)
		if code != exitUsage || !strings.Contains(errb.String(), "has more than 1048575 rows, which an .xlsx sheet cannot hold; name a .csv or .jsonl report") {
			t.Fatalf("%s: exit %d, want %d with the sheet's limit\n%s%s", args[0], code, exitUsage, out.String(), errb.String())
		}
		if _, err := os.Stat(args[2]); !os.IsNotExist(err) {
			t.Fatalf("%s: a report was left: %v", args[0], err)
		}
	}
	if st := em.Stats(); st.Requests != 0 {
		t.Fatalf("the emulator answered %d requests, want none", st.Requests)
	}

	// A sheet's worth of rows is not refused.
	fits := writeRows(t, reports.MaxXLSXRows)
	if err := checkXLSXRows("--report", "r.xlsx", fits, input.Options{}); err != nil {
		t.Fatalf("a full sheet's rows: %v", err)
	}
}
