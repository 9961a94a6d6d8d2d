package input

import (
	"bytes"
	"encoding/csv"
	"io"
	"unicode/utf8"
	"unsafe"
)

// parseBufSize is the size of a csvParser's buffer; a record longer than
// that grows it.
const parseBufSize = 1 << 20

// csvParser splits CSV text into records as encoding/csv's Reader does with
// FieldsPerRecord negative and LazyQuotes, TrimLeadingSpace and Comment
// unset: the same fields, the same *csv.ParseError for bad quoting (with
// the fields read before it), the same FieldPos and InputOffset, the same
// line counting (a CRLF line end reads as LF, a CR just before the end of
// the input is dropped, blank lines are skipped). FuzzCSVParser holds it
// to encoding/csv.
//
// It is faster because it works in blocks of input of its own and copies
// nothing it need not: it looks for quotes once per line, and a field is a
// string over the block's bytes, unless its record needs unquoting (""
// in a quoted field, a CRLF inside one), which alone goes through a second
// buffer and a string of its own. The records' slices are carved from
// shared arrays.
//
// A block is never written again once a field refers to it: fill reads
// only into its unused end, and moves a record cut by the end to a new
// block. A field thus keeps its block (1 MiB) alive; the importer holds a
// bounded window of rows, so a few blocks at a time.
type csvParser struct {
	src       io.Reader
	comma     rune
	delim     []byte // comma, encoded
	blockSize int    // parseBufSize, smaller in tests

	buf   []byte // buf[r:w] is read and not parsed yet; buf[w:] is never used yet
	r, w  int
	scan  int   // buf[r:scan] holds no '\n'
	keep  int   // start of the record being read; fill keeps buf[keep:]
	eof   bool  // src returned io.EOF
	rerr  error // a read error other than io.EOF, returned when buf runs dry
	lines int   // physical lines read, as encoding/csv counts them

	offset int64 // input offset of buf[r]

	// The record being read or last read.
	pos     []position // each field's line and column
	spans   []span     // each field's text, as offsets from keep (or, copying, into text)
	copying bool       // the text is assembled in text
	text    []byte
	slab    []string
}

// position is where a field starts: line and 1-based byte column.
type position struct{ line, col int }

// span is a field's text: [start, end).
type span struct{ start, end int }

// lineRef is one physical line: buf[s:e] without its end, nl set when a
// '\n' ended it (after e, or after a '\r' at e when crlf is set).
type lineRef struct {
	s, e     int
	nl, crlf bool
}

// size is the length of the line as encoding/csv sees it: the text and
// one '\n'.
func (l lineRef) size() int {
	if l.nl {
		return l.e - l.s + 1
	}
	return l.e - l.s
}

func newCSVParser(src io.Reader, comma rune) *csvParser {
	return &csvParser{
		src:       src,
		comma:     comma,
		delim:     utf8.AppendRune(nil, comma),
		blockSize: parseBufSize,
	}
}

// FieldPos returns the line and column where field i of the last record
// starts.
func (p *csvParser) FieldPos(i int) (line, column int) {
	return p.pos[i].line, p.pos[i].col
}

// InputOffset returns the input offset of the end of the last record.
func (p *csvParser) InputOffset() int64 { return p.offset }

// drained reports whether the whole input has been read and parsed.
func (p *csvParser) drained() bool { return p.eof && p.r == p.w }

// fill reads more input after buf[w]. When buf is full it moves buf[keep:]
// to a new block of blockSize bytes, or of as many times two more as leave
// half of it free. It returns false when nothing more can be read.
func (p *csvParser) fill() bool {
	if p.eof || p.rerr != nil {
		return false
	}
	if p.w == len(p.buf) {
		size := p.blockSize
		for 2*(p.w-p.keep) > size {
			size *= 2
		}
		buf := make([]byte, size)
		p.w = copy(buf, p.buf[p.keep:p.w])
		p.buf = buf
		p.r -= p.keep
		p.scan -= p.keep
		p.keep = 0
	}
	for range 100 {
		n, err := p.src.Read(p.buf[p.w:])
		p.w += n
		switch {
		case err == io.EOF:
			p.eof = true
		case err != nil:
			p.rerr = err
		}
		if n > 0 || err != nil {
			return n > 0
		}
	}
	p.rerr = io.ErrNoProgress
	return false
}

