package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) now() time.Time               { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration)      { c.ns.Add(int64(d)) }
func (c *fakeClock) at(d time.Duration) time.Time { return c.now().Add(d) }

// TestRenewalSingleFlight: 32 callers refused with the same token get one
// renewal between them, and a Refused for a replaced token does nothing.
func TestRenewalSingleFlight(t *testing.T) {
	const callers = 32
	var fetches atomic.Int64
	allRefused := make(chan struct{})
	r := &renewal{now: time.Now}
	r.fetch = func(ctx context.Context) (issued, error) {
		n := fetches.Add(1)
		if n > 1 {
			<-allRefused // the renewal is under way while every caller reports the refusal
		}
		return issued{token: fmt.Sprint("tok-", n)}, nil
	}
	ctx := context.Background()
	if tok, err := r.Token(ctx); err != nil || tok != "tok-1" {
		t.Fatalf("first token %q, %v", tok, err)
	}
	var refused sync.WaitGroup
	refused.Add(callers)
	go func() { refused.Wait(); close(allRefused) }()
	var wg sync.WaitGroup
	got := make([]string, callers)
	for i := range callers {
		wg.Go(func() {
			r.Refused("tok-1")
			refused.Done()
			tok, err := r.Token(ctx)
			if err != nil {
				t.Error(err)
			}
			got[i] = tok
		})
	}
	wg.Wait()
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2 (the first token and one renewal)", n)
	}
	for i, tok := range got {
		if tok != "tok-2" {
			t.Errorf("caller %d got %q, want tok-2", i, tok)
		}
	}
	r.Refused("tok-1") // replaced already
	if tok, _ := r.Token(ctx); tok != "tok-2" || fetches.Load() != 2 {
		t.Errorf("a Refused for a replaced token renewed: %q after %d fetches", tok, fetches.Load())
	}
	r.Refused("tok-2")
	if tok, _ := r.Token(ctx); tok != "tok-3" {
		t.Errorf("after the current token was refused: %q, want tok-3", tok)
	}
}

// TestRenewalWaitersHonourContext: a caller waiting for another's renewal
// gives up when its own context ends; a renewal abandoned because its
// runner's context ended is run again by a waiter.
func TestRenewalWaitersHonourContext(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var fetches atomic.Int64
	r := &renewal{now: time.Now}
	r.fetch = func(ctx context.Context) (issued, error) {
		if fetches.Add(1) == 1 {
			close(entered)
			select {
			case <-release:
			case <-ctx.Done():
				return issued{}, ctx.Err()
			}
		}
		return issued{token: "tok"}, nil
	}
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := r.Token(leaderCtx)
		leaderErr <- err
	}()
	<-entered
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Token(gone); !errors.Is(err, context.Canceled) {
		t.Errorf("a waiter whose context ended got %v", err)
	}
	waiter := make(chan string, 1)
	go func() {
		tok, err := r.Token(context.Background())
		if err != nil {
			t.Error(err)
		}
		waiter <- tok
	}()
	cancelLeader()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Errorf("the leader got %v", err)
	}
	if tok := <-waiter; tok != "tok" {
		t.Errorf("the waiter got %q", tok)
	}
	close(release)
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
}

