package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
)

// helpdeskPath is the sample that needs samples/mapping.yaml.
var helpdeskPath = filepath.Join("..", "..", "samples", "helpdesk.xlsx")

// helpdeskHeader is the header of samples/helpdesk.xlsx: a helpdesk's
// names, none of them a field name.
var helpdeskHeader = []string{"Ticket ID", "Created", "Subject", "Body", "Priority", "Product",
	"Requester First Name", "Requester Last Name", "Requester Email", "Requester Phone",
	"Language", "Country", "Internal Comment"}

// helpdeskTicket is one row of samples/helpdesk.xlsx.
type helpdeskTicket struct {
	id                         string // text, with leading zeros
	created                    time.Time
	subject, body, priority    string
	product                    string
	first, last, email, phone  string
	language, country, comment string
}

// helpdeskTickets are the sample's rows. Rows 9 (unknown priority
// "Blocker"), 16 (no subject) and 24 (an email that is not one) are invalid
// under samples/mapping.yaml; the others exercise its map (P1…P4,
// High/Medium/Low, Sev A…C, a severity name, an empty priority, case and
// spaces), multi-line bodies, non-ASCII text, and empty optional cells.
func helpdeskTickets() []helpdeskTicket {
	d := func(month time.Month, day, hour, min int) time.Time {
		return time.Date(2026, month, day, hour, min, 0, 0, time.UTC)
	}
	return []helpdeskTicket{
		{"000417", d(3, 2, 9, 14), "Reserved instance not applied to subscription", "Customer bought a one-year reservation on 3 March; usage is still billed pay-as-you-go.\nSubscription: 4f1c-prod\nRegion: West Europe", "P1", "Azure Reservations", "Noor", "Haddad", "noor@fabrikam.example", "+31 20 555 0143", "nl-NL", "Netherlands", "Customer escalated twice already"},
		{"000418", d(3, 2, 10, 3), "Invoice shows duplicate line for Microsoft 365 E3", "The November invoice lists \"Microsoft 365 E3\" twice, once with quantity 40 and once with 0.", "Medium", "Microsoft 365 E3", "Jürgen", "Groß", "j.gross@contoso.example", "+49 30 1234567", "de-DE", "Deutschland", ""},
		{"000419", d(3, 2, 11, 47), "Cannot add new customer tenant", "Adding the customer fails with \"domain already in use\".\nThe domain was released last week.", "High", "Partner Center", "Akira", "Tanaka", "akira.tanaka@northwind.example", "", "ja-JP", "日本", ""},
		{"000420", d(3, 3, 8, 30), "Credit note missing for cancelled seats", "Seats were cancelled within 72 hours; no credit note appeared on the next invoice.", "p2", "Microsoft 365 Business Premium", "Camille", "Lefèvre", "camille.lefevre@tailspin.example", "+33 1 55 55 01 23", "fr-FR", "France", "Finance asked for a copy of the credit note"},
		{"000421", d(3, 3, 9, 5), "Usage file for February is empty", "The daily rated usage export for February has a header row and nothing else.", "Sev B", "Azure plan", "Lucas", "Pereira", "lucas.pereira@adventure-works.example", "+55 11 5555 0199", "pt-BR", "Brasil", ""},
		{"000422", d(3, 3, 13, 12), "Reseller relationship request expired", "The invitation link expired before the customer's global admin accepted it.", "Low", "Partner Center", "Emma", "Jansen", "emma.jansen@fabrikam.example", "", "nl-NL", "Nederland", ""},
		{"000423", d(3, 4, 7, 55), "Azure subscription suspended after payment", "Payment was made on 28 February, but the subscription was suspended on 1 March.\nCustomer production workloads are down.", "Sev A", "Azure plan", "Oliver", "Smith", "oliver.smith@litware.example", "+44 20 7946 0958", "en-GB", "United Kingdom", "Production down: call the customer back within the hour"},
		{"000424", d(3, 4, 9, 20), "Licence count wrong after upgrade", "After upgrading from Business Standard to Business Premium, 12 licences are missing.", "P3", "Microsoft 365 Business Premium", "Sofía", "García", "sofia.garcia@wingtip.example", "+34 91 555 0142", "es-ES", "España", ""},
		{"000425", d(3, 4, 10, 41), "Partner incentive payment on hold", "The Q4 incentive payment shows \"on hold\" with no reason given.", "Blocker", "Partner incentives", "Ethan", "Miller", "ethan.miller@contoso.example", "", "en-US", "USA", "Priority was typed by hand"},
		{"000426", d(3, 4, 15, 2), "API returns 429 on order creation", "Creating orders through the API returns 429 after about 20 requests per minute.", "Normal", "Partner Center API", "Chloe", "Martin", "chloe.martin@tailspin.example", "", "fr-FR", "France", ""},
		{"000427", d(3, 5, 8, 0), "Trial did not convert to paid", "The 30-day trial of Microsoft 365 E5 expired instead of converting.", "critical", "Microsoft 365 E5", "Mia", "Schneider", "mia.schneider@northwind.example", "+49 89 5555 0100", "de-DE", "Germany", "Cell already said critical"},
		{"000428", d(3, 5, 9, 33), "Cannot download reconciliation file", "Reconciliation file download ends with a blank page in every browser.", "", "Partner Center", "Liam", "Brown", "liam.brown@litware.example", "", "", "", ""},
		{"000429", d(3, 5, 11, 18), "Wrong billing address on invoices", "Invoices still show the old address although the profile was updated in January.", "P4", "Partner Center", "Hannah", "de Vries", "hannah.devries@fabrikam.example", "", "nl-NL", "Netherlands", ""},
		{"000430", d(3, 5, 14, 46), "Reservation exchange failed", "Exchanging a three-year VM reservation failed with \"internal error\".", " high ", "Azure Reservations", "Yuki", "Suzuki", "yuki.suzuki@adventure-works.example", "+81 3 5555 0123", "ja-JP", "Japan", ""},
		{"000431", d(3, 6, 8, 12), "GDAP relationship shows wrong roles", "The granular admin relationship lists Helpdesk Administrator, which was never requested.", "Sev C", "Customer management", "Pedro", "Alves", "pedro.alves@wingtip.example", "", "pt-BR", "Brazil", ""},
		{"000432", d(3, 6, 9, 27), "", "The requester left the subject empty.", "P2", "Partner Center", "Anna", "Kowalski", "anna.kowalski@contoso.example", "", "en-US", "USA", "Subject missing in the helpdesk"},
		{"000433", d(3, 6, 10, 55), "Customer cannot see purchased add-on", "The Teams Phone add-on was bought on 2 March but does not show in the admin centre.", "Medium", "Microsoft Teams Phone", "Lena", "Fischer", "lena.fischer@litware.example", "", "de-DE", "Deutschland", ""},
		{"000434", d(3, 9, 8, 40), "Duplicate charges for Azure support plan", "Two Developer support plans were charged for the same subscription in February.", "P1", "Azure support plan", "Daniel", "Wilson", "daniel.wilson@northwind.example", "+1 425 555 0100", "en-US", "United States", "Refund requested"},
		{"000435", d(3, 9, 12, 1), "Cannot assign licences in bulk", "Bulk licence assignment with a CSV upload stops at row 50 with no error.", "Urgent", "Microsoft 365 E3", "Sophie", "Dubois", "sophie.dubois@fabrikam.example", "", "fr-FR", "France", ""},
		{"000436", d(3, 9, 16, 22), "Marketplace offer not visible to customer", "Our private offer is published but the customer cannot find it in the marketplace.", "moderate", "Commercial marketplace", "Ryo", "Nakamura", "ryo.nakamura@tailspin.example", "", "ja-JP", "日本", ""},
		{"000437", d(3, 10, 9, 9), "MFA prompt loop in Partner Center", "Signing in to Partner Center loops back to the MFA prompt after approval.", "High", "Partner Center", "Isabel", "Romero", "isabel.romero@adventure-works.example", "+34 93 555 0177", "es-ES", "Spain", ""},
		{"000438", d(3, 10, 10, 30), "Azure credits not applied", "Azure credit of 500 EUR from the incentive programme is not visible.", "Low", "Azure plan", "Finn", "Bakker", "finn.bakker@wingtip.example", "", "nl-NL", "Nederland", ""},
		{"000439", d(3, 10, 13, 50), "Price list download times out", "The March price list download times out after 2 minutes.\nTried three times.", "P3", "Partner Center", "Grace", "Taylor", "grace.taylor@litware.example", "", "en-GB", "UK", ""},
		{"000440", d(3, 11, 8, 15), "Subscription transfer stuck", "Transfer of 14 subscriptions from the previous partner is pending for 10 days.", "Sev B", "Orders and subscriptions", "Kenji", "Sato", "kenji.sato(at)contoso.example", "", "ja-JP", "Japan", "Email copied from a web form"},
		{"000441", d(3, 11, 11, 4), "Tax exemption not applied", "Our tax exemption certificate was accepted, but VAT is still charged.", "Medium", "Partner Center", "Élodie", "Bernard", "elodie.bernard@northwind.example", "+33 4 55 55 01 88", "fr-FR", "France", ""},
		{"000442", d(3, 11, 15, 37), "Azure cost management shows no data", "Cost analysis for the customer's subscriptions shows no data since 1 March.", "P2", "Azure plan", "Matteo", "Ricci", "matteo.ricci@fabrikam.example", "", "it-IT", "Italy", "Country not in the mapping: sent without one"},
		{"000443", d(3, 12, 9, 0), "Cannot cancel annual subscription within window", "Cancelling within the 7-day window is greyed out in Partner Center.", "SEV A", "Orders and subscriptions", "Julia", "Nowak", "julia.nowak@contoso.example", "", "", "", ""},
		{"000444", d(3, 12, 10, 19), "Customer agreement attestation rejected", "The Microsoft Customer Agreement attestation is rejected with \"invalid date\".", "P4", "Customer management", "Lars", "Müller", "lars.mueller@tailspin.example", "", "de-DE", "Germany", ""},
		{"000445", d(3, 12, 14, 8), "Incentive earnings report is blank", "The earnings report for January is blank for all programmes.", "Normal", "Partner incentives", "Beatriz", "Costa", "beatriz.costa@adventure-works.example", "+55 21 5555 0110", "pt-BR", "Brasil", ""},
		{"000446", d(3, 13, 8, 48), "Wrong currency on new customer", "A new customer in Japan was created with USD as billing currency.", "p1", "Customer management", "Hiroshi", "Kobayashi", "hiroshi.kobayashi@wingtip.example", "", "ja-JP", "日本", "Billing team: fix before first invoice"},
	}
}

