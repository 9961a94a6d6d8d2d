package state_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/progress"
	"github.com/srimport/srimport/reports"
	"github.com/srimport/srimport/state"
)

func TestDetailRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	r := begin(t, s, "tgt")
	if err := r.Finish(ctx, 3, map[string]int{"created": 2, "invalid": 1}, 3, t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Detail(ctx, r.ID()); err != nil || ok {
		t.Fatalf("Detail before SaveDetail: ok %v, err %v; want none", ok, err)
	}
	want := state.RunDetail{
		Series: []progress.Point{
			{At: 0, Seconds: 1, Done: 2, Created: 2, Requests: 3, Throttled: 1, P50: 12.5, P95: 40, P99: 40, Rate: 20},
			{At: 1, Seconds: 0.25, Done: 1, Invalid: 1},
		},
		Errors: []progress.ErrorGroup{{Class: "validation", Message: `column "Title" (title): required, but empty`,
			Example: `row 3, column "Title" (title): required, but empty`, Count: 1, Rows: []int{3}}},
		Totals: &progress.Snapshot{Sent: 2, Attempts: 3, Retries: 1, Requests: 4, Throttled: 1,
			Latency:   progress.LatencySummary{Count: 4, P50: 12.5, P95: 40, P99: 40, Mean: 20},
			RateLimit: &progress.RateRange{Min: 10, Max: 20, Final: 20, Samples: 2}},
	}
	if err := s.SaveDetail(ctx, r.ID(), want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Detail(ctx, r.ID())
	if err != nil || !ok {
		t.Fatalf("Detail: ok %v, err %v", ok, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Detail = %+v\nwant %+v", got, want)
	}

	// Saved again, it replaces; a detail with nothing reads back empty.
	if err := s.SaveDetail(ctx, r.ID(), state.RunDetail{}); err != nil {
		t.Fatal(err)
	}
	got, ok, err = s.Detail(ctx, r.ID())
	if err != nil || !ok || len(got.Series) != 0 || len(got.Errors) != 0 || got.Totals != nil {
		t.Errorf("Detail after an empty save = %+v, %v, %v", got, ok, err)
	}

	if err := s.SaveDetail(ctx, 99, want); !errors.Is(err, state.ErrNoRun) {
		t.Errorf("SaveDetail of run 99: %v, want ErrNoRun", err)
	}
	if _, _, err := s.Detail(ctx, 99); !errors.Is(err, state.ErrNoRun) {
		t.Errorf("Detail of run 99: %v, want ErrNoRun", err)
	}
}

// schemaV1 is version 1 of the database, as srimport made it before run
// details were kept.
const schemaV1 = `
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
PRAGMA user_version = 1;
`

// sqliteDB opens dir's database with the driver directly, as the sqlite3
// shell would.
func sqliteDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	uri := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, state.DBName))}).String()
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestUpgradeFromVersion1: a database of version 1, with a finished run,
// its rows and items, is upgraded by Open; what it held reads as before,
// and its runs can be given a detail.
func TestUpgradeFromVersion1(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := sqliteDB(t, dir)
	for _, q := range []string{
		schemaV1,
		`INSERT INTO runs (id, input, input_hash, mapping_hash, target, started, finished, exit_status, counts, pid, rows)
			VALUES (1, '/in.csv', 'ih', '', 'tgt', '2025-03-04T05:06:07.000000800Z', '2025-03-04T05:07:07.000000000Z', 3,
			'{"created":1,"invalid":1}', 4242, 2)`,
		`INSERT INTO rows VALUES (1, 0, 2, 'id-a', 'req-a', 'created', 'SR-1', '', '', 1, '2025-03-04T05:06:08.000000000Z')`,
		`INSERT INTO rows VALUES (1, 1, 3, 'id-b', 'req-b', 'invalid', '', 'validation', 'row 3, column "Title" (title): required, but empty', 0, '2025-03-04T05:06:08.000000000Z')`,
		`INSERT INTO items VALUES ('tgt', 'id-a', 'req-a', 'created', 'SR-1', 'm', 1, 2, NULL, '2025-03-04T05:06:08.000000000Z')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("making a version 1 database: %v", err)
		}
	}
	db.Close()

	s := openStore(t, dir)
	var v int
	if err := sqliteDB(t, dir).QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != 2 {
		t.Fatalf("schema version %d (%v) after Open, want 2", v, err)
	}
	runs, err := s.Runs(ctx, 0)
	if err != nil || len(runs) != 1 || *runs[0].ExitStatus != 3 || runs[0].Counts["invalid"] != 1 || runs[0].Input != "/in.csv" {
		t.Fatalf("runs after the upgrade: %+v, %v", runs, err)
	}
	rows := collectRows(t, s, 1)
	if len(rows) != 2 || rows[1].Status != reports.Invalid || !strings.Contains(rows[1].Error, "required") {
		t.Fatalf("rows after the upgrade: %+v", rows)
	}
	r := begin(t, s, "tgt")
	if e, ok := lookup(t, r, "id-a"); !ok || e.State != importer.StateCreated || e.ServiceRequestID != "SR-1" {
		t.Fatalf("item after the upgrade: %+v, %v", e, ok)
	}
	if _, ok, err := s.Detail(ctx, 1); err != nil || ok {
		t.Fatalf("Detail of a run from version 1: ok %v, err %v; want none", ok, err)
	}
	if err := s.SaveDetail(ctx, 1, state.RunDetail{Series: []progress.Point{{Seconds: 1, Done: 2}}}); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := s.Detail(ctx, 1); err != nil || !ok || len(d.Series) != 1 || d.Series[0].Done != 2 {
		t.Fatalf("Detail after SaveDetail: %+v, %v, %v", d, ok, err)
	}

	// Opening it again changes nothing.
	s2 := openStore(t, dir)
	if d, ok, err := s2.Detail(ctx, 1); err != nil || !ok || len(d.Series) != 1 {
		t.Fatalf("Detail after reopening: %+v, %v, %v", d, ok, err)
	}
}

// TestNewerSchemaRefused: a database a newer srimport made is not
// touched.
func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	db := sqliteDB(t, dir)
	if _, err := db.Exec("PRAGMA user_version = 3"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := state.Open(dir)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a database of schema version 3")
	}
	if !strings.Contains(err.Error(), "newer than this srimport's 2") {
		t.Errorf("error %q does not say the schema is newer", err)
	}
}
