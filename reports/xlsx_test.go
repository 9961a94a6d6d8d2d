package reports_test

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/srimport/srimport/reports"
)

// xlsxRecords are records of every status, with text a workbook must keep
// as it is.
var xlsxRecords = []reports.Record{
	{Row: 2, Status: reports.Created, ServiceRequestID: "616000000000001", Attempts: 1, RequestID: "id-2",
		Input: []string{"Printer jam", "00123", " leading and trailing "}},
	{Row: 3, Status: reports.Invalid, ErrorClass: "validation", Error: "Severity: \"urgent\" is not one of minimal, moderate, critical",
		Input: []string{"a <b> & \"c\"\nsecond line", "", "tab\there"}},
	{Row: 5, Status: reports.Failed, ErrorClass: "rejected", Error: "HTTP 400", Attempts: 2, RequestID: "id-5",
		Input: []string{"Überprüfung 設定 подписка", "=1+1", "x"}},
	{Row: 6, Status: reports.Unknown, ErrorClass: "ambiguous", Attempts: 3, RequestID: "id-6", Input: []string{"u", "1e5", "y"}},
	{Row: 7, Status: reports.Skipped, ServiceRequestID: "616000000000002", Input: []string{"s", "007", "z"}},
	{Row: 8, Status: reports.Pending, Error: "not reached", Input: []string{"p"}},
}

// writeXLSX writes recs as the XLSX report at a new path, with info.
func writeXLSX(t *testing.T, header []string, recs []reports.Record, info reports.Info) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.xlsx")
	f, err := reports.Create(path, header)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := f.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	f.SetInfo(info)
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

// openBook opens a workbook, closed at the end of the test.
func openBook(t *testing.T, path string) *excelize.File {
	t.Helper()
	b, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// sheetXML returns the XML of a workbook's part.
func sheetXML(t *testing.T, path, part string) string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	r, err := z.Open(part)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readBack reads every record of a report with reports.Open.
func readBack(t *testing.T, path string) ([]string, []reports.Record) {
	t.Helper()
	r, err := reports.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []reports.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	return r.Header(), recs
}

// padded returns recs with every input padded to width.
func padded(recs []reports.Record, width int) []reports.Record {
	out := make([]reports.Record, len(recs))
	for i, r := range recs {
		r.Input = append([]string(nil), r.Input...)
		for len(r.Input) < width {
			r.Input = append(r.Input, "")
		}
		out[i] = r
	}
	return out
}

func TestXLSXReportReadsBackAsWritten(t *testing.T) {
	header := []string{"Title", "status", "Title"}
	path := writeXLSX(t, header, xlsxRecords, reports.Info{})

	b := openBook(t, path)
	if got, want := b.GetSheetList(), []string{reports.DataSheet, reports.SummarySheet}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	rows, err := b.GetRows(reports.DataSheet)
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"row", "status", "service_request_id", "error_class", "error", "attempts", "request_id", "Title", "input:status", "input:2:Title"}
	if !reflect.DeepEqual(rows[0], wantHeader) {
		t.Fatalf("header %q, want %q", rows[0], wantHeader)
	}
	// Row and attempts are numbers; ids and input values are text.
	// (A number's cell has no type: excelize calls it unset.)
	for cell, want := range map[string]excelize.CellType{"A2": excelize.CellTypeUnset, "F2": excelize.CellTypeUnset,
		"C2": excelize.CellTypeInlineString, "I2": excelize.CellTypeInlineString, "I6": excelize.CellTypeInlineString} {
		if got, err := b.GetCellType(reports.DataSheet, cell); err != nil || got != want {
			t.Errorf("cell %s has type %v (%v), want %v", cell, got, err, want)
		}
	}
	if v, err := b.GetCellValue(reports.DataSheet, "F4"); err != nil || v != "2" {
		t.Errorf("attempts of row 5 read %q (%v), want 2", v, err)
	}

	gotHeader, got := readBack(t, path)
	if !reflect.DeepEqual(gotHeader, header) {
		t.Fatalf("header read back %q, want %q", gotHeader, header)
	}
	if want := padded(xlsxRecords, len(header)); !reflect.DeepEqual(got, want) {
		t.Fatalf("records read back\n got %+v\nwant %+v", got, want)
	}
}

