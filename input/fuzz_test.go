package input

import (
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCSV feeds the CSV front end any bytes, with and without a named
// encoding and delimiter. It must never panic or loop, every row must have
// the header's width, row numbers must rise, and a row without an error
// must hold valid UTF-8. When the input is plain enough to be read by hand
// (UTF-8, LF line ends, no quotes, comma delimiter) the rows must be
// exactly those a line-and-comma split gives.
func FuzzCSV(f *testing.F) {
	sample, err := os.ReadFile("../samples/tickets.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample, "", "")
	for _, s := range []string{
		"A,B\n1,2\n", "\uFEFFA;B\r\n1;2\r\n", "sep=|\nA|B\n1|2\n", "A\tB\n\"x\ny\"\t2\n",
		"A,B\r1,2\r", "A,B\n1\n1,2,3\n,\n\n,\n", "A,B\n\"x\"y,2\n3,\"open\n", "Caf\xe9,B\n1,2\n",
		"A,B\n1,caf\xe9\n", "\xff\xfeA\x00,\x00B\x00\n\x001\x00,\x002\x00\n\x00", "\x00\x00\xfe\xff",
		",,\n1,2,3\n", "A,,\n1,2,3\n,,\n,,\n", "A\n\n\n\n",
	} {
		f.Add([]byte(s), "", "")
	}
	f.Add([]byte("A,B\nx,\x81\n"), "windows-1252", "")
	f.Add([]byte("A;B\n1;2\n"), "latin1", ";")
	f.Add([]byte("T\x00i\x00\n\x00"), "utf-16le", "")

	f.Fuzz(func(t *testing.T, in []byte, enc, delim string) {
		var opts Options
		opts.Encoding = enc
		if d, _ := utf8.DecodeRuneInString(delim); d != utf8.RuneError && len(delim) > 0 {
			opts.Delimiter = d
		}
		r, err := NewCSV(strings.NewReader(string(in)), opts)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without words")
			}
			return
		}
		header := r.Header()
		if len(header) == 0 {
			t.Fatal("NewCSV succeeded with no header")
		}
		var rows []Row
		for {
			if len(rows) > len(in)+1 {
				t.Fatalf("more rows (%d) than input bytes (%d)", len(rows), len(in))
			}
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if err.Error() == "" {
					t.Fatal("an error without words")
				}
				if _, err2 := r.Next(); err2 != err {
					t.Fatalf("a fatal error is not sticky: %v then %v", err, err2)
				}
				return
			}
			if len(row.Values) != len(header) {
				t.Fatalf("row %d has %d values, header %d", row.Num, len(row.Values), len(header))
			}
			if len(rows) > 0 && row.Num <= rows[len(rows)-1].Num {
				t.Fatalf("row number %d after %d", row.Num, rows[len(rows)-1].Num)
			}
			if row.Num < 2 || row.Line < 1 {
				t.Fatalf("row %d on line %d", row.Num, row.Line)
			}
			if row.Err == nil {
				for _, v := range row.Values {
					if !utf8.ValidString(v) {
						t.Fatalf("row %d: invalid UTF-8 %q without an error", row.Num, v)
					}
				}
			}
			rows = append(rows, row)
		}
		first, _, _ := strings.Cut(string(in), "\n")
		comma := opts.Delimiter == ',' || opts.Delimiter == 0 && !strings.ContainsAny(first, ";\t|")
		if plain(in) && enc == "" && comma {
			wantHeader, want, ghosts := splitPlain(string(in))
			if !reflect.DeepEqual(header, wantHeader) {
				t.Fatalf("header %q, want %q", header, wantHeader)
			}
			if len(rows) != len(want) {
				t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
			}
			for i, w := range want {
				g := rows[i]
				if g.Num != w.Num || g.Line != w.Line || !reflect.DeepEqual(g.Values, w.Values) || (g.Err != nil) != (w.Err != nil) {
					t.Fatalf("row %d = %+v, want %+v", i, g, w)
				}
			}
			if got := r.(interface{ Ghost() int }).Ghost(); got != ghosts {
				t.Fatalf("Ghost() = %d, want %d", got, ghosts)
			}
		}
	})
}

// plain reports whether in can be read by splitting lines and commas: valid
// UTF-8 without a byte-order mark, quotes or CRs, starting with a header
// line that names a column, and no "sep=" line.
func plain(in []byte) bool {
	s := string(in)
	first, _, _ := strings.Cut(s, "\n")
	return utf8.Valid(in) && !strings.ContainsAny(s, "\"\r\uFEFF") &&
		strings.Trim(first, ",") != "" && !strings.HasPrefix(strings.ToLower(first), "sep=")
}

// splitPlain is the reference reader for plain input: a blank line takes a
// row number and yields nothing; all-empty records at the end are ghosts;
// a record with another field count than the header is an error row padded
// or cut to the header's width.
func splitPlain(s string) (header []string, rows []Row, ghosts int) {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, h := range strings.Split(lines[0], ",") {
		if strings.TrimSpace(h) == "" {
			h = "Column " + columnLetters(i)
		}
		header = append(header, h)
	}
	pending := 0
	for k, line := range lines[1:] {
		if line == "" {
			continue
		}
		fields := strings.Split(line, ",")
		row := Row{Num: k + 2, Line: k + 2, Values: make([]string, len(header))}
		copy(row.Values, fields)
		if len(fields) != len(header) {
			row.Err = errors.New("field count")
		}
		rows = append(rows, row)
		if strings.Trim(line, ",") == "" {
			pending++
		} else {
			pending = 0
		}
	}
	return header, rows[:len(rows)-pending], pending
}
