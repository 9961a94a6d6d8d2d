package reports

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// The XLSX report's sheets.
const (
	// DataSheet is the name of the XLSX report's first sheet, which holds
	// the records: the one srimport reads back.
	DataSheet = "Report"
	// SummarySheet is the name of the sheet with the run's counts.
	SummarySheet = "Summary"
)

// MaxXLSXRows is the number of records an XLSX report holds at most:
// Excel's 1,048,576 rows a sheet, less the header.
const MaxXLSXRows = excelize.TotalRows - 1

// ErrTooManyRows is returned by an XLSX report's Write for a record past
// MaxXLSXRows.
var ErrTooManyRows = errors.New("too many rows for an .xlsx report")

// sampleRows is how many records the XLSX writer holds back to size the
// columns by: a sheet's column widths come before its first row.
const sampleRows = 100

// Column widths, in characters of the default font.
const (
	minWidth   = 6
	maxWidth   = 50
	errorWidth = 70 // the error column may be wider: it is read
)

// Info is what a report says about its run besides the records: the XLSX
// report's Summary sheet shows it. Zero fields are unknown and left out.
type Info struct {
	Input    string    // the input file
	Run      int64     // the run's number in the state store
	Started  time.Time // when the run started
	Finished time.Time // when it finished
}

// XLSXWriter writes the report as an Excel workbook: the records on the
// sheet DataSheet, the run's counts on the sheet SummarySheet.
//
// The data sheet's header is styled, frozen and has an auto-filter over
// the records; each status cell is coloured (created and valid green,
// invalid and failed red, unknown amber, skipped grey, pending blue); the
// row and attempts columns are numbers, every other cell text, as read;
// the column widths follow the header and the first records. A text
// longer than Excel's 32,767 characters a cell is cut there.
//
// The records go to a temporary file of excelize's as they come (past
// 16 MiB), so memory stays flat while they are written: for a File, an
// "excelize-<n>" file beside the report (not in the temporary directory,
// which may be memory: tmpfs), otherwise in os.TempDir. It holds about
// the report's sheet uncompressed, ~1 KB a record for a row of ticket
// text. Close assembles the workbook and writes it to the destination as
// a stream: it takes time (deflate) but no memory in proportion to the
// report. Until then the destination holds nothing: Flush writes nothing,
// a workbook cannot be read before its end.
type XLSXWriter struct {
	dest   io.Writer
	closer io.Closer // nil when the destination is not ours to close
	book   *excelize.File
	sheet  *excelize.StreamWriter
	header []string // the report's header: Columns, then InputColumns
	width  int      // input columns
	style  xlsxStyles
	sample []Record // records held back until the column widths are set
	rows   int      // records taken
	limit  int      // records taken at most: MaxXLSXRows
	counts [len(statusOrder)]int
	info   Info
	cells  []any
	done   bool
}

// statusOrder is Statuses as an array, to count by index.
var statusOrder = [...]Status{Created, Valid, Invalid, Failed, Unknown, Skipped, Pending}

// statusIndex returns s's index in statusOrder.
func statusIndex(s Status) int {
	for i, t := range statusOrder {
		if t == s {
			return i
		}
	}
	return -1
}

// xlsxStyles are the workbook's cell style ids.
type xlsxStyles struct {
	header, label, title int
	status               [len(statusOrder)]int
}

// NewXLSX returns a writer of the XLSX report with the fixed columns
// (Columns) and the input columns as InputColumns names them. The workbook
// is written to w by Close; if w is an io.Closer, Close closes it.
func NewXLSX(w io.Writer, inputHeader []string) (*XLSXWriter, error) {
	xw, err := newXLSX(w, inputHeader, "")
	if err != nil {
		return nil, err
	}
	if c, ok := w.(io.Closer); ok {
		xw.closer = c
	}
	return xw, nil
}

// newXLSX is NewXLSX with a destination it never closes, and its
// temporary files in tmpDir ("" for os.TempDir).
func newXLSX(w io.Writer, inputHeader []string, tmpDir string) (*XLSXWriter, error) {
	book := excelize.NewFile(excelize.Options{TmpDir: tmpDir})
	xw := &XLSXWriter{dest: w, book: book, width: len(inputHeader), limit: MaxXLSXRows}
	xw.header = append(Columns(), InputColumns(inputHeader)...)
	if err := xw.prepare(); err != nil {
		book.Close()
		return nil, fmt.Errorf("create xlsx report: %w", err)
	}
	return xw, nil
}

// prepare names the sheets and makes the styles.
func (w *XLSXWriter) prepare() error {
	if err := w.book.SetSheetName("Sheet1", DataSheet); err != nil {
		return err
	}
	if _, err := w.book.NewSheet(SummarySheet); err != nil {
		return err
	}
	var err error
	border := []excelize.Border{{Type: "bottom", Color: "7F7F7F", Style: 1}}
	if w.style.header, err = w.book.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"305496"}},
		Border:    border,
		Alignment: &excelize.Alignment{Vertical: "center"},
	}); err != nil {
		return err
	}
	if w.style.label, err = w.book.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return err
	}
	if w.style.title, err = w.book.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}); err != nil {
		return err
	}
	for i, s := range statusOrder {
		fill, font := statusColors(s)
		if w.style.status[i], err = w.book.NewStyle(&excelize.Style{
			Font: &excelize.Font{Color: font},
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{fill}},
		}); err != nil {
			return err
		}
	}
	return nil
}

