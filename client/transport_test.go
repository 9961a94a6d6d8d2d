package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"
)

func TestCheckRetry(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	status := func(s int) *http.Response { return &http.Response{StatusCode: s, Header: http.Header{}} }
	urlErr := func(err error) error { return &url.Error{Op: "Post", URL: "https://x/v1", Err: err} }
	tests := []struct {
		name    string
		ctx     context.Context
		resp    *http.Response
		err     error
		want    bool
		wantErr error
	}{
		{"408", live, status(408), nil, true, nil},
		{"429", live, status(429), nil, true, nil},
		{"500", live, status(500), nil, true, nil},
		{"502", live, status(502), nil, true, nil},
		{"503", live, status(503), nil, true, nil},
		{"504", live, status(504), nil, true, nil},
		{"501", live, status(501), nil, false, nil},
		{"505", live, status(505), nil, true, nil},
		{"200", live, status(200), nil, false, nil},
		{"201", live, status(201), nil, false, nil},
		{"400", live, status(400), nil, false, nil},
		{"401", live, status(401), nil, false, nil},
		{"403", live, status(403), nil, false, nil},
		{"404", live, status(404), nil, false, nil},
		{"409", live, status(409), nil, false, nil},
		{"412", live, status(412), nil, false, nil},
		{"connection refused", live, nil, urlErr(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true, nil},
		{"connection reset", live, nil, urlErr(&net.OpError{Op: "read", Err: syscall.ECONNRESET}), true, nil},
		{"certificate", live, nil, urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), false, nil},
		{"wrapped certificate", live, nil, urlErr(&attemptTimeoutError{time.Second, &tls.CertificateVerificationError{Err: x509.HostnameError{}}}), false, nil},
		{"token", live, nil, urlErr(&tokenError{ErrNoToken}), false, nil},
		{"limiter", live, nil, urlErr(&limitError{errors.New("deadline")}), false, nil},
		{"oversized body", live, nil, urlErr(&responseError{201, errors.New("too big")}), false, nil},
		{"ctx done, error", done, nil, urlErr(context.Canceled), false, context.Canceled},
		{"ctx done, 503 arrived", done, status(503), nil, false, nil},
	}
	for _, tt := range tests {
		got, err := checkRetry(tt.ctx, tt.resp, tt.err)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: checkRetry = %v, %v; want %v, %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestBackoffRetryAfter(t *testing.T) {
	const lo, hi = time.Millisecond, 4 * time.Millisecond
	resp := func(status int, retryAfter string) *http.Response {
		r := &http.Response{StatusCode: status, Header: http.Header{}}
		if retryAfter != "" {
			r.Header.Set("Retry-After", retryAfter)
		}
		return r
	}
	tests := []struct {
		name     string
		resp     *http.Response
		min, max time.Duration
	}{
		{"429 seconds", resp(429, "7"), 7 * time.Second, 7 * time.Second},
		{"503 seconds", resp(503, "2"), 2 * time.Second, 2 * time.Second},
		{"429 above RetryWaitMax, capped at 5m", resp(429, "3600"), maxRetryAfter, maxRetryAfter},
		{"429 HTTP-date", resp(429, time.Now().Add(30*time.Second).Format(http.TimeFormat)), 28 * time.Second, 30 * time.Second},
		{"429 date in the past", resp(429, time.Now().Add(-time.Hour).Format(http.TimeFormat)), lo, 2 * lo},
		{"429 unparsable", resp(429, "later"), lo, 2 * lo},
		{"429 without header", resp(429, ""), lo, 2 * lo},
		{"500 ignores Retry-After", resp(500, "7"), lo, 2 * lo},
		{"network error", nil, lo, 2 * lo},
	}
	for _, tt := range tests {
		if d := backoff(lo, hi, 0, tt.resp); d < tt.min || d > tt.max {
			t.Errorf("%s: backoff = %v, want %v..%v", tt.name, d, tt.min, tt.max)
		}
	}
}

func TestBackoffExponentialJitter(t *testing.T) {
	const lo, hi = time.Millisecond, 20 * time.Millisecond
	for n := 0; n < 8; n++ {
		ceil := min(lo<<(n+1), hi)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := backoff(lo, hi, n, nil)
			if d < lo || d > ceil {
				t.Fatalf("retry %d waits %v, want %v..%v", n, d, lo, ceil)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("retry %d: only %d distinct waits in 200: no jitter?", n, len(seen))
		}
	}
	for _, n := range []int{40, 62, 63, 100, 1 << 20} {
		if d := backoff(lo, hi, n, nil); d < lo || d > hi {
			t.Errorf("retry %d waits %v, want %v..%v (no overflow)", n, d, lo, hi)
		}
	}
	if d := backoff(5*time.Millisecond, 5*time.Millisecond, 3, nil); d != 5*time.Millisecond {
		t.Errorf("min = max = 5ms gives %v", d)
	}
}
