package emulator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	testToken  = "test-token"
	createPath = "/v1/servicerequests/en-US"
	validBody  = `{"title":"Reserved instance not applied","description":"Still billed pay-as-you-go.","severity":"critical","supportTopicId":"32451178"}`
)

// seedBody is the request example of the original create page, verbatim
// apart from the braces the page lost.
const seedBody = `{
    "Id": null,
    "Title": "TrialSR",
    "Description": "Ignore this SR",
    "Severity": "critical",
    "SupportTopicId": "32444671",
    "SupportTopicName": null,
    "Status": "none",
    "Organization": null,
    "PrimaryContact": null,
    "LastUpdatedBy": null,
    "ProductName": null,
    "ProductId": null,
    "CreatedDate": "0001-01-01T00:00:00",
    "LastModifiedDate": "0001-01-01T00:00:00",
    "LastClosedDate": "0001-01-01T00:00:00",
    "NewNote": null,
    "Notes": null,
    "CountryCode": null,
    "FileLinks": null,
    "Attributes": {
        "ObjectType": "ServiceRequest"
    }
}`

// tenv is one emulator behind an httptest server, with a client for it.
type tenv struct {
	t   *testing.T
	em  *Emulator
	url string
	hc  *http.Client
}

// newEnv starts an emulator with cfg. Cleanup closes the emulator first
// (releasing stalls), then the server.
func newEnv(t *testing.T, cfg Config) *tenv {
	t.Helper()
	em := New(cfg)
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = em.Close() })
	hc := srv.Client()
	hc.Timeout = 10 * time.Second
	return &tenv{t: t, em: em, url: srv.URL, hc: hc}
}

// request builds a request with the test bearer token; hdr holds
// key/value pairs, and an empty value removes the header.
func (te *tenv) request(ctx context.Context, method, path, body string, hdr ...string) *http.Request {
	te.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, te.url+path, rd)
	if err != nil {
		te.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	return req
}

// try sends a request and reads the whole answer; err is any transport or
// body-reading error.
func (te *tenv) try(method, path, body string, hdr ...string) (*http.Response, []byte, error) {
	te.t.Helper()
	resp, err := te.hc.Do(te.request(context.Background(), method, path, body, hdr...))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// do is try that fails the test on a transport error.
func (te *tenv) do(method, path, body string, hdr ...string) (*http.Response, []byte) {
	te.t.Helper()
	resp, b, err := te.try(method, path, body, hdr...)
	if err != nil {
		te.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, b
}

// create posts validBody (or body) and insists on a 201; it returns the
// decoded response.
func (te *tenv) create(body string, hdr ...string) map[string]any {
	te.t.Helper()
	if body == "" {
		body = validBody
	}
	resp, b := te.do(http.MethodPost, createPath, body, hdr...)
	if resp.StatusCode != http.StatusCreated {
		te.t.Fatalf("create: status %d, body %s", resp.StatusCode, b)
	}
	return decodeObject(te.t, b)
}

func decodeObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, b)
	}
	return m
}

// wantFault checks an ApiFault answer: status, code (string) and a
// non-empty description of at most 1024 characters.
func wantFault(t *testing.T, resp *http.Response, body []byte, status int, code string) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != contentTypeJSON {
		t.Errorf("Content-Type %q", ct)
	}
	m := decodeObject(t, body)
	if m["code"] != code {
		t.Errorf("code %#v, want %q; body %s", m["code"], code, body)
	}
	d, _ := m["description"].(string)
	if d == "" || len(d) > 1024 {
		t.Errorf("description %d chars: %q", len(d), d)
	}
	if _, ok := m["source"].(string); !ok {
		t.Errorf("no source: %s", body)
	}
	return m
}

// waitFor polls cond for up to 3 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = o[p]
	}
	s, _ := v.(string)
	return s
}
