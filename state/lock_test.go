package state_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/state"
)

func TestLock(t *testing.T) {
	dir := t.TempDir()
	const key = "/data/tickets.csv\x00https://api.partnercenter.microsoft.com/tenant"
	l, err := state.Lock(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(l.Path()) != filepath.Join(dir, "locks") || !strings.HasSuffix(l.Path(), ".lock") ||
		len(filepath.Base(l.Path())) != len("0123456789abcdef.lock") {
		t.Fatalf("lock file %s", l.Path())
	}
	var c struct {
		PID     int       `json:"pid"`
		Started time.Time `json:"started"`
		Key     string    `json:"key"`
	}
	b, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil || c.PID != os.Getpid() || c.Key != key || c.Started.IsZero() {
		t.Fatalf("lock file holds %s (%v)", b, err)
	}

	// A second Lock is refused, naming us.
	_, err = state.Lock(dir, key)
	var le *state.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock = %v, want a *LockedError", err)
	}
	if le.PID != os.Getpid() || le.Key != key || !le.Started.Equal(c.Started) {
		t.Fatalf("LockedError = %+v", le)
	}
	if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(msg, "wait for it or stop it") {
		t.Fatalf("message %q", msg)
	}

	// Another key is another lock.
	other, err := state.Lock(dir, key+"2")
	if err != nil {
		t.Fatal(err)
	}
	if other.Path() == l.Path() {
		t.Fatal("two keys share a lock file")
	}

	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock file after Release: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	l2, err := state.Lock(dir, key)
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	// The first lock's Release must not remove the second one.
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l2.Path()); err != nil {
		t.Fatalf("an old Release removed the new lock: %v", err)
	}
	if err := l2.Release(); err != nil {
		t.Fatal(err)
	}
	if err := other.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestLockLeftBehind: a lock file that no process holds is free, whatever
// pid it names — a killed holder's, or a live process's (the pid of a
// process in another container, or reused since): the flock, not the pid,
// says who holds it. Several takers race; exactly one wins.
func TestLockLeftBehind(t *testing.T) {
	for name, pid := range map[string]int{"dead pid": deadPID(t), "live pid": os.Getppid()} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			const key = "in.csv target"
			l, err := state.Lock(dir, key)
			if err != nil {
				t.Fatal(err)
			}
			path := l.Path()
			if err := l.Release(); err != nil {
				t.Fatal(err)
			}
			left := fmt.Sprintf(`{"pid":%d,"started":"2025-01-02T03:04:05Z","key":%q}`+"\n", pid, key)
			if err := os.WriteFile(path, []byte(left), 0o600); err != nil {
				t.Fatal(err)
			}
			const takers = 8
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				won    []*state.Lockfile
				locked int
			)
			for range takers {
				wg.Go(func() {
					l, err := state.Lock(dir, key)
					mu.Lock()
					defer mu.Unlock()
					var le *state.LockedError
					switch {
					case err == nil:
						won = append(won, l)
					case errors.As(err, &le):
						// The holder named may be the file's previous
						// one: the winner writes its own right after it
						// takes the lock.
						locked++
					default:
						t.Errorf("Lock = %v", err)
					}
				})
			}
			wg.Wait()
			if len(won) != 1 || locked != takers-1 {
				t.Fatalf("%d takers won, %d were refused; want 1 and %d", len(won), locked, takers-1)
			}
			b, err := os.ReadFile(path)
			if err != nil || !strings.Contains(string(b), fmt.Sprintf(`"pid":%d`, os.Getpid())) {
				t.Fatalf("lock file after takeover: %s, %v", b, err)
			}
			if err := won[0].Release(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLockKilledHolder: a process that holds the lock and is killed
// leaves its file behind, and the lock free.
func TestLockKilledHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := state.Lock(dir, "k")
	if err != nil {
		t.Fatal(err)
	}
	path := l.Path()
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// flock(1) holds the file until it is killed; it says when it holds it.
	// With --no-fork, flock(1) becomes the command: one process holds the
	// lock, and once Wait has reaped it the kernel has dropped the lock.
	holder := exec.Command("flock", "--exclusive", "--no-fork", path, "sh", "-c", "echo locked; exec sleep 60")
	kill := func() { holder.Process.Kill() }
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer kill()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("flock(1) said %q, %v", line, err)
	}
	_, err = state.Lock(dir, "k")
	var le *state.LockedError
	if !errors.As(err, &le) || le.PID != 0 || !strings.Contains(err.Error(), "wait for it or stop it") {
		t.Fatalf("Lock of a file another process holds = %v (%+v)", err, le)
	}
	kill()
	holder.Wait()
	l2, err := state.Lock(dir, "k")
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	if err := l2.Release(); err != nil {
		t.Fatal(err)
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
