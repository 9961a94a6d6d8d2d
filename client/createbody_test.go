package client

import (
	"bytes"
	"context"
	"net/http"
	"testing"
)

func TestCreateBody(t *testing.T) {
	t.Parallel()
	body := []byte(`{"title":"t","description":"d","severity":"minimal","supportTopicId":"32451178"}`)
	keep := bytes.Clone(body)
	t.Cleanup(func() { // after the parallel subtests
		if !bytes.Equal(body, keep) {
			t.Errorf("the body was modified: %q", body)
		}
	})
	tests := []struct {
		name      string
		replies   []http.HandlerFunc
		wantID    string
		wantClass Class
		attempts  int
	}{
		{"201", []http.HandlerFunc{created("616000000000001")}, "616000000000001", "", 1},
		{"BOM and whitespace", []http.HandlerFunc{reply(201, "\uFEFF \n {\"Id\" : \"7\"}\n")}, "7", "", 1},
		{"500, then 201", []http.HandlerFunc{reply(500, ""), created("8")}, "8", "", 2},
		{"201 without id", []http.HandlerFunc{reply(201, `{"title":"t"}`)}, "", ClassAmbiguous, 1},
		{"201 empty", []http.HandlerFunc{reply(201, "")}, "", ClassAmbiguous, 1},
		{"201 not JSON", []http.HandlerFunc{reply(201, "<html>")}, "", ClassAmbiguous, 1},
		{"400", []http.HandlerFunc{reply(400, `{"code":3000,"description":"bad topic"}`)}, "", ClassRejected, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, s := newServer(t, tt.replies...)
			c, _ := newTestClient(t, srv.URL, nil)
			id, err := c.CreateBody(context.Background(), "de-DE", body, "rid-1")
			if id != tt.wantID || ClassOf(err) != tt.wantClass {
				t.Errorf("CreateBody = %q, %v (class %q); want %q, class %q", id, err, ClassOf(err), tt.wantID, tt.wantClass)
			}
			hits := s.Hits()
			if len(hits) != tt.attempts {
				t.Fatalf("%d requests, want %d", len(hits), tt.attempts)
			}
			for _, h := range hits {
				if h.method != http.MethodPost || h.path != "/v1/servicerequests/de-DE" || !bytes.Equal(h.body, keep) ||
					h.header.Get("MS-RequestId") != "rid-1" || h.header.Get("X-Locale") != "de-DE" ||
					h.header.Get("Content-Type") != "application/json" || h.header.Get("Authorization") != "Bearer "+testToken {
					t.Errorf("request %s %s, body %q, headers %v", h.method, h.path, h.body, h.header)
				}
			}
		})
	}
}

func TestCreateBodyInput(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, created("1"))
	c, _ := newTestClient(t, srv.URL, nil)
	if _, err := c.CreateBody(context.Background(), "", nil, "rid"); ClassOf(err) != ClassRejected {
		t.Errorf("no body: %v (class %q), want rejected", err, ClassOf(err))
	}
	if _, err := c.CreateBody(context.Background(), "", []byte(`{}`), ""); ClassOf(err) != ClassRejected {
		t.Errorf("no request id: %v (class %q), want rejected", err, ClassOf(err))
	}
	if n := len(s.Hits()); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}
