package input

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/xuri/excelize/v2"
)

// writeBenchBook writes an n-row ticket sheet like perf-baseline.md's
// (six text and number columns, a 400-character description), plus with
// dated a column of dates, with excelize's StreamWriter at deflate level 1.
func writeBenchBook(b *testing.B, path string, n int, dated bool) {
	b.Helper()
	f := excelize.NewFile()
	defer f.Close()
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, 1)
		})
		return zw
	})
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		b.Fatal(err)
	}
	head := []any{"title", "description", "severity", "supportTopicId", "agentLocale", "note"}
	if dated {
		head = append(head, "created")
	}
	if err := sw.SetRow("A1", head); err != nil {
		b.Fatal(err)
	}
	desc := ""
	for len(desc) < 380 {
		desc += "Customer reports a billing difference on the invoice, usage is billed pay-as-you-go; "
	}
	sev := []string{"minimal", "moderate", "critical"}
	row := make([]any, len(head))
	for i := range n {
		row[0] = fmt.Sprintf("#%d Reservation does not apply to the subscription", i)
		row[1] = desc
		row[2] = sev[i%3]
		row[3] = 32451178 + i%7
		row[4] = "en-US"
		row[5] = ""
		if i%3 != 0 {
			row[5] = "called the customer back"
		}
		if dated {
			row[6] = excelize.Cell{StyleID: date, Value: 45356 + i%365}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		b.Fatal(err)
	}
}

// benchFixtures are the sheets benchmarked: text only, as in
// perf-baseline.md, and with a date column (excelize formats each date
// through its number-format parser, which is slow: 10k rows suffice).
var benchFixtures = []struct {
	rows  int
	dated bool
}{{10_000, false}, {100_000, false}, {10_000, true}}

// benchXLSX runs read over each of benchFixtures, reporting rows/s,
// allocated bytes per row and the peak heap in use (sampled every 1,000
// rows) above the heap before the run.
func benchXLSX(b *testing.B, read func(b *testing.B, path string, tick func()) int) {
	dir := b.TempDir()
	for _, fx := range benchFixtures {
		name := fmt.Sprintf("text/rows=%d", fx.rows)
		if fx.dated {
			name = fmt.Sprintf("dated/rows=%d", fx.rows)
		}
		n := fx.rows
		path := filepath.Join(dir, fmt.Sprintf("bench%d-%v.xlsx", n, fx.dated))
		writeBenchBook(b, path, n, fx.dated)
		b.Run(name, func(b *testing.B) {
			var ms runtime.MemStats
			var peak uint64
			rows := 0
			tick := func() {
				if rows++; rows%1000 == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base, alloc0 := ms.HeapInuse, ms.TotalAlloc
			b.ResetTimer()
			for b.Loop() {
				if got := read(b, path, tick); got != n {
					b.Fatalf("read %d rows, want %d", got, n)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(ms.TotalAlloc-alloc0)/float64(rows), "B/row")
			b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "peak-heap-MiB")
		})
	}
}

func BenchmarkXLSXRead(b *testing.B) {
	benchXLSX(b, func(b *testing.B, path string, tick func()) int {
		r, err := openXLSX(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		n := 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				return n
			}
			if err != nil || row.Err != nil {
				b.Fatal(err, row.Err)
			}
			n++
			tick()
		}
	})
}

// BenchmarkXLSXBaseline is a bare excelize Rows loop over the same files,
// the floor BenchmarkXLSXRead is measured against.
func BenchmarkXLSXBaseline(b *testing.B) {
	benchXLSX(b, func(b *testing.B, path string, tick func()) int {
		f, err := excelize.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		rows, err := f.Rows("Sheet1")
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		n := -1 // the header
		for rows.Next() {
			if _, err := rows.Columns(); err != nil {
				b.Fatal(err)
			}
			n++
			tick()
		}
		return n
	})
}
