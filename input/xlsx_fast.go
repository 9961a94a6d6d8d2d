package input

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// This file reads the rows of a worksheet fast: a byte scanner that knows
// the plain form in which spreadsheet programs write rows — <row> with
// <c> cells holding <v>, <f> and <is><t> elements, text with the five
// named entities — and hands anything else, from the same place, to the
// encoding/xml reading in xlsx_sheet.go: other elements, comments, CDATA,
// character references, carriage returns, whatever is malformed. Reading
// a row either way gives the same cells, and the same errors: the scanner
// never reports one, it leaves that to encoding/xml (FuzzRowScanner holds
// the two to each other). Most rows of most workbooks take the fast way,
// which is several times quicker than encoding/xml's token loop.

// sheetStream buffers a worksheet part for the scanner, and serves it byte
// by byte (io.ByteReader, so that encoding/xml reads nothing ahead) to a
// decoder that takes over from a mark.
type sheetStream struct {
	src  io.Reader
	buf  []byte
	r, w int   // buf[r:w] is read and not consumed yet
	mark int   // fill keeps buf[mark:]
	err  error // from src, met after buf[:w]
	pre  []byte
	line int // line ends before buf[mark], for encoding/xml's messages
}

func newSheetStream(src io.Reader) *sheetStream {
	return &sheetStream{src: src, buf: make([]byte, 256<<10)}
}

