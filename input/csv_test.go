package input

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readAll returns every row of r and the error that ended it (nil for EOF).
func readAll(t *testing.T, r Reader) ([]Row, error) {
	t.Helper()
	var rows []Row
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("Next never ends")
		}
		row, err := r.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

// writeFile writes content to name in a fresh directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type wantRow struct {
	num, line int
	values    []string
	err       string // substring of Row.Err; "" = no error
}

func TestCSV(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		opts   Options
		header []string
		rows   []wantRow
		ghost  int
	}{
		{
			name:   "BOM is stripped from the first header",
			in:     "\uFEFFTitle,Severity\nA,critical\n",
			header: []string{"Title", "Severity"},
			rows:   []wantRow{{2, 2, []string{"A", "critical"}, ""}},
		},
		{
			name:   "BOM before a quoted header",
			in:     "\uFEFF\"Title\",Severity\nA,critical\n",
			header: []string{"Title", "Severity"},
			rows:   []wantRow{{2, 2, []string{"A", "critical"}, ""}},
		},
		{
			name:   "quoted multi-line fields with commas and escaped quotes",
			in:     "Title,Description,Id\n\"A, b\",\"line one\nsaid \"\"hi\"\"\nline three\",1\nB,plain,2\n",
			header: []string{"Title", "Description", "Id"},
			rows: []wantRow{
				{2, 2, []string{"A, b", "line one\nsaid \"hi\"\nline three", "1"}, ""},
				{3, 5, []string{"B", "plain", "2"}, ""},
			},
		},
		{
			name:   "CRLF line ends",
			in:     "Title,Id\r\nA,1\r\n\"two\r\nlines\",2\r\nC,3",
			header: []string{"Title", "Id"},
			rows: []wantRow{
				{2, 2, []string{"A", "1"}, ""},
				{3, 3, []string{"two\nlines", "2"}, ""},
				{4, 5, []string{"C", "3"}, ""},
			},
		},
		{
			name:   "sep= line is honoured and skipped; lines count it",
			in:     "sep=;\r\nTitle;Note\r\nA,b;c\r\n",
			header: []string{"Title", "Note"},
			rows:   []wantRow{{2, 3, []string{"A,b", "c"}, ""}},
		},
		{
			name:   "sep= line loses to an explicit delimiter but is still skipped",
			in:     "sep=;\nTitle,Note\nA,b\n",
			opts:   Options{Delimiter: ','},
			header: []string{"Title", "Note"},
			rows:   []wantRow{{2, 3, []string{"A", "b"}, ""}},
		},
		{
			name:   "semicolon detected",
			in:     "Title;Description;Id\nA,1;b;00123\n",
			header: []string{"Title", "Description", "Id"},
			rows:   []wantRow{{2, 2, []string{"A,1", "b", "00123"}, ""}},
		},
		{
			name:   "tab detected",
			in:     "Title\tDescription, long\tId\nA\tb, c\t7\n",
			header: []string{"Title", "Description, long", "Id"},
			rows:   []wantRow{{2, 2, []string{"A", "b, c", "7"}, ""}},
		},
		{
			name:   "pipe detected; delimiters inside quotes do not count",
			in:     "Title|\"Desc;a;b;c\"|Id\nA|b|1\n",
			header: []string{"Title", "Desc;a;b;c", "Id"},
			rows:   []wantRow{{2, 2, []string{"A", "b", "1"}, ""}},
		},
		{
			name:   "tie goes to comma",
			in:     "A;B,C\n1;2,3\n",
			header: []string{"A;B", "C"},
			rows:   []wantRow{{2, 2, []string{"1;2", "3"}, ""}},
		},
		{
			name:   "leading zeros and spaces are kept",
			in:     "Id,Name\n00123, padded \n",
			header: []string{"Id", "Name"},
			rows:   []wantRow{{2, 2, []string{"00123", " padded "}, ""}},
		},
		{
			name:   "wrong field count: row error with line, padded or cut values, reading goes on",
			in:     "A,B,C\n1,2\n1,2,3,4\nx,y,z\n",
			header: []string{"A", "B", "C"},
			rows: []wantRow{
				{2, 2, []string{"1", "2", ""}, "line 2: wrong number of fields: 2 fields where the header has 3"},
				{3, 3, []string{"1", "2", "3"}, "line 3: wrong number of fields: 4 fields where the header has 3 (a value that contains a comma must be enclosed in quotes)"},
				{4, 4, []string{"x", "y", "z"}, ""},
			},
		},
		{
			name:   "bare quote: invalid row naming line and column, later rows read",
			in:     "A,B\n1,2\nab\"c,3\n4,5\n",
			header: []string{"A", "B"},
			rows: []wantRow{
				{2, 2, []string{"1", "2"}, ""},
				{3, 3, []string{"", ""}, "parse error on line 3, column 3: bare \" in non-quoted-field"},
				{4, 4, []string{"4", "5"}, ""},
			},
		},
		{
			name:   "stray quote in a multi-line quoted field",
			in:     "A,B\n\"one\ntwo\"x,3\n4,5\n",
			header: []string{"A", "B"},
			rows: []wantRow{
				{2, 2, []string{"", ""}, "record on line 2; parse error on line 3, column 4: extraneous or missing \" in quoted-field"},
				{3, 4, []string{"4", "5"}, ""},
			},
		},
		{
			name:   "unclosed quote on the last line only loses that row",
			in:     "A,B\n1,2\n3,\"4",
			header: []string{"A", "B"},
			rows: []wantRow{
				{2, 2, []string{"1", "2"}, ""},
				{3, 3, []string{"3", ""}, "extraneous or missing \" in quoted-field"},
			},
		},
		{
			name:   "trailing empty records are ghosts",
			in:     "A,B\n1,2\n,\n,\n\n,,\n",
			header: []string{"A", "B"},
			rows:   []wantRow{{2, 2, []string{"1", "2"}, ""}},
			ghost:  3,
		},
		{
			name:   "empty records followed by data are rows",
			in:     "A,B\n,\n\n,,\n1,2\n,\n",
			header: []string{"A", "B"},
			rows: []wantRow{
				{2, 2, []string{"", ""}, ""},
				{4, 4, []string{"", ""}, "3 fields where the header has 2"},
				{5, 5, []string{"1", "2"}, ""},
			},
			ghost: 1,
		},
		{
			name:   "empty and duplicate header names",
			in:     "Title,,Title, \n1,2,3,4\n",
			header: []string{"Title", "Column B", "Title", "Column D"},
			rows:   []wantRow{{2, 2, []string{"1", "2", "3", "4"}, ""}},
		},
		{
			name:   "invalid UTF-8 is a row error",
			in:     "A,B\n1,caf\xe9\n3,4\n",
			header: []string{"A", "B"},
			rows: []wantRow{
				{2, 2, []string{"1", "caf\xe9"}, `row 2, line 2, column B ("B"): byte 0xE9 at byte offset 9: text is not valid UTF-8; ` +
					`the file is probably in another encoding: run again with --encoding windows-1252`},
				{3, 3, []string{"3", "4"}, ""},
			},
		},
		{
			name:   "header only",
			in:     "A,B\n",
			header: []string{"A", "B"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewCSV(strings.NewReader(tt.in), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkReader(t, r, tt.header, tt.rows, tt.ghost)
		})
	}
}

