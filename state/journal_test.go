package state_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
	"github.com/srimport/srimport/state"
)

func logPath(dir string, runID int64) string {
	return filepath.Join(dir, "journal", fmt.Sprintf("%d.log", runID))
}

// TestLogFile: while a run is open its writes are in its log, a private
// file, and not in the database; Close ingests them and removes the log.
func TestLogFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	r := begin(t, s, "tgt")
	if err := r.Write(ctx, rowEntry(0, "a", importer.StateSending, reports.Pending), true); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(logPath(dir, r.ID()))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Fatalf("the log is %v, %d bytes; want 0600 and not empty", fi.Mode(), fi.Size())
	}
	if rows := collectRows(t, s, r.ID()); len(rows) != 0 {
		t.Fatalf("Rows of the open run = %+v", rows)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(logPath(dir, r.ID())); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the log is still there after Close: %v", err)
	}
	if rows := collectRows(t, s, r.ID()); len(rows) != 1 {
		t.Fatalf("Rows after Close = %+v", rows)
	}
}

// TestLiveLogNotIngested: a second Store opening the directory leaves the
// log of a run still open alone (its writer holds it locked).
func TestLiveLogNotIngested(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s1 := openStore(t, dir)
	r := begin(t, s1, "tgt")
	e := rowEntry(0, "a", importer.StateCreated, reports.Created)
	e.ServiceRequestID = "SR-A"
	if err := r.Write(ctx, e, true); err != nil {
		t.Fatal(err)
	}

	s2 := openStore(t, dir)
	if _, err := os.Stat(logPath(dir, r.ID())); err != nil {
		t.Fatalf("the second Open removed the live log: %v", err)
	}
	if rows := collectRows(t, s2, r.ID()); len(rows) != 0 {
		t.Fatalf("the second Open ingested the live log: %+v", rows)
	}
	// The run goes on writing to it.
	if err := r.Write(ctx, rowEntry(1, "b", importer.StateSending, reports.Pending), true); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if rows := collectRows(t, s2, r.ID()); len(rows) != 2 {
		t.Fatalf("Rows after the run's Close = %+v", rows)
	}
	r2 := begin(t, s2, "tgt")
	if got, ok := lookup(t, r2, "a"); !ok || got.ServiceRequestID != "SR-A" {
		t.Fatalf("Lookup(a) = %+v, %v", got, ok)
	}
}

