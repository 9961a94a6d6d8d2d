package input_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/input/inputtest"
	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/reports"
)

// validateRows is the size of the generated file the validate benchmarks
// read: big enough for a steady state, small enough to regenerate per
// benchmark (~53 MB).
const validateRows = 100_000

// writeCSVFixture writes the generated rows to a file in b's temporary
// directory.
func writeCSVFixture(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "tickets.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := inputtest.WriteCSV(f, validateRows, 1); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// reportRows reports the rows read per second over the benchmark, and the
// process's CPU time per row since cpu0 (a figure other load on the
// machine disturbs less than the elapsed time).
func reportRows(b *testing.B, rows int, cpu0 time.Duration) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(rows*b.N), "cpu-ns/row")
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBareCSV is the ceiling BenchmarkValidateCSV is measured
// against: a bare encoding/csv Read loop over the same file through a
// 1 MiB buffer, touching every field.
func BenchmarkBareCSV(b *testing.B) {
	path := writeCSVFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
		rows, n := -1, 0
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
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
		if rows != validateRows || n == 0 {
			b.Fatalf("read %d rows, %d bytes", rows, n)
		}
	}
	reportRows(b, validateRows, cpu0)
}

// BenchmarkValidateCSV is what `srimport validate FILE` does with the
// same file: open it, map its header by name, and validate every row
// through importer.Run without a creator, reporting to nowhere.
func BenchmarkValidateCSV(b *testing.B) {
	path := writeCSVFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		src, err := input.Open(path, input.Options{})
		if err != nil {
			b.Fatal(err)
		}
		m, err := mapping.Auto(src.Header(), mapping.Options{File: "tickets.csv"})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := importer.Run(context.Background(), src, importer.Config{Mapper: m, Sink: discard{}})
		src.Close()
		if err != nil {
			b.Fatal(err)
		}
		if got := sum.Counts[reports.Valid]; got != validateRows {
			b.Fatalf("%d valid rows of %d: %v", got, validateRows, sum.Counts)
		}
	}
	reportRows(b, validateRows, cpu0)
}

// BenchmarkCSVReader is the CSV reader alone over the same file.
func BenchmarkCSVReader(b *testing.B) {
	path := writeCSVFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		src, err := input.Open(path, input.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for {
			row, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || row.Err != nil {
				b.Fatal(err, row.Err)
			}
			rows++
		}
		src.Close()
		if rows != validateRows {
			b.Fatalf("read %d rows", rows)
		}
	}
	reportRows(b, validateRows, cpu0)
}

// discard is the report of a validate run without --report.
type discard struct{}

func (discard) Write(reports.Record) error { return nil }
func (discard) Flush() error               { return nil }
func (discard) Close() error               { return nil }