// nextLine reads the next physical line as encoding/csv's readLine does.
// err is io.EOF, with an empty line, at the end of the input, or a read
// error, possibly with the part of a line read before it.
func (p *csvParser) nextLine() (l lineRef, err error) {
	for {
		if i := bytes.IndexByte(p.buf[p.scan:p.w], '\n'); i >= 0 {
			end := p.scan + i
			l = lineRef{s: p.r, e: end, nl: true}
			if end > p.r && p.buf[end-1] == '\r' {
				l.e, l.crlf = end-1, true
			}
			p.lines++
			p.offset += int64(end + 1 - p.r)
			p.r, p.scan = end+1, end+1
			return l, nil
		}
		p.scan = p.w
		if !p.fill() {
			break
		}
	}
	l = lineRef{s: p.r, e: p.w}
	p.lines++
	p.offset += int64(p.w - p.r)
	p.r, p.scan = p.w, p.w
	if p.rerr != nil {
		return l, p.rerr
	}
	if l.e == l.s {
		return l, io.EOF
	}
	if p.buf[l.e-1] == '\r' {
		l.e-- // dropped before the end of the input, as encoding/csv does
	}
	return l, nil
}

// Read returns the next record; see csvParser.
func (p *csvParser) Read() ([]string, error) {
	p.pos, p.spans, p.text, p.copying = p.pos[:0], p.spans[:0], p.text[:0], false
	var l lineRef
	var errRead error
	for {
		p.keep = p.r
		l, errRead = p.nextLine()
		if errRead != nil || l.size() > 1 || (l.size() == 1 && !l.nl) {
			break
		}
		// A blank line: skipped.
	}
	if errRead == io.EOF {
		p.keep = p.r
		return nil, io.EOF
	}
	err := p.record(l, errRead)
	rec := p.fields()
	p.keep = p.r
	return rec, err
}

// record parses the fields of the record whose first line is l, read with
// errRead, as encoding/csv's readRecord does.
func (p *csvParser) record(l lineRef, errRead error) error {
	var err error
	recLine := p.lines
	pos := position{line: p.lines, col: 1}
	cur := l.s
	quote := p.nextQuote(cur, l) // first '"' at or after cur on the line, or l.e
parseField:
	for {
		if cur == l.e || p.buf[cur] != '"' {
			// An unquoted field: up to the delimiter or the line end.
			i := p.indexDelim(cur, l.e)
			end := l.e
			if i >= 0 {
				end = cur + i
			}
			if quote < end {
				err = &csv.ParseError{StartLine: recLine, Line: p.lines, Column: pos.col + quote - cur, Err: csv.ErrBareQuote}
				break parseField
			}
			p.addField(cur, end, pos)
			if i < 0 {
				break parseField
			}
			cur = end + len(p.delim)
			pos.col += i + len(p.delim)
			if quote < cur {
				quote = p.nextQuote(cur, l)
			}
			continue parseField
		}
		// A quoted field.
		fieldPos := pos
		cur++
		pos.col++
		p.startField(cur)
		for {
			if i := bytes.IndexByte(p.buf[cur:l.e], '"'); i >= 0 {
				p.appendText(cur, cur+i)
				cur += i + 1
				pos.col += i + 1
				switch rest := p.buf[cur:l.e]; {
				case len(rest) > 0 && rest[0] == '"':
					// "" stands for one quote.
					p.appendQuote()
					cur++
					pos.col++
				case bytes.HasPrefix(rest, p.delim):
					cur += len(p.delim)
					pos.col += len(p.delim)
					p.endField(fieldPos)
					quote = p.nextQuote(cur, l)
					continue parseField
				case len(rest) == 0:
					p.endField(fieldPos)
					break parseField
				default:
					err = &csv.ParseError{StartLine: recLine, Line: p.lines, Column: pos.col - 1, Err: csv.ErrQuote}
					break parseField
				}
			} else if l.size() > cur-l.s {
				// The field goes on on the next line.
				p.appendText(cur, l.e)
				if l.nl {
					p.appendNewline(l)
				}
				if errRead != nil {
					break parseField
				}
				pos.col += l.size() - (cur - l.s)
				l, errRead = p.nextLine()
				if l.size() > 0 {
					pos.line++
					pos.col = 1
				}
				if errRead == io.EOF {
					errRead = nil
				}
				cur = l.s
			} else {
				// The input ends inside the quotes.
				if errRead == nil {
					err = &csv.ParseError{StartLine: recLine, Line: pos.line, Column: pos.col, Err: csv.ErrQuote}
					break parseField
				}
				p.endField(fieldPos)
				break parseField
			}
		}
	}
	if err == nil {
		err = errRead
	}
	return err
}

