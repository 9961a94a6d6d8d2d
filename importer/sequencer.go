package importer

import (
	"context"
	"fmt"
	"sync"

	"github.com/srimport/srimport/reports"
)

// sequencer turns records finished in any order into report lines in input
// order. It holds at most window records: dispatch reserves a slot before a
// row starts, and the slot frees when the row's line is written.
type sequencer struct {
	slots chan struct{} // one token per row dispatched and not yet written

	mu    sync.Mutex
	sink  reports.Writer
	ring  []reports.Record
	full  []bool
	next  int // sequence number of the next line to write
	dirty bool
	err   error
}

func newSequencer(window int, sink reports.Writer) *sequencer {
	return &sequencer{
		slots: make(chan struct{}, window),
		sink:  sink,
		ring:  make([]reports.Record, window),
		full:  make([]bool, window),
	}
}

// reserve waits for room for one more row, or for ctx to end.
func (s *sequencer) reserve(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// put stores the record of row seq and writes every record that is now
// next in order. Row seq must hold a reservation, except when it was read
// after a stop (then nothing is in flight and it is next in order).
func (s *sequencer) put(seq int, rec reports.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := len(s.ring)
	if seq-s.next >= w {
		// Only rows read after a stop arrive without a reservation, and by
		// then every earlier row is written; anything else is a bug.
		return fmt.Errorf("%w: row %d is %d rows ahead of the report", ErrReport, rec.Row, seq-s.next)
	}
	s.ring[seq%w], s.full[seq%w] = rec, true
	for s.full[s.next%w] {
		i := s.next % w
		if s.err == nil {
			if err := s.sink.Write(s.ring[i]); err != nil {
				s.err = fmt.Errorf("%w: %w", ErrReport, err)
			}
		}
		s.ring[i], s.full[i] = reports.Record{}, false
		s.next++
		s.dirty = true
		select {
		case <-s.slots:
		default: // a row put without a reservation
		}
	}
	return s.err
}

// flush pushes written lines to the report file if any were added since
// the last flush.
func (s *sequencer) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || !s.dirty {
		return s.err
	}
	s.dirty = false
	if err := s.sink.Flush(); err != nil {
		s.err = fmt.Errorf("%w: %w", ErrReport, err)
	}
	return s.err
}
