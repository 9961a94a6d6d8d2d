package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/srimport/srimport/wire"
)

func TestGet(t *testing.T) {
	te := newEnv(t, Config{})
	_, created := te.do(http.MethodPost, createPath, validBody)
	id := str(decodeObject(t, created), "id")
	for _, path := range []string{"/v1/servicerequests/" + id, "/v1/customers/c1/servicerequests/" + id} {
		resp, b := te.do(http.MethodGet, path, "")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, created) {
			t.Errorf("GET %s: %d\n%s\nwant the create answer\n%s", path, resp.StatusCode, b, created)
		}
	}
	resp, b := te.do(http.MethodGet, "/v1/servicerequests/616999999999999", "")
	wantFault(t, resp, b, http.StatusNotFound, "1000")
	resp, b = te.do(http.MethodGet, "/v1/customers/c1/servicerequests/nope", "")
	wantFault(t, resp, b, http.StatusNotFound, "1000")
}

func TestTopicsRouteWinsOverID(t *testing.T) {
	te := newEnv(t, Config{})
	resp, b := te.do(http.MethodGet, "/v1/servicerequests/supporttopics", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var coll struct {
		TotalCount int `json:"totalCount"`
		Items      []struct {
			ID         json.Number     `json:"id"`
			Name       string          `json:"name"`
			Attributes wire.Attributes `json:"attributes"`
		} `json:"items"`
		Attributes wire.Attributes `json:"attributes"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&coll); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if coll.Attributes.ObjectType != "Collection" || coll.TotalCount != len(coll.Items) || len(coll.Items) < 2 {
		t.Fatalf("collection %s", b)
	}
	names := map[string]string{}
	for _, it := range coll.Items {
		if it.Attributes.ObjectType != "SupportTopic" || len(it.ID.String()) != 8 {
			t.Errorf("topic %+v", it)
		}
		names[it.ID.String()] = it.Name
	}
	if names["32444671"] != "Partner Center account" || names["32451178"] != "Billing and reservations" {
		t.Errorf("topics %v", names)
	}
	if !bytes.Contains(b, []byte(`"id":32444671`)) {
		t.Errorf("topic ids are not JSON integers: %s", b)
	}
}

func TestPatch(t *testing.T) {
	te := newEnv(t, Config{})
	created := te.create("")
	id := str(created, "id")
	path := "/v1/servicerequests/" + id
	time.Sleep(2 * time.Millisecond) // so lastModifiedDate visibly moves

	// The documentation's update body: PascalCase, the whole object with
	// "no change" values beside the note and the status.
	body := `{"Id":null,"Title":null,"Severity":"unknown","Status":"closed","CreatedDate":"0001-01-01T00:00:00",
		"LastClosedDate":"0001-01-01T00:00:00","NewNote":{"Text":"Closing: fixed by the customer","CreatedByName":"spoof"}}`
	resp, b := te.do(http.MethodPatch, path, body, "MS-RequestId", "patch-1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, b)
	}
	m := decodeObject(t, b)
	if str(m, "status") != "closed" || str(m, "severity") != "critical" || str(m, "title") != str(created, "title") {
		t.Errorf("after close: status %q severity %q title %q", str(m, "status"), str(m, "severity"), str(m, "title"))
	}
	modified, err1 := time.Parse(time.RFC3339Nano, str(m, "lastModifiedDate"))
	createdAt, err2 := time.Parse(time.RFC3339Nano, str(created, "lastModifiedDate"))
	if str(m, "lastClosedDate") == wire.Unset || err1 != nil || err2 != nil || !modified.After(createdAt) {
		t.Errorf("dates not updated: closed %q modified %q (created %q)", str(m, "lastClosedDate"), str(m, "lastModifiedDate"), str(created, "lastModifiedDate"))
	}
	notes, _ := m["notes"].([]any)
	if len(notes) != 1 {
		t.Fatalf("notes %v", m["notes"])
	}
	n := notes[0].(map[string]any)
	if n["text"] != "Closing: fixed by the customer" || str(n, "createdByName") == "spoof" || str(n, "createdByName") == "" ||
		str(n, "createdDate") == wire.Unset {
		t.Errorf("note not stamped by the server: %v", n)
	}
	if str(m, "lastUpdatedBy", "contactId") == "" {
		t.Errorf("lastUpdatedBy not set: %v", m["lastUpdatedBy"])
	}

	// A replay answers the same and appends nothing.
	resp, b2 := te.do(http.MethodPatch, path, body, "MS-RequestId", "patch-1")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, b2) {
		t.Errorf("replay: %d %s", resp.StatusCode, b2)
	}
	// Customer-scoped, camelCase, status none = no change, severity change.
	resp, b = te.do(http.MethodPatch, "/v1/customers/c1/servicerequests/"+id, `{"status":"none","severity":2,"newNote":{"text":"more"}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("customer PATCH: %d %s", resp.StatusCode, b)
	}
	m = decodeObject(t, b)
	if str(m, "status") != "closed" || str(m, "severity") != "moderate" || len(m["notes"].([]any)) != 2 {
		t.Errorf("second update: %s", b)
	}
	srs := te.em.ServiceRequests()
	if len(srs) != 1 || len(srs[0].Notes) != 2 || srs[0].Status != wire.StatusClosed || srs[0].LastClosedDate.IsZero() {
		t.Errorf("stored %+v", srs)
	}
	if st := te.em.Stats(); st.Replays != 1 {
		t.Errorf("Replays %d", st.Replays)
	}

	resp, b = te.do(http.MethodPatch, "/v1/servicerequests/616999999999999", `{"status":"closed"}`)
	wantFault(t, resp, b, http.StatusNotFound, "1000")
	resp, b = te.do(http.MethodPatch, path, `{"status":`)
	wantFault(t, resp, b, http.StatusBadRequest, "800002")
	resp, b = te.do(http.MethodPatch, path, `{"supportTopicId":"1"}`)
	wantFault(t, resp, b, http.StatusBadRequest, "3000")
}

// collection is a decoded list answer.
type collection struct {
	TotalCount int              `json:"totalCount"`
	Items      []map[string]any `json:"items"`
	Links      struct {
		Self *wire.Link `json:"self"`
		Next *wire.Link `json:"next"`
	} `json:"links"`
	Attributes wire.Attributes `json:"attributes"`
}

// walk follows links.next from path, as the SDKs do (prefixing /v1 when
// the link lacks it), and returns every item and the number of pages.
func (te *tenv) walk(path string) (items []map[string]any, pages int) {
	te.t.Helper()
	for path != "" {
		resp, b := te.do(http.MethodGet, path, "")
		if resp.StatusCode != http.StatusOK {
			te.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		var c collection
		if err := json.Unmarshal(b, &c); err != nil {
			te.t.Fatal(err)
		}
		if c.TotalCount != len(c.Items) || c.Attributes.ObjectType != "Collection" || c.Links.Self == nil ||
			!bytes.Contains(b, []byte(`"headers":[]`)) {
			te.t.Fatalf("page %s", b)
		}
		items = append(items, c.Items...)
		pages++
		if pages > 100 {
			te.t.Fatal("links.next never ends")
		}
		path = ""
		if c.Links.Next != nil {
			if c.Links.Next.Method != http.MethodGet || strings.HasPrefix(c.Links.Next.URI, "http") {
				te.t.Fatalf("next link %+v", c.Links.Next)
			}
			path = c.Links.Next.URI
			if !strings.HasPrefix(path, "/v1/") {
				path = "/v1" + path
			}
		}
	}
	return items, pages
}

func TestListPaging(t *testing.T) {
	te := newEnv(t, Config{})
	var ids []string
	for range 25 {
		ids = append(ids, str(te.create(""), "id"))
	}
	closed := map[string]bool{}
	for _, i := range []int{2, 7, 11, 19, 24} {
		closed[ids[i]] = true
		if resp, b := te.do(http.MethodPatch, "/v1/servicerequests/"+ids[i], `{"status":"closed"}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("close: %d %s", resp.StatusCode, b)
		}
	}
	var want []string // status, then id
	for _, id := range ids {
		if !closed[id] {
			want = append(want, id)
		}
	}
	for _, id := range ids {
		if closed[id] {
			want = append(want, id)
		}
	}

	items, pages := te.walk("/v1/servicerequests?size=7")
	if pages != 4 || len(items) != 25 {
		t.Fatalf("%d items in %d pages, want 25 in 4", len(items), pages)
	}
	for i, it := range items {
		if str(it, "id") != want[i] {
			t.Fatalf("item %d is %s, want %s (order by status, then id)", i, str(it, "id"), want[i])
		}
	}
	if items, _ := te.walk("/v1/servicerequests"); len(items) != 25 {
		t.Errorf("default page: %d items", len(items))
	}

	filters := []struct {
		query string
		want  int
	}{
		{"filter=" + url.QueryEscape(`{"Field":"Status","Value":"Closed","Operator":"equals"}`) + "&size=2", 5},
		{"filter=" + url.PathEscape(`{"Field":"Status","Value":"open","Operator":"not_equals"}`) + "&size=3", 5},
		{"filter=" + url.QueryEscape(`{"field": "status", "value": 1}`), 20},
		{"Field=Status&Value=open&size=6", 20},
		{"filter=" + url.QueryEscape(`{"Field":"Status","Value":"attention_needed"}`), 0},
	}
	for _, f := range filters {
		items, _ := te.walk("/v1/servicerequests?" + f.query)
		if len(items) != f.want {
			t.Errorf("%s: %d items, want %d", f.query, len(items), f.want)
		}
	}

	items, _ = te.walk("/v1/customers/c%2F1/servicerequests?size=10")
	if len(items) != 25 {
		t.Errorf("customer list: %d items", len(items))
	}
	_, b := te.do(http.MethodGet, "/v1/customers/c1/servicerequests?size=10", "")
	if !bytes.Contains(b, []byte(`"uri":"/customers/c1/servicerequests?size=10\u0026offset=10"`)) {
		t.Errorf("customer next link: %s", b[:min(len(b), 200)])
	}

	for _, q := range []string{"size=0", "size=1001", "size=x", "offset=-1", "filter=%7B", "Field=Severity&Value=critical",
		"filter=" + url.QueryEscape(`{"Field":"Status","Value":"open","Operator":"and"}`), "Field=Status&Value=shut"} {
		resp, b := te.do(http.MethodGet, "/v1/servicerequests?"+q, "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d %s", q, resp.StatusCode, b)
		}
	}
}
