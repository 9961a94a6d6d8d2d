package state_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
	"github.com/srimport/srimport/state"
)

// crashDirEnv names the state directory a re-executed test binary
// writes into until it is killed (see crashChild).
const crashDirEnv = "SRIMPORT_STATE_CRASH_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild does sync writes from several goroutines, forever, and
// prints "seq identity" for each one acknowledged, once it is.
func crashChild(dir string) {
	ctx := context.Background()
	s, err := state.Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	r, err := s.Begin(ctx, state.RunInfo{Input: "crash.csv", Target: "tgt"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("run %d\n", r.ID())
	var (
		mu   sync.Mutex
		out  = bufio.NewWriter(os.Stdout)
		next int
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for {
				mu.Lock()
				seq := next
				next++
				mu.Unlock()
				id := "crash-" + strconv.Itoa(seq)
				e := importer.RowEntry{
					Entry: importer.Entry{Identity: id, RequestID: "req-" + id, State: importer.StateSending, Row: seq + 2},
					Seq:   seq, Status: reports.Pending,
				}
				if err := r.Write(ctx, e, true); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				// Acknowledged: say so, unbuffered past this point.
				mu.Lock()
				fmt.Fprintf(out, "%d %s\n", seq, id)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrash kills a process doing sync writes with SIGKILL and checks
// that every write it had acknowledged is in the database after the next
// Open, which ingests the run's log the process left, and that the
// database is intact. While the process runs, it also checks that
// another process's Open leaves the run's log alone.
func TestCrash(t *testing.T) {
	for round := range 3 {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
			cmd.Stderr = os.Stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			if !sc.Scan() {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child printed nothing: %v", sc.Err())
			}
			var runID int64
			if _, err := fmt.Sscanf(sc.Text(), "run %d", &runID); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child's first line %q: %v", sc.Text(), err)
			}
			// Kill it after a number of acknowledged writes that varies
			// by round, so that the kill lands at different points.
			killAfter := 200 + 350*round
			acked := map[int]string{}
			liveChecked := false
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) != 2 {
					t.Errorf("child's line %q", sc.Text())
					continue
				}
				seq, err := strconv.Atoi(f[0])
				if err != nil {
					t.Errorf("child's line %q", sc.Text())
					continue
				}
				acked[seq] = f[1]
				if len(acked) == killAfter/2 && !liveChecked {
					liveChecked = true
					if err := checkLiveLog(dir, runID); err != nil {
						cmd.Process.Kill()
						cmd.Wait()
						t.Fatal(err)
					}
				}
				if len(acked) == killAfter {
					if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
				}
			}
			// The lines printed before the kill are all read by now.
			err = cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child ended with %v, not killed", err)
			}
			if len(acked) < killAfter {
				t.Fatalf("child acknowledged %d writes, fewer than %d", len(acked), killAfter)
			}

			db, err := sql.Open("sqlite", filepath.Join(dir, state.DBName))
			if err != nil {
				t.Fatal(err)
			}
			var check string
			if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil {
				t.Fatal(err)
			}
			// The acknowledged writes are in the log the process left, not
			// in the database yet.
			var inDB int
			if err := db.QueryRow(`SELECT count(*) FROM rows WHERE run_id = ?`, runID).Scan(&inDB); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if check != "ok" {
				t.Fatalf("integrity_check: %s", check)
			}
			if inDB != 0 {
				t.Fatalf("%d rows of the killed run in the database before Open", inDB)
			}
			if _, err := os.Stat(logPath(dir, runID)); err != nil {
				t.Fatalf("the killed run's log: %v", err)
			}

			s := openStore(t, dir)
			if _, err := os.Stat(logPath(dir, runID)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Open left the killed run's log: %v", err)
			}
			if rec, err := s.Run(context.Background(), runID); err != nil || rec.ExitStatus != nil {
				t.Fatalf("the killed run = %+v, %v; want it unfinished", rec, err)
			}
			got := map[int]string{}
			if err := s.Rows(context.Background(), runID, func(e importer.RowEntry) error {
				got[e.Seq] = e.Identity
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			r := begin(t, s, "tgt")
			for seq, id := range acked {
				if got[seq] != id {
					t.Errorf("acknowledged write %d (%s) is missing", seq, id)
					continue
				}
				if e, ok := lookup(t, r, id); !ok || e.RequestID != "req-"+id {
					t.Errorf("acknowledged item %s = %+v, %v", id, e, ok)
				}
			}
			t.Logf("%d writes acknowledged before the kill, %d found", len(acked), len(got))
		})
	}
}

// checkLiveLog opens the state directory dir while the run runID of
// another process writes to it, and checks that the Open ingests none of
// the run's log and leaves it in place.
func checkLiveLog(dir string, runID int64) error {
	s, err := state.Open(dir)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := os.Stat(logPath(dir, runID)); err != nil {
		return fmt.Errorf("the live run's log after another Open: %w", err)
	}
	n := 0
	if err := s.Rows(context.Background(), runID, func(importer.RowEntry) error { n++; return nil }); err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("another Open ingested %d rows of the live run's log", n)
	}
	return nil
}
