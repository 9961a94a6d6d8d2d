// Package inputtest generates input files shaped like real ticket exports,
// for benchmarks and tests: the same rows, in the same order, for the same
// seed, as CSV or as an XLSX workbook.
//
// Each row has the columns of Header. A title is 50 to 70 characters ("#n "
// and words); a description 360 to 440 characters of words with ", "
// about every seventh word, of which about one in five holds a multi-line
// "Steps:" block and one in ten starts with a "quoted" phrase; about one
// word in sixty is not ASCII (Überprüfung, 設定, подписка). Severities,
// 8-digit support topic ids and eight locales vary; the note is empty in
// about a third of the rows. As CSV a row averages about 528 bytes and
// 1.6 physical lines. Every row is valid for srimport's automatic mapping.
package inputtest

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Header is the header row of a generated file.
var Header = []string{"title", "description", "severity", "supportTopicId", "agentLocale", "note"}

var (
	asciiWords = strings.Fields(`customer reports billing difference invoice reservation subscription
		usage portal tenant license plan applied discount monthly charge credit refund partner center
		account renewal the a is not for on after with from was still billed pay-as-you-go instance
		region quota request approved pending order cancelled migration azure office seats payment
		method failed checkout price list currency exchange rate tax exemption certificate uploaded`)
	otherWords = []string{"Überprüfung", "設定", "подписка", "Rechnungsänderung", "料金", "счёт"}
	severities = []string{"minimal", "moderate", "critical"}
	locales    = []string{"en-US", "de-DE", "fr-FR", "ja-JP", "pt-BR", "nl-NL", "es-ES", "en-GB"}
	notes      = []string{"called the customer back", "waiting for the invoice copy",
		"escalated to billing, per account manager", "customer confirmed the tenant id",
		"duplicate of an older ticket"}
)

const steps = "\nSteps:\n1. open portal\n2. retry"

// Generator produces the rows of one file.
type Generator struct {
	rng *rand.Rand
	n   int
	b   strings.Builder
	row []string
}

// New returns a generator of the rows seed determines.
func New(seed uint64) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), row: make([]string, len(Header))}
}

// word returns a random word: ASCII, or one time in sixty not.
func (g *Generator) word() string {
	if g.rng.IntN(60) == 0 {
		return otherWords[g.rng.IntN(len(otherWords))]
	}
	return asciiWords[g.rng.IntN(len(asciiWords))]
}

// words appends words to g.b until it holds at least n bytes; with
// commas set, ", " separates about every seventh word.
func (g *Generator) words(n int, commas bool) {
	for i := 0; g.b.Len() < n; i++ {
		if i > 0 {
			if commas && g.rng.IntN(7) == 0 {
				g.b.WriteString(", ")
			} else {
				g.b.WriteByte(' ')
			}
		}
		g.b.WriteString(g.word())
	}
}

// Row returns the next row. The slice is reused by the next call; its
// strings are not.
func (g *Generator) Row() []string {
	g.n++
	g.b.Reset()
	g.b.WriteString("#")
	g.b.WriteString(strconv.Itoa(g.n))
	g.b.WriteByte(' ')
	g.words(50+g.rng.IntN(14), false)
	g.row[0] = g.b.String()

	g.b.Reset()
	if g.rng.IntN(10) == 0 {
		g.b.WriteString(`"Cannot apply" is shown, `)
	}
	n := 376 + g.rng.IntN(75)
	block := g.rng.IntN(5) == 0
	if block {
		n -= len(steps)
	}
	g.words(n, true)
	if block {
		g.b.WriteString(steps)
	}
	g.row[1] = g.b.String()

	g.row[2] = severities[g.rng.IntN(len(severities))]
	g.row[3] = strconv.Itoa(32400000 + g.rng.IntN(100000))
	g.row[4] = locales[g.rng.IntN(len(locales))]
	g.row[5] = ""
	if g.rng.IntN(3) != 0 {
		g.row[5] = notes[g.rng.IntN(len(notes))]
	}
	return g.row
}

// WriteCSV writes a UTF-8 CSV file of rows data rows after Header.
func WriteCSV(w io.Writer, rows int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := csv.NewWriter(bw)
	if err := cw.Write(Header); err != nil {
		return err
	}
	g := New(seed)
	for range rows {
		if err := cw.Write(g.Row()); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return bw.Flush()
}

// WriteXLSX writes a workbook whose one sheet, Sheet1, holds the rows
// WriteCSV writes for the same seed, as excelize's stream writer stores
// them (inline strings), compressed at deflate level 1 to save time.
func WriteXLSX(w io.Writer, rows int, seed uint64) error {
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
	cells := make([]any, len(Header))
	for i, h := range Header {
		cells[i] = h
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	g := New(seed)
	for i := range rows {
		for j, v := range g.Row() {
			cells[j] = v
		}
		ref, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(ref, cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write XLSX: %w", err)
	}
	return nil
}