// nextQuote returns the index of the first '"' in buf[from:l.e], or l.e.
func (p *csvParser) nextQuote(from int, l lineRef) int {
	if i := bytes.IndexByte(p.buf[from:l.e], '"'); i >= 0 {
		return from + i
	}
	return l.e
}

// indexDelim returns the index of the first delimiter in buf[from:to],
// or -1.
func (p *csvParser) indexDelim(from, to int) int {
	if len(p.delim) == 1 {
		return bytes.IndexByte(p.buf[from:to], p.delim[0])
	}
	return bytes.Index(p.buf[from:to], p.delim)
}

// addField adds an unquoted field, buf[s:e], that starts at pos.
func (p *csvParser) addField(s, e int, pos position) {
	p.startField(s)
	p.appendText(s, e)
	p.endField(pos)
}

// startField starts a field whose text, if it is one run of buf, begins at
// buf[s].
func (p *csvParser) startField(s int) {
	if p.copying {
		p.spans = append(p.spans, span{len(p.text), len(p.text)})
		return
	}
	p.spans = append(p.spans, span{s - p.keep, s - p.keep})
}

// appendText adds buf[s:e] to the current field.
func (p *csvParser) appendText(s, e int) {
	f := &p.spans[len(p.spans)-1]
	switch {
	case s == e:
	case p.copying:
		p.text = append(p.text, p.buf[s:e]...)
		f.end = len(p.text)
	case f.end == s-p.keep:
		f.end = e - p.keep
	default:
		p.copy()
		p.appendText(s, e)
	}
}

// appendQuote adds a '"' to the current field.
func (p *csvParser) appendQuote() {
	p.copy()
	p.text = append(p.text, '"')
	p.spans[len(p.spans)-1].end = len(p.text)
}

// appendNewline adds the end of line l, as '\n', to the current field.
func (p *csvParser) appendNewline(l lineRef) {
	if l.crlf {
		p.copy()
		p.text = append(p.text, '\n')
		p.spans[len(p.spans)-1].end = len(p.text)
		return
	}
	p.appendText(l.e, l.e+1)
}

// endField ends the current field, which started at pos.
func (p *csvParser) endField(pos position) { p.pos = append(p.pos, pos) }

// copy switches the record to copying: its text so far moves to text.
func (p *csvParser) copy() {
	if p.copying {
		return
	}
	p.copying = true
	for i, f := range p.spans {
		start := len(p.text)
		p.text = append(p.text, p.buf[p.keep+f.start:p.keep+f.end]...)
		p.spans[i] = span{start, len(p.text)}
	}
}

// fields returns the fields of the record read, for its complete fields
// (p.pos holds one position per complete field).
func (p *csvParser) fields() []string {
	n := len(p.pos)
	if n == 0 {
		return nil
	}
	var s string
	base, end := p.spans[0].start, p.spans[n-1].end
	switch {
	case base == end:
	case p.copying:
		s = string(p.text[base:end])
	default:
		// The block is never written again (see csvParser).
		s = unsafe.String(&p.buf[p.keep+base], end-base)
	}
	if cap(p.slab)-len(p.slab) < n {
		p.slab = make([]string, 0, max(n, 256))
	}
	k := len(p.slab)
	p.slab = p.slab[:k+n]
	rec := p.slab[k : k+n : k+n]
	for i := range rec {
		rec[i] = s[p.spans[i].start-base : p.spans[i].end-base]
	}
	return rec
}
