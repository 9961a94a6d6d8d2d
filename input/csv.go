package input

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxRecordBytes bounds the bytes one CSV record may span. encoding/csv
// buffers a whole record, so a quote that is never closed would otherwise
// pull the rest of a large file into memory; no real service request comes
// near this size (descriptions are capped at 32,000 characters).
const maxRecordBytes = 64 << 20

// NewCSV returns a Reader of the CSV text r. It reads the header at once:
// empty input, or a first record with no column names, is an error wrapping
// ErrNoHeader; an unknown encoding wraps ErrUnsupported. Closing the Reader
// does not close r.
//
// Header names are returned as read (not trimmed). An empty or blank name
// becomes "Column X", X being the spreadsheet column letter (A, B, …, AA);
// duplicate names are kept, and a mapping that names one refers to the
// first.
//
// Data rows follow the rules of Row: one record is one row whatever its
// physical lines, values are text as read (leading zeros and spaces kept).
// Blank lines are skipped and take no row number, so Num differs from a
// spreadsheet's row number after a blank line in the middle of a file.
//
// A record with the wrong field count, bad quoting or invalid UTF-8 is
// returned with Row.Err set while reading goes on: a field-count error
// wraps csv.ErrFieldCount, a quoting error is a *csv.ParseError (lines
// counted from the start of the file) and invalid text wraps ErrEncoding.
// The Values of a badly quoted record are the fields read before the
// error. A quoted field that is never closed swallows the rest of the file
// into one record; Next then returns a fatal error naming the line where
// it opened, since the rows after it cannot be recovered. A record over
// 64 MiB is fatal too, as encoding/csv would hold it in memory whole.
//
// Records whose fields are all empty (",,,") at the end of the file are
// not returned. The Reader implements interface{ Ghost() int }, which
// counts them once Next has returned io.EOF. An all-empty record followed
// by data is an ordinary row.
func NewCSV(r io.Reader, opts Options) (Reader, error) {
	return newCSV(r, nil, opts, 0)
}

// csvReader implements Reader for CSV text.
type csvReader struct {
	src     *countingReader
	br      *bufio.Reader
	r       *csv.Reader
	closer  io.Closer
	header  []string
	comma   rune
	lineOff int   // physical lines consumed before the csv.Reader started (a "sep=" line)
	skipped int64 // bytes consumed before the csv.Reader started (BOM, "sep=" line)
	limit   int64 // maxRecordBytes, smaller in tests
	mark    int64 // csv.Reader input offset at the end of the last record read

	num      int // Num of the most recent record read
	lastLine int // start line of the most recent record read

	// All-empty records not returned yet: returned if data follows,
	// counted as ghosts at the end. Runs of consecutive lines keep this
	// small however many there are.
	ghosts  []ghostRun
	pending int
	held    Row // the data row read after pending ghosts
	hasHeld bool
	ghost   int

	err error // io.EOF or a fatal error, returned from then on
}

// ghostRun is n all-empty records with the same field count on
// consecutive lines.
type ghostRun struct{ num, line, fields, n int }

func newCSV(r io.Reader, closer io.Closer, opts Options, fallback rune) (*csvReader, error) {
	c := &csvReader{closer: closer, limit: maxRecordBytes}
	c.src = &countingReader{r: r, c: c}
	c.br = bufio.NewReaderSize(c.src, 64<<10)
	if err := c.prelude(opts, fallback); err != nil {
		return nil, err
	}
	c.r = csv.NewReader(c.br) // c.br is large enough for csv to use it as is
	c.r.Comma = c.comma
	c.r.FieldsPerRecord = -1
	c.r.ReuseRecord = true // Next copies the record into a new slice
	if err := c.readHeader(); err != nil {
		return nil, err
	}
	return c, nil
}

// prelude checks the encoding, drops a UTF-8 byte-order mark, honours and
// skips an Excel "sep=" line and settles the delimiter.
func (c *csvReader) prelude(opts Options, fallback rune) error {
	if err := checkEncoding(opts.Encoding); err != nil {
		return err
	}
	head, err := c.br.Peek(3)
	if err != nil && err != io.EOF {
		return err
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		c.br.Discard(3)
		c.skipped += 3
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}), bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return fmt.Errorf("%w: the file is UTF-16 text (by its byte-order mark), which is not supported yet; save it as UTF-8", ErrUnsupported)
	}

	line, err := peekLine(c.br, false)
	if err != nil {
		return err
	}
	if d, ok := sepLine(line); ok {
		c.br.Discard(len(line))
		c.skipped += int64(len(line))
		c.lineOff = 1
		if opts.Delimiter == 0 {
			opts.Delimiter = d
		}
	}
	c.comma = opts.Delimiter
	if c.comma == 0 {
		c.comma = fallback
	}
	if c.comma == 0 {
		line, err := peekLine(c.br, true)
		if err != nil {
			return err
		}
		c.comma = detectDelimiter(line)
	}
	if !validDelimiter(c.comma) {
		return fmt.Errorf("%w: %q cannot be a CSV delimiter", ErrUnsupported, c.comma)
	}
	return nil
}

