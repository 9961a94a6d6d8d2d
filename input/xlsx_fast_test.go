package input

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// sheetFixture opens a package whose shared strings and styles the sheet
// documents of these tests refer to: strings 0-3, style 1 a date, style 2
// the format 00000.
func sheetFixture(t testing.TB) (*xlsxPackage, *styleTable) {
	t.Helper()
	path := xlsxRaw(t, "", []string{"Ticket", "Product", "00042", "a &amp; b"}, nil)
	pkg, _, err := openPackage(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if pkg.sst, err = pkg.loadSharedStrings(); err != nil {
		t.Fatal(err)
	}
	styles, err := pkg.loadStyles()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { styles.Close(); pkg.Close() })
	return pkg, styles
}

// sheetDoc is a worksheet document around rows.
func sheetDoc(rows string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">` +
		"\n<dimension ref=\"A1\"/>\n<sheetData>" + rows + "</sheetData></worksheet>"
}

// readSheetDoc reads a worksheet document and describes what it gives:
// the header, every row and the error that ended reading. With noScan
// every row is read with encoding/xml in one decoder, as before the
// scanner existed; bufSize, if not 0, is the stream's first buffer size.
func readSheetDoc(pkg *xlsxPackage, styles *styleTable, doc string, noScan bool, bufSize int) string {
	r := &xlsxReader{pkg: pkg, sheet: "Data", styles: styles, noScan: noScan}
	r.stream = newSheetStream(strings.NewReader(doc))
	if bufSize > 0 {
		r.stream.buf = make([]byte, bufSize)
	}
	r.dec = newStreamDecoder(r.stream)
	var b strings.Builder
	if err := r.readHeader(); err != nil {
		return "header error: " + err.Error()
	}
	fmt.Fprintf(&b, "header %q\n", r.header)
	for range 10000 {
		row, err := r.Next()
		if err != nil {
			fmt.Fprintf(&b, "end: %v (ghost %d)", err, r.Ghost())
			return b.String()
		}
		fmt.Fprintf(&b, "%d %q %v\n", row.Num, row.Values, row.Err)
	}
	return b.String() + "does not end"
}

// compareScanner fails t unless reading rows with the scanner gives what
// encoding/xml alone gives, whatever the stream's buffer size.
func compareScanner(t *testing.T, pkg *xlsxPackage, styles *styleTable, rows string) {
	t.Helper()
	doc := sheetDoc(rows)
	want := readSheetDoc(pkg, styles, doc, true, 0)
	for _, size := range []int{1, 2, 5, 16, 100, 0} {
		if got := readSheetDoc(pkg, styles, doc, false, size); got != want {
			t.Fatalf("rows %q, buffer %d:\nscanner:\n%s\nencoding/xml:\n%s", rows, size, got, want)
		}
	}
}

