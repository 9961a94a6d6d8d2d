package wire

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// jsonKeys marshals v and returns the keys of the resulting object, sorted.
func jsonKeys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestFieldNames checks, case included, the names the types encode with
// against partner-center-contract.md (§§1–4). Decoding is case-insensitive,
// so a mis-cased tag would otherwise go unnoticed by every round trip.
func TestFieldNames(t *testing.T) {
	now := Time{time.Date(2019, 11, 4, 8, 2, 41, 0, time.UTC)}
	org := &Organization{ID: "o", Name: "n", PhoneNumber: "p"}
	contact := &Contact{ContactID: "c", FirstName: "f", LastName: "l", Email: "e", PhoneNumber: "p", Organization: org}
	note := Note{CreatedByName: "b", CreatedDate: now, Text: "t"}
	attrs := &Attributes{ObjectType: ObjectServiceRequest, Etag: "x"}
	link := &Link{URI: "/u", Method: "GET", Headers: []string{}}
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{"ServiceRequest", &ServiceRequest{
			ID: "1", Title: "t", Description: "d", Severity: SeverityCritical, SupportTopicID: "2",
			SupportTopicName: "n", SupportTopicDescription: "sd", Status: StatusOpen,
			Organization: org, PrimaryContact: contact, LastUpdatedBy: contact, ProductName: "p", ProductID: "3",
			CreatedDate: now, LastModifiedDate: now, LastClosedDate: now, FileLinks: []FileInfo{{}},
			NewNote: &note, Notes: []Note{note}, CountryCode: "GB", AdditionalInfo: "a", CreationChannel: "c",
			EmailCcList: []string{"x@y"}, Attributes: attrs,
		}, []string{
			"id", "title", "description", "severity", "supportTopicId", "supportTopicName", "supportTopicDescription",
			"status", "organization", "primaryContact", "lastUpdatedBy", "productName", "productId",
			"createdDate", "lastModifiedDate", "lastClosedDate", "fileLinks", "newNote", "notes", "countryCode",
			"additionalInfo", "creationChannel", "emailCcList", "attributes",
		}},
		{"Organization", org, []string{"id", "name", "phoneNumber"}},
		{"Contact", contact, []string{"contactId", "firstName", "lastName", "email", "phoneNumber", "organization"}},
		{"Note", note, []string{"createdByName", "createdDate", "text"}},
		{"Attributes", attrs, []string{"objectType", "etag"}},
		{"SupportTopic", &SupportTopic{ID: 1, Name: "n", Description: "d", Attributes: attrs}, []string{"id", "name", "description", "attributes"}},
		{"Link", link, []string{"uri", "method", "headers"}},
		{"Links", &Links{Self: link, Next: link}, []string{"self", "next"}},
		{"Collection", &Collection[SupportTopic]{Items: []SupportTopic{}, Links: &Links{}, Attributes: attrs}, []string{"totalCount", "items", "links", "attributes"}},
	}
	for _, tt := range tests {
		if got, want := jsonKeys(t, tt.v), slices.Sorted(slices.Values(tt.want)); !slices.Equal(got, want) {
			t.Errorf("%s encodes keys %q, want %q", tt.name, got, want)
		}
	}
}
