package client

import (
	"reflect"
	"testing"

	"github.com/srimport/srimport/wire"
)

// seedResponse is the response example of the contract (§2); wire's tests
// hold the same text.
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

// The aliases are the wire types themselves, and the wrappers behave as
// wire's functions do.
func TestWireAliases(t *testing.T) {
	if reflect.TypeFor[ServiceRequest]() != reflect.TypeFor[wire.ServiceRequest]() ||
		reflect.TypeFor[Collection[SupportTopic]]() != reflect.TypeFor[wire.Collection[wire.SupportTopic]]() {
		t.Fatal("client's wire names are not aliases of package wire's types")
	}
	var a ServiceRequest
	var b wire.ServiceRequest
	if err := Decode([]byte("\xEF\xBB\xBF"+seedResponse), &a); err != nil {
		t.Fatal(err)
	}
	if err := wire.Decode([]byte(seedResponse), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("client.Decode = %+v, wire.Decode = %+v", a, b)
	}
	if s, ok := ParseSeverity("Critical"); !ok || s != wire.SeverityCritical {
		t.Errorf("ParseSeverity(Critical) = %v, %v", s, ok)
	}
	if s, ok := ParseStatus("AttentionNeeded"); !ok || s != StatusAttentionNeeded {
		t.Errorf("ParseStatus(AttentionNeeded) = %v, %v", s, ok)
	}
	if tm, err := ParseTime(Unset); err != nil || !tm.IsZero() {
		t.Errorf("ParseTime(Unset) = %v, %v", tm, err)
	}
}
