package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/srimport/srimport/emulator"
	"github.com/srimport/srimport/progress"
)

// watchRun is one in-process run of the command against a test server.
type watchRun struct {
	code           int
	stdout, stderr string
}

// runWatched runs srimport with args against baseURL, with its state in dir.
func runWatched(t *testing.T, baseURL, dir string, stderr io.Writer, args ...string) watchRun {
	t.Helper()
	getenv := func(k string) string {
		return map[string]string{
			"SRIMPORT_BASE_URL": baseURL, "SRIMPORT_TOKEN": "watch-secret-token",
			"SRIMPORT_STATE_DIR": filepath.Join(dir, "state"),
		}[k]
	}
	var out, errBuf bytes.Buffer
	w := io.Writer(&errBuf)
	if stderr != nil {
		w = io.MultiWriter(&errBuf, stderr)
	}
	code := run(args, stdio{in: bytes.NewReader(nil), out: &out, err: w}, getenv)
	return watchRun{code, out.String(), errBuf.String()}
}

// writeTicketsCSV writes n valid rows, plus invalid ones (no title) at the
// given indexes.
func writeTicketsCSV(t *testing.T, path string, n int, invalid ...int) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"Title", "Description", "Severity", "SupportTopicId"})
	bad := map[int]bool{}
	for _, i := range invalid {
		bad[i] = true
	}
	for i := range n {
		title := fmt.Sprintf("#%d reserved instance not applied", i)
		if bad[i] {
			title = ""
		}
		_ = w.Write([]string{title, "usage is still billed pay-as-you-go\nsince March", "moderate", "32451178"})
	}
	w.Flush()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runSummary is the part of --summary's JSON the tests read.
type runSummary struct {
	ExitCode      int              `json:"exitCode"`
	Seconds       float64          `json:"seconds"`
	RowsPerSecond float64          `json:"rowsPerSecond"`
	Rows          int              `json:"rows"`
	Counts        map[string]int   `json:"counts"`
	WallSeconds   float64          `json:"wallSeconds"`
	ErrorClasses  map[string]int64 `json:"errorClasses"`
	RowsSent      int64            `json:"rowsSent"`
	Attempts      int64            `json:"attempts"`
	Retries       int64            `json:"retries"`
	Requests      int64            `json:"requests"`
	Throttled     int64            `json:"throttled"`
	Latency       struct {
		Count int64   `json:"count"`
		P50   float64 `json:"p50Ms"`
		P95   float64 `json:"p95Ms"`
		P99   float64 `json:"p99Ms"`
	} `json:"latency"`
	RateLimit *progress.RateRange `json:"rateLimit"`
}

func readSummary(t *testing.T, path string) (runSummary, map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s runSummary
	var all map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	return s, all
}

// reportTotals are the totals of a report's columns.
type reportTotals struct {
	status   map[string]int
	classes  map[string]int64
	sent     int64 // rows with attempts
	attempts int64
	retries  int64
}

func readReportTotals(t *testing.T, path string) reportTotals {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	tot := reportTotals{status: map[string]int{}, classes: map[string]int64{}}
	for _, r := range recs[1:] {
		tot.status[r[1]]++
		if r[3] != "" {
			tot.classes[r[3]]++
		}
		n, err := strconv.Atoi(r[5])
		if err != nil {
			t.Fatalf("attempts %q: %v", r[5], err)
		}
		if n > 0 {
			tot.sent++
			tot.attempts += int64(n)
			tot.retries += int64(n - 1)
		}
	}
	return tot
}

func readMetrics(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return fams
}

