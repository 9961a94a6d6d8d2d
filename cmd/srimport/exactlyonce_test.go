package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/srimport/srimport/emulator"
)

// childEnv makes the test binary run as srimport (see TestMain).
const childEnv = "SRIMPORT_TEST_CHILD"

// child returns srimport as a process of its own, against baseURL.
func child(t *testing.T, baseURL string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "SRIMPORT_BASE_URL="+baseURL, "SRIMPORT_TOKEN=t")
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

// syncBuffer is a child's output, read while the child writes it.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed at the next write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return s.b.Write(p)
}

// next returns the output so far and a channel closed at the next write.
func (s *syncBuffer) next() (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.b.String(), s.changed
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exitStatus waits for cmd and returns its exit status.
func exitStatus(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// createGate wraps the emulator so that a test can wait for the n-th
// create the emulator has answered, without polling.
type createGate struct {
	em *emulator.Emulator
	mu sync.Mutex
	n  int
	at int
	ch chan struct{}
}

func (g *createGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.em.ServeHTTP(w, r)
	if r.Method != http.MethodPost {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	if g.ch != nil && g.n >= g.at {
		close(g.ch)
		g.ch = nil
	}
}

// after returns a channel closed once k more creates have been answered.
func (g *createGate) after(k int) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.at, g.ch = g.n+k, make(chan struct{})
	return g.ch
}

// readReport reads a CSV report.
func readReport(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[1:]
}

// checkOnce fails unless the emulator holds each of the input's n titles
// exactly once, and every created or skipped row of the report carries the
// id the emulator gave its title.
func checkOnce(t *testing.T, em *emulator.Emulator, report [][]string, n int) {
	t.Helper()
	byTitle := map[string][]string{}
	for _, sr := range em.ServiceRequests() {
		byTitle[sr.Title] = append(byTitle[sr.Title], sr.ID)
	}
	dups := 0
	for _, ids := range byTitle {
		dups += len(ids) - 1
	}
	if dups > 0 || len(byTitle) != n {
		t.Fatalf("the service holds %d requests for %d titles (%d duplicates); the input has %d rows", len(em.ServiceRequests()), len(byTitle), dups, n)
	}
	if len(report) != n {
		t.Fatalf("the report has %d rows, the input %d", len(report), n)
	}
	for _, r := range report {
		if r[1] != "created" && r[1] != "skipped" {
			t.Fatalf("row %s is %s: %s", r[0], r[1], r[4])
		}
		if ids := byTitle[r[7]]; len(ids) != 1 || ids[0] != r[2] {
			t.Fatalf("row %s: report id %q, the service has %v for %q", r[0], r[2], ids, r[7])
		}
	}
}

// TestCrashLoopExactlyOnce kills an import with SIGKILL at several random
// moments and runs the same command again each time, against a service
// that ignores MS-RequestId and loses some answers: in the end every row
// is created exactly once and the report is complete. After each kill the
// journal rebuilds a complete report of the killed run.
func TestCrashLoopExactlyOnce(t *testing.T) {
	em := emulator.New(emulator.Config{NoDedup: true, Latency: time.Millisecond, Seed: 11,
		Faults: emulator.Faults{ResetAfter: 0.02, Error500After: 0.02}})
	gate := &createGate{em: em}
	srv := httptest.NewServer(gate)
	defer srv.Close()
	dir := t.TempDir()
	in, state := filepath.Join(dir, "in.csv"), filepath.Join(dir, "state")
	const n = 2000
	writeBenchCSV(t, in, n)
	rng := rand.New(rand.NewPCG(5, 8))
	for kill := range 4 {
		cmd, out := child(t, srv.URL, "import", "--workers", "16", "--state-dir", state, in)
		reached := gate.after(20 + rng.IntN(300))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { defer close(exited); cmd.Wait() }()
		select {
		case <-reached:
			cmd.Process.Kill()
			<-exited
		case <-exited:
			t.Fatalf("kill %d: the import ended before it could be killed:\n%s", kill, out)
		}
		rebuilt := filepath.Join(dir, "rebuilt.csv")
		rc, rout := child(t, srv.URL, "report", "--state-dir", state, in, "-o", rebuilt)
		if err := rc.Run(); err != nil {
			t.Fatalf("report after kill %d: %v\n%s", kill, err, rout)
		}
		if got := len(readReport(t, rebuilt)); got != n {
			t.Fatalf("the report rebuilt after kill %d has %d rows, the input %d", kill, got, n)
		}
	}
	cmd, out := child(t, srv.URL, "import", "--workers", "16", "--state-dir", state, in)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd); code != exitOK {
		t.Fatalf("the last run exited %d:\n%s", code, out)
	}
	checkOnce(t, em, readReport(t, in+".report.csv"), n)
}

// TestSecondSignalCancelsInFlight: the first signal (SIGTERM) lets requests in
// flight finish (here they would take an hour: --grace is longer still);
// the second cancels them at once. Exit 130; the rows in flight are in
// doubt, and the next run settles them: nothing is created twice.
func TestSecondSignalCancelsInFlight(t *testing.T) {
	em := emulator.New(emulator.Config{NoDedup: true})
	slow := make(chan struct{})
	var once sync.Once
	gate := &createGate{em: em}
	holding := make(chan struct{}, 64)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && gate.count() >= 30 {
			// Hold the answer until the test lets go (or the client leaves);
			// the request has been created by then.
			em.ServeHTTP(&heldWriter{w: w, release: slow, ctx: r.Context().Done(), holding: holding}, r)
			return
		}
		gate.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	defer once.Do(func() { close(slow) })
	dir := t.TempDir()
	in, state := filepath.Join(dir, "in.csv"), filepath.Join(dir, "state")
	writeBenchCSV(t, in, 200)
	cmd, out := child(t, srv.URL, "import", "--workers", "4", "--grace", "1h", "--state-dir", state, in)
	reached := gate.after(30)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-reached
	<-holding // a created request's answer is held: it is in flight
	cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, out, "stopping")
	cmd.Process.Signal(os.Interrupt)
	if code := exitStatus(t, cmd); code != exitInterrupted {
		t.Fatalf("exit status %d, want %d:\n%s", code, exitInterrupted, out)
	}
	counts := map[string]int{}
	for _, r := range readReport(t, in+".report.csv") {
		counts[r[1]]++
	}
	if counts["unknown"] == 0 || counts["pending"] == 0 || counts["created"] < 30 {
		t.Fatalf("statuses %v: want the rows in flight unknown, the rest pending", counts)
	}
	once.Do(func() { close(slow) })
	again, out := child(t, srv.URL, "import", "--workers", "4", "--state-dir", state, in)
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, again); code != exitOK {
		t.Fatalf("the re-run exited %d:\n%s", code, out)
	}
	checkOnce(t, em, readReport(t, in+".report.csv"), 200)
}

