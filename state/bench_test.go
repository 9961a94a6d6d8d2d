package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
)

// BenchmarkWrite measures the journal's cost per imported row, for
// callers that wait for each write at once: 32 goroutines each Lookup a
// new identity, then Write it sending and created, both with sync. It
// reports rows/s while the run is open, and rows/s-with-close counting
// the run's Close too, which ingests its log into the database.
func BenchmarkWrite(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	r, err := s.Begin(ctx, RunInfo{Input: "bench.csv", Target: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var next atomic.Int64
	// RunParallel starts parallelism × GOMAXPROCS goroutines.
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((32 + procs - 1) / procs)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			seq := int(next.Add(1) - 1)
			e := benchEntry(seq)
			if _, ok, err := r.Lookup(ctx, e.Identity); err != nil || ok {
				b.Errorf("Lookup(%s) = %v, %v", e.Identity, ok, err)
				return
			}
			if err := r.Write(ctx, e, true); err != nil {
				b.Error(err)
				return
			}
			benchCreated(&e, seq)
			if err := r.Write(ctx, e, true); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	withClose := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)/withClose.Seconds(), "rows/s-with-close")
}

// BenchmarkWritePipelined measures the journal's cost per imported row
// as the importer writes: one dispatcher Looks up each row and queues its
// write-ahead entry (sending) well ahead of 32 workers, which each wait
// for a row's entry to be durable, queue its outcome (created), and hand
// the outcome's wait to one completer, which waits for the outcomes in
// order. It reports rows/s while the run is open, and rows/s-with-close
// counting the run's Close too.
func BenchmarkWritePipelined(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	r, err := s.Begin(ctx, RunInfo{Input: "bench.csv", Target: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	type row struct {
		e       importer.RowEntry
		durable func(context.Context) error
	}
	ready := make(chan row, 1024)
	completions := make(chan func(context.Context) error, 4096)
	var workers, completer sync.WaitGroup
	for range 32 {
		workers.Go(func() {
			for w := range ready {
				if err := w.durable(ctx); err != nil {
					b.Error(err)
					return
				}
				benchCreated(&w.e, w.e.Seq)
				durable, err := r.Queue(ctx, w.e)
				if err != nil {
					b.Error(err)
					return
				}
				completions <- durable
			}
		})
	}
	completer.Go(func() {
		for durable := range completions {
			if err := durable(ctx); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for seq := 0; b.Loop(); seq++ {
		e := benchEntry(seq)
		if _, ok, err := r.Lookup(ctx, e.Identity); err != nil || ok {
			b.Fatalf("Lookup(%s) = %v, %v", e.Identity, ok, err)
		}
		durable, err := r.Queue(ctx, e)
		if err != nil {
			b.Fatal(err)
		}
		ready <- row{e, durable}
	}
	close(ready)
	workers.Wait()
	close(completions)
	completer.Wait()
	elapsed := time.Since(start)
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	withClose := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)/withClose.Seconds(), "rows/s-with-close")
}

// BenchmarkLookup measures Lookup alone, from 32 goroutines and from one,
// on a target holding 20,000 items, half of the identities looked up
// being known. (One goroutine at a time reads Lookup's snapshot; the
// others, the pool.)
func BenchmarkLookup(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	w, err := s.Begin(ctx, RunInfo{Input: "bench.csv", Target: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	const known = 20000
	for seq := range known {
		e := importer.RowEntry{
			Entry: importer.Entry{Identity: benchIdentity(2 * seq), RequestID: "r", State: importer.StateCreated, ServiceRequestID: strconv.Itoa(seq)},
			Seq:   seq, Status: reports.Created,
		}
		if err := w.Write(ctx, e, false); err != nil {
			b.Fatal(err)
		}
	}
	// Ingested, they are what the next run looks up.
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	r, err := s.Begin(ctx, RunInfo{Input: "bench.csv", Target: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.Run("parallel", func(b *testing.B) {
		var next atomic.Int64
		procs := runtime.GOMAXPROCS(0)
		b.SetParallelism((32 + procs - 1) / procs)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := int(next.Add(1)-1) % (2 * known)
				if _, ok, err := r.Lookup(ctx, benchIdentity(n)); err != nil || ok != (n%2 == 0) {
					b.Errorf("Lookup(%d) = %v, %v", n, ok, err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
	})
	// One goroutine, as the importer's dispatch looks up.
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			n := i % (2 * known)
			if _, ok, err := r.Lookup(ctx, benchIdentity(n)); err != nil || ok != (n%2 == 0) {
				b.Fatalf("Lookup(%d) = %v, %v", n, ok, err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
	})
}

// benchIdentity is a row identity shaped as the importer's.
func benchIdentity(n int) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(n)))
	return "sha256:" + hex.EncodeToString(sum[:16]) + "#1"
}

// BenchmarkIngest measures what Close costs a run of 20,000 rows: reading
// its log (two writes per row, sending then created, as the importer
// writes them) and ingesting it into the database.
func BenchmarkIngest(b *testing.B) {
	const rows = 20000
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	var elapsed time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		r, err := s.Begin(ctx, RunInfo{Input: "bench.csv", Target: "bench#" + strconv.Itoa(i)})
		if err != nil {
			b.Fatal(err)
		}
		for seq := range rows {
			e := benchEntry(seq)
			if _, err := r.Queue(ctx, e); err != nil {
				b.Fatal(err)
			}
			benchCreated(&e, seq)
			if _, err := r.Queue(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
		if err := r.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(rows*b.N)/elapsed.Seconds(), "rows/s")
}

// benchEntry is row seq's write-ahead entry, shaped as the importer's.
func benchEntry(seq int) importer.RowEntry {
	now := time.Now()
	return importer.RowEntry{
		Entry: importer.Entry{
			Identity:  benchIdentity(seq),
			RequestID: "0f8fad5b-d9cb-469f-a165-70867728950e",
			State:     importer.StateSending,
			Match:     "c3ab8ff13720e8ad9047dd39466b3c89",
			Row:       seq + 2,
			SentAt:    now,
			UpdatedAt: now,
		},
		Seq:        seq,
		Status:     reports.Unknown,
		ErrorClass: "ambiguous",
		Error:      "in flight when the run ended: whether it was created is not known; run the same command again to settle it",
	}
}

// benchCreated makes e row seq's outcome: created.
func benchCreated(e *importer.RowEntry, seq int) {
	e.State, e.Status, e.ServiceRequestID, e.UpdatedAt = importer.StateCreated, reports.Created, strconv.Itoa(2503040010000000+seq), time.Now()
	e.ErrorClass, e.Error, e.Attempts = "", "", 1
}
