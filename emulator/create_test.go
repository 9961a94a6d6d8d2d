package emulator

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/wire"
)

var fifteenDigits = regexp.MustCompile(`^[0-9]{15}$`)

func TestCreateResponseShape(t *testing.T) {
	te := newEnv(t, Config{})
	body := `{"title":"Reserved instance not applied","description":"Still billed.","severity":"Critical","supportTopicId":"32451178",
		"productName":"Azure reservations","productId":"15960",
		"notes":[{"text":"Imported from ticket backlog, row 17"}],"newNote":{"text":"second"}}`
	before := time.Now().UTC().Add(-time.Second)
	resp, b := te.do(http.MethodPost, createPath, body, "MS-RequestId", "rid-shape", "MS-CorrelationId", "corr-shape")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if got := resp.Header.Get("MS-RequestId"); got != "rid-shape" {
		t.Errorf("MS-RequestId echoed as %q", got)
	}
	if got := resp.Header.Get("MS-CorrelationId"); got != "corr-shape" {
		t.Errorf("MS-CorrelationId echoed as %q", got)
	}
	m := decodeObject(t, b)
	for k := range m {
		if k[0] < 'a' || k[0] > 'z' {
			t.Errorf("key %q is not camelCase", k)
		}
	}
	if id := str(m, "id"); !fifteenDigits.MatchString(id) || id != "616000000000001" {
		t.Errorf("id %q: want the first 15-digit id 616000000000001", id)
	}
	checks := map[string]string{
		"title": "Reserved instance not applied", "severity": "critical", "supportTopicId": "32451178",
		"supportTopicName": "Billing and reservations", "status": "open", "countryCode": "US",
		"productName": "Azure reservations", "productId": "15960", "lastClosedDate": wire.Unset,
	}
	for k, want := range checks {
		if got := str(m, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := str(m, "attributes", "objectType"); got != "ServiceRequest" {
		t.Errorf("attributes.objectType = %q", got)
	}
	for _, k := range []string{"createdDate", "lastModifiedDate"} {
		s := str(m, k)
		d, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !strings.HasSuffix(s, "Z") || d.Before(before) || d.After(time.Now().Add(time.Second)) {
			t.Errorf("%s = %q (%v): want now, UTC with Z", k, s, err)
		}
	}
	if str(m, "organization", "id") == "" || str(m, "organization", "name") == "" {
		t.Errorf("organization not filled: %v", m["organization"])
	}
	if str(m, "primaryContact", "contactId") == "" || str(m, "primaryContact", "organization", "id") == "" {
		t.Errorf("primaryContact not filled: %v", m["primaryContact"])
	}
	notes, _ := m["notes"].([]any)
	if len(notes) != 2 {
		t.Fatalf("notes %v: want the note and the newNote", m["notes"])
	}
	for i, want := range []string{"Imported from ticket backlog, row 17", "second"} {
		n := notes[i].(map[string]any)
		if n["text"] != want || str(n, "createdByName") == "" || !strings.HasSuffix(str(n, "createdDate"), "Z") {
			t.Errorf("note %d = %v", i, n)
		}
	}

	// The stored request matches the answer.
	srs := te.em.ServiceRequests()
	if len(srs) != 1 || srs[0].ID != str(m, "id") || srs[0].Status != wire.StatusOpen || len(srs[0].Notes) != 2 {
		t.Fatalf("stored %+v", srs)
	}
	if got := te.em.RequestIDs()[srs[0].ID]; got != "rid-shape" {
		t.Errorf("RequestIDs()[%s] = %q", srs[0].ID, got)
	}
	// Ids count up.
	if id := str(te.create(""), "id"); id != "616000000000002" {
		t.Errorf("second id %q", id)
	}
}

func TestCreateKeepsCallerFields(t *testing.T) {
	te := newEnv(t, Config{})
	m := te.create(`{"title":"t","description":"d","severity":3,"supportTopicId":32444671,"countryCode":"GB",
		"primaryContact":{"firstName":"Ana","lastName":"Silva","email":"ana@contoso.example"}}`)
	if str(m, "severity") != "minimal" || str(m, "supportTopicId") != "32444671" || str(m, "countryCode") != "GB" {
		t.Errorf("severity/topic/country not kept: %v", m)
	}
	if str(m, "primaryContact", "firstName") != "Ana" || str(m, "primaryContact", "email") != "ana@contoso.example" {
		t.Errorf("primaryContact not kept: %v", m["primaryContact"])
	}
	if str(m, "primaryContact", "organization", "id") == "" {
		t.Errorf("primaryContact has no organization: %v", m["primaryContact"])
	}
}

func TestCreateAcceptsSeedExample(t *testing.T) {
	te := newEnv(t, Config{})
	m := te.create(seedBody)
	if str(m, "title") != "TrialSR" || str(m, "status") != "open" || str(m, "supportTopicName") != "Partner Center account" {
		t.Errorf("seed example answered %v", m)
	}
	if str(m, "createdDate") == wire.Unset {
		t.Error("sentinel createdDate from the request was not ignored")
	}
}

func TestCreateAcceptsVariants(t *testing.T) {
	te := newEnv(t, Config{})
	for _, tc := range []struct{ locale, severity, topic string }{
		{"en-us", `"CRITICAL"`, `"32451178"`},
		{"sr-Latn-RS", `"Moderate"`, `"32444671"`},
		{"es-419", `1`, `32451178`},
		{"zh-Hant-TW", `"minimal"`, `" 32451178 "`},
		{"fr", `2`, `"32444671"`},
	} {
		body := `{"Title":"t","Description":"d","Severity":` + tc.severity + `,"SupportTopicId":` + tc.topic + `}`
		resp, b := te.do(http.MethodPost, "/v1/servicerequests/"+tc.locale, body)
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("%s %s %s: status %d %s", tc.locale, tc.severity, tc.topic, resp.StatusCode, b)
		}
	}
}

func TestCreateRejects(t *testing.T) {
	long := strings.Repeat("9", 5000)
	cases := []struct {
		name, locale, body, code string
	}{
		{"missing title", "en-US", `{"description":"d","severity":"critical","supportTopicId":"32451178"}`, "3000"},
		{"blank title", "en-US", `{"title":"  ","description":"d","severity":"critical","supportTopicId":"32451178"}`, "3000"},
		{"null description", "en-US", `{"title":"t","description":null,"severity":"critical","supportTopicId":"32451178"}`, "3000"},
		{"missing severity", "en-US", `{"title":"t","description":"d","supportTopicId":"32451178"}`, "3000"},
		{"severity unknown", "en-US", `{"title":"t","description":"d","severity":"unknown","supportTopicId":"32451178"}`, "3000"},
		{"severity urgent", "en-US", `{"title":"t","description":"d","severity":"urgent","supportTopicId":"32451178"}`, "3000"},
		{"severity 0", "en-US", `{"title":"t","description":"d","severity":0,"supportTopicId":"32451178"}`, "3000"},
		{"severity 4", "en-US", `{"title":"t","description":"d","severity":4,"supportTopicId":"32451178"}`, "3000"},
		{"missing topic", "en-US", `{"title":"t","description":"d","severity":"critical"}`, "3000"},
		{"blank topic", "en-US", `{"title":"t","description":"d","severity":"critical","supportTopicId":""}`, "3000"},
		{"topic not numeric", "en-US", `{"title":"t","description":"d","severity":"critical","supportTopicId":"billing"}`, "3000"},
		{"topic negative", "en-US", `{"title":"t","description":"d","severity":"critical","supportTopicId":"-32451178"}`, "3000"},
		{"topic unknown", "en-US", `{"title":"t","description":"d","severity":"critical","supportTopicId":"12345678"}`, "3000"},
		{"topic huge", "en-US", `{"title":"t","description":"d","severity":"critical","supportTopicId":"` + long + `"}`, "3000"},
		{"title wrong type", "en-US", `{"title":5,"description":"d","severity":"critical","supportTopicId":"32451178"}`, "3000"},
		{"locale word", "english", validBody, "800002"},
		{"locale underscore", "en_US", validBody, "800002"},
		{"locale long", strings.Repeat("x", 3000), validBody, "800002"},
		{"not json", "en-US", `title=t&description=d`, "800002"},
		{"truncated json", "en-US", `{"title":"t",`, "800002"},
		{"json array", "en-US", `[` + validBody + `]`, "800002"},
		{"empty body", "en-US", ``, "800002"},
	}
	te := newEnv(t, Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := te.do(http.MethodPost, "/v1/servicerequests/"+tc.locale, tc.body)
			wantFault(t, resp, b, http.StatusBadRequest, tc.code)
		})
	}
	st := te.em.Stats()
	if st.Created != 0 || len(te.em.ServiceRequests()) != 0 {
		t.Errorf("rejected requests created something: %+v", st)
	}
	if st.Rejected != int64(len(cases)) {
		t.Errorf("Stats.Rejected = %d, want %d", st.Rejected, len(cases))
	}
}

