package progress

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCountRows(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     int64
	}{
		{"empty", "", 0},
		{"header only", "a,b\n", 0},
		{"LF", "a,b\n1,2\n3,4\n", 2},
		{"no final line end", "a,b\n1,2\n3,4", 2},
		{"CRLF", "a,b\r\n1,2\r\n3,4\r\n", 2},
		{"CR only", "a,b\r1,2\r3,4\r", 2},
		{"quoted line ends", "a,b\n\"1\n2\",x\n\"3\r\n4\",y\n", 2},
		{"escaped quotes", "a,b\n\"say \"\"hi\"\"\nthere\",1\n2,3\n", 2},
		{"blank lines", "a,b\n\n1,2\n\r\n\n3,4\n\n", 2},
		{"sep line", "sep=;\na;b\n1;2\n", 1},
		{"BOM and sep line", "\xEF\xBB\xBFsep=;\na;b\n1;2\n", 1},
		{"BOM", "\xEF\xBB\xBFa,b\n1,2\n", 1},
		{"ghost rows counted", "a,b\n1,2\n,\n,\n", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			// One byte at a time too: a line end split from its CR, a
			// quote at a read's end.
			for _, r := range []io.Reader{strings.NewReader(c.in), iotest.OneByteReader(strings.NewReader(c.in))} {
				got, err := CountRows(context.Background(), r)
				if err != nil || got != c.want {
					t.Errorf("CountRows(%q) = %d, %v; want %d", c.in, got, err, c.want)
				}
			}
		})
	}
}

func TestCountRowsRefusesUTF16(t *testing.T) {
	for _, bom := range []string{"\xFF\xFE", "\xFE\xFF", "\x00\x00\xFE\xFF"} {
		_, err := CountRows(context.Background(), strings.NewReader(bom+"a\x00,\x00b\x00\n\x00"))
		if !errors.Is(err, ErrNotCountable) {
			t.Errorf("BOM %q: err = %v, want ErrNotCountable", bom, err)
		}
	}
}

func TestCountRowsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CountRows(ctx, strings.NewReader("a\n1\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestCountRowsMatchesEncodingCSV counts generated files with quoted
// multi-line fields, over several megabyte-sized reads, as encoding/csv
// reads them.
func TestCountRowsMatchesEncodingCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write([]string{"title", "description", "severity"})
	for i := range 30000 {
		desc := strings.Repeat("word ", rng.IntN(20))
		if rng.IntN(5) == 0 {
			desc += "\nSteps:\n1. open \"portal\"\n2. retry"
		}
		_ = w.Write([]string{fmt.Sprintf("#%d title", i), desc, "critical"})
	}
	w.Flush()
	want, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() < 2<<20 {
		t.Fatalf("only %d bytes: want several reads", buf.Len())
	}
	got, err := CountRows(context.Background(), &buf)
	if err != nil || got != int64(len(want)-1) {
		t.Errorf("CountRows = %d, %v; encoding/csv reads %d data rows", got, err, len(want)-1)
	}
}
