package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/srimport/srimport/emulator"
)

// benchRows is the size of the import the throughput benchmarks measure.
const benchRows = 20000

// writeBenchCSV writes n valid rows shaped like perf-baseline.md's test
// data (≈500 B per row, multi-line descriptions, non-ASCII words).
func writeBenchCSV(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"Title", "Description", "Severity", "SupportTopicId", "Locale", "Note"})
	sev := []string{"minimal", "moderate", "critical"}
	loc := []string{"en-US", "de-DE", "fr-FR", "ja-JP", "pt-BR", "nl-NL", "es-ES", "en-GB"}
	desc := bytes.Repeat([]byte("usage is still billed pay-as-you-go, Überprüfung läuft, "), 7)
	for i := 0; i < n; i++ {
		d := string(desc)
		if i%5 == 0 {
			d += "\nSteps:\n1. open portal\n2. retry"
		}
		w.Write([]string{fmt.Sprintf("#%d reserved instance not applied to subscription", i), d,
			sev[i%3], "32451178", loc[i%8], "imported from backlog"})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkSandboxImport is `srimport import --sandbox --workers 32` on a
// 20 000-row CSV: read, map, validate, create on the in-process emulator,
// write the report. Compare its rows/s with BenchmarkBareHTTP's req/s from
// the same run (bench/import.sh prints the ratio).
func BenchmarkSandboxImport(b *testing.B) {
	dir := b.TempDir()
	in := filepath.Join(dir, "bench.csv")
	writeBenchCSV(b, in, benchRows)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		code := run([]string{"import", "--sandbox", "--workers", "32", "--report", filepath.Join(dir, "r.csv"), in},
			stdio{in: bytes.NewReader(nil), out: io.Discard, err: io.Discard}, func(string) string { return "" })
		if code != 0 {
			b.Fatalf("import exited %d", code)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkBareHTTP is the ceiling: 32 goroutines posting pre-built create
// bodies with a tuned net/http client to the same emulator, 20 000 requests
// per iteration.
func BenchmarkBareHTTP(b *testing.B) {
	em := emulator.New(emulator.Config{})
	url, err := em.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer em.Close()
	const workers = 32
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: workers + 8, IdleConnTimeout: 90 * time.Second}}
	bodies := make([][]byte, 1000)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf(`{"title":"#%d reserved instance not applied to subscription","description":%q,"severity":"moderate","supportTopicId":"32451178","notes":[{"text":"imported from backlog"}],"attributes":{"objectType":"ServiceRequest"}}`,
			i, bytes.Repeat([]byte("usage is still billed pay-as-you-go, Überprüfung läuft, "), 7)))
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n := next.Add(1)
					if n > benchRows {
						return
					}
					req, _ := http.NewRequest(http.MethodPost, url+"/v1/servicerequests/en-US", bytes.NewReader(bodies[n%1000]))
					req.Header.Set("Authorization", "Bearer bench")
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("MS-RequestId", uuid.NewString())
					resp, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(benchRows*b.N)/time.Since(start).Seconds(), "req/s")
}

// TestWriteBenchCSV writes the benchmark input bench/validate.sh measures
// when BENCH_CSV names the file (BENCH_ROWS rows, default 1 000 000). It
// does nothing in ordinary test runs, which have no such file to write.
func TestWriteBenchCSV(t *testing.T) {
	path := os.Getenv("BENCH_CSV")
	if path == "" {
		return
	}
	n := 1000000
	if v := os.Getenv("BENCH_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	writeBenchCSV(t, path, n)
}

// BenchmarkBareCSVFile is the ceiling bench/validate.sh compares validate
// with: a bare encoding/csv loop over the file BENCH_CSV names, through a
// 1 MiB buffer, touching every field.
func BenchmarkBareCSVFile(b *testing.B) {
	path := os.Getenv("BENCH_CSV")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.csv")
		writeBenchCSV(b, path, 100000)
		b.ResetTimer()
	}
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
		rows, n := 0, 0
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			for _, v := range rec {
				n += len(v)
			}
			rows++
		}
		f.Close()
		b.ReportMetric(float64(rows-1)/time.Since(start).Seconds(), "rows/s")
		if n == 0 {
			b.Fatal("empty file")
		}
	}
}

// BenchmarkValidate is `srimport validate` on the file BENCH_CSV names
// (default: 100 000 generated rows); compare with BenchmarkBareCSVFile.
func BenchmarkValidate(b *testing.B) {
	path := os.Getenv("BENCH_CSV")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.csv")
		writeBenchCSV(b, path, 100000)
	}
	sum := filepath.Join(b.TempDir(), "s.json")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		code := run([]string{"validate", "--summary", sum, path},
			stdio{in: bytes.NewReader(nil), out: io.Discard, err: io.Discard}, func(string) string { return "" })
		if code != 0 {
			b.Fatalf("validate exited %d", code)
		}
	}
}