// checkReader reads r to the end and compares what it returns.
func checkReader(t *testing.T, r Reader, header []string, want []wantRow, ghost int) {
	t.Helper()
	if got := r.Header(); !reflect.DeepEqual(got, header) {
		t.Errorf("header = %q, want %q", got, header)
	}
	rows, err := readAll(t, r)
	if err != nil {
		t.Fatalf("fatal error %v", err)
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows %+v, want %d", len(rows), rows, len(want))
	}
	for i, w := range want {
		got := rows[i]
		if got.Num != w.num || got.Line != w.line {
			t.Errorf("row %d: Num %d Line %d, want Num %d Line %d", i, got.Num, got.Line, w.num, w.line)
		}
		if !reflect.DeepEqual(got.Values, w.values) {
			t.Errorf("row %d: values %q, want %q", i, got.Values, w.values)
		}
		switch {
		case w.err == "" && got.Err != nil:
			t.Errorf("row %d: unexpected error %v", i, got.Err)
		case w.err != "" && (got.Err == nil || !strings.Contains(got.Err.Error(), w.err)):
			t.Errorf("row %d: error %v, want one containing %q", i, got.Err, w.err)
		}
	}
	if g := r.(interface{ Ghost() int }).Ghost(); g != ghost {
		t.Errorf("Ghost() = %d, want %d", g, ghost)
	}
	// The end is sticky.
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
}

