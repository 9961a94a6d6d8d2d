package wire

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeToleratesBOM(t *testing.T) {
	for _, body := range []string{"\xEF\xBB\xBF{\"id\":\"42\",\"title\":\"t\"}", "{\"id\":\"42\",\"title\":\"t\"}"} {
		var sr ServiceRequest
		if err := Decode([]byte(body), &sr); err != nil {
			t.Fatalf("Decode(%q): %v", body, err)
		}
		if sr.ID != "42" || sr.Title != "t" {
			t.Errorf("Decode(%q) = %+v", body, sr)
		}
	}
}

func TestSeverityDecode(t *testing.T) {
	tests := []struct {
		in   string
		want Severity
	}{
		{`"CRITICAL"`, SeverityCritical},
		{`"Critical"`, SeverityCritical},
		{`"critical"`, SeverityCritical},
		{`1`, SeverityCritical},
		{`3`, SeverityMinimal},
		{`"moderate"`, SeverityModerate},
		{`"severe"`, SeverityUnknown},
		{`null`, SeverityUnknown},
		{`17`, SeverityUnknown},
	}
	for _, tt := range tests {
		var s Severity = SeverityModerate
		if err := json.Unmarshal([]byte(tt.in), &s); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if s != tt.want {
			t.Errorf("%s decodes to %v, want %v", tt.in, s, tt.want)
		}
	}
}

func TestStatusDecode(t *testing.T) {
	tests := []struct {
		in   string
		want Status
	}{
		{`"attention_needed"`, StatusAttentionNeeded},
		{`"AttentionNeeded"`, StatusAttentionNeeded},
		{`"ATTENTION-NEEDED"`, StatusAttentionNeeded},
		{`3`, StatusAttentionNeeded},
		{`"Open"`, StatusOpen},
		{`"closed"`, StatusClosed},
		{`"escalated"`, StatusNone},
		{`null`, StatusNone},
	}
	for _, tt := range tests {
		var s Status = StatusClosed
		if err := json.Unmarshal([]byte(tt.in), &s); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if s != tt.want {
			t.Errorf("%s decodes to %v, want %v", tt.in, s, tt.want)
		}
	}
	if b, _ := json.Marshal(StatusAttentionNeeded); string(b) != `"attention_needed"` {
		t.Errorf("StatusAttentionNeeded encodes as %s", b)
	}
}

func TestTimeDecode(t *testing.T) {
	want := time.Date(2019, 11, 4, 8, 2, 41, 70_000_000, time.UTC)
	tests := []struct {
		in   string
		want time.Time // zero: want the zero Time
	}{
		{`"2019-11-04T08:02:41.07Z"`, want},
		{`"2019-11-04T08:02:41.07"`, want}, // zone-less: UTC
		{`"2019-11-04T08:02:41.0700000Z"`, want},
		{`"2019-11-04T08:02:41.0712345Z"`, time.Date(2019, 11, 4, 8, 2, 41, 71_234_500, time.UTC)},
		{`"2019-11-04T10:02:41.07+02:00"`, want},
		{`"0001-01-01T00:00:00"`, time.Time{}},
		{`"0001-01-01T00:00:00Z"`, time.Time{}},
		{`""`, time.Time{}},
		{`null`, time.Time{}},
	}
	for _, tt := range tests {
		tm := Time{time.Now()}
		if err := json.Unmarshal([]byte(tt.in), &tm); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if tt.want.IsZero() {
			if !tm.IsZero() {
				t.Errorf("%s decodes to %v, want the zero Time", tt.in, tm)
			}
			continue
		}
		if !tm.Equal(tt.want) || tm.Location() != time.UTC {
			t.Errorf("%s decodes to %v (%v), want %v UTC", tt.in, tm, tm.Location(), tt.want)
		}
	}
	var tm Time
	if err := json.Unmarshal([]byte(`"yesterday"`), &tm); err == nil {
		t.Error(`"yesterday" decoded without error`)
	}
}

func TestTimeMarshal(t *testing.T) {
	b, err := json.Marshal(Time{})
	if err != nil || string(b) != `"0001-01-01T00:00:00"` {
		t.Errorf("zero Time encodes as %s, %v; want the sentinel", b, err)
	}
	loc := time.FixedZone("x", 2*3600)
	b, err = json.Marshal(Time{time.Date(2019, 11, 4, 10, 2, 41, 70_000_000, loc)})
	if err != nil || string(b) != `"2019-11-04T08:02:41.07Z"` {
		t.Errorf("Time encodes as %s, %v; want UTC with Z", b, err)
	}
}

