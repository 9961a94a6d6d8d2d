package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

const testToken = "tok-SECRET-7f3a9c"

// hit is one request as the server received it.
type hit struct {
	method, path, rawQuery string
	header                 http.Header
	body                   []byte
	at                     time.Time
}

// script answers the n-th request with replies[n], repeating the last one.
type script struct {
	mu      sync.Mutex
	hits    []hit
	replies []http.HandlerFunc
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.hits)
	s.hits = append(s.hits, hit{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body, time.Now()})
	reply := s.replies[min(n, len(s.replies)-1)]
	s.mu.Unlock()
	reply(w, r)
}

func (s *script) Hits() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

func newServer(t *testing.T, replies ...http.HandlerFunc) (*httptest.Server, *script) {
	t.Helper()
	s := &script{replies: replies}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, s
}

// reply answers status with body and header pairs k, v, k, v….
func reply(status int, body string, kv ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		if body != "" && w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func created(id string) http.HandlerFunc {
	return reply(201, `{"id":"`+id+`","status":"none","createdDate":"0001-01-01T00:00:00","attributes":{"objectType":"ServiceRequest"}}`)
}

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newTestClient returns a Client for srvURL with fast retries and a Debug
// logger; at the end of the test it checks that the log never holds the
// token.
func newTestClient(t *testing.T, srvURL string, edit func(*Config)) (*Client, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	cfg := Config{
		BaseURL:      srvURL,
		Token:        StaticToken(testToken),
		Workers:      2,
		Retries:      3,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 2 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.CloseIdleConnections()
		if strings.Contains(logs.String(), testToken) {
			t.Errorf("the log holds the token:\n%s", logs)
		}
	})
	return c, logs
}

func sampleSR() *ServiceRequest {
	return &ServiceRequest{
		Title:          "Reserved instance not applied",
		Description:    "Usage is still billed pay-as-you-go.",
		Severity:       SeverityCritical,
		SupportTopicID: "32451178",
		NewNote:        &Note{Text: "Imported, row 17"},
	}
}

func TestCreateHeadersOnEveryAttempt(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, reply(500, ""), reply(503, ""), created("618000000004471"))
	c, _ := newTestClient(t, srv.URL+"/", func(c *Config) { c.UserAgent = "srimport/test" })
	rid := uuid.NewString()
	ctx, attempts := CountAttempts(context.Background())
	sr, err := c.Create(ctx, "de-DE", sampleSR(), rid)
	if err != nil {
		t.Fatal(err)
	}
	if sr.ID != "618000000004471" {
		t.Errorf("created id %q", sr.ID)
	}
	hits := s.Hits()
	if len(hits) != 3 || attempts.Load() != 3 {
		t.Fatalf("server saw %d requests, CountAttempts %d; want 3", len(hits), attempts.Load())
	}
	correlation := map[string]bool{}
	for i, h := range hits {
		want := map[string]string{
			"Authorization": "Bearer " + testToken,
			"Accept":        "application/json",
			"Content-Type":  "application/json",
			"X-Locale":      "de-DE",
			"User-Agent":    "srimport/test",
			"MS-RequestId":  rid,
		}
		for k, v := range want {
			if got := h.header.Get(k); got != v {
				t.Errorf("attempt %d: %s = %q, want %q", i+1, k, got, v)
			}
		}
		if h.method != http.MethodPost || h.path != "/v1/servicerequests/de-DE" {
			t.Errorf("attempt %d: %s %s", i+1, h.method, h.path)
		}
		cid := h.header.Get("MS-CorrelationId")
		if _, err := uuid.Parse(cid); err != nil || correlation[cid] {
			t.Errorf("attempt %d: MS-CorrelationId %q not a fresh uuid", i+1, cid)
		}
		correlation[cid] = true
		if !bytes.Equal(h.body, hits[0].body) {
			t.Errorf("attempt %d sent another body: %s", i+1, h.body)
		}
	}
	var sent ServiceRequest
	if err := json.Unmarshal(hits[0].body, &sent); err != nil || sent.Title != sampleSR().Title ||
		sent.Severity != SeverityCritical || sent.NewNote == nil || sent.NewNote.Text != "Imported, row 17" {
		t.Errorf("body %s (%v)", hits[0].body, err)
	}
}