func (g *createGate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// heldWriter holds a response until release closes or the client leaves.
type heldWriter struct {
	w       http.ResponseWriter
	release <-chan struct{}
	ctx     <-chan struct{}
	holding chan<- struct{}
	held    bool
}

func (h *heldWriter) Header() http.Header { return h.w.Header() }
func (h *heldWriter) hold() {
	if !h.held {
		h.held = true
		select {
		case h.holding <- struct{}{}:
		default:
		}
		select {
		case <-h.release:
		case <-h.ctx:
		}
	}
}
func (h *heldWriter) WriteHeader(code int)        { h.hold(); h.w.WriteHeader(code) }
func (h *heldWriter) Write(b []byte) (int, error) { h.hold(); return h.w.Write(b) }

// waitFor waits until out, a child's output, holds text.
func waitFor(t *testing.T, out *syncBuffer, text string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		got, changed := out.next()
		if strings.Contains(got, text) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no %q in the output:\n%s", text, got)
		}
	}
}

// TestServiceDownStopsTheRun: a service that refuses connections, and one
// that accepts them and never answers, stop the run within the
// --down-after window, not after rows × retries: exit 1 naming the URL;
// rows not sent are pending.
func TestServiceDownStopsTheRun(t *testing.T) {
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + refused.Addr().String()
	refused.Close()

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var conns sync.WaitGroup
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	silentURL := "http://" + silent.Addr().String()

	for _, tc := range []struct{ name, url string }{{"refused", refusedURL}, {"silent", silentURL}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in.csv")
			writeBenchCSV(t, in, 64)
			// 64 rows × 100 retries × up to 1 s would take hours.
			cmd, out := child(t, tc.url, "import", "--workers", "4", "--retries", "100", "--timeout", "500ms",
				"--down-after", "2s", "--state-dir", filepath.Join(dir, "state"), in)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
			defer timer.Stop()
			if code := exitStatus(t, cmd); code != exitFatal {
				t.Fatalf("exit status %d, want %d:\n%s", code, exitFatal, out)
			}
			if !strings.Contains(out.String(), tc.url) || !strings.Contains(out.String(), "not answering") {
				t.Errorf("the message does not name the URL and what failed:\n%s", out)
			}
			counts := map[string]int{}
			for _, r := range readReport(t, in+".report.csv") {
				counts[r[1]]++
			}
			if counts["pending"] == 0 || counts["created"] != 0 {
				t.Fatalf("statuses %v: want rows pending, none created", counts)
			}
		})
	}
}

