package client

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
)

// Attempts that never reach the network, or that the caller's context
// cuts short, are not reported.
func TestOnAttemptNotCalled(t *testing.T) {
	t.Parallel()
	t.Run("caller cancels during the attempt", func(t *testing.T) {
		t.Parallel()
		arrived := make(chan struct{})
		srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			<-r.Context().Done()
		})
		var calls atomic.Int64
		c, _ := newTestClient(t, srv.URL, func(c *Config) { c.OnAttempt = func(bool) { calls.Add(1) } })
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-arrived
			cancel()
		}()
		_, err := c.Get(ctx, "1")
		if !errors.Is(err, context.Canceled) || calls.Load() != 0 {
			t.Errorf("error %v, %d reports; want context.Canceled and none", err, calls.Load())
		}
	})
	t.Run("token source fails", func(t *testing.T) {
		t.Parallel()
		srv, s := newServer(t, created("1"))
		var calls atomic.Int64
		c, _ := newTestClient(t, srv.URL, func(c *Config) {
			c.Token = tokenFunc(func(context.Context) (string, error) { return "", errors.New("vault down") })
			c.OnAttempt = func(bool) { calls.Add(1) }
		})
		if _, err := c.Get(context.Background(), "1"); err == nil || calls.Load() != 0 || len(s.Hits()) != 0 {
			t.Errorf("error %v, %d reports, %d requests; want an error and nothing else", err, calls.Load(), len(s.Hits()))
		}
	})
	t.Run("rate limiter fails", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t, created("1"))
		var calls atomic.Int64
		cfg := Config{BaseURL: srv.URL, Token: StaticToken(testToken), OnAttempt: func(bool) { calls.Add(1) }}
		c := newClient(cfg, srv.URL, &countingWaiter{err: errors.New("would pass the deadline")})
		t.Cleanup(c.CloseIdleConnections)
		if _, err := c.Get(context.Background(), "1"); err == nil || calls.Load() != 0 {
			t.Errorf("error %v, %d reports; want an error and none", err, calls.Load())
		}
	})
}
