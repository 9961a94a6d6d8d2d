package client

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAPIErrorDecoding(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	longHTML := "<html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head><body>\n<h1>502   Bad Gateway</h1>\n<p>" +
		strings.Repeat("upstream said no. ", 40) + "</p></body></html>"
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   APIError
	}{
		{
			name: "ApiFault numeric code", status: 400,
			body: `{ "code": 3000, "description": "The value of property 'supportTopicId' is not valid.", "data": [], "source": "PartnerFD" }`,
			want: APIError{Code: "3000", Description: "The value of property 'supportTopicId' is not valid.", Source: "PartnerFD"},
		},
		{
			name: "ApiFault string code, BOM, PascalCase", status: 401,
			body: "\xEF\xBB\xBF{\"Code\":\"800001\",\"Description\":\"Partner token missing.\"}",
			want: APIError{Code: "800001", Description: "Partner token missing."},
		},
		{
			name: "ApiFault code 0", status: 501,
			body: `{"code":0,"description":"Exception not defined."}`,
			want: APIError{Code: "0", Description: "Exception not defined."},
		},
		{
			name: "gateway throttle, Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "12"},
			body: `{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in 12 seconds." }`,
			want: APIError{Description: "Rate limit is exceeded. Try again in 12 seconds.", RetryAfter: 12 * time.Second},
		},
		{
			name: "gateway throttle, Retry-After HTTP-date", status: 429,
			header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)},
			body:   `{"statusCode":429,"message":"Rate limit is exceeded."}`,
			want:   APIError{Description: "Rate limit is exceeded.", RetryAfter: 90 * time.Second},
		},
		{
			name: "ProblemDetails", status: 404,
			body: `{ "type": "about:blank", "title": "Not Found", "status": 404, "detail": "Service request 618000000009999 was not found.", "instance": "/v1/servicerequests/618000000009999" }`,
			want: APIError{Description: "Not Found: Service request 618000000009999 was not found."},
		},
		{
			name: "ProblemDetails title only", status: 403,
			body: `{"title":"Forbidden","status":403}`,
			want: APIError{Description: "Forbidden"},
		},
		{
			name: "OData error object", status: 400,
			body: `{"error":{"code":"InvalidInput","message":"Bad severity."}}`,
			want: APIError{Code: "InvalidInput", Description: "Bad severity."},
		},
		{
			name: "empty body", status: 503, header: map[string]string{"Retry-After": "5"},
			want: APIError{Description: "Service Unavailable", RetryAfter: 5 * time.Second},
		},
		{
			name: "whitespace body", status: 500, body: " \r\n ",
			want: APIError{Description: "Internal Server Error"},
		},
		{
			name: "unknown JSON object", status: 500, body: `{"oops":true}`,
			want: APIError{Description: `{"oops":true}`},
		},
		{
			name: "plain text", status: 502, header: map[string]string{"Content-Type": "text/plain"},
			body: "upstream\n\tconnect error   or disconnect",
			want: APIError{Description: "upstream connect error or disconnect"},
		},
		{
			name: "ids from headers", status: 409,
			header: map[string]string{"MS-RequestId": "echoed-rid", "MS-CorrelationId": "cid-1"},
			body:   `{"code":"600","description":"Already exists."}`,
			want:   APIError{Code: "600", Description: "Already exists.", RequestID: "echoed-rid", CorrelationID: "cid-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
			for k, v := range tt.header {
				resp.Header.Set(k, v)
			}
			got := newAPIError(resp, []byte(tt.body), "sent-rid", now)
			want := tt.want
			want.StatusCode = tt.status
			if want.RequestID == "" {
				want.RequestID = "sent-rid"
			}
			if *got != want {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
		})
	}

	t.Run("HTML truncated", func(t *testing.T) {
		resp := &http.Response{StatusCode: 502, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}}
		got := newAPIError(resp, []byte(longHTML), "rid", now)
		if !strings.HasPrefix(got.Description, "502 Bad Gateway 502 Bad Gateway upstream said no.") {
			t.Errorf("description %q: want the page's text without markup", got.Description)
		}
		if strings.ContainsAny(got.Description, "<>\n\t") || strings.Contains(got.Description, "color:red") || strings.Contains(got.Description, "  ") {
			t.Errorf("description %q holds markup, style or uncollapsed whitespace", got.Description)
		}
		if n := len(got.Description); n < 150 || n > maxTextExcerpt+len("…") {
			t.Errorf("description is %d bytes, want about %d: %q", n, maxTextExcerpt, got.Description)
		}
		if !strings.HasSuffix(got.Description, "…") {
			t.Errorf("description %q does not mark the cut", got.Description)
		}
	})

	t.Run("text cut on a rune boundary", func(t *testing.T) {
		resp := &http.Response{StatusCode: 500, Header: http.Header{}}
		got := newAPIError(resp, []byte(strings.Repeat("é", 300)), "rid", now)
		if !utf8.ValidString(got.Description) || len(got.Description) > maxTextExcerpt+len("…") {
			t.Errorf("description %q: invalid UTF-8 or too long", got.Description)
		}
	})

	t.Run("echoed bearer token redacted", func(t *testing.T) {
		resp := &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"text/html"}}}
		got := newAPIError(resp, []byte("<pre>Authorization: Bearer eyJhbGciOi.secret.sig\nHost: x</pre>"), "rid", now)
		if strings.Contains(got.Error(), "eyJhbGciOi") || !strings.Contains(got.Error(), "Bearer [redacted]") {
			t.Errorf("description %q: want the token redacted", got.Description)
		}
	})
}

