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

// maxRecordBytes bounds the bytes one CSV record may span. The parser
// buffers a whole record, so a quote that is never closed would otherwise
// pull the rest of a large file into memory; no real service request comes
// near this size (descriptions are capped at 32,000 characters).
const maxRecordBytes = 64 << 20

// headSize is how much of the input NewCSV reads ahead to settle its
// encoding and line ends.
const headSize = 64 << 10

// NewCSV returns a Reader of the CSV text r. It reads the header at once:
// empty input, or a first record with no column names, is an error wrapping
// ErrNoHeader; an unknown encoding name wraps ErrEncodingName. Closing the
// Reader does not close r.
//
// Text encoding (Options.Encoding): "" and "auto" read UTF-8, with or
// without a byte-order mark, or UTF-16 or UTF-32 (LE or BE) when a
// byte-order mark says so; a file that looks like UTF-16 without one is
// refused with the --encoding to use. Any WHATWG or IANA name (utf-16le,
// windows-1252, latin1, iso-8859-15, koi8-r, shift_jis, gbk, …) names the
// encoding; a byte-order mark that disagrees with it is an error wrapping
// ErrUnsupported. Text is never silently altered: a row with bytes that
// are not valid UTF-8 (auto, utf-8), or that the named legacy encoding
// does not define, is returned with Row.Err wrapping ErrEncoding, naming
// the column (and, for UTF-8, the byte's offset in the file and the
// --encoding to try). Malformed UTF-16 or UTF-32 (an unpaired surrogate, a
// cut-off last character) is a fatal error wrapping ErrEncoding that names
// the byte offset.
//
// Line ends may be LF, CRLF or, in old Mac exports, CR alone: when the
// first 64 KiB of text hold a CR and no LF, every CR not followed by LF
// ends a line (inside a quoted field it reads as LF).
//
// Header names are returned as read (not trimmed). An empty or blank name
// becomes "Column X", X being the spreadsheet column letter (A, B, …, AA);
// duplicate names are kept, and a mapping that names one refers to the
// first.
//
// Data rows follow the rules of Row: one record is one row whatever its
// physical lines, values are text as read (leading zeros and spaces kept).
// Row.Num is the row a spreadsheet shows: a blank line returns no Row but
// takes a row number, as it does in a spreadsheet. (Blank lines before the
// header are not counted: the header is row 1.)
//
// A record with the wrong field count, bad quoting or invalid text is
// returned with Row.Err set while reading goes on: a field-count error
// wraps csv.ErrFieldCount, a quoting error is a *csv.ParseError (lines
// counted from the start of the file) and invalid text wraps ErrEncoding.
// The Values of a badly quoted record are the fields read before the
// error. A quoted field that is never closed swallows the rest of the file
// into one record; Next then returns a fatal error naming the line where
// it opened, since the rows after it cannot be recovered. A record over
// 64 MiB is fatal too, as the parser would hold it in memory whole.
//
// Records whose fields are all empty (",,,") at the end of the file are
// not returned. The Reader implements interface{ Ghost() int }, which
// counts them once Next has returned io.EOF. An all-empty record followed
// by data is an ordinary row.
func NewCSV(r io.Reader, opts Options) (Reader, error) {
	return newCSV(r, nil, opts, 0)
}

