package importer

import (
	"io"

	"github.com/srimport/srimport/input"
)

// Read-ahead sizes: rows per batch and batches buffered. A batch amortises
// the channel hand-off; a few batches absorb jitter between the two sides.
const (
	readAheadBatch = 128
	readAheadDepth = 4
)

// readAhead reads rows from src on a goroutine of its own, a batch at a
// time, so that parsing the input overlaps with mapping, validating and
// reporting. It holds at most readAheadBatch × (readAheadDepth+2) rows.
//
// The producer reads until src returns an error (io.EOF included) and
// sends that error after the last rows, so the consumer's receive always
// completes; it selects on done, closed by stop, to give up early. The
// consumer does not watch the run's context: a stopped run still drains
// the input to report every row as pending.
type readAhead struct {
	c      chan rowBatch
	done   chan struct{}
	exited chan struct{}
	cur    rowBatch
	i      int
}

// rowBatch is a run of rows and, in the last batch, the error that ended
// reading.
type rowBatch struct {
	rows  []input.Row
	err   error // io.EOF or a read error, after rows; nil if more follow
	ghost int   // src's Ghost count, set with io.EOF
}

func newReadAhead(src input.Reader) *readAhead {
	ra := &readAhead{
		c:      make(chan rowBatch, readAheadDepth),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	go ra.produce(src)
	return ra
}

func (ra *readAhead) produce(src input.Reader) {
	defer close(ra.exited)
	ghosts, _ := src.(interface{ Ghost() int })
	for {
		b := rowBatch{rows: make([]input.Row, 0, readAheadBatch)}
		for len(b.rows) < readAheadBatch {
			row, err := src.Next()
			if err != nil {
				b.err = err
				if err == io.EOF && ghosts != nil {
					b.ghost = ghosts.Ghost()
				}
				break
			}
			b.rows = append(b.rows, row)
		}
		select {
		case ra.c <- b:
		case <-ra.done:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// Next returns src's next row, or the error that ended it, which sticks.
func (ra *readAhead) Next() (input.Row, error) {
	for ra.i >= len(ra.cur.rows) {
		if ra.cur.err != nil {
			return input.Row{}, ra.cur.err
		}
		ra.cur, ra.i = <-ra.c, 0
	}
	row := ra.cur.rows[ra.i]
	ra.i++
	return row, nil
}

// Ghost returns src's count of trailing empty rows once Next has returned
// io.EOF.
func (ra *readAhead) Ghost() int { return ra.cur.ghost }

// stop ends the producer and waits for it to leave src, so that src may be
// closed. The producer is at most one src.Next away from noticing.
func (ra *readAhead) stop() {
	close(ra.done)
	<-ra.exited
}