// scannerCases are rows at the edges of the plain form.
var scannerCases = []string{
	`<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c><c r="B2"><v>12</v></c></row>`,
	`<row><c t="s"><v>0</v></c></row><row><c><v>1.5</v></c><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c></row>`,
	`<row r="1" spans="1:2" x14ac:dyDescent="0.25"><c r="A1" s="0" t="s"><v>0</v></c></row>` + "\n  " + `<row r="3" ><c r="B3" s="1"><v>45356</v></c ><c r='C3' s='2'><v>7</v></c></row >`,
	`<row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve"> a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; </t></is></c></row>`,
	`<row r="1"><c r="A1" t="inlineStr"><is><t>a</t><t>b</t></is></c><c r="B1" t="str"><f>CONCAT("a","b")</f><v>ab</v></c><c r="C1"><f t="shared" si="0"/><v>2</v></c></row>`,
	`<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c></row><row r="2"/><row r="3"><c r="A3"/></row><row r="4"><c r="A4" t="inlineStr"><is><t/></is></c></row><row r="5"><c r="A5"><v/></c></row>`,
	// What the scanner leaves to encoding/xml.
	`<row r="1"><c r="A1" t="inlineStr"><is><r><t>rich </t></r><r><rPr><b/></rPr><t>run</t></r><rPh sb="0" eb="1"><t>P</t></rPh></is></c></row>`,
	`<row r="1"><c r="A1" t="inlineStr"><is><t>&#65;&#x42;&#10;</t></is></c></row>`,
	`<row r="1"><c r="A1" t="inlineStr"><is><t>line1` + "\r\n" + `line2` + "\r" + `x</t></is></c></row>`,
	`<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[<x>&]]></t></is></c></row><!-- a comment --><?pi data?>`,
	`<row r="1"><c r="A1"><v>1</v><extLst><ext uri="x"/></extLst></c></row><extLst/>`,
	`<x:row r="1" xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:c r="A1"><x:v>1</x:v></x:c></x:row>`,
	`<row r="1" y:r="5" xmlns:y="u"><c r="A1" y:t="s"><v>1</v></c></row>`,
	`text between <row r="1"><c r="A1"><v>1</v></c></row> rows`,
	// Damaged rows: encoding/xml's error, counted from the document's start.
	`<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c></row><row r="2"><c r="A2"><v>1</v>`,
	`<row r="1"><c r="A1" t="inlineStr"><is><t>&bad;</t></is></c></row>`,
	`<row r="1"><c r="A1" t="inlineStr"><is><t>` + "\x01" + `</t></is></c></row>`,
	`<row r="1"><c r="A1" t="inlineStr"><is><t>` + "\xff" + `</t></is></c></row>`,
	`<row r="1"><c r="A1" t="inlineStr"><is><t>` + "\uFFFE" + `</t></is></c></row>`,
	`<row r="1"><c r="A1"><v>1</c></row>`, `<row r="1"><c r="A1" t=s><v>1</v></c></row>`, `<row r="1"><c r="A1" t><v>1</v></c></row>`,
	`<row r="1"><c r="A0"><v>1</v></c></row>`, `<row r="2"><c r="A2"><v>1</v></c></row><row r="2"><c><v>1</v></c></row>`,
	`<row r="0"><c><v>1</v></c></row>`, `<row r="x"><c><v>1</v></c></row>`, `<row r="1"><c r="B1"><v>1</v></c><c r="A1"><v>2</v></c></row>`,
	`<row r="1"><c r="A1" t="s"><v>9</v></c></row>`, `<row r="1"><c r="A1" t="s"><v>x</v></c></row>`,
	`<row r="1"><c r="A1"><v>1</v></c></row></worksheet>`, `<row r="1"><c r="A1"><v>1</v></c></row><!DOCTYPE x>`,
	`<row r="1"><c r="A1" r="B1"><v>1</v></c></row>`, `<row r="1" r="3"><c><v>1</v></c></row>`, `<row r="1"><c a:b:c="1"><v>1</v></c></row>`,
	// Attributes read by their local name, as encoding/xml gives them.
	`<row r="1"><c><v>h</v></c></row><row r="2" r="5"><c><v>1</v></c></row>`,
	`<row r="1"><c><v>h</v></c><c><v>h2</v></c></row><row r="2"><c r="A2" r="B2"><v>1</v></c></row>`,
	`<row r="1"><c><v>h</v></c></row><row x14ac:r="6" r="2"><c x14ac:dyDescent="1"><v>1</v></c></row>`,
	`<row r="1"><c><v>h</v></c></row><row r="2"><c x14ac:t="s"><v>1</v></c></row>`,
	`<row r="1"><c><v>h</v></c></row><row r="2"><c xmlns:y="u" y:s="1"><v>45356</v></c></row>`,
}

func TestRowScannerMatchesEncodingXML(t *testing.T) {
	pkg, styles := sheetFixture(t)
	for _, rows := range scannerCases {
		compareScanner(t, pkg, styles, rows)
	}
}