// csvReader implements Reader for CSV text.
//
// The input goes through these layers, each only when needed:
//
//	file → [unitChecker → x/text decoder] → [crReader] → [utf8Locator] → countingReader → bufio → csvParser
//
// The bufio.Reader serves the look at the first line (prelude); the parser
// then reads through it in large blocks. The utf8Locator checks UTF-8 as
// the text is read, a block at a time, which costs about half as much as
// checking each record apart. Offsets below the decoder are file offsets;
// above it, "stream" offsets count the text from just after a byte-order
// mark. For UTF-8 input the two differ by base only.
type csvReader struct {
	src     *countingReader
	br      *bufio.Reader
	r       *csvParser
	closer  io.Closer
	header  []string
	comma   rune
	enc     textEncoding
	loc     *utf8Locator // UTF-8 input only
	base    int64        // file offset of stream offset 0 (the byte-order mark's length)
	lineOff int          // physical lines consumed before the parser started (a "sep=" line)
	skipped int64        // stream bytes consumed before the parser started ("sep=" line)
	limit   int64        // maxRecordBytes, smaller in tests
	mark    int64        // parser input offset at the end of the last record read

	num      int // Num of the most recent record read
	endLine  int // parser line on which the most recent record ended
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
	text, err := c.text(r, opts.Encoding)
	if err != nil {
		return nil, err
	}
	c.src = &countingReader{r: text, c: c}
	c.br = bufio.NewReaderSize(c.src, 64<<10)
	if err := c.prelude(opts, fallback); err != nil {
		return nil, err
	}
	c.r = newCSVParser(c.br, c.comma)
	if err := c.readHeader(); err != nil {
		return nil, err
	}
	return c, nil
}

// text settles the input's encoding and line ends from its first bytes and
// returns its text as UTF-8 with LF or CRLF line ends. UTF-8 input is not
// copied through a transform.
func (c *csvReader) text(r io.Reader, name string) (io.Reader, error) {
	named, auto, err := lookupEncoding(name)
	if err != nil {
		return nil, err
	}
	head, rest, err := readHead(r)
	if err != nil {
		return nil, err
	}
	enc, skip, err := resolve(named, auto, head)
	if err != nil {
		return nil, err
	}
	c.enc, c.base = enc, int64(skip)
	head = head[skip:]
	text := join(head, rest)
	if enc.kind != kindUTF8 {
		// Decoding errors are sticky in the transform.Reader: one in
		// the head comes back when the parser gets there.
		head, rest, _ = readHead(enc.decoder(text, int64(skip)))
		text = join(head, rest)
	}
	if crOnly(head, rest == nil) {
		text = &crReader{br: bufio.NewReader(text)}
	}
	if enc.kind == kindUTF8 {
		c.loc = &utf8Locator{r: text, lost: -1}
		text = c.loc
	}
	return text, nil
}

// readHead reads up to headSize bytes of r. rest is what follows them, nil
// when r ended; after a read error other than io.EOF it is r.
func readHead(r io.Reader) (head []byte, rest io.Reader, err error) {
	head = make([]byte, headSize)
	n, err := io.ReadFull(r, head)
	switch {
	case err == nil:
		return head, r, nil
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return head[:n], nil, nil
	}
	return head[:n], r, err
}

// join returns a reader of head then rest (nil: nothing).
func join(head []byte, rest io.Reader) io.Reader {
	if rest == nil {
		return bytes.NewReader(head)
	}
	return io.MultiReader(bytes.NewReader(head), rest)
}

// crOnly reports whether head, the start of a text, has CR line ends: a CR
// and no LF. A CR as head's last byte counts only when head is the whole
// text, as an LF may follow it.
func crOnly(head []byte, whole bool) bool {
	if bytes.IndexByte(head, '\n') >= 0 {
		return false
	}
	i := bytes.IndexByte(head, '\r')
	return i >= 0 && (i < len(head)-1 || whole)
}

// prelude honours and skips an Excel "sep=" line and settles the
// delimiter.
func (c *csvReader) prelude(opts Options, fallback rune) error {
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
	if lastNonBlank(rec) < 0 {
		return fmt.Errorf("%w: line %d holds no column names", ErrNoHeader, line+c.lineOff)
	}
	if err := c.checkText(rec, 0); err != nil {
		return err
	}
	c.header = headerNames(rec)
	for i, h := range c.header {
		c.header[i] = strings.Clone(h) // not to hold the parser's first block
	}
	c.num = 1
	c.endLine = c.recordEnd(rec)
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
	if c.loc != nil {
		c.loc.drop(c.skipped + c.mark)
	}
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
		c.next(pe.StartLine, pe.Line)
		pe = c.shift(pe)
		c.lastLine = pe.StartLine
		if pe.Err == csv.ErrQuote && pe.Line > pe.StartLine && c.r.drained() {
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
	line, _ := c.r.FieldPos(0)
	c.next(line, c.recordEnd(rec))
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
		row.Err = c.checkText(rec, c.num)
	}
	return row, len(rec), false, nil
}