func TestCreateReplay(t *testing.T) {
	te := newEnv(t, Config{})
	resp1, b1 := te.do(http.MethodPost, createPath, validBody, "MS-RequestId", "rid-1")
	resp2, b2 := te.do(http.MethodPost, createPath, validBody, "MS-RequestId", "rid-1")
	if resp1.StatusCode != http.StatusCreated || resp2.StatusCode != http.StatusCreated {
		t.Fatalf("statuses %d, %d", resp1.StatusCode, resp2.StatusCode)
	}
	if !bytes.Equal(b1, b2) {
		t.Errorf("replay answered differently:\n%s\n%s", b1, b2)
	}
	st := te.em.Stats()
	if st.Created != 1 || st.Replays != 1 || len(te.em.ServiceRequests()) != 1 {
		t.Errorf("after a replay: %+v, %d stored", st, len(te.em.ServiceRequests()))
	}
	// A broken body under a committed id still replays.
	resp3, b3 := te.do(http.MethodPost, createPath, `{`, "MS-RequestId", "rid-1")
	if resp3.StatusCode != http.StatusCreated || !bytes.Equal(b1, b3) {
		t.Errorf("replay with a broken body: %d %s", resp3.StatusCode, b3)
	}
	// Another id, another path (locale) or no id at all creates anew.
	te.create("", "MS-RequestId", "rid-2")
	resp4, _ := te.do(http.MethodPost, "/v1/servicerequests/fr-FR", validBody, "MS-RequestId", "rid-1")
	te.create("", "MS-RequestId", "")
	te.create("", "MS-RequestId", "")
	if resp4.StatusCode != http.StatusCreated || te.em.Stats().Created != 5 {
		t.Errorf("distinct keys: status %d, %+v", resp4.StatusCode, te.em.Stats())
	}
	// A failed request is not remembered: fixing the body under the same
	// id creates.
	resp5, _ := te.do(http.MethodPost, createPath, `{"title":"t"}`, "MS-RequestId", "rid-3")
	m := te.create("", "MS-RequestId", "rid-3")
	if resp5.StatusCode != http.StatusBadRequest || te.em.RequestIDs()[str(m, "id")] != "rid-3" {
		t.Errorf("retry after a 400: first %d, then %v", resp5.StatusCode, m["id"])
	}
}

func TestCreateConcurrentSameRequestID(t *testing.T) {
	te := newEnv(t, Config{Jitter: 2 * time.Millisecond, Seed: 3})
	te.hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	const n = 50
	ids := make([]string, n)
	codes := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			resp, b, err := te.try(http.MethodPost, createPath, validBody, "MS-RequestId", "same-id")
			if err != nil {
				t.Error(err)
				return
			}
			codes[i] = resp.StatusCode
			var m map[string]any
			if resp.StatusCode == http.StatusCreated {
				m = decodeObject(t, b)
			}
			ids[i] = str(m, "id")
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if codes[i] != http.StatusCreated || ids[i] != ids[0] || ids[i] == "" {
			t.Fatalf("call %d: status %d id %q; call 0 got id %q", i, codes[i], ids[i], ids[0])
		}
	}
	st := te.em.Stats()
	if got := len(te.em.ServiceRequests()); got != 1 || st.Created != 1 || st.Replays != n-1 {
		t.Fatalf("%d stored, stats %+v: want one request and %d replays", got, st, n-1)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"}, // é is two bytes: do not keep half of it
		{"a€b", 3, "a"},
		{"a€b", 4, "a€"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
