package importer_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/reports"
)

// genCSV returns a CSV of n valid rows; every row whose number is in bad
// has a severity no one knows.
func genCSV(n int, bad map[int]bool) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"Title", "Description", "Severity", "SupportTopicId", "Notes"})
	sev := []string{"critical", "moderate", "minimal"}
	for i := 0; i < n; i++ {
		row := i + 2
		s := sev[i%3]
		if bad[row] {
			s = "urgent"
		}
		w.Write([]string{
			fmt.Sprintf("Ticket %d, imported", row),
			fmt.Sprintf("Line one of %d\nline \"two\" — ünïcode", row),
			s, "32444671", "note " + strconv.Itoa(row),
		})
	}
	w.Flush()
	return b.String()
}

// memSink collects records, in the order written.
type memSink struct {
	mu      sync.Mutex
	recs    []reports.Record
	flushes int
	failAt  int // Write fails from this record on (0 = never)
}

func (s *memSink) Write(r reports.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAt > 0 && len(s.recs)+1 >= s.failAt {
		return errors.New("disk full")
	}
	s.recs = append(s.recs, r)
	return nil
}
func (s *memSink) Flush() error { s.mu.Lock(); s.flushes++; s.mu.Unlock(); return nil }
func (s *memSink) Close() error { return nil }

type setup struct {
	em   *emulator.Emulator
	c    *client.Client
	src  input.Reader
	m    *mapping.Mapper
	sink *memSink
}

func newSetup(t *testing.T, data string, ecfg emulator.Config, ccfg client.Config) *setup {
	t.Helper()
	em := emulator.New(ecfg)
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	ccfg.BaseURL = srv.URL
	if ccfg.Token == nil {
		ccfg.Token = client.StaticToken("test-token")
	}
	if ccfg.Retries == 0 {
		ccfg.Retries = 5
	}
	if ccfg.RetryWaitMin == 0 {
		ccfg.RetryWaitMin, ccfg.RetryWaitMax = time.Millisecond, 5*time.Millisecond
	}
	c, err := client.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	src, m := openCSV(t, data)
	return &setup{em: em, c: c, src: src, m: m, sink: &memSink{}}
}

// openCSV reads data as a CSV input with headers matched to fields.
func openCSV(t testing.TB, data string) (input.Reader, *mapping.Mapper) {
	t.Helper()
	src, err := input.NewCSV(strings.NewReader(data), input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Auto(src.Header(), mapping.Options{File: "t.csv"})
	if err != nil {
		t.Fatal(err)
	}
	return src, m
}

func (s *setup) run(ctx context.Context, workers int) (importer.Summary, error) {
	return importer.Run(ctx, s.src, importer.Config{Workers: workers, Mapper: s.m, Creator: s.c, Sink: s.sink})
}

// runWith imports data with cfg (Mapper, Creator and Sink filled in) and
// returns the report.
func (s *setup) runWith(t *testing.T, data string, cfg importer.Config) []reports.Record {
	t.Helper()
	src, m := openCSV(t, data)
	sink := &memSink{}
	cfg.Mapper, cfg.Sink = m, sink
	if cfg.Creator == nil {
		cfg.Creator = s.c
	}
	if _, err := importer.Run(context.Background(), src, cfg); err != nil {
		t.Fatal(err)
	}
	return sink.recs
}

// checkAccounted fails unless the report holds rows 2..n+1 exactly once,
// in input order.
func checkAccounted(t *testing.T, recs []reports.Record, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("report has %d rows, input has %d", len(recs), n)
	}
	for i, r := range recs {
		if r.Row != i+2 {
			t.Fatalf("report line %d is row %d, want row %d (input order)", i, r.Row, i+2)
		}
		if r.Input[0] != fmt.Sprintf("Ticket %d, imported", r.Row) {
			t.Fatalf("row %d carries the input of another row: %q", r.Row, r.Input[0])
		}
	}
}

