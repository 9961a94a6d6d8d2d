package input

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// encodeText encodes s with e, as another program would have written it.
func encodeText(t *testing.T, e encoding.Encoding, s string) string {
	t.Helper()
	b, err := e.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encoding %q: %v", s, err)
	}
	return b
}

// The sample text holds what real exports carry: accents, a euro sign
// (0x80 in windows-1252, absent from iso-8859-1), quotes, commas and a
// multi-line field.
const encodedSample = "Title,Description\r\n" +
	"Café crème,\"Price 5 €, \"\"quoted\"\"\r\nsecond line\"\r\n" +
	"Straße,Ünïcödé\r\n"

var encodedRows = []wantRow{
	{2, 2, []string{"Café crème", "Price 5 €, \"quoted\"\nsecond line"}, ""},
	{3, 4, []string{"Straße", "Ünïcödé"}, ""},
}

func TestCSVEncodings(t *testing.T) {
	tests := []struct {
		name string
		enc  encoding.Encoding
		opt  string // Options.Encoding
	}{
		{"UTF-8 with BOM, auto", unicode.UTF8BOM, ""},
		{"UTF-16 LE with BOM, auto", unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), ""},
		{"UTF-16 BE with BOM, auto", unicode.UTF16(unicode.BigEndian, unicode.UseBOM), ""},
		{"UTF-32 LE with BOM, auto", utf32.UTF32(utf32.LittleEndian, utf32.UseBOM), ""},
		{"UTF-32 BE with BOM, auto", utf32.UTF32(utf32.BigEndian, utf32.UseBOM), "auto"},
		{"UTF-16 LE without BOM, named", unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le"},
		{"UTF-16 BE without BOM, named", unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "UTF-16BE"},
		{"UTF-16 with BOM, named utf-16", unicode.UTF16(unicode.BigEndian, unicode.UseBOM), "utf-16"},
		{"windows-1252", charmap.Windows1252, "windows-1252"},
		{"cp1252 alias", charmap.Windows1252, "cp1252"},
		{"iso-8859-15", charmap.ISO8859_15, "iso-8859-15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := encodeText(t, tt.enc, encodedSample)
			if tt.enc != unicode.UTF8BOM && in == encodedSample {
				t.Fatal("the encoder did not change the text; the test would prove nothing")
			}
			r, err := NewCSV(strings.NewReader(in), Options{Encoding: tt.opt})
			if err != nil {
				t.Fatal(err)
			}
			checkReader(t, r, []string{"Title", "Description"}, encodedRows, 0)
		})
	}
}

func TestCSVShiftJIS(t *testing.T) {
	in := encodeText(t, japanese.ShiftJIS, "件名,説明\nログインできない,パスワード再設定後\n")
	r, err := NewCSV(strings.NewReader(in), Options{Encoding: "shift_jis"})
	if err != nil {
		t.Fatal(err)
	}
	checkReader(t, r, []string{"件名", "説明"}, []wantRow{{2, 2, []string{"ログインできない", "パスワード再設定後"}, ""}}, 0)
}

func TestCSVLatin1(t *testing.T) {
	// iso-8859-1 and latin1 mean windows-1252, as in browsers and Excel:
	// files labelled latin1 are nearly always windows-1252.
	in := encodeText(t, charmap.Windows1252, "A\nCafé 5 €\n")
	for _, name := range []string{"iso-8859-1", "latin1", "Windows-1252"} {
		r, err := NewCSV(strings.NewReader(in), Options{Encoding: name})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkReader(t, r, []string{"A"}, []wantRow{{2, 2, []string{"Café 5 €"}, ""}}, 0)
	}
}

func TestCSVEncodingErrors(t *testing.T) {
	t.Run("windows-1252 read as UTF-8 fails closed", func(t *testing.T) {
		in := encodeText(t, charmap.Windows1252, "Title,Description\nok,fine\nCafé,x\n")
		r, err := NewCSV(strings.NewReader(in), Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkReader(t, r, []string{"Title", "Description"}, []wantRow{
			{2, 2, []string{"ok", "fine"}, ""},
			{3, 3, []string{"Caf\xe9", "x"}, `row 3, line 3, column A ("Title"): byte 0xE9 at byte offset 29: ` +
				`text is not valid UTF-8; the file is probably in another encoding: run again with --encoding windows-1252`},
		}, 0)
	})
	t.Run("an undefined byte in a code page makes the row invalid", func(t *testing.T) {
		// 0x81 is not defined in windows-1252.
		r, err := NewCSV(strings.NewReader("A,B\nx,\x81\ny,z\n"), Options{Encoding: "windows-1252"})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := readAll(t, r)
		if err != nil || len(rows) != 2 {
			t.Fatalf("rows %+v, err %v", rows, err)
		}
		if !errors.Is(rows[0].Err, ErrEncoding) || !strings.Contains(rows[0].Err.Error(), "row 2") ||
			!strings.Contains(rows[0].Err.Error(), "windows-1252") {
			t.Errorf("row 2 error = %v, want an ErrEncoding naming the row and the encoding", rows[0].Err)
		}
		if strings.ContainsRune(strings.Join(rows[1].Values, ""), '\uFFFD') || rows[1].Err != nil {
			t.Errorf("row 3 = %+v, want it clean", rows[1])
		}
	})
	t.Run("unpaired surrogate in UTF-16", func(t *testing.T) {
		in := "\xff\xfeA\x00\n\x00\x00\xd8x\x00\n\x00" // BOM, "A\n", lone high surrogate, "x\n"
		r, err := NewCSV(strings.NewReader(in), Options{})
		if err == nil {
			_, err = readAll(t, r)
		}
		if !errors.Is(err, ErrEncoding) || !strings.Contains(err.Error(), "byte offset 6") {
			t.Fatalf("err = %v, want an ErrEncoding at byte offset 6", err)
		}
	})
}

func TestCSVLineEnds(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"LF", "Title,Note\nA,\"x\ny\"\nB,2\n"},
		{"CRLF", "Title,Note\r\nA,\"x\ny\"\r\nB,2\r\n"},
		{"CR only", "Title,Note\rA,\"x\ry\"\rB,2\r"},
		{"CR only without a last line end", "Title,Note\rA,\"x\ry\"\rB,2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewCSV(strings.NewReader(tt.in), Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkReader(t, r, []string{"Title", "Note"}, []wantRow{
				{2, 2, []string{"A", "x\ny"}, ""},
				{3, 4, []string{"B", "2"}, ""},
			}, 0)
		})
	}
	t.Run("CR only in UTF-16", func(t *testing.T) {
		in := encodeText(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), "Title\rA\rB\r")
		r, err := NewCSV(strings.NewReader(in), Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkReader(t, r, []string{"Title"}, []wantRow{{2, 2, []string{"A"}, ""}, {3, 3, []string{"B"}, ""}}, 0)
	})
}
