package main

import (
	"encoding/csv"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"

	"github.com/srimport/srimport/emulator"
)

// TestReportScripts runs the end-to-end scripts of the report formats in
// testdata/reportscript, as TestScripts runs those in testdata/script
// (an emulator of their own behind $SRIMPORT_BASE_URL, a state directory
// in $WORK), with two more commands to read and change a workbook as a
// person would in a spreadsheet: xlsx2csv and xlsxset.
func TestReportScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/reportscript",
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			em := emulator.New(emulator.Config{Token: "script-token"})
			srv := httptest.NewServer(em)
			env.Defer(srv.Close)
			env.Values[emulatorKey{}] = em
			env.Setenv("SRIMPORT_BASE_URL", srv.URL)
			env.Setenv("SRIMPORT_TOKEN", "script-token")
			env.Setenv("SRIMPORT_STATE_DIR", filepath.Join(env.WorkDir, ".state"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":     cmdExits,
			"cmpreport": cmdCmpReport,
			"sameids":   cmdSameIDs,
			"emulator":  cmdEmulator,
			"xlsx2csv":  cmdXLSX2CSV,
			"xlsxset":   cmdXLSXSet,
		},
	})
}

// cmdXLSX2CSV writes a sheet of a workbook as CSV, each cell as the text
// Excel shows, every line as wide as the widest:
//
//	xlsx2csv [-sheet NAME] IN.xlsx OUT.csv
//
// The sheet is the first one unless -sheet names another.
func cmdXLSX2CSV(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("xlsx2csv", flag.ContinueOnError)
	sheet := fs.String("sheet", "", "")
	if neg || fs.Parse(args) != nil || fs.NArg() != 2 {
		ts.Fatalf("usage: xlsx2csv [-sheet NAME] IN.xlsx OUT.csv")
	}
	f, err := excelize.OpenFile(ts.MkAbs(fs.Arg(0)))
	ts.Check(err)
	defer f.Close()
	if *sheet == "" {
		*sheet = f.GetSheetName(0)
	}
	rows, err := f.GetRows(*sheet)
	ts.Check(err)
	width := 0
	for _, r := range rows {
		width = max(width, len(r))
	}
	out, err := os.Create(ts.MkAbs(fs.Arg(1)))
	ts.Check(err)
	w := csv.NewWriter(out)
	for _, r := range rows {
		for len(r) < width {
			r = append(r, "")
		}
		ts.Check(w.Write(r))
	}
	w.Flush()
	ts.Check(w.Error())
	ts.Check(out.Close())
}

// cmdXLSXSet types text into cells of a workbook and saves it in place, as
// a person fixing rows in a spreadsheet would:
//
//	xlsxset FILE.xlsx SHEET CELL TEXT [CELL TEXT...]
func cmdXLSXSet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 || len(args)%2 != 0 {
		ts.Fatalf("usage: xlsxset FILE.xlsx SHEET CELL TEXT [CELL TEXT...]")
	}
	path := ts.MkAbs(args[0])
	f, err := excelize.OpenFile(path)
	ts.Check(err)
	defer f.Close()
	for i := 2; i < len(args); i += 2 {
		ts.Check(f.SetCellStr(args[1], args[i], args[i+1]))
	}
	ts.Check(f.SaveAs(path))
}
