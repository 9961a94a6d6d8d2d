// Package state keeps srimport's import history in an embedded SQLite
// database, dir/srimport.db, that a person can inspect with the sqlite3
// shell.
//
// The database holds four tables:
//
//   - runs: one row per import run (input, hashes, target, start and end,
//     exit status, status counts);
//   - rows: one row per input row of each run, the report line it became;
//   - items: per target (service endpoint and tenant) and row identity,
//     the latest known state of that identity's service request;
//   - run_details: per run that saved them when it ended, its time series,
//     its errors by group and its request totals, as JSON, for a page
//     about the run (see [RunDetail]).
//
// Open upgrades the schema of a database an older srimport made (its
// PRAGMA user_version says which); a newer one it refuses.
//
// # A run's log
//
// A run writes through a [Run], which implements [importer.Journal]. An
// SQLite upsert costs some 20 µs, and a run writes twice per row, so
// while a run is open its writes do not go to the database: they are
// appended to the run's log, dir/journal/<run id>.log (mode 0600), by one
// writer goroutine that writes whatever is queued with one write(2) and
// then fdatasyncs it (group commit); a write is reported durable once
// that sync has returned. Each record of the log is length-prefixed and
// checksummed (CRC-32C), so that a record torn by a crash, which was
// never reported durable, is recognised and ignored.
//
// When the run ends (Finish or Close), its log is ingested into the
// database in one transaction, keeping only the last write of each row
// and of each identity, and then removed. A log left behind by a process
// that died (kill -9, a crash, a power loss) is ingested by the next Open
// of the directory, by any srimport command; its run stays unfinished.
// The writer holds an exclusive flock(2) on its log for as long as the
// run is open (the kernel releases it when the process dies, whatever
// kills it), and Open ingests only the logs it can lock, so that two
// processes can share a directory: one never ingests a log the other is
// still writing. Until a run's log is ingested, the database does not
// show the run's rows (Store.Rows) nor its items (another run's Lookup).
//
// What a crash can cost: a process killed at any instant, even with
// SIGKILL, loses no write that was reported durable (the log and the
// database are both synced before they say so), and not even the writes
// it had written to its log but not synced yet, which the kernel keeps;
// what it was queuing but had not written is lost. A machine that loses
// power loses every write not yet synced, that is not yet reported
// durable, and nothing else (provided the disk honours flushes): the
// importer sends no row before its write-ahead entry is durable, so such
// a row was never sent, and a row sent whose outcome was lost is found
// in doubt (sending) and settled by the next run. Either way the database
// stays consistent (WAL mode, synchronous=FULL).
//
// Lookups read committed data through a separate pool of read
// connections, which WAL mode lets run beside the writer.
//
// Times are stored as text, RFC 3339 in UTC with nine fractional digits
// (2006-01-02T15:04:05.000000000Z), so that they sort as text. Nothing
// secret is stored.
//
// The package also provides [Lock], a lock file that keeps two runs from
// importing the same input into the same target at once.
package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
)

// DBName is the database's file name inside the state directory.
const DBName = "srimport.db"

// schemaVersion is the PRAGMA user_version of the schema Open makes:
// schema, then the migrations up to it (see migration).
const schemaVersion = 2

// schema creates version 1 of the database.
//
// items is a rowid table with its key as a unique index, not a WITHOUT
// ROWID table: identities are hashes, so a new one lands on a random page
// of the key index, but the later writes of its state only touch the
// table row, which sits on the recently appended pages the transaction
// writes anyway. The state and service-request indexes are partial, so
// that they hold only what InDoubt and HasServiceRequest look for (their
// queries repeat the index conditions as literals, which the planner
// needs to use them).
const schema = `
CREATE TABLE IF NOT EXISTS runs (
	id           INTEGER PRIMARY KEY,
	input        TEXT NOT NULL,
	input_hash   TEXT NOT NULL,
	mapping_hash TEXT NOT NULL,
	target       TEXT NOT NULL,
	started      TEXT NOT NULL,
	finished     TEXT,
	exit_status  INTEGER,
	counts       TEXT NOT NULL DEFAULT '{}',
	pid          INTEGER NOT NULL,
	rows         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_input_target ON runs(input, target);
CREATE TABLE IF NOT EXISTS rows (
	run_id             INTEGER NOT NULL,
	seq                INTEGER NOT NULL,
	row                INTEGER NOT NULL,
	identity           TEXT NOT NULL,
	request_id         TEXT NOT NULL,
	status             TEXT NOT NULL,
	service_request_id TEXT NOT NULL,
	error_class        TEXT NOT NULL,
	error              TEXT NOT NULL,
	attempts           INTEGER NOT NULL,
	updated            TEXT NOT NULL,
	PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
	target             TEXT NOT NULL,
	identity           TEXT NOT NULL,
	request_id         TEXT NOT NULL,
	state              TEXT NOT NULL,
	service_request_id TEXT NOT NULL,
	match              TEXT NOT NULL,
	run_id             INTEGER NOT NULL,
	row                INTEGER NOT NULL,
	sent_at            TEXT,
	updated            TEXT NOT NULL,
	PRIMARY KEY (target, identity)
);
CREATE INDEX IF NOT EXISTS items_target_sr ON items(target, service_request_id)
	WHERE state = 'created';
CREATE INDEX IF NOT EXISTS items_target_state ON items(target, state)
	WHERE state IN ('sending', 'unknown');
`

