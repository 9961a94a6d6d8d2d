package input

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Errors of the XLSX reader, told apart with errors.Is. Each is wrapped in
// a message that says what was found and what to do.
var (
	// ErrEncrypted means the workbook is password-protected and no
	// password was given.
	ErrEncrypted = errors.New("workbook is password-protected; pass --password")
	// ErrPassword means the password given does not open the workbook.
	ErrPassword = errors.New("wrong password: it does not open the workbook; check --password")
	// ErrNotXLSX means the file is not an Excel 2007+ workbook whatever
	// its name says: a legacy .xls, an OpenDocument .ods, a binary .xlsb,
	// a CSV file renamed to .xlsx, and so on. It wraps ErrUnsupported.
	ErrNotXLSX = fmt.Errorf("%w: not an .xlsx workbook", ErrUnsupported)
	// ErrCorrupt means the workbook is damaged or truncated, or holds
	// something no spreadsheet program writes (an XML DTD, a cell
	// reference such as "A0", a part past the size limits).
	ErrCorrupt = errors.New("the workbook is damaged")
	// ErrNoSheet means the sheet asked for is not in the workbook, or the
	// workbook has no sheet that could be read by default.
	ErrNoSheet = errors.New("no such sheet")
)

// Limits against hostile workbooks. A zip part can claim any size and
// inflate at ratios of 1000:1, so each part is counted as it is read.
const (
	// maxSmallPart bounds a part held in memory whole: the workbook,
	// relationships and styles parts (megabytes in real files).
	maxSmallPart = 64 << 20
	// maxStreamPart bounds a part read as a stream: the sheet and the
	// shared strings (a 1M-row sheet of ticket text is ~0.8 GiB).
	maxStreamPart = 4 << 30
	// maxTagGap bounds the bytes between two '<' in a streamed part, so
	// that one text node cannot make encoding/xml buffer gigabytes. Excel
	// caps a cell at 32,767 characters, a small fraction of this.
	maxTagGap = 16 << 20
	// Excel's sheet size.
	maxSheetRows = 1 << 20
	maxSheetCols = 1 << 14
)

// openXLSX opens the .xlsx or .xlsm workbook at path and reads the header
// of the sheet named by opts.Sheet, or of the first visible worksheet.
//
// The sheet is streamed straight out of the zip archive: memory stays flat
// whatever the file's size. Shared strings past 16 MiB are kept in a
// temporary file that Close removes. An encrypted workbook is decrypted in
// memory (it has to be, to be read), so it costs about its own size.
//
// The header is the sheet's first row with a non-blank cell; its width is
// that of its last non-blank cell, and a blank name becomes "Column X".
// Rows keep the sheet's own row numbers. Blank rows are skipped; those
// after the last data row are counted by Ghost.
//
// Values are the text a person sees: see cellText for the rules.
//
// Errors wrap ErrEncrypted, ErrPassword, ErrNotXLSX, ErrUnsupported (an
// encryption method excelize cannot decrypt), ErrCorrupt, ErrNoSheet or
// ErrNoHeader.
//
// The Reader also implements
//
//	interface{ Notes() []string }
//
// whose messages tell a person how the workbook was read, for example
// `using sheet "Tickets"; hidden sheets skipped: "Lookup"`. The command
// line prints them to standard error. And it implements
// interface{ Ghost() int } like the CSV reader.
func openXLSX(path string, opts Options) (Reader, error) {
	pkg, notes, err := openPackage(path, opts.Password)
	if err != nil {
		return nil, err
	}
	r, err := newXLSXReader(pkg, opts.Sheet, notes)
	if err != nil {
		pkg.Close()
		return nil, err
	}
	return r, nil
}