func TestCreateEscapesLocale(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, created("1"))
	c, _ := newTestClient(t, srv.URL, nil)
	if _, err := c.Create(context.Background(), "sr Latn/RS", sampleSR(), "rid"); err != nil {
		t.Fatal(err)
	}
	if got := s.Hits()[0].path; got != "/v1/servicerequests/sr%20Latn%2FRS" {
		t.Errorf("path %q", got)
	}
	if _, err := c.Create(context.Background(), "", sampleSR(), "rid"); err != nil {
		t.Fatal(err)
	}
	if h := s.Hits()[1]; h.path != "/v1/servicerequests/en-US" || h.header.Get("X-Locale") != "en-US" {
		t.Errorf("empty locale: %s, X-Locale %q", h.path, h.header.Get("X-Locale"))
	}
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		replies   []http.HandlerFunc
		wantClass Class // "" = success
		attempts  int64
		status    int // of the *APIError, when one is expected
	}{
		{"500, 500, 201", []http.HandlerFunc{reply(500, ""), reply(500, ""), created("1")}, "", 3, 0},
		{"408, 201", []http.HandlerFunc{reply(408, ""), created("1")}, "", 2, 0},
		{"429 without Retry-After, 201", []http.HandlerFunc{reply(429, ""), created("1")}, "", 2, 0},
		{"502, 504, 201", []http.HandlerFunc{reply(502, ""), reply(504, ""), created("1")}, "", 3, 0},
		{"400", []http.HandlerFunc{reply(400, `{"code":3000,"description":"bad topic"}`), created("1")}, ClassRejected, 1, 400},
		{"404", []http.HandlerFunc{reply(404, ""), created("1")}, ClassRejected, 1, 404},
		{"409", []http.HandlerFunc{reply(409, ""), created("1")}, ClassRejected, 1, 409},
		{"401", []http.HandlerFunc{reply(401, `{"code":800001,"description":"token missing"}`), created("1")}, ClassAuth, 1, 401},
		{"403", []http.HandlerFunc{reply(403, ""), created("1")}, ClassAuth, 1, 403},
		{"501", []http.HandlerFunc{reply(501, `{"code":0,"description":"Exception not defined."}`), created("1")}, ClassRejected, 1, 501},
		{"503 until retries run out", []http.HandlerFunc{reply(503, "")}, ClassAmbiguous, 4, 503},
		{"429 until retries run out", []http.HandlerFunc{reply(429, "")}, ClassThrottled, 4, 429},
		{"500 then 429s", []http.HandlerFunc{reply(500, ""), reply(429, "")}, ClassAmbiguous, 4, 429},
		{"500 then 400", []http.HandlerFunc{reply(500, ""), reply(400, "")}, ClassRejected, 2, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, s := newServer(t, tt.replies...)
			// Every 429 spends a retry, as when the Client gives up on
			// throttling (TestThrottle* cover waiting 429s out).
			c, logs := newTestClient(t, srv.URL, func(c *Config) { c.ThrottleGiveUp = -1 })
			ctx, attempts := CountAttempts(context.Background())
			_, err := c.Create(ctx, "en-US", sampleSR(), "rid-"+tt.name)
			if got := int64(len(s.Hits())); got != tt.attempts || attempts.Load() != tt.attempts {
				t.Errorf("server saw %d requests, CountAttempts %d; want %d", got, attempts.Load(), tt.attempts)
			}
			if tt.wantClass == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if got := ClassOf(err); got != tt.wantClass {
				t.Errorf("ClassOf(%v) = %q, want %q", err, got, tt.wantClass)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.StatusCode != tt.status || ae.RequestID != "rid-"+tt.name {
				t.Errorf("error %v: want an *APIError with status %d and the request id", err, tt.status)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q holds the token", err)
			}
			if tt.attempts > 1 && !strings.Contains(logs.String(), "http attempt") {
				t.Error("no attempt was logged at Debug level")
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, reply(429, `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 1 seconds."}`, "Retry-After", "1"), created("1"))
	// RetryWaitMax is 2ms: only the header can make the retry wait ~1s.
	c, _ := newTestClient(t, srv.URL, nil)
	if _, err := c.Create(context.Background(), "en-US", sampleSR(), "rid"); err != nil {
		t.Fatal(err)
	}
	hits := s.Hits()
	if len(hits) != 2 {
		t.Fatalf("%d requests, want 2", len(hits))
	}
	if gap := hits[1].at.Sub(hits[0].at); gap < 900*time.Millisecond {
		t.Errorf("retry came %v after the 429 with Retry-After: 1", gap)
	}
}

// truncated answers 201 with a Content-Length larger than the body it
// writes, then closes the connection.
func truncated(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	buf.WriteString("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"id\":\"6180")
	buf.Flush()
}

func TestTruncatedBodyRetried(t *testing.T) {
	t.Parallel()
	t.Run("then 201", func(t *testing.T) {
		t.Parallel()
		srv, s := newServer(t, truncated, created("618000000004471"))
		c, _ := newTestClient(t, srv.URL, nil)
		ctx, attempts := CountAttempts(context.Background())
		sr, err := c.Create(ctx, "en-US", sampleSR(), "rid-trunc")
		if err != nil {
			t.Fatal(err)
		}
		hits := s.Hits()
		if sr.ID != "618000000004471" || attempts.Load() != 2 || len(hits) != 2 {
			t.Fatalf("id %q, %d attempts counted, %d requests; want the id and 2", sr.ID, attempts.Load(), len(hits))
		}
		for i, h := range hits {
			if h.header.Get("MS-RequestId") != "rid-trunc" {
				t.Errorf("attempt %d: MS-RequestId %q", i+1, h.header.Get("MS-RequestId"))
			}
		}
	})
	t.Run("always", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t, truncated)
		c, _ := newTestClient(t, srv.URL, func(c *Config) { c.Retries = 1 })
		_, err := c.Create(context.Background(), "en-US", sampleSR(), "rid")
		if !errors.Is(err, io.ErrUnexpectedEOF) || ClassOf(err) != ClassAmbiguous {
			t.Errorf("error %v (class %q): want io.ErrUnexpectedEOF, ambiguous", err, ClassOf(err))
		}
	})
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, _ := newTestClient(t, "http://"+addr, func(c *Config) { c.Retries = 2 })
	ctx, attempts := CountAttempts(context.Background())
	_, err = c.Create(ctx, "en-US", sampleSR(), "rid")
	var op *net.OpError
	if !errors.As(err, &op) || ClassOf(err) != ClassTransient {
		t.Errorf("error %v (class %q): want a dial *net.OpError, transient", err, ClassOf(err))
	}
	if attempts.Load() != 3 {
		t.Errorf("%d attempts, want 3 (refused connections are retried)", attempts.Load())
	}
}

