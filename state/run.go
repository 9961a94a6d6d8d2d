package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/srimport/srimport/importer"
)

const (
	// maxBatch is the most writes one transaction commits.
	maxBatch = 500
	// maxQueue is the most writes waiting for the writer; a Write finding
	// the queue full waits.
	maxQueue = 4096
)

var _ importer.Journal = (*Run)(nil)

// Run is one run's journal: it records the run's rows and its target's
// items. It implements [importer.Journal] and is safe for concurrent use.
//
// Writes are applied in the order they were queued by one writer
// goroutine, which commits whatever is queued (up to 500 writes) in one
// transaction as soon as the previous transaction has committed. A
// failed commit stops the Run: that write and every later Write, Flush and
// Finish return the error.
type Run struct {
	s      *Store
	id     int64
	target string

	mu        sync.Mutex
	pending   []importer.RowEntry // queued, not taken by the writer yet
	spare     []importer.RowEntry // the writer's second buffer
	queued    uint64              // writes queued so far; write n is the n-th
	taken     uint64              // writes the writer has taken
	committed uint64              // writes committed; only grows while err is nil
	err       error               // the sticky commit error
	closing   bool                // Close was called
	wake      chan struct{}       // signals the writer; capacity 1
	done      chan struct{}       // closed and replaced after each transaction
	space     chan struct{}       // closed and replaced when the writer takes writes
	stopped   chan struct{}       // closed when the writer has exited
	closeOnce sync.Once
	closeErr  error

	// overlay holds the target's entries queued but not committed yet, so
	// that Lookup sees this run's own writes; ticket is the write's number.
	overlay map[string]overlayEntry
}

type overlayEntry struct {
	e      importer.Entry
	ticket uint64
}

func newRun(s *Store, id int64, target string) *Run {
	r := &Run{
		s:       s,
		id:      id,
		target:  target,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		space:   make(chan struct{}),
		stopped: make(chan struct{}),
		overlay: make(map[string]overlayEntry),
	}
	go r.writer()
	return r
}

// ID returns the run's id in the runs table.
func (r *Run) ID() int64 { return r.id }

// Target returns the target the run imports into.
func (r *Run) Target() string { return r.target }

// Lookup returns the target's entry for identity: this run's latest
// queued write of it, or else the committed one. ok is false when there
// is none.
func (r *Run) Lookup(ctx context.Context, identity string) (importer.Entry, bool, error) {
	r.mu.Lock()
	o, ok := r.overlay[identity]
	r.mu.Unlock()
	if ok {
		return o.e, true, nil
	}
	var (
		e       = importer.Entry{Identity: identity}
		state   string
		sentAt  sql.NullString
		updated string
	)
	err := r.s.lookup.QueryRowContext(ctx, r.target, identity).Scan(
		&e.RequestID, &state, &e.ServiceRequestID, &e.Match, &e.RunID, &e.Row, &sentAt, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return importer.Entry{}, false, nil
	}
	if err != nil {
		return importer.Entry{}, false, fmt.Errorf("state: look up %s: %w", identity, err)
	}
	e.State = importer.State(state)
	if sentAt.Valid {
		if e.SentAt, err = parseTime(sentAt.String); err != nil {
			return importer.Entry{}, false, fmt.Errorf("state: look up %s: sent_at: %w", identity, err)
		}
	}
	if e.UpdatedAt, err = parseTime(updated); err != nil {
		return importer.Entry{}, false, fmt.Errorf("state: look up %s: updated: %w", identity, err)
	}
	return e, true, nil
}

// Write queues e: the row e.Seq of this run and, when e.Identity and
// e.State are set, the target's entry for e.Identity (an entry with a zero
// SentAt keeps the one recorded). A zero UpdatedAt means now; RunID is
// always this run's. With sync, Write returns once the transaction holding
// e has committed, or ctx ends; without, it returns once e is queued,
// waiting for room when the queue is full.
func (r *Run) Write(ctx context.Context, e importer.RowEntry, sync bool) error {
	durable, err := r.Queue(ctx, e)
	if err != nil || !sync {
		return err
	}
	return durable(ctx)
}

