package main

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/srimport/srimport/emulator"
)

// TestInterruptFlushesReport sends SIGINT to the process while an import
// runs: the exit status is 130 and the report still holds every input row,
// those not sent as pending.
func TestInterruptFlushesReport(t *testing.T) {
	em := emulator.New(emulator.Config{Latency: 5 * time.Millisecond})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	in, report := filepath.Join(dir, "in.csv"), filepath.Join(dir, "r.csv")
	const rows = 3000
	writeBenchCSV(t, in, rows)

	stateDir := filepath.Join(dir, "state")
	getenv := func(k string) string {
		return map[string]string{"SRIMPORT_BASE_URL": srv.URL, "SRIMPORT_TOKEN": "t", "SRIMPORT_STATE_DIR": stateDir}[k]
	}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"import", "--workers", "2", "--report", report, in},
			stdio{in: bytes.NewReader(nil), out: io.Discard, err: io.Discard}, getenv)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for em.Stats().Created < 20 {
		if time.Now().After(deadline) {
			t.Fatal("the import created nothing")
		}
		time.Sleep(2 * time.Millisecond)
	}
	// run has installed its handler: the signal cancels the run instead of
	// ending the test process.
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != exitInterrupted {
		t.Fatalf("exit status %d, want %d", code, exitInterrupted)
	}

	f, err := os.Open(report)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != rows+1 {
		t.Fatalf("report has %d rows, input %d", len(recs)-1, rows)
	}
	count := map[string]int{}
	for _, r := range recs[1:] {
		count[r[1]]++
	}
	if count["pending"] == 0 || count["created"] < 20 {
		t.Fatalf("statuses %v: want created rows and pending ones", count)
	}
	if int64(count["created"]) > em.Stats().Created {
		t.Fatalf("report says %d created, the service has %d", count["created"], em.Stats().Created)
	}
}
