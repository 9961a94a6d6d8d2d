package state_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
	"github.com/srimport/srimport/state"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 800, time.UTC)

func openStore(t *testing.T, dir string) *state.Store {
	t.Helper()
	s, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func begin(t *testing.T, s *state.Store, target string) *state.Run {
	t.Helper()
	r, err := s.Begin(context.Background(), state.RunInfo{
		Input: "in.csv", InputHash: "ih", MappingHash: "mh", Target: target, Started: t0, PID: 4242,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func rowEntry(seq int, identity string, st importer.State, status reports.Status) importer.RowEntry {
	return importer.RowEntry{
		Entry: importer.Entry{
			Identity:  identity,
			RequestID: "req-" + identity,
			State:     st,
			Match:     "m-" + identity,
			Row:       seq + 2,
			UpdatedAt: t0.Add(time.Duration(seq) * time.Second),
		},
		Seq:    seq,
		Status: status,
	}
}

func lookup(t *testing.T, j importer.Journal, identity string) (importer.Entry, bool) {
	t.Helper()
	e, ok, err := j.Lookup(context.Background(), identity)
	if err != nil {
		t.Fatalf("Lookup(%s): %v", identity, err)
	}
	return e, ok
}

func collectRows(t *testing.T, s *state.Store, id int64) []importer.RowEntry {
	t.Helper()
	var out []importer.RowEntry
	if err := s.Rows(context.Background(), id, func(e importer.RowEntry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	r := begin(t, s, "tgt")
	if r.ID() <= 0 {
		t.Fatalf("ID() = %d", r.ID())
	}

	if _, ok := lookup(t, r, "a"); ok {
		t.Fatal("Lookup of an unknown identity found an entry")
	}

	sent := t0.Add(time.Minute)
	a := rowEntry(0, "a", importer.StateSending, reports.Pending)
	a.SentAt = sent
	b := rowEntry(1, "b", importer.StateSending, reports.Pending)
	b.SentAt = sent.Add(-time.Second) // older: first in doubt
	c := rowEntry(2, "", "", reports.Invalid)
	c.Error = "bad row"
	c.ErrorClass = "validation"
	for _, e := range []importer.RowEntry{a, b, c} {
		if err := r.Write(ctx, e, true); err != nil {
			t.Fatal(err)
		}
	}
	// The run's own writes are in its log: Lookup reads the earlier runs'.
	if got, ok := lookup(t, r, "a"); ok {
		t.Fatalf("Lookup(a) of the run's own write = %+v", got)
	}

	// InDoubt sees them.
	doubt, err := r.InDoubt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(doubt) != 2 || doubt[0].Identity != "b" || doubt[1].Identity != "a" {
		t.Fatalf("InDoubt = %+v, want b then a", doubt)
	}

	// a is created; its SentAt stays although the write carries none.
	a2 := rowEntry(0, "a", importer.StateCreated, reports.Created)
	a2.ServiceRequestID = "SR-1"
	a2.Attempts = 2
	if err := r.Write(ctx, a2, false); err != nil {
		t.Fatal(err)
	}
	// b becomes unknown, asynchronously: InDoubt sees it at once.
	b2 := rowEntry(1, "b", importer.StateUnknown, reports.Unknown)
	if err := r.Write(ctx, b2, false); err != nil {
		t.Fatal(err)
	}
	has, err := r.HasServiceRequest(ctx, "SR-1")
	if err != nil || !has {
		t.Fatalf("HasServiceRequest(SR-1) = %v, %v", has, err)
	}
	if has, err := r.HasServiceRequest(ctx, "SR-2"); err != nil || has {
		t.Fatalf("HasServiceRequest(SR-2) = %v, %v", has, err)
	}
	doubt, err = r.InDoubt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(doubt) != 1 || doubt[0].Identity != "b" || doubt[0].State != importer.StateUnknown || !doubt[0].SentAt.Equal(b.SentAt) {
		t.Fatalf("InDoubt = %+v, want b unknown", doubt)
	}

	// Unfinished, the run has no exit status.
	rec, err := s.Run(ctx, r.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rec.ExitStatus != nil || !rec.Finished.IsZero() {
		t.Fatalf("unfinished run = %+v", rec)
	}

	fin := t0.Add(time.Hour)
	counts := map[string]int{"created": 1, "unknown": 1, "invalid": 1}
	if err := r.Finish(ctx, 3, counts, 3, fin); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// Ingested: the next run's Lookup sees the last write of each, a's
	// SentAt kept although its last write carries none.
	r2 := begin(t, s, "tgt")
	got, ok := lookup(t, r2, "a")
	if !ok || got.State != importer.StateCreated || got.ServiceRequestID != "SR-1" || got.RequestID != "req-a" ||
		!got.SentAt.Equal(sent) || got.RunID != r.ID() || got.Row != 2 || got.Match != "m-a" || !got.UpdatedAt.Equal(a2.UpdatedAt) {
		t.Fatalf("Lookup(a) = %+v, %v", got, ok)
	}
	if got, ok := lookup(t, r2, "b"); !ok || got.State != importer.StateUnknown || !got.SentAt.Equal(b.SentAt) {
		t.Fatalf("Lookup(b) = %+v, %v", got, ok)
	}
	if _, ok := lookup(t, r2, ""); ok {
		t.Fatal("the invalid row got an item")
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}

	runs, err := s.Runs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[1].ID != r.ID() {
		t.Fatalf("Runs = %+v", runs)
	}
	rec = runs[1]
	if rec.ID != r.ID() || rec.Input != "in.csv" || rec.InputHash != "ih" || rec.MappingHash != "mh" ||
		rec.Target != "tgt" || !rec.Started.Equal(t0) || !rec.Finished.Equal(fin) || rec.ExitStatus == nil ||
		*rec.ExitStatus != 3 || !reflect.DeepEqual(rec.Counts, counts) || rec.Rows != 3 || rec.PID != 4242 {
		t.Fatalf("Runs()[1] = %+v", rec)
	}
	if last, ok, err := s.LastRun(ctx, "in.csv", "tgt"); err != nil || !ok || last.ID != r2.ID() {
		t.Fatalf("LastRun = %+v, %v, %v", last, ok, err)
	}
	if _, ok, err := s.LastRun(ctx, "in.csv", "other"); err != nil || ok {
		t.Fatalf("LastRun(other target) = %v, %v", ok, err)
	}
	if _, err := s.Run(ctx, 999); !errors.Is(err, state.ErrNoRun) {
		t.Fatalf("Run(999) error = %v, want ErrNoRun", err)
	}
	if err := s.Rows(ctx, 999, func(importer.RowEntry) error { return nil }); !errors.Is(err, state.ErrNoRun) {
		t.Fatalf("Rows(999) error = %v, want ErrNoRun", err)
	}

	rows := collectRows(t, s, r.ID())
	if len(rows) != 3 {
		t.Fatalf("Rows = %+v", rows)
	}
	want := []struct {
		seq      int
		identity string
		status   reports.Status
		srID     string
		attempts int
		err      string
	}{
		{0, "a", reports.Created, "SR-1", 2, ""},
		{1, "b", reports.Unknown, "", 0, ""},
		{2, "", reports.Invalid, "", 0, "bad row"},
	}
	for i, w := range want {
		g := rows[i]
		if g.Seq != w.seq || g.Identity != w.identity || g.Status != w.status || g.ServiceRequestID != w.srID ||
			g.Attempts != w.attempts || g.Error != w.err || g.Row != w.seq+2 || g.RunID != r.ID() {
			t.Errorf("Rows()[%d] = %+v, want %+v", i, g, w)
		}
		if w.identity != "" && g.RequestID != "req-"+w.identity {
			t.Errorf("Rows()[%d].RequestID = %q", i, g.RequestID)
		}
	}
	if rows[2].ErrorClass != "validation" {
		t.Errorf("Rows()[2].ErrorClass = %q", rows[2].ErrorClass)
	}

	// fn's error stops the iteration and comes back as is.
	stop := errors.New("stop")
	n := 0
	if err := s.Rows(ctx, r.ID(), func(importer.RowEntry) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("Rows with a failing fn = %v after %d calls", err, n)
	}

	// The writes after Close are refused.
	if err := r.Write(ctx, a, false); !errors.Is(err, state.ErrClosed) {
		t.Fatalf("Write after Close = %v, want ErrClosed", err)
	}
}

func TestSyncWriteSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Begin(ctx, state.RunInfo{Input: "x.csv", Target: "tgt"})
	if err != nil {
		t.Fatal(err)
	}
	e := rowEntry(7, "id7", importer.StateCreated, reports.Created)
	e.ServiceRequestID = "SR-7"
	if err := r.Write(ctx, e, true); err != nil {
		t.Fatal(err)
	}
	id := r.ID()
	// The Store's Close closes the Run.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openStore(t, dir)
	r2 := begin(t, s2, "tgt")
	if r2.ID() == id {
		t.Fatalf("second run has the first one's id %d", id)
	}
	got, ok := lookup(t, r2, "id7")
	if !ok || got.ServiceRequestID != "SR-7" || got.RunID != id || got.Row != 9 {
		t.Fatalf("Lookup after reopen = %+v, %v", got, ok)
	}
	rows := collectRows(t, s2, id)
	if len(rows) != 1 || rows[0].Seq != 7 {
		t.Fatalf("Rows after reopen = %+v", rows)
	}
	rec, err := s2.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ExitStatus != nil || rec.PID == 0 || rec.Started.IsZero() {
		t.Fatalf("Run after reopen = %+v", rec)
	}
}

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Begin(ctx, state.RunInfo{Input: "x.csv", Target: "tgt"})
	if err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 32, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				seq := w*perWorker + i
				id := fmt.Sprintf("id-%d", seq)
				if _, ok, err := r.Lookup(ctx, id); err != nil || ok {
					errs <- fmt.Errorf("Lookup(%s) = %v, %v", id, ok, err)
					return
				}
				e := rowEntry(seq, id, importer.StateSending, reports.Pending)
				e.SentAt = time.Now()
				if err := r.Write(ctx, e, true); err != nil {
					errs <- err
					return
				}
				e = rowEntry(seq, id, importer.StateCreated, reports.Created)
				e.ServiceRequestID = "SR-" + id
				// Every other row without sync: Close must commit those.
				if err := r.Write(ctx, e, i%2 == 0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	id := r.ID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openStore(t, dir)
	rows := collectRows(t, s2, id)
	if len(rows) != workers*perWorker {
		t.Fatalf("%d rows, want %d", len(rows), workers*perWorker)
	}
	r2 := begin(t, s2, "tgt")
	for i, e := range rows {
		if e.Seq != i || e.Status != reports.Created {
			t.Fatalf("row %d = %+v", i, e)
		}
		got, ok := lookup(t, r2, e.Identity)
		if !ok || got.State != importer.StateCreated || got.ServiceRequestID != "SR-"+e.Identity || got.SentAt.IsZero() {
			t.Fatalf("Lookup(%s) = %+v, %v", e.Identity, got, ok)
		}
	}
	if doubt, err := r2.InDoubt(ctx); err != nil || len(doubt) != 0 {
		t.Fatalf("InDoubt = %+v, %v", doubt, err)
	}
}

func TestLaterWriteWins(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	r := begin(t, s, "tgt")
	// Queued without sync, all in one batch or several: order must hold.
	states := []importer.State{importer.StateSending, importer.StateUnknown, importer.StateFailed, importer.StateCreated}
	for round := range 50 {
		for i, st := range states {
			e := rowEntry(0, "x", st, reports.Status(st))
			e.ServiceRequestID = fmt.Sprintf("SR-%d-%d", round, i)
			if err := r.Write(ctx, e, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Until the run ends, its rows are in its log only.
	if rows := collectRows(t, s, r.ID()); len(rows) != 0 {
		t.Fatalf("Rows of the open run = %+v", rows)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	rows := collectRows(t, s, r.ID())
	if len(rows) != 1 || rows[0].Status != reports.Created || rows[0].ServiceRequestID != "SR-49-3" {
		t.Fatalf("Rows = %+v", rows)
	}
	// A fresh run reads the ingested entry.
	r2 := begin(t, s, "tgt")
	got, ok := lookup(t, r2, "x")
	if !ok || got.ServiceRequestID != "SR-49-3" || got.RunID != r.ID() {
		t.Fatalf("Lookup from another run = %+v, %v", got, ok)
	}
}

func TestTargetsAreSeparate(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	ra := begin(t, s, "endpoint-a/tenant")
	rb := begin(t, s, "endpoint-b/tenant")
	ea := rowEntry(0, "same", importer.StateSending, reports.Pending)
	ea.SentAt = t0
	if err := ra.Write(ctx, ea, true); err != nil {
		t.Fatal(err)
	}
	eb := rowEntry(0, "same", importer.StateCreated, reports.Created)
	eb.ServiceRequestID = "SR-B"
	if err := rb.Write(ctx, eb, true); err != nil {
		t.Fatal(err)
	}
	if has, err := ra.HasServiceRequest(ctx, "SR-B"); err != nil || has {
		t.Fatalf("a: HasServiceRequest(SR-B) = %v, %v", has, err)
	}
	if has, err := rb.HasServiceRequest(ctx, "SR-B"); err != nil || !has {
		t.Fatalf("b: HasServiceRequest(SR-B) = %v, %v", has, err)
	}
	if d, err := ra.InDoubt(ctx); err != nil || len(d) != 1 {
		t.Fatalf("a: InDoubt = %+v, %v", d, err)
	}
	if d, err := rb.InDoubt(ctx); err != nil || len(d) != 0 {
		t.Fatalf("b: InDoubt = %+v, %v", d, err)
	}
	// Ended, each run's entries are its target's, and its rows its own.
	if err := ra.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rb.Close(); err != nil {
		t.Fatal(err)
	}
	ra2, rb2 := begin(t, s, "endpoint-a/tenant"), begin(t, s, "endpoint-b/tenant")
	if got, ok := lookup(t, ra2, "same"); !ok || got.State != importer.StateSending || got.RunID != ra.ID() {
		t.Fatalf("a: Lookup = %+v, %v", got, ok)
	}
	if got, ok := lookup(t, rb2, "same"); !ok || got.State != importer.StateCreated || got.RunID != rb.ID() {
		t.Fatalf("b: Lookup = %+v, %v", got, ok)
	}
	if has, err := ra2.HasServiceRequest(ctx, "SR-B"); err != nil || has {
		t.Fatalf("a: HasServiceRequest(SR-B) = %v, %v", has, err)
	}
	if has, err := rb2.HasServiceRequest(ctx, "SR-B"); err != nil || !has {
		t.Fatalf("b: HasServiceRequest(SR-B) = %v, %v", has, err)
	}
	if d, err := ra2.InDoubt(ctx); err != nil || len(d) != 1 || d[0].Identity != "same" {
		t.Fatalf("a: InDoubt = %+v, %v", d, err)
	}
	if d, err := rb2.InDoubt(ctx); err != nil || len(d) != 0 {
		t.Fatalf("b: InDoubt = %+v, %v", d, err)
	}
	if rows := collectRows(t, s, ra.ID()); len(rows) != 1 || rows[0].Status != reports.Pending {
		t.Fatalf("a: Rows = %+v", rows)
	}
	if rows := collectRows(t, s, rb.ID()); len(rows) != 1 || rows[0].Status != reports.Created {
		t.Fatalf("b: Rows = %+v", rows)
	}
}

// TestIngestFailureKeepsLog makes SQLite refuse one row with a trigger:
// Finish still records the run's end and returns the error, Close too,
// and the log stays, for the next Open to ingest once the trigger is gone.
func TestIngestFailureKeepsLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Begin(ctx, state.RunInfo{Input: "x.csv", Target: "tgt"})
	if err != nil {
		t.Fatal(err)
	}
	for seq := range 5 {
		if err := r.Write(ctx, rowEntry(seq, fmt.Sprint(seq), importer.StateSending, reports.Pending), seq == 4); err != nil {
			t.Fatal(err)
		}
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, state.DBName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON rows WHEN NEW.seq = 3
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}

	err = r.Finish(ctx, 0, map[string]int{"pending": 5}, 5, t0)
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("Finish = %v", err)
	}
	if err := r.Write(ctx, rowEntry(5, "5", importer.StateSending, reports.Pending), false); !errors.Is(err, state.ErrClosed) {
		t.Fatalf("Write after Finish = %v, want ErrClosed", err)
	}
	if err := r.Close(); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("Close = %v", err)
	}
	rec, err := s.Run(ctx, r.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rec.ExitStatus == nil || *rec.ExitStatus != 0 || rec.Rows != 5 {
		t.Fatalf("the run's end was not recorded: %+v", rec)
	}
	if rows := collectRows(t, s, r.ID()); len(rows) != 0 {
		t.Fatalf("Rows = %+v, want none: the transaction failed", rows)
	}
	logPath := filepath.Join(dir, "journal", fmt.Sprintf("%d.log", r.ID()))
	if _, err := os.Stat(logPath); err != nil {
		t.Fatalf("the log is gone: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// With the trigger in place, Open cannot ingest the log either.
	if _, err := state.Open(dir); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("Open = %v", err)
	}
	if _, err := db.Exec(`DROP TRIGGER refuse`); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, dir)
	if rows := collectRows(t, s2, r.ID()); len(rows) != 5 {
		t.Fatalf("Rows after reopen = %+v", rows)
	}
	if _, err := os.Stat(logPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the ingested log is still there: %v", err)
	}
	if rec, err := s2.Run(ctx, r.ID()); err != nil || rec.ExitStatus == nil || *rec.ExitStatus != 0 {
		t.Fatalf("Run = %+v, %v", rec, err)
	}
}

func TestCanceledSyncWrite(t *testing.T) {
	s := openStore(t, t.TempDir())
	r := begin(t, s, "tgt")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A canceled caller does not wait, but its write is still queued.
	err := r.Write(ctx, rowEntry(0, "a", importer.StateSending, reports.Pending), true)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Write = %v", err)
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d, err := r.InDoubt(context.Background()); err != nil || len(d) != 1 || d[0].Identity != "a" {
		t.Fatalf("InDoubt = %+v, %v", d, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if rows := collectRows(t, s, r.ID()); len(rows) != 1 || rows[0].Identity != "a" {
		t.Fatalf("Rows = %+v", rows)
	}
}

// TestRunsCountsAnUnfinishedRun: a run that never finished (killed) is
// listed with the counts its journal holds, so `srimport runs` shows how
// far it got.
func TestRunsCountsAnUnfinishedRun(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	r := begin(t, s, "target")
	for i, st := range []reports.Status{reports.Created, reports.Created, reports.Unknown, reports.Pending} {
		if err := r.Write(context.Background(), rowEntry(i, fmt.Sprintf("id%d", i), importer.StateCreated, st), true); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil { // no Finish: the run did not end
		t.Fatal(err)
	}
	runs, err := s.Runs(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ExitStatus != nil {
		t.Fatalf("runs %+v, want one unfinished run", runs)
	}
	want := map[string]int{"created": 2, "unknown": 1, "pending": 1}
	if got := runs[0].Counts; !maps.Equal(got, want) || runs[0].Rows != 4 {
		t.Fatalf("counts %v (%d rows), want %v (4 rows)", got, runs[0].Rows, want)
	}
}