// Queue queues e as Write does without sync, and returns a function that
// waits until the transaction holding e has committed (or its ctx ends),
// so that a caller can go on while the commit happens.
func (r *Run) Queue(ctx context.Context, e importer.RowEntry) (durable func(context.Context) error, err error) {
	if e.UpdatedAt.IsZero() {
		e.UpdatedAt = time.Now()
	}
	e.RunID = r.id
	r.mu.Lock()
	for {
		if r.err != nil {
			err := r.err
			r.mu.Unlock()
			return nil, err
		}
		if r.closing {
			r.mu.Unlock()
			return nil, fmt.Errorf("state: write to run %d: %w", r.id, ErrClosed)
		}
		if len(r.pending) < maxQueue {
			break
		}
		space := r.space
		r.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		r.mu.Lock()
	}
	r.pending = append(r.pending, e)
	r.queued++
	ticket := r.queued
	if e.Identity != "" && e.State != "" {
		o := r.overlay[e.Identity]
		sentAt := o.e.SentAt
		o.e = e.Entry
		if o.e.SentAt.IsZero() {
			o.e.SentAt = sentAt
		}
		o.ticket = ticket
		r.overlay[e.Identity] = o
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	r.mu.Unlock()
	return func(ctx context.Context) error {
		r.mu.Lock()
		return r.waitLocked(ctx, ticket)
	}, nil
}

// waitLocked waits, with r.mu held and releasing it, until write ticket
// has committed, a commit has failed, or ctx ends.
func (r *Run) waitLocked(ctx context.Context, ticket uint64) error {
	for {
		if r.committed >= ticket {
			r.mu.Unlock()
			return nil
		}
		if r.err != nil {
			err := r.err
			r.mu.Unlock()
			return err
		}
		done := r.done
		r.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		r.mu.Lock()
	}
}

// Flush waits until every write queued so far has committed, and returns
// the sticky commit error if a commit has failed.
func (r *Run) Flush(ctx context.Context) error {
	r.mu.Lock()
	if r.err != nil {
		err := r.err
		r.mu.Unlock()
		return err
	}
	return r.waitLocked(ctx, r.queued)
}

// InDoubt flushes the queued writes and returns the target's entries in
// StateSending or StateUnknown, from any run, oldest first: by SentAt, or
// UpdatedAt for an entry never sent.
func (r *Run) InDoubt(ctx context.Context) ([]importer.Entry, error) {
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	rows, err := r.s.r.QueryContext(ctx, `SELECT identity, request_id, state, service_request_id, match, run_id, row, sent_at, updated
		FROM items WHERE target = ? AND state IN ('sending', 'unknown') ORDER BY coalesce(sent_at, updated), identity`,
		r.target)
	if err != nil {
		return nil, fmt.Errorf("state: in-doubt entries: %w", err)
	}
	defer rows.Close()
	var out []importer.Entry
	for rows.Next() {
		var (
			e       importer.Entry
			state   string
			sentAt  sql.NullString
			updated string
		)
		if err := rows.Scan(&e.Identity, &e.RequestID, &state, &e.ServiceRequestID, &e.Match,
			&e.RunID, &e.Row, &sentAt, &updated); err != nil {
			return nil, fmt.Errorf("state: in-doubt entries: %w", err)
		}
		e.State = importer.State(state)
		if sentAt.Valid {
			if e.SentAt, err = parseTime(sentAt.String); err != nil {
				return nil, fmt.Errorf("state: in-doubt entry %s: sent_at: %w", e.Identity, err)
			}
		}
		if e.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, fmt.Errorf("state: in-doubt entry %s: updated: %w", e.Identity, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: in-doubt entries: %w", err)
	}
	return out, nil
}

// HasServiceRequest flushes the queued writes and reports whether the
// target holds a created entry with service-request id id.
func (r *Run) HasServiceRequest(ctx context.Context, id string) (bool, error) {
	if err := r.Flush(ctx); err != nil {
		return false, err
	}
	var one int
	err := r.s.r.QueryRowContext(ctx, `SELECT 1 FROM items WHERE target = ? AND service_request_id = ? AND state = 'created' LIMIT 1`,
		r.target, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state: look up service request %s: %w", id, err)
	}
	return true, nil
}

// Finish flushes the queued writes and records the run's end: its exit
// status, its row count per report status, its number of rows and when it
// finished (zero means now). It records the end even when the flush
// fails, and then returns the flush's error.
func (r *Run) Finish(ctx context.Context, exitStatus int, counts map[string]int, rows int, finished time.Time) error {
	ferr := r.Flush(ctx)
	if finished.IsZero() {
		finished = time.Now()
	}
	if counts == nil {
		counts = map[string]int{}
	}
	js, err := json.Marshal(counts)
	if err != nil {
		return errors.Join(ferr, fmt.Errorf("state: finish run %d: %w", r.id, err))
	}
	_, err = r.s.w.ExecContext(ctx, `UPDATE runs SET finished = ?, exit_status = ?, counts = ?, rows = ? WHERE id = ?`,
		formatTime(finished), exitStatus, string(js), rows, r.id)
	if err != nil {
		err = fmt.Errorf("state: finish run %d: %w", r.id, err)
	}
	return errors.Join(ferr, err)
}

// Close commits the queued writes and stops the writer. It returns the
// sticky commit error, if any. It is idempotent and may follow Finish.
func (r *Run) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closing = true
		select {
		case r.wake <- struct{}{}:
		default:
		}
		r.mu.Unlock()
		<-r.stopped
		r.s.forget(r)
		r.mu.Lock()
		r.closeErr = r.err
		r.mu.Unlock()
	})
	return r.closeErr
}

