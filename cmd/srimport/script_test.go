package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/srimport/srimport/emulator"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		// Re-executed by a test as the srimport command (see child).
		os.Exit(run(os.Args[1:], newStdio(), os.Getenv))
	}
	testscript.Main(m, map[string]func(){
		"srimport": func() { os.Exit(run(os.Args[1:], newStdio(), os.Getenv)) },
	})
}

type emulatorKey struct{}

// TestScripts runs the end-to-end scripts in testdata/script. Each script
// gets its own emulator, reachable through $SRIMPORT_BASE_URL with the
// token $SRIMPORT_TOKEN, and a copy of samples/ in $WORK/samples.
// UPDATE_SCRIPTS=1 rewrites the expected files from the actual output.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			em := emulator.New(emulator.Config{Token: "script-token"})
			srv := httptest.NewServer(em)
			env.Defer(srv.Close)
			env.Values[emulatorKey{}] = em
			env.Setenv("SRIMPORT_BASE_URL", srv.URL)
			env.Setenv("SRIMPORT_TOKEN", "script-token")
			env.Setenv("SRIMPORT_STATE_DIR", filepath.Join(env.WorkDir, ".state"))
			return copyDir(filepath.Join("..", "..", "samples"), filepath.Join(env.WorkDir, "samples"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":        cmdExits,
			"emulator-has": cmdEmulatorHas,
			"csv2xlsx":     cmdCSV2XLSX,
			"recode":       cmdRecode,
			"cmpreport":    cmdCmpReport,
			"sameids":      cmdSameIDs, "jsonhas": cmdJSONHas, "emulator": cmdEmulator, // scriptcmds_test.go
		},
	})
}

// cmdExits runs a program and checks its exit status:
//
//	exits CODE PROGRAM [ARGS...]
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// cmdEmulatorHas checks a report against the script's emulator: every
// created row's id is a request the emulator created with that row's
// MS-RequestId, and the emulator created nothing else.
//
//	emulator-has REPORT
func cmdEmulatorHas(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: emulator-has REPORT")
	}
	em := ts.Value(emulatorKey{}).(*emulator.Emulator)
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	ts.Check(err)
	reqIDs := em.RequestIDs()
	created := 0
	for _, r := range recs[1:] {
		if r[1] != "created" {
			continue
		}
		created++
		if got, ok := reqIDs[r[2]]; !ok || got != r[6] {
			ts.Fatalf("row %s: id %q with MS-RequestId %s is not on the emulator (it has %q)", r[0], r[2], r[6], got)
		}
	}
	if n := len(em.ServiceRequests()); n != created {
		ts.Fatalf("emulator holds %d service requests, report has %d created rows", n, created)
	}
	fmt.Fprintf(ts.Stdout(), "emulator confirms %d created rows\n", created)
}

// cmdCmpReport compares a report with the expected one, cell by cell. A
// request_id cell of "*" in WANT stands for any UUID: MS-RequestIds are
// random.
//
//	cmpreport GOT WANT
func cmdCmpReport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cmpreport GOT WANT")
	}
	read := func(name string) [][]string {
		b, err := os.ReadFile(ts.MkAbs(name))
		ts.Check(err)
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		ts.Check(err)
		return recs
	}
	got, want := read(args[0]), read(args[1])
	if len(got) != len(want) {
		ts.Fatalf("%s has %d lines, %s %d", args[0], len(got), args[1], len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			ts.Fatalf("line %d: %d cells, want %d:\n%q\n%q", i+1, len(got[i]), len(want[i]), got[i], want[i])
		}
		for j := range want[i] {
			if i > 0 && j == 6 && want[i][j] == "*" {
				if _, err := uuid.Parse(got[i][j]); err != nil {
					ts.Fatalf("line %d: request_id %q is not a UUID", i+1, got[i][j])
				}
				continue
			}
			if got[i][j] != want[i][j] {
				ts.Fatalf("line %d, column %d: %q, want %q\n%q\n%q", i+1, j+1, got[i][j], want[i][j], got[i], want[i])
			}
		}
	}
}

// cmdCSV2XLSX writes a CSV file's records as the first visible sheet,
// "Tickets", of a new workbook, as Excel would store typed-in text:
//
//	csv2xlsx [-hidden SHEET] [-password P] IN.csv OUT.xlsx
//
// -hidden puts a hidden sheet before it; -password encrypts the workbook.
func cmdCSV2XLSX(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("csv2xlsx", flag.ContinueOnError)
	hidden := fs.String("hidden", "", "")
	password := fs.String("password", "", "")
	if neg || fs.Parse(args) != nil || fs.NArg() != 2 {
		ts.Fatalf("usage: csv2xlsx [-hidden SHEET] [-password P] IN.csv OUT.xlsx")
	}
	in, err := os.Open(ts.MkAbs(fs.Arg(0)))
	ts.Check(err)
	defer in.Close()
	recs, err := csv.NewReader(in).ReadAll()
	ts.Check(err)

	f := excelize.NewFile()
	defer f.Close()
	ts.Check(f.SetSheetName("Sheet1", "Tickets"))
	if *hidden != "" {
		_, err := f.NewSheet(*hidden)
		ts.Check(err)
		ts.Check(f.MoveSheet(*hidden, "Tickets"))
		ts.Check(f.SetCellStr(*hidden, "A1", "not the data"))
		ts.Check(f.SetSheetVisible(*hidden, false))
		f.SetActiveSheet(1)
	}
	for i, rec := range recs {
		for j, v := range rec {
			cell, err := excelize.CoordinatesToCellName(j+1, i+1)
			ts.Check(err)
			ts.Check(f.SetCellStr("Tickets", cell, v))
		}
	}
	ts.Check(f.SaveAs(ts.MkAbs(fs.Arg(1)), excelize.Options{Password: *password}))
}

// cmdRecode rewrites a UTF-8 file in another encoding, as a legacy export
// would have written it:
//
//	recode ENCODING IN OUT
func cmdRecode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: recode ENCODING IN OUT")
	}
	enc, err := htmlindex.Get(args[0])
	ts.Check(err)
	b, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	out, err := enc.NewEncoder().Bytes(b)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), out, 0o644))
}

func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