// schemaV2 brings version 1 to version 2: what a run leaves for a page
// about it, in a table of its own so that listing runs does not read it.
const schemaV2 = `
CREATE TABLE IF NOT EXISTS run_details (
	run_id INTEGER PRIMARY KEY,
	series TEXT NOT NULL DEFAULT '[]',
	errors TEXT NOT NULL DEFAULT '[]',
	totals TEXT
);
`

// migration returns the statements that bring a database of version from
// to version from+1.
func migration(from int) string {
	switch from {
	case 0:
		return schema
	case 1:
		return schemaV2
	}
	panic(fmt.Sprintf("state: no migration from schema version %d", from))
}

// timeFormat is RFC 3339 with a fixed nine-digit fraction, so that times
// written in UTC sort correctly as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// ErrNoRun is returned (wrapped) for a run id the database does not hold.
var ErrNoRun = errors.New("no such run")

// ErrClosed is returned (wrapped) by a Run or Store used after Close.
var ErrClosed = errors.New("state store closed")

// options are the knobs tests and benchmarks turn; Open uses the defaults.
type options struct {
	// synchronous is the PRAGMA synchronous of the writer connection.
	synchronous string
	// beforeAppend, if set, is called before each append to a run's log;
	// its error fails the append.
	beforeAppend func() error
	// ingestChunk, if positive, replaces the constant ingestChunk.
	ingestChunk int
}

// defaultOptions are Open's.
func defaultOptions() options { return options{synchronous: "FULL"} }

// Store is an open state database. It is safe for concurrent use.
type Store struct {
	path    string
	journal string // the directory of the runs' logs
	opt     options
	w       *sql.DB // the one writer connection
	r       *sql.DB // read connections

	lookup     *sql.Stmt    // on r
	upsertRow  [2]*sql.Stmt // on w, for ingest: one row, ingestBatch rows
	upsertItem [2]*sql.Stmt // on w, for ingest: one item, ingestBatch items

	ingests atomic.Uint64 // logs ingested, so that Lookup's snapshots see them

	mu     sync.Mutex
	open   map[*Run]struct{} // runs not closed yet
	closed bool
}

// Open opens the state database in dir, creating dir (mode 0700) and the
// database (mode 0600) as needed, and creates or checks its schema. The
// database is in WAL mode with synchronous=FULL: a commit is on disk when
// it returns, and a process killed, or a machine losing power, at any
// instant leaves a consistent database holding every committed write.
// Several processes may open the same directory: their writes take
// turns, each waiting up to 10 seconds for the others' (ingesting a run's
// log is one write, of some 10 µs per row: a run of a million rows holds
// the others off for about 10 seconds).
//
// Before it returns, Open ingests the logs that runs of processes now
// gone left in dir/journal (see the package comment), so that what they
// reported durable is in the database; the logs of live processes'
// runs are left to them.
func Open(dir string) (*Store, error) {
	return open(dir, defaultOptions())
}

func open(dir string, opt options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state: create %s: %w", dir, err)
	}
	abs, err := filepath.Abs(filepath.Join(dir, DBName))
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	// Create the file ourselves so that it (and the -wal and -shm files,
	// which SQLite gives the database's mode) is private.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", abs, err)
	}
	f.Close()
	journal := filepath.Join(filepath.Dir(abs), logDir)
	if err := os.MkdirAll(journal, 0o700); err != nil {
		return nil, fmt.Errorf("state: create %s: %w", journal, err)
	}

	s := &Store{path: abs, journal: journal, opt: opt, open: make(map[*Run]struct{})}
	uri := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	s.w, err = sql.Open("sqlite", uri+"?_pragma=busy_timeout(10000)"+
		"&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous("+opt.synchronous+")"+
		"&_pragma=cache_size(-2048)"+
		"&_pragma=temp_store(DEFAULT)"+
		"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", abs, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.migrate(); err != nil {
		s.w.Close()
		return nil, err
	}

	s.r, err = sql.Open("sqlite", uri+"?_pragma=busy_timeout(10000)&_query_only=1")
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("state: open %s: %w", abs, err)
	}
	// One more for the snapshot an open Run's Lookup holds (see snapshot).
	n := max(2*runtime.GOMAXPROCS(0), 4) + 1
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)

	if err := s.prepare(); err != nil {
		s.r.Close()
		s.w.Close()
		return nil, err
	}
	if err := s.recover(context.Background()); err != nil {
		s.closeDB()
		return nil, err
	}
	return s, nil
}

