package input

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"testing"
)

// benchData is a CSV file of n ticket-like rows, one in five with a quoted
// multi-line description.
func benchData(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Title,Description,Severity,Support Topic ID,Product Name,Contact Email\n")
	for i := range n {
		desc := fmt.Sprintf("Customer reports a billing difference on invoice %d; usage is billed pay-as-you-go", i)
		if i%5 == 0 {
			desc = fmt.Sprintf("\"Line one of ticket %d, with a comma\nline two with \"\"quotes\"\"\"", i)
		}
		fmt.Fprintf(&b, "Ticket %d about a reservation,%s,moderate,32451178,Azure Plan,ops%d@contoso.example\n", i, desc, i)
	}
	return b.Bytes()
}

const benchRows = 20000

func BenchmarkCSVRead(b *testing.B) {
	data := benchData(benchRows)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		r, err := NewCSV(bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil || row.Err != nil {
				b.Fatal(err, row.Err)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("read %d rows", n)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCSVBaseline is a bare encoding/csv loop over the same data, the
// floor BenchmarkCSVRead is measured against.
func BenchmarkCSVBaseline(b *testing.B) {
	data := benchData(benchRows)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		r := csv.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		r.FieldsPerRecord = -1
		n := -1
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("read %d rows", n)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