func TestXLSXReportStyles(t *testing.T) {
	path := writeXLSX(t, []string{"Title", "Severity", "Notes"}, xlsxRecords, reports.Info{})
	b := openBook(t, path)
	fill := func(cell string) (fill, font string) {
		t.Helper()
		id, err := b.GetCellStyle(reports.DataSheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := b.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Fill.Color) > 0 {
			fill = strings.ToUpper(st.Fill.Color[0])
		}
		if st.Font != nil {
			font = strings.ToUpper(st.Font.Color)
		}
		return fill, font
	}
	for cell, want := range map[string]string{
		"B2": "C6EFCE", // created: green
		"B3": "FFC7CE", // invalid: red
		"B4": "FFC7CE", // failed: red
		"B5": "FFEB9C", // unknown: amber
		"B6": "D9D9D9", // skipped: grey
		"B7": "DDEBF7", // pending: blue
	} {
		if got, _ := fill(cell); got != want {
			t.Errorf("status cell %s filled %q, want %q", cell, got, want)
		}
	}
	if got, font := fill("B2"); got == "" || font != "006100" {
		t.Errorf("created cell: fill %q font %q, want a green fill with dark green text", got, font)
	}
	if got, _ := fill("C2"); got != "" {
		t.Errorf("an id cell is filled %q, want no fill", got)
	}
	id, err := b.GetCellStyle(reports.DataSheet, "A1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Font == nil || !st.Font.Bold || len(st.Fill.Color) == 0 {
		t.Errorf("header style %+v, want bold on a fill", st)
	}

	panes, err := b.GetPanes(reports.DataSheet)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v, want the header row frozen", panes)
	}

	sheet := sheetXML(t, path, "xl/worksheets/sheet1.xml")
	if m := regexp.MustCompile(`<autoFilter ref="([^"]+)"`).FindStringSubmatch(sheet); m == nil || strings.ReplaceAll(m[1], "$", "") != "A1:J7" {
		t.Errorf("auto-filter %q, want over A1:J7, the header and the 6 records", m)
	}
	widths := regexp.MustCompile(`<col min="(\d+)" max="\d+" width="([\d.]+)"`).FindAllStringSubmatch(sheet, -1)
	if len(widths) != 10 {
		t.Fatalf("%d column widths, want 10: %q", len(widths), widths)
	}
	if widths[4][2] == widths[0][2] {
		t.Errorf("the error column is as wide as the row column: %q", widths)
	}
	if !strings.Contains(sheetXML(t, path, "xl/workbook.xml"), "_xlnm._FilterDatabase") {
		t.Error("workbook names no filter range")
	}
}

func TestXLSXSummarySheet(t *testing.T) {
	started := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	info := reports.Info{Input: "/data/tickets.csv", Run: 12, Started: started, Finished: started.Add(90 * time.Second)}
	recs := append(append([]reports.Record(nil), xlsxRecords...), reports.Record{Row: 9, Status: reports.Failed})
	path := writeXLSX(t, []string{"Title"}, recs, info)
	rows, err := openBook(t, path).GetRows(reports.SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		if len(r) == 2 {
			got[r[0]] = r[1]
		}
	}
	want := map[string]string{
		"input": "/data/tickets.csv", "run": "12",
		"started":  started.Local().Format("2006-01-02 15:04:05 -07:00"),
		"finished": started.Add(90 * time.Second).Local().Format("2006-01-02 15:04:05 -07:00"),
		"rows":     "7", "created": "1", "invalid": "1", "failed": "2", "unknown": "1", "skipped": "1", "pending": "1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("summary %q, want %q", got, want)
	}
	if rows[0][0] != "srimport report" {
		t.Errorf("summary title %q", rows[0])
	}
}