// hookHandler calls on with the message of every record it handles.
type hookHandler struct {
	slog.Handler
	on func(msg string)
}

func (h hookHandler) Handle(ctx context.Context, r slog.Record) error {
	h.on(r.Message)
	return h.Handler.Handle(ctx, r)
}

func (h hookHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return hookHandler{h.Handler.WithAttrs(as), h.on}
}

func (h hookHandler) WithGroup(name string) slog.Handler {
	return hookHandler{h.Handler.WithGroup(name), h.on}
}

func TestCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   Class
	}{
		{503, ClassAmbiguous}, // the 503 may have created it
		{429, ClassTransient}, // a 429 did not
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			srv, s := newServer(t, reply(tt.status, ""))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			logs := &lockedBuffer{}
			// retryablehttp logs "retrying request" once it has decided to
			// wait: cancelling there lands inside the backoff.
			h := hookHandler{slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}), func(msg string) {
				if msg == "retrying request" {
					cancel()
				}
			}}
			c, _ := newTestClient(t, srv.URL, func(c *Config) {
				c.RetryWaitMin, c.RetryWaitMax = 10*time.Minute, 10*time.Minute
				c.Logger = slog.New(h)
				c.ThrottleGiveUp = -1 // the 429 goes to the retry layer's backoff
			})
			done := make(chan error, 1)
			go func() {
				_, err := c.Create(ctx, "en-US", sampleSR(), "rid")
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error %v, want context.Canceled", err)
				}
				if got := ClassOf(err); got != tt.want {
					t.Errorf("ClassOf(%v) = %q, want %q", err, got, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Create still waits 10s after its context was cancelled")
			}
			if n := len(s.Hits()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			if strings.Contains(logs.String(), testToken) {
				t.Error("the log holds the token")
			}
		})
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(400)
		fmt.Fprintf(w, "<html><body><pre>Authorization: %s\nX-Locale: %s</pre></body></html>", r.Header.Get("Authorization"), r.Header.Get("X-Locale"))
	}
	srv, _ := newServer(t, reply(500, "Internal error"), echo)
	c, logs := newTestClient(t, srv.URL, nil)
	_, err := c.Create(context.Background(), "en-US", sampleSR(), "rid")
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(fmt.Sprintf("%+v", err), testToken) {
		t.Errorf("error holds the token: %v", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || strings.Contains(fmt.Sprintf("%#v", *ae), testToken) {
		t.Errorf("APIError %#v holds the token", ae)
	}
	if !strings.Contains(logs.String(), "http attempt") {
		t.Errorf("nothing logged: %q", logs)
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the log holds the token:\n%s", logs)
	}
}

type tokenFunc func(ctx context.Context) (string, error)

func (f tokenFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

func TestTokenSourceErrors(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	tests := []struct {
		name   string
		source TokenSource
		want   Class
		is     error
	}{
		{"empty static token", StaticToken(""), ClassAuth, ErrNoToken},
		{"refresh failed", tokenFunc(func(context.Context) (string, error) {
			calls.Add(1)
			return "", errors.New("token endpoint unreachable")
		}), ClassTransient, nil},
		{"credential refused", tokenFunc(func(context.Context) (string, error) {
			return "", fmt.Errorf("invalid_grant: %w", ErrNoToken)
		}), ClassAuth, ErrNoToken},
		{"empty token", tokenFunc(func(context.Context) (string, error) { return "", nil }), ClassAuth, ErrNoToken},
		{"header injection", tokenFunc(func(context.Context) (string, error) { return "abc\r\nX-Evil: 1", nil }), ClassTransient, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, s := newServer(t, created("1"))
			c, _ := newTestClient(t, srv.URL, func(c *Config) { c.Token = tt.source })
			ctx, attempts := CountAttempts(context.Background())
			_, err := c.Create(ctx, "en-US", sampleSR(), "rid")
			if got := ClassOf(err); got != tt.want {
				t.Errorf("ClassOf(%v) = %q, want %q", err, got, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want %v", err, tt.is)
			}
			if n := len(s.Hits()); n != 0 || attempts.Load() != 0 {
				t.Errorf("%d requests, %d attempts counted; want none", n, attempts.Load())
			}
		})
	}
	if calls.Load() != 1 {
		t.Errorf("failing token source called %d times, want 1 (no retry)", calls.Load())
	}
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	stall := func(w http.ResponseWriter, r *http.Request) {
		select { // until the client gives up on the attempt
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	t.Run("then 201", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t, stall, created("1"))
		c, _ := newTestClient(t, srv.URL, func(c *Config) { c.AttemptTimeout = 100 * time.Millisecond })
		ctx, attempts := CountAttempts(context.Background())
		if _, err := c.Create(ctx, "en-US", sampleSR(), "rid"); err != nil {
			t.Fatal(err)
		}
		if attempts.Load() != 2 {
			t.Errorf("%d attempts, want 2", attempts.Load())
		}
	})
	t.Run("no retries left", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t, stall)
		c, _ := newTestClient(t, srv.URL, func(c *Config) { c.AttemptTimeout = 100 * time.Millisecond; c.Retries = 0 })
		_, err := c.Create(context.Background(), "en-US", sampleSR(), "rid")
		var te *attemptTimeoutError
		if !errors.As(err, &te) || ClassOf(err) != ClassAmbiguous {
			t.Errorf("error %v (class %q): want an attempt timeout, ambiguous", err, ClassOf(err))
		}
	})
}