// TestIngestCollapses: however many times a row and an identity were
// written, the database gets one row per seq and one item per identity,
// from the last write; a write with Seq < 0 writes the item only.
func TestIngestCollapses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	r := begin(t, s, "tgt")
	sent := t0.Add(time.Minute)
	for i, st := range []importer.State{importer.StateSending, importer.StateUnknown, importer.StateSending, importer.StateCreated} {
		e := rowEntry(0, "x", st, reports.Status(st))
		e.ServiceRequestID = fmt.Sprint("SR-", i)
		e.Attempts = i
		if i == 0 {
			e.SentAt = sent
		}
		if err := r.Write(ctx, e, false); err != nil {
			t.Fatal(err)
		}
	}
	// A settled entry of an earlier run: an item, no row.
	y := rowEntry(-1, "y", importer.StateFailed, "")
	if err := r.Write(ctx, y, false); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx, 0, map[string]int{"created": 1}, 1, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, state.DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, items int
	if err := db.QueryRow(`SELECT count(*) FROM rows WHERE run_id = ?`, r.ID()).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM items WHERE target = 'tgt'`).Scan(&items); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || items != 2 {
		t.Fatalf("%d rows and %d items, want 1 and 2", rows, items)
	}
	got := collectRows(t, s, r.ID())
	if len(got) != 1 || got[0].Seq != 0 || got[0].Status != reports.Status(importer.StateCreated) ||
		got[0].ServiceRequestID != "SR-3" || got[0].Attempts != 3 {
		t.Fatalf("Rows = %+v", got)
	}
	r2 := begin(t, s, "tgt")
	if e, ok := lookup(t, r2, "x"); !ok || e.State != importer.StateCreated || e.ServiceRequestID != "SR-3" || !e.SentAt.Equal(sent) {
		t.Fatalf("Lookup(x) = %+v, %v", e, ok)
	}
	if e, ok := lookup(t, r2, "y"); !ok || e.State != importer.StateFailed || e.RunID != r.ID() {
		t.Fatalf("Lookup(y) = %+v, %v", e, ok)
	}
}

// TestThisRunsWrites: HasServiceRequest and InDoubt see the run's own
// writes before they are ingested, queued or durable.
func TestThisRunsWrites(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	r := begin(t, s, "tgt")
	other := begin(t, s, "other")

	a := rowEntry(0, "a", importer.StateSending, reports.Pending)
	a.SentAt = t0
	if _, err := r.Queue(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := rowEntry(1, "b", importer.StateUnknown, reports.Unknown)
	if _, err := r.Queue(ctx, b); err != nil {
		t.Fatal(err)
	}
	doubt, err := r.InDoubt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// a by its SentAt (t0), b by its UpdatedAt (t0+1s).
	if len(doubt) != 2 || doubt[0].Identity != "a" || doubt[1].Identity != "b" || doubt[0].RunID != r.ID() {
		t.Fatalf("InDoubt = %+v, want a then b", doubt)
	}
	if d, err := other.InDoubt(ctx); err != nil || len(d) != 0 {
		t.Fatalf("another target's InDoubt = %+v, %v", d, err)
	}

	a2 := rowEntry(0, "a", importer.StateCreated, reports.Created)
	a2.ServiceRequestID = "SR-A"
	if _, err := r.Queue(ctx, a2); err != nil {
		t.Fatal(err)
	}
	if has, err := r.HasServiceRequest(ctx, "SR-A"); err != nil || !has {
		t.Fatalf("HasServiceRequest(SR-A) = %v, %v", has, err)
	}
	if has, err := other.HasServiceRequest(ctx, "SR-A"); err != nil || has {
		t.Fatalf("another target's HasServiceRequest(SR-A) = %v, %v", has, err)
	}
	doubt, err = r.InDoubt(ctx)
	if err != nil || len(doubt) != 1 || doubt[0].Identity != "b" {
		t.Fatalf("InDoubt = %+v, %v; want b", doubt, err)
	}
	b2 := rowEntry(1, "b", importer.StateFailed, reports.Failed)
	if _, err := r.Queue(ctx, b2); err != nil {
		t.Fatal(err)
	}
	if doubt, err := r.InDoubt(ctx); err != nil || len(doubt) != 0 {
		t.Fatalf("InDoubt = %+v, %v; want none", doubt, err)
	}
}

// TestSettlement: a run that settles an earlier run's entries in doubt
// (writing them with Seq -1, as the importer does) sees its settlement in
// Lookup, InDoubt and HasServiceRequest before its log is ingested.
func TestSettlement(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	r1 := begin(t, s, "tgt")
	for i, id := range []string{"p", "q", "u"} {
		e := rowEntry(i, id, importer.StateSending, reports.Unknown)
		e.SentAt = t0.Add(time.Duration(i) * time.Second)
		if err := r1.Write(ctx, e, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}

	r2 := begin(t, s, "tgt")
	doubt, err := r2.InDoubt(ctx)
	if err != nil || len(doubt) != 3 {
		t.Fatalf("InDoubt = %+v, %v", doubt, err)
	}
	// p was created, q was not; u stays in doubt.
	p, q := doubt[0], doubt[1]
	p.State, p.ServiceRequestID = importer.StateCreated, "SR-P"
	q.State = importer.StateFailed
	for _, e := range []importer.Entry{p, q} {
		if _, err := r2.Queue(ctx, importer.RowEntry{Seq: -1, Entry: e}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if e, ok := lookup(t, r2, "p"); !ok || e.State != importer.StateCreated || e.ServiceRequestID != "SR-P" || e.RunID != r2.ID() || !e.SentAt.Equal(t0) {
		t.Fatalf("Lookup(p) = %+v, %v", e, ok)
	}
	if e, ok := lookup(t, r2, "q"); !ok || e.State != importer.StateFailed || e.RequestID != "req-q" {
		t.Fatalf("Lookup(q) = %+v, %v", e, ok)
	}
	if e, ok := lookup(t, r2, "u"); !ok || e.State != importer.StateSending || e.RunID != r1.ID() {
		t.Fatalf("Lookup(u) = %+v, %v", e, ok)
	}
	if has, err := r2.HasServiceRequest(ctx, "SR-P"); err != nil || !has {
		t.Fatalf("HasServiceRequest(SR-P) = %v, %v", has, err)
	}
	if doubt, err := r2.InDoubt(ctx); err != nil || len(doubt) != 1 || doubt[0].Identity != "u" {
		t.Fatalf("InDoubt = %+v, %v; want u", doubt, err)
	}
	// The rows resent after settlement: q again, this time created.
	q2 := rowEntry(0, "q", importer.StateCreated, reports.Created)
	q2.ServiceRequestID = "SR-Q"
	if err := r2.Write(ctx, q2, true); err != nil {
		t.Fatal(err)
	}
	if e, ok := lookup(t, r2, "q"); !ok || e.ServiceRequestID != "SR-Q" {
		t.Fatalf("Lookup(q) = %+v, %v", e, ok)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if rows := collectRows(t, s, r2.ID()); len(rows) != 1 || rows[0].Seq != 0 || rows[0].Identity != "q" {
		t.Fatalf("Rows = %+v; want only q's (settlement writes no row)", rows)
	}
	r3 := begin(t, s, "tgt")
	if e, ok := lookup(t, r3, "p"); !ok || e.State != importer.StateCreated || e.RunID != r2.ID() {
		t.Fatalf("Lookup(p) = %+v, %v", e, ok)
	}
	if doubt, err := r3.InDoubt(ctx); err != nil || len(doubt) != 1 || doubt[0].Identity != "u" {
		t.Fatalf("InDoubt = %+v, %v; want u", doubt, err)
	}
}

// TestLookupSeesAnotherRunsIngest: a run's Lookup sees what another run
// of the same process ingested since its last lookup.
func TestLookupSeesAnotherRunsIngest(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	r1 := begin(t, s, "tgt")
	r2 := begin(t, s, "tgt")
	if _, ok := lookup(t, r2, "x"); ok {
		t.Fatal("Lookup(x) found an entry")
	}
	e := rowEntry(0, "x", importer.StateCreated, reports.Created)
	e.ServiceRequestID = "SR-X"
	if err := r1.Write(ctx, e, true); err != nil {
		t.Fatal(err)
	}
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}
	if got, ok := lookup(t, r2, "x"); !ok || got.ServiceRequestID != "SR-X" {
		t.Fatalf("Lookup(x) after the other run's Close = %+v, %v", got, ok)
	}
}

// TestLookupSeesAnotherStoresIngest: a run that began on an empty target,
// and so skips its queries, still sees what another process (here another
// Store on the same directory) ingests while it goes, within the snapshot
// age.
func TestLookupSeesAnotherStoresIngest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mine := begin(t, openStore(t, dir), "tgt")
	if _, ok := lookup(t, mine, "x"); ok {
		t.Fatal("Lookup(x) found an entry in an empty target")
	}
	other := begin(t, openStore(t, dir), "tgt")
	e := rowEntry(0, "x", importer.StateCreated, reports.Created)
	e.ServiceRequestID = "SR-X"
	if err := other.Write(ctx, e, true); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, ok := lookup(t, mine, "x")
		if ok {
			if got.ServiceRequestID != "SR-X" {
				t.Fatalf("Lookup(x) = %+v", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("Lookup(x) never saw the other store's ingest")
		}
		runtime.Gosched()
	}
}

// TestLaterRunWins: an older run's log ingested after a newer run's (a
// killed process's, found by a later Open) does not overwrite the newer
// run's items.
func TestLaterRunWins(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	older := begin(t, s, "tgt")
	newer := begin(t, s, "tgt")
	e := rowEntry(0, "x", importer.StateCreated, reports.Created)
	e.ServiceRequestID = "SR-NEW"
	if err := newer.Write(ctx, e, true); err != nil {
		t.Fatal(err)
	}
	if err := newer.Close(); err != nil {
		t.Fatal(err)
	}
	if err := older.Write(ctx, rowEntry(0, "x", importer.StateFailed, reports.Failed), true); err != nil {
		t.Fatal(err)
	}
	if err := older.Close(); err != nil {
		t.Fatal(err)
	}
	r := begin(t, s, "tgt")
	if got, ok := lookup(t, r, "x"); !ok || got.ServiceRequestID != "SR-NEW" || got.RunID != newer.ID() {
		t.Fatalf("Lookup(x) = %+v, %v; want the newer run's", got, ok)
	}
	if rows := collectRows(t, s, older.ID()); len(rows) != 1 || rows[0].Status != reports.Failed {
		t.Fatalf("the older run's rows = %+v", rows)
	}
}

// TestCreatedIDsReadBackAndNoted: HasServiceRequest knows every created
// entry of the run — those written before its first call (read back from
// the log), those written while that call reads, and those written after
// — and none of the failed ones, with writers going concurrently.
func TestCreatedIDsReadBackAndNoted(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	r := begin(t, s, "tgt")
	write := func(seq int, st importer.State) {
		e := rowEntry(seq, fmt.Sprintf("id%d", seq), st, reports.Created)
		if st == importer.StateCreated {
			e.ServiceRequestID = fmt.Sprintf("SR-%d", seq)
		}
		if _, err := r.Queue(ctx, e); err != nil {
			t.Error(err)
		}
	}
	const before, during = 3000, 3000
	for i := range before {
		write(i, []importer.State{importer.StateCreated, importer.StateFailed}[i%2])
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // writes while the first call reads the log back
		defer wg.Done()
		for i := before; i < before+during; i++ {
			write(i, []importer.State{importer.StateCreated, importer.StateFailed}[i%2])
		}
	}()
	if has, err := r.HasServiceRequest(ctx, "SR-0"); err != nil || !has {
		t.Fatalf("HasServiceRequest(SR-0), written before the first call = %v, %v", has, err)
	}
	wg.Wait()
	write(before+during, importer.StateCreated)
	for i := 0; i <= before+during; i++ {
		has, err := r.HasServiceRequest(ctx, fmt.Sprintf("SR-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if want := i%2 == 0 || i == before+during; has != want {
			t.Fatalf("HasServiceRequest(SR-%d) = %v, want %v", i, has, want)
		}
	}
}
