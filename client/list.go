package client

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const (
	// listAllPageSize is the page size ListAll asks for, the service's
	// maximum.
	listAllPageSize = 1000
	// defaultMaxPages bounds the pages ListAll follows.
	defaultMaxPages = 10_000
)

// ListAll calls fn with every service request of the partner, page by page:
// it GETs /v1/servicerequests?size=1000, then follows each page's
// links.next.uri as given (prefixing /v1 when the link lacks it) with the
// link's headers, until a page has no next link. Each page is a call of its
// own, with its own MS-RequestId and the retries of a GET.
//
// The walk is not a snapshot: a request created or changed while it runs
// can be missed. A request seen on an earlier page is not handed to fn
// again (offsets shift as requests change status), so fn sees each id at
// most once.
//
// ListAll stops at the first error: a failed page, as List returns it; a
// next link that leaves the base URL, carries a malformed header or asks
// again for a page already fetched (same uri, same headers); more than
// 10 000 pages; or an error from fn, which is returned as is.
func (c *Client) ListAll(ctx context.Context, fn func(*ServiceRequest) error) error {
	const op = "list all service requests"
	target := "/v1/servicerequests?size=" + strconv.Itoa(listAllPageSize)
	var header http.Header
	visited := map[string]bool{} // pageKey of every page requested
	seen := map[string]bool{}    // ids handed to fn
	for page := 1; ; page++ {
		if page > c.maxPages {
			return &callError{op: op, err: fmt.Errorf("more than %d pages: the next links never end", c.maxPages)}
		}
		visited[pageKey(target, header)] = true
		r := request{op: fmt.Sprintf("%s: page %d", op, page), method: http.MethodGet, target: target, header: header}
		col, err := getCollection[ServiceRequest](ctx, c, r)
		if err != nil {
			return err
		}
		for i := range col.Items {
			sr := &col.Items[i]
			if sr.ID != "" {
				if seen[sr.ID] {
					continue
				}
				seen[sr.ID] = true
			}
			if err := fn(sr); err != nil {
				return err
			}
		}
		if col.Links == nil || col.Links.Next == nil {
			return nil
		}
		next := col.Links.Next
		if target, err = c.linkTarget(next.URI); err == nil {
			header, err = linkHeader(next.Headers)
		}
		if err == nil && visited[pageKey(target, header)] {
			err = fmt.Errorf("the next link %q repeats an earlier page", next.URI)
		}
		if err != nil {
			return &callError{op: r.op, err: &responseError{status: http.StatusOK, err: err}}
		}
	}
}

// pageKey identifies a page request: its target and headers (a service
// may keep the uri and page with a continuation-token header).
func pageKey(target string, h http.Header) string {
	var b strings.Builder
	b.WriteString(target)
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			b.WriteString("\n" + k + ": " + v)
		}
	}
	return b.String()
}

// linkTarget turns a collection link's uri into a target below the base
// URL: a relative uri gets /v1 unless it has it; an absolute one must lie
// below the base URL.
func (c *Client) linkTarget(uri string) (string, error) {
	uri = strings.TrimSpace(uri)
	u, err := url.Parse(uri)
	switch {
	case uri == "":
		return "", errors.New("the next link has no uri")
	case err != nil:
		return "", fmt.Errorf("the next link %q: %w", uri, err)
	case u.Scheme != "" || u.Host != "":
		rest, ok := strings.CutPrefix(uri, c.base)
		if !ok || (rest != "" && rest[0] != '/' && rest[0] != '?') {
			return "", fmt.Errorf("the next link %q leaves %s", uri, c.base)
		}
		uri = rest
	}
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri
	}
	if uri != "/v1" && !strings.HasPrefix(uri, "/v1/") && !strings.HasPrefix(uri, "/v1?") {
		uri = "/v1" + uri
	}
	return uri, nil
}

// linkHeader turns a link's "key: value" headers into a header to send.
// Authorization and Host are the client's own and are not taken.
func linkHeader(kv []string) (http.Header, error) {
	if len(kv) == 0 {
		return nil, nil
	}
	h := make(http.Header, len(kv))
	for _, s := range kv {
		k, v, ok := strings.Cut(s, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !validHeaderName(k) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			return nil, fmt.Errorf("the next link's header %q is not a valid key: value", s)
		}
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Host":
			continue
		}
		h.Set(k, v)
	}
	return h, nil
}

// validHeaderName reports whether k is an RFC 9110 token.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		b := k[i]
		if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0 {
			continue
		}
		return false
	}
	return true
}