// countingWaiter is a rate limiter that never waits and counts its calls.
type countingWaiter struct {
	n   atomic.Int64
	err error
}

func (w *countingWaiter) Wait(context.Context) error {
	w.n.Add(1)
	return w.err
}

func TestRateLimiterSeesEveryAttempt(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, reply(500, ""), reply(429, ""), created("1"))
	lim := &countingWaiter{}
	cfg := Config{BaseURL: srv.URL, Token: StaticToken(testToken), Retries: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}
	c := newClient(cfg, srv.URL, lim)
	ctx, attempts := CountAttempts(context.Background())
	if _, err := c.Create(ctx, "en-US", sampleSR(), "rid"); err != nil {
		t.Fatal(err)
	}
	if lim.n.Load() != 3 || attempts.Load() != 3 || len(s.Hits()) != 3 {
		t.Errorf("limiter waited %d times for %d attempts (%d requests); want 3 each", lim.n.Load(), attempts.Load(), len(s.Hits()))
	}

	// A wait that cannot finish before the deadline sends nothing and is not retried.
	refusing := &countingWaiter{err: errors.New("rate: Wait(n=1) would exceed context deadline")}
	c = newClient(cfg, srv.URL, refusing)
	ctx, attempts = CountAttempts(context.Background())
	_, err := c.Create(ctx, "en-US", sampleSR(), "rid")
	if ClassOf(err) != ClassTransient || refusing.n.Load() != 1 || attempts.Load() != 0 {
		t.Errorf("error %v (class %q), %d waits, %d attempts; want transient, 1, 0", err, ClassOf(err), refusing.n.Load(), attempts.Load())
	}
}

