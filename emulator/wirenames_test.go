package emulator

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The field names below are copied from partner-center-contract.md (§§2–4,
// §7), not from any Go type: the emulator's own response types must spell
// them exactly, in camelCase, with nothing missing or extra.
var (
	srFields = []string{
		"id", "title", "description", "severity", "supportTopicId", "supportTopicName", "status",
		"organization", "primaryContact", "productName", "productId",
		"createdDate", "lastModifiedDate", "lastClosedDate", "notes", "countryCode", "attributes",
	}
	orgFields        = []string{"id", "name", "phoneNumber"}
	contactFields    = []string{"contactId", "firstName", "lastName", "email", "phoneNumber", "organization"}
	noteFields       = []string{"createdByName", "createdDate", "text"}
	attributesFields = []string{"objectType"}
	collectionFields = []string{"totalCount", "items", "links", "attributes"}
	linkFields       = []string{"uri", "method", "headers"}
	topicFields      = []string{"id", "name", "description", "attributes"}
	faultFields      = []string{"code", "description", "data", "source"}
)

// fullCreateBody sets every field a caller may send on create, so that
// every optional response field is present.
const fullCreateBody = `{"title":"Reserved instance not applied","description":"Still billed pay-as-you-go.",
	"severity":"critical","supportTopicId":"32451178","productName":"Azure reservations","productId":"15960","countryCode":"GB",
	"primaryContact":{"contactId":"c-1","firstName":"Ana","lastName":"Silva","email":"ana@contoso.example","phoneNumber":"5550100",
		"organization":{"id":"org-1","name":"Contoso","phoneNumber":"5550101"}},
	"notes":[{"text":"Imported from ticket backlog, row 17"}]}`

// object asserts that v, found at path, is a JSON object with exactly the
// keys want, and returns it.
func object(t *testing.T, path string, v any, want ...string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s = %#v, want a JSON object", path, v)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s has keys %q, want %q", path, got, want)
	}
	return m
}

// array asserts that v, found at path, is a JSON array of n elements.
func array(t *testing.T, path string, v any, n int) []any {
	t.Helper()
	a, ok := v.([]any)
	if !ok || len(a) != n {
		t.Fatalf("%s = %#v, want an array of %d", path, v, n)
	}
	return a
}

// wantString asserts that m[key] is the JSON string want.
func wantString(t *testing.T, path string, m map[string]any, key, want string) {
	t.Helper()
	if s, ok := m[key].(string); !ok || s != want {
		t.Errorf("%s.%s = %#v, want the string %q", path, key, m[key], want)
	}
}

// checkSR checks a service request's field names, nested objects included,
// and the values the create body set. extra lists fields beyond srFields.
func checkSR(t *testing.T, path string, v any, extra ...string) map[string]any {
	t.Helper()
	sr := object(t, path, v, append(slices.Clone(srFields), extra...)...)
	for k, want := range map[string]string{
		"title": "Reserved instance not applied", "description": "Still billed pay-as-you-go.",
		"severity": "critical", "supportTopicId": "32451178", "supportTopicName": "Billing and reservations",
		"productName": "Azure reservations", "productId": "15960", "countryCode": "GB",
	} {
		wantString(t, path, sr, k, want)
	}
	for _, k := range []string{"createdDate", "lastModifiedDate"} {
		if s, _ := sr[k].(string); !strings.HasSuffix(s, "Z") {
			t.Errorf("%s.%s = %#v, want a UTC timestamp", path, k, sr[k])
		} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			t.Errorf("%s.%s: %v", path, k, err)
		}
	}
	attrs := object(t, path+".attributes", sr["attributes"], attributesFields...)
	wantString(t, path+".attributes", attrs, "objectType", "ServiceRequest")
	object(t, path+".organization", sr["organization"], orgFields...)

	pc := object(t, path+".primaryContact", sr["primaryContact"], contactFields...)
	for k, want := range map[string]string{"contactId": "c-1", "firstName": "Ana", "lastName": "Silva", "email": "ana@contoso.example", "phoneNumber": "5550100"} {
		wantString(t, path+".primaryContact", pc, k, want)
	}
	pco := object(t, path+".primaryContact.organization", pc["organization"], orgFields...)
	for k, want := range map[string]string{"id": "org-1", "name": "Contoso", "phoneNumber": "5550101"} {
		wantString(t, path+".primaryContact.organization", pco, k, want)
	}

	notes, _ := sr["notes"].([]any)
	if len(notes) == 0 {
		t.Fatalf("%s.notes = %#v, want the created note", path, sr["notes"])
	}
	n := object(t, path+".notes[0]", notes[0], noteFields...)
	wantString(t, path+".notes[0]", n, "text", "Imported from ticket backlog, row 17")
	if s, _ := n["createdByName"].(string); s == "" {
		t.Errorf("%s.notes[0].createdByName is empty", path)
	}
	return sr
}