// TestRenewalAhead: a token is renewed margin before its expiry; while that
// renewal runs, others keep the current token; a sticky failure is
// returned again without fetching.
func TestRenewalAhead(t *testing.T) {
	clk := newFakeClock()
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var fetches atomic.Int64
	r := &renewal{now: clk.now}
	r.fetch = func(ctx context.Context) (issued, error) {
		n := fetches.Add(1)
		if n == 2 {
			entered <- struct{}{}
			<-release
		}
		if n == 3 {
			return issued{}, &credentialError{"revoked"}
		}
		return lifetime(fmt.Sprint("tok-", n), clk.at(time.Hour), clk.now(), 30*time.Second), nil
	}
	r.sticky = func(err error) bool { return errors.Is(err, ErrNoToken) }
	ctx := context.Background()
	if tok, _ := r.Token(ctx); tok != "tok-1" {
		t.Fatal(tok)
	}
	clk.advance(time.Hour - 31*time.Second)
	if tok, _ := r.Token(ctx); tok != "tok-1" || fetches.Load() != 1 {
		t.Fatalf("31 s before expiry: %q after %d fetches", tok, fetches.Load())
	}
	clk.advance(2 * time.Second) // 29 s left: within the margin
	renewed := make(chan string)
	go func() {
		tok, _ := r.Token(ctx)
		renewed <- tok
	}()
	<-entered
	if tok, _ := r.Token(ctx); tok != "tok-1" {
		t.Errorf("during the renewal ahead of expiry another caller got %q, want the current tok-1", tok)
	}
	close(release)
	if tok := <-renewed; tok != "tok-2" {
		t.Errorf("renewed %q", tok)
	}
	r.Refused("tok-2")
	_, err := r.Token(ctx)
	if ClassOf(err) != ClassAuth {
		t.Errorf("a credential failure: %v, class %s", err, ClassOf(err))
	}
	if _, err2 := r.Token(ctx); err2 != err || fetches.Load() != 3 {
		t.Errorf("the failure is not sticky: %v after %d fetches", err2, fetches.Load())
	}
}

func TestLifetime(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	if got := lifetime("t", time.Time{}, now, time.Minute); !got.renewAt.IsZero() || !got.expires.IsZero() {
		t.Errorf("no expiry: %+v", got)
	}
	if got := lifetime("t", now.Add(time.Hour), now, 30*time.Second); !got.renewAt.Equal(now.Add(time.Hour - 30*time.Second)) {
		t.Errorf("an hour: renew at %v", got.renewAt.Sub(now))
	}
	if got := lifetime("t", now.Add(10*time.Second), now, 30*time.Second); !got.renewAt.Equal(now.Add(10 * time.Second)) {
		t.Errorf("10 s with a 30 s margin: renew at %v, want at expiry", got.renewAt.Sub(now))
	}
}

func TestParseCommandOutput(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	cases := []struct {
		out     string
		tok     string
		expires time.Time // zero: none
		err     string
	}{
		{"tok-abc\n", "tok-abc", time.Time{}, ""},
		{"  \ufefftok-abc  ", "tok-abc", time.Time{}, ""},
		{`{"access_token":"a1","expires_in":3599}`, "a1", start.Add(3599 * time.Second), ""},
		{`{"access_token":"a1","expires_in":"3599"}`, "a1", start.Add(3599 * time.Second), ""},
		{`{"access_token":"a1","expires_in":"3599.5"}`, "a1", start.Add(3599 * time.Second), ""},
		{`{"access_token":"a1","expires_on":1700003600}`, "a1", time.Unix(1_700_003_600, 0), ""},
		{`{"access_token":"a1","expires_on":"1700003600"}`, "a1", time.Unix(1_700_003_600, 0), ""},
		{`{"access_token":"a1","expires_in":60,"expires_on":"1700003600"}`, "a1", start.Add(time.Minute), ""}, // the earlier
		{`{"accessToken":"a2","expiresOn":"2026-03-01 12:00:00.000000","expires_on":1700000100}`, "a2", time.Unix(1_700_000_100, 0), ""},
		{`{"access_token":"a1","expires_in":null,"expires_on":""}`, "a1", time.Time{}, ""},
		{`{"access_token":"a1","expires_in":"soon"}`, "a1", time.Time{}, ""},
		{"", "", time.Time{}, "printed nothing"},
		{"tok\nmore", "", time.Time{}, "more than one line"},
		{"to k", "", time.Time{}, "characters"},
		{`{"token":"x"}`, "", time.Time{}, "no access_token"},
		{`{"access_token":"a b"}`, "", time.Time{}, "characters"},
		{`{"access_token":`, "", time.Time{}, "not a JSON object"},
	}
	for _, tc := range cases {
		tok, expires, err := parseCommandOutput([]byte(tc.out), start)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.out, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.out, err)
		case tok != tc.tok || !expires.Equal(tc.expires):
			t.Errorf("%q: %q, %v; want %q, %v", tc.out, tok, expires, tc.tok, tc.expires)
		}
	}
}

