package importer_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/reports"
)

// checkExactlyOnce fails unless every title in titles exists exactly once
// on the service and the service holds nothing else; ids maps each title
// to the id a report gave it, which must be the service's.
func checkExactlyOnce(t *testing.T, em *emulator.Emulator, titles []string, ids map[string]string) {
	t.Helper()
	onService := map[string][]string{}
	for _, sr := range em.ServiceRequests() {
		onService[sr.Title] = append(onService[sr.Title], sr.ID)
	}
	dups := 0
	for title, got := range onService {
		if len(got) > 1 {
			dups += len(got) - 1
			t.Errorf("%q created %d times (%v)", title, len(got), got)
		}
	}
	if dups > 0 {
		t.Fatalf("%d duplicates on the service", dups)
	}
	for _, title := range titles {
		got := onService[title]
		if len(got) != 1 {
			t.Fatalf("%q is on the service %d times, want once", title, len(got))
		}
		if id, ok := ids[title]; ok && id != got[0] {
			t.Fatalf("%q: the report says %s, the service has %s", title, id, got[0])
		}
	}
	if len(onService) != len(titles) {
		t.Fatalf("the service holds %d distinct requests, the input %d", len(onService), len(titles))
	}
}

// TestChaosExactlyOnceWithoutDeduplication: a service that ignores
// MS-RequestId, with resets after commit, 500s after commit, truncated
// 201s, plain 500s and quota 429s: every row is created exactly once and
// the report's ids are the service's.
func TestChaosExactlyOnceWithoutDeduplication(t *testing.T) {
	const n = 2000
	s := newSetup(t, genCSV(n, nil), emulator.Config{
		Seed: 7, NoDedup: true, Quota: 3000, Burst: 50,
		Faults: emulator.Faults{ResetAfter: 0.05, Error500After: 0.05, Truncated201: 0.03, Error500Before: 0.05},
	}, client.Config{Workers: 32, Retries: 10, NoRetryAfterEffect: true})
	j := newMemJournal()
	sum, err := importer.Run(context.Background(), s.src, importer.Config{
		Workers: 32, Mapper: s.m, Creator: s.c, Lister: s.c, Sink: s.sink,
		Journal: j, RunID: j.forRun(), Reposts: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, s.sink.recs, n)
	st := s.em.Stats()
	if st.FaultsInjected < n/10 {
		t.Fatalf("only %d faults injected; the test did not exercise them: %+v", st.FaultsInjected, st)
	}
	if sum.Counts[reports.Created] != n {
		t.Fatalf("counts %v, want all %d created", sum.Counts, n)
	}
	if sum.Settled == 0 {
		t.Errorf("no row was settled by lookup; the faults after commit did not reach settlement")
	}
	titles := make([]string, 0, n)
	ids := map[string]string{}
	for _, r := range s.sink.recs {
		titles = append(titles, r.Input[0])
		ids[r.Input[0]] = r.ServiceRequestID
	}
	checkExactlyOnce(t, s.em, titles, ids)
	if got := s.em.Stats().Duplicates; got != 0 {
		t.Fatalf("the emulator counted %d duplicate MS-RequestIds", got)
	}
}

// TestInDoubtRetryDuplicatesWithoutDeduplication shows what settlement is
// for: re-posting at once on a service that ignores MS-RequestId creates
// duplicates.
func TestInDoubtRetryDuplicatesWithoutDeduplication(t *testing.T) {
	const n = 300
	s := newSetup(t, genCSV(n, nil), emulator.Config{Seed: 3, NoDedup: true, Faults: emulator.Faults{ResetAfter: 0.1}},
		client.Config{Workers: 8, Retries: 10})
	if _, err := importer.Run(context.Background(), s.src, importer.Config{Workers: 8, Mapper: s.m, Creator: s.c, Sink: s.sink, InDoubt: importer.Retry}); err != nil {
		t.Fatal(err)
	}
	if got := len(s.em.ServiceRequests()); got <= n {
		t.Fatalf("the service holds %d requests for %d rows; immediate retries should have duplicated some", got, n)
	}
}

// csvOf builds a CSV with the given titles, one row each.
func csvOf(titles ...string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"Title", "Description", "Severity", "SupportTopicId"})
	for _, title := range titles {
		w.Write([]string{title, "about " + title, "moderate", "32444671"})
	}
	w.Flush()
	return b.String()
}

func titlesN(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %d", prefix, i)
	}
	return out
}

