package input

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// recordReader is what csvParser and encoding/csv's Reader have in common.
type recordReader interface {
	Read() ([]string, error)
	FieldPos(int) (int, int)
	InputOffset() int64
}

// transcript reads r to its end, or to an error other than a parse error,
// and describes every Read: the fields, where each starts, the input offset
// after it and the error.
func transcript(r recordReader) []string {
	var out []string
	for range 1000 {
		rec, err := r.Read()
		line := fmt.Sprintf("%q", rec)
		for i := range rec {
			l, c := r.FieldPos(i)
			line += fmt.Sprintf(" %d:%d", l, c)
		}
		line += fmt.Sprintf(" offset %d", r.InputOffset())
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			line += fmt.Sprintf(" %#v %v", *pe, err)
		case err != nil:
			line += " " + err.Error()
		}
		out = append(out, line)
		if err != nil && pe == nil {
			return out
		}
	}
	return append(out, "does not end")
}

// stdTranscript is the transcript encoding/csv gives.
func stdTranscript(src io.Reader, comma rune) []string {
	r := csv.NewReader(src)
	r.Comma = comma
	r.FieldsPerRecord = -1
	return transcript(r)
}

// parserTranscript is csvParser's transcript, its blocks bufSize bytes.
func parserTranscript(src io.Reader, comma rune, bufSize int) []string {
	p := newCSVParser(src, comma)
	p.blockSize = bufSize
	return transcript(p)
}

// bufSizes are the parser buffer sizes compareParser tries: tiny ones
// make every record cross refills and grow the buffer.
var bufSizes = []int{1, 2, 3, 7, 64, 4096}

// compareParser fails t unless csvParser reads in as encoding/csv does,
// whatever its buffer size and however the input arrives.
func compareParser(t *testing.T, in string, comma rune) {
	t.Helper()
	want := stdTranscript(strings.NewReader(in), comma)
	for _, size := range bufSizes {
		sources := map[string]io.Reader{
			"whole":      strings.NewReader(in),
			"byte-wise":  iotest.OneByteReader(strings.NewReader(in)),
			"half-reads": iotest.HalfReader(strings.NewReader(in)),
		}
		for name, src := range sources {
			got := parserTranscript(src, comma, size)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("input %q, comma %q, buffer %d, %s:\nparser:\n%s\nencoding/csv:\n%s",
					in, comma, size, name, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}

// parserCases are inputs at the edges of the CSV rules.
var parserCases = []string{
	"", "\n", "\r\n", "\r", "a", "a\n", "a\r\n", "a\r", "a\r\r", "a\r\r\n", "a\rb\n", "\n\na,b\n\n\nc\n",
	"a,b,c\n1,2,3\n", ",\n,,\n", "a,\n", `"a"`, `"a"` + "\n", `"a""b",c` + "\n", `""` + "\n", `"",""` + "\n",
	`"a,b",c` + "\n", "\"a\nb\",c\n", "\"a\r\nb\",c\r\n", "\"a\n\nb\"\n", "\"a\r\n\r\nb\"\r\n", `a"b,c` + "\n",
	`"a"b,c` + "\n", `"a" ,c` + "\n", `"a`, "\"a\n", "\"a\nb", "\"a\r", `a,"b`, "a,\"b\nc,d\n", `"""`, `""""`,
	"x,\"y\"\"\nz\",w\nnext\n", "\"a\"\r", "\"a\"\r\n", "a,\"\"\"\"\r\nb\n", " \"a\",b\n", "\ufeffa,b\n",
	"caf\xe9,b\n1,\xff\n", "\"\xe2\x82\"\"\xac\"\n", "ok\n\xc3\n", "é,ü\n\"設\n定\",x\n",
	"a;b\n\"c;d\";e\n", "a\tb\n", "a§b§\"c§d\"\n",
}

func TestCSVParserMatchesEncodingCSV(t *testing.T) {
	for _, in := range parserCases {
		for _, comma := range []rune{',', ';', '\t', '§'} {
			compareParser(t, in, comma)
		}
	}
}

// TestCSVParserMatchesEncodingCSVOnRandomInput compares the two on short
// random inputs drawn from the characters that matter.
func TestCSVParserMatchesEncodingCSVOnRandomInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "é", ",", ",", ";", "\"", "\"", "\"", "\r", "\n", "\n", " ", "\xff", "§", "\xe2\x82"}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		comma := []rune{',', ';', '§'}[rng.IntN(3)]
		compareParser(t, b.String(), comma)
	}
}

// TestCSVParserReadError checks that a read error surfaces where
// encoding/csv's does, after the records read before it.
func TestCSVParserReadError(t *testing.T) {
	boom := errors.New("boom")
	for _, in := range []string{"a,b\nc,d\n", "a,b\nc,", "a,\"b\nc", "a,\"b\"\nc\"d", "a\n\n"} {
		for cut := 0; cut <= len(in); cut++ {
			src := func() io.Reader { return io.MultiReader(strings.NewReader(in[:cut]), iotest.ErrReader(boom)) }
			want := stdTranscript(src(), ',')
			for _, size := range []int{1, 4, 4096} {
				if got := parserTranscript(src(), ',', size); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("%q cut at %d, buffer %d:\nparser:\n%s\nencoding/csv:\n%s", in, cut, size, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		}
	}
}

// TestCSVParserGrowsItsBuffer reads a record much longer than the buffer.
func TestCSVParserGrowsItsBuffer(t *testing.T) {
	long := strings.Repeat("x", 5000)
	in := "a,b\n\"" + long + "\n" + long + "\",c\nd,e\n"
	compareParser(t, in, ',')
}

// FuzzCSVParser holds csvParser to encoding/csv on any input and delimiter.
func FuzzCSVParser(f *testing.F) {
	for _, in := range parserCases {
		f.Add(in, ",")
	}
	f.Add("a;\"b;c\"\n", ";")
	f.Fuzz(func(t *testing.T, in, delim string) {
		comma, _ := utf8.DecodeRuneInString(delim)
		if !validDelimiter(comma) {
			return
		}
		compareParser(t, in, comma)
	})
}
