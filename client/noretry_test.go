package client_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
)

// newEmulator serves an emulator with cfg on a loopback httptest server.
func newEmulator(t *testing.T, cfg emulator.Config) (*emulator.Emulator, string) {
	t.Helper()
	em := emulator.New(cfg)
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = em.Close() })
	return em, srv.URL
}

// newClient returns a client for baseURL that retries 3 times, quickly.
func newClient(t *testing.T, baseURL string, edit func(*client.Config)) *client.Client {
	t.Helper()
	cfg := client.Config{
		BaseURL:      baseURL,
		Token:        client.StaticToken("t"),
		Workers:      2,
		Retries:      3,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 2 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func sample() *client.ServiceRequest {
	return &client.ServiceRequest{Title: "t", Description: "d", Severity: client.SeverityCritical, SupportTopicID: "32451178"}
}

func noRetryAfterEffect(c *client.Config) { c.NoRetryAfterEffect = true }

// With NoRetryAfterEffect, a create whose only attempt may have taken
// effect is not re-posted: one attempt, an ambiguous error. Without it the
// same faults are retried.
func TestNoRetryAfterEffect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		faults  emulator.Faults
		created int64 // by the one attempt
		edit    func(*client.Config)
	}{
		{"reset after", emulator.Faults{ResetAfter: 1}, 1, nil},
		{"500 after", emulator.Faults{Error500After: 1}, 1, nil},
		{"truncated 201", emulator.Faults{Truncated201: 1}, 1, nil},
		{"500 before", emulator.Faults{Error500Before: 1}, 0, nil},
		{"stall past the attempt timeout", emulator.Faults{Stall: 1}, 0, func(c *client.Config) { c.AttemptTimeout = 100 * time.Millisecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			em, url := newEmulator(t, emulator.Config{Faults: tt.faults, StallFor: time.Minute})
			c := newClient(t, url, func(c *client.Config) {
				noRetryAfterEffect(c)
				if tt.edit != nil {
					tt.edit(c)
				}
			})
			ctx, attempts := client.CountAttempts(context.Background())
			sr, err := c.Create(ctx, "en-US", sample(), "rid-1")
			if sr != nil || client.ClassOf(err) != client.ClassAmbiguous {
				t.Errorf("Create = %v, %v (class %q); want an ambiguous error", sr, err, client.ClassOf(err))
			}
			if n := attempts.Load(); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
			if st := em.Stats(); st.Creates != 1 || st.Created != tt.created {
				t.Errorf("emulator stats %+v; want 1 create, %d created", st, tt.created)
			}
		})
	}
	// The control: without the option the client retries the same fault.
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		_, url := newEmulator(t, emulator.Config{Faults: emulator.Faults{Error500After: 1}})
		c := newClient(t, url, nil)
		ctx, attempts := client.CountAttempts(context.Background())
		_, err := c.Create(ctx, "en-US", sample(), "rid-1")
		if client.ClassOf(err) != client.ClassAmbiguous || attempts.Load() != 4 {
			t.Errorf("error %v after %d attempts; want ambiguous after 4", err, attempts.Load())
		}
	})
}

// Throttled attempts did not take effect: they are still retried.
func TestNoRetryAfterEffectRetriesThrottled(t *testing.T) {
	t.Parallel()
	em, url := newEmulator(t, emulator.Config{Quota: 1, Burst: 1})
	c := newClient(t, url, noRetryAfterEffect)
	if _, err := c.Create(context.Background(), "en-US", sample(), "rid-1"); err != nil {
		t.Fatal(err)
	}
	// The bucket is empty: the next create is answered 429 (Retry-After:
	// 1) until it refills.
	ctx, attempts := client.CountAttempts(context.Background())
	sr, err := c.Create(ctx, "en-US", sample(), "rid-2")
	if err != nil || sr.ID == "" {
		t.Fatalf("Create = %v, %v", sr, err)
	}
	if st := em.Stats(); attempts.Load() < 2 || st.Throttled < 1 || st.Created != 2 {
		t.Errorf("%d attempts, stats %+v; want a 429 retried into a 201", attempts.Load(), st)
	}
}

// A refused connection sent nothing: it is still retried.
func TestNoRetryAfterEffectRetriesRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newClient(t, "http://"+addr, noRetryAfterEffect)
	ctx, attempts := client.CountAttempts(context.Background())
	_, err = c.Create(ctx, "en-US", sample(), "rid")
	var op *net.OpError
	if !errors.As(err, &op) || client.ClassOf(err) != client.ClassTransient || attempts.Load() != 4 {
		t.Errorf("error %v (class %q) after %d attempts; want a transient dial error after 4", err, client.ClassOf(err), attempts.Load())
	}
}