// TestOrderWithManyWorkersAndLatency: 32 workers and random latency finish
// rows out of order; the report is still in input order and complete.
func TestOrderWithManyWorkersAndLatency(t *testing.T) {
	const n = 400
	bad := map[int]bool{5: true, 77: true, 301: true}
	s := newSetup(t, genCSV(n, bad), emulator.Config{Jitter: 4 * time.Millisecond, Seed: 1}, client.Config{Workers: 32})
	sum, err := s.run(context.Background(), 32)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, s.sink.recs, n)
	if got := sum.Counts[reports.Created]; got != n-len(bad) {
		t.Errorf("created %d, want %d", got, n-len(bad))
	}
	for _, r := range s.sink.recs {
		want := reports.Created
		if bad[r.Row] {
			want = reports.Invalid
		}
		if r.Status != want {
			t.Errorf("row %d: status %s, want %s (%s)", r.Row, r.Status, want, r.Error)
		}
	}
	if st := s.em.Stats(); st.MaxInFlight < 2 {
		t.Errorf("emulator saw at most %d requests at once; the pool did not run concurrently", st.MaxInFlight)
	}
}

// TestFaultsNoDuplicatesNoLoss: with resets after commit, 500s and quota
// throttling, every row is reported, the service holds no duplicate, and
// the created rows of the report are exactly the service's requests.
func TestFaultsNoDuplicatesNoLoss(t *testing.T) {
	const n = 300
	s := newSetup(t, genCSV(n, nil), emulator.Config{
		Seed:  42,
		Quota: 200, Burst: 5,
		Faults: emulator.Faults{ResetAfter: 0.05, Error500Before: 0.05, Error500After: 0.02, Truncated201: 0.02},
	}, client.Config{Workers: 16, Retries: 12, Rate: 260}) // just above the quota: some 429s, not a storm of 1 s waits
	sum, err := s.run(context.Background(), 16)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, s.sink.recs, n)
	st := s.em.Stats()
	if st.FaultsInjected == 0 || st.Throttled == 0 {
		t.Fatalf("the test did not exercise faults and throttling: %+v", st)
	}
	if sum.Counts[reports.Created] != n {
		t.Fatalf("counts %v, want all %d created", sum.Counts, n)
	}
	srs := s.em.ServiceRequests()
	if len(srs) != n {
		t.Fatalf("service holds %d requests for %d rows", len(srs), n)
	}
	byID := map[string]client.ServiceRequest{}
	titles := map[string]bool{}
	for _, sr := range srs {
		if titles[sr.Title] {
			t.Fatalf("duplicate on the service: %q", sr.Title)
		}
		titles[sr.Title] = true
		byID[sr.ID] = sr
	}
	reqIDs := s.em.RequestIDs()
	retried := 0
	for _, r := range s.sink.recs {
		sr, ok := byID[r.ServiceRequestID]
		if !ok {
			t.Fatalf("row %d reports id %q the service does not have", r.Row, r.ServiceRequestID)
		}
		if sr.Title != r.Input[0] {
			t.Fatalf("row %d reports id %s, which is %q on the service", r.Row, sr.ID, sr.Title)
		}
		if reqIDs[sr.ID] != r.RequestID {
			t.Fatalf("row %d: report says MS-RequestId %s, service created it with %s", r.Row, r.RequestID, reqIDs[sr.ID])
		}
		if r.Attempts > 1 {
			retried++
		}
	}
	if retried == 0 {
		t.Error("no row needed a retry; the faults did not reach the client")
	}
}

// TestRerunSkipsWhatWasCreated: importing the same rows again through the
// same journal sends nothing: every row is skipped with the id and
// MS-RequestId of the first run.
func TestRerunSkipsWhatWasCreated(t *testing.T) {
	data := genCSV(20, nil)
	s := newSetup(t, data, emulator.Config{NoDedup: true}, client.Config{Workers: 4})
	j := newMemJournal()
	first := s.runWith(t, data, importer.Config{Workers: 4, Journal: j, RunID: j.forRun()})
	second := s.runWith(t, data, importer.Config{Workers: 4, Journal: j, RunID: j.forRun()})
	if got := len(s.em.ServiceRequests()); got != 20 {
		t.Fatalf("service holds %d requests after two runs of 20 rows", got)
	}
	for i := range first {
		if first[i].Status != reports.Created || second[i].Status != reports.Skipped {
			t.Fatalf("row %d: %s then %s, want created then skipped", first[i].Row, first[i].Status, second[i].Status)
		}
		if first[i].ServiceRequestID != second[i].ServiceRequestID || first[i].RequestID != second[i].RequestID {
			t.Fatalf("row %d: first run %s/%s, second %s/%s", first[i].Row, first[i].ServiceRequestID, first[i].RequestID,
				second[i].ServiceRequestID, second[i].RequestID)
		}
	}
}