// migrate brings the schema to schemaVersion, creating it or upgrading it
// a version at a time, in one transaction so that two processes opening
// the same database at once do not race (the second finds it done).
func (s *Store) migrate() (err error) {
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state: open %s: %w", s.path, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("state: read schema version of %s: %w", s.path, err)
	}
	switch {
	case v == schemaVersion:
		return tx.Commit()
	case v > schemaVersion:
		return fmt.Errorf("state: %s has schema version %d, newer than this srimport's %d; use a newer srimport", s.path, v, schemaVersion)
	}
	for ; v < schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migration(v)); err != nil {
			return fmt.Errorf("state: upgrade the schema of %s from version %d: %w", s.path, v, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("state: set schema version in %s: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("state: create schema in %s: %w", s.path, err)
	}
	return nil
}

// prepare prepares the statements a run uses per row.
func (s *Store) prepare() error {
	ctx := context.Background()
	var err error
	s.lookup, err = s.r.PrepareContext(ctx, `SELECT request_id, state, service_request_id, match, run_id, row, sent_at, updated
		FROM items WHERE target = ? AND identity = ?`)
	if err != nil {
		return fmt.Errorf("state: prepare lookup: %w", err)
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.upsertRow[0], upsertRowsSQL(1)},
		{&s.upsertRow[1], upsertRowsSQL(ingestBatch)},
		{&s.upsertItem[0], upsertItemsSQL(1)},
		{&s.upsertItem[1], upsertItemsSQL(ingestBatch)},
	} {
		if *p.st, err = s.w.PrepareContext(ctx, p.sql); err != nil {
			return fmt.Errorf("state: prepare ingest: %w", err)
		}
	}
	return nil
}

// values returns n parenthesised lists of cols parameters.
func values(n, cols int) string {
	one := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.Repeat(one+", ", n-1) + one
}

// upsertRowsSQL writes n rows.
func upsertRowsSQL(n int) string {
	return `INSERT INTO rows
		(run_id, seq, row, identity, request_id, status, service_request_id, error_class, error, attempts, updated)
		VALUES ` + values(n, 11) + `
		ON CONFLICT (run_id, seq) DO UPDATE SET
			row = excluded.row, identity = excluded.identity, request_id = excluded.request_id,
			status = excluded.status, service_request_id = excluded.service_request_id,
			error_class = excluded.error_class, error = excluded.error,
			attempts = excluded.attempts, updated = excluded.updated`
}

// upsertItemsSQL writes n items. An item already written by a later run
// stays (see ingest).
func upsertItemsSQL(n int) string {
	return `INSERT INTO items
		(target, identity, request_id, state, service_request_id, match, run_id, row, sent_at, updated)
		VALUES ` + values(n, 10) + `
		ON CONFLICT (target, identity) DO UPDATE SET
			request_id = excluded.request_id, state = excluded.state,
			service_request_id = excluded.service_request_id, match = excluded.match,
			run_id = excluded.run_id, row = excluded.row,
			sent_at = coalesce(excluded.sent_at, items.sent_at), updated = excluded.updated
		WHERE excluded.run_id >= items.run_id`
}

// Path returns the database file's absolute path.
func (s *Store) Path() string { return s.path }

// Close closes every Run not closed yet (flushing its writes) and then the
// database. It returns the first error met.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	runs := make([]*Run, 0, len(s.open))
	for r := range s.open {
		runs = append(runs, r)
	}
	s.mu.Unlock()

	var errs []error
	for _, r := range runs {
		errs = append(errs, r.Close())
	}
	errs = append(errs, s.closeDB())
	return errors.Join(errs...)
}

// closeDB closes the statements and the database connections.
func (s *Store) closeDB() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.lookup, s.upsertRow[0], s.upsertRow[1], s.upsertItem[0], s.upsertItem[1]} {
		if st != nil {
			st.Close()
		}
	}
	if err := s.r.Close(); err != nil {
		errs = append(errs, fmt.Errorf("state: close %s: %w", s.path, err))
	}
	if err := s.w.Close(); err != nil {
		errs = append(errs, fmt.Errorf("state: close %s: %w", s.path, err))
	}
	return errors.Join(errs...)
}

