package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// fakeRenewer hands out tok-1, tok-2, … : a new one after each Refused of
// the current one.
type fakeRenewer struct {
	mu      sync.Mutex
	n       int
	refused []string
}

func (f *fakeRenewer) Token(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.n = 1
	}
	return fmt.Sprintf("%s-%d", testToken, f.n), nil
}

func (f *fakeRenewer) Refused(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refused = append(f.refused, tok)
	if tok == fmt.Sprintf("%s-%d", testToken, f.n) {
		f.n++
	}
}

func (f *fakeRenewer) Refusals() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refused...)
}

// expired401 is the emulator's answer to an expired token.
var expired401 = reply(401, `{"code":800001,"description":"Partner token missing or invalid: the token has expired; acquire a new one.","data":[],"source":"PartnerFD"}`,
	"WWW-Authenticate", `Bearer error="invalid_token", error_description="The token expired"`)

// TestRenewResendsSameRequest: a 401 makes the client renew the token and
// send the same request again: same MS-RequestId and body, the new token,
// a new correlation id; the resend is an attempt with its own rate token.
func TestRenewResendsSameRequest(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, expired401, created("42"))
	tokens := &fakeRenewer{}
	lim := &countingWaiter{}
	var reached []bool
	var mu sync.Mutex
	cfg := Config{BaseURL: srv.URL, Token: tokens, Retries: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond,
		NoRetryAfterEffect: true, OnAttempt: func(ok bool) { mu.Lock(); reached = append(reached, ok); mu.Unlock() }}
	c := newClient(cfg, srv.URL, lim)
	ctx, attempts := CountAttempts(context.Background())
	sr, err := c.Create(ctx, "en-US", sampleSR(), "rid-renew")
	if err != nil || sr.ID != "42" {
		t.Fatalf("%v, %v", sr, err)
	}
	h := s.Hits()
	if len(h) != 2 {
		t.Fatalf("%d requests, want 2", len(h))
	}
	if h[0].header.Get("MS-RequestId") != "rid-renew" || h[1].header.Get("MS-RequestId") != "rid-renew" {
		t.Errorf("MS-RequestIds %q, %q", h[0].header.Get("MS-RequestId"), h[1].header.Get("MS-RequestId"))
	}
	if !bytes.Equal(h[0].body, h[1].body) || len(h[1].body) == 0 {
		t.Errorf("the resend's body differs:\n%s\n%s", h[0].body, h[1].body)
	}
	if a, b := h[0].header.Get("Authorization"), h[1].header.Get("Authorization"); a != "Bearer "+testToken+"-1" || b != "Bearer "+testToken+"-2" {
		t.Errorf("Authorization %q then %q", a, b)
	}
	if h[0].header.Get("MS-CorrelationId") == h[1].header.Get("MS-CorrelationId") {
		t.Error("the resend reuses the correlation id")
	}
	if got := tokens.Refusals(); len(got) != 1 || got[0] != testToken+"-1" {
		t.Errorf("Refused with %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts.Load() != 2 || lim.n.Load() != 2 || len(reached) != 2 {
		t.Errorf("%d attempts, %d rate tokens, %d OnAttempt calls; want 2 each", attempts.Load(), lim.n.Load(), len(reached))
	}
}

// TestRenewAtMostTwice: a call renews the token at most twice; the third
// 401 is returned, as ClassAuth, however the retries are spread.
func TestRenewAtMostTwice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		replies []http.HandlerFunc
		hits    int
	}{
		{"always 401", []http.HandlerFunc{expired401}, 3},
		{"a plain 401", []http.HandlerFunc{reply(401, `{"code":"800001","description":"Partner token missing or invalid"}`)}, 3},
		{"503 between", []http.HandlerFunc{expired401, reply(503, ""), expired401}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, s := newServer(t, tc.replies...)
			tokens := &fakeRenewer{}
			c, _ := newTestClient(t, srv.URL, func(c *Config) { c.Token = tokens })
			_, err := c.Create(context.Background(), "en-US", sampleSR(), "rid")
			var ae *APIError
			if ClassOf(err) != ClassAuth || !errors.As(err, &ae) || ae.StatusCode != 401 {
				t.Fatalf("%v (class %s)", err, ClassOf(err))
			}
			if n := len(s.Hits()); n != tc.hits {
				t.Errorf("%d requests, want %d", n, tc.hits)
			}
			if n := len(tokens.Refusals()); n != 2 {
				t.Errorf("%d renewals, want 2", n)
			}
		})
	}
}

// TestRenewGetAndStatic: a GET is resent too; a source that cannot renew
// (StaticToken) gets its 401 at once.
func TestRenewGetAndStatic(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, expired401, reply(200, `{"id":"7"}`))
	tokens := &fakeRenewer{}
	c, _ := newTestClient(t, srv.URL, func(c *Config) { c.Token = tokens })
	if sr, err := c.Get(context.Background(), "7"); err != nil || sr.ID != "7" || len(s.Hits()) != 2 {
		t.Errorf("%v, %v after %d requests", sr, err, len(s.Hits()))
	}

	srv, s = newServer(t, expired401, created("1"))
	c, _ = newTestClient(t, srv.URL, nil)
	if _, err := c.Create(context.Background(), "en-US", sampleSR(), "rid"); ClassOf(err) != ClassAuth || len(s.Hits()) != 1 {
		t.Errorf("StaticToken: %v after %d requests", err, len(s.Hits()))
	}
}

// TestRenewAfterExpiry: a token the service had accepted and now refuses
// has expired: renewing it does not count against the two renewals of
// tokens never accepted, only against a safety limit.
func TestRenewAfterExpiry(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, created("1"), expired401)
	tokens := &fakeRenewer{}
	c, _ := newTestClient(t, srv.URL, func(c *Config) { c.Token = tokens })
	if _, err := c.Create(context.Background(), "en-US", sampleSR(), "rid-1"); err != nil {
		t.Fatal(err)
	}
	_, err := c.Create(context.Background(), "en-US", sampleSR(), "rid-2")
	if ClassOf(err) != ClassAuth {
		t.Fatalf("%v (class %s)", err, ClassOf(err))
	}
	if n := len(s.Hits()); n != 1+4 {
		t.Errorf("%d requests, want 1, then 4: the expired token, then three never accepted", n)
	}

	// Tokens that are each accepted elsewhere before this call sees them
	// refused: the safety limit ends it.
	tokens = &fakeRenewer{}
	rt := &renewTransport{tokens: tokens}
	var sends int
	rt.next = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sends++
		tok, _ := tokens.Token(r.Context())
		r.Context().Value(sentKey).(*sentToken).token = tok
		rt.accept(tok) // another call got it accepted meanwhile
		return &http.Response{StatusCode: 401, Body: http.NoBody, Request: r}, nil
	})
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/v1/servicerequests", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil || resp.StatusCode != 401 || sends != 1+maxExpiredRenewals {
		t.Errorf("%v, %v after %d sends; want a 401 after %d", resp, err, sends, 1+maxExpiredRenewals)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
