package state

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/srimport/srimport/importer"
)

const (
	// maxQueue is the most writes waiting for the writer; a Write finding
	// the queue full waits.
	maxQueue = 4096
	// snapshotAge is how long Lookup reuses a snapshot of the database.
	snapshotAge = 100 * time.Millisecond
	// syncInterval is how long, at most, the writer lets writes nobody
	// waits for yet gather before it syncs them (see writer).
	syncInterval = 2 * time.Millisecond
)

var _ importer.Journal = (*Run)(nil)

// Run is one run's journal: it records the run's rows and its target's
// items. It implements [importer.Journal] and is safe for concurrent use.
//
// While the Run is open its writes go to its log (see the package
// comment), appended in the order they were queued by one writer
// goroutine, which writes whatever is queued with one write(2) and then
// fdatasyncs it (group commit). Writes that nobody waits for yet may
// gather for up to 2 ms before a sync (see writer). A failed write or
// sync stops the Run: that write and every later Write, Flush, InDoubt,
// HasServiceRequest, Finish and Close return the error. Finish or Close
// ingests the log into the database.
type Run struct {
	s      *Store
	id     int64
	target string
	hook   func() error // options.beforeAppend

	mu      sync.Mutex
	buf     []byte        // records queued, not taken by the writer yet
	spare   []byte        // the writer's second buffer
	nbuf    int           // records in buf
	queued  uint64        // writes queued so far; write n is the n-th
	taken   uint64        // writes the writer has taken
	takes   uint64        // batches the writer has taken
	waiting int           // callers waiting for writes not taken yet (a Flush counts maxQueue)
	durable uint64        // writes synced; only grows while err is nil
	err     error         // the sticky write error
	closing bool          // Finish or Close was called
	wake    chan struct{} // signals the idle writer; capacity 1
	kick    chan struct{} // signals the lingering writer that callers wait; capacity 1
	done    chan struct{} // closed and replaced after each sync
	space   chan struct{} // closed and replaced when the writer takes writes
	stopped chan struct{} // closed when the writer has exited

	// What this run wrote that its reads must see before the log is
	// ingested:
	//   - created: the service-request ids of its created entries;
	//   - doubt: its latest entries in StateSending or StateUnknown, by
	//     identity, for identities not in watch;
	//   - watch: the target's entries in doubt in the database when the
	//     run began, or when InDoubt returned them, by identity: the ones
	//     settlement rewrites and rows then look up;
	//   - overlay: this run's latest write of each identity in watch.
	created *createdSet // nil until HasServiceRequest first asks (see mineLocked)
	doubt   map[string]importer.Entry
	watch   map[string]importer.Entry
	overlay map[string]importer.Entry

	arm   sync.Mutex // serialises mine's first call
	snap  snapshot   // Lookup's
	empty emptyCheck // Lookup's

	// end guards the log's ingestion.
	end      sync.Mutex
	log      *os.File // the log, flocked; nil once closed
	logPath  string
	ingested bool

	closeOnce sync.Once
	closeErr  error
}

func newRun(s *Store, id int64, target string, log *os.File, logPath string, watch []importer.Entry) *Run {
	r := &Run{
		s:       s,
		id:      id,
		target:  target,
		hook:    s.opt.beforeAppend,
		log:     log,
		logPath: logPath,
		wake:    make(chan struct{}, 1),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		space:   make(chan struct{}),
		stopped: make(chan struct{}),
		doubt:   make(map[string]importer.Entry),
		watch:   make(map[string]importer.Entry, len(watch)),
		overlay: make(map[string]importer.Entry),
	}
	for _, e := range watch {
		r.watch[e.Identity] = e
	}
	go r.writer()
	return r
}

// ID returns the run's id in the runs table.
func (r *Run) ID() int64 { return r.id }

// Target returns the target the run imports into.
func (r *Run) Target() string { return r.target }