func TestRateLimiterPaces(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, reply(500, ""), reply(500, ""), reply(503, ""), reply(502, ""), created("1"))
	c, _ := newTestClient(t, srv.URL, func(c *Config) { c.Rate = 20; c.Retries = 5 })
	start := time.Now()
	if _, err := c.Create(context.Background(), "en-US", sampleSR(), "rid"); err != nil {
		t.Fatal(err)
	}
	// 5 attempts at 20/s with a burst of 1 need at least 4 × 50ms.
	if n := len(s.Hits()); n != 5 {
		t.Fatalf("%d requests, want 5", n)
	}
	if elapsed := time.Since(start); elapsed < 150*time.Millisecond {
		t.Errorf("5 attempts at 20/s took %v; the retries escaped the limiter", elapsed)
	}
}

func TestRateLimiterCancel(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, reply(500, ""))
	c, _ := newTestClient(t, srv.URL, func(c *Config) { c.Rate = 0.001; c.Retries = 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ctx, attempts := CountAttempts(ctx)
	_, err := c.Create(ctx, "en-US", sampleSR(), "rid")
	// The first attempt takes the only token; the second cannot get one
	// before the deadline.
	if err == nil || attempts.Load() != 1 || len(s.Hits()) != 1 {
		t.Errorf("error %v, %d attempts, %d requests; want an error after 1", err, attempts.Load(), len(s.Hits()))
	}
	if ClassOf(err) != ClassAmbiguous { // the 500 may have created it
		t.Errorf("ClassOf(%v) = %q, want ambiguous", err, ClassOf(err))
	}
}

func TestUnusableSuccess(t *testing.T) {
	t.Parallel()
	huge := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		w.Write([]byte(`{"id":"1","description":"`))
		w.Write(bytes.Repeat([]byte("x"), maxBody))
		w.Write([]byte(`"}`))
	}
	tests := []struct {
		name  string
		reply http.HandlerFunc
	}{
		{"not JSON", reply(201, "<html>created, maybe</html>", "Content-Type", "text/html")},
		{"no id", reply(201, `{"status":"none"}`)},
		{"empty body", reply(201, "")},
		{"body over the cap", huge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, s := newServer(t, tt.reply, created("2"))
			c, _ := newTestClient(t, srv.URL, nil)
			sr, err := c.Create(context.Background(), "en-US", sampleSR(), "rid")
			if sr != nil || ClassOf(err) != ClassAmbiguous {
				t.Errorf("Create = %+v, %v (class %q); want nil and an ambiguous error", sr, err, ClassOf(err))
			}
			if n := len(s.Hits()); n != 1 {
				t.Errorf("%d requests, want 1: a 2xx must not be re-posted", n)
			}
		})
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, reply(302, "", "Location", "/elsewhere"), created("1"))
	c, _ := newTestClient(t, srv.URL, nil)
	_, err := c.Create(context.Background(), "en-US", sampleSR(), "rid")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 302 || ClassOf(err) != ClassAmbiguous || len(s.Hits()) != 1 {
		t.Errorf("error %v, %d requests; want an ambiguous HTTP 302 after 1 request", err, len(s.Hits()))
	}
}

