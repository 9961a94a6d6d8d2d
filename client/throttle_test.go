package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
)

// TestThrottleNeverFailsARow: against a quota far below what the workers
// could send, with no retries at all, every create succeeds although the
// service answered 429s, and the client ends up with a limit in force.
func TestThrottleNeverFailsARow(t *testing.T) {
	t.Parallel()
	const rows, workers = 300, 16
	em, url := newEmulator(t, emulator.Config{Quota: 100})
	var observed, throttled atomic.Int64
	c := newClient(t, url, func(c *client.Config) {
		c.Retries, c.Workers = 0, workers
		c.Observe = func(a client.Attempt) {
			observed.Add(1)
			if a.Throttled {
				throttled.Add(1)
				if a.Status != http.StatusTooManyRequests || a.RetryAfter < time.Second || !a.Reached {
					t.Errorf("throttled attempt %+v", a)
				}
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctx, attempts := client.CountAttempts(ctx)
	next := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Go(func() {
			for i := range next {
				body := fmt.Appendf(nil, `{"title":"row %d","description":"d","severity":"minimal","supportTopicId":"32451178"}`, i)
				if _, err := c.CreateBody(ctx, "en-US", body, fmt.Sprint("rid-", i)); err != nil {
					failed.Add(1)
					t.Errorf("row %d: %v", i, err)
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
	if failed.Load() != 0 || st.Created != rows || st.Throttled == 0 || st.Duplicates != 0 {
		t.Errorf("%d failed, stats %+v; want all %d created, some 429s, no duplicate", failed.Load(), st, rows)
	}
	if got := attempts.Load(); got != rows+st.Throttled || observed.Load() != got || throttled.Load() != st.Throttled {
		t.Errorf("%d attempts counted, %d observed (%d throttled); the service saw %d creates and %d 429s",
			got, observed.Load(), throttled.Load(), rows, st.Throttled)
	}
	if r := c.Rate(); r <= 0 || r > 200 {
		t.Errorf("Rate() = %g after throttling at 100/s, want a limit near it", r)
	}
}

// throttleServer answers 429 with Retry-After retryAfter (none if empty)
// to the first n requests, 201 afterwards, and records when each came.
type throttleServer struct {
	n          int
	retryAfter string
	mu         sync.Mutex
	at         []time.Time
	ids        []string
}

func (s *throttleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.at = append(s.at, time.Now())
	s.ids = append(s.ids, r.Header.Get("MS-RequestId"))
	k := len(s.at)
	s.mu.Unlock()
	if s.n < 0 || k <= s.n {
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"statusCode":429,"message":"Rate limit is exceeded."}`))
		return
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{"id":"616000000000001"}`))
}

func (s *throttleServer) hits() ([]time.Time, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.at...), append([]string(nil), s.ids...)
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestThrottleGate: a Retry-After of 2 s holds all sending for 2 s, tells
// OnPause once, and the throttled request is sent again, same
// MS-RequestId, spending no retry.
func TestThrottleGate(t *testing.T) {
	t.Parallel()
	s := &throttleServer{n: 1, retryAfter: "2"}
	var pauses []time.Duration
	var mu sync.Mutex
	throttled := make(chan struct{})
	var once sync.Once
	c := newClient(t, serve(t, s), func(c *client.Config) {
		c.Retries = 0
		c.Observe = func(a client.Attempt) { // after the pacer heard of it
			if a.Throttled {
				once.Do(func() { close(throttled) })
			}
		}
		c.OnPause = func(d time.Duration) {
			mu.Lock()
			pauses = append(pauses, d)
			mu.Unlock()
		}
	})
	first := make(chan error, 1)
	go func() {
		_, err := c.CreateBody(context.Background(), "", []byte(`{"title":"a"}`), "rid-a")
		first <- err
	}()
	// Once the 429 has set the gate, a second create must not go out
	// before the gate lifts either.
	<-throttled
	if _, err := c.CreateBody(context.Background(), "", []byte(`{"title":"b"}`), "rid-b"); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	at, ids := s.hits()
	if len(at) != 3 || ids[0] != "rid-a" {
		t.Fatalf("%d requests %v, want the 429 to rid-a and two creates", len(at), ids)
	}
	for i := 1; i < 3; i++ {
		if gap := at[i].Sub(at[0]); gap < 1900*time.Millisecond {
			t.Errorf("request %d (%s) went out %v after the 429 with Retry-After: 2", i, ids[i], gap)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pauses) != 1 || pauses[0] != 2*time.Second {
		t.Errorf("OnPause calls %v, want one with 2s", pauses)
	}
}

// TestThrottleGiveUp: when the service never admits anything for
// ThrottleGiveUp, the 429 is returned, ClassThrottled.
func TestThrottleGiveUp(t *testing.T) {
	t.Parallel()
	s := &throttleServer{n: -1}
	c := newClient(t, serve(t, s), func(c *client.Config) {
		c.Retries = 0
		c.ThrottleGiveUp = 200 * time.Millisecond
		c.RetryWaitMin, c.RetryWaitMax = 10*time.Millisecond, 20*time.Millisecond
	})
	ctx, attempts := client.CountAttempts(context.Background())
	_, err := c.CreateBody(ctx, "", []byte(`{"title":"a"}`), "rid")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests || client.ClassOf(err) != client.ClassThrottled {
		t.Fatalf("error %v (class %q), want a 429, throttled", err, client.ClassOf(err))
	}
	at, _ := s.hits()
	if attempts.Load() < 2 || int64(len(at)) != attempts.Load() || at[len(at)-1].Sub(at[0]) < 150*time.Millisecond {
		t.Errorf("%d attempts over %v; want several, for about ThrottleGiveUp", attempts.Load(), at[len(at)-1].Sub(at[0]))
	}
	// Still no answer but 429: the next call gives up at its first 429.
	ctx, attempts = client.CountAttempts(context.Background())
	if _, err := c.CreateBody(ctx, "", []byte(`{"title":"b"}`), "rid-b"); client.ClassOf(err) != client.ClassThrottled || attempts.Load() != 1 {
		t.Errorf("next call: %v after %d attempts; want throttled after 1", err, attempts.Load())
	}
}

// TestThrottleWaitCancelled: cancelling the call's context ends a wait for
// Retry-After at once.
func TestThrottleWaitCancelled(t *testing.T) {
	t.Parallel()
	s := &throttleServer{n: -1, retryAfter: "60"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newClient(t, serve(t, s), func(c *client.Config) {
		c.OnAttempt = func(bool) { cancel() } // the 429 arrived: the wait begins
	})
	done := make(chan error, 1)
	go func() {
		_, err := c.CreateBody(ctx, "", []byte(`{"title":"a"}`), "rid")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || client.ClassOf(err) != client.ClassTransient {
			t.Errorf("error %v (class %q), want context.Canceled, transient", err, client.ClassOf(err))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("CreateBody still waits 10s after its context was cancelled")
	}
	if at, _ := s.hits(); len(at) != 1 {
		t.Errorf("%d requests, want 1", len(at))
	}
}

// TestRateExactNoThrottle: with Config.Rate at the service's quota no
// request is ever refused.
func TestRateExactNoThrottle(t *testing.T) {
	t.Parallel()
	const rows, workers = 250, 16
	em, url := newEmulator(t, emulator.Config{Quota: 100})
	c := newClient(t, url, func(c *client.Config) { c.Retries, c.Workers, c.Rate = 0, workers, 100 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if _, err := c.CreateBody(ctx, "en-US", []byte(`{"title":"t","description":"d","severity":"minimal","supportTopicId":"32451178"}`), fmt.Sprint("rid-", i)); err != nil {
					t.Errorf("row %d: %v", i, err)
				}
			}
		})
	}
	for i := range rows {
		next <- i
	}
	close(next)
	wg.Wait()
	if st := em.Stats(); st.Throttled != 0 || st.Created != rows || c.Rate() != 100 {
		t.Errorf("stats %+v, Rate() %g; want %d created, no 429, the limit at 100", st, c.Rate(), rows)
	}
}
