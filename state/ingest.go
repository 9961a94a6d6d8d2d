package state

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/srimport/srimport/importer"
)

// ingestChunk is how many log entries ingest collapses at a time: it
// bounds the memory ingesting a long run's log takes. An identity or
// row written in two chunks is upserted twice, which is correct, only
// slower.
const ingestChunk = 1 << 12

// ingestBatch is how many rows, or items, one statement of ingest
// upserts: one statement per row would cost more in the driver than in
// SQLite.
const ingestBatch = 64

// runEnd is what Finish records about a run's end.
type runEnd struct {
	finished   time.Time
	exitStatus int
	counts     string // JSON
	rows       int
}

// readLog checks the log f of run runID from its start, whatever f's
// offset, and returns a reader of its entries and its header.
func readLog(f *os.File, runID int64) (*logReader, logHeader, error) {
	lr, err := newLogReader(f)
	if err != nil {
		return nil, logHeader{}, err
	}
	h, err := lr.header()
	if err != nil {
		return nil, logHeader{}, err
	}
	if h.runID != runID {
		return nil, logHeader{}, &badLogError{fmt.Sprintf("the log is run %d's, not run %d's", h.runID, runID)}
	}
	return lr, h, nil
}

// ingest applies the log of run h.runID that lr reads (past its header)
// to the database in one transaction: the last write of each row (Seq >=
// 0) to rows, the last write of each identity to items, and, when end is
// not nil, the run's end to runs. A torn record ends the log (it was
// never acknowledged); an entry that does not decode although its
// checksum matches is an error.
func (s *Store) ingest(ctx context.Context, lr *logReader, h logHeader, end *runEnd) (err error) {
	runID := h.runID
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// The run's record, should the database have lost it (replaced by a
	// backup, say): the log may be all that is left of the run.
	if _, err := tx.ExecContext(ctx, `INSERT INTO runs (id, input, input_hash, mapping_hash, target, started, counts, pid, rows)
		VALUES (?, ?, ?, ?, ?, ?, '{}', ?, 0) ON CONFLICT (id) DO NOTHING`,
		runID, h.info.Input, h.info.InputHash, h.info.MappingHash, h.info.Target, formatTime(h.info.Started), h.info.PID); err != nil {
		return fmt.Errorf("record run %d: %w", runID, err)
	}
	var rowStmt, itemStmt [2]*sql.Stmt
	for i := range 2 {
		rowStmt[i] = tx.StmtContext(ctx, s.upsertRow[i])
		defer rowStmt[i].Close()
		itemStmt[i] = tx.StmtContext(ctx, s.upsertItem[i])
		defer itemStmt[i].Close()
	}
	c := newCollapser()
	chunk := s.opt.ingestChunk
	if chunk <= 0 {
		chunk = ingestChunk
	}
	apply := func() error {
		return c.apply(ctx, rowStmt, itemStmt, runID, h.info.Target)
	}
	for {
		off := lr.off
		kind, p, err := lr.next()
		if errors.Is(err, io.EOF) || isTorn(err) {
			break
		}
		if err != nil {
			return err
		}
		if kind != recEntry {
			return fmt.Errorf("record of unknown kind %q at offset %d", kind, off)
		}
		e, err := decodeEntry(p)
		if err != nil {
			return fmt.Errorf("at offset %d: %w", off, err)
		}
		if c.add(&e) >= chunk {
			if err := apply(); err != nil {
				return err
			}
		}
	}
	if err := apply(); err != nil {
		return err
	}
	if end != nil {
		if err := recordEnd(ctx, tx, runID, end); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.ingests.Add(1)
	return nil
}

// execer is a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// recordEnd records run id's end.
func recordEnd(ctx context.Context, db execer, id int64, end *runEnd) error {
	_, err := db.ExecContext(ctx, `UPDATE runs SET finished = ?, exit_status = ?, counts = ?, rows = ? WHERE id = ?`,
		formatTime(end.finished), end.exitStatus, end.counts, end.rows, id)
	if err != nil {
		return fmt.Errorf("record the end of run %d: %w", id, err)
	}
	return nil
}

// collapser keeps the last write of each row and of each identity among
// the entries added since the last apply.
type collapser struct {
	rows    []importer.RowEntry
	rowAt   map[int]int // seq → index in rows
	items   []importer.Entry
	itemAt  map[string]int // identity → index in items
	entries int            // added since the last apply
	args    []any          // apply's, kept for the next
}

func newCollapser() *collapser {
	return &collapser{rowAt: make(map[int]int), itemAt: make(map[string]int)}
}

// add adds e, in log order, and returns the number of entries added
// since the last apply.
func (c *collapser) add(e *importer.RowEntry) int {
	c.entries++
	if e.Seq >= 0 {
		if i, ok := c.rowAt[e.Seq]; ok {
			c.rows[i] = *e
		} else {
			c.rowAt[e.Seq] = len(c.rows)
			c.rows = append(c.rows, *e)
		}
	}
	if e.Identity != "" && e.State != "" {
		if i, ok := c.itemAt[e.Identity]; ok {
			sent := c.items[i].SentAt
			c.items[i] = e.Entry
			if c.items[i].SentAt.IsZero() {
				c.items[i].SentAt = sent
			}
		} else {
			c.itemAt[e.Identity] = len(c.items)
			c.items = append(c.items, e.Entry)
		}
	}
	return c.entries
}

// apply upserts the collapsed rows, in Seq order, and items, in identity
// order (which keeps the index pages each touches together), ingestBatch
// at a time with stmts[1] and the rest one by one with stmts[0], and
// empties c.
func (c *collapser) apply(ctx context.Context, rowStmts, itemStmts [2]*sql.Stmt, runID int64, target string) error {
	slices.SortFunc(c.rows, func(a, b importer.RowEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	args := c.args[:0]
	for len(c.rows) > 0 {
		n := min(len(c.rows), ingestBatch)
		stmt := rowStmts[1]
		if n < ingestBatch {
			n, stmt = 1, rowStmts[0]
		}
		args = args[:0]
		for i := range n {
			e := &c.rows[i]
			args = append(args, runID, e.Seq, e.Row, e.Identity, e.RequestID, string(e.Status),
				e.ServiceRequestID, e.ErrorClass, e.Error, e.Attempts, formatTime(e.UpdatedAt))
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("rows from seq %d: %w", c.rows[0].Seq, err)
		}
		clear(c.rows[:n])
		c.rows = c.rows[n:]
	}
	slices.SortFunc(c.items, func(a, b importer.Entry) int { return strings.Compare(a.Identity, b.Identity) })
	for len(c.items) > 0 {
		n := min(len(c.items), ingestBatch)
		stmt := itemStmts[1]
		if n < ingestBatch {
			n, stmt = 1, itemStmts[0]
		}
		args = args[:0]
		for i := range n {
			e := &c.items[i]
			args = append(args, target, e.Identity, e.RequestID, string(e.State),
				e.ServiceRequestID, e.Match, runID, e.Row, nullTime(e.SentAt), formatTime(e.UpdatedAt))
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("items from %s: %w", c.items[0].Identity, err)
		}
		clear(c.items[:n])
		c.items = c.items[n:]
	}
	clear(args)
	c.args = args[:0]
	c.rows = c.rows[:0:0]
	c.items = c.items[:0:0]
	clear(c.rowAt)
	clear(c.itemAt)
	c.entries = 0
	return nil
}

// recover ingests the logs of runs whose process is gone (killed, or
// crashed, before its run's Close): those no process holds a lock on. It
// leaves a log it cannot read as <name>.corrupt, and removes the
// temporary files of logs whose creation was cut short.
func (s *Store) recover(ctx context.Context) error {
	des, err := os.ReadDir(s.journal)
	if err != nil {
		return fmt.Errorf("state: read %s: %w", s.journal, err)
	}
	type leftover struct {
		id   int64
		path string
	}
	var logs []leftover
	for _, de := range des {
		name := de.Name()
		if id, ok := parseLogName(name); ok {
			logs = append(logs, leftover{id, filepath.Join(s.journal, name)})
			continue
		}
		if strings.HasPrefix(name, logTmpPrefix) {
			removeStaleTmp(filepath.Join(s.journal, name))
		}
	}
	// In run order, so that a later run's items win.
	slices.SortFunc(logs, func(a, b leftover) int { return cmp.Compare(a.id, b.id) })
	for _, l := range logs {
		if err := s.recoverLog(ctx, l.id, l.path); err != nil {
			return fmt.Errorf("state: ingest %s: %w", l.path, err)
		}
	}
	return nil
}

// recoverLog ingests the log of run id at path and removes it, unless a
// live process holds it.
func (s *Store) recoverLog(ctx context.Context, id int64, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // ingested by another process meanwhile
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := flock(f, true); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil // its run is being written
		}
		return fmt.Errorf("lock: %w", err)
	}
	// Another process may have ingested and removed it between the open
	// and the lock.
	if gone, err := unlinked(f); err != nil || gone {
		return err
	}
	lr, h, err := readLog(f, id)
	var bad *badLogError
	if isTorn(err) || errors.As(err, &bad) {
		// Unreadable from the start (no header, or not a log; the header
		// is durable before a log gets its name, so only damage does
		// this): keep it aside for a person, out of the next Open's way.
		if rerr := os.Rename(path, path+".corrupt"); rerr != nil {
			return errors.Join(err, rerr)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.ingest(ctx, lr, h, nil); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// removeStaleTmp removes the temporary file of a log whose creation was
// cut short, if it is older than staleTmp and no process holds it.
func removeStaleTmp(path string) {
	fi, err := os.Lstat(path)
	if err != nil || time.Since(fi.ModTime()) < staleTmp {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if flock(f, true) == nil {
		os.Remove(path)
	}
}