// Lookup returns the target's entry for identity as the database holds
// it: the history of earlier runs. ok is false when there is none.
//
// Unlike what [importer.Journal] promises, Lookup does not see this run's
// own writes, which are in its log until the run ends, with one
// exception: an identity the target held in doubt (see InDoubt) that
// this run has written since, as settlement does, is returned as this run
// last wrote it. The importer needs no more: it looks up each row's
// identity once, before it writes it, and a row's identity occurs once in
// an input.
//
// Lookups read a snapshot of the database that is renewed when this
// process ingests a log and otherwise every 100 ms (snapshotAge), so that
// what another process's run ingests shows after at most that long.
func (r *Run) Lookup(ctx context.Context, identity string) (importer.Entry, bool, error) {
	r.mu.Lock()
	o, ok := r.overlay[identity]
	r.mu.Unlock()
	if ok {
		return o, true, nil
	}
	if err := ctx.Err(); err != nil {
		return importer.Entry{}, false, fmt.Errorf("state: look up %s: %w", identity, err)
	}
	// A lookup takes microseconds: it is not worth database/sql's
	// goroutine per query that watches a context that can end.
	ctx = context.WithoutCancel(ctx)
	if r.empty.holds(ctx, r.s, r.target) {
		return importer.Entry{}, false, nil
	}
	var (
		e       = importer.Entry{Identity: identity}
		state   string
		sentAt  sql.NullString
		updated string
		err     error
	)
	scan := func(row *sql.Row) error {
		return row.Scan(&e.RequestID, &state, &e.ServiceRequestID, &e.Match, &e.RunID, &e.Row, &sentAt, &updated)
	}
	if stmt := r.snap.lock(r.s); stmt != nil {
		err = scan(stmt.QueryRowContext(ctx, r.target, identity))
		r.snap.unlock(err != nil && !errors.Is(err, sql.ErrNoRows))
	} else {
		err = scan(r.s.lookup.QueryRowContext(ctx, r.target, identity))
	}
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

// emptyCheck is whether the target has no history at all, as of when it
// was checked: a first import into a target then makes no query per
// row. It is checked again as often as the snapshot is renewed, so that
// what another process's run ingests shows as soon.
type emptyCheck struct {
	mu      sync.Mutex
	empty   bool
	at      time.Time
	ingests uint64 // the Store's ingests when it was checked
}

// holds reports whether the target held nothing when last checked,
// checking again when that is older than snapshotAge or the Store has
// ingested a log since. A failed check says no: the lookup then runs and
// reports the failure.
func (c *emptyCheck) holds(ctx context.Context, s *Store, target string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := s.ingests.Load()
	if !c.at.IsZero() && time.Since(c.at) <= snapshotAge && c.ingests == n {
		return c.empty
	}
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM items WHERE target = ? LIMIT 1`, target).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		c.empty = true
	case err != nil:
		return false
	default:
		c.empty = false
	}
	c.at, c.ingests = time.Now(), n
	return c.empty
}

// snapshot is a read transaction that Lookup reuses: beginning and ending
// one per lookup costs as much as the lookup (the WAL's read lock is two
// fcntl calls). One lookup at a time uses it; others read through the
// pool.
type snapshot struct {
	mu      sync.Mutex
	tx      *sql.Tx
	stmt    *sql.Stmt // the lookup statement, on tx
	began   time.Time
	ingests uint64 // the Store's ingests when it began
	closed  bool
}

// lock returns the snapshot's lookup statement, renewing the snapshot if
// it is older than snapshotAge or the Store has ingested a log since it
// began; nil when it is in use, closed or cannot begin. Unless it
// returns nil, the caller must call unlock.
func (sn *snapshot) lock(s *Store) *sql.Stmt {
	if !sn.mu.TryLock() {
		return nil
	}
	if sn.closed {
		sn.mu.Unlock()
		return nil
	}
	n := s.ingests.Load()
	if sn.tx != nil && (time.Since(sn.began) > snapshotAge || sn.ingests != n) {
		sn.endLocked()
	}
	if sn.tx == nil {
		tx, err := s.r.BeginTx(context.Background(), nil)
		if err != nil {
			sn.mu.Unlock()
			return nil
		}
		sn.tx, sn.stmt, sn.began, sn.ingests = tx, tx.Stmt(s.lookup), time.Now(), n
	}
	return sn.stmt
}

// unlock releases the snapshot, ending it if failed.
func (sn *snapshot) unlock(failed bool) {
	if failed {
		sn.endLocked()
	}
	sn.mu.Unlock()
}

func (sn *snapshot) endLocked() {
	if sn.tx != nil {
		sn.stmt.Close()
		sn.tx.Rollback()
		sn.tx, sn.stmt = nil, nil
	}
}

// close ends the snapshot for good.
func (sn *snapshot) close() {
	sn.mu.Lock()
	sn.endLocked()
	sn.closed = true
	sn.mu.Unlock()
}

// Write queues e: the row e.Seq of this run (none when e.Seq < 0) and,
// when e.Identity and e.State are set, the target's entry for e.Identity
// (an entry with a zero SentAt keeps the one recorded). A zero UpdatedAt
// means now; RunID is always this run's. With sync, Write returns once e
// is durable in the run's log, or ctx ends; without, it returns once e is
// queued, waiting for room when the queue is full.
func (r *Run) Write(ctx context.Context, e importer.RowEntry, sync bool) error {
	durable, err := r.Queue(ctx, e)
	if err != nil || !sync {
		return err
	}
	return durable(ctx)
}

// Queue queues e as Write does without sync, and returns a function that
// waits until e is durable in the run's log (or its ctx ends), so that a
// caller can go on while the sync happens.
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
		if r.nbuf < maxQueue {
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
	r.buf = appendEntry(r.buf, &e)
	r.nbuf++
	r.queued++
	ticket := r.queued
	r.noteLocked(&e)
	select {
	case r.wake <- struct{}{}:
	default:
	}
	if r.nbuf >= maxQueue {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	r.mu.Unlock()
	return func(ctx context.Context) error {
		r.mu.Lock()
		return r.waitLocked(ctx, ticket, 1)
	}, nil
}

// noteLocked keeps, with r.mu held, what the run's reads must know of e.
func (r *Run) noteLocked(e *importer.RowEntry) {
	id := e.Identity
	if id == "" || e.State == "" {
		return
	}
	if e.State == importer.StateCreated && e.ServiceRequestID != "" {
		if r.created != nil {
			r.created.add(e.ServiceRequestID)
		}
	}
	if w, ok := r.watch[id]; ok {
		prev, ok := r.overlay[id]
		if !ok {
			prev = w
		}
		ent := e.Entry
		if ent.SentAt.IsZero() {
			ent.SentAt = prev.SentAt
		}
		r.overlay[id] = ent
		return
	}
	if !inDoubt(e.State) {
		delete(r.doubt, id)
		return
	}
	ent := e.Entry
	if ent.SentAt.IsZero() {
		ent.SentAt = r.doubt[id].SentAt
	}
	r.doubt[id] = ent
}

func inDoubt(st importer.State) bool {
	return st == importer.StateSending || st == importer.StateUnknown
}

// waitLocked waits, with r.mu held and releasing it, until write ticket
// is durable, a write has failed, or ctx ends. While ticket waits to be
// taken by the writer, the wait counts weight in r.waiting.
func (r *Run) waitLocked(ctx context.Context, ticket uint64, weight int) error {
	counted := uint64(0) // r.takes+1 when counted in r.waiting
	for {
		if r.durable >= ticket {
			r.mu.Unlock()
			return nil
		}
		if r.err != nil {
			err := r.err
			r.mu.Unlock()
			return err
		}
		if ticket > r.taken && counted != r.takes+1 {
			counted = r.takes + 1
			r.waiting += weight
			if r.waiting >= r.nbuf {
				select {
				case r.kick <- struct{}{}:
				default:
				}
			}
		}
		done := r.done
		r.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			r.mu.Lock()
			if counted == r.takes+1 {
				r.waiting -= weight
			}
			r.mu.Unlock()
			return ctx.Err()
		}
		r.mu.Lock()
	}
}

// Flush waits until every write queued so far is durable in the run's
// log, and returns the sticky write error if a write has failed.
func (r *Run) Flush(ctx context.Context) error {
	r.mu.Lock()
	if r.err != nil {
		err := r.err
		r.mu.Unlock()
		return err
	}
	return r.waitLocked(ctx, r.queued, maxQueue)
}

// stickyErr returns the sticky write error.
func (r *Run) stickyErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// InDoubt returns the target's entries in StateSending or StateUnknown,
// oldest first (by SentAt, or UpdatedAt for an entry never sent): those
// of earlier runs, as the database holds them, less those this run has
// written since in another state, and this run's own. It returns the
// sticky write error if a write has failed.
//
// (An identity that another process's run left in doubt after this run
// began, and that this run wrote since in another state, is returned as
// the database holds it. The importer calls InDoubt before it writes.)
func (r *Run) InDoubt(ctx context.Context) ([]importer.Entry, error) {
	if err := r.stickyErr(); err != nil {
		return nil, err
	}
	stored, err := r.s.inDoubt(ctx, r.target)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	out := make([]importer.Entry, 0, len(stored)+len(r.doubt))
	for _, e := range stored {
		if _, ok := r.doubt[e.Identity]; ok {
			continue
		}
		if _, ok := r.watch[e.Identity]; !ok {
			// In doubt since the run began (another process's run
			// ended): settlement may rewrite it, so Lookup must see that.
			r.watch[e.Identity] = e
		}
		if _, ok := r.overlay[e.Identity]; ok {
			continue
		}
		out = append(out, e)
	}
	for _, e := range r.overlay {
		if inDoubt(e.State) {
			out = append(out, e)
		}
	}
	for _, e := range r.doubt {
		out = append(out, e)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b importer.Entry) int {
		return cmp.Or(doubtSince(a).Compare(doubtSince(b)), strings.Compare(a.Identity, b.Identity))
	})
	return out, nil
}

// doubtSince is the time InDoubt orders e by.
func doubtSince(e importer.Entry) time.Time {
	if e.SentAt.IsZero() {
		return e.UpdatedAt
	}
	return e.SentAt
}

// HasServiceRequest reports whether this run wrote a created entry with
// service-request id id, or the database holds one for the target. It
// returns the sticky write error if a write has failed.
func (r *Run) HasServiceRequest(ctx context.Context, id string) (bool, error) {
	mine, err := r.mine(ctx, id)
	if err != nil {
		return false, err
	}
	if mine {
		return true, nil
	}
	var one int
	err = r.s.r.QueryRowContext(ctx, `SELECT 1 FROM items WHERE target = ? AND service_request_id = ? AND state = 'created' LIMIT 1`,
		r.target, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state: look up service request %s: %w", id, err)
	}
	return true, nil
}

// mine reports whether this run wrote a created entry with
// service-request id id. The ids are kept from the first call on: most
// runs settle nothing and never ask, and a million ids would cost 8 MiB
// of a run's memory. The first call notes every later write, waits until
// what was queued before is durable and reads those earlier writes back
// from the log; calls meanwhile wait for it.
func (r *Run) mine(ctx context.Context, id string) (bool, error) {
	r.arm.Lock()
	defer r.arm.Unlock()
	r.mu.Lock()
	if r.err != nil {
		err := r.err
		r.mu.Unlock()
		return false, err
	}
	if r.created != nil {
		ok := r.created.has(id)
		r.mu.Unlock()
		return ok, nil
	}
	set := newCreatedSet()
	r.created = set
	if err := r.waitLocked(ctx, r.queued, maxQueue); err != nil {
		r.disarm()
		return false, err
	}
	if err := r.readCreated(set); err != nil {
		r.disarm()
		return false, fmt.Errorf("state: read the log of run %d back: %w", r.id, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return set.has(id), nil
}

// disarm forgets the ids of a first mine call that failed, for the next
// to start over.
func (r *Run) disarm() {
	r.mu.Lock()
	r.created = nil
	r.mu.Unlock()
}

// readCreated adds to set the ids of the created entries in the run's
// log as far as it is durable (a record being appended reads as a torn
// tail, and is noted in set by noteLocked anyway).
func (r *Run) readCreated(set *createdSet) error {
	f, err := os.Open(r.logPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil // ingested and removed: the database has it all
	}
	if err != nil {
		return err
	}
	defer f.Close()
	lr, _, err := readLog(f, r.id)
	if err != nil {
		return err
	}
	var ids []string
	flush := func() {
		r.mu.Lock()
		for _, id := range ids {
			set.add(id)
		}
		r.mu.Unlock()
		ids = ids[:0]
	}
	for {
		kind, p, err := lr.next()
		if errors.Is(err, io.EOF) || isTorn(err) {
			break
		}
		if err != nil {
			return err
		}
		if kind != recEntry {
			continue
		}
		e, err := decodeEntry(p)
		if err != nil {
			return err
		}
		if e.State == importer.StateCreated && e.ServiceRequestID != "" {
			if ids = append(ids, e.ServiceRequestID); len(ids) == 1024 {
				flush()
			}
		}
	}
	flush()
	return nil
}

// Finish ends the run's writes (a later Write returns ErrClosed), makes
// them durable, and ingests the run's log into the database, recording
// in the same transaction the run's end: its exit status, its row count
// per report status, its number of rows and when it finished (zero means
// now). It records the end even when a write has failed, and then
// returns that write's error; if the ingestion fails, the log is kept for
// Close, or else the next Open, to ingest, and the end is recorded alone.
func (r *Run) Finish(ctx context.Context, exitStatus int, counts map[string]int, rows int, finished time.Time) error {
	ferr := r.stop()
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
	end := &runEnd{finished: finished, exitStatus: exitStatus, counts: string(js), rows: rows}
	return errors.Join(ferr, r.ingest(ctx, end))
}

// Close ends the run's writes, makes them durable, ingests the run's log
// into the database (unless Finish did) and removes it. It returns the
// sticky write error, if any, or the ingestion's; should the ingestion
// fail, the log stays for the next Open to ingest. It is idempotent and
// may follow Finish. A run closed without Finish stays unfinished.
func (r *Run) Close() error {
	r.closeOnce.Do(func() {
		ferr := r.stop()
		ierr := r.ingest(context.Background(), nil)
		r.end.Lock()
		if r.log != nil {
			r.log.Close() // releases the flock; the next Open ingests a log left
			r.log = nil
		}
		r.end.Unlock()
		r.s.forget(r)
		r.closeErr = errors.Join(ferr, ierr)
	})
	return r.closeErr
}

// stop has the writer write and sync what is queued, and exit; later
// writes are refused. It returns the sticky write error.
func (r *Run) stop() error {
	r.snap.close()
	r.mu.Lock()
	r.closing = true
	for _, c := range []chan struct{}{r.wake, r.kick} {
		select {
		case c <- struct{}{}:
		default:
		}
	}
	r.mu.Unlock()
	<-r.stopped
	return r.stickyErr()
}

// ingest ingests the log, once, with end if not nil, and then removes
// it. Called again once it has, or once the log is closed, it only
// records end.
func (r *Run) ingest(ctx context.Context, end *runEnd) error {
	r.end.Lock()
	defer r.end.Unlock()
	if r.ingested || r.log == nil {
		if end == nil {
			return nil
		}
		if err := recordEnd(ctx, r.s.w, r.id, end); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		return nil
	}
	lr, h, err := readLog(r.log, r.id)
	if err == nil {
		err = r.s.ingest(ctx, lr, h, end)
	}
	if err != nil {
		err = fmt.Errorf("state: ingest the log of run %d (%s; kept for the next Open): %w", r.id, r.logPath, err)
		if end != nil {
			if eerr := recordEnd(ctx, r.s.w, r.id, end); eerr != nil {
				err = errors.Join(err, fmt.Errorf("state: %w", eerr))
			}
		}
		return err
	}
	r.ingested = true
	rmErr := os.Remove(r.logPath)
	// Closing after the removal: a process that opened the log meanwhile
	// and then gets its lock finds it removed, and leaves it.
	r.log.Close()
	r.log = nil
	if rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
		// Ingested: the next Open ingests it again, which is harmless.
		return fmt.Errorf("state: remove the ingested log of run %d: %w", r.id, rmErr)
	}
	return nil
}

// writer is the Run's writer goroutine: it appends and syncs the queued
// writes in batches, in order, until stop.
//
// A sync costs the machine more than a write (on a small VM, 90 µs of
// CPU), so that a pipelined caller, which queues writes well before it
// waits for them (as the importer does), is best served by few large
// batches, while callers that each wait for their write at once are best
// served by a sync as soon as all of them wait. So the writer syncs at
// once when callers wait for every write queued (or a Flush waits, or the
// queue is full, or the Run is stopping), and otherwise lets the writes
// gather until syncInterval has passed since the last sync began.
func (r *Run) writer() {
	defer close(r.stopped)
	var last time.Time // when the last sync began
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		r.mu.Lock()
		for len(r.buf) == 0 {
			if r.closing {
				r.mu.Unlock()
				return
			}
			r.mu.Unlock()
			<-r.wake
			r.mu.Lock()
		}
		if !r.closing && r.waiting < r.nbuf && r.nbuf < maxQueue {
			if d := syncInterval - time.Since(last); d > 0 {
				r.mu.Unlock()
				linger.Reset(d)
				select {
				case <-r.kick:
				case <-linger.C:
				}
				linger.Stop()
				continue
			}
		}
		batch := r.buf
		r.buf, r.spare = r.spare[:0], nil
		r.nbuf = 0
		r.taken = r.queued
		r.waiting = 0
		r.takes++
		upto := r.queued
		failed := r.err != nil
		close(r.space)
		r.space = make(chan struct{})
		r.mu.Unlock()

		var err error
		if !failed {
			last = time.Now()
			err = r.append(batch)
		}

		r.mu.Lock()
		if err != nil && r.err == nil {
			r.err = fmt.Errorf("state: write the log of run %d: %w", r.id, err)
		}
		if r.err == nil {
			r.durable = upto
		}
		close(r.done)
		r.done = make(chan struct{})
		r.spare = batch[:0]
		r.mu.Unlock()
	}
}

// append writes batch to the log with one write and syncs it.
func (r *Run) append(batch []byte) error {
	if r.hook != nil {
		if err := r.hook(); err != nil {
			return err
		}
	}
	if _, err := r.log.Write(batch); err != nil {
		return err
	}
	return datasync(r.log)
}