// writeHelpdeskSample builds samples/helpdesk.xlsx. The output depends on
// nothing but helpdeskTickets: document dates are fixed, so a rerun
// writes identical bytes.
func writeHelpdeskSample() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Tickets"
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return nil, err
	}
	fixed := "2026-03-13T09:00:00Z"
	if err := f.SetDocProps(&excelize.DocProperties{
		Created: fixed, Modified: fixed, Creator: "srimport samples", LastModifiedBy: "srimport samples",
		Title: "Helpdesk export", Description: "Sample input for samples/mapping.yaml; generated by TestGenerateSamples",
	}); err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")})
	if err != nil {
		return nil, err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return nil, err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return nil, err
	}
	if err := f.SetSheetRow(sheet, "A1", &helpdeskHeader); err != nil {
		return nil, err
	}
	if err := f.SetCellStyle(sheet, "A1", "M1", bold); err != nil {
		return nil, err
	}
	for i, t := range helpdeskTickets() {
		r := i + 2
		cell := func(col string) string { return col + strconv.Itoa(r) }
		cells := []struct {
			col string
			v   string
		}{
			{"A", t.id}, {"C", t.subject}, {"D", t.body}, {"E", t.priority}, {"F", t.product},
			{"G", t.first}, {"H", t.last}, {"I", t.email}, {"J", t.phone}, {"K", t.language}, {"L", t.country}, {"M", t.comment},
		}
		for _, c := range cells {
			if c.v == "" {
				continue
			}
			if err := f.SetCellStr(sheet, cell(c.col), c.v); err != nil {
				return nil, err
			}
		}
		if err := f.SetCellValue(sheet, cell("B"), t.created); err != nil {
			return nil, err
		}
		for _, s := range []struct {
			col   string
			style int
		}{{"A", text}, {"B", date}, {"D", wrap}, {"J", text}} {
			if err := f.SetCellStyle(sheet, cell(s.col), cell(s.col), s.style); err != nil {
				return nil, err
			}
		}
	}
	for col, width := range map[string]float64{"A": 10, "B": 12, "C": 44, "D": 60, "E": 10, "F": 28, "G": 14, "H": 14, "I": 36, "J": 18, "K": 10, "L": 16, "M": 40} {
		if err := f.SetColWidth(sheet, col, col, width); err != nil {
			return nil, err
		}
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }

