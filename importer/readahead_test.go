package importer

import (
	"errors"
	"io"
	"strconv"
	"testing"

	"github.com/srimport/srimport/input"
)

// countSource yields rows numbered 2..n+1, then end (or forever when n < 0).
type countSource struct {
	n, next int
	end     error
	ghost   int
}

func (s *countSource) Next() (input.Row, error) {
	if s.n >= 0 && s.next >= s.n {
		return input.Row{}, s.end
	}
	s.next++
	return input.Row{Num: s.next + 1, Values: []string{strconv.Itoa(s.next)}}, nil
}
func (s *countSource) Header() []string { return []string{"N"} }
func (s *countSource) Close() error     { return nil }
func (s *countSource) Ghost() int       { return s.ghost }

func TestReadAhead(t *testing.T) {
	broken := errors.New("disk on fire")
	for _, tt := range []struct {
		name  string
		n     int
		end   error
		ghost int
	}{
		{"empty", 0, io.EOF, 0},
		{"less than a batch", 7, io.EOF, 3},
		{"exactly a batch", readAheadBatch, io.EOF, 0},
		{"many batches", 10*readAheadBatch + 5, io.EOF, 2500},
		{"read error after rows", 3*readAheadBatch + 1, broken, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ra := newReadAhead(&countSource{n: tt.n, end: tt.end, ghost: tt.ghost})
			defer ra.stop()
			for i := 1; i <= tt.n; i++ {
				row, err := ra.Next()
				if err != nil || row.Num != i+1 || row.Values[0] != strconv.Itoa(i) {
					t.Fatalf("row %d: %+v, %v", i, row, err)
				}
			}
			for range 2 { // the end sticks
				if _, err := ra.Next(); err != tt.end {
					t.Fatalf("after %d rows: err %v, want %v", tt.n, err, tt.end)
				}
			}
			if tt.end == io.EOF && ra.Ghost() != tt.ghost {
				t.Errorf("Ghost() = %d, want %d", ra.Ghost(), tt.ghost)
			}
		})
	}
}

func TestReadAheadStopsAnEndlessSource(t *testing.T) {
	ra := newReadAhead(&countSource{n: -1})
	if row, err := ra.Next(); err != nil || row.Num != 2 {
		t.Fatalf("first row %+v, %v", row, err)
	}
	ra.stop() // returns only once the producer has left the source
	select {
	case <-ra.exited:
	default:
		t.Fatal("stop returned with the producer still running")
	}
}