// statusColors returns the fill and font colours of a status cell: those
// of Excel's Good, Bad and Neutral cell styles, grey and blue, light fills
// with dark text that stay readable when printed.
func statusColors(s Status) (fill, font string) {
	switch s {
	case Created, Valid:
		return "C6EFCE", "006100"
	case Invalid, Failed:
		return "FFC7CE", "9C0006"
	case Unknown:
		return "FFEB9C", "9C5700"
	case Skipped:
		return "D9D9D9", "3F3F3F"
	default: // Pending
		return "DDEBF7", "1F4E78"
	}
}

// Write adds one record. Past MaxXLSXRows records it returns an error
// wrapping ErrTooManyRows.
func (w *XLSXWriter) Write(r Record) error {
	if w.done {
		return fmt.Errorf("write report row %d: %w", r.Row, errClosedWriter)
	}
	if w.rows >= w.limit {
		return fmt.Errorf("write report row %d: %w: a sheet holds %d records at most; write a .csv or .jsonl report", r.Row, ErrTooManyRows, w.limit)
	}
	w.rows++
	if i := statusIndex(r.Status); i >= 0 {
		w.counts[i]++
	}
	if w.sheet == nil {
		r.Input = append([]string(nil), r.Input...) // the caller may reuse it
		w.sample = append(w.sample, r)
		if len(w.sample) < sampleRows {
			return nil
		}
		return w.start()
	}
	return w.row(w.rows+1, r)
}

var errClosedWriter = errors.New("the report is closed")

// start sizes the columns by the header and the records held back, writes
// the header and those records.
func (w *XLSXWriter) start() error {
	sw, err := w.book.NewStreamWriter(DataSheet)
	if err != nil {
		return fmt.Errorf("write xlsx report: %w", err)
	}
	w.sheet = sw
	for i, width := range w.widths() {
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return fmt.Errorf("write xlsx report: %w", err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return fmt.Errorf("write xlsx report: %w", err)
	}
	cells := make([]any, len(w.header))
	for i, h := range w.header {
		cells[i] = excelize.Cell{StyleID: w.style.header, Value: h}
	}
	if err := sw.SetRow("A1", cells, excelize.RowOpts{Height: 20}); err != nil {
		return fmt.Errorf("write xlsx report header: %w", err)
	}
	for i, r := range w.sample {
		if err := w.row(i+2, r); err != nil {
			return err
		}
	}
	w.sample = nil
	return nil
}

// widths returns each column's width: its longest line among the header
// and the records held back, with a margin, within limits.
func (w *XLSXWriter) widths() []float64 {
	longest := make([]int, len(w.header))
	for i, h := range w.header {
		longest[i] = textWidth(h) + 3 // room for the filter button
	}
	var line []string
	for _, r := range w.sample {
		line = r.fields(line[:0], w.width)
		for i, v := range line[:min(len(line), len(longest))] {
			longest[i] = max(longest[i], textWidth(v))
		}
	}
	out := make([]float64, len(longest))
	for i, n := range longest {
		limit := maxWidth
		if i == 4 { // error
			limit = errorWidth
		}
		out[i] = float64(min(max(n+2, minWidth), limit))
	}
	return out
}

// textWidth is the length in characters of s's longest line.
func textWidth(s string) int {
	longest, n := 0, 0
	for _, c := range s {
		if c == '\n' {
			longest, n = max(longest, n), 0
			continue
		}
		n++
	}
	return max(longest, n)
}

// fields appends r's cells as text, the input padded to width, to dst.
func (r Record) fields(dst []string, width int) []string {
	dst = append(dst, strconv.Itoa(r.Row), string(r.Status), r.ServiceRequestID,
		r.ErrorClass, r.Error, strconv.Itoa(r.Attempts), r.RequestID)
	dst = append(dst, r.Input...)
	for i := len(r.Input); i < width; i++ {
		dst = append(dst, "")
	}
	return dst
}

// row writes r as the sheet's row n.
func (w *XLSXWriter) row(n int, r Record) error {
	cells := append(w.cells[:0], r.Row, string(r.Status), r.ServiceRequestID,
		r.ErrorClass, r.Error, r.Attempts, r.RequestID)
	if i := statusIndex(r.Status); i >= 0 {
		cells[1] = excelize.Cell{StyleID: w.style.status[i], Value: string(r.Status)}
	}
	for _, v := range r.Input {
		cells = append(cells, v)
	}
	w.cells = cells
	cell, err := excelize.CoordinatesToCellName(1, n)
	if err == nil {
		err = w.sheet.SetRow(cell, cells)
	}
	if err != nil {
		return fmt.Errorf("write report row %d: %w", r.Row, err)
	}
	return nil
}

// Flush does nothing: the workbook is written whole by Close.
func (w *XLSXWriter) Flush() error { return nil }

// SetInfo sets what the Summary sheet says about the run.
func (w *XLSXWriter) SetInfo(info Info) { w.info = info }

// Close writes the workbook to the destination and closes it (when it
// is an io.Closer).
func (w *XLSXWriter) Close() error {
	err := w.finish()
	if w.closer != nil {
		if cerr := w.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close report: %w", cerr)
		}
	}
	return err
}

