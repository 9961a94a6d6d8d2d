// Package importer runs the import pipeline: it reads rows from an input,
// maps and validates each into a service request, creates the valid ones
// concurrently, and hands every row's outcome, in input order, to a report.
//
// Exactly once. Each row has an identity that does not depend on its row
// number (see Journal): its mapping's key, or a hash of what it sends and
// its occurrence in the file. With a Journal, the row's MS-RequestId and
// identity are durable before its first request leaves and its outcome is
// durable before it is counted done; rows the target already has are
// skipped. A create that may have taken effect (a reset after sending, a
// timeout, a 5xx, an unreadable 2xx) is not re-posted blindly: the row
// waits for a settlement pass that lists the service's requests once for
// every such row, records the ones found as created and re-posts only the
// others. Rows left in doubt by an earlier run are settled the same way
// before anything is sent.
//
// Row failures never stop a run: they become the row's report record. Only
// systemic failures stop it — the service refusing the credentials or not
// answering at all, the report or journal becoming unwritable, the input
// becoming unreadable — and so does the end of Run's context. Then
// dispatch stops at once, requests in flight finish (for at most
// Config.Grace after a stop by the context), rows not reached are reported
// pending, and Run returns the error.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/reports"
)

// Creator creates one service request from its JSON body and returns its
// id; *client.Client implements it. body is not retained.
type Creator interface {
	CreateBody(ctx context.Context, locale string, body []byte, requestID string) (id string, err error)
}

// Lister lists every service request the service holds, for settlement
// by lookup; *client.Client implements it.
type Lister interface {
	ListAll(ctx context.Context, fn func(*client.ServiceRequest) error) error
}

// Mapper maps and validates one input row; *mapping.Mapper implements it.
type Mapper interface {
	Map(values []string, row int) (*mapping.Request, error)
}

// Checker is a Mapper that can validate a row without building its
// request; a validation run (no Creator) uses it when the Mapper has it.
// Check must fail exactly when Map would.
type Checker interface {
	Check(values []string, row int) error
}

// Observer hears of every row as it goes, in completion order, apart from
// the in-order report: progress displays and metrics hang here. Its
// methods are called from several goroutines and must not block.
type Observer interface {
	// Sending is called as a row's create is about to leave (once per
	// post: a row posted again after settlement is announced again).
	Sending(row int)
	// Done is called once per row with its final record, when the row is
	// counted (for a sent row, once its outcome is durable).
	Done(rec reports.Record)
}

// InDoubtPolicy says what happens to a row whose create may have taken
// effect.
type InDoubtPolicy int

const (
	// Settle looks the row up on the service before any re-post.
	Settle InDoubtPolicy = iota
	// Retry re-posts at once with the same MS-RequestId (the client's own
	// retries); only for services known to de-duplicate on it.
	Retry
)

