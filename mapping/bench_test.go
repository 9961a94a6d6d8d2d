package mapping

import (
	"testing"
)

// benchMap runs Map, or with check set Check, on one valid row.
func benchMap(b *testing.B, m *Mapper, row []string, check bool) {
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if check {
			err = m.Check(row, 2)
		} else {
			_, err = m.Map(row, 2)
		}
		if err != nil {
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
	benchMap(b, m, fullRow(), false)
}

// BenchmarkCheck validates the same row as BenchmarkMap, as validate does.
func BenchmarkCheck(b *testing.B) {
	m, err := Auto(fullHeader, Options{Topics: topics})
	if err != nil {
		b.Fatal(err)
	}
	benchMap(b, m, fullRow(), true)
}

// specMapper is the cli.md example: a joined template, a value map with
// default, notes and provenance.
func specMapper(b *testing.B) *Mapper {
	spec, err := ParseSpec([]byte(cliExample))
	if err != nil {
		b.Fatal(err)
	}
	m, err := Compile(spec, specHeader, Options{File: "tickets.csv"})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

var specRow = []string{" Invoice wrong ", "T-17", "Body text", " high ", "Azure", "a@b.example", "check VAT", "de-DE"}

// BenchmarkMapSpec maps a row through the cli.md example.
func BenchmarkMapSpec(b *testing.B) { benchMap(b, specMapper(b), specRow, false) }

// BenchmarkCheckSpec validates the same row as BenchmarkMapSpec.
func BenchmarkCheckSpec(b *testing.B) { benchMap(b, specMapper(b), specRow, true) }