func TestXLSXSummaryLeavesOutWhatIsUnknown(t *testing.T) {
	path := writeXLSX(t, []string{"Title"}, []reports.Record{{Row: 2, Status: reports.Valid, Input: []string{"v"}}}, reports.Info{})
	rows, err := openBook(t, path).GetRows(reports.SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, r := range rows[1:] {
		if len(r) > 0 {
			labels = append(labels, r[0])
		}
	}
	if want := []string{"rows", "created", "valid", "invalid", "failed", "unknown", "skipped", "pending"}; !reflect.DeepEqual(labels, want) {
		t.Fatalf("summary labels %q, want %q", labels, want)
	}
}

func TestXLSXReportOfManyRowsAndNone(t *testing.T) {
	// More records than the writer holds back to size the columns.
	var recs []reports.Record
	for i := range 250 {
		recs = append(recs, reports.Record{Row: i + 2, Status: reports.Created, ServiceRequestID: "1", Attempts: 1, Input: []string{strings.Repeat("x", i%7)}})
	}
	_, got := readBack(t, writeXLSX(t, []string{"Title"}, recs, reports.Info{}))
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("read back %d records, want %d as written", len(got), len(recs))
	}
	header, got := readBack(t, writeXLSX(t, []string{"Title"}, nil, reports.Info{}))
	if len(got) != 0 || !reflect.DeepEqual(header, []string{"Title"}) {
		t.Fatalf("empty report read back as %q, %v", header, got)
	}
}

func TestXLSXReportIsNotInPlaceUntilCommit(t *testing.T) {
	dir := t.TempDir()
	xpath := filepath.Join(dir, "r.xlsx")
	if err := os.WriteFile(xpath, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := reports.Create(xpath, []string{"Title"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Write(reports.Record{Row: 2, Status: reports.Created, Input: []string{"t"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, xpath); got != "old" {
		t.Fatalf("before Commit the report reads %q", got)
	}
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, xpath); got != "old" {
		t.Fatalf("after Abort the report reads %q", got)
	}
	if got := names(t, dir); !reflect.DeepEqual(got, []string{"r.xlsx"}) {
		t.Fatalf("directory holds %q after Abort", got)
	}
}

func TestXLSXWriteErrorSurfacesAtClose(t *testing.T) {
	w, err := reports.NewXLSX(&failing{n: 100}, []string{"Title"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(reports.Record{Row: 2, Status: reports.Created}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, errDisk) {
		t.Fatalf("Close: %v, want the write error", err)
	}
}

func TestXLSXRefusesRowsPastASheet(t *testing.T) {
	w, err := reports.NewXLSX(io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	reports.SetXLSXLimit(w, 3) // MaxXLSXRows takes a million writes
	for i := range 3 {
		if err := w.Write(reports.Record{Row: i + 2, Status: reports.Pending}); err != nil {
			t.Fatalf("row %d: %v", i+2, err)
		}
	}
	err = w.Write(reports.Record{Row: 5, Status: reports.Pending})
	if !errors.Is(err, reports.ErrTooManyRows) || !strings.Contains(err.Error(), ".csv") {
		t.Fatalf("one row past a sheet: %v, want ErrTooManyRows suggesting .csv", err)
	}
}

func TestXLSXRecordsWaitBesideTheReport(t *testing.T) {
	dir := t.TempDir()
	f, err := reports.Create(filepath.Join(dir, "r.xlsx"), []string{"Description"})
	if err != nil {
		t.Fatal(err)
	}
	// Past excelize's 16 MiB in memory, the sheet goes to a file.
	text := strings.Repeat("x", 4<<10)
	for i := range 5000 {
		if err := f.Write(reports.Record{Row: i + 2, Status: reports.Created, Input: []string{text}}); err != nil {
			t.Fatal(err)
		}
	}
	var spill []string
	for _, n := range names(t, dir) {
		if strings.HasPrefix(n, "excelize-") {
			spill = append(spill, n)
		}
	}
	if len(spill) != 1 {
		t.Fatalf("directory holds %q while writing, want one excelize-* file beside the report", names(t, dir))
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !reflect.DeepEqual(got, []string{"r.xlsx"}) {
		t.Fatalf("directory holds %q after Commit, want only r.xlsx", got)
	}
}