// TestEditsBetweenRunsCreateOnlyNewRows: rows deleted, inserted at the top
// and reordered between runs against a service that ignores MS-RequestId:
// only the new rows are created; the others are skipped with their ids.
func TestEditsBetweenRunsCreateOnlyNewRows(t *testing.T) {
	first := titlesN("T", 60)
	s := newSetup(t, csvOf(first...), emulator.Config{NoDedup: true}, client.Config{Workers: 4})
	j := newMemJournal()
	run := func(titles []string) []reports.Record {
		return s.runWith(t, csvOf(titles...), importer.Config{Workers: 4, Journal: j, RunID: j.forRun(), Lister: s.c})
	}
	recs := run(first)
	ids := map[string]string{}
	for _, r := range recs {
		ids[r.Input[0]] = r.ServiceRequestID
	}
	// Delete ten rows, insert one at the top, reverse the rest.
	edited := append([]string{"New on top"}, first[10:]...)
	for i, k := 1, len(edited)-1; i < k; i, k = i+1, k-1 {
		edited[i], edited[k] = edited[k], edited[i]
	}
	recs = run(edited)
	created := 0
	for _, r := range recs {
		switch {
		case r.Input[0] == "New on top":
			if r.Status != reports.Created {
				t.Fatalf("the new row is %s (%s), want created", r.Status, r.Error)
			}
			created++
		case r.Status != reports.Skipped || r.ServiceRequestID != ids[r.Input[0]]:
			t.Fatalf("row %d %q: %s %s, want skipped with %s", r.Row, r.Input[0], r.Status, r.ServiceRequestID, ids[r.Input[0]])
		}
	}
	checkExactlyOnce(t, s.em, append(first, "New on top"), nil)
}

// TestIdenticalRowsAreTwoTickets: two identical rows in one file are two
// tickets, and a re-run creates neither again.
func TestIdenticalRowsAreTwoTickets(t *testing.T) {
	data := csvOf("Same", "Other", "Same")
	s := newSetup(t, data, emulator.Config{NoDedup: true}, client.Config{Workers: 2})
	j := newMemJournal()
	for range 2 {
		s.runWith(t, data, importer.Config{Workers: 2, Journal: j, RunID: j.forRun()})
	}
	count := map[string]int{}
	for _, sr := range s.em.ServiceRequests() {
		count[sr.Title]++
	}
	if count["Same"] != 2 || count["Other"] != 1 {
		t.Fatalf("service holds %v, want Same twice and Other once", count)
	}
}

// TestSameRowsInAnotherFileAreSkipped: the rows of one file found again in
// another are skipped, naming the run that created them; --force creates
// them again.
func TestSameRowsInAnotherFileAreSkipped(t *testing.T) {
	s := newSetup(t, csvOf("A", "B"), emulator.Config{NoDedup: true}, client.Config{Workers: 2})
	j := newMemJournal()
	s.runWith(t, csvOf("A", "B"), importer.Config{Journal: j, RunID: j.forRun()})
	recs := s.runWith(t, csvOf("C", "B"), importer.Config{Journal: j, RunID: j.forRun()})
	if recs[0].Status != reports.Created || recs[1].Status != reports.Skipped || !strings.Contains(recs[1].Error, "run 1") {
		t.Fatalf("second file: %+v, %+v; want C created, B skipped naming run 1", recs[0], recs[1])
	}
	recs = s.runWith(t, csvOf("B"), importer.Config{Journal: j, RunID: j.forRun(), Force: true})
	if recs[0].Status != reports.Created {
		t.Fatalf("--force: B is %s, want created", recs[0].Status)
	}
	if got := len(s.em.ServiceRequests()); got != 4 {
		t.Fatalf("service holds %d requests, want 4 (A, B, C, and B again by force)", got)
	}
}

