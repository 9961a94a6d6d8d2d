package input

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// xlsxSave builds a workbook with build and saves it in a temporary
// directory.
func xlsxSave(t *testing.T, build func(f *excelize.File), opts ...excelize.Options) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	build(f)
	path := filepath.Join(t.TempDir(), "book.xlsx")
	if err := f.SaveAs(path, opts...); err != nil {
		t.Fatal(err)
	}
	return path
}

// xlsxMust fails the test on err.
func xlsxMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// xlsxReadAll opens path and reads every row.
func xlsxReadAll(t *testing.T, path string, opts Options) (Reader, []Row) {
	t.Helper()
	r, err := openXLSX(path, opts)
	if err != nil {
		t.Fatalf("openXLSX: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	var rows []Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			return r, rows
		}
		if err != nil {
			t.Fatalf("Next after %d rows: %v", len(rows), err)
		}
		rows = append(rows, row)
	}
}

// xlsxStyle adds a style with a built-in (id) or custom (code) number format.
func xlsxStyle(t *testing.T, f *excelize.File, id int, code string) int {
	t.Helper()
	s := &excelize.Style{NumFmt: id}
	if code != "" {
		s.CustomNumFmt = &code
	}
	n, err := f.NewStyle(s)
	xlsxMust(t, err)
	return n
}

func TestXLSXCellValues(t *testing.T) {
	type cell struct {
		set  func(f *excelize.File, ref string)
		want string
	}
	num := func(v float64, id int, code string) func(f *excelize.File, ref string) {
		return func(f *excelize.File, ref string) {
			xlsxMust(t, f.SetCellFloat("Sheet1", ref, v, -1, 64))
			if id != 0 || code != "" {
				xlsxMust(t, f.SetCellStyle("Sheet1", ref, ref, xlsxStyle(t, f, id, code)))
			}
		}
	}
	tests := map[string]cell{
		"date builtin 14":      {num(45356, 14, ""), "2024-03-05"},
		"date custom d/m/yyyy": {num(45356, 0, "dd/mm/yyyy"), "2024-03-05"},
		"date custom mmm":      {num(45356, 0, `d "de" mmmm yyyy`), "2024-03-05"},
		"date with fraction":   {num(45356.75, 14, ""), "2024-03-05"},
		"datetime builtin 22":  {num(45356+14.5/24, 22, ""), "2024-03-05T14:30:00"},
		"datetime custom":      {num(45356+14.5/24, 0, "yyyy-mm-dd hh:mm:ss"), "2024-03-05T14:30:00"},
		"time h:mm":            {num(14.5/24, 20, ""), "14:30:00"},
		"time AM/PM":           {num(14.5/24+5.0/86400, 0, "h:mm:ss AM/PM"), "14:30:05"},
		"time mm:ss":           {num(90.0/86400, 45, ""), "00:01:30"},
		"elapsed [h]:mm":       {num(1.5, 0, "[h]:mm"), "36:00:00"},
		"early 1900 date":      {num(59, 14, ""), "1900-02-28"},
		"general integer":      {num(123456, 0, ""), "123456"},
		"general decimal":      {num(1234.5, 0, ""), "1234.5"},
		"general 0.1":          {num(0.1, 0, ""), "0.1"},
		"general float noise":  {num(0.1+0.2, 0, ""), "0.3"},
		"general negative":     {num(-42, 0, ""), "-42"},
		"general big":          {num(123456789012, 0, ""), "123456789012"},
		"zero padded 00000":    {num(123, 0, "00000"), "00123"},
		"thousands 4":          {num(1234.5, 4, ""), "1,234.50"},
		"percent 9":            {num(0.125, 10, ""), "12.50%"},
		"currency custom":      {num(1234.5, 0, `"$"#,##0.00`), "$1,234.50"},
		"accounting 44 trims":  {num(1234.5, 44, ""), "$1,234.50"},
		"text format number":   {num(123456, 49, ""), "123456"},
		"leading-zero text": {func(f *excelize.File, ref string) {
			xlsxMust(t, f.SetCellStr("Sheet1", ref, "00123"))
		}, "00123"},
		"text that looks like a date": {func(f *excelize.File, ref string) {
			xlsxMust(t, f.SetCellStr("Sheet1", ref, "2024-03-05"))
			xlsxMust(t, f.SetCellStyle("Sheet1", ref, ref, xlsxStyle(t, f, 14, "")))
		}, "2024-03-05"},
		"bool true": {func(f *excelize.File, ref string) {
			xlsxMust(t, f.SetCellBool("Sheet1", ref, true))
		}, "TRUE"},
		"bool false": {func(f *excelize.File, ref string) {
			xlsxMust(t, f.SetCellBool("Sheet1", ref, false))
		}, "FALSE"},
		"rich text": {func(f *excelize.File, ref string) {
			xlsxMust(t, f.SetCellRichText("Sheet1", ref, []excelize.RichTextRun{
				{Text: "bold ", Font: &excelize.Font{Bold: true}}, {Text: "and plain"},
			}))
		}, "bold and plain"},
		"unicode text": {func(f *excelize.File, ref string) {
			xlsxMust(t, f.SetCellStr("Sheet1", ref, "Überprüfung 設定"))
		}, "Überprüfung 設定"},
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range tests {
			if !yield(k) {
				return
			}
		}
	})
	path := xlsxSave(t, func(f *excelize.File) {
		for i, name := range names {
			col := columnLetters(i)
			xlsxMust(t, f.SetCellStr("Sheet1", col+"1", name))
			tests[name].set(f, col+"2")
		}
	})
	r, rows := xlsxReadAll(t, path, Options{})
	if got := r.Header(); !slices.Equal(got, names) {
		t.Fatalf("Header() = %q", got)
	}
	if len(rows) != 1 || rows[0].Num != 2 || rows[0].Err != nil {
		t.Fatalf("rows = %+v", rows)
	}
	for i, name := range names {
		if got := rows[0].Values[i]; got != tests[name].want {
			t.Errorf("%s: got %q, want %q", name, got, tests[name].want)
		}
	}
}