// fill reads more bytes, keeping buf[mark:] and doubling buf when that
// part fills more than half of it. It returns false when no more can be
// read.
func (s *sheetStream) fill() bool {
	if s.err != nil {
		return false
	}
	if s.mark > 0 {
		n := copy(s.buf, s.buf[s.mark:s.w])
		s.r -= s.mark
		s.w = n
		s.mark = 0
	}
	if 2*s.w > len(s.buf) {
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	for range 100 {
		n, err := s.src.Read(s.buf[s.w:])
		s.w += n
		if err != nil {
			s.err = err
		}
		if n > 0 || err != nil {
			return n > 0
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// ReadByte returns the bytes of pre, then those of the stream.
func (s *sheetStream) ReadByte() (byte, error) {
	if len(s.pre) > 0 {
		c := s.pre[0]
		s.pre = s.pre[1:]
		return c, nil
	}
	if s.r == s.w && !s.fill() {
		return 0, s.err
	}
	c := s.buf[s.r]
	s.r++
	return c, nil
}

// Read makes sheetStream an io.Reader too, for xml.NewDecoder, which
// takes an io.Reader but reads an io.ByteReader one byte at a time.
func (s *sheetStream) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := s.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

// newStreamDecoder returns an XML decoder that reads s as it needs it.
func newStreamDecoder(s *sheetStream) *xml.Decoder {
	d := xml.NewDecoder(s)
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("%w: a part is in the %s encoding; %s", ErrCorrupt, label, xlsxSaveAs)
	}
	return d
}

// readRow reads the next row into r.rowNum and r.cells; io.EOF after the
// last.
func (r *xlsxReader) readRow() error {
	s := r.stream
	for !r.noScan {
		n, st := r.scanRow(s.buf[s.r:s.w], s.err != nil)
		switch st {
		case scanRow:
			s.line += bytes.Count(s.buf[s.r:s.r+n], []byte("\n"))
			s.r += n
			return nil
		case scanEnd:
			s.r += n
			return io.EOF
		case scanMore:
			s.mark = s.r
			if s.fill() {
				continue
			}
		}
		break
	}
	if r.noScan {
		return r.readRowXML()
	}
	return r.decodeRow()
}

// decodeRow reads the next row with encoding/xml, from where the scanner
// stopped, inside an element named as the sheet's <sheetData>.
func (r *xlsxReader) decodeRow() error {
	s := r.stream
	s.mark = s.r
	s.pre = append(s.pre[:0], r.sheetData...)
	r.dec, r.lineBase = newStreamDecoder(s), s.line
	if _, err := nextToken(r.dec, r.sheet); err != nil {
		return r.fail(err)
	}
	err := r.readRowXML()
	if err == nil {
		s.r = s.mark + int(r.dec.InputOffset()) - len(r.sheetData)
		s.line += bytes.Count(s.buf[s.mark:s.r], []byte("\n"))
		s.pre = s.pre[:0]
	}
	return err
}

// What scanRow found.
const (
	scanRow  = iota // a row, read
	scanEnd         // the end of sheetData
	scanMore        // the input ends first: fill and scan again
	scanSlow        // something else: read it with encoding/xml
)

// scanRow scans b for the next row in the plain form, which it reads into
// r.rowNum and r.cells, and returns the bytes it took. atEOF means no byte
// follows b.
func (r *xlsxReader) scanRow(b []byte, atEOF bool) (n int, status int) {
	sc := rowScanner{b: b}
	st := sc.row(r)
	if st == scanMore && atEOF {
		st = scanSlow
	}
	return sc.i, st
}

// rowScanner is scanRow's position in its bytes.
type rowScanner struct {
	b    []byte
	i    int
	text []byte // entities decoded
}

// space skips white space; it reports false when b ends first.
func (sc *rowScanner) space() bool {
	for ; sc.i < len(sc.b); sc.i++ {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
		default:
			return true
		}
	}
	return false
}

// isNameByte reports whether c may be part of a name the scanner reads;
// names with other bytes go to encoding/xml.
func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':'
}

// name reads a name at b[i]. It returns "more" or "slow" as scanRow's
// statuses, or -1 with the name.
func (sc *rowScanner) name() ([]byte, int) {
	j := sc.i
	for j < len(sc.b) && isNameByte(sc.b[j]) {
		j++
	}
	if j == len(sc.b) {
		return nil, scanMore
	}
	name := sc.b[sc.i:j]
	if len(name) == 0 || name[0] == '-' || name[0] == '.' || '0' <= name[0] && name[0] <= '9' || name[0] == ':' || name[len(name)-1] == ':' || bytes.Count(name, []byte(":")) > 1 {
		return nil, scanSlow
	}
	sc.i = j
	return name, -1
}

// attr is one attribute of a start tag.
type attr struct{ name, value []byte }

// startTag reads the rest of a start tag after its name: attributes, then
// '>' or "/>". Each attribute goes to fn, which may refuse it (false).
func (sc *rowScanner) startTag(fn func(a attr) bool) (empty bool, status int) {
	for {
		if !sc.space() {
			return false, scanMore
		}
		switch c := sc.b[sc.i]; {
		case c == '>':
			sc.i++
			return false, -1
		case c == '/':
			if sc.i+1 == len(sc.b) {
				return false, scanMore
			}
			if sc.b[sc.i+1] != '>' {
				return false, scanSlow
			}
			sc.i += 2
			return true, -1
		}
		name, st := sc.name()
		if st >= 0 {
			return false, st
		}
		if !sc.space() {
			return false, scanMore
		}
		if sc.b[sc.i] != '=' {
			return false, scanSlow
		}
		sc.i++
		if !sc.space() {
			return false, scanMore
		}
		q := sc.b[sc.i]
		if q != '"' && q != '\'' {
			return false, scanSlow
		}
		end := bytes.IndexByte(sc.b[sc.i+1:], q)
		if end < 0 {
			return false, scanMore
		}
		value := sc.b[sc.i+1 : sc.i+1+end]
		for _, c := range value {
			if c < ' ' || c >= utf8.RuneSelf || c == '<' || c == '&' {
				return false, scanSlow
			}
		}
		sc.i += end + 2
		if !fn(attr{name, value}) {
			return false, scanSlow
		}
	}
}

// local returns the local part of a name; prefixed tells whether it had a
// prefix.
func local(name []byte) (l []byte, prefixed bool) {
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		return name[i+1:], true
	}
	return name, false
}

// ambiguous reports whether an attribute has a prefix and a local part
// among names: encoding/xml gives the local part only, so such a tag goes
// to it.
func ambiguous(name []byte, names ...string) bool {
	l, prefixed := local(name)
	if !prefixed {
		return false
	}
	for _, n := range names {
		if string(l) == n {
			return true
		}
	}
	return false
}

// open reads "<name" and reports whether it was element name: ok false
// with status -1 means another element or markup is there.
func (sc *rowScanner) open(want string) (ok bool, status int) {
	if sc.i+1+len(want) >= len(sc.b) {
		return false, scanMore
	}
	if sc.b[sc.i] != '<' || string(sc.b[sc.i+1:sc.i+1+len(want)]) != want {
		return false, -1
	}
	switch sc.b[sc.i+1+len(want)] {
	case ' ', '\t', '\n', '\r', '>', '/':
		sc.i += 1 + len(want)
		return true, -1
	}
	return false, -1
}