// seedResponse is the response example of the contract (§2).
const seedResponse = `{
  "id": "618000000004471",
  "title": "Reserved instance not applied to subscription",
  "description": "Customer bought a one-year reservation on 3 March; usage is still billed pay-as-you-go.",
  "severity": "critical",
  "supportTopicId": "32451178",
  "supportTopicName": "Billing and reservations",
  "status": "open",
  "organization": { "id": "5f0c2d7e-…", "name": "Fabrikam Cloud", "phoneNumber": "5550142" },
  "primaryContact": { "contactId": "9d3e…", "firstName": "Noor", "lastName": "Haddad", "email": "noor@fabrikam.example",
                      "phoneNumber": "5550143", "organization": { "id": "5f0c2d7e-…", "name": "Fabrikam Cloud" } },
  "createdDate": "2019-11-04T08:02:41.07Z",
  "lastModifiedDate": "2019-11-04T08:02:41.07",
  "lastClosedDate": "0001-01-01T00:00:00",
  "notes": [ { "createdByName": "Haddad", "createdDate": "2019-11-04T08:02:41.07Z", "text": "Imported from ticket backlog, row 17" } ],
  "countryCode": "GB",
  "attributes": { "objectType": "ServiceRequest" }
}`

func TestSeedResponseRoundTrip(t *testing.T) {
	var sr ServiceRequest
	if err := Decode([]byte(seedResponse), &sr); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2019, 11, 4, 8, 2, 41, 70_000_000, time.UTC)
	switch {
	case sr.ID != "618000000004471", sr.Severity != SeverityCritical, sr.Status != StatusOpen,
		sr.SupportTopicID != "32451178", sr.SupportTopicName != "Billing and reservations":
		t.Errorf("scalar fields: %+v", sr)
	case sr.Organization == nil || sr.Organization.Name != "Fabrikam Cloud" || sr.Organization.PhoneNumber != "5550142":
		t.Errorf("organization: %+v", sr.Organization)
	case sr.PrimaryContact == nil || sr.PrimaryContact.Email != "noor@fabrikam.example" ||
		sr.PrimaryContact.Organization == nil || sr.PrimaryContact.Organization.ID != "5f0c2d7e-…":
		t.Errorf("primary contact: %+v", sr.PrimaryContact)
	case !sr.CreatedDate.Equal(created), !sr.LastModifiedDate.Equal(created), !sr.LastClosedDate.IsZero():
		t.Errorf("dates: %v %v %v", sr.CreatedDate, sr.LastModifiedDate, sr.LastClosedDate)
	case len(sr.Notes) != 1 || sr.Notes[0].CreatedByName != "Haddad" || !sr.Notes[0].CreatedDate.Equal(created):
		t.Errorf("notes: %+v", sr.Notes)
	case sr.CountryCode != "GB", sr.Attributes == nil || sr.Attributes.ObjectType != ObjectServiceRequest:
		t.Errorf("country/attributes: %q %+v", sr.CountryCode, sr.Attributes)
	}

	b, err := json.Marshal(&sr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"severity":"critical"`, `"status":"open"`, `"createdDate":"2019-11-04T08:02:41.07Z"`, `"lastModifiedDate":"2019-11-04T08:02:41.07Z"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("encoding lacks %s: %s", want, b)
		}
	}
	var again ServiceRequest
	if err := Decode(b, &again); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sr, again) {
		t.Errorf("round trip changed the request:\n first %+v\nsecond %+v", sr, again)
	}
}

func TestLinkHeaders(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`{"uri":"/servicerequests?size=1&offset=1","method":"GET","headers":[]}`, []string{}},
		{`{"uri":"/x","headers":["MS-ContinuationToken: abc"]}`, []string{"MS-ContinuationToken: abc"}},
		{`{"uri":"/x","headers":[{"key":"MS-ContinuationToken","value":"abc"}]}`, []string{"MS-ContinuationToken: abc"}},
		{`{"uri":"/x"}`, nil},
	}
	for _, tt := range tests {
		var l Link
		if err := json.Unmarshal([]byte(tt.in), &l); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if l.URI == "" || !reflect.DeepEqual(l.Headers, tt.want) {
			t.Errorf("%s decodes to %+v, want headers %q", tt.in, l, tt.want)
		}
	}
	var l Link
	if err := json.Unmarshal([]byte(`{"uri":"/x","headers":[1]}`), &l); err == nil {
		t.Error("a numeric header decoded without error")
	}
}

