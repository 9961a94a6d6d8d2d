package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// jsonlReader reads a JSON Lines report back (see JSONLWriter). The input
// header is the member names of the first line's input object, in order;
// later lines may list them in any order, and leave some out (empty
// values), but may not add others.
type jsonlReader struct {
	name   string
	file   *os.File
	br     *bufio.Reader
	line   int            // lines read
	header []string       // the input header
	index  map[string]int // an input member's name → its column
	first  *Record        // the first record, read to learn the header
}

// jsonlLine is a JSON Lines report line but for its input object.
type jsonlLine struct {
	Row              *int            `json:"row"`
	Status           *Status         `json:"status"`
	ServiceRequestID string          `json:"service_request_id"`
	ErrorClass       string          `json:"error_class"`
	Error            string          `json:"error"`
	Attempts         int             `json:"attempts"`
	RequestID        string          `json:"request_id"`
	Input            json.RawMessage `json:"input"`
}

// openJSONL opens the JSON Lines report at path and reads its first
// record, to learn the input header (see Open).
func openJSONL(path string) (*jsonlReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open report: %w", err)
	}
	r := &jsonlReader{name: path, file: f, br: bufio.NewReaderSize(f, 64<<10)}
	first, err := r.next()
	switch {
	case errors.Is(err, io.EOF):
		return r, nil // no records: nothing tells the header
	case err != nil:
		f.Close()
		var le *lineError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("report %s: %w: line %d: %w", path, ErrNotReport, le.line, le.err)
		}
		return nil, err
	}
	r.first = &first
	return r, nil
}

// lineError is what is wrong with a line.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *lineError) Unwrap() error { return e.err }

// Header returns the input's header, as the report was made from; nil
// for a report without records.
func (r *jsonlReader) Header() []string { return append([]string(nil), r.header...) }

// Next returns the next record, or io.EOF after the last. An error names
// the file and the line.
func (r *jsonlReader) Next() (Record, error) {
	if r.first != nil {
		rec := *r.first
		r.first = nil
		return rec, nil
	}
	rec, err := r.next()
	var le *lineError
	if errors.As(err, &le) {
		return Record{}, fmt.Errorf("report %s line %d: %w", r.name, le.line, le.err)
	}
	return rec, err
}

// next reads the next non-blank line as a record. A line that is not
// one is a *lineError.
func (r *jsonlReader) next() (Record, error) {
	for {
		b, err := r.br.ReadBytes('\n')
		if len(b) == 0 && errors.Is(err, io.EOF) {
			return Record{}, io.EOF
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Record{}, fmt.Errorf("report %s: %w", r.name, err)
		}
		r.line++
		if b = bytes.TrimSpace(b); len(b) == 0 {
			continue
		}
		rec, err := r.parse(b)
		if err != nil {
			return Record{}, &lineError{r.line, err}
		}
		return rec, nil
	}
}

// parse makes a record of one line.
func (r *jsonlReader) parse(b []byte) (Record, error) {
	var l jsonlLine
	if err := json.Unmarshal(b, &l); err != nil {
		return Record{}, fmt.Errorf("not a JSON object: %w", err)
	}
	switch {
	case l.Row == nil || l.Status == nil:
		return Record{}, errors.New(`no "row" or "status": not a report line`)
	case *l.Row < 1:
		return Record{}, fmt.Errorf("row %d is not a row number", *l.Row)
	case !l.Status.known():
		return Record{}, fmt.Errorf("status %q is not a report status", *l.Status)
	case l.Attempts < 0:
		return Record{}, fmt.Errorf("attempts %d is not a count", l.Attempts)
	}
	rec := Record{Row: *l.Row, Status: *l.Status, ServiceRequestID: l.ServiceRequestID,
		ErrorClass: l.ErrorClass, Error: l.Error, Attempts: l.Attempts, RequestID: l.RequestID}
	var err error
	rec.Input, err = r.input(l.Input)
	return rec, err
}

// input reads a line's input object into values in header order. The
// first line's names make the header.
func (r *jsonlReader) input(raw json.RawMessage) ([]string, error) {
	learn := r.index == nil
	if learn {
		r.index = make(map[string]int)
	}
	values := make([]string, len(r.header))
	if len(raw) == 0 || string(raw) == "null" {
		return values, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New(`"input" is not an object`)
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf(`"input": %w`, err)
		}
		key := t.(string) // an object's keys are strings
		var v *string
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf(`"input": %q is not a string`, key)
		}
		i, ok := r.index[key]
		switch {
		case ok && learn:
			return nil, fmt.Errorf(`"input": %q twice`, key)
		case !ok && !learn:
			return nil, fmt.Errorf(`"input": %q is not one of the first line's input columns %q`, key, r.header)
		case !ok:
			i = len(r.header)
			r.index[key] = i
			r.header = append(r.header, inputName(key))
			values = append(values, "")
		}
		if v != nil {
			values[i] = *v
		}
	}
	return values, nil
}

// Close closes the file.
func (r *jsonlReader) Close() error {
	if err := r.file.Close(); err != nil {
		return fmt.Errorf("close report %s: %w", r.name, err)
	}
	return nil
}