// TestGenerateSamples writes samples/helpdesk.xlsx when UPDATE_SAMPLES is
// set. Otherwise it checks the committed file: it opens, has the expected
// header and rows, and is exactly what the generator writes (rerun with
// UPDATE_SAMPLES=1 after changing helpdeskTickets).
func TestGenerateSamples(t *testing.T) {
	want, err := writeHelpdeskSample()
	if err != nil {
		t.Fatal(err)
	}
	again, err := writeHelpdeskSample()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, again) {
		t.Fatal("two runs of the generator differ: the sample is not deterministic")
	}
	if os.Getenv("UPDATE_SAMPLES") != "" {
		if err := os.WriteFile(helpdeskPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", helpdeskPath, len(want))
	}

	f, err := excelize.OpenFile(helpdeskPath)
	if err != nil {
		t.Fatalf("the committed sample does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], helpdeskHeader) {
		t.Fatalf("header %q, want %q", rows[:min(1, len(rows))], helpdeskHeader)
	}
	if got, want := len(rows)-1, len(helpdeskTickets()); got != want {
		t.Errorf("%d data rows, want %d", got, want)
	}
	if rows[1][0] != "000417" || rows[1][1] != "2026-03-02" {
		t.Errorf("row 2 starts %q, want the text id 000417 and the date 2026-03-02", rows[1][:2])
	}
	committed, err := os.ReadFile(helpdeskPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, want) {
		t.Errorf("%s is not what the generator writes; run UPDATE_SAMPLES=1 go test -run TestGenerateSamples ./cmd/srimport", helpdeskPath)
	}
}

// TestHelpdeskSampleContent imports the helpdesk sample through
// samples/mapping.yaml into an emulator and checks what the service
// received for a few telling rows: the text id with its leading zeros, the
// date as shown, a multi-line body, non-ASCII text, each priority scale, a
// cell that already says critical, an empty priority, contact, country and
// notes with provenance.
func TestHelpdeskSampleContent(t *testing.T) {
	em := emulator.New(emulator.Config{Token: "t"})
	srv := httptest.NewServer(em)
	defer srv.Close()
	env := map[string]string{"SRIMPORT_BASE_URL": srv.URL, "SRIMPORT_TOKEN": "t", "SRIMPORT_STATE_DIR": t.TempDir()}
	var out, errb bytes.Buffer
	code := run([]string{"import", "--workers", "1", "--mapping", filepath.Join("..", "..", "samples", "mapping.yaml"),
		"--report", filepath.Join(t.TempDir(), "report.csv"), helpdeskPath},
		stdio{in: strings.NewReader(""), out: &out, err: &errb}, func(k string) string { return env[k] })
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d (three invalid rows)\n%s%s", code, exitRowsFailed, out.String(), errb.String())
	}
	byTitle := map[string]client.ServiceRequest{}
	for _, sr := range em.ServiceRequests() {
		byTitle[sr.Title] = sr
	}
	if len(byTitle) != 27 {
		t.Fatalf("%d service requests, want 27", len(byTitle))
	}
	notes := func(sr client.ServiceRequest) []string {
		var texts []string
		for _, n := range sr.Notes {
			texts = append(texts, n.Text)
		}
		return texts
	}

	sr := byTitle["Reserved instance not applied to subscription"]
	if sr.Severity != client.SeverityCritical || sr.SupportTopicID != "32451178" || sr.ProductName != "Azure Reservations" ||
		sr.CountryCode != "NL" || !strings.Contains(sr.Description, "\nSubscription: 4f1c-prod\n") {
		t.Errorf("row 2: %+v", sr)
	}
	if c := sr.PrimaryContact; c == nil || c.FirstName != "Noor" || c.LastName != "Haddad" || c.Email != "noor@fabrikam.example" || c.PhoneNumber != "+31 20 555 0143" {
		t.Errorf("row 2 contact: %+v", sr.PrimaryContact)
	}
	// The provenance note names the row's MS-RequestId, which settlement
	// by lookup finds it by.
	reqIDs := em.RequestIDs()
	if got, want := notes(sr), []string{"Helpdesk ticket 000417, opened 2026-03-02", "Customer escalated twice already",
		"imported from helpdesk.xlsx row 2 (MS-RequestId " + reqIDs[sr.ID] + ")"}; !slices.Equal(got, want) {
		t.Errorf("row 2 notes %q, want %q", got, want)
	}
	if sr := byTitle["Invoice shows duplicate line for Microsoft 365 E3"]; sr.PrimaryContact == nil || sr.PrimaryContact.LastName != "Groß" || sr.CountryCode != "DE" {
		t.Errorf("row 3: %+v", sr)
	}
	if sr := byTitle["Cannot add new customer tenant"]; sr.CountryCode != "JP" {
		t.Errorf("row 4: country %q, want JP from 日本", sr.CountryCode)
	}
	for title, want := range map[string]client.Severity{
		"Credit note missing for cancelled seats":         client.SeverityModerate, // p2
		"Reseller relationship request expired":           client.SeverityMinimal,  // Low
		"Azure subscription suspended after payment":      client.SeverityCritical, // Sev A
		"Trial did not convert to paid":                   client.SeverityCritical, // critical, not a key
		"Cannot download reconciliation file":             client.SeverityModerate, // empty
		"Reservation exchange failed":                     client.SeverityCritical, // " high "
		"Marketplace offer not visible to customer":       client.SeverityModerate, // moderate, not a key
		"Cannot cancel annual subscription within window": client.SeverityCritical, // SEV A
	} {
		if got := byTitle[title].Severity; got != want {
			t.Errorf("%q: severity %v, want %v", title, got, want)
		}
	}
}
