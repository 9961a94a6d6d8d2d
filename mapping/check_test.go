package mapping

import (
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/srimport/srimport/wire"
)

// The importer validates through Check when the Mapper has it.
var _ interface {
	Check(values []string, row int) error
} = (*Mapper)(nil)

// mapChecked is m.Map(values, row), after checking that m.Check agrees on
// the same row: nil exactly when Map succeeds, else an error with Map's
// text. The tests map through it, so that every table of this package
// holds Check to Map.
func mapChecked(t testing.TB, m *Mapper, values []string, row int) (*Request, error) {
	t.Helper()
	req, err := m.Map(values, row)
	cerr := m.Check(values, row)
	switch {
	case err == nil && cerr != nil:
		t.Errorf("row %d %q: Map succeeds, Check fails: %v", row, values, cerr)
	case err != nil && cerr == nil:
		t.Errorf("row %d %q: Map fails, Check succeeds; Map: %v", row, values, err)
	case err != nil && err.Error() != cerr.Error():
		t.Errorf("row %d %q: Check's error\n%v\ndiffers from Map's\n%v", row, values, cerr, err)
	}
	return req, err
}

// samplesHeader is the header of samples/helpdesk.xlsx, which
// samples/mapping.yaml maps.
var samplesHeader = []string{"Ticket ID", "Subject", "Body", "Priority", "Product", "Country",
	"Requester First Name", "Requester Last Name", "Requester Email", "Requester Phone", "Language", "Internal Comment", "Created"}

// checkMappers are mappings of every kind: by name with and without
// topics, the cli.md example (a joined template, a value map with a
// default, notes, provenance), samples/mapping.yaml (large value maps, a
// key), and one that resolves topic names.
func checkMappers(t *testing.T) map[string]struct {
	m      *Mapper
	header []string
} {
	t.Helper()
	out := map[string]struct {
		m      *Mapper
		header []string
	}{}
	add := func(name string, m *Mapper, header []string) {
		out[name] = struct {
			m      *Mapper
			header []string
		}{m, header}
	}
	add("auto", mustAuto(t, fullHeader, Options{}), fullHeader)
	add("auto with topics", mustAuto(t, fullHeader, Options{Topics: topics}), fullHeader)
	add("cli example", mustCompile(t, cliExample, specHeader, Options{File: "tickets.csv"}), specHeader)
	yaml, err := os.ReadFile("../samples/mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	add("samples", mustCompile(t, string(yaml), samplesHeader, Options{File: "helpdesk.xlsx"}), samplesHeader)
	byName := []string{"Title", "Description", "Severity", "SupportTopicId", "SupportTopicName", "Locale", "Note 1", "Note 2"}
	add("topic names", mustAuto(t, byName, Options{Topics: topics, Locale: "de-DE"}), byName)
	return out
}

// checkValues are cell values that exercise every rule: valid and invalid
// severities, ids, topic names, locales, countries, emails, value-map keys
// in other cases, blanks, and texts over the length limits.
var checkValues = []string{
	"", " ", "  \t", "x", "Reserved instance not applied", "critical", "MODERATE", " minimal ", "3", "0", "4", "urgent",
	"P1", "p1", "sev a", "High", "LOW", "32451178", "32444671", "0032", "5", "-5", strings.Repeat("1", 19), strings.Repeat("1", 20),
	"Billing and reservations", " billing AND reservations ", "Licensing", "Biling", "Partner Center account",
	"en-US", "nl-NL", "es-419", "zh-Hans", "sr-Latn-RS", "English", "en_US", "en-",
	"gb", "NL", "GBR", "12", "Germany", "deutschland", "Nederland",
	"a@b.example", "noor@fabrikam.example", "a@b, c@d", "@b", "ops-at-contoso",
	"Überprüfung", "設定", "ſ", "K", "{{x}}", "T-17",
	strings.Repeat("é", 255), strings.Repeat("é", 256), strings.Repeat("x", 32000), strings.Repeat("x", 32001),
	" " + strings.Repeat("x", 255), strings.Repeat("x", 255) + " ", " " + strings.Repeat("é", 128), "\u00a0x", "x\u00a0",
	"\u00a0", " \t\n", "\n" + strings.Repeat("x", 32000), strings.Repeat("x", 32000) + "\n",
}

// TestCheckAgreesWithMap holds Check to Map on random rows of every
// mapping kind: mostly valid cells, with one to three replaced by values
// from checkValues.
func TestCheckAgreesWithMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	valid := map[string][]string{
		"auto":             fullRow(),
		"auto with topics": fullRow(),
		"cli example":      {" Invoice wrong ", "T-17", "Body text", " high ", "Azure", "a@b.example", "check VAT", "de-DE"},
		"samples": {"HD-1", "Subject", "Body", "P2", "Azure Plan", "Germany", "Noor", "Haddad", "noor@fabrikam.example",
			"5550143", "nl-NL", "called back", "2024-03-05"},
		"topic names": {"t", "d", "minimal", "", "Licensing", "fr-FR", "one", ""},
	}
	valid["topic names"][4] = "Partner Center account"
	for name, mc := range checkMappers(t) {
		base := valid[name]
		if _, err := mc.m.Map(base, 2); err != nil {
			t.Fatalf("%s: the base row is invalid: %v", name, err)
		}
		agreed, failed := 0, 0
		for i := range 3000 {
			row := slices.Clone(base)
			for range 1 + rng.IntN(3) {
				row[rng.IntN(len(row))] = checkValues[rng.IntN(len(checkValues))]
			}
			if rng.IntN(20) == 0 {
				row = row[:rng.IntN(len(row))] // a short row
			}
			if _, err := mapChecked(t, mc.m, row, i+2); err != nil {
				failed++
			}
			agreed++
		}
		// Both outcomes must have been tried many times.
		if failed < 300 || agreed-failed < 300 {
			t.Errorf("%s: %d of %d rows failed; the test does not exercise both outcomes", name, failed, agreed)
		}
	}
}