// next numbers the record read from parser line start to line end:
// the lines between the previous record and this one were blank, and each
// takes a row number as it does in a spreadsheet.
func (c *csvReader) next(start, end int) {
	c.num += max(1, start-c.endLine)
	c.endLine = end
}

// recordEnd returns the parser line on which the record rec, just read,
// ends: where its last field starts, plus the line breaks inside that
// field (a quoted CRLF reads as LF).
func (c *csvReader) recordEnd(rec []string) int {
	last := len(rec) - 1
	line, _ := c.r.FieldPos(last)
	return line + strings.Count(rec[last], "\n")
}

// checkText returns the error for the record just read, rec, when it holds
// text not valid in the file's encoding; num is its row number, 0 for the
// header.
func (c *csvReader) checkText(rec []string, num int) error {
	switch c.enc.kind {
	case kindUTF8:
		at, bad := c.loc.firstBad(c.skipped + c.mark)
		if !bad {
			return nil
		}
		for i, f := range rec {
			j := invalidUTF8(f)
			if j < 0 {
				continue
			}
			where := ""
			if at >= 0 {
				where = fmt.Sprintf(" at byte offset %d", c.base+at)
			}
			return fmt.Errorf("%s, %s: byte 0x%02X%s: %w; the file is probably in another encoding: run again with --encoding windows-1252 (Excel's \"CSV\" on Western Windows) or the file's encoding, or save it as \"CSV UTF-8\"",
				recordName(num), c.column(i), f[j], where, ErrEncoding)
		}
	case kindLegacy:
		for i, f := range rec {
			if strings.ContainsRune(f, utf8.RuneError) {
				return fmt.Errorf("%s, %s: %w", recordName(num), c.column(i), &textError{fmt.Sprintf(
					"a byte is not defined in %s (it would read as U+FFFD); the file is probably in another encoding: check --encoding", c.enc.name)})
			}
		}
	}
	return nil
}

// recordName names record num in messages: "row 5", or "header" for 0.
func recordName(num int) string {
	if num == 0 {
		return "header"
	}
	return "row " + strconv.Itoa(num)
}

// column describes field i of the record just read, for messages.
func (c *csvReader) column(i int) string {
	line, _ := c.r.FieldPos(i)
	s := fmt.Sprintf("line %d, column %s", line+c.lineOff, columnLetters(i))
	if c.header != nil {
		s += fmt.Sprintf(" (%q)", c.columnName(i))
	}
	return s
}

// invalidUTF8 returns the index of the first byte of s that is not valid
// UTF-8, or -1.
func invalidUTF8(s string) int {
	if utf8.ValidString(s) {
		return -1
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// values returns rec, a record the parser will not touch again, as a
// row's Values: as it is when it has the header's width, else a copy
// padded or cut to that width.
func (c *csvReader) values(rec []string) []string {
	if len(rec) == len(c.header) {
		return rec
	}
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

// countingReader refuses to feed a single record past the size limit.
type countingReader struct {
	r io.Reader
	c *csvReader
	n int64
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
	return n, err
}

// crReader turns each CR that is not followed by LF into LF, in place,
// for text with old Mac line ends.
type crReader struct{ br *bufio.Reader }

func (c *crReader) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	b := p[:n]
	for i := 0; ; i++ {
		j := bytes.IndexByte(b[i:], '\r')
		if j < 0 {
			break
		}
		i += j
		if i+1 < n {
			if b[i+1] != '\n' {
				b[i] = '\n'
			}
			continue
		}
		// The last byte read: its successor decides. An error (the
		// end of the input) reads as "not LF".
		if next, _ := c.br.Peek(1); len(next) == 0 || next[0] != '\n' {
			b[i] = '\n'
		}
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
