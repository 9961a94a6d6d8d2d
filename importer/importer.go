// Package importer runs the import pipeline: it reads rows from an input,
// maps and validates each into a service request, creates the valid ones
// concurrently, and hands every row's outcome, in input order, to a report.
//
// Row failures never stop a run: they become the row's report record. Only
// systemic failures stop it — the service refusing the credentials, the
// report becoming unwritable, the input becoming unreadable — and then
// in-flight rows finish, rows not reached are reported pending, and Run
// returns the error.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/reports"
)

// Creator creates one service request; *client.Client implements it.
type Creator interface {
	Create(ctx context.Context, locale string, sr *client.ServiceRequest, requestID string) (*client.ServiceRequest, error)
}

// Mapper maps and validates one input row; *mapping.Mapper implements it.
type Mapper interface {
	Map(values []string, row int) (*mapping.Request, error)
}

// Config is what one run needs. Mapper and Sink are required.
type Config struct {
	// Workers is the number of create calls in flight at most (default 8).
	Workers int
	// Window bounds how far dispatch may run ahead of the oldest row not
	// yet finished, which bounds the memory the in-order report needs
	// (default 64 × Workers).
	Window int
	// Mapper maps and validates rows.
	Mapper Mapper
	// Creator sends rows. Nil makes the run a validation: nothing is sent
	// and valid rows are reported as valid.
	Creator Creator
	// Sink receives every row's record in input order. Run flushes it but
	// does not close it.
	Sink reports.Writer
	// RequestID returns the MS-RequestId of a mapped row (default RequestID).
	RequestID func(*mapping.Request) string
	// FlushEvery is how often the report is flushed while rows complete
	// (default 500ms).
	FlushEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// ErrReport wraps a failure to write the report.
var ErrReport = errors.New("report")

// Run imports every row of src. It returns the run's summary and, for a
// systemic failure, an error: the service's *client.APIError for rejected
// credentials (client.ClassOf gives client.ClassAuth), an error wrapping
// ErrReport, an input read error, or ctx's error when ctx ends first. The
// summary is valid in every case; every row read has been given to Sink.
func Run(ctx context.Context, src input.Reader, cfg Config) (Summary, error) {
	cfg.defaults()
	r := newRun(ctx, cfg)
	r.sum.Started = cfg.Now()

	flushDone := make(chan struct{})
	go r.flushLoop(flushDone)

	rows := newReadAhead(src)
	defer rows.stop()
	left, readErr := r.dispatch(rows)
	_ = r.group.Wait() // workers record their own outcomes and never return errors
	close(flushDone)

	r.finish(rows, left)
	r.sum.GhostRows = rows.Ghost()
	if err := r.seq.flush(); err != nil {
		r.fail(err)
	}
	r.sum.Finished = cfg.Now()
	if err := r.firstErr(); err != nil {
		return r.sum, err
	}
	if readErr != nil {
		return r.sum, readErr
	}
	if err := ctx.Err(); err != nil {
		return r.sum, err
	}
	return r.sum, nil
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Window < c.Workers {
		c.Window = 64 * c.Workers
	}
	if c.RequestID == nil {
		c.RequestID = RequestID
	}
	if c.FlushEvery <= 0 {
		c.FlushEvery = 500 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// dispatch reads src until it ends, the run is stopped, or reading fails.
// It returns a row read but not dispatched because the run stopped, and a
// fatal read error.
func (r *run) dispatch(src *readAhead) (left *input.Row, err error) {
	for r.stop.Err() == nil {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		if err := r.seq.reserve(r.stop); err != nil {
			return &row, nil
		}
		r.handle(r.nextSeq(), row)
	}
	return nil, nil
}

// handle maps, validates and (in import mode) sends one row.
func (r *run) handle(seq int, row input.Row) {
	rec := reports.Record{Row: row.Num, Input: row.Values}
	if row.Err != nil {
		rec.Status, rec.ErrorClass, rec.Error = reports.Invalid, "validation", row.Err.Error()
		r.countRules(row.Err, true)
		r.record(seq, rec)
		return
	}
	req, err := r.cfg.Mapper.Map(row.Values, row.Num)
	if err != nil {
		rec.Status, rec.ErrorClass, rec.Error = reports.Invalid, "validation", message(err)
		r.countRules(err, false)
		r.record(seq, rec)
		return
	}
	if r.cfg.Creator == nil {
		rec.Status = reports.Valid
		r.record(seq, rec)
		return
	}
	rec.RequestID = r.cfg.RequestID(req)
	// Take a worker slot first, so that waiting for one watches the stop
	// (errgroup's Go would block blind); the group's own limit is then
	// reached only for the instant between a slot's release and its
	// goroutine's return.
	select {
	case r.slots <- struct{}{}:
	case <-r.stop.Done():
		r.record(seq, r.pendingRecord(rec))
		return
	}
	r.group.Go(func() error {
		defer func() { <-r.slots }()
		r.record(seq, r.create(req, rec))
		return nil
	})
}

// create sends one row and turns the outcome into its record.
func (r *run) create(req *mapping.Request, rec reports.Record) reports.Record {
	if r.stop.Err() != nil {
		return r.pendingRecord(rec)
	}
	ctx, attempts := client.CountAttempts(r.ctx)
	sr, err := r.cfg.Creator.Create(ctx, req.Locale, &req.SR, rec.RequestID)
	rec.Attempts = int(attempts.Load())
	switch {
	case err == nil:
		rec.Status, rec.ServiceRequestID = reports.Created, sr.ID
	case r.ctx.Err() != nil && errors.Is(err, r.ctx.Err()):
		// Interrupted. Unless an attempt may have reached the service
		// (a request on the wire, or an earlier 5xx), nothing was created.
		if rec.Attempts == 0 || client.ClassOf(err) != client.ClassAmbiguous {
			return r.pendingRecord(rec)
		}
		rec.Status, rec.ErrorClass = reports.Unknown, string(client.ClassAmbiguous)
		rec.Error = "interrupted while the request was in flight; whether it was created is not known"
	default:
		class := client.ClassOf(err)
		rec.Status, rec.ErrorClass, rec.Error = reports.Failed, string(class), message(err)
		if class == client.ClassAmbiguous {
			rec.Status = reports.Unknown
			rec.Error += "; whether it was created is not known: re-run with the same input to settle it (the same MS-RequestId is reused)"
		}
		if class == client.ClassAuth {
			r.fail(fmt.Errorf("the service refused the credentials: %w", err))
		}
	}
	return rec
}

func (r *run) pending(row input.Row) reports.Record {
	return r.pendingRecord(reports.Record{Row: row.Num, Input: row.Values})
}

func (r *run) pendingRecord(rec reports.Record) reports.Record {
	rec.Status, rec.ErrorClass, rec.Error = reports.Pending, "", "not sent: the run stopped before this row"
	return rec
}

// finish runs once every dispatched row is done. After a stop it reports
// the row left over by dispatch and every row not read yet as pending, so
// that no input row goes unaccounted for. A read error ends it quietly:
// the dispatcher already reported the input's state.
func (r *run) finish(src *readAhead, left *input.Row) {
	if left != nil {
		r.record(r.nextSeq(), r.pending(*left))
	}
	if r.stop.Err() == nil {
		return
	}
	for {
		row, err := src.Next()
		if err != nil {
			return
		}
		r.record(r.nextSeq(), r.pending(row))
	}
}