// TestMaxDurationStops: --max-duration stops dispatch, lets the rows in
// flight finish and exits 6 with the rest pending; the same command again
// finishes the job without creating anything twice.
func TestMaxDurationStops(t *testing.T) {
	em := emulator.New(emulator.Config{NoDedup: true, Latency: 20 * time.Millisecond})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	in, state := filepath.Join(dir, "in.csv"), filepath.Join(dir, "state")
	const n = 400
	writeBenchCSV(t, in, n)
	// 400 rows × 20 ms over 2 workers take 4 s; stop after 1 s.
	cmd, out := child(t, srv.URL, "import", "--workers", "2", "--max-duration", "1s", "--state-dir", state, in)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd); code != exitStopped {
		t.Fatalf("exit status %d, want %d:\n%s", code, exitStopped, out)
	}
	counts := map[string]int{}
	for _, r := range readReport(t, in+".report.csv") {
		counts[r[1]]++
	}
	if counts["pending"] == 0 || counts["created"] == 0 || counts["unknown"] != 0 {
		t.Fatalf("statuses %v: want some created, the rest pending, none in doubt", counts)
	}
	again, out := child(t, srv.URL, "import", "--workers", "8", "--state-dir", state, in)
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, again); code != exitOK {
		t.Fatalf("the re-run exited %d:\n%s", code, out)
	}
	checkOnce(t, em, readReport(t, in+".report.csv"), n)
}

// TestMaxDurationBeforeTheFirstRow: a --max-duration that ends while the
// service is first asked (its topic list) still ends as a stop: exit 6, a
// report with every row pending, the run recorded; the re-run sends them.
func TestMaxDurationBeforeTheFirstRow(t *testing.T) {
	em := emulator.New(emulator.Config{Latency: 300 * time.Millisecond})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	in, state := filepath.Join(dir, "in.csv"), filepath.Join(dir, "state")
	const n = 5
	writeBenchCSV(t, in, n)
	cmd, out := child(t, srv.URL, "import", "--max-duration", "100ms", "--state-dir", state, in)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd); code != exitStopped {
		t.Fatalf("exit status %d, want %d:\n%s", code, exitStopped, out)
	}
	rows := readReport(t, in+".report.csv")
	for _, r := range rows {
		if r[1] != "pending" {
			t.Fatalf("row %s is %s, want pending", r[0], r[1])
		}
	}
	if len(rows) != n || em.Stats().Created != 0 {
		t.Fatalf("%d report rows, %d created; want %d and 0", len(rows), em.Stats().Created, n)
	}
	again, out := child(t, srv.URL, "import", "--state-dir", state, in)
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, again); code != exitOK {
		t.Fatalf("the re-run exited %d:\n%s", code, out)
	}
	checkOnce(t, em, readReport(t, in+".report.csv"), n)
}

// TestHungTokenCommandIsInterruptible: a --token-command that never ends
// gives way to SIGINT (exit 130), and one that fails shows its stderr
// (exit 4).
func TestHungTokenCommandIsInterruptible(t *testing.T) {
	dir := t.TempDir()
	in, fifo := filepath.Join(dir, "in.csv"), filepath.Join(dir, "started")
	writeBenchCSV(t, in, 3)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, out := child(t, "http://127.0.0.1:9", "import", "--state-dir", filepath.Join(dir, "state"),
		"--token-command", "echo started > "+fifo+"; exec sleep 1000", in)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Opening the FIFO waits for the token command to write to it.
	started, err := os.ReadFile(fifo)
	if err != nil || !strings.Contains(string(started), "started") {
		t.Fatalf("the token command did not start: %v %q", err, started)
	}
	cmd.Process.Signal(os.Interrupt)
	if code := exitStatus(t, cmd); code != exitInterrupted {
		t.Fatalf("exit status %d, want %d:\n%s", code, exitInterrupted, out)
	}

	cmd, out = child(t, "http://127.0.0.1:9", "import", "--state-dir", filepath.Join(dir, "state"),
		"--token-command", "echo 'login expired: sign in again' >&2; exit 3", in)
	if err := cmd.Run(); exitCodeOf(err) != exitAuth {
		t.Fatalf("exit %v, want %d:\n%s", err, exitAuth, out)
	}
	if !strings.Contains(out.String(), "login expired: sign in again") {
		t.Fatalf("the token command's stderr is not shown:\n%s", out)
	}
}

// exitCodeOf is the exit status of a finished command's error.
func exitCodeOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestOverlappingRunsAreLocked: while an import of a file into a target
// runs, a second one of the same file into the same target exits 1 at
// once, naming the first's pid.
func TestOverlappingRunsAreLocked(t *testing.T) {
	em := emulator.New(emulator.Config{})
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			select {
			case held <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		em.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(release)
	dir := t.TempDir()
	in, state := filepath.Join(dir, "in.csv"), filepath.Join(dir, "state")
	writeBenchCSV(t, in, 20)
	first, out1 := child(t, srv.URL, "import", "--workers", "1", "--state-dir", state, in)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { first.Process.Kill(); first.Wait() }()
	<-held // the first run is sending, so it holds the lock
	second, out2 := child(t, srv.URL, "import", "--state-dir", state, "--report", filepath.Join(dir, "second.csv"), in)
	if err := second.Run(); exitCodeOf(err) != exitFatal {
		t.Fatalf("second run: %v, want exit %d:\n%s\nfirst run:\n%s", err, exitFatal, out2, out1)
	}
	if !strings.Contains(out2.String(), "pid "+strconv.Itoa(first.Process.Pid)) {
		t.Fatalf("the message does not name the first run's pid %d:\n%s", first.Process.Pid, out2)
	}
}