// TestKeyIsTheIdentity: with a mapping key, an edited row keeps its
// identity (not created again), and a second row with the same key in one
// file stands for the first.
func TestKeyIsTheIdentity(t *testing.T) {
	spec, err := mapping.ParseSpec([]byte(`
fields: {title: "{{Title}}", description: "{{Description}}", severity: "{{Severity}}", supportTopicId: "32444671"}
key: "{{Ref}}"
`))
	if err != nil {
		t.Fatal(err)
	}
	s := newSetup(t, csvOf("unused"), emulator.Config{NoDedup: true}, client.Config{})
	j := newMemJournal()
	run := func(data string) []reports.Record {
		src, err := input.NewCSV(strings.NewReader(data), input.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := mapping.Compile(spec, src.Header(), mapping.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sink := &memSink{}
		if _, err := importer.Run(context.Background(), src, importer.Config{Mapper: m, Creator: s.c, Sink: sink, Journal: j, RunID: j.forRun()}); err != nil {
			t.Fatal(err)
		}
		return sink.recs
	}
	run("Ref,Title,Description,Severity\nR1,First,d,minimal\nR2,Second,d,minimal\nR1,First again,d,minimal\n")
	recs := run("Ref,Title,Description,Severity\nR2,Second (edited),d2,critical\nR3,Third,d,minimal\n")
	if recs[0].Status != reports.Skipped || recs[1].Status != reports.Created {
		t.Fatalf("second run: R2 %s, R3 %s; want skipped, created", recs[0].Status, recs[1].Status)
	}
	titles := map[string]bool{}
	for _, sr := range s.em.ServiceRequests() {
		titles[sr.Title] = true
	}
	if len(titles) != 3 || !titles["First"] || !titles["Second"] || !titles["Third"] {
		t.Fatalf("service holds %v, want First, Second, Third", titles)
	}
}

// failingLister cannot list the service's requests.
type failingLister struct{}

func (failingLister) ListAll(context.Context, func(*client.ServiceRequest) error) error {
	return errors.New("list: HTTP 503")
}

// TestUnlistableServiceLeavesRowsUnknownUntilTheNextRun: when the service
// cannot be listed, rows in doubt stay unknown (never re-posted blindly);
// the next run, able to list, settles them before sending anything: the
// service ends with every row exactly once.
func TestUnlistableServiceLeavesRowsUnknownUntilTheNextRun(t *testing.T) {
	const n = 200
	data := genCSV(n, nil)
	s := newSetup(t, data, emulator.Config{Seed: 9, NoDedup: true, Faults: emulator.Faults{ResetAfter: 0.2, Error500Before: 0.1}},
		client.Config{Workers: 8, NoRetryAfterEffect: true})
	j := newMemJournal()
	first := s.runWith(t, data, importer.Config{Workers: 8, Journal: j, RunID: j.forRun(), Lister: failingLister{}})
	unknown := 0
	for _, r := range first {
		if r.Status == reports.Unknown {
			unknown++
			if !strings.Contains(r.Error, "HTTP 503") {
				t.Fatalf("row %d is unknown without saying why the lookup failed: %s", r.Row, r.Error)
			}
		}
	}
	if unknown == 0 {
		t.Fatal("no row was in doubt; the faults did not reach the import")
	}
	if got := j.count(importer.StateUnknown); got != unknown {
		t.Fatalf("the journal holds %d unknown entries, the report %d", got, unknown)
	}
	// The faults go on; settlement finds what the first run created.
	second := s.runWith(t, data, importer.Config{Workers: 8, Journal: j, RunID: j.forRun(), Lister: s.c, Reposts: 10})
	ids := map[string]string{}
	var titles []string
	for _, r := range second {
		titles = append(titles, r.Input[0])
		if r.Status != reports.Created && r.Status != reports.Skipped {
			t.Fatalf("second run: row %d is %s: %s", r.Row, r.Status, r.Error)
		}
		ids[r.Input[0]] = r.ServiceRequestID
	}
	checkExactlyOnce(t, s.em, titles, ids)
}

// countingObserver counts what it hears.
type countingObserver struct {
	mu      sync.Mutex
	sending int
	done    map[reports.Status]int
}

func (o *countingObserver) Sending(int) { o.mu.Lock(); o.sending++; o.mu.Unlock() }
func (o *countingObserver) Done(r reports.Record) {
	o.mu.Lock()
	o.done[r.Status]++
	o.mu.Unlock()
}

// TestObserverHearsEveryRow: the observer hears of every row once, and of
// every post.
func TestObserverHearsEveryRow(t *testing.T) {
	bad := map[int]bool{4: true}
	data := genCSV(50, bad)
	s := newSetup(t, data, emulator.Config{}, client.Config{Workers: 4})
	o := &countingObserver{done: map[reports.Status]int{}}
	s.runWith(t, data, importer.Config{Workers: 4, Observer: o})
	if o.done[reports.Created] != 49 || o.done[reports.Invalid] != 1 || o.sending != 49 {
		t.Fatalf("observer heard %d posts and %v, want 49 posts, 49 created, 1 invalid", o.sending, o.done)
	}
}

// TestFullDiskLosesNoId: when the report cannot be written (a full disk),
// the run stops, and every request the service created is in the journal
// with its id, to rebuild the report from.
func TestFullDiskLosesNoId(t *testing.T) {
	const n = 500
	data := genCSV(n, nil)
	s := newSetup(t, data, emulator.Config{NoDedup: true}, client.Config{Workers: 8})
	s.sink.failAt = 20
	j := newMemJournal()
	_, err := importer.Run(context.Background(), s.src, importer.Config{Workers: 8, Mapper: s.m, Creator: s.c, Sink: s.sink, Journal: j, RunID: j.forRun()})
	if !errors.Is(err, importer.ErrReport) {
		t.Fatalf("error %v, want ErrReport", err)
	}
	onService := s.em.ServiceRequests()
	if len(onService) == 0 || len(onService) == n {
		t.Fatalf("the service holds %d requests; the test wants the run stopped midway", len(onService))
	}
	journalled := map[string]bool{}
	j.mu.Lock()
	for _, e := range j.items {
		if e.State == importer.StateCreated {
			journalled[e.ServiceRequestID] = true
		}
	}
	j.mu.Unlock()
	for _, sr := range onService {
		if !journalled[sr.ID] {
			t.Fatalf("request %s (%q) was created but the journal does not hold its id", sr.ID, sr.Title)
		}
	}
}