// checkLink checks a collection link: uri, method GET and an empty headers
// array.
func checkLink(t *testing.T, path string, v any, uri string) {
	t.Helper()
	l := object(t, path, v, linkFields...)
	wantString(t, path, l, "uri", uri)
	wantString(t, path, l, "method", "GET")
	array(t, path+".headers", l["headers"], 0)
}

// TestResponseFieldNames decodes raw response bodies into map[string]any
// and checks every field name against the contract. A wrong JSON tag in
// the emulator's response types (wire.go) or in its contact input
// (handlers.go) fails it.
func TestResponseFieldNames(t *testing.T) {
	te := newEnv(t, Config{})

	created := checkSR(t, "create", te.create(fullCreateBody))
	wantString(t, "create", created, "status", "open")
	wantString(t, "create", created, "lastClosedDate", "0001-01-01T00:00:00")
	id, _ := created["id"].(string)
	if !fifteenDigits.MatchString(id) {
		t.Fatalf("create.id = %#v, want a 15-digit string", created["id"])
	}

	_, b := te.do(http.MethodGet, "/v1/servicerequests/"+id, "")
	checkSR(t, "get", decodeObject(t, b))

	// An update adds lastUpdatedBy, a contact.
	resp, b := te.do(http.MethodPatch, "/v1/servicerequests/"+id, `{"newNote":{"text":"second"},"status":"closed"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("patch: status %d: %s", resp.StatusCode, b)
	}
	patched := checkSR(t, "patch", decodeObject(t, b), "lastUpdatedBy")
	wantString(t, "patch", patched, "status", "closed")
	object(t, "patch.lastUpdatedBy", patched["lastUpdatedBy"], contactFields...)
	object(t, "patch.notes[1]", array(t, "patch.notes", patched["notes"], 2)[1], noteFields...)

	// A list page with a next link.
	te.create(fullCreateBody)
	_, b = te.do(http.MethodGet, "/v1/servicerequests?size=1", "")
	col := object(t, "list", decodeObject(t, b), collectionFields...)
	if n, ok := col["totalCount"].(float64); !ok || n != 1 {
		t.Errorf("list.totalCount = %#v, want the number 1", col["totalCount"])
	}
	checkSR(t, "list.items[0]", array(t, "list.items", col["items"], 1)[0])
	links := object(t, "list.links", col["links"], "self", "next")
	checkLink(t, "list.links.self", links["self"], "/servicerequests?size=1&offset=0")
	checkLink(t, "list.links.next", links["next"], "/servicerequests?size=1&offset=1")
	wantString(t, "list.attributes", object(t, "list.attributes", col["attributes"], attributesFields...), "objectType", "Collection")

	// The support topics: integer ids.
	_, b = te.do(http.MethodGet, "/v1/servicerequests/supporttopics", "")
	col = object(t, "topics", decodeObject(t, b), collectionFields...)
	items := array(t, "topics.items", col["items"], len(DefaultTopics()))
	topic := object(t, "topics.items[0]", items[0], topicFields...)
	if n, ok := topic["id"].(float64); !ok || n != 32444671 {
		t.Errorf("topics.items[0].id = %#v, want the number 32444671", topic["id"])
	}
	wantString(t, "topics.items[0]", topic, "name", "Partner Center account")
	wantString(t, "topics.items[0].attributes", object(t, "topics.items[0].attributes", topic["attributes"], attributesFields...), "objectType", "SupportTopic")
	checkLink(t, "topics.links.self", object(t, "topics.links", col["links"], "self")["self"], "/servicerequests/supporttopics")
	wantString(t, "topics.attributes", object(t, "topics.attributes", col["attributes"], attributesFields...), "objectType", "Collection")

	// An ApiFault.
	_, b = te.do(http.MethodGet, "/v1/servicerequests/616999999999999", "")
	fault := object(t, "fault", decodeObject(t, b), faultFields...)
	wantString(t, "fault", fault, "code", "1000")
	wantString(t, "fault", fault, "source", "PartnerFD")
	array(t, "fault.data", fault["data"], 0)
}
