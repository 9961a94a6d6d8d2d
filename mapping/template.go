package mapping

import (
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// A template is text with column references: "{{Subject}} ({{Ticket ID}})".
// {{ and }} delimit a column name (trimmed); everything else is literal.
// There is no escape: a literal "{{" or "}}" cannot be written, and a
// single { or } is ordinary text.

// segment is one parsed piece of a template: literal text, or a column
// name.
type segment struct {
	text  string
	isCol bool
}

// parseTemplate splits s into segments. It rejects unbalanced delimiters,
// braces inside a column reference and empty column names, with errors
// wrapping ErrTemplate.
func parseTemplate(s string) ([]segment, error) {
	var segs []segment
	for s != "" {
		open, close := strings.Index(s, "{{"), strings.Index(s, "}}")
		if close >= 0 && (open < 0 || close < open) {
			return nil, newRule(ErrTemplate, `"}}" without an opening "{{"`)
		}
		if open < 0 {
			segs = append(segs, segment{text: s})
			break
		}
		if open > 0 {
			segs = append(segs, segment{text: s[:open]})
		}
		rest := s[open+2:]
		end := strings.Index(rest, "}}")
		if end < 0 {
			return nil, newRule(ErrTemplate, `"{{" is never closed with "}}"`)
		}
		name := rest[:end]
		if strings.ContainsAny(name, "{}") {
			return nil, newRule(ErrTemplate, "a brace inside {{"+name+"}}: column references cannot nest")
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, newRule(ErrTemplate, "{{}} names no column")
		}
		segs = append(segs, segment{text: name, isCol: true})
		s = rest[end+2:]
	}
	return segs, nil
}

// formatTemplate writes segments back as template text.
func formatTemplate(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.isCol {
			b.WriteString("{{")
			b.WriteString(s.text)
			b.WriteString("}}")
		} else {
			b.WriteString(s.text)
		}
	}
	return b.String()
}

// part is a compiled segment: literal text, or the index of a column.
type part struct {
	lit string
	col int // -1 for literal text
}

// tmpl is a compiled template. Rendering substitutes each column's trimmed
// value and trims the result.
type tmpl struct {
	src   string
	parts []part
	cols  []int  // columns referenced, in order; cols[0] is the one errors name
	konst string // the trimmed text when there are no columns
	n     int    // bytes of literal text
}

// isConst reports whether t references no column.
func (t *tmpl) isConst() bool { return len(t.cols) == 0 }

// col returns the column errors name, or -1 for a constant.
func (t *tmpl) col() int {
	if len(t.cols) == 0 {
		return -1
	}
	return t.cols[0]
}

// render returns t's text for a row. blank is true when the result holds
// no value: a constant that is empty, or every referenced column blank
// (literal text around empty values does not count, so "Ref: {{Ref}}"
// is blank when Ref is).
//
// A result joined from several parts is a new string, unless scratch is
// not nil: then it is rendered at the end of *scratch and the result
// refers to those bytes, so that Check allocates nothing. Such a result is
// valid only until *scratch is reused; bytes already in it are never
// overwritten by render.
func (t *tmpl) render(values []string, scratch *[]byte) (text string, blank bool) {
	if len(t.cols) == 0 {
		return t.konst, t.konst == ""
	}
	if len(t.parts) == 1 {
		v := cell(values, t.parts[0].col)
		return v, v == ""
	}
	n, blank := t.n, true
	for _, c := range t.cols {
		v := cell(values, c)
		n += len(v)
		if v != "" {
			blank = false
		}
	}
	if blank {
		return "", true
	}
	if scratch != nil {
		b := slices.Grow(*scratch, n)
		start := len(b)
		for _, p := range t.parts {
			if p.col < 0 {
				b = append(b, p.lit...)
			} else {
				b = append(b, cell(values, p.col)...)
			}
		}
		*scratch = b
		if len(b) == start {
			return "", false
		}
		return strings.TrimSpace(unsafe.String(&b[start], len(b)-start)), false
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range t.parts {
		if p.col < 0 {
			b.WriteString(p.lit)
		} else {
			b.WriteString(cell(values, p.col))
		}
	}
	return strings.TrimSpace(b.String()), false
}

// cell returns column i's trimmed value; "" when the row is short.
func cell(values []string, i int) string {
	if i >= len(values) {
		return ""
	}
	v := values[i]
	if n := len(v); n > 0 && isText(v[0]) && isText(v[n-1]) {
		return v // the common case, without a call
	}
	return strings.TrimSpace(v)
}

// isText reports whether b is an ASCII byte that is not white space:
// bytes from '!' to '~' (the non-ASCII spaces, such as U+00A0, start with
// a byte above them).
func isText(b byte) bool { return ' ' < b && b < utf8.RuneSelf }
