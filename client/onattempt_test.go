package client_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
)

// reports records what OnAttempt is told.
type reports struct {
	mu  sync.Mutex
	got []bool
}

func (r *reports) hook(reached bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, reached)
}

// counts returns how many attempts reached the service and how many did not.
func (r *reports) counts() (reached, not int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ok := range r.got {
		if ok {
			reached++
		} else {
			not++
		}
	}
	return reached, not
}

func TestOnAttemptEmulator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cfg          emulator.Config
		edit         func(*client.Config)
		reached, not int
	}{
		{"201", emulator.Config{}, nil, 1, 0},
		{"500 every time", emulator.Config{Faults: emulator.Faults{Error500Before: 1}}, nil, 4, 0},
		{"truncated 201", emulator.Config{Faults: emulator.Faults{Truncated201: 1}}, nil, 4, 0},
		{"reset after creating", emulator.Config{Faults: emulator.Faults{ResetAfter: 1}}, nil, 0, 4},
		{"reset before creating", emulator.Config{Faults: emulator.Faults{ResetBefore: 1}}, nil, 0, 4},
		{"stall", emulator.Config{StallFor: time.Minute, Faults: emulator.Faults{Stall: 1}},
			func(c *client.Config) { c.AttemptTimeout = 50 * time.Millisecond; c.Retries = 1 }, 0, 2},
		{"401", emulator.Config{Token: "other"}, nil, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, url := newEmulator(t, tt.cfg)
			var r reports
			c := newClient(t, url, func(c *client.Config) {
				c.OnAttempt = r.hook
				if tt.edit != nil {
					tt.edit(c)
				}
			})
			ctx, attempts := client.CountAttempts(context.Background())
			_, _ = c.Create(ctx, "en-US", sample(), "rid")
			reached, not := r.counts()
			if reached != tt.reached || not != tt.not || int64(reached+not) != attempts.Load() {
				t.Errorf("OnAttempt reached %d, not %d, over %d attempts; want %d, %d", reached, not, attempts.Load(), tt.reached, tt.not)
			}
		})
	}
}

func TestOnAttemptRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var r reports
	c := newClient(t, "http://"+addr, func(c *client.Config) { c.OnAttempt = r.hook; c.Retries = 2 })
	if _, err := c.Get(context.Background(), "1"); err == nil {
		t.Fatal("no error from a closed port")
	}
	if reached, not := r.counts(); reached != 0 || not != 3 {
		t.Errorf("OnAttempt reached %d, not %d; want 0, 3", reached, not)
	}
}

// Many calls at once: one report per attempt (run with -race).
func TestOnAttemptConcurrent(t *testing.T) {
	t.Parallel()
	_, url := newEmulator(t, emulator.Config{Seed: 5, Faults: emulator.Faults{Error500Before: 0.3, ResetBefore: 0.2}})
	var r reports
	c := newClient(t, url, func(c *client.Config) { c.OnAttempt = r.hook; c.Workers = 8 })
	ctx, attempts := client.CountAttempts(context.Background())
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() { _, _ = c.Create(ctx, "en-US", sample(), fmt.Sprint("rid-", i)) })
	}
	wg.Wait()
	reached, not := r.counts()
	if int64(reached+not) != attempts.Load() || reached == 0 || not == 0 {
		t.Errorf("OnAttempt reached %d, not %d, over %d attempts", reached, not, attempts.Load())
	}
}