func TestParseEnumSpellings(t *testing.T) {
	for text, want := range map[string]int{
		"critical": 1, "Critical": 1, " CRITICAL ": 1, "crit_ical": 1, "2": 2, " +3 ": 3, "-critical": 1,
		"\u212Aritical": -1, // the Kelvin sign lower-cases to k
		"critica":       -1, "criticals": -1, "": -1, "4": -1, "-1": -1, "\xffcritical": -1,
	} {
		s, ok := ParseSeverity(text)
		if (want >= 0) != ok || ok && int(s) != want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %d", text, s, ok, want)
		}
	}
	for text, want := range map[string]Status{"AttentionNeeded": StatusAttentionNeeded, "attention needed": StatusAttentionNeeded, "OPEN": StatusOpen} {
		if s, ok := ParseStatus(text); !ok || s != want {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v", text, s, ok, want)
		}
	}
	if s, ok := ParseStatus("\u212Aopen"); ok {
		t.Errorf("ParseStatus with a stray rune = %v, true", s)
	}
}

// Severities and statuses are parsed on every row and request: a name in
// any spelling, or a number, must not allocate.
func TestParseEnumDoesNotAllocate(t *testing.T) {
	for _, text := range []string{"critical", "Critical", "MINIMAL", "2", "bogus", "Attention-Needed"} {
		if n := testing.AllocsPerRun(100, func() { ParseSeverity(text); ParseStatus(text) }); n != 0 {
			t.Errorf("parsing %q allocates %.0f times", text, n)
		}
	}
}

// Topic ids are integers on the wire (contract §3) but strings from some
// servers; both decode, and the id always encodes as an integer.
func TestSupportTopicID(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{`{"id":32444671,"name":"Partner Center account"}`, 32444671},
		{`{"id":"32444671","name":"Partner Center account"}`, 32444671},
		{`{"id":" 32444671 ","name":"Partner Center account"}`, 32444671},
		{`{"id":"9223372036854775807","name":"Partner Center account"}`, 9223372036854775807},
		{`{"id":null,"name":"Partner Center account"}`, 0},
		{`{"name":"Partner Center account"}`, 0},
	}
	for _, tt := range tests {
		var st SupportTopic
		if err := Decode([]byte(tt.in), &st); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if st.ID != tt.want || st.Name != "Partner Center account" {
			t.Errorf("%s decodes to %+v, want id %d", tt.in, st, tt.want)
		}
	}
	for _, in := range []string{`{"id":"abc"}`, `{"id":""}`, `{"id":"-5"}`, `{"id":"+5"}`, `{"id":"3.5"}`, `{"id":3.5}`,
		`{"id":"9223372036854775808"}`, `{"id":true}`, `{"id":{}}`} {
		var st SupportTopic
		if err := Decode([]byte(in), &st); err == nil {
			t.Errorf("%s decoded to %+v without error", in, st)
		}
	}

	var col Collection[SupportTopic]
	body := `{"totalCount":2,"items":[{"id":"32451178","name":"Billing and reservations","attributes":{"objectType":"SupportTopic"}},{"id":7,"name":"Other"}],"attributes":{"objectType":"Collection"}}`
	if err := Decode([]byte(body), &col); err != nil {
		t.Fatal(err)
	}
	want := []SupportTopic{
		{ID: 32451178, Name: "Billing and reservations", Attributes: &Attributes{ObjectType: ObjectSupportTopic}},
		{ID: 7, Name: "Other"},
	}
	if !reflect.DeepEqual(col.Items, want) {
		t.Errorf("collection items %+v, want %+v", col.Items, want)
	}
	if b, err := json.Marshal(col.Items[0]); err != nil || !strings.HasPrefix(string(b), `{"id":32451178,`) {
		t.Errorf("topic encodes as %s, %v; want an integer id", b, err)
	}
}
