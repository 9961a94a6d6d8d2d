package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
)

// abandon leaves r as a process killed with SIGKILL would: every write
// queued is in its log, which is not ingested and no longer locked. It
// returns the log's path.
func abandon(t *testing.T, r *Run) string {
	t.Helper()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	r.end.Lock()
	r.log.Close()
	r.log = nil
	r.end.Unlock()
	r.s.forget(r)
	return r.logPath
}

func testEntry(seq int) importer.RowEntry {
	id := fmt.Sprintf("id-%d", seq)
	return importer.RowEntry{
		Entry: importer.Entry{Identity: id, RequestID: "req-" + id, State: importer.StateSending, Row: seq + 2,
			SentAt: time.Unix(1700000000, int64(seq)).UTC()},
		Seq: seq, Status: reports.Unknown, Error: "in flight",
	}
}

func seqs(t *testing.T, s *Store, runID int64) []int {
	t.Helper()
	var out []int
	if err := s.Rows(context.Background(), runID, func(e importer.RowEntry) error {
		out = append(out, e.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// recordStarts returns the offsets at which the log's records start, the
// header's first, and the log's size.
func recordStarts(t *testing.T, path string) ([]int64, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr, err := newLogReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var starts []int64
	for {
		off := lr.off
		if _, _, err := lr.next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("reading the intact log: %v", err)
			}
			return starts, off
		}
		starts = append(starts, off)
	}
}

// TestTornTail writes a log of ten entries, leaves it as a killed process
// would, damages its end, and checks that Open ingests every entry before
// the damage and ignores the rest.
func TestTornTail(t *testing.T) {
	const n = 10
	for _, tc := range []struct {
		name   string
		damage func(path string, last, size int64) error
		want   int // entries ingested
	}{
		{"intact", func(string, int64, int64) error { return nil }, n},
		{"truncated in the prefix", func(path string, last, _ int64) error { return os.Truncate(path, last+5) }, n - 1},
		{"truncated in the payload", func(path string, last, size int64) error { return os.Truncate(path, size-3) }, n - 1},
		{"checksum mismatch", func(path string, last, size int64) error {
			return patch(path, size-2, func(b byte) byte { return b ^ 0x40 })
		}, n - 1},
		{"length past the end", func(path string, last, size int64) error {
			return patch(path, last+1, func(b byte) byte { return b + 1 })
		}, n - 1},
		{"zeros after the end", func(path string, _, size int64) error { return appendBytes(path, make([]byte, 4096)) }, n},
		{"garbage after the end", func(path string, _, size int64) error {
			return appendBytes(path, []byte("\x20\x00\x00\x00garbage that is no record at all"))
		}, n},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Begin(ctx, RunInfo{Input: "torn.csv", Target: "tgt"})
			if err != nil {
				t.Fatal(err)
			}
			for seq := range n {
				// Synced one by one: one record each.
				if err := r.Write(ctx, testEntry(seq), true); err != nil {
					t.Fatal(err)
				}
			}
			path := abandon(t, r)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			starts, size := recordStarts(t, path)
			if len(starts) != n+1 {
				t.Fatalf("%d records, want a header and %d entries", len(starts), n)
			}
			if err := tc.damage(path, starts[n], size); err != nil {
				t.Fatal(err)
			}

			s2, err := Open(dir)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s2.Close()
			got := seqs(t, s2, r.ID())
			if len(got) != tc.want {
				t.Fatalf("ingested rows %v, want seqs 0-%d", got, tc.want-1)
			}
			for i, seq := range got {
				if seq != i {
					t.Fatalf("ingested rows %v, want seqs 0-%d", got, tc.want-1)
				}
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the ingested log is still there: %v", err)
			}
			rec, err := s2.Run(ctx, r.ID())
			if err != nil || rec.ExitStatus != nil {
				t.Fatalf("Run = %+v, %v; want it unfinished", rec, err)
			}
			r2, err := s2.Begin(ctx, RunInfo{Input: "torn.csv", Target: "tgt"})
			if err != nil {
				t.Fatal(err)
			}
			defer r2.Close()
			doubt, err := r2.InDoubt(ctx)
			if err != nil || len(doubt) != tc.want {
				t.Fatalf("InDoubt = %d entries, %v; want %d", len(doubt), err, tc.want)
			}
			for i, e := range doubt {
				if want := testEntry(i); e.Identity != want.Identity || !e.SentAt.Equal(want.SentAt) || e.RunID != r.ID() {
					t.Fatalf("InDoubt[%d] = %+v, want %+v", i, e, want.Entry)
				}
			}
		})
	}
}

