package importer

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/reports"
)

// run is the state of one Run.
type run struct {
	cfg Config
	// ctx governs requests in flight: it ends only when the caller's
	// context does (an interrupt).
	ctx context.Context
	// stop ends dispatch: on a systemic failure or when ctx ends. Rows in
	// flight finish under ctx, so a row the service may have created is
	// never abandoned mid-request by a stop.
	stop    context.Context
	stopNow context.CancelFunc
	group   *errgroup.Group
	slots   chan struct{} // one per create call in flight
	seq     *sequencer
	next    int
	mu      sync.Mutex // guards sum and err
	sum     Summary
	err     error
}

func newRun(ctx context.Context, cfg Config) *run {
	stop, cancel := context.WithCancel(ctx)
	r := &run{cfg: cfg, ctx: ctx, stop: stop, stopNow: cancel, group: new(errgroup.Group), slots: make(chan struct{}, cfg.Workers)}
	r.group.SetLimit(cfg.Workers)
	r.seq = newSequencer(cfg.Window, cfg.Sink)
	r.sum.Counts = make(map[reports.Status]int)
	r.sum.Rules = make(map[string]int)
	return r
}

func (r *run) nextSeq() int {
	s := r.next
	r.next++
	return s
}

// record is the one place every row's outcome passes through: the summary
// counts it and the sequencer writes it to the report in input order.
func (r *run) record(seq int, rec reports.Record) {
	r.mu.Lock()
	r.sum.Rows++
	r.sum.Counts[rec.Status]++
	r.mu.Unlock()
	if err := r.seq.put(seq, rec); err != nil {
		r.fail(err)
	}
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