// counterScript writes a script that prints tok-N, N counting its runs in
// a file beside it, and returns the command to run it.
func counterScript(t *testing.T, format string) string {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "token.sh")
	body := "n=$(cat \"$0.count\" 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > \"$0.count\"\nprintf '" + format + "\\n' \"tok-$n\"\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return "sh " + script
}

// TestCommandTokenRenews: the command runs again once the token is within
// the margin of its expiry, or when it is refused, and not otherwise.
func TestCommandTokenRenews(t *testing.T) {
	clk := newFakeClock()
	c := NewCommandToken(counterScript(t, `{"access_token":"%s","expires_in":"3600"}`), CommandTokenOptions{Margin: time.Minute})
	c.r.now = clk.now
	ctx := context.Background()
	want := func(tok string, runs int64) {
		t.Helper()
		got, err := c.Token(ctx)
		if err != nil || got != tok || c.Runs() != runs {
			t.Fatalf("got %q, %v after %d runs; want %q after %d", got, err, c.Runs(), tok, runs)
		}
	}
	want("tok-1", 1)
	want("tok-1", 1)
	clk.advance(58 * time.Minute)
	want("tok-1", 1)
	clk.advance(90 * time.Second) // 30 s left, margin 1 min
	want("tok-2", 2)
	c.Refused("tok-1") // replaced: nothing happens
	want("tok-2", 2)
	c.Refused("tok-2")
	want("tok-3", 3)

	// A bare token has no expiry: it is used until refused.
	bare := NewCommandToken(counterScript(t, "%s"), CommandTokenOptions{})
	bare.r.now = clk.now
	for range 3 {
		clk.advance(24 * time.Hour)
		if tok, err := bare.Token(ctx); err != nil || tok != "tok-1" {
			t.Fatalf("%q, %v", tok, err)
		}
	}
	bare.Refused("tok-1")
	if tok, _ := bare.Token(ctx); tok != "tok-2" || bare.Runs() != 2 {
		t.Errorf("after a refusal: %q after %d runs", tok, bare.Runs())
	}
}

// TestCommandTokenSingleRun: 32 callers whose token was refused at once
// run the command once.
func TestCommandTokenSingleRun(t *testing.T) {
	c := NewCommandToken(counterScript(t, "%s"), CommandTokenOptions{})
	ctx := context.Background()
	if _, err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			c.Refused("tok-1")
			if tok, err := c.Token(ctx); err != nil || tok != "tok-2" {
				t.Errorf("%q, %v", tok, err)
			}
		})
	}
	wg.Wait()
	if c.Runs() != 2 {
		t.Errorf("%d runs, want 2", c.Runs())
	}
}