// RunInfo describes a run being begun.
type RunInfo struct {
	Input       string    // the input file's path
	InputHash   string    // a hash of the input's content
	MappingHash string    // a hash of the mapping in force
	Target      string    // the service endpoint and tenant the run imports into
	Started     time.Time // when the run started; zero means now
	PID         int       // the importing process; zero means this process
}

// RunRecord is what the database holds about one run.
type RunRecord struct {
	ID          int64     `json:"id"`
	Input       string    `json:"input"`
	InputHash   string    `json:"inputHash"`
	MappingHash string    `json:"mappingHash"`
	Target      string    `json:"target"`
	Started     time.Time `json:"started"`
	// Finished is zero (and omitted from JSON) while the run has not
	// finished: it is still going, or it was killed.
	Finished time.Time `json:"finished,omitzero"`
	// ExitStatus is the run's exit status; nil (JSON null) while the run
	// has not finished.
	ExitStatus *int `json:"exitStatus"`
	// Counts is the number of rows per report status, as Finish recorded
	// it; for a run that has not finished, what its journal holds so far
	// (Runs only).
	Counts map[string]int `json:"counts"`
	// Rows is the number of input rows, as Finish recorded it.
	Rows int `json:"rows"`
	PID  int `json:"pid"`
}

// Begin records the start of a run, creates its log, and returns the Run
// to write its rows through. The caller must Close the Run (or Finish it
// and Close it): until then, its writes are in its log only.
func (s *Store) Begin(ctx context.Context, info RunInfo) (*Run, error) {
	if info.Started.IsZero() {
		info.Started = time.Now()
	}
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("state: begin run: %w", ErrClosed)
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO runs (input, input_hash, mapping_hash, target, started, counts, pid, rows)
		VALUES (?, ?, ?, ?, ?, '{}', ?, 0)`,
		info.Input, info.InputHash, info.MappingHash, info.Target, formatTime(info.Started), info.PID)
	if err != nil {
		return nil, fmt.Errorf("state: begin run: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("state: begin run: %w", err)
	}
	watch, err := s.inDoubt(ctx, info.Target)
	if err == nil {
		var f *os.File
		var path string
		f, path, err = createLog(s.journal, &logHeader{runID: id, info: info})
		if err == nil {
			return s.track(newRun(s, id, info.Target, f, path, watch))
		}
		err = fmt.Errorf("state: begin run: create its log in %s: %w", s.journal, err)
	}
	// Not begun after all: a run without a log would look killed.
	if _, derr := s.w.ExecContext(context.WithoutCancel(ctx), `DELETE FROM runs WHERE id = ?`, id); derr != nil {
		err = errors.Join(err, fmt.Errorf("state: remove run %d: %w", id, derr))
	}
	return nil, err
}

// track adds r to the runs Close closes.
func (s *Store) track(r *Run) (*Run, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		r.Close()
		return nil, fmt.Errorf("state: begin run: %w", ErrClosed)
	}
	s.open[r] = struct{}{}
	s.mu.Unlock()
	return r, nil
}

// forget drops r from the runs Close closes.
func (s *Store) forget(r *Run) {
	s.mu.Lock()
	delete(s.open, r)
	s.mu.Unlock()
}

const runColumns = `id, input, input_hash, mapping_hash, target, started, finished, exit_status, counts, pid, rows`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner) (RunRecord, error) {
	var (
		rec      RunRecord
		started  string
		finished sql.NullString
		exit     sql.NullInt64
		counts   string
	)
	if err := sc.Scan(&rec.ID, &rec.Input, &rec.InputHash, &rec.MappingHash, &rec.Target,
		&started, &finished, &exit, &counts, &rec.PID, &rec.Rows); err != nil {
		return RunRecord{}, err
	}
	var err error
	if rec.Started, err = parseTime(started); err != nil {
		return RunRecord{}, fmt.Errorf("run %d: started: %w", rec.ID, err)
	}
	if finished.Valid {
		if rec.Finished, err = parseTime(finished.String); err != nil {
			return RunRecord{}, fmt.Errorf("run %d: finished: %w", rec.ID, err)
		}
	}
	if exit.Valid {
		x := int(exit.Int64)
		rec.ExitStatus = &x
	}
	rec.Counts = map[string]int{}
	if counts != "" {
		if err := json.Unmarshal([]byte(counts), &rec.Counts); err != nil {
			return RunRecord{}, fmt.Errorf("run %d: counts: %w", rec.ID, err)
		}
	}
	return rec, nil
}

// Runs returns up to limit runs, most recent first; limit <= 0 means all.
func (s *Store) Runs(ctx context.Context, limit int) ([]RunRecord, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+runColumns+` FROM runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("state: list runs: %w", err)
	}
	defer rows.Close()
	var out []RunRecord
	for rows.Next() {
		rec, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("state: list runs: %w", err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: list runs: %w", err)
	}
	rows.Close()
	for i := range out {
		if out[i].ExitStatus == nil {
			if err := s.countRows(ctx, &out[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// countRows fills the counts of a run that did not finish (it is running,
// or it was killed) from the rows its journal holds.
func (s *Store) countRows(ctx context.Context, rec *RunRecord) error {
	rows, err := s.r.QueryContext(ctx, `SELECT status, count(*) FROM rows WHERE run_id = ? GROUP BY status`, rec.ID)
	if err != nil {
		return fmt.Errorf("state: count rows of run %d: %w", rec.ID, err)
	}
	defer rows.Close()
	rec.Counts, rec.Rows = map[string]int{}, 0
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return fmt.Errorf("state: count rows of run %d: %w", rec.ID, err)
		}
		rec.Counts[status] = n
		rec.Rows += n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("state: count rows of run %d: %w", rec.ID, err)
	}
	return nil
}

// Run returns the run with this id, or an error wrapping ErrNoRun.
func (s *Store) Run(ctx context.Context, id int64) (RunRecord, error) {
	rec, err := scanRun(s.r.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return RunRecord{}, fmt.Errorf("state: run %d: %w", id, ErrNoRun)
	}
	if err != nil {
		return RunRecord{}, fmt.Errorf("state: run %d: %w", id, err)
	}
	return rec, nil
}

// LastRun returns the most recent run of input into target; ok is false
// when there is none.
func (s *Store) LastRun(ctx context.Context, input, target string) (rec RunRecord, ok bool, err error) {
	rec, err = scanRun(s.r.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs
		WHERE input = ? AND target = ? ORDER BY id DESC LIMIT 1`, input, target))
	if errors.Is(err, sql.ErrNoRows) {
		return RunRecord{}, false, nil
	}
	if err != nil {
		return RunRecord{}, false, fmt.Errorf("state: last run of %s: %w", input, err)
	}
	return rec, true, nil
}

// Rows calls fn with each recorded row of run runID, in Seq order, as
// committed: Seq, Row, Identity, RequestID, ServiceRequestID, Status,
// ErrorClass, Error, Attempts, RunID and UpdatedAt are set. It stops at
// the first error fn returns and returns that error as is. An unknown run
// is an error wrapping ErrNoRun.
//
// The rows of a run still open, in this process or another, lag: they
// are in the run's log until the run ends (or, if its process dies, until
// the next Open), and Rows shows none of them before.
func (s *Store) Rows(ctx context.Context, runID int64, fn func(importer.RowEntry) error) error {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, runID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("state: rows of run %d: %w", runID, ErrNoRun)
	}
	if err != nil {
		return fmt.Errorf("state: rows of run %d: %w", runID, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, row, identity, request_id, status, service_request_id,
		error_class, error, attempts, updated FROM rows WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return fmt.Errorf("state: rows of run %d: %w", runID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e       importer.RowEntry
			status  string
			updated string
		)
		if err := rows.Scan(&e.Seq, &e.Row, &e.Identity, &e.RequestID, &status, &e.ServiceRequestID,
			&e.ErrorClass, &e.Error, &e.Attempts, &updated); err != nil {
			return fmt.Errorf("state: rows of run %d: %w", runID, err)
		}
		e.Status = reports.Status(status)
		e.RunID = runID
		if e.UpdatedAt, err = parseTime(updated); err != nil {
			return fmt.Errorf("state: rows of run %d: seq %d: %w", runID, e.Seq, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("state: rows of run %d: %w", runID, err)
	}
	return nil
}

// formatTime formats t for the database: UTC, fixed width.
func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// nullTime is formatTime, or NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

// parseTime parses a time formatTime wrote (or any RFC 3339 time a
// person wrote with the sqlite3 shell).
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// inDoubt returns target's items in StateSending or StateUnknown, oldest
// first: by SentAt, or UpdatedAt for an entry never sent.
func (s *Store) inDoubt(ctx context.Context, target string) ([]importer.Entry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT identity, request_id, state, service_request_id, match, run_id, row, sent_at, updated
		FROM items WHERE target = ? AND state IN ('sending', 'unknown') ORDER BY coalesce(sent_at, updated), identity`,
		target)
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