// writer is the Run's writer goroutine: it commits the queued writes in
// batches, in order, until Close.
func (r *Run) writer() {
	defer close(r.stopped)
	for {
		<-r.wake
		for {
			// Yield once, so that writers just woken by the last commit
			// can queue their next writes into this one: fewer, larger
			// transactions.
			runtime.Gosched()
			r.mu.Lock()
			if len(r.pending) == 0 {
				closing := r.closing
				r.mu.Unlock()
				if closing {
					return
				}
				break
			}
			var batch []importer.RowEntry
			if len(r.pending) <= maxBatch {
				batch, r.pending = r.pending, r.spare[:0]
			} else {
				batch = append(r.spare[:0], r.pending[:maxBatch]...)
				n := copy(r.pending, r.pending[maxBatch:])
				clear(r.pending[n:])
				r.pending = r.pending[:n]
			}
			r.spare = nil
			r.taken += uint64(len(batch))
			upto := r.taken
			failed := r.err != nil
			close(r.space)
			r.space = make(chan struct{})
			r.mu.Unlock()

			var err error
			if !failed {
				err = r.commit(batch)
			}

			r.mu.Lock()
			if err != nil && r.err == nil {
				r.err = fmt.Errorf("state: commit run %d: %w", r.id, err)
			}
			if r.err == nil {
				r.committed = upto
			}
			first := upto - uint64(len(batch)) + 1
			for i := range batch {
				id := batch[i].Identity
				if o, ok := r.overlay[id]; ok && o.ticket == first+uint64(i) {
					delete(r.overlay, id)
				}
			}
			if r.err != nil {
				// Nothing more will commit; keep no entries that never will.
				clear(r.overlay)
			}
			close(r.done)
			r.done = make(chan struct{})
			clear(batch)
			r.spare = batch[:0]
			r.mu.Unlock()
		}
	}
}

// commit writes batch in one transaction.
func (r *Run) commit(batch []importer.RowEntry) (err error) {
	ctx := context.Background()
	tx, err := r.s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	rowStmt := tx.StmtContext(ctx, r.s.upsertRow)
	defer rowStmt.Close()
	itemStmt := tx.StmtContext(ctx, r.s.upsertItem)
	defer itemStmt.Close()
	for i := range batch {
		e := &batch[i]
		updated := formatTime(e.UpdatedAt)
		if _, err := rowStmt.ExecContext(ctx, r.id, e.Seq, e.Row, e.Identity, e.RequestID, string(e.Status),
			e.ServiceRequestID, e.ErrorClass, e.Error, e.Attempts, updated); err != nil {
			return fmt.Errorf("row seq %d: %w", e.Seq, err)
		}
		if e.Identity == "" || e.State == "" {
			continue
		}
		if _, err := itemStmt.ExecContext(ctx, r.target, e.Identity, e.RequestID, string(e.State),
			e.ServiceRequestID, e.Match, r.id, e.Row, nullTime(e.SentAt), updated); err != nil {
			return fmt.Errorf("item %s: %w", e.Identity, err)
		}
	}
	return tx.Commit()
}
