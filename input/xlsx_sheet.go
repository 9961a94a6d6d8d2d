package input

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// This file is the streaming pass over a worksheet part with encoding/xml:
// a token loop that keeps only the current row. It reads the start of the
// sheet, and the rows xlsx_fast.go's scanner leaves to it. excelize's Rows
// iterator is not used because it neither says which style a cell has
// (needed to tell a date from a number) nor reports XML errors (a damaged
// sheet would read as a short one).

// nextToken returns d's next token, refusing a DTD.
func nextToken(d *xml.Decoder, part string) (xml.Token, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	if _, ok := t.(xml.Directive); ok {
		return nil, xlsxDTDError(part)
	}
	return t, nil
}

// fail records and returns a fatal error met in the sheet.
func (r *xlsxReader) fail(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		se.Line += r.lineBase // counted in the document, not from r.dec's start
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	where := "before the first row"
	if r.rowNum > 0 {
		where = fmt.Sprintf("near row %d", r.rowNum)
	}
	return fmt.Errorf("%w: sheet %q cannot be read %s: %v; the file is probably truncated or damaged", ErrCorrupt, r.sheet, where, err)
}

// toSheetData reads up to the start of the sheet's rows; io.EOF means the
// sheet has none. It notes the <sheetData> tag and leaves the stream just
// after it, for readRow.
func (r *xlsxReader) toSheetData() error {
	depth := 0
	for {
		off := r.dec.InputOffset()
		t, err := nextToken(r.dec, r.sheet)
		if err == io.EOF && depth == 0 {
			return io.EOF
		}
		if err != nil {
			return r.fail(err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			if t.Name.Local == "sheetData" {
				s := r.stream
				end := s.mark + int(r.dec.InputOffset())
				tag := s.buf[s.mark+int(off) : end]
				s.r, s.mark = end, end
				s.line = bytes.Count(s.buf[:end], []byte("\n"))
				if bytes.HasSuffix(tag, []byte("/>")) {
					return io.EOF // <sheetData/>
				}
				name := tag[1:]
				if i := bytes.IndexAny(name, " \t\r\n>"); i >= 0 {
					name = name[:i]
				}
				r.sheetData = append(append([]byte("<"), name...), '>')
				return nil
			}
			if depth == 0 {
				depth++ // the worksheet element
				continue
			}
			if err := r.dec.Skip(); err != nil {
				return r.fail(err)
			}
		case xml.EndElement:
			depth--
		}
	}
}

// readRowXML reads the next <row> into r.rowNum and r.cells with r.dec;
// io.EOF after the last.
func (r *xlsxReader) readRowXML() error {
	for {
		t, err := nextToken(r.dec, r.sheet)
		if err != nil {
			return r.fail(err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			if t.Name.Local == "row" {
				return r.rowBody(t)
			}
			if err := r.dec.Skip(); err != nil {
				return r.fail(err)
			}
		case xml.EndElement:
			return io.EOF // </sheetData>
		}
	}
}

func (r *xlsxReader) rowBody(start xml.StartElement) error {
	num := r.rowNum + 1
	if v, ok := xlsxAttr(start, "r"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSheetRows {
			return fmt.Errorf("%w: sheet %q, after row %d: invalid row number %q", ErrCorrupt, r.sheet, r.rowNum, v)
		}
		num = n
	}
	if num <= r.rowNum || num > maxSheetRows {
		return fmt.Errorf("%w: sheet %q: row %d comes after row %d; rows must be in order", ErrCorrupt, r.sheet, num, r.rowNum)
	}
	r.rowNum = num
	r.cells = r.cells[:0]
	for {
		t, err := nextToken(r.dec, r.sheet)
		if err != nil {
			return r.fail(err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			if t.Name.Local != "c" {
				if err := r.dec.Skip(); err != nil {
					return r.fail(err)
				}
				continue
			}
			if err := r.cell(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil // </row>
		}
	}
}

// cell reads one <c> element into r.cells.
func (r *xlsxReader) cell(start xml.StartElement) error {
	var ref, typ string
	style := 0
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "r":
			ref = a.Value
		case "t":
			typ = a.Value
		case "s":
			style, _ = strconv.Atoi(a.Value)
		}
	}
	col := len(r.cells) + 1
	if ref != "" {
		c, row, ok := parseRef(ref)
		if !ok || row != r.rowNum {
			return fmt.Errorf("%w: sheet %q, row %d: invalid cell reference %q", ErrCorrupt, r.sheet, r.rowNum, ref)
		}
		if c <= len(r.cells) {
			return fmt.Errorf("%w: sheet %q, row %d: cell %s comes after column %s; cells must be in order", ErrCorrupt, r.sheet, r.rowNum, ref, columnLetters(len(r.cells)-1))
		}
		col = c
	} else if col > maxSheetCols {
		return fmt.Errorf("%w: sheet %q, row %d: more than %d cells", ErrCorrupt, r.sheet, r.rowNum, maxSheetCols)
	}
	var v, is string
	hasIS := false
	for done := false; !done; {
		t, err := nextToken(r.dec, r.sheet)
		if err != nil {
			return r.fail(err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				v, err = readChars(r.dec, r.sheet)
			case "is":
				is, err = readRichText(r.dec, r.sheet)
				hasIS = true
			default: // f (the formula: its cached value is in v), extLst
				err = r.dec.Skip()
			}
			if err != nil {
				return r.fail(err)
			}
		case xml.EndElement:
			done = true
		}
	}
	text, err := r.cellText(typ, style, v, is, hasIS)
	if err != nil {
		return fmt.Errorf("%w: sheet %q, cell %s%d: %v", ErrCorrupt, r.sheet, columnLetters(col-1), r.rowNum, err)
	}
	for len(r.cells) < col-1 {
		r.cells = append(r.cells, "")
	}
	r.cells = append(r.cells, text)
	return nil
}

// cellText returns a cell's value as a person sees it:
//   - shared, inline and formula strings as they are, with the _xHHHH_
//     escapes of OOXML decoded and rich-text runs joined (phonetic guides
//     left out);
//   - booleans as TRUE and FALSE, errors as shown (#N/A);
//   - numbers with a date or time format as ISO 8601 text: 2024-03-05,
//     2024-03-05T14:30:00, 14:30:00 (elapsed [h]:mm:ss as 36:00:00), by
//     the workbook's 1900 or 1904 date system;
//   - numbers in the General or text format as Excel's formula bar shows
//     them: 15 significant digits, no exponent between 1e-9 and 1e21, no
//     trailing ".0";
//   - numbers in any other format as that format displays them (00123,
//     1,234.50, 12%), spaces for alignment trimmed.
//
// A formula's value is the one cached in the file; a formula Excel never
// calculated reads as "".
func (r *xlsxReader) cellText(typ string, style int, v, is string, hasIS bool) (string, error) {
	switch typ {
	case "s":
		if v == "" {
			return "", nil
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return "", fmt.Errorf("invalid shared string index %q", v)
		}
		return r.pkg.sst.get(i)
	case "inlineStr":
		if hasIS {
			return decodeEscapes(is), nil
		}
		return decodeEscapes(v), nil
	case "str":
		return decodeEscapes(v), nil
	case "b":
		switch v {
		case "1", "true":
			return "TRUE", nil
		case "0", "false":
			return "FALSE", nil
		}
		return v, nil
	case "e":
		return v, nil
	case "d":
		return r.styles.isoDate(v, style), nil
	case "", "n":
		if v == "" {
			return "", nil
		}
		return r.styles.number(v, style), nil
	}
	return v, nil
}

// readChars returns the text up to the end of the current element.
func readChars(d *xml.Decoder, part string) (string, error) {
	var s string
	var b *strings.Builder
	for {
		t, err := nextToken(d, part)
		if err != nil {
			return "", err
		}
		switch t := t.(type) {
		case xml.CharData:
			if s == "" && b == nil {
				s = string(t)
				continue
			}
			if b == nil {
				b = &strings.Builder{}
				b.WriteString(s)
			}
			b.Write(t)
		case xml.StartElement:
			if err := d.Skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			if b != nil {
				return b.String(), nil
			}
			return s, nil
		}
	}
}

// readRichText returns the text of the <t> elements up to the end of the
// current element (<si> or <is>), leaving out phonetic runs (<rPh>).
func readRichText(d *xml.Decoder, part string) (string, error) {
	var s string
	var b *strings.Builder
	for depth := 0; ; {
		t, err := nextToken(d, part)
		if err != nil {
			return "", err
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				text, err := readChars(d, part)
				if err != nil {
					return "", err
				}
				if s == "" && b == nil {
					s = text
					continue
				}
				if b == nil {
					b = &strings.Builder{}
					b.WriteString(s)
				}
				b.WriteString(text)
			case "rPh", "phoneticPr", "rPr":
				if err := d.Skip(); err != nil {
					return "", err
				}
			default: // r
				depth++
			}
		case xml.EndElement:
			if depth == 0 {
				if b != nil {
					return b.String(), nil
				}
				return s, nil
			}
			depth--
		}
	}
}

// decodeEscapes decodes OOXML's _xHHHH_ escapes (ST_Xstring), such as
// _x000D_ for a carriage return; _x005F_ escapes the underscore itself.
func decodeEscapes(s string) string {
	i := strings.Index(s, "_x")
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		r, ok := escapeAt(s, i)
		if !ok {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			i = strings.Index(s, "_x")
			continue
		}
		b.WriteString(s[:i])
		s = s[i+7:]
		if 0xD800 <= r && r < 0xDC00 { // a UTF-16 surrogate pair
			if lo, ok := escapeAt(s, 0); ok && 0xDC00 <= lo && lo < 0xE000 {
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				s = s[7:]
			}
		}
		b.WriteRune(r)
		i = strings.Index(s, "_x")
	}
	b.WriteString(s)
	return b.String()
}

// escapeAt decodes the _xHHHH_ escape at s[i:].
func escapeAt(s string, i int) (rune, bool) {
	if len(s) < i+7 || s[i] != '_' || s[i+1] != 'x' || s[i+6] != '_' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

// parseRef parses a cell reference such as "B12" (absolute "$B$12" too).
func parseRef(ref string) (col, row int, ok bool) {
	i := 0
	if i < len(ref) && ref[i] == '$' {
		i++
	}
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
		if col > maxSheetCols {
			return 0, 0, false
		}
	}
	if col == 0 {
		return 0, 0, false
	}
	if i < len(ref) && ref[i] == '$' {
		i++
	}
	if i == len(ref) || len(ref)-i > 7 {
		return 0, 0, false
	}
	for ; i < len(ref); i++ {
		c := ref[i]
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		row = row*10 + int(c-'0')
	}
	return col, row, row >= 1 && row <= maxSheetRows
}

// xlsxAttr returns the value of start's attribute named local.
func xlsxAttr(start xml.StartElement, local string) (string, bool) {
	for _, a := range start.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}
