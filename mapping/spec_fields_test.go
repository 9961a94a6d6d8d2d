package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/srimport/srimport/wire"
)

// TestSpecEveryField maps every field of the format from a mapping file:
// contact, product, country (through a value map), support topic by name,
// the locale per row with --locale as fallback, several notes and
// provenance.
func TestSpecEveryField(t *testing.T) {
	header := []string{"Ticket", "Subject", "Body", "Prio", "Topic", "Product", "SKU", "Land", "Lang",
		"First", "Last", "Mail", "Phone", "Comment", "Created"}
	m := mustCompile(t, `
locale: "{{Lang}}"
fields:
  title: "{{Subject}} (#{{Ticket}})"
  description: "{{Body}}"
  severity: {value: "{{Prio}}", map: {P1: critical, P2: moderate, P3: minimal}, default: moderate}
  supportTopicName: "{{Topic}}"
  productName: "{{Product}}"
  productId: "{{SKU}}"
  countryCode: {value: "{{Land}}", map: {Deutschland: DE, Nederland: NL, "*": ""}}
  primaryContact:
    firstName: "{{First}}"
    lastName: "{{Last}}"
    email: "{{Mail}}"
    phoneNumber: "{{Phone}}"
notes:
  - "{{Comment}}"
  - "Helpdesk ticket {{Ticket}}, opened {{Created}}"
provenance: true
`, header, Options{File: "export.xlsx", Locale: "fr-FR", Topics: topics})

	row := []string{"000417", " Invoice wrong ", "Line one\nLine two", "p1", "billing and reservations", "Azure", "DZH318Z0BQ3Q",
		"deutschland", "de-DE", "Jürgen", "Groß", "j.gross@contoso.example", "+49 30 1234567", "VIP", "2026-03-03"}
	req, err := mapChecked(t, m, row, 9)
	if err != nil {
		t.Fatal(err)
	}
	want := Request{Row: 9, Locale: "de-DE", Provenance: true, SR: wire.ServiceRequest{
		Title: "Invoice wrong (#000417)", Description: "Line one\nLine two", Severity: wire.SeverityCritical,
		SupportTopicID: "32451178", SupportTopicName: "Billing and reservations",
		ProductName: "Azure", ProductID: "DZH318Z0BQ3Q", CountryCode: "DE",
		PrimaryContact: &wire.Contact{FirstName: "Jürgen", LastName: "Groß", Email: "j.gross@contoso.example", PhoneNumber: "+49 30 1234567"},
		Notes: []wire.Note{{Text: "VIP"}, {Text: "Helpdesk ticket 000417, opened 2026-03-03"},
			{Text: "imported from export.xlsx row 9"}},
		Attributes: &wire.Attributes{ObjectType: wire.ObjectServiceRequest},
	}}
	if !reflect.DeepEqual(*req, want) {
		t.Errorf("Map =\n%+v\nwant\n%+v", *req, want)
	}

	// Blank language: --locale; unknown country: the "*" key drops it;
	// no contact columns: no contact.
	row = []string{"1", "s", "b", "", "Partner Center account", "", "", "Atlantis", " ", "", "", "", "", "", ""}
	req, err = mapChecked(t, m, row, 10)
	if err != nil {
		t.Fatal(err)
	}
	if req.Locale != "fr-FR" || req.SR.CountryCode != "" || req.SR.PrimaryContact != nil || req.SR.Severity != wire.SeverityModerate {
		t.Errorf("got locale %q, country %q, contact %+v, severity %v", req.Locale, req.SR.CountryCode, req.SR.PrimaryContact, req.SR.Severity)
	}
	if got := len(req.SR.Notes); got != 2 { // "Helpdesk ticket 1, opened" and provenance
		t.Errorf("%d notes, want 2: %+v", got, req.SR.Notes)
	}
}

// TestPassThroughIsForSeverityOnly: other fields' maps send unmapped
// values to the "*" key even when they look like a severity.
func TestPassThroughIsForSeverityOnly(t *testing.T) {
	m := mustCompile(t, `
fields:
  title: t
  description: d
  severity: minimal
  supportTopicId: "1"
  productName: {value: "{{P}}", map: {a: Alpha, "*": Other}}
`, []string{"P"}, Options{})
	if got := mustMap(t, m, []string{"critical"}).SR.ProductName; got != "Other" {
		t.Errorf("productName %q, want the \"*\" value", got)
	}
}

func TestMapKeysDuplicateUnderFolding(t *testing.T) {
	_, err := ParseSpec([]byte("fields:\n  severity:\n    value: \"{{P}}\"\n    map: {\"ſ\": critical, S: minimal}\n"))
	if !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), `map key "S" repeats "ſ"`) {
		t.Fatalf("err = %v", err)
	}
	spec := &Spec{Fields: FieldsSpec{Title: FieldSpec{Value: "t"}, Description: FieldSpec{Value: "d"}, SupportTopicID: FieldSpec{Value: "1"},
		Severity: FieldSpec{Value: "{{P}}", Map: map[string]string{"ſ": "critical", " S ": "minimal"}}}}
	if _, err := Compile(spec, []string{"P"}, Options{}); !errors.Is(err, ErrSpec) {
		t.Fatalf("Compile: err = %v, want ErrSpec", err)
	}
}