// metric is the value of a metric without labels, or of the one whose
// label name has the value given.
func metric(t *testing.T, fams map[string]*dto.MetricFamily, name string, label ...string) float64 {
	t.Helper()
	fam, ok := fams[name]
	if !ok {
		t.Fatalf("metrics file has no %s", name)
	}
	for _, m := range fam.GetMetric() {
		if len(label) == 2 {
			match := false
			for _, l := range m.GetLabel() {
				match = match || l.GetName() == label[0] && l.GetValue() == label[1]
			}
			if !match {
				continue
			}
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("metrics file has no %s%v", name, label)
	return 0
}

// TestSummaryAndMetricsUnderQuota imports into an emulator whose quota
// forces 429s: the summary's new figures agree with the report and with
// what the emulator saw, and the metrics file with both.
func TestSummaryAndMetricsUnderQuota(t *testing.T) {
	em := emulator.New(emulator.Config{Quota: 40, Burst: 4})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	in, report := filepath.Join(dir, "in.csv"), filepath.Join(dir, "r.csv")
	summary, metrics := filepath.Join(dir, "s.json"), filepath.Join(dir, "m.prom")
	writeTicketsCSV(t, in, 60, 7)

	r := runWatched(t, srv.URL, dir, nil, "import", "--workers", "8", "--rate", "60", "--retries", "20",
		"--report", report, "--summary", summary, "--metrics-file", metrics, in)
	if r.code != exitRowsFailed {
		t.Fatalf("exit %d, want %d (one invalid row)\nstderr:\n%s", r.code, exitRowsFailed, r.stderr)
	}
	s, all := readSummary(t, summary)
	tot := readReportTotals(t, report)
	stats := em.Stats()

	for _, key := range []string{"input", "report", "exitCode", "seconds", "rowsPerSecond", "rows", "counts", "ghostRows", "started", "finished"} {
		if _, ok := all[key]; !ok {
			t.Errorf("summary lost its field %q", key)
		}
	}
	if s.Throttled == 0 || s.Throttled != stats.Throttled {
		t.Errorf("summary throttled %d, emulator answered 429 %d times: want them equal and not 0", s.Throttled, stats.Throttled)
	}
	if s.Requests != stats.Requests {
		t.Errorf("summary requests %d, emulator saw %d", s.Requests, stats.Requests)
	}
	if s.Latency.Count != s.Requests || !(0 < s.Latency.P50 && s.Latency.P50 <= s.Latency.P95 && s.Latency.P95 <= s.Latency.P99) {
		t.Errorf("latency %+v over %d requests: want a count of every request and rising percentiles", s.Latency, s.Requests)
	}
	if s.RowsSent != tot.sent || s.Attempts != tot.attempts || s.Retries != tot.retries {
		t.Errorf("summary sent %d rows in %d attempts, %d retries; the report %d, %d, %d",
			s.RowsSent, s.Attempts, s.Retries, tot.sent, tot.attempts, tot.retries)
	}
	if s.Attempts+1 > s.Requests { // the topic list is a request too
		t.Errorf("%d create attempts and %d requests: the requests include the creates and the topic list", s.Attempts, s.Requests)
	}
	if len(s.ErrorClasses) != len(tot.classes) {
		t.Errorf("error classes %v, the report's %v", s.ErrorClasses, tot.classes)
	}
	for c, n := range tot.classes {
		if s.ErrorClasses[c] != n {
			t.Errorf("error class %s: summary %d, report %d", c, s.ErrorClasses[c], n)
		}
	}
	if rl := s.RateLimit; rl == nil || rl.Min <= 0 || rl.Min > rl.Max || rl.Max > 60 || rl.Final < rl.Min || rl.Final > rl.Max {
		t.Errorf("rateLimit %+v: want 0 < min <= final <= max <= --rate 60", rl)
	}
	if want := float64(s.RowsSent) / s.Seconds; math.Abs(s.RowsPerSecond-want) > 1e-6*want {
		t.Errorf("rowsPerSecond %v, want rows sent / seconds = %v", s.RowsPerSecond, want)
	}
	if s.WallSeconds < s.Seconds {
		t.Errorf("wallSeconds %v < seconds %v", s.WallSeconds, s.Seconds)
	}

	fams := readMetrics(t, metrics)
	for _, st := range []string{"created", "invalid", "failed", "unknown", "skipped", "pending"} {
		if got, want := metric(t, fams, "srimport_rows_total", "status", st), float64(tot.status[st]); got != want {
			t.Errorf("srimport_rows_total{status=%q} = %v, the report has %v", st, got, want)
		}
	}
	for name, want := range map[string]float64{
		"srimport_requests_total":           float64(s.Requests),
		"srimport_throttled_requests_total": float64(s.Throttled),
		"srimport_retries_total":            float64(s.Retries),
		"srimport_last_run_exit_code":       float64(r.code),
	} {
		if got := metric(t, fams, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if d := metric(t, fams, "srimport_run_duration_seconds"); d < s.Seconds {
		t.Errorf("srimport_run_duration_seconds %v < the import's %v s", d, s.Seconds)
	}
	if _, ok := fams[progress.LastSuccessMetric]; ok {
		t.Errorf("%s set, and no run has exited 0", progress.LastSuccessMetric)
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("sent %d rows in %d requests (%d retries, %d answered 429)", s.RowsSent, s.Requests, s.Retries, s.Throttled)) {
		t.Errorf("stdout:\n%s\nwant the requests line", r.stdout)
	}
}

// TestRowsPerSecondOverSentRows stops a run with --max-duration: the rows
// left pending are not in rowsPerSecond.
func TestRowsPerSecondOverSentRows(t *testing.T) {
	em := emulator.New(emulator.Config{Latency: 10 * time.Millisecond})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	in, report, summary := filepath.Join(dir, "in.csv"), filepath.Join(dir, "r.csv"), filepath.Join(dir, "s.json")
	writeTicketsCSV(t, in, 3000)

	r := runWatched(t, srv.URL, dir, nil, "import", "--workers", "2", "--max-duration", "300ms",
		"--report", report, "--summary", summary, in)
	if r.code != exitStopped {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, exitStopped, r.stderr)
	}
	s, _ := readSummary(t, summary)
	tot := readReportTotals(t, report)
	if s.Counts["pending"] == 0 || s.RowsSent == 0 || s.RowsSent != tot.sent {
		t.Fatalf("counts %v, %d rows sent, the report %d: want rows sent and rows pending", s.Counts, s.RowsSent, tot.sent)
	}
	if want := float64(s.RowsSent) / s.Seconds; math.Abs(s.RowsPerSecond-want) > 1e-6*want {
		t.Errorf("rowsPerSecond %v, want rows sent / seconds = %d / %v = %v", s.RowsPerSecond, s.RowsSent, s.Seconds, want)
	}
	if all := float64(s.Rows) / s.Seconds; s.RowsPerSecond >= all {
		t.Errorf("rowsPerSecond %v counts pending rows (all rows / seconds = %v)", s.RowsPerSecond, all)
	}
}

// TestMetricsKeepLastSuccess runs the same import three times: a
// success, a run with an invalid row, a run that cannot read its input.
// The failing runs keep the success's time.
func TestMetricsKeepLastSuccess(t *testing.T) {
	em := emulator.New(emulator.Config{})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	good, bad, metrics := filepath.Join(dir, "good.csv"), filepath.Join(dir, "bad.csv"), filepath.Join(dir, "m.prom")
	writeTicketsCSV(t, good, 3)
	writeTicketsCSV(t, bad, 3, 1)

	before := time.Now()
	if r := runWatched(t, srv.URL, dir, nil, "import", "--metrics-file", metrics, good); r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	last := metric(t, readMetrics(t, metrics), progress.LastSuccessMetric)
	if last < float64(before.Unix()) || last > float64(time.Now().Unix()+1) {
		t.Fatalf("last success %v, want the run's end (after %v)", last, before.Unix())
	}
	for _, c := range []struct {
		file string
		code int
	}{{bad, exitRowsFailed}, {filepath.Join(dir, "missing.csv"), exitFatal}} {
		if r := runWatched(t, srv.URL, dir, nil, "import", "--metrics-file", metrics, c.file); r.code != c.code {
			t.Fatalf("%s: exit %d, want %d\n%s", c.file, r.code, c.code, r.stderr)
		}
		fams := readMetrics(t, metrics)
		if got := metric(t, fams, "srimport_last_run_exit_code"); got != float64(c.code) {
			t.Errorf("%s: last exit code %v, want %d", c.file, got, c.code)
		}
		if got := metric(t, fams, progress.LastSuccessMetric); got != last {
			t.Errorf("%s: last success %v, want the successful run's %v", c.file, got, last)
		}
	}
}

// TestLogFormatJSON logs a run with -v --log-format json: every line is a
// JSON object, each row's decisions name it, and the token appears nowhere.
func TestLogFormatJSON(t *testing.T) {
	em := emulator.New(emulator.Config{})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	writeTicketsCSV(t, in, 5, 2)

	r := runWatched(t, srv.URL, dir, nil, "import", "-v", "--log-format", "json", "--progress-every", "0", in)
	if r.code != exitRowsFailed {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	done := map[float64]string{}
	sending := 0
	sc := bufio.NewScanner(strings.NewReader(r.stderr))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("a log line that is not JSON: %q: %v", sc.Text(), err)
		}
		switch rec["msg"] {
		case "sending":
			if _, ok := rec["row"].(float64); !ok {
				t.Errorf("%q: no row", sc.Text())
			}
			sending++
		case "done":
			row, ok := rec["row"].(float64)
			if !ok {
				t.Errorf("%q: no row", sc.Text())
			}
			done[row], _ = rec["status"].(string)
		}
	}
	want := map[float64]string{2: "created", 3: "created", 4: "invalid", 5: "created", 6: "created"}
	if len(done) != len(want) || sending != 4 {
		t.Errorf("logged %d rows sent and rows done %v; want 4 sent and %v", sending, done, want)
	}
	for row, st := range want {
		if done[row] != st {
			t.Errorf("row %v logged %q, want %q", row, done[row], st)
		}
	}
	if strings.Contains(r.stderr, "watch-secret-token") || strings.Contains(r.stdout, "watch-secret-token") {
		t.Error("the token is in the output")
	}
}

// signalWriter is stderr for a test that waits for a line matching re.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	re   *regexp.Regexp
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.re.Match(w.buf.Bytes()) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// TestStatusLineOffTerminal holds every create until a status line has
// been printed on stderr (not a terminal), then lets the run finish.
func TestStatusLineOffTerminal(t *testing.T) {
	em := emulator.New(emulator.Config{})
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		em.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	writeTicketsCSV(t, in, 3)

	line := regexp.MustCompile(`(?m)^srimport: 0(/3)? rows( \(0%\))?, 0\.0 rows/s; created 0, failed 0, in doubt 0, retries 0, 429s 0$`)
	stderr := &signalWriter{re: line, seen: make(chan struct{})}
	result := make(chan watchRun, 1)
	go func() {
		result <- runWatched(t, srv.URL, dir, stderr, "import", "--workers", "1", "--progress-every", "20ms", in)
	}()
	select {
	case <-stderr.seen:
	case r := <-result:
		t.Fatalf("the run ended (exit %d) before a status line:\n%s", r.code, r.stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("no status line in 30s")
	}
	once.Do(func() { close(release) })
	r := <-result
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "imported 3 rows: 3 created") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

// TestPauseNotice shows a Retry-After hold to the user, and nothing with
// --quiet.
func TestPauseNotice(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		var errBuf bytes.Buffer
		o := &importOptions{}
		o.quiet = quiet
		w := newWatch(stdio{err: &errBuf}, o)
		w.paused(30 * time.Second)
		want := "srimport: service asked to wait 30s (Retry-After)\n"
		if quiet {
			want = ""
		}
		if got := errBuf.String(); got != want {
			t.Errorf("quiet %v: %q, want %q", quiet, got, want)
		}
		if n := w.stats.Snapshot().Pauses; n != 1 {
			t.Errorf("quiet %v: %d pauses counted, want 1", quiet, n)
		}
	}
}

// TestWatchStopsWithoutStart: a run that fails before it starts sending
// stops its watch all the same.
func TestWatchStopsWithoutStart(t *testing.T) {
	w := newWatch(stdio{err: io.Discard}, &importOptions{})
	w.stop()
	w = newWatch(stdio{err: io.Discard}, &importOptions{})
	w.start(context.Background(), "no-such-file.csv", func() float64 { return 0 })
	w.stop()
}

// TestWorkersAdvice imports with one worker against a 50 ms service under
// --rate 200: one worker reaches about 20 requests/s, and stderr says how
// many would reach 200.
func TestWorkersAdvice(t *testing.T) {
	em := emulator.New(emulator.Config{Latency: 50 * time.Millisecond})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	// 150 rows take at least 7.5 s at 50 ms each: longer than the advice's
	// wait of a few seconds of a binding limit.
	writeTicketsCSV(t, in, 150)
	r := runWatched(t, srv.URL, dir, nil, "import", "--workers", "1", "--rate", "200", "--progress-every", "0", in)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	re := regexp.MustCompile(`(?m)^srimport: --workers 1 reach about (\d+) requests/s at (\d+) ms latency; --rate 200 needs --workers >= (\d+)$`)
	m := re.FindAllStringSubmatch(r.stderr, -1)
	if len(m) != 1 {
		t.Fatalf("stderr:\n%s\nwant the --workers advice once", r.stderr)
	}
	reach, _ := strconv.Atoi(m[0][1])
	lat, _ := strconv.Atoi(m[0][2])
	need, _ := strconv.Atoi(m[0][3])
	if lat < 50 || reach > 20 || need < 13 {
		t.Errorf("advice %q: want a latency of 50 ms or more, about 20 requests/s at most, 13 workers or more", m[0][0])
	}
}