// xlsxReader implements Reader for one worksheet.
type xlsxReader struct {
	pkg    *xlsxPackage
	sheet  string
	part   io.Closer
	stream *sheetStream // the sheet, read by readRow
	dec    *xml.Decoder // reading the stream where the scanner does not
	// sheetData is the sheet's <sheetData> start tag, named as the sheet
	// names it, which a decoder taking over inside it reads first.
	sheetData []byte
	lineBase  int  // lines before where r.dec started, for its messages
	noScan    bool // read every row with encoding/xml (tests)
	styles    *styleTable
	header    []string
	notes     []string

	rowNum int      // the last row read
	cells  []string // the last row's cells by column, reused
	blank  int      // blank rows read since the last data row
	ghost  int
	err    error // io.EOF or a fatal error, returned from then on
}

func newXLSXReader(pkg *xlsxPackage, want string, notes []string) (*xlsxReader, error) {
	sh, more, err := pkg.pickSheet(want)
	if err != nil {
		return nil, err
	}
	notes = append(more, notes...)
	if pkg.sst, err = pkg.loadSharedStrings(); err != nil {
		return nil, err
	}
	styles, err := pkg.loadStyles()
	if err != nil {
		return nil, err
	}
	rc, err := pkg.openStream(sh.part)
	if err != nil {
		return nil, err
	}
	r := &xlsxReader{pkg: pkg, sheet: sh.name, part: rc, styles: styles, notes: notes}
	r.stream = newSheetStream(rc)
	r.dec = newStreamDecoder(r.stream)
	if err := r.readHeader(); err != nil {
		rc.Close()
		styles.Close()
		return nil, err
	}
	return r, nil
}

// readHeader reads up to the first row with a non-blank cell.
func (r *xlsxReader) readHeader() error {
	if err := r.toSheetData(); err != nil {
		if err == io.EOF {
			return fmt.Errorf("%w: sheet %q is empty", ErrNoHeader, r.sheet)
		}
		return err
	}
	for {
		err := r.readRow()
		if err == io.EOF {
			return fmt.Errorf("%w: sheet %q is empty", ErrNoHeader, r.sheet)
		}
		if err != nil {
			return err
		}
		width := lastNonBlank(r.cells) + 1
		if width == 0 {
			continue
		}
		r.header = headerNames(r.cells[:width])
		return nil
	}
}

func (r *xlsxReader) Header() []string { return slices.Clone(r.header) }

// Notes returns remarks on how the workbook was read, one sentence each,
// for a person: which sheet was used when hidden or other sheets were
// passed over, a password that was not needed.
func (r *xlsxReader) Notes() []string { return slices.Clone(r.notes) }

// Ghost returns the number of blank rows stored after the last data row
// (rows Excel keeps because they were formatted once). It is final once
// Next has returned an error.
func (r *xlsxReader) Ghost() int { return r.ghost }

func (r *xlsxReader) Next() (Row, error) {
	for r.err == nil {
		if err := r.readRow(); err != nil {
			r.err = err
			if err == io.EOF {
				r.ghost, r.blank = r.blank, 0
			}
			break
		}
		last := lastNonBlank(r.cells)
		if last < 0 {
			r.blank++
			continue
		}
		r.blank = 0
		row := Row{Num: r.rowNum, Values: make([]string, len(r.header))}
		copy(row.Values, r.cells)
		if last >= len(r.header) {
			row.Err = fmt.Errorf("row %d, cell %s%d: value %q is in a column with no header (the header ends at column %s); name the column or clear the cell",
				r.rowNum, columnLetters(last), r.rowNum, xlsxClip(r.cells[last]), columnLetters(len(r.header)-1))
		}
		return row, nil
	}
	return Row{}, r.err
}

func (r *xlsxReader) Close() error {
	if r.err == errClosed {
		return nil
	}
	r.err = errClosed
	err := r.part.Close()
	if cerr := r.styles.Close(); err == nil {
		err = cerr
	}
	if cerr := r.pkg.Close(); err == nil {
		err = cerr
	}
	return err
}

// xlsxClip shortens a value for a message.
func xlsxClip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return s
}