// Config is what one run needs. Mapper and Sink are required.
type Config struct {
	// Workers is the number of create calls in flight at most (default 8).
	Workers int
	// Window bounds how far dispatch may run ahead of the oldest row not
	// yet finished, which bounds the memory the in-order report needs
	// (default max(64 × Workers, 4096)). Rows waiting for settlement hold
	// their place in it; a full window triggers a settlement pass.
	Window int
	// Mapper maps and validates rows.
	Mapper Mapper
	// Creator sends rows. Nil makes the run a validation: nothing is sent
	// and valid rows are reported as valid.
	Creator Creator
	// Lister finds in-doubt rows on the service. Nil leaves them unknown.
	Lister Lister
	// InDoubt is the policy for rows that may have been created.
	InDoubt InDoubtPolicy
	// Reposts bounds how many times a row in doubt that settlement did not
	// find is posted again (default 5); then it is reported unknown.
	Reposts int
	// Journal is the import history; nil keeps none.
	Journal Journal
	// RunID is this run's id in the Journal.
	RunID int64
	// Force creates rows again although the target already has them.
	Force bool
	// Select, when set, limits the rows sent to those whose identity it
	// accepts (--retry-from); the others are reported skipped.
	Select func(identity string) bool
	// Grace is how long requests in flight may finish after the context
	// ends (default 10s); then they are cancelled.
	Grace time.Duration
	// Abort, when closed, cancels requests in flight at once.
	Abort <-chan struct{}
	// Breaker, when set, stops the run when the service stops answering.
	Breaker *Breaker
	// Observer, when set, hears of every row as it goes.
	Observer Observer
	// Sink receives every row's record in input order. Run flushes it but
	// does not close it.
	Sink reports.Writer
	// FlushEvery is how often the report is flushed while rows complete
	// (default 500ms).
	FlushEvery time.Duration
	// SettleAfter is how long a row may wait for settlement before a pass
	// runs although dispatch goes on (default 30s).
	SettleAfter time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// ErrReport wraps a failure to write the report.
var ErrReport = errors.New("report")

// ErrJournal wraps a failure to read or write the journal.
var ErrJournal = errors.New("journal")

// journalErr wraps a Journal's error in ErrJournal.
func journalErr(err error) error { return fmt.Errorf("%w: %w", ErrJournal, err) }

// Run imports every row of src. It returns the run's summary and, for a
// systemic failure, an error: the service's *client.APIError for rejected
// credentials (client.ClassOf gives client.ClassAuth), an error wrapping
// ErrServiceDown, ErrReport or ErrJournal, an input read error, or the
// cause of ctx's end (context.Cause) when ctx ended before every row was
// sent. The summary is valid in every case; every row read has been
// given to Sink.
func Run(ctx context.Context, src input.Reader, cfg Config) (Summary, error) {
	cfg.defaults()
	r := newRun(ctx, cfg)
	defer r.cancelReq()
	r.sum.Started = cfg.Now()

	done := make(chan struct{})
	go r.flushLoop(done)
	go r.watch(done)
	settled := make(chan struct{})
	go func() { defer close(settled); r.settleLoop(done) }()

	if err := r.settlePrevious(); err != nil {
		r.fail(err)
	}
	completed := make(chan struct{})
	go func() { defer close(completed); r.completeLoop() }()
	for range cfg.Workers {
		r.group.Go(func() error {
			for s := range r.ready {
				r.send(s)
			}
			return nil
		})
	}
	rows := newReadAhead(src)
	defer rows.stop()
	left, readErr := r.dispatch(rows)
	r.dispatchDone()
	r.rows.Wait() // every dispatched row has its record
	close(r.ready)
	_ = r.group.Wait() // and the workers have returned
	close(r.completions)
	<-completed
	close(done)
	<-settled

	r.finish(rows, left)
	r.sum.GhostRows = rows.Ghost()
	if err := r.seq.flush(); err != nil {
		r.fail(err)
	}
	if j := cfg.Journal; j != nil {
		if err := j.Flush(context.WithoutCancel(ctx)); err != nil {
			r.fail(journalErr(err))
		}
	}
	r.sum.Finished = cfg.Now()
	if err := r.firstErr(); err != nil {
		return r.sum, err
	}
	if readErr != nil {
		return r.sum, readErr
	}
	if r.cut.Load() && ctx.Err() != nil {
		return r.sum, context.Cause(ctx)
	}
	return r.sum, nil
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Window < c.Workers {
		c.Window = max(64*c.Workers, 4096)
	}
	if c.Reposts <= 0 {
		c.Reposts = 5
	}
	if c.Grace <= 0 {
		c.Grace = 10 * time.Second
	}
	if c.FlushEvery <= 0 {
		c.FlushEvery = 500 * time.Millisecond
	}
	if c.SettleAfter <= 0 {
		c.SettleAfter = 30 * time.Second
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
		if err := r.reserve(); err != nil {
			r.cut.Store(true)
			return &row, nil
		}
		r.handle(r.nextSeq(), row)
	}
	r.cut.Store(true)
	return nil, nil
}

// handle maps, validates and (in import mode) sends one row.
func (r *run) handle(seq int, row input.Row) {
	rec := reports.Record{Row: row.Num, Input: row.Values}
	if row.Err != nil {
		rec.Status, rec.ErrorClass, rec.Error = reports.Invalid, "validation", row.Err.Error()
		r.countRules(row.Err, true)
		r.record(seq, rec, "")
		return
	}
	var req *mapping.Request
	var err error
	if c, ok := r.cfg.Mapper.(Checker); ok && r.cfg.Creator == nil {
		err = c.Check(row.Values, row.Num)
	} else {
		req, err = r.cfg.Mapper.Map(row.Values, row.Num)
	}
	if err != nil {
		rec.Status, rec.ErrorClass, rec.Error = reports.Invalid, "validation", message(err)
		r.countRules(err, false)
		r.record(seq, rec, "")
		return
	}
	if r.cfg.Creator == nil {
		rec.Status = reports.Valid
		r.record(seq, rec, "")
		return
	}
	s, skip := r.prepare(seq, req, rec)
	if skip != nil {
		r.record(seq, *skip, s.ent.Identity)
		return
	}
	r.rows.Add(1)
	if err := r.writeAhead(s); err != nil {
		r.fail(err)
		r.unsent(s)
		return
	}
	r.inflight.Add(1)
	select {
	case r.ready <- s:
	case <-r.stop.Done():
		r.inflight.Add(-1)
		r.unsent(s)
	}
}

// prepare names a mapped row and decides, from the journal, whether it is
// sent. It returns the row's sending state and, for a row not to be sent,
// its record.
func (r *run) prepare(seq int, req *mapping.Request, rec reports.Record) (*sending, *reports.Record) {
	s := &sending{seq: seq, req: req, rec: rec}
	id, err := r.ids.of(req)
	if err != nil {
		rec.Status, rec.ErrorClass, rec.Error = reports.Failed, string(client.ClassRejected), err.Error()
		return s, &rec
	}
	s.ent = RowEntry{Seq: seq, Entry: Entry{Identity: id, RunID: r.cfg.RunID, Row: rec.Row}}
	if first, dup := r.ids.firstWithKey(req); dup {
		rec.Status, rec.Error = reports.Skipped, fmt.Sprintf("same key %q as row %d of this file, which stands for it", req.Key, first)
		return s, &rec
	}
	prev, ok, err := r.lookup(id)
	if err != nil {
		r.fail(err)
		rec = r.pendingRecord(rec)
		return s, &rec
	}
	if r.cfg.Select != nil && !r.cfg.Select(id) && !(ok && prev.State == StateCreated) {
		rec.Status, rec.Error = reports.Skipped, "not selected: --retry-from sends only the rows that report lists as failed or unknown"
		rec.RequestID = prev.RequestID
		return s, &rec
	}
	s.ent.RequestID = uuid.NewString()
	if ok {
		rec.RequestID, rec.ServiceRequestID = prev.RequestID, prev.ServiceRequestID
		switch {
		case prev.State == StateCreated && r.cfg.Force:
			// A new ticket: a new MS-RequestId.
		case prev.State == StateCreated:
			rec.Status = reports.Skipped
			rec.Error = fmt.Sprintf("already created on this target by run %d (row %d); --force creates it again", prev.RunID, prev.Row)
			return s, &rec
		case (prev.State == StateSending || prev.State == StateUnknown) && r.cfg.InDoubt == Settle:
			rec.Status, rec.ErrorClass = reports.Unknown, string(client.ClassAmbiguous)
			rec.Error = fmt.Sprintf("still in doubt since run %d: the service could not be searched to settle it; run the same command again", prev.RunID)
			return s, &rec
		default: // failed before, or in doubt on a service that de-duplicates: same MS-RequestId
			s.ent.RequestID = prev.RequestID
		}
	}
	rec.RequestID, rec.ServiceRequestID = s.ent.RequestID, ""
	s.rec = rec
	return s, nil
}

// lookup asks the journal about an identity; without a journal the target
// has nothing.
func (r *run) lookup(id string) (Entry, bool, error) {
	if r.cfg.Journal == nil {
		return Entry{}, false, nil
	}
	e, ok, err := r.cfg.Journal.Lookup(r.req, id)
	if err != nil {
		return Entry{}, false, journalErr(err)
	}
	return e, ok, nil
}

// writeAhead queues the row's identity and MS-RequestId to the journal,
// as in doubt, while it waits for a worker; send waits until that is
// durable before the row's first request leaves.
func (r *run) writeAhead(s *sending) error {
	if r.cfg.Journal == nil {
		return nil
	}
	// Should the process die once the row is sent, its report line says
	// it is in doubt, and the next run settles it.
	s.ent.SentAt, s.ent.Match = r.cfg.Now(), Fingerprint(&s.req.SR)
	s.ent.State, s.ent.Status, s.ent.ErrorClass = StateSending, reports.Unknown, string(client.ClassAmbiguous)
	s.ent.Error = "queued or in flight when the run ended: whether it was created is not known; run the same command again to settle it"
	s.ent.RequestID, s.ent.UpdatedAt = s.rec.RequestID, s.ent.SentAt
	durable, err := r.cfg.Journal.Queue(r.req, s.ent)
	if err != nil {
		return journalErr(err)
	}
	s.durable = durable
	return nil
}

// send creates one row once its write-ahead entry is durable, and records
// the outcome.
func (r *run) send(s *sending) {
	defer r.doneSending()
	if r.stop.Err() != nil && s.posts == 0 {
		r.unsent(s)
		return
	}
	if s.posts == 0 && s.durable != nil {
		if err := s.durable(context.WithoutCancel(r.req)); err != nil {
			r.fail(journalErr(err))
			r.unsent(s)
			return
		}
	}
	buf, _ := r.bodies.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer r.bodies.Put(buf)
	body, err := appendBody((*buf)[:0], s.req, s.rec.RequestID)
	*buf = body[:0]
	if err != nil {
		s.rec.Status, s.rec.ErrorClass, s.rec.Error = reports.Failed, string(client.ClassRejected), err.Error()
		r.final(s, StateFailed)
		return
	}
	s.posts++
	if s.ent.SentAt.IsZero() { // no journal noted it: settlement's time window needs it
		s.ent.SentAt = r.cfg.Now()
	}
	if o := r.cfg.Observer; o != nil {
		o.Sending(s.rec.Row)
	}
	ctx, attempts := client.CountAttempts(r.req)
	id, err := r.cfg.Creator.CreateBody(ctx, s.req.Locale, body, s.rec.RequestID)
	s.rec.Attempts += int(attempts.Load())
	class := client.ClassOf(err)
	switch {
	case err == nil:
		r.created(s, id, "")
	case r.req.Err() != nil && errors.Is(err, r.req.Err()) && (attempts.Load() == 0 || class != client.ClassAmbiguous):
		// Stopped before anything of this post reached the service.
		if s.posts == 1 {
			r.unsent(s)
			return
		}
		r.inDoubt(s, "stopped while it waited to be posted again; whether an earlier post created it is not known")
	case class == client.ClassAmbiguous:
		if r.cfg.InDoubt == Settle && r.cfg.Lister != nil && r.req.Err() == nil {
			r.park(s, message(err))
			return
		}
		r.inDoubt(s, message(err))
	default:
		if r.cfg.Breaker != nil && class == client.ClassTransient {
			r.cfg.Breaker.note(err)
		}
		s.rec.Status, s.rec.ErrorClass, s.rec.Error = reports.Failed, string(class), message(err)
		if s.posts > 1 {
			// An earlier post was in doubt and settlement did not find it;
			// this one failed for sure.
			s.rec.Error += " (an earlier post was looked up on the service and not found)"
		}
		r.final(s, StateFailed)
		if class == client.ClassAuth {
			r.fail(fmt.Errorf("the service refused the credentials: %w", err))
		}
	}
}

// created records a row the service created.
func (r *run) created(s *sending, id, note string) {
	s.rec.Status, s.rec.ServiceRequestID, s.rec.ErrorClass, s.rec.Error = reports.Created, id, "", note
	r.noteCreated(id)
	r.final(s, StateCreated)
}

// inDoubt records a row whose create may or may not have taken effect.
func (r *run) inDoubt(s *sending, why string) {
	s.rec.Status, s.rec.ErrorClass = reports.Unknown, string(client.ClassAmbiguous)
	s.rec.Error = why + "; whether it was created is not known: run the same command again to settle it (its MS-RequestId is kept)"
	r.final(s, StateUnknown)
}

// unsent records a row that was never sent as pending; its identity's
// entry, if this run wrote one, says nothing was created.
func (r *run) unsent(s *sending) {
	r.cut.Store(true)
	s.rec = r.pendingRecord(s.rec)
	if s.ent.State == StateSending {
		r.final(s, StateFailed)
		return
	}
	r.record(s.seq, s.rec, s.ent.Identity)
	r.rows.Done()
}

// final queues a sent row's outcome to the journal; the row is counted
// done, and its line goes to the report, once that is durable.
func (r *run) final(s *sending, st State) {
	if r.cfg.Journal == nil {
		r.complete(s)
		return
	}
	s.ent.State = st
	s.ent.Status, s.ent.ErrorClass, s.ent.Error, s.ent.Attempts = s.rec.Status, s.rec.ErrorClass, s.rec.Error, s.rec.Attempts
	s.ent.ServiceRequestID, s.ent.RequestID, s.ent.UpdatedAt = s.rec.ServiceRequestID, s.rec.RequestID, r.cfg.Now()
	durable, err := r.cfg.Journal.Queue(context.WithoutCancel(r.req), s.ent)
	if err != nil {
		r.fail(journalErr(err))
		r.complete(s)
		return
	}
	r.completions <- completion{s: s, durable: durable}
}

// completeLoop counts rows done as their outcomes become durable, in the
// order they were queued, until completions closes.
func (r *run) completeLoop() {
	for c := range r.completions {
		if err := c.durable(context.WithoutCancel(r.req)); err != nil {
			r.fail(journalErr(err))
		}
		r.complete(c.s)
	}
}

// complete counts a sent row done and hands its line to the report.
func (r *run) complete(s *sending) {
	r.count(s.rec)
	if err := r.seq.put(s.seq, s.rec); err != nil {
		r.fail(err)
	}
	r.rows.Done()
}

func (r *run) pendingRecord(rec reports.Record) reports.Record {
	rec.Status, rec.ErrorClass, rec.Error = reports.Pending, "", "not sent: the run stopped before this row; run the same command again to send it"
	return rec
}

// finish runs once every dispatched row is done. After a stop it reports
// the row left over by dispatch and every row not read yet as pending, so
// that no input row goes unaccounted for. A read error ends it quietly:
// the dispatcher already reported the input's state.
func (r *run) finish(src *readAhead, left *input.Row) {
	if left != nil {
		r.record(r.nextSeq(), r.pendingRecord(reports.Record{Row: left.Num, Input: left.Values}), "")
	}
	if r.stop.Err() == nil {
		return
	}
	for {
		row, err := src.Next()
		if err != nil {
			return
		}
		r.record(r.nextSeq(), r.pendingRecord(reports.Record{Row: row.Num, Input: row.Values}), "")
	}
}