// readHeader reads the first record as the header.
func (c *csvReader) readHeader() error {
	rec, err := c.r.Read()
	c.mark = c.r.InputOffset()
	if err == io.EOF {
		return fmt.Errorf("%w: the input is empty", ErrNoHeader)
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("header: %w", c.shift(pe))
		}
		return err
	}
	line, _ := c.r.FieldPos(0)
	blank := true
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			blank = false
		}
	}
	if blank {
		return fmt.Errorf("%w: line %d holds no column names", ErrNoHeader, line+c.lineOff)
	}
	c.header = slices.Clone(rec)
	for i, name := range c.header {
		if !utf8.ValidString(name) {
			return fmt.Errorf("header, line %d, column %s: %w; the file is probably in another encoding (such as Windows-1252): save it as UTF-8", line+c.lineOff, columnLetters(i), ErrEncoding)
		}
		if strings.TrimSpace(name) == "" {
			c.header[i] = "Column " + columnLetters(i)
		}
	}
	c.num = 1
	c.lastLine = line + c.lineOff
	return nil
}

func (c *csvReader) Header() []string { return slices.Clone(c.header) }

// Ghost returns the number of all-empty records at the end of the input
// that were read but not returned. It is final once Next has returned an
// error.
func (c *csvReader) Ghost() int { return c.ghost }

func (c *csvReader) Close() error {
	c.err = errClosed
	if c.closer != nil {
		return c.closer.Close()
	}
	return nil
}

var errClosed = errors.New("input: read after Close")

func (c *csvReader) Next() (Row, error) {
	for {
		if c.hasHeld {
			if c.pending > 0 {
				return c.popGhost(), nil
			}
			row := c.held
			c.held, c.hasHeld = Row{}, false
			return row, nil
		}
		if c.err != nil {
			// Whatever ended the input, empty records not returned yet
			// are the trailing ones.
			c.ghost += c.pending
			c.ghosts, c.pending = c.ghosts[:0], 0
			return Row{}, c.err
		}
		row, fields, empty, err := c.read()
		switch {
		case err != nil:
			c.err = err
		case empty:
			c.pushGhost(row, fields)
		case c.pending > 0:
			c.held, c.hasHeld = row, true
		default:
			return row, nil
		}
	}
}

// read reads one record. empty reports an all-empty record, returned
// without Values; fields is its field count.
func (c *csvReader) read() (row Row, fields int, empty bool, err error) {
	rec, err := c.r.Read()
	c.mark = c.r.InputOffset()
	if err == io.EOF {
		return Row{}, 0, false, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return Row{}, 0, false, err
		}
		pe = c.shift(pe)
		c.num++
		c.lastLine = pe.StartLine
		if pe.Err == csv.ErrQuote && pe.Line > pe.StartLine && c.src.eof && c.br.Buffered() == 0 {
			// The quote opened on StartLine was never closed: every line
			// up to the end of the file went into this one record, and
			// the rows among them are lost. Not a row error: stop.
			return Row{}, 0, false, fmt.Errorf("line %d: a quoted field opened on this line is never closed, so lines %d-%d (the end of the file) read as one value; check the quotes: a value with a quote must be enclosed in quotes and each inner quote doubled (\"\"): %w",
				pe.StartLine, pe.StartLine, pe.Line, pe)
		}
		return Row{
			Num:    c.num,
			Line:   pe.StartLine,
			Values: c.values(rec),
			Err:    fmt.Errorf("%w; check the quotes: a value with a quote must be enclosed in quotes and each inner quote doubled (\"\")", pe),
		}, len(rec), false, nil
	}
	c.num++
	line, _ := c.r.FieldPos(0)
	line += c.lineOff
	c.lastLine = line
	row = Row{Num: c.num, Line: line}
	empty = true
	for _, f := range rec {
		if f != "" {
			empty = false
			break
		}
	}
	if empty {
		return row, len(rec), true, nil
	}
	row.Values = c.values(rec)
	row.Err = c.fieldCountErr(line, len(rec))
	if row.Err == nil {
		for i, f := range rec {
			if !utf8.ValidString(f) {
				l, _ := c.r.FieldPos(i)
				row.Err = fmt.Errorf("line %d, column %s (%q): %w; the file is probably in another encoding (such as Windows-1252): save it as UTF-8",
					l+c.lineOff, columnLetters(i), c.columnName(i), ErrEncoding)
				break
			}
		}
	}
	return row, len(rec), false, nil
}

// values copies rec, whose slice the csv.Reader reuses, padded or cut to
// the header's width.
func (c *csvReader) values(rec []string) []string {
	v := make([]string, len(c.header))
	copy(v, rec)
	return v
}