// TestCheckAllocatesNothing checks that Check validates a valid row without
// allocating, for every kind of mapping.
func TestCheckAllocatesNothing(t *testing.T) {
	rows := map[string][]string{
		"auto":             fullRow(),
		"auto with topics": fullRow(),
		"cli example":      {" Invoice wrong ", "T-17", "Body text", " high ", "Azure", "a@b.example", "check VAT", "de-DE"},
		"samples": {"HD-1", "Subject", "Body", "sev b", "Azure Plan", "nederland", "Noor", "Haddad", "noor@fabrikam.example",
			"5550143", "nl-NL", "called back", "2024-03-05"},
		"topic names": {"t", "d", "minimal", "", " partner center ACCOUNT ", "fr-FR", "one", "two"},
	}
	for name, mc := range checkMappers(t) {
		row := rows[name]
		if err := mc.m.Check(row, 2); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := testing.AllocsPerRun(100, func() { mc.m.Check(row, 2) }); n != 0 {
			t.Errorf("%s: Check allocates %.1f times per valid row, want 0", name, n)
		}
	}
}

// TestCheckConcurrently runs Check on a mapping that renders into scratch
// buffers from many goroutines (run with -race).
func TestCheckConcurrently(t *testing.T) {
	m := mustCompile(t, cliExample, specHeader, Options{File: "tickets.csv"})
	done := make(chan error)
	for i := range 8 {
		go func() {
			row := []string{strings.Repeat("s", i+1), "T-17", "Body", "P1", "Azure", "a@b.example", "", "de-DE"}
			var err error
			for range 200 {
				if err = m.Check(row, 2); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestFoldKeyMatchesEqualFold checks the allocation-free fold that value
// maps are looked up by against its definition.
func TestFoldKeyMatchesEqualFold(t *testing.T) {
	words := []string{"", "a", "A", "k", "K", "\u212a", "s", "S", "\u017f", "ß", "ẞ", "Σ", "σ", "ς", "İ", "ı", "i",
		"P1", "p1", "Sev A", "ǅ", "ǆ", "Ǆ", "\xff", "\ufffd", "Ünïcode", "üNÏCODE", "@[`{"}
	for _, a := range words {
		for _, b := range words {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldKey(%q) == foldKey(%q) is %v, EqualFold says %v", a, b, got, want)
			}
		}
	}
}

// TestNamedMatchesFoldName checks the allocation-free topic-name lookup
// against foldName, by which the index is built.
func TestNamedMatchesFoldName(t *testing.T) {
	list := []wire.SupportTopic{{ID: 1, Name: "Billing"}, {ID: 2, Name: "ÜBERPRÜFUNG"}, {ID: 3, Name: "Σίσυφος"}, {ID: 4, Name: "\xffx"}}
	ti := newTopicIndex(list)
	for _, name := range []string{"billing", " BILLING\t", "überprüfung", "ΣΊΣΥΦΟΣ", "\xffX", "\ufffdx", "bill"} {
		if got, want := ti.named(name), ti.byName[foldName(name)]; !slices.Equal(got, want) {
			t.Errorf("named(%q) = %v, want %v", name, got, want)
		}
	}
}