func TestAPIErrorMessage(t *testing.T) {
	tests := []struct {
		e    APIError
		want string
	}{
		{
			APIError{StatusCode: 400, Code: "3000", Description: "The value of property 'supportTopicId' is not valid.", RequestID: "55f8"},
			"HTTP 400 (code 3000): The value of property 'supportTopicId' is not valid. [MS-RequestId 55f8]",
		},
		{
			APIError{StatusCode: 429, Description: "Rate limit is exceeded.", RetryAfter: 12 * time.Second, RequestID: "r"},
			"HTTP 429: Rate limit is exceeded. (retry after 12s) [MS-RequestId r]",
		},
		{APIError{StatusCode: 503}, "HTTP 503"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestClassOf(t *testing.T) {
	dialRefused := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/v1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	reset := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/v1", Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}
	api := func(s int) error { return &APIError{StatusCode: s} }
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, ""},
		{"401", api(401), ClassAuth},
		{"403", api(403), ClassAuth},
		{"429", api(429), ClassThrottled},
		{"400", api(400), ClassRejected},
		{"404", api(404), ClassRejected},
		{"405", api(405), ClassRejected},
		{"406", api(406), ClassRejected},
		{"409", api(409), ClassRejected},
		{"412", api(412), ClassRejected},
		{"422", api(422), ClassRejected},
		{"501", api(501), ClassRejected},
		{"408", api(408), ClassAmbiguous},
		{"500", api(500), ClassAmbiguous},
		{"502", api(502), ClassAmbiguous},
		{"503", api(503), ClassAmbiguous},
		{"504", api(504), ClassAmbiguous},
		{"302", api(302), ClassAmbiguous},
		{"wrapped 400", fmt.Errorf("row 7: %w", &callError{op: "create", err: api(400)}), ClassRejected},
		{"connection refused", dialRefused, ClassTransient},
		{"DNS failure", &url.Error{Op: "Get", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x.invalid"}}}, ClassTransient},
		{"bare DNS error", &net.DNSError{Err: "no such host", Name: "x.invalid"}, ClassTransient},
		{"certificate", &url.Error{Op: "Get", Err: x509.UnknownAuthorityError{}}, ClassTransient},
		{"reset after send", reset, ClassAmbiguous},
		{"truncated body", fmt.Errorf("read HTTP 201 response body: %w", io.ErrUnexpectedEOF), ClassAmbiguous},
		{"attempt timeout", &attemptTimeoutError{time.Second, context.DeadlineExceeded}, ClassAmbiguous},
		{"attempt timeout while dialling", &attemptTimeoutError{time.Second, &net.OpError{Op: "dial", Err: context.DeadlineExceeded}}, ClassTransient},
		{"token source error", &tokenError{errors.New("refresh endpoint unreachable")}, ClassTransient},
		{"no token", &tokenError{ErrNoToken}, ClassAuth},
		{"credential refused", &tokenError{fmt.Errorf("invalid_grant: %w", ErrNoToken)}, ClassAuth},
		{"token error holding an APIError", &tokenError{&APIError{StatusCode: 400}}, ClassTransient},
		{"limiter past deadline", &limitError{errors.New("would exceed deadline")}, ClassTransient},
		{"undecodable 2xx", &callError{op: "create", effect: true, err: &responseError{201, errors.New("bad json")}}, ClassAmbiguous},
		{"invalid argument", &callError{op: "get", err: &inputError{"no id"}}, ClassRejected},
		{"cancelled before sending", &callError{op: "create", err: context.Canceled}, ClassTransient},
		{"cancelled after a 503", &callError{op: "create", effect: true, err: context.Canceled}, ClassAmbiguous},
		{"refused after a 502", &callError{op: "create", effect: true, err: dialRefused}, ClassAmbiguous},
		{"refused, nothing before", &callError{op: "create", err: dialRefused}, ClassTransient},
		{"429 after a 500", &callError{op: "create", effect: true, err: api(429)}, ClassAmbiguous},
		{"429 only", &callError{op: "create", err: api(429)}, ClassThrottled},
		{"400 after a 500", &callError{op: "create", effect: true, err: api(400)}, ClassRejected},
		{"401 after a 500", &callError{op: "create", effect: true, err: api(401)}, ClassAuth},
		{"unknown error", errors.New("something"), ClassAmbiguous},
	}
	for _, tt := range tests {
		if got := ClassOf(tt.err); got != tt.want {
			t.Errorf("%s: ClassOf(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"120", 120 * time.Second, true},
		{" 0 ", 0, true},
		{"-3", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{"Sunday, 01-Mar-26 12:00:45 GMT", 45 * time.Second, true}, // RFC 850
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}
