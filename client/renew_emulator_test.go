package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
)

// emulatorRefresh starts an emulator with cfg behind h (nil: the emulator
// itself) and returns it, its URL and a RefreshToken for its token
// endpoint.
func emulatorRefresh(t *testing.T, cfg emulator.Config, wrap func(http.Handler) http.Handler, rc client.RefreshConfig) (*emulator.Emulator, string, *client.RefreshToken) {
	t.Helper()
	em := emulator.New(cfg)
	var h http.Handler = em
	if wrap != nil {
		h = wrap(em)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = em.Close() })
	rc.Authority, rc.Tenant = srv.URL, "contoso.onmicrosoft.com"
	if rc.ClientID == "" {
		rc.ClientID = "00000000-0000-0000-0000-00000000a11d"
	}
	if rc.RefreshToken == "" {
		rc.RefreshToken = cfg.RefreshToken
	}
	src, err := client.NewRefreshToken(rc)
	if err != nil {
		t.Fatal(err)
	}
	return em, srv.URL, src
}

func newRenewClient(t *testing.T, url string, tokens client.TokenSource, workers int) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: url, Token: tokens, Workers: workers, Retries: 3,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func renewSR(i int) *client.ServiceRequest {
	return &client.ServiceRequest{Title: fmt.Sprint("row ", i), Description: "d", Severity: client.SeverityMinimal, SupportTopicID: "32451178"}
}

// TestRenewalUnderLoad: 2 000 creates from 32 goroutines with tokens that
// expire after 50 calls all succeed, and the grants stay close to the
// minimum of 2 000 / 50 = 40.
func TestRenewalUnderLoad(t *testing.T) {
	t.Parallel()
	const rows, perToken, workers = 2000, 50, 32
	em, url, src := emulatorRefresh(t, emulator.Config{TokenExpiryCalls: perToken, RefreshToken: "rt-initial"}, nil,
		client.RefreshConfig{ClientSecret: "cs", Version: 1})
	c := newRenewClient(t, url, src, workers)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var failed atomic.Int64
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if _, err := c.Create(ctx, "en-US", renewSR(i), fmt.Sprint("rid-", i)); err != nil {
					if failed.Add(1) <= 5 {
						t.Errorf("row %d: %v", i, err)
					}
				}
			}
		})
	}
	for i := range rows {
		next <- i
	}
	close(next)
	wg.Wait()
	st := em.Stats()
	const minimum = rows / perToken
	ratio := float64(st.TokensIssued) / minimum
	t.Logf("%d rows, tokens of %d calls: %d grants (%d renewals seen by the source), %d 401s; grants/minimum = %.3f",
		rows, perToken, st.TokensIssued, src.Renewals(), st.Unauthorized, ratio)
	if failed.Load() != 0 || st.Created != rows {
		t.Fatalf("%d failed, %d created; want 0 and %d", failed.Load(), st.Created, rows)
	}
	if st.TokensIssued != src.Renewals() {
		t.Errorf("the emulator issued %d tokens, the source counted %d", st.TokensIssued, src.Renewals())
	}
	if st.TokensIssued < minimum || ratio > 1.5 {
		t.Errorf("%d grants for %d rows: want between %d and 1.5× that", st.TokensIssued, rows, minimum)
	}
}

// barrier holds the API requests that carry one token until n of them
// have arrived, so that they are all refused at once.
type barrier struct {
	token   atomic.Pointer[string]
	n       int64
	arrived atomic.Int64
	all     chan struct{}
	next    http.Handler
	t       *testing.T
}

func newBarrier(t *testing.T, n int, next http.Handler) *barrier {
	return &barrier{n: int64(n), all: make(chan struct{}), next: next, t: t}
}

func (b *barrier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if tok := b.token.Load(); tok != nil && r.Header.Get("Authorization") == "Bearer "+*tok {
		if b.arrived.Add(1) == b.n {
			close(b.all)
		}
		select {
		case <-b.all:
		case <-time.After(30 * time.Second): // a safety net, not a synchronisation
			b.t.Errorf("only %d of %d requests arrived with the old token", b.arrived.Load(), b.n)
		}
	}
	b.next.ServeHTTP(w, r)
}

