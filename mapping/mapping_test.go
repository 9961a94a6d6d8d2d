package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/srimport/srimport/wire"
)

// fullHeader has a column for every field Auto knows.
var fullHeader = []string{"Title", "Description", "Severity", "SupportTopicId", "ProductName", "ProductId",
	"CountryCode", "Locale", "ContactFirstName", "ContactLastName", "ContactEmail", "ContactPhone", "Notes"}

// fullRow is a valid row for fullHeader.
func fullRow() []string {
	return []string{"Reserved instance not applied", "Billed pay-as-you-go.", "critical", "32451178", "Azure Plan", "15960",
		"nl", "nl-NL", "Noor", "Haddad", "noor@fabrikam.example", "5550143", "from backlog"}
}

var topics = []wire.SupportTopic{
	{ID: 32451178, Name: "Billing and reservations"},
	{ID: 32444671, Name: "Partner Center account"},
	{ID: 32400001, Name: "Licensing"},
	{ID: 32400002, Name: "Licensing"},
}

func mustAuto(t *testing.T, header []string, opts Options) *Mapper {
	t.Helper()
	m, err := Auto(header, opts)
	if err != nil {
		t.Fatalf("Auto(%q): %v", header, err)
	}
	return m
}

func mustCompile(t *testing.T, yaml string, header []string, opts Options) *Mapper {
	t.Helper()
	spec, err := ParseSpec([]byte(yaml))
	if err != nil {
		t.Fatalf("ParseSpec: %v", err)
	}
	m, err := Compile(spec, header, opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return m
}

func mustMap(t *testing.T, m *Mapper, values []string) *Request {
	t.Helper()
	req, err := mapChecked(t, m, values, 2)
	if err != nil {
		t.Fatalf("Map(%q): %v", values, err)
	}
	return req
}

// fieldErrors flattens a Map error into its FieldErrors, failing on
// anything else.
func fieldErrors(t *testing.T, err error) []*FieldError {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	out := make([]*FieldError, len(errs))
	for i, e := range errs {
		fe, ok := e.(*FieldError)
		if !ok {
			t.Fatalf("error %d is %T, not *FieldError: %v", i, e, e)
		}
		out[i] = fe
	}
	return out
}

func TestMapFullRow(t *testing.T) {
	m := mustAuto(t, fullHeader, Options{File: "in.csv"})
	req := mustMap(t, m, fullRow())
	want := &Request{Row: 2, Locale: "nl-NL", SR: wire.ServiceRequest{
		Title:          "Reserved instance not applied",
		Description:    "Billed pay-as-you-go.",
		Severity:       wire.SeverityCritical,
		SupportTopicID: "32451178",
		ProductName:    "Azure Plan",
		ProductID:      "15960",
		CountryCode:    "NL",
		PrimaryContact: &wire.Contact{FirstName: "Noor", LastName: "Haddad", Email: "noor@fabrikam.example", PhoneNumber: "5550143"},
		Notes:          []wire.Note{{Text: "from backlog"}},
		Attributes:     &wire.Attributes{ObjectType: wire.ObjectServiceRequest},
	}}
	if !reflect.DeepEqual(req, want) {
		t.Fatalf("Map =\n%+v\nwant\n%+v", req, want)
	}
}

func TestAutoMatching(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		values []string
		check  func(*Request) string // returns what it found, compared to want
		want   string
	}{
		{"Support Topic ID with spaces", []string{"title", "DESCRIPTION", " Severity ", "Support Topic ID"}, []string{"t", "d", "minimal", "7"},
			func(r *Request) string { return r.SR.SupportTopicID }, "7"},
		{"support_topic_id with underscores", []string{"Title", "Description", "Severity", "support_topic_id"}, []string{"t", "d", "minimal", "8"},
			func(r *Request) string { return r.SR.SupportTopicID }, "8"},
		{"support-topic-name resolves", []string{"Title", "Description", "Severity", "support-topic-name"}, []string{"t", "d", "minimal", "partner center ACCOUNT"},
			func(r *Request) string { return r.SR.SupportTopicID + " " + r.SR.SupportTopicName }, "32444671 Partner Center account"},
		{"AgentLocale", []string{"Title", "Description", "Severity", "SupportTopicId", "Agent Locale"}, []string{"t", "d", "minimal", "1", "de-DE"},
			func(r *Request) string { return r.Locale }, "de-DE"},
		{"primaryContact.email beats Email", []string{"Title", "Description", "Severity", "SupportTopicId", "Email", "primaryContact.email"},
			[]string{"t", "d", "minimal", "1", "other@x.example", "pc@x.example"},
			func(r *Request) string { return r.SR.PrimaryContact.Email }, "pc@x.example"},
		{"PrimaryContactEmail and bare names", []string{"Title", "Description", "Severity", "SupportTopicId", "First Name", "last_name", "Primary Contact Email", "Phone"},
			[]string{"t", "d", "minimal", "1", "Noor", "Haddad", "n@x.example", "555"},
			func(r *Request) string {
				c := r.SR.PrimaryContact
				return c.FirstName + "|" + c.LastName + "|" + c.Email + "|" + c.PhoneNumber
			}, "Noor|Haddad|n@x.example|555"},
		{"several note columns, blank ones skipped", []string{"Note 1", "Title", "Description", "Severity", "SupportTopicId", "Notes", "notes_2", "Notebook"},
			[]string{"first", "t", "d", "minimal", "1", " ", "second", "not a note"},
			func(r *Request) string {
				var s []string
				for _, n := range r.SR.Notes {
					s = append(s, n.Text)
				}
				return strings.Join(s, "|")
			}, "first|second"},
		{"no contact columns, no contact", []string{"Title", "Description", "Severity", "SupportTopicId"}, []string{"t", "d", "minimal", "1"},
			func(r *Request) string {
				return strings.TrimSpace(r.Locale + " " + map[bool]string{true: "contact"}[r.SR.PrimaryContact != nil])
			}, "en-US"},
		{"empty contact cells, no contact", []string{"Title", "Description", "Severity", "SupportTopicId", "Email"}, []string{"t", "d", "minimal", "1", "  "},
			func(r *Request) string {
				return map[bool]string{true: "contact", false: "none"}[r.SR.PrimaryContact != nil]
			}, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{}
			if strings.HasPrefix(tt.name, "support-topic-name") {
				opts.Topics = topics
			}
			m := mustAuto(t, tt.header, opts)
			if got := tt.check(mustMap(t, m, tt.values)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAutoMissingColumns(t *testing.T) {
	tests := []struct {
		header []string
		want   []string
	}{
		{[]string{"Titel", "Description", "Prio", "Topic"},
			[]string{`no column for title (is "Titel" meant?), severity, supportTopicId or supportTopicName`, `The file's columns are: "Titel", "Description", "Prio", "Topic"`, "--mapping"}},
		{[]string{"Title", "Description", "Severity"},
			[]string{"no column for supportTopicId or supportTopicName"}},
		{nil, []string{"no column for title, description, severity, supportTopicId or supportTopicName"}},
	}
	for _, tt := range tests {
		_, err := Auto(tt.header, Options{})
		if !errors.Is(err, ErrNoColumn) {
			t.Fatalf("Auto(%q) = %v, want ErrNoColumn", tt.header, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Auto(%q) error\n%v\ndoes not contain %q", tt.header, err, w)
			}
		}
	}
}

func TestValidationRules(t *testing.T) {
	col := func(name string) int {
		for i, h := range fullHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %q", name)
		return -1
	}
	tests := []struct {
		name   string
		column string
		value  string
		rule   error  // nil: valid
		msg    string // substring of the error, or the mapped value when valid
		got    func(*Request) string
	}{
		{"title blank", "Title", "   ", ErrRequired, `row 2, column "Title" (title): required, but empty`, nil},
		{"title trimmed", "Title", "  Hello  ", nil, "Hello", func(r *Request) string { return r.SR.Title }},
		{"title 255", "Title", strings.Repeat("é", 255), nil, strings.Repeat("é", 255), func(r *Request) string { return r.SR.Title }},
		{"title 256", "Title", strings.Repeat("é", 256), ErrTooLong, "(title): is 256 characters long; srimport allows at most 255 in a title", nil},
		{"description blank", "Description", "", ErrRequired, "(description): required", nil},
		{"description 32001", "Description", strings.Repeat("x", 32001), ErrTooLong, "at most 32000", nil},
		{"severity any case", "Severity", "MODERATE", nil, "moderate", func(r *Request) string { return r.SR.Severity.String() }},
		{"severity number", "Severity", "3", nil, "minimal", func(r *Request) string { return r.SR.Severity.String() }},
		{"severity unknown", "Severity", "unknown", ErrSeverity, `"unknown" is not a severity; use critical, moderate or minimal`, nil},
		{"severity 0", "Severity", "0", ErrSeverity, "not a severity", nil},
		{"severity 4", "Severity", "4", ErrSeverity, "not a severity", nil},
		{"severity urgent", "Severity", "urgent", ErrSeverity, `row 2, column "Severity" (severity): "urgent" is not a severity; use critical, moderate or minimal`, nil},
		{"severity blank", "Severity", "", ErrRequired, "(severity): required", nil},
		{"topic blank", "SupportTopicId", "", ErrRequired, `column "SupportTopicId" (supportTopicId): required`, nil},
		{"topic letters", "SupportTopicId", "Billing", ErrTopicFormat, `"Billing" is not a support topic id: expected 1 to 19 digits`, nil},
		{"topic negative", "SupportTopicId", "-5", ErrTopicFormat, "not a support topic id", nil},
		{"topic 20 digits", "SupportTopicId", strings.Repeat("1", 20), ErrTopicFormat, "not a support topic id", nil},
		{"topic 19 digits", "SupportTopicId", strings.Repeat("1", 19), nil, strings.Repeat("1", 19), func(r *Request) string { return r.SR.SupportTopicID }},
		{"topic leading zeros kept", "SupportTopicId", "0032", nil, "0032", func(r *Request) string { return r.SR.SupportTopicID }},
		{"country lower", "CountryCode", "gb", nil, "GB", func(r *Request) string { return r.SR.CountryCode }},
		{"country optional", "CountryCode", "", nil, "", func(r *Request) string { return r.SR.CountryCode }},
		{"country 3 letters", "CountryCode", "GBR", ErrCountry, `"GBR" is not a two-letter country code`, nil},
		{"country digits", "CountryCode", "12", ErrCountry, "not a two-letter country code", nil},
		{"locale script and region", "Locale", "sr-Latn-RS", nil, "sr-Latn-RS", func(r *Request) string { return r.Locale }},
		{"locale numeric region", "Locale", "es-419", nil, "es-419", func(r *Request) string { return r.Locale }},
		{"locale script only", "Locale", "zh-Hans", nil, "zh-Hans", func(r *Request) string { return r.Locale }},
		{"locale blank uses default", "Locale", "", nil, "en-US", func(r *Request) string { return r.Locale }},
		{"locale name", "Locale", "English", ErrLocale, `"English" is not a locale`, nil},
		{"locale underscore", "Locale", "en_US", ErrLocale, "not a locale", nil},
		{"locale trailing dash", "Locale", "en-", ErrLocale, "not a locale", nil},
		{"locale extra subtag", "Locale", "en-US-x", ErrLocale, "not a locale", nil},
		{"email ok", "ContactEmail", "a.b+c@d.example", nil, "a.b+c@d.example", func(r *Request) string { return r.SR.PrimaryContact.Email }},
		{"email no at", "ContactEmail", "ops-at-contoso", ErrEmail, `(primaryContact.email): "ops-at-contoso" is not an email address`, nil},
		{"email two ats", "ContactEmail", "a@b@c", ErrEmail, "not an email address", nil},
		{"email nothing before at", "ContactEmail", "@b", ErrEmail, "not an email address", nil},
		{"email nothing after at", "ContactEmail", "a@", ErrEmail, "not an email address", nil},
		{"email list", "ContactEmail", "a@b, c@d", ErrEmail, "not an email address", nil},
		{"note too long", "Notes", strings.Repeat("n", 32001), ErrTooLong, `column "Notes" (notes): is 32001 characters long`, nil},
	}
	m := mustAuto(t, fullHeader, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := fullRow()
			row[col(tt.column)] = tt.value
			req, err := mapChecked(t, m, row, 2)
			if tt.rule == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if got := tt.got(req); got != tt.msg {
					t.Fatalf("got %q, want %q", got, tt.msg)
				}
				return
			}
			if req != nil {
				t.Errorf("Map returned a request with an error")
			}
			if !errors.Is(err, tt.rule) {
				t.Fatalf("error %v does not wrap %v", err, tt.rule)
			}
			fes := fieldErrors(t, err)
			if len(fes) != 1 {
				t.Fatalf("%d errors, want 1: %v", len(fes), err)
			}
			if fes[0].Column != tt.column || fes[0].Row != 2 {
				t.Errorf("FieldError column %q row %d, want %q row 2", fes[0].Column, fes[0].Row, tt.column)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestFieldErrorMessage(t *testing.T) {
	e := &FieldError{Row: 7, Column: "Priority", Field: "severity", Value: "urgent",
		Err: newRule(ErrSeverity, `"urgent" is not a severity; use critical, moderate or minimal`)}
	want := `row 7, column "Priority" (severity): "urgent" is not a severity; use critical, moderate or minimal`
	if e.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", e.Error(), want)
	}
	if !errors.Is(e, ErrSeverity) {
		t.Error("errors.Is(FieldError, ErrSeverity) is false")
	}
	e.Column = ""
	if got := e.Error(); !strings.HasPrefix(got, "row 7, mapping constant (severity): ") {
		t.Errorf("constant: %q", got)
	}
}

func TestMultipleErrors(t *testing.T) {
	m := mustAuto(t, fullHeader, Options{})
	row := fullRow()
	row[0], row[2], row[3], row[7], row[10] = "", "urgent", "x1", "English", "nope"
	req, err := mapChecked(t, m, row, 9)
	if req != nil || err == nil {
		t.Fatalf("Map = %v, %v; want an error", req, err)
	}
	for _, rule := range []error{ErrRequired, ErrSeverity, ErrTopicFormat, ErrLocale, ErrEmail} {
		if !errors.Is(err, rule) {
			t.Errorf("errors.Is(err, %v) is false", rule)
		}
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "title" {
		t.Errorf("errors.As finds %+v, want the title error first", fe)
	}
	var got []string
	for _, fe := range fieldErrors(t, err) {
		got = append(got, fe.Field)
	}
	want := []string{"title", "severity", "supportTopicId", "locale", "primaryContact.email"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields %q, want %q (field order)", got, want)
	}
}

// specHeader is the header of the cli.md example's input.
var specHeader = []string{"Subject", "Ticket ID", "Body", "Priority", "Product", "Requester Email", "Internal Comment", "Language"}

const cliExample = `
locale: "{{Language}}"              # optional; else --locale
fields:
  title: "{{Subject}} ({{Ticket ID}})"
  description: "{{Body}}"
  severity:
    value: "{{Priority}}"
    map: { P1: critical, High: critical, Medium: moderate, Low: minimal }
    default: moderate
  supportTopicId: "32444671"         # a constant
  productName: "{{Product}}"
  primaryContact:
    email: "{{Requester Email}}"
notes:
  - "{{Internal Comment}}"
provenance: true                     # add a note "imported from FILE row N"
`

func TestSpecCLIExample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(path, []byte(cliExample), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := LoadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(spec, specHeader, Options{File: "tickets.csv", Locale: "fr-FR"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		values []string
		want   Request
	}{
		{[]string{" Invoice wrong ", "T-17", "Body text", " high ", "Azure", "a@b.example", "check VAT", "de-DE"},
			Request{Row: 5, Locale: "de-DE", Provenance: true, SR: wire.ServiceRequest{
				Title: "Invoice wrong (T-17)", Description: "Body text", Severity: wire.SeverityCritical, SupportTopicID: "32444671",
				ProductName: "Azure", PrimaryContact: &wire.Contact{Email: "a@b.example"},
				Notes:      []wire.Note{{Text: "check VAT"}, {Text: "imported from tickets.csv row 5"}},
				Attributes: &wire.Attributes{ObjectType: wire.ObjectServiceRequest},
			}}},
		{[]string{"No priority", "", "Body", "", "", "", "", ""},
			Request{Row: 5, Locale: "fr-FR", Provenance: true, SR: wire.ServiceRequest{
				Title: "No priority ()", Description: "Body", Severity: wire.SeverityModerate, SupportTopicID: "32444671",
				Notes:      []wire.Note{{Text: "imported from tickets.csv row 5"}},
				Attributes: &wire.Attributes{ObjectType: wire.ObjectServiceRequest},
			}}},
	}
	for _, tt := range tests {
		req, err := mapChecked(t, m, tt.values, 5)
		if err != nil {
			t.Fatalf("Map(%q): %v", tt.values, err)
		}
		if !reflect.DeepEqual(*req, tt.want) {
			t.Errorf("Map(%q) =\n%+v\nwant\n%+v", tt.values, *req, tt.want)
		}
	}
	// The default fills blank cells only: a priority the map does not know
	// is reported, not quietly made moderate.
	if _, err := mapChecked(t, m, []string{"Unmapped priority", "1", "Body", "urgent", "", "", "", ""}, 5); !errors.Is(err, ErrUnmappedValue) {
		t.Errorf("unmapped priority: err %v, want ErrUnmappedValue", err)
	}
	wantFields := []Binding{
		{"title", `template "{{Subject}} ({{Ticket ID}})"`},
		{"description", `column "Body"`},
		{"severity", `column "Priority", mapped (4 values), default "moderate"`},
		{"supportTopicId", `constant "32444671"`},
		{"productName", `column "Product"`},
		{"locale", `column "Language"`},
		{"primaryContact.email", `column "Requester Email"`},
		{"notes", `column "Internal Comment"`},
		{"notes", `provenance note "imported from tickets.csv row N"`},
	}
	if got := m.Fields(); !reflect.DeepEqual(got, wantFields) {
		t.Errorf("Fields() =\n%q\nwant\n%q", got, wantFields)
	}
}

func TestTemplates(t *testing.T) {
	header := []string{"A", "B", " c "}
	tests := []struct {
		name, title string
		values      []string
		want        string
		rule        error
		column      string
	}{
		{"column", "{{A}}", []string{" x ", "", ""}, "x", nil, ""},
		{"case-insensitive, trimmed names", "{{ a }}-{{C}}", []string{"x", "", "z"}, "x-z", nil, ""},
		{"literal around values", "Ticket {{A}}: {{B}}", []string{" 1 ", " two ", ""}, "Ticket 1: two", nil, ""},
		{"one column blank", "[{{A}}] {{B}}", []string{"", "b", ""}, "[] b", nil, ""},
		{"all columns blank is blank", "Ref: {{A}} {{B}}", []string{" ", "", ""}, "", ErrRequired, "A"},
		{"single braces are literal", "{A} {{B}} }", []string{"", "b", ""}, "{A} b }", nil, ""},
		{"short row", "{{C}}", []string{"a"}, "", ErrRequired, " c "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &Spec{Fields: FieldsSpec{
				Title: FieldSpec{Value: tt.title}, Description: FieldSpec{Value: "d"},
				Severity: FieldSpec{Value: "minimal"}, SupportTopicID: FieldSpec{Value: "1"},
			}}
			m, err := Compile(spec, header, Options{})
			if err != nil {
				t.Fatal(err)
			}
			req, err := mapChecked(t, m, tt.values, 3)
			if tt.rule != nil {
				fes := fieldErrors(t, err)
				if len(fes) != 1 || !errors.Is(err, tt.rule) || fes[0].Column != tt.column {
					t.Fatalf("err = %v, want one %v on column %q", err, tt.rule, tt.column)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.SR.Title != tt.want {
				t.Errorf("title %q, want %q", req.SR.Title, tt.want)
			}
		})
	}
}

func TestValueMaps(t *testing.T) {
	header := []string{"Subject", "Prio", "Fallback"}
	base := `
fields:
  title: "{{Subject}}"
  description: "d"
  supportTopicId: "1"
`
	tests := []struct {
		name, severity string
		prio, fallback string
		want           string
		rule           error
		msg            string
	}{
		{"mapped, case and spaces ignored", `{value: "{{Prio}}", map: {P1: critical, " low ": minimal}}`, " LOW", "", "minimal", nil, ""},
		{"unmapped without default", `{value: "{{Prio}}", map: {P1: critical, P2: moderate}}`, "P9", "", "", ErrUnmappedValue,
			`row 4, column "Prio" (severity): "P9" is not in the value map of fields.severity; expected one of "P1", "P2" (or a severity: critical, moderate, minimal); add it to the map, or a "*" key for every other value`},
		{"a severity name passes through", `{value: "{{Prio}}", map: {P1: critical}}`, " Critical ", "", "critical", nil, ""},
		{"a severity name passes through before the default", `{value: "{{Prio}}", map: {P1: critical, High: critical}, default: moderate}`, "MINIMAL", "", "minimal", nil, ""},
		{"a key wins over the pass-through", `{value: "{{Prio}}", map: {critical: moderate}, default: minimal}`, "critical", "", "moderate", nil, ""},
		{"numbers do not pass through", `{value: "{{Prio}}", map: {P1: critical, "*": minimal}}`, "1", "", "minimal", nil, ""},
		{"numbers without default are unmapped", `{value: "{{Prio}}", map: {P1: critical}}`, "1", "", "", ErrUnmappedValue, `"1" is not in the value map`},
		{"unmapped with an empty-string key and no default", `{value: "{{Prio}}", map: {"": moderate, P1: critical}}`, "P7", "", "", ErrUnmappedValue, `"P7" is not in the value map`},
		{"keys fold like EqualFold", `{value: "{{Prio}}", map: {"ſev a": critical}}`, "SEV A", "", "critical", nil, ""},
		{"large map folds like EqualFold", `{value: "{{Prio}}", map: {a: critical, b: critical, c: critical, d: critical, e: critical, f: critical, g: critical, h: critical, "ſ": minimal, j: critical}}`, "S", "", "minimal", nil, ""},
		{"unmapped is an error even with a default", `{value: "{{Prio}}", map: {P1: critical}, default: minimal}`, "P9", "", "", ErrUnmappedValue, `"P9" is not in the value map`},
		{"a star key takes every other value", `{value: "{{Prio}}", map: {P1: critical, "*": minimal}, default: moderate}`, "P9", "", "minimal", nil, ""},
		{"a star key does not take blanks", `{value: "{{Prio}}", map: {P1: critical, "*": minimal}, default: moderate}`, "", "", "moderate", nil, ""},
		{"empty uses default", `{value: "{{Prio}}", map: {P1: critical}, default: minimal}`, "", "", "minimal", nil, ""},
		{"empty without default is required", `{value: "{{Prio}}", map: {P1: critical}}`, " ", "", "", ErrRequired, `column "Prio" (severity): required`},
		{"empty key maps blanks", `{value: "{{Prio}}", map: {"": minimal, P1: critical}}`, "", "", "minimal", nil, ""},
		{"default without map only for blanks", `{value: "{{Prio}}", default: minimal}`, "critical", "", "critical", nil, ""},
		{"default is a template", `{value: "{{Prio}}", default: "{{Fallback}}"}`, "", "2", "moderate", nil, ""},
		{"errors name the default's column", `{value: "{{Prio}}", default: "{{Fallback}}"}`, "", "bad", "", ErrSeverity, `column "Fallback" (severity): "bad" is not a severity`},
		{"large map", `{value: "{{Prio}}", map: {a: critical, b: critical, c: critical, d: critical, e: critical, f: critical, g: critical, h: critical, I: minimal, j: critical}}`, "i", "", "minimal", nil, ""},
		{"large map miss", `{value: "{{Prio}}", map: {a: critical, b: critical, c: critical, d: critical, e: critical, f: critical, g: critical, h: critical, I: minimal, j: critical}}`, "k", "", "", ErrUnmappedValue, "not in the value map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, base+"  severity: "+tt.severity+"\n", header, Options{})
			req, err := mapChecked(t, m, []string{"s", tt.prio, tt.fallback}, 4)
			if tt.rule != nil {
				if !errors.Is(err, tt.rule) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.rule, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := req.SR.Severity.String(); got != tt.want {
				t.Errorf("severity %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotesAndProvenance(t *testing.T) {
	header := []string{"Title", "Description", "Severity", "SupportTopicId", "Comment", "Ref"}
	m := mustCompile(t, `
fields: {title: "{{Title}}", description: "{{Description}}", severity: "{{Severity}}", supportTopicId: "{{SupportTopicId}}"}
notes:
  - "{{Comment}}"
  - "Old ticket: {{Ref}}"
  - {value: "{{Ref}}", map: {X1: "escalated before", "*": ""}}
  - "constant note"
provenance: true
`, header, Options{File: "backlog.csv"})
	tests := []struct {
		comment, ref string
		want         []string
	}{
		{"first", "X1", []string{"first", "Old ticket: X1", "escalated before", "constant note", "imported from backlog.csv row 12"}},
		{" ", "", []string{"constant note", "imported from backlog.csv row 12"}},
		{"", "X2", []string{"Old ticket: X2", "constant note", "imported from backlog.csv row 12"}},
	}
	for _, tt := range tests {
		req, err := mapChecked(t, m, []string{"t", "d", "minimal", "1", tt.comment, tt.ref}, 12)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range req.SR.Notes {
			got = append(got, n.Text)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("notes %q, want %q", got, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	header := []string{"Ticket Subject", "Body", "Priority"}
	tests := []struct {
		name string
		yaml string
		opts Options
		rule error
		msg  []string
	}{
		{"unknown column with suggestion", `
fields: {title: "{{Ticket Subjet}}", description: "{{Body}}", severity: "{{Priority}}", supportTopicId: "1"}`, Options{},
			ErrUnknownColumn, []string{"column \"Ticket Subjet\" named by fields.title is not in the file; did you mean \"Ticket Subject\"?\n" +
				`the file's columns are: "Ticket Subject", "Body", "Priority"`}},
		{"unknown column without a close match", `
fields: {title: "{{Ticket Subject}}", description: "{{Zzzzzzzz}}", severity: "{{Priority}}", supportTopicId: "1"}`, Options{},
			ErrUnknownColumn, []string{"column \"Zzzzzzzz\" named by fields.description is not in the file\nthe file's columns are:"}},
		{"a template with a missing column is not also a bad constant", `
locale: "{{Language}}"
fields: {title: "{{Ticket Subject}}", description: "{{Body}}", severity: "{{Priority}}", supportTopicId: "1", primaryContact: {email: "{{Mail}}"}}`, Options{},
			ErrUnknownColumn, []string{"line 2: column \"Language\" named by locale is not in the file\n" +
				"line 3: column \"Mail\" named by fields.primaryContact.email is not in the file\n" +
				`the file's columns are: "Ticket Subject", "Body", "Priority"`}},
		{"every unknown column is reported", `
fields: {title: "{{Subjekt}}", description: "{{Bdy}}", severity: {value: "{{Prio}}", default: "{{Prioo}}"}, supportTopicId: "1"}`, Options{},
			ErrUnknownColumn, []string{`"Subjekt" named by fields.title`, `"Bdy" named by fields.description`, `"Prio" named by fields.severity`, `"Prioo" named by fields.severity.default`}},
		{"missing required fields", `
fields: {title: "{{Ticket Subject}}"}`, Options{},
			ErrNoColumn, []string{"the mapping does not set description, severity, supportTopicId (or supportTopicName)"}},
		{"bad constant", `
fields: {title: "{{Ticket Subject}}", description: "{{Body}}", severity: urgent, supportTopicId: "1"}`, Options{},
			ErrSeverity, []string{`fields.severity: "urgent" is not a severity`}},
		{"bad map value", `
fields: {title: "{{Ticket Subject}}", description: "{{Body}}", severity: {value: "{{Priority}}", map: {P1: critcal}}, supportTopicId: "1"}`, Options{},
			ErrSeverity, []string{`fields.severity.map: "P1" maps to "critcal" is not a severity`}},
		{"bad constant default", `
fields: {title: "{{Ticket Subject}}", description: "{{Body}}", severity: {value: "{{Priority}}", default: high}, supportTopicId: "1"}`, Options{},
			ErrSeverity, []string{`fields.severity.default: "high" is not a severity`}},
		{"constant topic not in the list", `
fields: {title: "{{Ticket Subject}}", description: "{{Body}}", severity: "{{Priority}}", supportTopicId: "99"}`, Options{Topics: topics},
			ErrUnknownTopic, []string{"fields.supportTopicId: support topic 99 is not in the service's list of 4 topics"}},
		{"constant topic name unknown", `
fields: {title: "{{Ticket Subject}}", description: "{{Body}}", severity: "{{Priority}}", supportTopicName: "Biling"}`, Options{Topics: topics},
			ErrUnknownTopic, []string{`fields.supportTopicName: "Biling" is not a support topic name`}},
		{"bad default locale", `
fields: {title: "{{Ticket Subject}}", description: "{{Body}}", severity: "{{Priority}}", supportTopicId: "1"}`, Options{Locale: "english"},
			ErrLocale, []string{`the default locale "english" (--locale) is not a locale`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := ParseSpec([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Compile(spec, header, tt.opts)
			if !errors.Is(err, tt.rule) {
				t.Fatalf("err = %v, want %v", err, tt.rule)
			}
			for _, msg := range tt.msg {
				if !strings.Contains(err.Error(), msg) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, msg)
				}
			}
		})
	}
}

func TestParseSpecErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		rule error
		msg  []string
	}{
		{"unknown field key", "fields:\n  title: \"{{A}}\"\n  titel: x\n", ErrSpec,
			[]string{`line 3: unknown key "titel" in fields; did you mean "title"? Allowed there: title, description, severity`}},
		{"unknown top-level key", "feilds:\n  title: x\nprovenance: true\n", ErrSpec,
			[]string{`line 1: unknown key "feilds" in the top level; did you mean "fields"?`}},
		{"unknown contact key", "fields:\n  primaryContact:\n    mail: \"{{E}}\"\n", ErrSpec,
			[]string{`line 3: unknown key "mail" in fields.primaryContact; did you mean "email"?`}},
		{"unknown field object key", "fields:\n  severity:\n    value: \"{{P}}\"\n    defualt: moderate\n", ErrSpec,
			[]string{`line 4: fields.severity: unknown key "defualt"; a field object has value, map and default`}},
		{"unquoted template", "fields:\n  title: {{Subject}}\n", ErrSpec,
			[]string{`line 2: fields.title: a template must be quoted`}},
		{"unclosed braces", "fields:\n  title: \"{{Subject\"\n", ErrTemplate,
			[]string{`line 2: fields.title: "{{" is never closed with "}}" in "{{Subject"`}},
		{"empty name", "notes:\n  - \"a {{ }} b\"\n", ErrTemplate,
			[]string{`line 2: notes[0]: {{}} names no column`}},
		{"stray closing braces", "fields:\n  severity:\n    value: \"{{P}}\"\n    default: \"x}}\"\n", ErrTemplate,
			[]string{`fields.severity.default: "}}" without an opening "{{"`}},
		{"duplicate map keys", "fields:\n  severity:\n    value: \"{{P}}\"\n    map: {High: critical, high: moderate}\n", ErrSpec,
			[]string{`map key "high" repeats "High"`}},
		{"map without value", "fields:\n  severity:\n    map: {High: critical}\n", ErrSpec,
			[]string{"fields.severity: map given without a value"}},
		{"list where text belongs", "fields:\n  title: [a, b]\n", ErrSpec,
			[]string{"line 2: fields.title: expected a template string"}},
		{"several problems, in line order", "fields:\n  titel: x\n  title: \"{{A\"\nextra: 1\n", ErrSpec,
			[]string{"line 2: unknown key \"titel\"", "line 3: fields.title", "line 4: unknown key \"extra\""}},
		{"empty file", "", ErrSpec, []string{"the mapping file is empty"}},
		{"not YAML", "fields: [\n", ErrSpec, []string{"yaml:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSpec([]byte(tt.yaml))
			if !errors.Is(err, tt.rule) {
				t.Fatalf("err = %v, want %v", err, tt.rule)
			}
			text := err.Error()
			last := -1
			for _, msg := range tt.msg {
				i := strings.Index(text, msg)
				if i < 0 {
					t.Fatalf("error\n%v\ndoes not contain\n%s", err, msg)
				}
				if i < last {
					t.Errorf("%q is out of order in\n%v", msg, err)
				}
				last = i
			}
		})
	}
}

func TestSpecForms(t *testing.T) {
	m := mustCompile(t, `
fields:
  title: "{{A}}"
  description:
    value: "{{A}}"
  severity: 2            # a number is text too
  supportTopicId: 32451178
  countryCode: ~         # null: unset
notes: "single {{A}}"    # one note need not be a list
`, []string{"A"}, Options{})
	req := mustMap(t, m, []string{"x"})
	if req.SR.Severity != wire.SeverityModerate || req.SR.SupportTopicID != "32451178" || len(req.SR.Notes) != 1 || req.SR.Notes[0].Text != "single x" {
		t.Fatalf("%+v", req.SR)
	}
}

func TestTopics(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		values []string
		topics []wire.SupportTopic
		want   string // "id name" when valid
		rule   error
		msg    string
	}{
		{"known id", []string{"SupportTopicId"}, []string{"32444671"}, topics, "32444671 ", nil, ""},
		{"unknown id", []string{"SupportTopicId"}, []string{"5"}, topics, "", ErrUnknownTopic, "(supportTopicId): support topic 5 is not in the service's list of 4 topics"},
		{"any id without a list", []string{"SupportTopicId"}, []string{"5"}, nil, "5 ", nil, ""},
		{"empty list knows no id", []string{"SupportTopicId"}, []string{"5"}, []wire.SupportTopic{}, "", ErrUnknownTopic, "list of 0 topics"},
		{"name resolves", []string{"SupportTopicName"}, []string{" billing AND reservations "}, topics, "32451178 Billing and reservations", nil, ""},
		{"id wins over name", []string{"SupportTopicId", "SupportTopicName"}, []string{"32444671", "Whatever"}, topics, "32444671 Whatever", nil, ""},
		{"name used when id blank", []string{"SupportTopicId", "SupportTopicName"}, []string{"", "Partner Center account"}, topics, "32444671 Partner Center account", nil, ""},
		{"unknown name lists the nearest", []string{"SupportTopicName"}, []string{"Biling"}, topics, "", ErrUnknownTopic,
			`column "SupportTopicName" (supportTopicName): "Biling" is not a support topic name; known names include "Licensing", "Billing and reservations", "Partner Center account" (4 topics)`},
		{"ambiguous name", []string{"SupportTopicName"}, []string{"licensing"}, topics, "", ErrAmbiguousTopic, `"licensing" names 2 support topics (ids 32400001, 32400002)`},
		{"name without a list", []string{"SupportTopicName"}, []string{"Licensing"}, nil, "", ErrUnknownTopic, "the service's topic list is not available"},
		{"both blank", []string{"SupportTopicId", "SupportTopicName"}, []string{"", " "}, topics, "", ErrRequired, `column "SupportTopicId" (supportTopicId): required, but empty: give the support topic's id or name`},
		{"name in the id column", []string{"SupportTopicId"}, []string{"Licensing"}, topics, "", ErrTopicFormat, "it is the name of topic 32400001: map the column to supportTopicName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := append([]string{"Title", "Description", "Severity"}, tt.header...)
			values := append([]string{"t", "d", "minimal"}, tt.values...)
			m := mustAuto(t, header, Options{Topics: tt.topics})
			req, err := mapChecked(t, m, values, 2)
			if tt.rule != nil {
				if !errors.Is(err, tt.rule) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err = %v, want %v containing\n%s", err, tt.rule, tt.msg)
				}
				if n := len(fieldErrors(t, err)); n != 1 {
					t.Errorf("%d errors, want 1", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := req.SR.SupportTopicID + " " + req.SR.SupportTopicName; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDuplicateHeadersUseTheFirst(t *testing.T) {
	header := []string{"Title", "Description", "Severity", "SupportTopicId", "title"}
	m := mustAuto(t, header, Options{})
	if req := mustMap(t, m, []string{"first", "d", "minimal", "1", "second"}); req.SR.Title != "first" {
		t.Errorf("title %q, want the first column's", req.SR.Title)
	}
	m = mustCompile(t, `fields: {title: "{{TITLE}}", description: d, severity: minimal, supportTopicId: "1"}`, header, Options{})
	if req := mustMap(t, m, []string{"first", "d", "minimal", "1", "second"}); req.SR.Title != "first" {
		t.Errorf("title %q, want the first column's", req.SR.Title)
	}
}

func TestRequestsAreIndependent(t *testing.T) {
	m := mustAuto(t, fullHeader, Options{})
	a := mustMap(t, m, fullRow())
	b := mustMap(t, m, fullRow())
	a.SR.Attributes.ObjectType = "changed"
	a.SR.PrimaryContact.Email = "changed"
	if b.SR.Attributes.ObjectType != wire.ObjectServiceRequest || b.SR.PrimaryContact.Email == "changed" {
		t.Fatal("requests share memory")
	}
}

func TestLoadSpecMissingFile(t *testing.T) {
	if _, err := LoadSpec(filepath.Join(t.TempDir(), "none.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestClosest(t *testing.T) {
	tests := []struct {
		s     string
		cands []string
		want  string
		ok    bool
	}{
		{"Ticket Subjet", []string{"Body", "Ticket Subject"}, "Ticket Subject", true},
		{"titel", []string{"title", "description"}, "title", true},
		{"Zzzzzzzz", []string{"Body", "Ticket Subject"}, "", false},
		{"x", nil, "", false},
	}
	for _, tt := range tests {
		got, ok := closest(tt.s, tt.cands)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("closest(%q) = %q, %v; want %q, %v", tt.s, got, ok, tt.want, tt.ok)
		}
	}
}

func TestColumnsRoundTrip(t *testing.T) {
	m := mustAuto(t, Columns(), Options{})
	got := map[string]bool{}
	for _, b := range m.Fields() {
		if strings.HasPrefix(b.Source, "column ") {
			got[b.Field] = true
		}
	}
	for id := range numFields {
		if !got[fields[id].name] {
			t.Errorf("Columns() has no column Auto maps to %s", fields[id].name)
		}
	}
	if !got["notes"] {
		t.Error("Columns() has no notes column")
	}
}

func TestMapConcurrently(t *testing.T) {
	m := mustAuto(t, fullHeader, Options{Topics: topics})
	done := make(chan *Request)
	for i := range 8 {
		go func() {
			row := fullRow()
			row[0] = strings.Repeat("t", i+1)
			req, err := mapChecked(t, m, row, i)
			if err != nil {
				t.Error(err)
			}
			done <- req
		}()
	}
	for range 8 {
		if req := <-done; req != nil && req.SR.Title != strings.Repeat("t", req.Row+1) {
			t.Errorf("row %d got title %q", req.Row, req.SR.Title)
		}
	}
}

func TestKey(t *testing.T) {
	header := []string{"Ticket ID", "Title", "Description", "Severity", "SupportTopicId"}
	m := mustCompile(t, `
fields: {title: "{{Title}}", description: "{{Description}}", severity: "{{Severity}}", supportTopicId: "{{SupportTopicId}}"}
key: "HD-{{Ticket ID}}"
`, header, Options{File: "backlog.csv"})
	req, err := mapChecked(t, m, []string{" 417 ", "t", "d", "minimal", "1"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if req.Key != "HD-417" {
		t.Errorf("Key = %q, want HD-417", req.Key)
	}
	_, err = mapChecked(t, m, []string{"", "t", "d", "minimal", "1"}, 4)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "key" || fe.Column != "Ticket ID" || !errors.Is(err, ErrRequired) {
		t.Errorf("empty key: err = %v, want a required FieldError on key naming column Ticket ID", err)
	}
	spec, err := ParseSpec([]byte("fields: {title: x, description: y, severity: minimal, supportTopicId: \"1\"}\nkey: \"{{Tciket ID}}\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(spec, header, Options{}); !errors.Is(err, ErrUnknownColumn) {
		t.Errorf("key naming a missing column: err = %v, want ErrUnknownColumn", err)
	}
}