func patch(path string, off int64, fn func(byte) byte) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	b[off] = fn(b[off])
	return os.WriteFile(path, b, 0o600)
}

func appendBytes(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return errors.Join(err, f.Close())
}

// TestUnreadableLog: a log without a header (damaged, or not a log) is
// put aside, and Open goes on.
func TestUnreadableLog(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(dir, logDir, "7.log")
	if err := os.WriteFile(path, []byte("not a log"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.Close()
	if _, err := os.Stat(path + ".corrupt"); err != nil {
		t.Fatalf("the unreadable log was not put aside: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the unreadable log is still in the way: %v", err)
	}
}

// TestAppendFailureIsSticky makes the log's append fail and checks that
// the write, and every later call, get the error; and that what was
// durable before is ingested at Close.
func TestAppendFailureIsSticky(t *testing.T) {
	ctx := context.Background()
	var fail atomic.Bool
	opt := defaultOptions()
	opt.beforeAppend = func() error {
		if fail.Load() {
			return errors.New("injected failure")
		}
		return nil
	}
	s, err := open(t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Begin(ctx, RunInfo{Input: "x.csv", Target: "tgt"})
	if err != nil {
		t.Fatal(err)
	}
	for seq := range 3 {
		if err := r.Write(ctx, testEntry(seq), true); err != nil {
			t.Fatal(err)
		}
	}
	fail.Store(true)
	err = r.Write(ctx, testEntry(3), true)
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("Write of the failed append = %v", err)
	}
	if err2 := r.Write(ctx, testEntry(4), false); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("later Write = %v, want %v", err2, err)
	}
	if err2 := r.Flush(ctx); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("Flush = %v, want %v", err2, err)
	}
	if _, err2 := r.InDoubt(ctx); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("InDoubt = %v, want %v", err2, err)
	}
	if _, err2 := r.HasServiceRequest(ctx, "SR-1"); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("HasServiceRequest = %v, want %v", err2, err)
	}
	if err2 := r.Finish(ctx, 1, nil, 5, time.Time{}); err2 == nil || !strings.Contains(err2.Error(), "injected failure") {
		t.Fatalf("Finish = %v", err2)
	}
	if err2 := r.Close(); err2 == nil || !strings.Contains(err2.Error(), "injected failure") {
		t.Fatalf("Close = %v", err2)
	}
	if got := seqs(t, s, r.ID()); fmt.Sprint(got) != "[0 1 2]" {
		t.Fatalf("ingested rows %v, want seqs 0-2", got)
	}
	if rec, err := s.Run(ctx, r.ID()); err != nil || rec.ExitStatus == nil || *rec.ExitStatus != 1 {
		t.Fatalf("Run = %+v, %v; want it finished with 1", rec, err)
	}
}

// TestCollapseAcrossChunks ingests a log in chunks of three entries, so
// that a row's or an identity's writes fall in different chunks: the
// last write still wins, and SentAt stays.
func TestCollapseAcrossChunks(t *testing.T) {
	ctx := context.Background()
	opt := defaultOptions()
	opt.ingestChunk = 3
	s, err := open(t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Begin(ctx, RunInfo{Input: "x.csv", Target: "tgt"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	for seq := range n {
		if _, err := r.Queue(ctx, testEntry(seq)); err != nil {
			t.Fatal(err)
		}
	}
	for seq := range n {
		e := testEntry(seq)
		e.State, e.Status, e.ServiceRequestID, e.SentAt, e.Error = importer.StateCreated, reports.Created, fmt.Sprint("SR-", seq), time.Time{}, ""
		if _, err := r.Queue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var rows []importer.RowEntry
	if err := s.Rows(ctx, r.ID(), func(e importer.RowEntry) error { rows = append(rows, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	r2, err := s.Begin(ctx, RunInfo{Input: "x.csv", Target: "tgt"})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	for seq, e := range rows {
		if e.Seq != seq || e.Status != reports.Created || e.ServiceRequestID != fmt.Sprint("SR-", seq) || e.Error != "" {
			t.Fatalf("row %d = %+v", seq, e)
		}
		want := testEntry(seq)
		got, ok, err := r2.Lookup(ctx, want.Identity)
		if err != nil || !ok || got.State != importer.StateCreated || !got.SentAt.Equal(want.SentAt) {
			t.Fatalf("Lookup(%s) = %+v, %v, %v", want.Identity, got, ok, err)
		}
	}
}