// close reads "</name>", with white space allowed before '>'.
func (sc *rowScanner) close(want string) (ok bool, status int) {
	if sc.i+2+len(want) >= len(sc.b) {
		return false, scanMore
	}
	if sc.b[sc.i] != '<' || sc.b[sc.i+1] != '/' || string(sc.b[sc.i+2:sc.i+2+len(want)]) != want {
		return false, -1
	}
	j := sc.i + 2 + len(want)
	for j < len(sc.b) && (sc.b[j] == ' ' || sc.b[j] == '\t' || sc.b[j] == '\n') {
		j++
	}
	if j == len(sc.b) {
		return false, scanMore
	}
	if sc.b[j] != '>' {
		return false, -1
	}
	sc.i = j + 1
	return true, -1
}

// row scans one row; see scanRow.
func (sc *rowScanner) row(r *xlsxReader) int {
	if !sc.space() || sc.i+1 >= len(sc.b) {
		return scanMore
	}
	if sc.b[sc.i] != '<' {
		return scanSlow // text between rows
	}
	if sc.b[sc.i+1] == '/' {
		// The end of sheetData, whatever its prefix.
		sc.i += 2
		name, st := sc.name()
		if st >= 0 {
			return st
		}
		if l, _ := local(name); string(l) != "sheetData" {
			return scanSlow
		}
		if !sc.space() {
			return scanMore
		}
		if sc.b[sc.i] != '>' {
			return scanSlow
		}
		sc.i++
		return scanEnd
	}
	if ok, st := sc.open("row"); !ok {
		return orSlow(st)
	}
	var ref []byte
	hasRef := false
	empty, st := sc.startTag(func(a attr) bool {
		if string(a.name) == "r" && !hasRef {
			ref, hasRef = a.value, true
		}
		return !ambiguous(a.name, "r")
	})
	if st >= 0 {
		return st
	}
	num := r.rowNum + 1
	if hasRef {
		n, err := strconv.Atoi(string(ref))
		if err != nil || n < 1 || n > maxSheetRows {
			return scanSlow
		}
		num = n
	}
	if num <= r.rowNum || num > maxSheetRows {
		return scanSlow
	}
	cells := r.cells[:0]
	for !empty {
		if !sc.space() {
			return scanMore
		}
		if ok, st := sc.close("row"); ok || st >= 0 {
			if !ok {
				return st
			}
			break
		}
		ok, st := sc.open("c")
		if !ok {
			return orSlow(st)
		}
		var st2 int
		if cells, st2 = sc.cell(r, num, cells); st2 >= 0 {
			return st2
		}
	}
	r.rowNum, r.cells = num, cells
	return scanRow
}

// orSlow turns "another element" (-1) into scanSlow.
func orSlow(st int) int {
	if st < 0 {
		return scanSlow
	}
	return st
}

// cell scans one <c> element after its name, as xlsxReader.cell reads it,
// and appends its text to cells.
func (sc *rowScanner) cell(r *xlsxReader, num int, cells []string) ([]string, int) {
	var ref, typ []byte
	style := 0
	empty, st := sc.startTag(func(a attr) bool {
		switch string(a.name) {
		case "r":
			ref = a.value
		case "t":
			typ = a.value
		case "s":
			style, _ = strconv.Atoi(string(a.value))
		}
		return !ambiguous(a.name, "r", "t", "s")
	})
	if st >= 0 {
		return cells, st
	}
	col := len(cells) + 1
	if len(ref) > 0 {
		c, row, ok := parseRef(string(ref))
		if !ok || row != num || c <= len(cells) {
			return cells, scanSlow
		}
		col = c
	} else if col > maxSheetCols {
		return cells, scanSlow
	}
	var v, is string
	hasIS := false
	for !empty {
		if !sc.space() {
			return cells, scanMore
		}
		if ok, st := sc.close("c"); ok || st >= 0 {
			if !ok {
				return cells, st
			}
			break
		}
		var st int
		switch {
		case sc.is("v"):
			v, st = sc.element("v")
		case sc.is("f"):
			_, st = sc.element("f")
		case sc.is("is"):
			hasIS = true
			is, st = sc.inline()
		default:
			return cells, sc.undecided(len("<is "))
		}
		if st >= 0 {
			return cells, st
		}
	}
	text, err := r.cellText(string(typ), style, v, is, hasIS)
	if err != nil {
		return cells, scanSlow
	}
	for len(cells) < col-1 {
		cells = append(cells, "")
	}
	return append(cells, text), -1
}

