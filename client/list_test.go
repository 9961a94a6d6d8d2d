package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// page answers a collection page with the given item ids and next link
// (none when next is empty); headers is the link's JSON headers array.
func page(next, headers string, ids ...string) http.HandlerFunc {
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = `{"id":"` + id + `","status":"open"}`
	}
	links := `{}`
	if next != "" {
		links = `{"next":{"uri":"` + next + `","method":"GET","headers":` + headers + `}}`
	}
	return reply(200, fmt.Sprintf(`{"totalCount":%d,"items":[%s],"links":%s,"attributes":{"objectType":"Collection"}}`,
		len(ids), strings.Join(items, ","), links))
}

func collect(ctx context.Context, c *Client) ([]string, error) {
	var ids []string
	err := c.ListAll(ctx, func(sr *ServiceRequest) error {
		ids = append(ids, sr.ID)
		return nil
	})
	return ids, err
}

func TestListAllFollowsLinks(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, nil)
	s.mu.Lock() // the replies need the server's URL
	s.replies = []http.HandlerFunc{
		page("/servicerequests?size=1000&offset=2", `[{"key":"MS-ContinuationToken","value":"tok 1"},{"key":"Authorization","value":"Bearer stolen"}]`, "1", "2"),
		page("servicerequests?size=1000&offset=4&filter=%7B%7D", `[]`, "3", "4"),
		page("/v1/servicerequests?size=1000&offset=6", `["MS-ContinuationToken: tok 2"]`, "4", "5"), // 4 again: offsets shifted
		page(srv.URL+"/v1/servicerequests?size=1000&offset=7", `[]`, "6"),
		page("", "", "7"),
	}
	s.mu.Unlock()
	c, _ := newTestClient(t, srv.URL, nil)
	ids, err := collect(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids, ","); got != "1,2,3,4,5,6,7" {
		t.Errorf("ids %s", got)
	}
	want := []struct{ target, token string }{
		{"/v1/servicerequests?size=1000", ""},
		{"/v1/servicerequests?size=1000&offset=2", "tok 1"},
		{"/v1/servicerequests?size=1000&offset=4&filter=%7B%7D", ""},
		{"/v1/servicerequests?size=1000&offset=6", "tok 2"},
		{"/v1/servicerequests?size=1000&offset=7", ""},
	}
	hits := s.Hits()
	if len(hits) != len(want) {
		t.Fatalf("%d requests, want %d", len(hits), len(want))
	}
	rids := map[string]bool{}
	for i, w := range want {
		h := hits[i]
		if got := h.path + "?" + h.rawQuery; h.method != http.MethodGet || got != w.target {
			t.Errorf("page %d: %s %s, want GET %s", i+1, h.method, got, w.target)
		}
		if got := h.header.Get("MS-ContinuationToken"); got != w.token {
			t.Errorf("page %d: MS-ContinuationToken %q, want %q", i+1, got, w.token)
		}
		if h.header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("page %d: Authorization %q", i+1, h.header.Get("Authorization"))
		}
		rids[h.header.Get("MS-RequestId")] = true
	}
	if len(rids) != len(want) {
		t.Errorf("%d distinct MS-RequestIds over %d pages", len(rids), len(want))
	}
}

func TestListAllStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replies  []http.HandlerFunc
		requests int
		want     string // in the error
	}{
		{"next repeats the page", []http.HandlerFunc{page("/servicerequests?size=1000&offset=1", `[]`, "1"), page("/servicerequests?size=1000&offset=1", `[]`, "2")}, 2, "repeats"},
		{"next is the first page", []http.HandlerFunc{page("/servicerequests?size=1000", `[]`, "1")}, 1, "repeats"},
		{"same uri, same token", []http.HandlerFunc{page("/servicerequests", `["T: a"]`, "1"), page("/servicerequests", `["T: a"]`, "2")}, 2, "repeats"},
		{"next leaves the service", []http.HandlerFunc{page("http://elsewhere.example/v1/servicerequests?offset=1", `[]`, "1")}, 1, "leaves"},
		{"malformed header", []http.HandlerFunc{page("/servicerequests?offset=1", `["no colon"]`, "1")}, 1, "header"},
		{"failed page", []http.HandlerFunc{page("/servicerequests?offset=1", `[]`, "1"), reply(404, "")}, 2, "HTTP 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, s := newServer(t, tt.replies...)
			c, _ := newTestClient(t, srv.URL, nil)
			_, err := collect(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
			if n := len(s.Hits()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

// A service whose next links never end is left after maxPages pages.
func TestListAllPageLimit(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv, s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		i := strconv.FormatInt(n.Add(1), 10)
		page("/servicerequests?size=1000&offset="+i, `[]`, i)(w, r)
	})
	c, _ := newTestClient(t, srv.URL, nil)
	c.maxPages = 7
	ids, err := collect(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "more than 7 pages") || len(ids) != 7 || len(s.Hits()) != 7 {
		t.Errorf("error %v after %d ids, %d requests; want a page-limit error after 7", err, len(ids), len(s.Hits()))
	}
	if c2, _ := newTestClient(t, srv.URL, nil); c2.maxPages != 10_000 {
		t.Errorf("default page limit %d", c2.maxPages)
	}
}

func TestListAllCallbackError(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, page("/servicerequests?offset=2", `[]`, "1", "2"), page("", "", "3"))
	c, _ := newTestClient(t, srv.URL, nil)
	stop := errors.New("stop")
	calls := 0
	err := c.ListAll(context.Background(), func(*ServiceRequest) error { calls++; return stop })
	if err != stop || calls != 1 || len(s.Hits()) != 1 {
		t.Errorf("error %v after %d calls, %d requests; want fn's error at once", err, calls, len(s.Hits()))
	}
}

func TestLinkTarget(t *testing.T) {
	c := &Client{base: "https://api.example/prefix"}
	for uri, want := range map[string]string{
		"/servicerequests?size=1&offset=1":                   "/v1/servicerequests?size=1&offset=1",
		"servicerequests?offset=1":                           "/v1/servicerequests?offset=1",
		"/v1/servicerequests?offset=1":                       "/v1/servicerequests?offset=1",
		"/v1servicerequests":                                 "/v1/v1servicerequests",
		"https://api.example/prefix/v1/servicerequests?x=1":  "/v1/servicerequests?x=1",
		"https://api.example/prefix/servicerequests?x=1":     "/v1/servicerequests?x=1",
		"https://api.example/prefixother/v1/servicerequests": "",
		"https://api.example/v1/servicerequests":             "",
		"//evil.example/v1/servicerequests":                  "",
		"":                                                   "",
	} {
		got, err := c.linkTarget(uri)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("linkTarget(%q) = %q, %v; want %q", uri, got, err, want)
		}
	}
}
