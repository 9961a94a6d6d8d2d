package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/srimport/srimport/mapping"
)

// runCLI runs srimport in-process and returns its exit status and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, stdio{in: strings.NewReader(""), out: &out, err: &errb}, func(string) string { return "" })
	return code, out.String(), errb.String()
}

func TestTemplateXLSX(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tickets.xlsx")
	if code, _, stderr := runCLI(t, "template", "-o", path); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cat := mapping.Catalogue()

	if got := f.GetSheetList(); !slices.Equal(got, []string{"Tickets", "Columns"}) {
		t.Fatalf("sheets %q, want Tickets, Columns", got)
	}
	rows, err := f.GetRows("Tickets")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !slices.Equal(rows[0], mapping.Columns()) {
		t.Fatalf("Tickets rows %q, want only the header %q", rows, mapping.Columns())
	}

	// The header is bold and filled, and stays in view.
	for i := range cat {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		id, err := f.GetCellStyle("Tickets", cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Font == nil || !st.Font.Bold || st.Fill.Pattern != 1 || len(st.Fill.Color) == 0 {
			t.Errorf("%s header style: font %+v, fill %+v; want bold and filled", cell, st.Font, st.Fill)
		}
	}
	panes, err := f.GetPanes("Tickets")
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v, want the top row frozen", panes)
	}

	// A drop-down of the three severities on the Severity column.
	sev := slices.IndexFunc(cat, func(c mapping.Column) bool { return c.Field == "severity" })
	col, _ := excelize.ColumnNumberToName(sev + 1)
	dvs, err := f.GetDataValidations("Tickets")
	if err != nil {
		t.Fatal(err)
	}
	if len(dvs) != 1 {
		t.Fatalf("%d data validations, want 1", len(dvs))
	}
	dv := dvs[0]
	if dv.Sqref != col+"2:"+col+"10000" || dv.Type != "list" || dv.Formula1 != `"critical,moderate,minimal"` {
		t.Errorf("data validation on %s, type %s, list %s; want %s2:%s10000, list, \"critical,moderate,minimal\"", dv.Sqref, dv.Type, dv.Formula1, col, col)
	}

	// The Columns sheet explains every field.
	rows, err = f.GetRows("Columns")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Column", "Field", "Required", "Description", "Example"}; len(rows) == 0 || !slices.Equal(rows[0], want) {
		t.Fatalf("Columns header %q, want %q", rows, want)
	}
	if len(rows) != len(cat)+1 {
		t.Fatalf("Columns has %d rows, want %d", len(rows)-1, len(cat))
	}
	for i, c := range cat {
		req := map[bool]string{true: "yes", false: "no"}[c.Required]
		if want := []string{c.Header, c.Field, req, c.Description, c.Example}; !slices.Equal(rows[i+1], want) {
			t.Errorf("Columns row %d = %q, want %q", i+2, rows[i+1], want)
		}
	}
	fields := map[string]bool{}
	for _, r := range rows[1:] {
		fields[r[1]] = true
	}
	for _, want := range []string{"title", "description", "severity", "supportTopicId", "supportTopicName", "productName", "productId",
		"countryCode", "locale", "primaryContact.firstName", "primaryContact.lastName", "primaryContact.email", "primaryContact.phoneNumber", "notes"} {
		if !fields[want] {
			t.Errorf("Columns does not explain %s", want)
		}
	}
}

func TestTemplateCSV(t *testing.T) {
	code, stdout, stderr := runCLI(t, "template")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || !slices.Equal(recs[0], mapping.Columns()) {
		t.Fatalf("stdout %q, want the header only", stdout)
	}
	if _, err := mapping.Auto(recs[0], mapping.Options{}); err != nil {
		t.Fatalf("Auto does not map the template's header: %v", err)
	}
}

func TestTemplateRefusals(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(existing, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"existing file", []string{"template", "-o", existing}, exitFatal, "t.csv: file already exists; use --force to overwrite it"},
		{"unknown extension", []string{"template", "-o", filepath.Join(dir, "t.ods")}, exitUsage, `cannot write ".ods" files; name it .csv or .xlsx`},
		{"no extension", []string{"template", "-o", filepath.Join(dir, "t")}, exitUsage, `cannot write "" files`},
		{"arguments", []string{"template", "t.csv"}, exitUsage, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d containing %q", code, stderr, tt.code, tt.stderr)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "mine\n" {
		t.Fatalf("the existing file was changed: %q", b)
	}
	for _, name := range []string{"t.ods", "t"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was created: %v", name, err)
		}
	}
	if code, _, stderr := runCLI(t, "template", "--force", "-o", existing); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(existing); !strings.HasPrefix(string(b), "Title,Description,Severity,") {
		t.Fatalf("--force did not overwrite: %q", b)
	}
}

// TestTemplateFilledReadsQuietly fills the XLSX template in and validates
// it: its Columns sheet is known, so reading it is worth no remark; a
// sheet of the user's own still is.
func TestTemplateFilledReadsQuietly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tickets.xlsx")
	if code, _, stderr := runCLI(t, "template", "-o", path); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]string{"Title": "Printer on fire", "Description": "Third floor", "Severity": "critical", "SupportTopicId": "32451178"}
	for i, h := range mapping.Columns() {
		cell, _ := excelize.CoordinatesToCellName(i+1, 2)
		if err := f.SetCellStr("Tickets", cell, row[h]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "validate", path)
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "validated 1 rows: 1 valid") {
		t.Fatalf("validate: exit %d, stdout %q, stderr %q; want 0, 1 valid, nothing on stderr", code, stdout, stderr)
	}

	if _, err := f.NewSheet("Lookup"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, _, stderr = runCLI(t, "validate", path)
	if code != 0 || !strings.Contains(stderr, `other sheets: "Columns", "Lookup"`) {
		t.Fatalf("validate with a sheet of the user's: exit %d, stderr %q; want 0 and a remark naming the other sheets", code, stderr)
	}
}
