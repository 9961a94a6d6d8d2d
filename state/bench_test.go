package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
)

// BenchmarkWrite measures the journal's cost per imported row: 32
// goroutines each Lookup a new identity, then Write it sending and
// created, both with sync, as the importer does. It reports rows/s for
// synchronous=FULL (what Open uses) and NORMAL.
func BenchmarkWrite(b *testing.B) {
	for _, mode := range []string{"FULL", "NORMAL"} {
		b.Run("synchronous="+mode, func(b *testing.B) {
			s, err := open(b.TempDir(), options{synchronous: mode})
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
					id := benchIdentity(seq)
					if _, ok, err := r.Lookup(ctx, id); err != nil || ok {
						b.Errorf("Lookup(%s) = %v, %v", id, ok, err)
						return
					}
					e := importer.RowEntry{
						Entry: importer.Entry{
							Identity:  id,
							RequestID: "0f8fad5b-d9cb-469f-a165-70867728950e",
							State:     importer.StateSending,
							Match:     "c3ab8ff13720e8ad9047dd39466b3c89",
							Row:       seq + 2,
							SentAt:    time.Now(),
						},
						Seq:    seq,
						Status: reports.Pending,
					}
					if err := r.Write(ctx, e, true); err != nil {
						b.Error(err)
						return
					}
					e.State, e.Status, e.ServiceRequestID, e.SentAt, e.UpdatedAt =
						importer.StateCreated, reports.Created, strconv.Itoa(2503040010000000+seq), time.Time{}, time.Time{}
					e.Attempts = 1
					if err := r.Write(ctx, e, true); err != nil {
						b.Error(err)
						return
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
		})
	}
}

// BenchmarkLookup measures Lookup alone, from 32 goroutines, on a target
// holding 20,000 items, half of the identities looked up being known.
func BenchmarkLookup(b *testing.B) {
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
	const known = 20000
	for seq := range known {
		e := importer.RowEntry{
			Entry: importer.Entry{Identity: benchIdentity(2 * seq), RequestID: "r", State: importer.StateCreated, ServiceRequestID: strconv.Itoa(seq)},
			Seq:   seq, Status: reports.Created,
		}
		if err := r.Write(ctx, e, false); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.Flush(ctx); err != nil {
		b.Fatal(err)
	}
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
}

// benchIdentity is a row identity shaped as the importer's.
func benchIdentity(n int) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(n)))
	return "sha256:" + hex.EncodeToString(sum[:16]) + "#1"
}
