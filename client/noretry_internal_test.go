package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"
)

func TestNoRetryAfterEffectStatuses(t *testing.T) {
	t.Parallel()
	onlyCreate := func(c *Config) { c.NoRetryAfterEffect = true }
	tests := []struct {
		name      string
		call      func(ctx context.Context, c *Client) error
		replies   []http.HandlerFunc
		wantClass Class // "" = success
		attempts  int64
	}{
		{"create: 408", create, []http.HandlerFunc{reply(408, ""), created("1")}, ClassAmbiguous, 1},
		{"create: 502", create, []http.HandlerFunc{reply(502, ""), created("1")}, ClassAmbiguous, 1},
		{"create: 503", create, []http.HandlerFunc{reply(503, ""), created("1")}, ClassAmbiguous, 1},
		{"create: 501", create, []http.HandlerFunc{reply(501, ""), created("1")}, ClassRejected, 1},
		{"create: 429, 201", create, []http.HandlerFunc{reply(429, ""), created("1")}, "", 2},
		{"create: 429, 500", create, []http.HandlerFunc{reply(429, ""), reply(500, ""), created("1")}, ClassAmbiguous, 2},
		{"create: truncated", create, []http.HandlerFunc{truncated, created("1")}, ClassAmbiguous, 1},
		{"get: 500, 500, 200", func(ctx context.Context, c *Client) error { _, err := c.Get(ctx, "1"); return err },
			[]http.HandlerFunc{reply(500, ""), reply(500, ""), reply(200, `{"id":"1"}`)}, "", 3},
		{"update: 503, 200", func(ctx context.Context, c *Client) error {
			_, err := c.Update(ctx, "1", &ServiceRequest{NewNote: &Note{Text: "n"}})
			return err
		}, []http.HandlerFunc{reply(503, ""), reply(200, `{"id":"1"}`)}, "", 2},
		{"list: truncated, 200", func(ctx context.Context, c *Client) error { _, err := c.List(ctx, ListOptions{}); return err },
			[]http.HandlerFunc{truncated, reply(200, `{"totalCount":0,"items":[]}`)}, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, s := newServer(t, tt.replies...)
			c, _ := newTestClient(t, srv.URL, onlyCreate)
			ctx, attempts := CountAttempts(context.Background())
			err := tt.call(ctx, c)
			if got := ClassOf(err); got != tt.wantClass {
				t.Errorf("error %v: class %q, want %q", err, got, tt.wantClass)
			}
			if n := int64(len(s.Hits())); n != tt.attempts || attempts.Load() != tt.attempts {
				t.Errorf("server saw %d requests, CountAttempts %d; want %d", n, attempts.Load(), tt.attempts)
			}
		})
	}
}

func create(ctx context.Context, c *Client) error {
	_, err := c.Create(ctx, "en-US", sampleSR(), "rid")
	return err
}

func TestCheckRetryNoRetryAfterEffect(t *testing.T) {
	ctx := context.WithValue(context.Background(), stateKey, &callState{noRetryAfterEffect: true})
	urlErr := func(err error) error { return &url.Error{Op: "Post", URL: "https://x/v1", Err: err} }
	status := func(s int) *http.Response { return &http.Response{StatusCode: s, Header: http.Header{}} }
	tests := []struct {
		name string
		resp *http.Response
		err  error
		want bool
	}{
		{"429", status(429), nil, true},
		{"500", status(500), nil, false},
		{"408", status(408), nil, false},
		{"connection refused", nil, urlErr(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true},
		{"dns", nil, urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x"}}), true},
		{"connection reset", nil, urlErr(&net.OpError{Op: "read", Err: syscall.ECONNRESET}), false},
		{"attempt timeout", nil, urlErr(&attemptTimeoutError{err: context.DeadlineExceeded}), false},
		{"unexpected EOF", nil, urlErr(errors.New("read HTTP 201 response body: unexpected EOF")), false},
	}
	for _, tt := range tests {
		if got, err := checkRetry(ctx, tt.resp, tt.err); got != tt.want || err != nil {
			t.Errorf("%s: checkRetry = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}