func TestGetListUpdateTopics(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []hit
	mux := http.NewServeMux()
	record := func(r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, hit{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body, time.Now()})
		mu.Unlock()
	}
	mux.HandleFunc("GET /v1/servicerequests/supporttopics", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		io.WriteString(w, "\xEF\xBB\xBF"+`{"totalCount":2,"items":[{"id":32451178,"name":"Billing","attributes":{"objectType":"SupportTopic"}},{"id":7,"name":"Other"}],"attributes":{"objectType":"Collection"}}`)
	})
	mux.HandleFunc("GET /v1/servicerequests/{id}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		if r.PathValue("id") != "618000000004471" {
			reply(404, `{"type":"about:blank","title":"Not Found","status":404,"detail":"Service request `+r.PathValue("id")+` was not found."}`)(w, r)
			return
		}
		io.WriteString(w, "\xEF\xBB\xBF"+seedResponse)
	})
	mux.HandleFunc("PATCH /v1/servicerequests/{id}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		if r.PathValue("id") == "204" {
			w.WriteHeader(204)
			return
		}
		io.WriteString(w, `{"id":"`+r.PathValue("id")+`","status":"closed"}`)
	})
	mux.HandleFunc("GET /v1/servicerequests", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		io.WriteString(w, `{"totalCount":1,"items":[{"id":"1","status":"open"}],"links":{"next":{"uri":"/servicerequests?size=1&offset=1","method":"GET","headers":[]}},"attributes":{"objectType":"Collection"}}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL+"/v1/", nil)
	ctx := context.Background()

	sr, err := c.Get(ctx, "618000000004471")
	if err != nil || sr.ID != "618000000004471" || sr.Status != StatusOpen {
		t.Errorf("Get = %+v, %v", sr, err)
	}
	_, err = c.Get(ctx, "999")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || !strings.Contains(ae.Description, "999 was not found") || ClassOf(err) != ClassRejected {
		t.Errorf("Get(999) error %v", err)
	}

	page, err := c.List(ctx, ListOptions{Size: 10, Offset: 20, Status: StatusAttentionNeeded})
	if err != nil || len(page.Items) != 1 || page.Links == nil || page.Links.Next == nil {
		t.Errorf("List = %+v, %v", page, err)
	}
	if _, err := c.List(ctx, ListOptions{}); err != nil {
		t.Error(err)
	}
	if _, err := c.List(ctx, ListOptions{Size: 1001}); ClassOf(err) != ClassRejected {
		t.Errorf("List(size 1001) error %v", err)
	}

	up, err := c.Update(ctx, "618000000004471", &ServiceRequest{Status: StatusClosed, NewNote: &Note{Text: "done"}})
	if err != nil || up == nil || up.Status != StatusClosed {
		t.Errorf("Update = %+v, %v", up, err)
	}
	up, err = c.Update(ctx, "204", &ServiceRequest{NewNote: &Note{Text: "n"}})
	if up != nil || err != nil {
		t.Errorf("Update answered 204 = %+v, %v; want nil, nil", up, err)
	}

	topics, err := c.SupportTopics(ctx)
	if err != nil || len(topics) != 2 || topics[0].ID != 32451178 || topics[0].Name != "Billing" {
		t.Errorf("SupportTopics = %+v, %v", topics, err)
	}

	mu.Lock()
	defer mu.Unlock()
	want := []struct{ method, path string }{
		{"GET", "/v1/servicerequests/618000000004471"},
		{"GET", "/v1/servicerequests/999"},
		{"GET", "/v1/servicerequests"},
		{"GET", "/v1/servicerequests"},
		{"PATCH", "/v1/servicerequests/618000000004471"},
		{"PATCH", "/v1/servicerequests/204"},
		{"GET", "/v1/servicerequests/supporttopics"},
	}
	if len(seen) != len(want) {
		t.Fatalf("%d requests, want %d", len(seen), len(want))
	}
	ids := map[string]bool{}
	for i, w := range want {
		h := seen[i]
		if h.method != w.method || h.path != w.path {
			t.Errorf("request %d: %s %s, want %s %s", i, h.method, h.path, w.method, w.path)
		}
		if h.header.Get("Authorization") != "Bearer "+testToken || h.header.Get("X-Locale") != "en-US" || h.header.Get("Accept") != "application/json" {
			t.Errorf("request %d headers %v", i, h.header)
		}
		rid := h.header.Get("MS-RequestId")
		if rid == "" || ids[rid] {
			t.Errorf("request %d: MS-RequestId %q, want a fresh one per call", i, rid)
		}
		ids[rid] = true
	}
	q := seen[2].rawQuery
	if !strings.Contains(q, "size=10") || !strings.Contains(q, "offset=20") {
		t.Errorf("list query %q", q)
	}
	vals, _ := urlQuery(q)
	var f map[string]string
	if err := json.Unmarshal([]byte(vals), &f); err != nil ||
		f["Field"] != "Status" || f["Value"] != "attention_needed" || f["Operator"] != "equals" {
		t.Errorf("filter %q (%v)", vals, err)
	}
	if seen[3].rawQuery != "" {
		t.Errorf("List with no options sent query %q", seen[3].rawQuery)
	}
	if ct := seen[4].header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("PATCH Content-Type %q", ct)
	}
	var patch ServiceRequest
	if err := json.Unmarshal(seen[4].body, &patch); err != nil || patch.Status != StatusClosed || patch.NewNote == nil || patch.NewNote.Text != "done" || patch.Title != "" {
		t.Errorf("PATCH body %s (%v)", seen[4].body, err)
	}
	if seen[0].header.Get("Content-Type") != "" {
		t.Errorf("GET carries Content-Type %q", seen[0].header.Get("Content-Type"))
	}
}

// urlQuery returns the decoded filter parameter of a raw query.
func urlQuery(raw string) (string, error) {
	req, err := http.NewRequest("GET", "http://x/?"+raw, nil)
	if err != nil {
		return "", err
	}
	return req.URL.Query().Get("filter"), nil
}

func TestInvalidArguments(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, created("1"))
	c, _ := newTestClient(t, srv.URL, nil)
	ctx := context.Background()
	calls := map[string]func() error{
		"Create nil":        func() error { _, err := c.Create(ctx, "en-US", nil, "rid"); return err },
		"Create without id": func() error { _, err := c.Create(ctx, "en-US", sampleSR(), ""); return err },
		"Get empty":         func() error { _, err := c.Get(ctx, ""); return err },
		"Update empty":      func() error { _, err := c.Update(ctx, "", &ServiceRequest{}); return err },
		"Update nil":        func() error { _, err := c.Update(ctx, "1", nil); return err },
		"List negative":     func() error { _, err := c.List(ctx, ListOptions{Offset: -1}); return err },
	}
	for name, call := range calls {
		if err := call(); ClassOf(err) != ClassRejected {
			t.Errorf("%s: error %v (class %q), want rejected", name, err, ClassOf(err))
		}
	}
	if n := len(s.Hits()); n != 0 {
		t.Errorf("%d requests sent for invalid arguments", n)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	ok := Config{BaseURL: "https://api.partnercenter.microsoft.com", Token: StaticToken("t")}
	bad := map[string]func(*Config){
		"empty URL":        func(c *Config) { c.BaseURL = "" },
		"relative URL":     func(c *Config) { c.BaseURL = "api.partnercenter.microsoft.com" },
		"ftp":              func(c *Config) { c.BaseURL = "ftp://x" },
		"query":            func(c *Config) { c.BaseURL = "https://x/?a=1" },
		"user info":        func(c *Config) { c.BaseURL = "https://u:p@x" },
		"nil token":        func(c *Config) { c.Token = nil },
		"negative workers": func(c *Config) { c.Workers = -1 },
		"negative rate":    func(c *Config) { c.Rate = -1 },
		"negative retries": func(c *Config) { c.Retries = -1 },
		"negative timeout": func(c *Config) { c.AttemptTimeout = -time.Second },
	}
	for name, edit := range bad {
		cfg := ok
		edit(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	for _, u := range []string{"https://api.partnercenter.microsoft.com/", "http://127.0.0.1:4311", "http://127.0.0.1:4311/v1/", "https://gw.example/partner"} {
		cfg := ok
		cfg.BaseURL = u
		c, err := New(cfg)
		if err != nil {
			t.Errorf("New(%q): %v", u, err)
			continue
		}
		if strings.HasSuffix(c.base, "/") || strings.HasSuffix(c.base, "/v1") {
			t.Errorf("New(%q): base %q", u, c.base)
		}
	}
}

func TestTransportDefaults(t *testing.T) {
	t.Parallel()
	c, err := New(Config{BaseURL: "http://127.0.0.1:4311", Token: StaticToken("t"), Workers: 32})
	if err != nil {
		t.Fatal(err)
	}
	base, ok := c.idle.(*http.Transport)
	if !ok {
		t.Fatalf("base transport %T", c.idle)
	}
	if base.MaxIdleConnsPerHost < 32 || base.MaxIdleConns < 2*32+8 || base.IdleConnTimeout != 90*time.Second {
		t.Errorf("pool: per host %d, total %d, idle timeout %v", base.MaxIdleConnsPerHost, base.MaxIdleConns, base.IdleConnTimeout)
	}
	if c.rc.Logger != nil {
		t.Errorf("retryablehttp logger %T with Config.Logger nil: want none (not its stderr default)", c.rc.Logger)
	}
	if c.rc.RetryMax != 0 || c.rc.RetryWaitMin != DefaultRetryWaitMin || c.rc.RetryWaitMax != DefaultRetryWaitMax {
		t.Errorf("retry settings %d %v %v", c.rc.RetryMax, c.rc.RetryWaitMin, c.rc.RetryWaitMax)
	}
	if c.rc.HTTPClient.Timeout != 0 {
		t.Errorf("http.Client.Timeout %v: the attempt timeout lives below the limiter", c.rc.HTTPClient.Timeout)
	}

	// The stack, outermost first.
	c, err = New(Config{BaseURL: "http://127.0.0.1:4311", Token: StaticToken("t"), Rate: 5, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if c.rc.Logger != nil {
		t.Errorf("retryablehttp logger %T with a Logger not enabled at Debug: want none", c.rc.Logger)
	}
	if c.Rate() != 5 {
		t.Errorf("Rate() = %g, want 5", c.Rate())
	}
	debug := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err = New(Config{BaseURL: "http://127.0.0.1:4311", Token: StaticToken("t"), Logger: debug})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.rc.Logger.(retryLogger); !ok {
		t.Errorf("retryablehttp logger %T, want the slog adapter", c.rc.Logger)
	}
	if c.Rate() != 0 {
		t.Errorf("Rate() = %g without Config.Rate, want 0", c.Rate())
	}
	var layers []string
	for rt := c.rc.HTTPClient.Transport; rt != nil; {
		layers = append(layers, fmt.Sprintf("%T", rt))
		switch l := rt.(type) {
		case *attemptTransport:
			rt = l.next
		default:
			rt = nil
		}
	}
	want := "*client.attemptTransport *http.Transport"
	if got := strings.Join(layers, " "); got != want {
		t.Errorf("stack %s\nwant  %s", got, want)
	}
}