// burst sends n creates at once and fails the test on any error.
func burst(t *testing.T, c *client.Client, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := c.Create(ctx, "en-US", renewSR(i), fmt.Sprint("burst-", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestConcurrent401sOneGrant: 32 creates refused at once for an expired
// token make one grant between them.
func TestConcurrent401sOneGrant(t *testing.T) {
	t.Parallel()
	const n, perToken = 32, 40
	var b *barrier
	em, url, src := emulatorRefresh(t, emulator.Config{TokenExpiryCalls: perToken}, func(h http.Handler) http.Handler {
		b = newBarrier(t, n, h)
		return b
	}, client.RefreshConfig{ClientSecret: "cs", RefreshToken: "rt", Version: 2})
	c := newRenewClient(t, url, src, n)
	ctx := context.Background()
	old, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range perToken { // use the token up
		if _, err := c.Get(ctx, "616000000000001"); client.ClassOf(err) != client.ClassRejected {
			t.Fatalf("get: %v", err)
		}
	}
	b.token.Store(&old)
	burst(t, c, n)
	st := em.Stats()
	if st.TokensIssued != 2 || src.Renewals() != 2 || st.Unauthorized != n || st.Created != n {
		t.Errorf("%d grants (source: %d), %d 401s, %d created; want 2 (the first token and one renewal), %d, %d",
			st.TokensIssued, src.Renewals(), st.Unauthorized, st.Created, n, n)
	}
}

// TestConcurrent401sOneCommandRun: the same with a token command: one run.
func TestConcurrent401sOneCommandRun(t *testing.T) {
	t.Parallel()
	const n, perToken = 32, 40
	em := emulator.New(emulator.Config{TokenExpiryCalls: perToken}) // any bearer token, each good for 40 calls
	b := newBarrier(t, n, em)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	script := filepath.Join(dir, "token.sh")
	if err := os.WriteFile(script, []byte("n=$(cat \"$0.n\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$0.n\"; echo \"cmd-token-$n\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	src := client.NewCommandToken("sh "+script, client.CommandTokenOptions{})
	c := newRenewClient(t, srv.URL, src, n)
	ctx := context.Background()
	for range perToken {
		if _, err := c.Get(ctx, "616000000000001"); client.ClassOf(err) != client.ClassRejected {
			t.Fatalf("get: %v", err)
		}
	}
	old := "cmd-token-1"
	b.token.Store(&old)
	burst(t, c, n)
	if st := em.Stats(); src.Runs() != 2 || st.Unauthorized != n || st.Created != n {
		t.Errorf("%d command runs, %d 401s, %d created; want 2, %d, %d", src.Runs(), st.Unauthorized, st.Created, n, n)
	}
}

// TestRevokedRefreshTokenStopsRun: once the refresh token is revoked, the
// next renewal fails with a ClassAuth error that says what to do and
// holds no secret; later calls fail the same way without another grant.
func TestRevokedRefreshTokenStopsRun(t *testing.T) {
	t.Parallel()
	const refresh, secret = "rt-SECRET-5b1e0c9d", "cs-SECRET-93aa71f2"
	em, url, src := emulatorRefresh(t, emulator.Config{TokenExpiryCalls: 5, RefreshToken: refresh}, nil,
		client.RefreshConfig{ClientSecret: secret, Version: 1})
	c := newRenewClient(t, url, src, 2)
	ctx := context.Background()
	for i := range 12 { // three tokens
		if _, err := c.Create(ctx, "en-US", renewSR(i), fmt.Sprint("rid-", i)); err != nil {
			t.Fatal(err)
		}
	}
	access, _ := src.Token(ctx)
	em.RevokeRefreshTokens()
	var err error
	for i := 12; i < 20 && err == nil; i++ {
		_, err = c.Create(ctx, "en-US", renewSR(i), fmt.Sprint("rid-", i))
	}
	if client.ClassOf(err) != client.ClassAuth {
		t.Fatalf("%v (class %s)", err, client.ClassOf(err))
	}
	msg := err.Error()
	for _, want := range []string{strings.TrimPrefix(url, "http://"), "invalid_grant", "AADSTS50173", "sign in again", "SRIMPORT_REFRESH_TOKEN", "--refresh-token-file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	for _, s := range []string{refresh, secret, access} {
		if strings.Contains(fmt.Sprintf("%v %+v", err, err), s) {
			t.Errorf("the error holds a secret: %q", msg)
		}
	}
	issued := em.Stats().TokensIssued
	if _, err2 := c.Create(ctx, "en-US", renewSR(99), "rid-99"); client.ClassOf(err2) != client.ClassAuth || em.Stats().TokensIssued != issued {
		t.Errorf("after the refusal: %v, %d grants (was %d)", err2, em.Stats().TokensIssued, issued)
	}
}

// TestRotatingRefreshTokenEmulator: each grant's new refresh token reaches
// OnRotate, and the emulator, which accepts only the configured refresh
// token and those it issued, keeps granting.
func TestRotatingRefreshTokenEmulator(t *testing.T) {
	t.Parallel()
	var rotated []string
	em, url, src := emulatorRefresh(t, emulator.Config{TokenExpiryCalls: 3, RefreshToken: "rt-first"}, nil,
		client.RefreshConfig{ClientSecret: "cs", Version: 2, OnRotate: func(rt string) error {
			rotated = append(rotated, rt) // grants run one at a time
			return nil
		}})
	c := newRenewClient(t, url, src, 1)
	for i := range 9 {
		if _, err := c.Create(context.Background(), "en-US", renewSR(i), fmt.Sprint("rid-", i)); err != nil {
			t.Fatal(err)
		}
	}
	if st := em.Stats(); st.TokensIssued != 3 || len(rotated) != 3 {
		t.Fatalf("%d grants, OnRotate called %d times; want 3 and 3", st.TokensIssued, len(rotated))
	}
	seen := map[string]bool{"rt-first": true}
	for _, rt := range rotated {
		if seen[rt] || !strings.HasPrefix(rt, "emu-refresh.") {
			t.Errorf("OnRotate got %q", rt)
		}
		seen[rt] = true
	}
}