func TestCSVErrorKinds(t *testing.T) {
	r, err := NewCSV(strings.NewReader("A,B\n1\n\"x\"y,2\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(t, r)
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %+v, err %v", rows, err)
	}
	if !errors.Is(rows[0].Err, csv.ErrFieldCount) {
		t.Errorf("field count error %v does not wrap csv.ErrFieldCount", rows[0].Err)
	}
	var pe *csv.ParseError
	if !errors.As(rows[1].Err, &pe) || pe.Line != 3 || !errors.Is(rows[1].Err, csv.ErrQuote) {
		t.Errorf("quote error %v is not a *csv.ParseError on line 3 wrapping ErrQuote", rows[1].Err)
	}
}

func TestCSVUnclosedQuoteIsFatal(t *testing.T) {
	in := "A,B\n1,2\n3,\"never closed\n5,6\n7,8\n"
	r, err := NewCSV(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(t, r)
	if len(rows) != 1 || rows[0].Num != 2 {
		t.Errorf("rows before the bad quote: %+v", rows)
	}
	if err == nil || !strings.Contains(err.Error(), "line 3: a quoted field opened on this line is never closed, so lines 3-5") {
		t.Fatalf("err = %v, want the unclosed quote named", err)
	}
	if !errors.Is(err, csv.ErrQuote) {
		t.Errorf("%v does not wrap csv.ErrQuote", err)
	}
	if _, err2 := r.Next(); err2 != err {
		t.Errorf("Next after a fatal error = %v, want the same error", err2)
	}
}

func TestCSVRecordSizeLimit(t *testing.T) {
	// Longer than the reader's buffer, so that the limit is met while
	// reading.
	in := "A,B\n1,2\n3,\"" + strings.Repeat("long line\n", 200000) + "\"\n"
	rd, err := newCSV(strings.NewReader(in), nil, Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	rd.limit = 100 << 10
	rows, err := readAll(t, rd)
	if len(rows) != 1 {
		t.Errorf("got %d rows before the limit, want 1", len(rows))
	}
	if err == nil || !strings.Contains(err.Error(), "the record after line 2 is longer than") {
		t.Fatalf("err = %v, want the record size limit", err)
	}
}

func TestNewCSVErrors(t *testing.T) {
	tests := []struct {
		name, in string
		opts     Options
		is       error
		msg      string
	}{
		{"empty input", "", Options{}, ErrNoHeader, "the input is empty"},
		{"BOM only", "\uFEFF", Options{}, ErrNoHeader, "empty"},
		{"blank lines only", "\n\n\r\n", Options{}, ErrNoHeader, "empty"},
		{"sep line only", "sep=;\n", Options{}, ErrNoHeader, "empty"},
		{"empty header record", ",,\n1,2,3\n", Options{}, ErrNoHeader, "line 1 holds no column names"},
		{"UTF-16 without a byte-order mark", "T\x00i\x00t\x00", Options{}, ErrUnsupported, "UTF-16 LE text without a byte-order mark; run again with --encoding utf-16le"},
		{"UTF-16 cut off", "\xff\xfeT\x00i", Options{}, ErrEncoding, "byte offset 4: the file is not valid UTF-16 LE text: the file ends in the middle of a character"},
		{"unknown encoding", "A\n", Options{Encoding: "windows-1521"}, ErrEncodingName, `unknown encoding name "windows-1521" (unsupported input): use one of auto, utf-8,`},
		{"unknown encoding is unsupported", "A\n", Options{Encoding: "klingon"}, ErrUnsupported, "windows-1252"},
		{"byte-order mark against the name", "\uFEFFA\n", Options{Encoding: "windows-1252"}, ErrUnsupported, "the file starts with a UTF-8 byte-order mark, so it is not windows-1252 text; run again without --encoding"},
		{"bad delimiter", "A\n", Options{Delimiter: '"'}, ErrUnsupported, "cannot be a CSV delimiter"},
		{"header not UTF-8", "Caf\xe9,B\n", Options{}, ErrEncoding, "header, line 1, column A: byte 0xE9 at byte offset 3: text is not valid UTF-8; the file is probably in another encoding: run again with --encoding windows-1252"},
		{"header not UTF-8 after a BOM and sep line", "\uFEFFsep=,\nA,Caf\xe9\n", Options{}, ErrEncoding, "header, line 2, column B: byte 0xE9 at byte offset 14"},
		{"bad quote in header", "A,B\"\n1,2\n", Options{}, csv.ErrBareQuote, "header: parse error on line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCSV(strings.NewReader(tt.in), tt.opts)
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want one wrapping %v containing %q", err, tt.is, tt.msg)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	t.Run("csv", func(t *testing.T) {
		r, err := Open(writeFile(t, "in.CSV", "A;B\n1;2\n"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		rows, err := readAll(t, r)
		if err != nil || len(rows) != 1 || rows[0].Values[1] != "2" {
			t.Fatalf("rows %+v, err %v", rows, err)
		}
	})
	t.Run("tsv defaults to tab", func(t *testing.T) {
		// Detection would pick the comma; the extension says tab.
		r, err := Open(writeFile(t, "in.tsv", "A,x\tB\n1,y\t2\n"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if h := r.Header(); !reflect.DeepEqual(h, []string{"A,x", "B"}) {
			t.Fatalf("header %q", h)
		}
	})
	t.Run("close closes the file", func(t *testing.T) {
		r, err := Open(writeFile(t, "in.txt", "A\n1\n"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.(*csvReader).closer.Close(); err == nil {
			t.Error("the file is still open after Close")
		}
	})
	for _, tt := range []struct{ file, msg string }{
		{"in.xls", ".xls"},
		{"in.json", `".json"`},
		{"noext", "no file extension"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Open(writeFile(t, tt.file, "A\n1\n"), Options{})
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want ErrUnsupported naming %q", err, tt.msg)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := Open(filepath.Join(t.TempDir(), "missing.csv"), Options{})
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v, want os.ErrNotExist", err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		_, err := Open(writeFile(t, "empty.csv", ""), Options{})
		if !errors.Is(err, ErrNoHeader) {
			t.Fatalf("err = %v, want ErrNoHeader", err)
		}
	})
}

func TestHeaderIsACopy(t *testing.T) {
	r, err := NewCSV(strings.NewReader("A,B\n1,2\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.Header()[0] = "changed"
	row, _ := r.Next()
	if r.Header()[0] != "A" || row.Values[0] != "1" {
		t.Fatalf("header %q, row %q", r.Header(), row.Values)
	}
}

func TestValuesAreNotReused(t *testing.T) {
	r, err := NewCSV(strings.NewReader("A,B\n1,2\n3,4\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := r.Next()
	second, _ := r.Next()
	if first.Values[0] != "1" || second.Values[0] != "3" {
		t.Fatalf("first %q, second %q: the record slice is shared", first.Values, second.Values)
	}
}

func TestManyGhostsStayCompact(t *testing.T) {
	in := "A,B\n1,2\n" + strings.Repeat(",\n", 100000)
	rd, err := newCSV(strings.NewReader(in), nil, Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(t, rd)
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %d, err %v", len(rows), err)
	}
	if rd.Ghost() != 100000 {
		t.Errorf("Ghost() = %d", rd.Ghost())
	}
}

func TestColumnLetters(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := columnLetters(i); got != want {
			t.Errorf("columnLetters(%d) = %q, want %q", i, got, want)
		}
	}
}