// TestCommandTokenFailures: what a failing command gives: a ClassAuth
// error with the end of its standard error, never its standard output.
func TestCommandTokenFailures(t *testing.T) {
	cases := []struct {
		name, command string
		want          []string
	}{
		{"exit status", `echo STDOUT-TOKEN-123456; echo "az: please run 'az login'" >&2; exit 3`, []string{"exit status 3", "please run 'az login'"}},
		{"stderr echoes the token", `echo STDOUT-TOKEN-123456; echo "got STDOUT-TOKEN-123456" >&2; exit 1`, []string{"got [redacted]"}},
		{"nothing printed", `true`, []string{"printed nothing"}},
		{"expired", `echo '{"access_token":"STDOUT-TOKEN-123456","expires_on":1000}'`, []string{"expired at 1970-01-01T00:16:40Z"}},
		{"not found", `no-such-command-srimport`, []string{"exit status 127", "not found"}},
		{"empty command", ` `, []string{"no command given"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCommandToken(tc.command, CommandTokenOptions{})
			_, err := c.Token(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			if ClassOf(err) != ClassAuth {
				t.Errorf("class %s, want auth", ClassOf(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "STDOUT-TOKEN-123456") {
				t.Errorf("the error shows the standard output: %q", err)
			}
		})
	}
}

// TestCommandTokenTimeout: a command past its time limit is killed, even
// when a child it started holds the output open.
func TestCommandTokenTimeout(t *testing.T) {
	c := NewCommandToken(`echo waiting >&2; sleep 30 & sleep 30`, CommandTokenOptions{Timeout: 200 * time.Millisecond})
	c.waitDelay = 100 * time.Millisecond
	start := time.Now()
	_, err := c.Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no token within 200ms") || ClassOf(err) != ClassAuth {
		t.Fatalf("%v (class %s)", err, ClassOf(err))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
	// The caller's context ending is not a credential failure.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewCommandToken("echo tok", CommandTokenOptions{}).Token(ctx); !errors.Is(err, context.Canceled) || ClassOf(err) == ClassAuth {
		t.Errorf("a cancelled caller: %v (class %s)", err, ClassOf(err))
	}
}

// TestClassOfSourceErrors: a token source's error classifies as it would
// through a call.
func TestClassOfSourceErrors(t *testing.T) {
	for err, want := range map[error]Class{
		fmt.Errorf("refused: %w", ErrNoToken):              ClassAuth,
		&credentialError{"refused"}:                        ClassAuth,
		&tokenError{&credentialError{"refused"}}:           ClassAuth,
		&tokenError{errors.New("endpoint down")}:           ClassTransient,
		&tokenError{fmt.Errorf("x: %w", context.Canceled)}: ClassTransient,
	} {
		if got := ClassOf(err); got != want {
			t.Errorf("ClassOf(%v) = %s, want %s", err, got, want)
		}
	}
}

// TestRenewalAheadFails: a renewal ahead of expiry that fails for a
// transient reason leaves the current token in use until it expires; a
// fetch that panics releases its waiters.
func TestRenewalAheadFails(t *testing.T) {
	clk := newFakeClock()
	var fetches atomic.Int64
	r := &renewal{now: clk.now, sticky: func(err error) bool { return errors.Is(err, ErrNoToken) }}
	r.fetch = func(ctx context.Context) (issued, error) {
		switch fetches.Add(1) {
		case 1:
			return lifetime("tok-1", clk.at(time.Hour), clk.now(), 30*time.Second), nil
		case 4:
			panic("boom")
		}
		return issued{}, errors.New("endpoint down")
	}
	ctx := context.Background()
	if tok, err := r.Token(ctx); tok != "tok-1" || err != nil {
		t.Fatal(tok, err)
	}
	clk.advance(time.Hour - 10*time.Second)
	if tok, err := r.Token(ctx); tok != "tok-1" || err != nil || fetches.Load() != 2 {
		t.Errorf("a failed renewal ahead of expiry: %q, %v after %d fetches; want tok-1", tok, err, fetches.Load())
	}
	clk.advance(10 * time.Second)
	if _, err := r.Token(ctx); ClassOf(err) != ClassTransient || fetches.Load() != 3 {
		t.Errorf("past expiry: %v (class %s) after %d fetches", err, ClassOf(err), fetches.Load())
	}
	func() {
		defer func() { _ = recover() }()
		_, _ = r.Token(ctx)
		t.Error("no panic")
	}()
	if _, err := r.Token(ctx); err == nil || fetches.Load() != 5 {
		t.Errorf("after a panic: %v after %d fetches", err, fetches.Load())
	}
}
