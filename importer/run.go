package importer

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/reports"
)

// run is the state of one Run.
type run struct {
	cfg Config
	// ctx is the caller's: its end stops dispatch.
	ctx context.Context
	// stop ends dispatch: on a systemic failure or when ctx ends.
	stop    context.Context
	stopNow context.CancelFunc
	// req governs requests in flight and settlement. It outlives stop by
	// Config.Grace, so that a row the service may be creating is not
	// abandoned mid-request by a stop; Abort and the Breaker end it at once.
	req       context.Context
	cancelReq context.CancelFunc

	// group runs Workers goroutines, each sending the rows it takes from
	// ready one at a time. Dispatch runs ahead of them by the capacity of
	// ready, so that a row's write-ahead entry is durable by the time a
	// worker takes it.
	group    *errgroup.Group
	ready    chan *sending
	inflight atomic.Int64 // rows in ready or being sent
	rows     sync.WaitGroup
	seq      *sequencer
	next     int
	ids      *identities
	cut      atomic.Bool // a stop left rows unsent
	// completions carries sent rows whose outcome is queued to the
	// journal, in the order queued, to the goroutine that counts them
	// once the outcome is durable.
	completions chan completion

	// Settlement: rows in doubt wait in parked for a pass.
	pmu        sync.Mutex
	parked     []*sending
	parkedAt   time.Time // when the oldest parked row was parked
	dispatched bool      // dispatch has ended
	blocked    bool      // dispatch waits for room in the report window
	kick       chan struct{}
	createdIDs *createdIDs // without a Journal: ids created by this run
	bodies     sync.Pool   // *[]byte buffers that bodies are encoded into, one per post

	mu  sync.Mutex // guards sum and err
	sum Summary
	err error
}

// sending is a row on its way to the service.
type sending struct {
	// durable waits until the row's write-ahead entry is durable.
	durable func(context.Context) error
	seq     int
	req     *mapping.Request
	rec     reports.Record
	ent     RowEntry
	posts   int // creates sent for this row in this run
}

// completion is a sent row whose outcome waits to become durable.
type completion struct {
	s       *sending
	durable func(context.Context) error
}

func newRun(ctx context.Context, cfg Config) *run {
	stop, stopNow := context.WithCancel(ctx)
	req, cancelReq := context.WithCancel(context.WithoutCancel(ctx))
	r := &run{
		cfg: cfg, ctx: ctx, stop: stop, stopNow: stopNow, req: req, cancelReq: cancelReq,
		group: new(errgroup.Group), ready: make(chan *sending, max(32*cfg.Workers, 1024)),
		ids: newIdentities(), kick: make(chan struct{}, 1),
	}
	if cfg.Journal == nil {
		r.createdIDs = newCreatedIDs()
	}
	r.seq = newSequencer(cfg.Window, cfg.Sink)
	r.completions = make(chan completion, cfg.Window+cfg.Workers)
	r.sum.Counts = make(map[reports.Status]int)
	r.sum.Rules = make(map[string]int)
	return r
}

func (r *run) nextSeq() int {
	s := r.next
	r.next++
	return s
}

// reserve waits for room in the report window. While it waits, rows in
// doubt may be what holds the window, so a settlement pass is due.
func (r *run) reserve() error {
	select {
	case r.seq.slots <- struct{}{}:
		return nil
	default:
	}
	r.setBlocked(true)
	defer r.setBlocked(false)
	return r.seq.reserve(r.stop)
}

func (r *run) setBlocked(b bool) {
	r.pmu.Lock()
	r.blocked = b
	r.pmu.Unlock()
	if b {
		r.wake()
	}
}

func (r *run) dispatchDone() {
	r.pmu.Lock()
	r.dispatched = true
	r.pmu.Unlock()
	r.wake()
}

// wake asks the settler to look at the parked rows.
func (r *run) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// doneSending ends one row's send.
func (r *run) doneSending() {
	if r.inflight.Add(-1) == 0 {
		r.wake()
	}
}

// record is the one place a row not sent passes through: the summary
// counts it, the journal notes it, and the sequencer writes it to the
// report in input order. Sent rows pass through final.
func (r *run) record(seq int, rec reports.Record, identity string) {
	r.count(rec)
	if j := r.cfg.Journal; j != nil {
		e := RowEntry{Seq: seq, Entry: Entry{Identity: identity, RequestID: rec.RequestID, ServiceRequestID: rec.ServiceRequestID, Row: rec.Row, UpdatedAt: r.cfg.Now()},
			Status: rec.Status, ErrorClass: rec.ErrorClass, Error: rec.Error, Attempts: rec.Attempts}
		if _, err := j.Queue(context.WithoutCancel(r.req), e); err != nil {
			r.fail(journalErr(err))
		}
	}
	if err := r.seq.put(seq, rec); err != nil {
		r.fail(err)
	}
}

func (r *run) count(rec reports.Record) {
	r.mu.Lock()
	r.sum.Rows++
	r.sum.Counts[rec.Status]++
	if rec.Status == reports.Created && rec.Error != "" {
		r.sum.Settled++
	}
	r.mu.Unlock()
	if o := r.cfg.Observer; o != nil {
		o.Done(rec)
	}
}

// noteCreated remembers an id this run created, when no journal does.
func (r *run) noteCreated(id string) {
	if r.createdIDs == nil {
		return
	}
	r.pmu.Lock()
	r.createdIDs.add(id)
	r.pmu.Unlock()
}

// fail records a systemic failure (the first one wins) and stops dispatch.
func (r *run) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.stopNow()
}

func (r *run) firstErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// watch ends requests in flight Grace after a stop, at once on Abort, and
// when the Breaker trips, until done closes.
func (r *run) watch(done <-chan struct{}) {
	var tripped <-chan struct{}
	if r.cfg.Breaker != nil {
		tripped = r.cfg.Breaker.Tripped()
	}
	stopped := r.stop.Done()
	var grace <-chan time.Time
	for {
		select {
		case <-done:
			return
		case <-r.cfg.Abort:
			r.cancelReq()
			return
		case <-tripped:
			r.fail(r.cfg.Breaker.Err())
			r.cancelReq()
			return
		case <-stopped:
			stopped = nil
			t := time.NewTimer(r.cfg.Grace)
			defer t.Stop()
			grace = t.C
			r.wake()
		case <-grace:
			r.cancelReq()
			return
		}
	}
}

// flushLoop flushes the report every FlushEvery until done closes, so the
// report shows finished rows while the run goes on.
func (r *run) flushLoop(done <-chan struct{}) {
	t := time.NewTicker(r.cfg.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if err := r.seq.flush(); err != nil {
				r.fail(err)
				return
			}
		}
	}
}

// countRules adds a row's validation failures to the summary's per-rule
// counts.
func (r *run) countRules(err error, malformed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if malformed {
		r.sum.Rules["malformed record"]++
		return
	}
	for _, e := range leaves(err) {
		var fe *mapping.FieldError
		if errors.As(e, &fe) {
			r.sum.Rules[fe.Field+": "+ruleName(fe.Err)]++
			continue
		}
		r.sum.Rules["other"]++
	}
}

// ruleName names the rule behind a field error: the innermost error's text.
func ruleName(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// leaves flattens an errors.Join tree.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// message renders an error for the report's error column: one line, the
// parts of a joined error separated by "; ".
func message(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
