package reports

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// JSONLWriter writes the report as JSON Lines: one JSON object per record,
// UTF-8, each ended by a line feed. The object's members are the fixed
// columns, in the order of Columns, row and attempts as numbers and the
// others as strings, then "input": an object of the input's values as
// strings, under its column names in input order:
//
//	{"row":2,"status":"created","service_request_id":"616000000000001","error_class":"","error":"","attempts":1,"request_id":"…","input":{"Title":"Printer jam","status":"open"}}
//
// The input's names are kept as they are, fixed column names included
// (the input object is apart from the fixed columns); only a name that
// repeats an earlier one is renamed, as InputColumns does ("input:2:Notes"
// for a second "Notes"), so that every member is unique. Text that is not
// valid UTF-8 is written as U+FFFD.
type JSONLWriter struct {
	closer io.Closer // nil when the destination is not ours to close
	buf    *bufio.Writer
	keys   [][]byte // the input members' names, quoted, with their colons
	line   []byte
}

// NewJSONL returns a writer of the JSON Lines report to w for an input
// whose header is inputHeader. If w is an io.Closer, Close closes it.
func NewJSONL(w io.Writer, inputHeader []string) *JSONLWriter {
	jw := newJSONL(w, inputHeader)
	if c, ok := w.(io.Closer); ok {
		jw.closer = c
	}
	return jw
}

// newJSONL is NewJSONL with a destination it never closes.
func newJSONL(w io.Writer, inputHeader []string) *JSONLWriter {
	jw := &JSONLWriter{buf: bufio.NewWriterSize(w, 64<<10)}
	for _, k := range jsonKeys(inputHeader) {
		jw.keys = append(jw.keys, append(appendJSONString(nil, k), ':'))
	}
	return jw
}

// jsonKeys returns the names of the input members for the input columns
// named header: InputColumns' names, except that a name renamed only for
// looking like a fixed column is kept. inputName undoes it.
func jsonKeys(header []string) []string {
	keys := InputColumns(header)
	for i, k := range keys {
		if k == inputPrefix+header[i] && isFixed(header[i]) {
			keys[i] = header[i]
		}
	}
	return keys
}

// Write adds one record.
func (w *JSONLWriter) Write(r Record) error {
	b := append(w.line[:0], `{"row":`...)
	b = strconv.AppendInt(b, int64(r.Row), 10)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(r.Status))
	b = append(b, `,"service_request_id":`...)
	b = appendJSONString(b, r.ServiceRequestID)
	b = append(b, `,"error_class":`...)
	b = appendJSONString(b, r.ErrorClass)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, r.Error)
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(r.Attempts), 10)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, r.RequestID)
	b = append(b, `,"input":{`...)
	for i, k := range w.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, k...)
		v := ""
		if i < len(r.Input) {
			v = r.Input[i]
		}
		b = appendJSONString(b, v)
	}
	b = append(b, "}}\n"...)
	w.line = b
	if _, err := w.buf.Write(b); err != nil {
		return fmt.Errorf("write report row %d: %w", r.Row, err)
	}
	return nil
}

// Flush pushes buffered records to the destination.
func (w *JSONLWriter) Flush() error {
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Close flushes the report and closes its file.
func (w *JSONLWriter) Close() error {
	err := w.Flush()
	if w.closer != nil {
		if cerr := w.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close report: %w", cerr)
		}
	}
	return err
}

// appendJSONString appends s to dst as a JSON string: quotes, backslashes
// and control characters escaped, as are U+2028 and U+2029 (which some
// JavaScript parsers take for line ends), and invalid UTF-8 written as
// U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			switch r {
			case utf8.RuneError:
				dst = append(dst, `\ufffd`...)
			default:
				dst = append(dst, `\u202`...)
				dst = append(dst, hex[r&0xF])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