func TestXLSXDate1904(t *testing.T) {
	for _, tt := range []struct {
		date1904 bool
		serial   float64
	}{{false, 45356.6041666667}, {true, 45356.6041666667 - 1462}} {
		t.Run(fmt.Sprint("date1904=", tt.date1904), func(t *testing.T) {
			path := xlsxSave(t, func(f *excelize.File) {
				xlsxMust(t, f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &tt.date1904}))
				xlsxMust(t, f.SetSheetRow("Sheet1", "A1", &[]any{"date", "datetime", "time"}))
				for i, id := range []int{14, 22, 21} {
					ref := columnLetters(i) + "2"
					xlsxMust(t, f.SetCellFloat("Sheet1", ref, tt.serial, -1, 64))
					xlsxMust(t, f.SetCellStyle("Sheet1", ref, ref, xlsxStyle(t, f, id, "")))
				}
			})
			_, rows := xlsxReadAll(t, path, Options{})
			want := []string{"2024-03-05", "2024-03-05T14:30:00", "14:30:00"}
			if len(rows) != 1 || !slices.Equal(rows[0].Values, want) {
				t.Fatalf("rows = %+v, want %q", rows, want)
			}
		})
	}
}

// xlsxRaw writes a workbook by hand: one sheet whose <sheetData> content
// is rows, with styles 0 General, 1 numFmt 14 and 2 the custom "00000",
// and the given shared strings. extra adds or replaces parts.
func xlsxRaw(t testing.TB, rows string, sst []string, extra map[string]string) string {
	t.Helper()
	parts := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/styles.xml": `<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="00000"/></numFmts><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>`,
		"xl/worksheets/sheet1.xml": `<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1"/><sheetData>` + rows + `</sheetData></worksheet>`,
	}
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	for _, s := range sst {
		if strings.HasPrefix(s, "<") {
			sb.WriteString("<si>" + s + "</si>")
		} else {
			sb.WriteString("<si><t xml:space=\"preserve\">" + s + "</t></si>")
		}
	}
	sb.WriteString("</sst>")
	parts["xl/sharedStrings.xml"] = sb.String()
	for k, v := range extra {
		parts[k] = v
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range parts {
			if !yield(k) {
				return
			}
		}
	}) {
		w, err := zw.Create(name)
		xlsxMust(t, err)
		_, err = io.WriteString(w, parts[name])
		xlsxMust(t, err)
	}
	xlsxMust(t, zw.Close())
	path := filepath.Join(t.TempDir(), "raw.xlsx")
	xlsxMust(t, os.WriteFile(path, buf.Bytes(), 0o600))
	return path
}