// TestRowScannerMatchesEncodingXMLOnRandomRows compares the two on rows
// assembled at random from plain and unusual pieces, some cut short.
func TestRowScannerMatchesEncodingXMLOnRandomRows(t *testing.T) {
	pkg, styles := sheetFixture(t)
	rng := rand.New(rand.NewPCG(3, 4))
	texts := []string{"x", "Title", " spaced ", "a &amp; b", "&lt;", "&#65;", "&bad;", "é", "設定", "\xff", "\uFFFE", "\x01",
		"\t", "\n", "\r\n", "_x000D_", "<![CDATA[c]]>", "<!--c-->", "1.5", "45356", "0", "3", "TRUE", ""}
	cell := func(row int) string {
		ref := ""
		if rng.IntN(4) > 0 {
			ref = fmt.Sprintf(` r="%c%d"`, 'A'+rune(rng.IntN(4)), row-rng.IntN(8)/7)
		}
		text := texts[rng.IntN(len(texts))]
		switch rng.IntN(8) {
		case 0:
			return "<c" + ref + " t=\"inlineStr\"><is><t>" + text + "</t></is></c>"
		case 1:
			return "<c" + ref + " t=\"s\"><v>" + fmt.Sprint(rng.IntN(5)) + "</v></c>"
		case 2:
			return "<c" + ref + fmt.Sprintf(` s="%d"`, rng.IntN(3)) + "><v>" + text + "</v></c>"
		case 3:
			return "<c" + ref + "/>"
		case 4:
			return "<c" + ref + " t=\"str\"><f>" + text + "</f><v>" + text + "</v></c>"
		case 5:
			return "<c" + ref + " t=\"inlineStr\"><is><r><t>" + text + "</t></r></is></c>"
		case 6:
			return "<c" + ref + "><v>" + text + "</v></c>"
		}
		return []string{"<extLst/>", "<!--x-->", " ", "\n", "<c", "</c>", "<c r=\"A1\" t=\"inlineStr\"><is><t>x</is></c>"}[rng.IntN(7)]
	}
	n := 4000
	if testing.Short() {
		n = 400
	}
	for range n {
		var b strings.Builder
		num := 0
		for range 1 + rng.IntN(4) {
			num += 1 + rng.IntN(2)
			if rng.IntN(10) == 0 {
				b.WriteString("<row/>")
				continue
			}
			fmt.Fprintf(&b, `<row r="%d">`, num)
			for range rng.IntN(4) {
				b.WriteString(cell(num))
			}
			b.WriteString("</row>")
		}
		rows := b.String()
		if rng.IntN(6) == 0 {
			rows = rows[:rng.IntN(len(rows)+1)]
		}
		compareScanner(t, pkg, styles, rows)
	}
}

// TestRowScannerTakesPlainRows checks that the plain form is read without
// encoding/xml: a decoder is made only for the unusual row.
func TestRowScannerTakesPlainRows(t *testing.T) {
	pkg, styles := sheetFixture(t)
	doc := sheetDoc(`<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c></row>` +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>a &amp; b</t></is></c></row>` +
		`<row r="3"><c r="A3" t="inlineStr"><is><t>&#65;</t></is></c></row>` +
		`<row r="4"><c r="A4" t="s"><v>1</v></c></row>`)
	r := &xlsxReader{pkg: pkg, sheet: "Data", styles: styles}
	r.stream = newSheetStream(strings.NewReader(doc))
	r.dec = newStreamDecoder(r.stream)
	if err := r.readHeader(); err != nil {
		t.Fatal(err)
	}
	prologue := r.dec
	var decoders int
	var got []string
	for {
		before := r.dec
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.dec != before && r.dec != prologue {
			decoders++
		}
		got = append(got, row.Values[0])
	}
	if strings.Join(got, "|") != "a & b|A|Product" || decoders != 1 {
		t.Errorf("rows %q read with %d decoders, want a & b|A|Product with 1 (for &#65;)", got, decoders)
	}
}

// FuzzRowScanner holds the scanner to encoding/xml on any rows.
func FuzzRowScanner(f *testing.F) {
	for _, rows := range scannerCases {
		f.Add(rows)
	}
	pkg, styles := sheetFixture(f)
	f.Fuzz(func(t *testing.T, rows string) {
		compareScanner(t, pkg, styles, rows)
	})
}