func (c *csvReader) fieldCountErr(line, got int) error {
	want := len(c.header)
	if got == want {
		return nil
	}
	hint := "a field is missing"
	if got > want {
		hint = "a value that contains " + delimiterName(c.comma) + " must be enclosed in quotes"
	}
	return fmt.Errorf("line %d: %w: %d fields where the header has %d (%s)", line, csv.ErrFieldCount, got, want, hint)
}

func (c *csvReader) columnName(i int) string {
	if i < len(c.header) {
		return c.header[i]
	}
	return "beyond the header"
}

// shift returns pe with line numbers counted from the start of the file.
func (c *csvReader) shift(pe *csv.ParseError) *csv.ParseError {
	return &csv.ParseError{StartLine: pe.StartLine + c.lineOff, Line: pe.Line + c.lineOff, Column: pe.Column, Err: pe.Err}
}

func (c *csvReader) pushGhost(row Row, fields int) {
	if n := len(c.ghosts); n > 0 {
		g := &c.ghosts[n-1]
		if g.fields == fields && g.line+g.n == row.Line {
			g.n++
			c.pending++
			return
		}
	}
	c.ghosts = append(c.ghosts, ghostRun{num: row.Num, line: row.Line, fields: fields, n: 1})
	c.pending++
}

// popGhost returns the oldest pending empty record as a row.
func (c *csvReader) popGhost() Row {
	g := &c.ghosts[0]
	row := Row{Num: g.num, Line: g.line, Values: make([]string, len(c.header)), Err: c.fieldCountErr(g.line, g.fields)}
	g.num, g.line, g.n = g.num+1, g.line+1, g.n-1
	if g.n == 0 {
		c.ghosts = c.ghosts[1:]
	}
	c.pending--
	return row
}

// countingReader notes the end of the underlying input and refuses to feed
// a single record past the size limit.
type countingReader struct {
	r   io.Reader
	c   *csvReader
	n   int64
	eof bool
}

func (cr *countingReader) Read(p []byte) (int, error) {
	if c := cr.c; c.r != nil {
		// Bytes handed out beyond the end of the last record read: the
		// record being read plus the bufio look-ahead, which the limit
		// dwarfs.
		if open := cr.n - c.skipped - c.mark; open > c.limit {
			return 0, fmt.Errorf("the record after line %d is longer than %d MiB; a quoted field is probably never closed: check the quotes", c.lastLine, c.limit>>20)
		}
	}
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	if err == io.EOF {
		cr.eof = true
	}
	return n, err
}

// peekLine returns the input's first line without consuming it, up to the
// buffer's size. With quoted set, newlines inside quotes do not end it.
func peekLine(br *bufio.Reader, quoted bool) ([]byte, error) {
	for n := 512; ; n *= 2 {
		n = min(n, br.Size())
		b, err := br.Peek(n)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, err
		}
		if i := lineEnd(b, quoted); i >= 0 {
			return b[:i+1], nil
		}
		if err != nil || n == br.Size() {
			return b, nil
		}
	}
}

// lineEnd returns the index of the newline ending b's first line, or -1.
func lineEnd(b []byte, quoted bool) int {
	if !quoted {
		return bytes.IndexByte(b, '\n')
	}
	in := false
	for i, ch := range b {
		switch {
		case ch == '"':
			in = !in
		case ch == '\n' && !in:
			return i
		}
	}
	return -1
}

// sepLine recognises Excel's "sep=X" first line.
func sepLine(line []byte) (rune, bool) {
	s := strings.TrimRight(string(line), "\r\n")
	if len(s) < 5 || !strings.EqualFold(s[:4], "sep=") {
		return 0, false
	}
	r, size := utf8.DecodeRuneInString(s[4:])
	if size != len(s)-4 || !validDelimiter(r) {
		return 0, false
	}
	return r, true
}

// candidates are the delimiters detection chooses from, in tie-break order.
var candidates = []rune{',', ';', '\t', '|'}

// detectDelimiter returns the candidate seen most often outside quotes in
// line; ties, and a line with none, give the earliest candidate.
func detectDelimiter(line []byte) rune {
	var count [4]int
	in := false
	for _, ch := range line {
		if ch == '"' {
			in = !in
			continue
		}
		if in {
			continue
		}
		for i, d := range candidates {
			if rune(ch) == d {
				count[i]++
			}
		}
	}
	best := 0
	for i := range count {
		if count[i] > count[best] {
			best = i
		}
	}
	return candidates[best]
}

// validDelimiter mirrors encoding/csv's rule.
func validDelimiter(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}

func delimiterName(r rune) string {
	switch r {
	case '\t':
		return "a tab"
	case ',':
		return "a comma"
	case ';':
		return "a semicolon"
	}
	return strconv.QuoteRune(r)
}

// columnLetters returns the spreadsheet letters of 0-based column i: A, …,
// Z, AA, AB, ….
func columnLetters(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append(b, byte('A'+(i-1)%26))
	}
	slices.Reverse(b)
	return string(b)
}