// TestBadCredentialsStopTheRun: a 401 is systemic: the run stops, returns
// an auth error, and still reports every row.
func TestBadCredentialsStopTheRun(t *testing.T) {
	const n = 200
	s := newSetup(t, genCSV(n, nil), emulator.Config{Token: "right"}, client.Config{Workers: 4, Token: client.StaticToken("wrong")})
	sum, err := s.run(context.Background(), 4)
	if client.ClassOf(err) != client.ClassAuth {
		t.Fatalf("error %v (class %q), want an auth error", err, client.ClassOf(err))
	}
	checkAccounted(t, s.sink.recs, n)
	if sum.Counts[reports.Created] != 0 || sum.Counts[reports.Failed] == 0 || sum.Counts[reports.Pending] == 0 {
		t.Fatalf("counts %v: want some failed (auth), the rest pending, none created", sum.Counts)
	}
	if sent := s.em.Stats().Requests; sent > 20 {
		t.Errorf("%d requests sent after the credentials were refused; dispatch did not stop", sent)
	}
	for _, r := range s.sink.recs {
		if strings.Contains(r.Error, "wrong") {
			t.Fatalf("row %d's error shows the token: %q", r.Row, r.Error)
		}
	}
}

// TestUnwritableReportStopsTheRun: a report write failure is systemic.
func TestUnwritableReportStopsTheRun(t *testing.T) {
	s := newSetup(t, genCSV(500, nil), emulator.Config{}, client.Config{Workers: 4})
	s.sink.failAt = 10
	_, err := s.run(context.Background(), 4)
	if !errors.Is(err, importer.ErrReport) {
		t.Fatalf("error %v, want ErrReport", err)
	}
	if got := len(s.em.ServiceRequests()); got > 9+4*64+4 {
		t.Errorf("%d requests created after the report failed", got)
	}
}

// TestInterruptAccountsForEveryRow: cancelling the context stops the run
// with context.Canceled; rows are created, unknown or pending, never lost.
func TestInterruptAccountsForEveryRow(t *testing.T) {
	const n = 300
	s := newSetup(t, genCSV(n, nil), emulator.Config{Latency: 2 * time.Millisecond}, client.Config{Workers: 8})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for s.em.Stats().Created < 40 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	sum, err := s.run(ctx, 8)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	checkAccounted(t, s.sink.recs, n)
	if sum.Counts[reports.Pending] == 0 {
		t.Fatalf("counts %v: want rows left pending", sum.Counts)
	}
	created := map[string]bool{}
	for _, sr := range s.em.ServiceRequests() {
		created[sr.Title] = true
	}
	for _, r := range s.sink.recs {
		switch r.Status {
		case reports.Created:
			if !created[r.Input[0]] {
				t.Errorf("row %d reported created but the service does not have it", r.Row)
			}
		case reports.Pending:
			if created[r.Input[0]] {
				t.Errorf("row %d reported pending but the service created it", r.Row)
			}
		case reports.Unknown:
		default:
			t.Errorf("row %d: unexpected status %s", r.Row, r.Status)
		}
	}
}

// TestValidateSendsNothing: without a Creator nothing is sent, valid rows
// are reported valid and failures are counted per rule.
func TestValidateSendsNothing(t *testing.T) {
	bad := map[int]bool{3: true, 9: true}
	s := newSetup(t, genCSV(10, bad), emulator.Config{}, client.Config{})
	sum, err := importer.Run(context.Background(), s.src, importer.Config{Mapper: s.m, Sink: s.sink})
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, s.sink.recs, 10)
	if sum.Counts[reports.Valid] != 8 || sum.Counts[reports.Invalid] != 2 {
		t.Fatalf("counts %v", sum.Counts)
	}
	total := 0
	for rule, c := range sum.Rules {
		if !strings.HasPrefix(rule, "severity") {
			t.Errorf("unexpected rule %q", rule)
		}
		total += c
	}
	if total != 2 {
		t.Errorf("rules %v, want 2 severity failures", sum.Rules)
	}
	if st := s.em.Stats(); st.Requests != 0 {
		t.Fatalf("validate sent %d requests", st.Requests)
	}
}
