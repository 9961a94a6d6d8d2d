package mapping_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/mapping"
)

// A server that sends support-topic ids as strings ("32451178") instead
// of the documented integers still yields a topic list through the client,
// and mapping validates ids and resolves names against it instead of
// silently checking ids for form only.
func TestTopicValidationWithStringIDsFromTheClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/servicerequests/supporttopics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `{"totalCount":3,"items":[
			{"id":"32444671","name":"Partner Center account","attributes":{"objectType":"SupportTopic"}},
			{"id":"32451178","name":"Billing and reservations","attributes":{"objectType":"SupportTopic"}},
			{"id":32463377,"name":"API and SDK integration","attributes":{"objectType":"SupportTopic"}}],
			"attributes":{"objectType":"Collection"}}`)
	}))
	defer srv.Close()
	c, err := client.New(client.Config{BaseURL: srv.URL, Token: client.StaticToken("test-token")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()

	topics, err := c.SupportTopics(context.Background())
	if err != nil {
		t.Fatalf("SupportTopics: %v", err)
	}
	var ids []int64
	for _, tp := range topics {
		ids = append(ids, tp.ID)
	}
	if len(ids) != 3 || ids[0] != 32444671 || ids[1] != 32451178 || ids[2] != 32463377 {
		t.Fatalf("topic ids %v, want 32444671 32451178 32463377", ids)
	}

	m, err := mapping.Auto([]string{"Title", "Description", "Severity", "SupportTopicId", "SupportTopicName"}, mapping.Options{Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id, name string
		want     string // the supportTopicId mapped; "" for ErrUnknownTopic
		msg      string
	}{
		{"32451178", "", "32451178", ""},
		{"32463377", "", "32463377", ""},
		{"", "billing and reservations", "32451178", ""},
		{"32400000", "", "", "support topic 32400000 is not in the service's list of 3 topics"},
		{"", "Licensing", "", `"Licensing" is not a support topic name`},
	} {
		row := []string{"t", "d", "minimal", tt.id, tt.name}
		req, err := m.Map(row, 2)
		if cerr := m.Check(row, 2); (cerr == nil) != (err == nil) || err != nil && cerr.Error() != err.Error() {
			t.Errorf("id %q name %q: Check says %v, Map %v", tt.id, tt.name, cerr, err)
		}
		switch {
		case tt.want == "":
			if !errors.Is(err, mapping.ErrUnknownTopic) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("id %q name %q: err = %v, want ErrUnknownTopic containing %q", tt.id, tt.name, err, tt.msg)
			}
		case err != nil:
			t.Errorf("id %q name %q: %v", tt.id, tt.name, err)
		case req.SR.SupportTopicID != tt.want:
			t.Errorf("id %q name %q: supportTopicId %q, want %q", tt.id, tt.name, req.SR.SupportTopicID, tt.want)
		}
	}
}