// undecided is the status when the scanner does not know what b[i:]
// holds: scanMore when fewer than n bytes are left, else scanSlow.
func (sc *rowScanner) undecided(n int) int {
	if len(sc.b)-sc.i < n {
		return scanMore
	}
	return scanSlow
}

// is reports whether b[i:] starts element name (a whole name, not a
// prefix of a longer one); false also when b ends first, which the caller
// then finds.
func (sc *rowScanner) is(name string) bool {
	j := sc.i + 1 + len(name)
	if j >= len(sc.b) || sc.b[sc.i] != '<' || string(sc.b[sc.i+1:j]) != name {
		return false
	}
	switch sc.b[j] {
	case ' ', '\t', '\n', '\r', '>', '/':
		return true
	}
	return false
}

// element scans an element with text only, such as <v>12</v>, and returns
// its text.
func (sc *rowScanner) element(name string) (string, int) {
	sc.i += 1 + len(name)
	empty, st := sc.startTag(func(attr) bool { return true })
	if st >= 0 || empty {
		return "", st
	}
	text, st := sc.chars()
	if st >= 0 {
		return "", st
	}
	if ok, st := sc.close(name); !ok {
		return "", orSlow(st)
	}
	return text, -1
}

// inline scans an inline string, <is> with <t> elements, and returns their
// text joined.
func (sc *rowScanner) inline() (string, int) {
	sc.i += len("<is")
	empty, st := sc.startTag(func(attr) bool { return true })
	if st >= 0 || empty {
		return "", st
	}
	var joined string
	for n := 0; ; n++ {
		if !sc.space() {
			return "", scanMore
		}
		if ok, st := sc.close("is"); ok || st >= 0 {
			if !ok {
				return "", st
			}
			return joined, -1
		}
		if !sc.is("t") {
			return "", sc.undecided(len("<t "))
		}
		text, st := sc.element("t")
		if st >= 0 {
			return "", st
		}
		if n == 0 {
			joined = text
		} else {
			joined += text
		}
	}
}

// chars scans character data up to the next '<' and returns it with the
// five named entities decoded; anything encoding/xml might read
// differently or refuse (another entity, a carriage return, a character
// XML does not allow, invalid UTF-8) makes it scanSlow.
func (sc *rowScanner) chars() (string, int) {
	end := bytes.IndexByte(sc.b[sc.i:], '<')
	if end < 0 {
		return "", scanMore
	}
	raw := sc.b[sc.i : sc.i+end]
	high, amp := false, false
	for _, c := range raw {
		switch {
		case c >= utf8.RuneSelf:
			high = true
		case c == '&':
			amp = true
		case c < ' ' && c != '\t' && c != '\n':
			return "", scanSlow
		}
	}
	if high && (!utf8.Valid(raw) || bytes.Contains(raw, []byte("\uFFFE")) || bytes.Contains(raw, []byte("\uFFFF"))) {
		return "", scanSlow
	}
	sc.i += end
	if !amp {
		return string(raw), -1
	}
	sc.text = sc.text[:0]
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '&')
		if i < 0 {
			sc.text = append(sc.text, raw...)
			break
		}
		sc.text = append(sc.text, raw[:i]...)
		raw = raw[i:]
		var c byte
		switch {
		case bytes.HasPrefix(raw, []byte("&amp;")):
			c, raw = '&', raw[5:]
		case bytes.HasPrefix(raw, []byte("&lt;")):
			c, raw = '<', raw[4:]
		case bytes.HasPrefix(raw, []byte("&gt;")):
			c, raw = '>', raw[4:]
		case bytes.HasPrefix(raw, []byte("&quot;")):
			c, raw = '"', raw[6:]
		case bytes.HasPrefix(raw, []byte("&apos;")):
			c, raw = '\'', raw[6:]
		default:
			return "", scanSlow
		}
		sc.text = append(sc.text, c)
	}
	return string(sc.text), -1
}
