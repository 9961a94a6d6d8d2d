package input

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/srimport/srimport/input/inputtest"
)

// TestMain removes the benchmarks' workbooks once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchBooks.dir != "" {
		os.RemoveAll(benchBooks.dir)
	}
	os.Exit(code)
}

// benchBooks are the workbooks the XLSX benchmarks read, written once per
// test process (writing the 100k-row one takes seconds): the generated
// ticket rows (inputtest, six text columns, inline strings) and a smaller
// sheet with a date column, which excelize formats slowly.
var benchBooks struct {
	once        sync.Once
	dir         string
	text, dated string
	err         error
}

const (
	benchTextRows  = 100_000
	benchDatedRows = 10_000
)

func writeBenchBooks() {
	bb := &benchBooks
	if bb.dir, bb.err = os.MkdirTemp("", "srimport-xlsx-bench-"); bb.err != nil {
		return
	}
	bb.text = filepath.Join(bb.dir, "tickets.xlsx")
	f, err := os.Create(bb.text)
	if err != nil {
		bb.err = err
		return
	}
	if err := inputtest.WriteXLSX(f, benchTextRows, 1); err != nil {
		bb.err = err
	}
	if err := f.Close(); err != nil && bb.err == nil {
		bb.err = err
	}
	if bb.err == nil {
		bb.dated = filepath.Join(bb.dir, "dated.xlsx")
		bb.err = writeDatedBook(bb.dated, benchDatedRows)
	}
}

// writeDatedBook writes n ticket rows with a date column, with excelize's
// stream writer at deflate level 1.
func writeDatedBook(path string, n int) error {
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
		return err
	}
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		return err
	}
	head := append(append([]any(nil), anySlice(inputtest.Header)...), "created")
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	g := inputtest.New(2)
	row := make([]any, len(head))
	for i := range n {
		copy(row, anySlice(g.Row()))
		row[len(row)-1] = excelize.Cell{StyleID: date, Value: 45356 + i%365}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(path)
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// benchXLSX runs read over the text and the dated workbook, reporting
// rows/s, allocated bytes per row and the peak heap in use (sampled every
// 1,000 rows) above the heap before the run.
func benchXLSX(b *testing.B, read func(b *testing.B, path string, tick func()) int) {
	benchBooks.once.Do(writeBenchBooks)
	if benchBooks.err != nil {
		b.Fatal(benchBooks.err)
	}
	for _, fx := range []struct {
		name string
		path string
		rows int
	}{
		{fmt.Sprintf("text/rows=%d", benchTextRows), benchBooks.text, benchTextRows},
		{fmt.Sprintf("dated/rows=%d", benchDatedRows), benchBooks.dated, benchDatedRows},
	} {
		b.Run(fx.name, func(b *testing.B) {
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
				if got := read(b, fx.path, tick); got != fx.rows {
					b.Fatalf("read %d rows, want %d", got, fx.rows)
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

// BenchmarkXLSXReader reads the workbooks with srimport's reader.
func BenchmarkXLSXReader(b *testing.B) {
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

// BenchmarkExcelizeRows is a bare excelize Rows loop over the same
// workbooks, the ceiling BenchmarkXLSXReader is measured against.
func BenchmarkExcelizeRows(b *testing.B) {
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
