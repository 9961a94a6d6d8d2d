package mapping

import (
	"testing"
)

func benchMap(b *testing.B, m *Mapper, row []string) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Map(row, 2); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkMap maps a full row matched by name: thirteen columns, a
// contact and a note.
func BenchmarkMap(b *testing.B) {
	m, err := Auto(fullHeader, Options{Topics: topics})
	if err != nil {
		b.Fatal(err)
	}
	benchMap(b, m, fullRow())
}

// BenchmarkMapSpec maps through the cli.md example: a joined template, a
// value map with default, notes and provenance.
func BenchmarkMapSpec(b *testing.B) {
	spec, err := ParseSpec([]byte(cliExample))
	if err != nil {
		b.Fatal(err)
	}
	m, err := Compile(spec, specHeader, Options{File: "tickets.csv"})
	if err != nil {
		b.Fatal(err)
	}
	benchMap(b, m, []string{" Invoice wrong ", "T-17", "Body text", " high ", "Azure", "a@b.example", "check VAT", "de-DE"})
}