func TestXLSXRawCells(t *testing.T) {
	rows := `
<row r="3"><c r="A3" t="s"><v>0</v></c><c r="C3" t="s"><v>1</v></c><c r="D3" t="inlineStr"><is><t>Notes</t></is></c></row>
<row r="4"><c r="A4" t="str"><f>CONCAT("a","b")</f><v>ab</v></c><c r="B4"><f>1+1</f><v>2</v></c><c r="D4" t="inlineStr"><is><t>line1_x000D_
line2 _x005F_x000D_ kept</t></is></c></row>
<row r="7"><c r="A7" t="s"><v>2</v></c><c r="B7" s="2"><v>123</v></c><c r="C7" s="1"><v>45356</v></c><c r="D7" t="e"><v>#N/A</v></c></row>
<row r="8" spans="1:4"><c r="A8" s="1"/><c r="B8" s="2"/></row>
<row r="9"><c r="B9" t="inlineStr"><is><r><t>rich </t></r><r><rPr><b/></rPr><t>run</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></is></c><c r="C9" t="b"><v>1</v></c><c r="D9"><f>NOW()</f></c></row>
<row r="10"><c r="A10"><v>0.10000000000000001</v></c><c r="B10"><v>1.23456E+5</v></c><c r="C10" t="s"><v>3</v></c></row>
<row r="11"><c r="A11" s="1"/></row>
<row r="12"></row>
<row r="14"><c r="C14" t="inlineStr"><is><t> </t></is></c></row>
`
	path := xlsxRaw(t, rows, []string{"Ticket", "Product", "00042", `<r><t>emoji _xD83D__xDE00_ </t></r><r><t>ok</t></r>`}, nil)
	r, got := xlsxReadAll(t, path, Options{})
	if h := r.Header(); !slices.Equal(h, []string{"Ticket", "Column B", "Product", "Notes"}) {
		t.Fatalf("Header() = %q", h)
	}
	want := []Row{
		{Num: 4, Values: []string{"ab", "2", "", "line1\r\nline2 _x000D_ kept"}},
		{Num: 7, Values: []string{"00042", "00123", "2024-03-05", "#N/A"}},
		{Num: 9, Values: []string{"", "rich run", "TRUE", ""}},
		{Num: 10, Values: []string{"0.1", "123456", "emoji 😀 ok", ""}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows: %+v", len(got), got)
	}
	for i := range want {
		if got[i].Num != want[i].Num || !slices.Equal(got[i].Values, want[i].Values) || got[i].Err != nil {
			t.Errorf("row %d = %d %q %v, want %d %q", i, got[i].Num, got[i].Values, got[i].Err, want[i].Num, want[i].Values)
		}
	}
	if g := r.(interface{ Ghost() int }).Ghost(); g != 3 {
		t.Errorf("Ghost() = %d, want 3 (rows 11, 12, 14)", g)
	}
}

func TestXLSXValueBeyondHeader(t *testing.T) {
	rows := `<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c><c r="C2" t="inlineStr"><is><t>stray note</t></is></c></row>`
	_, got := xlsxReadAll(t, xlsxRaw(t, rows, nil, nil), Options{})
	if len(got) != 1 || got[0].Err == nil || !strings.Contains(got[0].Err.Error(), "C2") || !slices.Equal(got[0].Values, []string{"x"}) {
		t.Fatalf("rows = %+v", got)
	}
}

func TestXLSXGhostRows(t *testing.T) {
	path := xlsxSave(t, func(f *excelize.File) {
		xlsxMust(t, f.SetSheetRow("Sheet1", "A1", &[]any{"Title", "Severity"}))
		xlsxMust(t, f.SetSheetRow("Sheet1", "A2", &[]any{"one", "low"}))
		xlsxMust(t, f.SetSheetRow("Sheet1", "A4", &[]any{"two", "high"}))
		// Formatted but empty cells, as Excel keeps after a deletion.
		xlsxMust(t, f.SetCellStyle("Sheet1", "A6", "B9", xlsxStyle(t, f, 14, "")))
	})
	r, rows := xlsxReadAll(t, path, Options{})
	if len(rows) != 2 || rows[0].Num != 2 || rows[1].Num != 4 {
		t.Fatalf("rows = %+v", rows)
	}
	if g := r.(interface{ Ghost() int }).Ghost(); g != 4 {
		t.Errorf("Ghost() = %d, want 4", g)
	}
}

func TestXLSXSheets(t *testing.T) {
	path := xlsxSave(t, func(f *excelize.File) {
		xlsxMust(t, f.SetSheetName("Sheet1", "Lookup"))
		xlsxMust(t, f.SetSheetRow("Lookup", "A1", &[]any{"Code", "Name"}))
		i, err := f.NewSheet("Tickets")
		xlsxMust(t, err)
		xlsxMust(t, f.SetSheetRow("Tickets", "A1", &[]any{"Title"}))
		xlsxMust(t, f.SetSheetRow("Tickets", "A2", &[]any{"first"}))
		_, err = f.NewSheet("Archive")
		xlsxMust(t, err)
		xlsxMust(t, f.SetSheetRow("Archive", "A1", &[]any{"Old"}))
		_, err = f.NewSheet("Secret")
		xlsxMust(t, err)
		f.SetActiveSheet(i)
		xlsxMust(t, f.SetSheetVisible("Lookup", false))
		xlsxMust(t, f.SetSheetVisible("Secret", false, true))
	})
	t.Run("default skips the hidden sheet", func(t *testing.T) {
		r, rows := xlsxReadAll(t, path, Options{})
		if h := r.Header(); !slices.Equal(h, []string{"Title"}) || len(rows) != 1 {
			t.Fatalf("header %q, rows %+v", h, rows)
		}
		notes := r.(interface{ Notes() []string }).Notes()
		if len(notes) != 1 || !strings.Contains(notes[0], `using sheet "Tickets"; hidden sheets skipped: "Lookup", "Secret"`) || !strings.Contains(notes[0], `"Archive"`) {
			t.Errorf("Notes() = %q", notes)
		}
	})
	t.Run("named, any case", func(t *testing.T) {
		r, _ := xlsxReadAll(t, path, Options{Sheet: "archive"})
		if h := r.Header(); !slices.Equal(h, []string{"Old"}) {
			t.Errorf("Header() = %q", h)
		}
	})
	t.Run("named hidden", func(t *testing.T) {
		r, _ := xlsxReadAll(t, path, Options{Sheet: "Lookup"})
		if h := r.Header(); !slices.Equal(h, []string{"Code", "Name"}) {
			t.Errorf("Header() = %q", h)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := openXLSX(path, Options{Sheet: "Tikets"})
		if !errors.Is(err, ErrNoSheet) || !strings.Contains(err.Error(), `"Lookup" (hidden), "Tickets", "Archive", "Secret" (hidden)`) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestXLSXEncrypted(t *testing.T) {
	path := xlsxSave(t, func(f *excelize.File) {
		xlsxMust(t, f.SetSheetRow("Sheet1", "A1", &[]any{"Title"}))
		xlsxMust(t, f.SetSheetRow("Sheet1", "A2", &[]any{"secret row"}))
	}, excelize.Options{Password: "s3cret"})
	if _, err := openXLSX(path, Options{}); !errors.Is(err, ErrEncrypted) || err.Error() != "workbook is password-protected; pass --password" {
		t.Errorf("no password: %v", err)
	}
	if _, err := openXLSX(path, Options{Password: "wrong"}); !errors.Is(err, ErrPassword) {
		t.Errorf("wrong password: %v", err)
	}
	_, rows := xlsxReadAll(t, path, Options{Password: "s3cret"})
	if len(rows) != 1 || rows[0].Values[0] != "secret row" {
		t.Errorf("rows = %+v", rows)
	}
	plain := xlsxSave(t, func(f *excelize.File) {
		xlsxMust(t, f.SetSheetRow("Sheet1", "A1", &[]any{"Title"}))
	})
	r, _ := xlsxReadAll(t, plain, Options{Password: "s3cret"})
	if notes := r.(interface{ Notes() []string }).Notes(); len(notes) != 1 || !strings.Contains(notes[0], "not password-protected") {
		t.Errorf("Notes() = %q", notes)
	}
}

func TestXLSXDateCells(t *testing.T) {
	rows := `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" t="inlineStr"><is><t>b</t></is></c><c r="C1" t="inlineStr"><is><t>c</t></is></c></row>
<row r="2"><c r="A2" t="d"><v>2024-03-05T14:30:00Z</v></c><c r="B2" t="d" s="1"><v>2024-03-05T14:30:00</v></c><c r="C2" t="d"><v>2024-03-05</v></c></row>`
	_, got := xlsxReadAll(t, xlsxRaw(t, rows, nil, nil), Options{})
	if want := []string{"2024-03-05T14:30:00", "2024-03-05", "2024-03-05"}; len(got) != 1 || !slices.Equal(got[0].Values, want) {
		t.Errorf("rows = %+v, want %q", got, want)
	}
}

func TestXLSXNotAWorkbook(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		xlsxMust(t, os.WriteFile(p, b, 0o600))
		return p
	}
	cfb := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 1024)...)
	var ods bytes.Buffer
	zw := zip.NewWriter(&ods)
	w, _ := zw.Create("mimetype")
	io.WriteString(w, "application/vnd.oasis.opendocument.spreadsheet")
	w, _ = zw.Create("content.xml")
	io.WriteString(w, "<office:document-content/>")
	xlsxMust(t, zw.Close())
	valid, err := os.ReadFile(xlsxSave(t, func(f *excelize.File) {
		xlsxMust(t, f.SetSheetRow("Sheet1", "A1", &[]any{"Title"}))
	}))
	xlsxMust(t, err)

	tests := []struct {
		name, path string
		want       error
		msg        string
	}{
		{"xls", write("old.xlsx", cfb), ErrNotXLSX, ".xls"},
		{"ods", write("calc.xlsx", ods.Bytes()), ErrNotXLSX, ".ods"},
		{"csv", write("data.xlsx", []byte("Title,Severity\nx,low\n")), ErrNotXLSX, "CSV"},
		{"truncated", write("half.xlsx", valid[:len(valid)/2]), ErrCorrupt, "truncated"},
		{"empty file", write("empty.xlsx", nil), ErrCorrupt, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openXLSX(tt.path, Options{})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
			if tt.want == ErrNotXLSX && !errors.Is(err, ErrUnsupported) {
				t.Errorf("err = %v does not wrap ErrUnsupported", err)
			}
		})
	}
}

func TestXLSXEmptySheet(t *testing.T) {
	for name, path := range map[string]string{
		"no rows": xlsxSave(t, func(f *excelize.File) {}),
		"only blank cells": xlsxSave(t, func(f *excelize.File) {
			xlsxMust(t, f.SetCellStyle("Sheet1", "A1", "C3", xlsxStyle(t, f, 14, "")))
		}),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := openXLSX(path, Options{}); !errors.Is(err, ErrNoHeader) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestXLSXHostile(t *testing.T) {
	bomb := `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>`
	header := `<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c></row>`
	tests := map[string]struct {
		path string
		msg  string
	}{
		"entity bomb in sheet":    {xlsxRaw(t, "", nil, map[string]string{"xl/worksheets/sheet1.xml": bomb}), "DOCTYPE"},
		"entity bomb in workbook": {xlsxRaw(t, header, nil, map[string]string{"xl/workbook.xml": strings.Replace(bomb, "worksheet", "workbook", 2)}), "DOCTYPE"},
		"entity bomb in strings":  {xlsxRaw(t, header, nil, map[string]string{"xl/sharedStrings.xml": strings.Replace(bomb, "worksheet", "sst", 2)}), "DOCTYPE"},
		"reference A0":            {xlsxRaw(t, `<row r="1"><c r="A0"><v>1</v></c></row>`, nil, nil), `"A0"`},
		"reference !!":            {xlsxRaw(t, `<row r="1"><c r="!!"><v>1</v></c></row>`, nil, nil), `"!!"`},
		"reference off its row":   {xlsxRaw(t, `<row r="1"><c r="B7"><v>1</v></c></row>`, nil, nil), `"B7"`},
		"column past XFD":         {xlsxRaw(t, `<row r="1"><c r="XFE1"><v>1</v></c></row>`, nil, nil), `"XFE1"`},
		"row number 0":            {xlsxRaw(t, `<row r="0"><c><v>1</v></c></row>`, nil, nil), `"0"`},
		"rows out of order":       {xlsxRaw(t, header+`<row r="1"><c><v>1</v></c></row>`, nil, nil), "order"},
		"bad shared string":       {xlsxRaw(t, `<row r="1"><c r="A1" t="s"><v>7</v></c></row>`, []string{"only"}, nil), "shared string 7"},
		"unclosed XML":            {xlsxRaw(t, header+`<row r="2"><c r="A2"><v>1</v>`, nil, nil), "near row 2"},
		"unknown entity":          {xlsxRaw(t, `<row r="1"><c r="A1" t="inlineStr"><is><t>&bad;</t></is></c></row>`, nil, nil), "entity"},
		"missing sheet part": {xlsxRaw(t, header, nil, map[string]string{"xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/nope.xml"/></Relationships>`}), "nope.xml"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := xlsxReadErr(tt.path)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want ErrCorrupt mentioning %s", err, tt.msg)
			}
		})
	}
	t.Run("error in a data row is fatal, not EOF", func(t *testing.T) {
		path := xlsxRaw(t, header+`<row r="2"><c r="A2" t="inlineStr"><is><t>ok</t></is></c></row><row r="3"><c r="A0"><v>1</v></c></row>`, nil, nil)
		r, err := openXLSX(path, Options{})
		xlsxMust(t, err)
		defer r.Close()
		if row, err := r.Next(); err != nil || row.Values[0] != "ok" {
			t.Fatalf("first row: %+v %v", row, err)
		}
		if _, err := r.Next(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("second Next: %v", err)
		}
		if _, err := r.Next(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("third Next: %v", err)
		}
	})
}

// xlsxReadErr opens path and reads it to the end, returning the first error.
func xlsxReadErr(path string) error {
	r, err := openXLSX(path, Options{})
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if _, err := r.Next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func TestGuardReader(t *testing.T) {
	read := func(g *guardReader) error {
		_, err := io.Copy(io.Discard, g)
		return err
	}
	body := strings.Repeat("<c>"+strings.Repeat("x", 50)+"</c>", 10)
	if err := read(&guardReader{rc: io.NopCloser(strings.NewReader(body)), limit: 1000, gap: 100}); err != nil {
		t.Errorf("within limits: %v", err)
	}
	if err := read(&guardReader{rc: io.NopCloser(strings.NewReader(body)), limit: 100, gap: 100}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("size limit: %v", err)
	}
	if err := read(&guardReader{rc: io.NopCloser(strings.NewReader(body)), limit: 1000, gap: 40}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("gap limit: %v", err)
	}
}

func TestSharedStringsSpill(t *testing.T) {
	s := &sharedStrings{spill: 10}
	want := []string{"alpha", "", "beta gamma", "δ"}
	for _, w := range want {
		xlsxMust(t, s.add(w))
	}
	xlsxMust(t, s.flush())
	if s.file == nil {
		t.Fatal("did not spill")
	}
	name := s.file.Name()
	for i, w := range want {
		if got, err := s.get(i); got != w || err != nil {
			t.Errorf("get(%d) = %q, %v", i, got, err)
		}
	}
	if _, err := s.get(4); err == nil {
		t.Error("get(4) did not fail")
	}
	xlsxMust(t, s.Close())
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
}

func TestClassify(t *testing.T) {
	for code, want := range map[string]numKind{
		"General": kindGeneral, "@": kindGeneral, "0.00": kindNumber, `0.00 "days"`: kindNumber,
		"0.00E+00": kindNumber, `#,##0 \m`: kindNumber, "[Red]0.00;[Blue]-0.00": kindNumber,
		"yyyy-mm-dd": kindDate, "mmm-yy": kindDate, `[$-409]d\-mmm\-yyyy`: kindDate,
		"h:mm": kindTime, "mm:ss": kindTime, "h AM/PM": kindTime, "[h]:mm:ss": kindElapsed,
		"m/d/yy h:mm": kindDateTime, "yyyy-mm-dd hh:mm:ss.000": kindDateTime,
	} {
		if got := numFmtKind(code).kind; got != want {
			t.Errorf("numFmtKind(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestParseRef(t *testing.T) {
	for ref, want := range map[string][2]int{"A1": {1, 1}, "b12": {2, 12}, "$C$3": {3, 3}, "XFD1048576": {16384, 1048576}} {
		if c, r, ok := parseRef(ref); !ok || c != want[0] || r != want[1] {
			t.Errorf("parseRef(%q) = %d, %d, %v", ref, c, r, ok)
		}
	}
	for _, ref := range []string{"", "A", "1", "A0", "!!", "XFE1", "A1048577", "A1B", "A-1"} {
		if _, _, ok := parseRef(ref); ok {
			t.Errorf("parseRef(%q) ok", ref)
		}
	}
}