// finish writes the workbook to the destination, without closing it, and
// releases the writer's temporary files.
func (w *XLSXWriter) finish() (err error) {
	if w.done {
		return fmt.Errorf("write report: %w", errClosedWriter)
	}
	defer func() {
		if cerr := w.discard(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if w.sheet == nil {
		if err := w.start(); err != nil {
			return err
		}
	}
	last, err := excelize.CoordinatesToCellName(len(w.header), w.rows+1)
	if err != nil {
		return fmt.Errorf("write xlsx report: %w", err)
	}
	// The stream's worksheet is the one AutoFilter changes: Flush writes
	// the filter after the rows.
	if err := w.book.AutoFilter(DataSheet, "A1:"+last, nil); err != nil {
		return fmt.Errorf("write xlsx report: %w", err)
	}
	if err := w.sheet.Flush(); err != nil {
		return fmt.Errorf("write xlsx report: %w", err)
	}
	if err := w.summary(); err != nil {
		return fmt.Errorf("write xlsx report summary: %w", err)
	}
	w.book.SetActiveSheet(0)
	return w.save()
}

// save writes the workbook to the destination as a stream. excelize's
// Write assembles the whole zip archive in memory first (hundreds of MiB
// for a million rows); WriteToBuffer hands the zip writer the buffer it
// will return, so a zip writer on the destination instead writes every
// part there as it goes and leaves that buffer empty.
func (w *XLSXWriter) save() error {
	out := &errWriter{w: w.dest}
	w.book.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(out)
		// Deflate's fastest level: the default takes twice as long
		// for a file about a sixth smaller.
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.BestSpeed)
		})
		return zw
	})
	buf, err := w.book.WriteToBuffer()
	if out.err != nil {
		return fmt.Errorf("write report: %w", out.err)
	}
	if err != nil {
		return fmt.Errorf("write xlsx report: %w", err)
	}
	if buf.Len() != 0 {
		return errors.New("write xlsx report: the workbook went to memory, not to the report file")
	}
	return nil
}

// errWriter keeps the first error of its writer, which the zip writer
// may not pass on as it is.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// summary fills the Summary sheet: what is known of the run, then the
// number of records by status.
func (w *XLSXWriter) summary() error {
	b, s := w.book, SummarySheet
	var rows [][2]any
	if w.info.Input != "" {
		rows = append(rows, [2]any{"input", w.info.Input})
	}
	if w.info.Run != 0 {
		rows = append(rows, [2]any{"run", w.info.Run})
	}
	if !w.info.Started.IsZero() {
		rows = append(rows, [2]any{"started", w.info.Started.Local().Format(summaryTime)})
	}
	if !w.info.Finished.IsZero() {
		rows = append(rows, [2]any{"finished", w.info.Finished.Local().Format(summaryTime)})
	}
	rows = append(rows, [2]any{"rows", w.rows})
	for i, st := range statusOrder {
		if st == Valid && w.counts[i] == 0 {
			continue // a validation's status only
		}
		rows = append(rows, [2]any{string(st), w.counts[i]})
	}
	if err := b.SetCellStr(s, "A1", "srimport report"); err != nil {
		return err
	}
	if err := b.SetCellStyle(s, "A1", "A1", w.style.title); err != nil {
		return err
	}
	for i, r := range rows {
		n := strconv.Itoa(i + 3)
		if err := b.SetCellValue(s, "A"+n, r[0]); err != nil {
			return err
		}
		if err := b.SetCellValue(s, "B"+n, r[1]); err != nil {
			return err
		}
		style := w.style.label
		if st := statusIndex(Status(r[0].(string))); st >= 0 {
			style = w.style.status[st]
		}
		if err := b.SetCellStyle(s, "A"+n, "A"+n, style); err != nil {
			return err
		}
	}
	if err := b.SetColWidth(s, "A", "A", 12); err != nil {
		return err
	}
	width := 24.0
	if n := textWidth(w.info.Input) + 2; float64(n) > width {
		width = float64(min(n, 100))
	}
	return b.SetColWidth(s, "B", "B", width)
}

// summaryTime is the layout of the Summary sheet's times: local time with
// its offset from UTC, as a person reads it.
const summaryTime = "2006-01-02 15:04:05 -07:00"

// discard releases the workbook's temporary files without writing it.
func (w *XLSXWriter) discard() error {
	if w.done {
		return nil
	}
	w.done = true
	if err := w.book.Close(); err != nil {
		return fmt.Errorf("remove the xlsx report's temporary files: %w", err)
	}
	return nil
}
