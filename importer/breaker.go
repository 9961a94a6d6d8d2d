package importer

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrServiceDown is wrapped by the error of a run that stopped because the
// service did not answer.
var ErrServiceDown = errors.New("the service is not answering")

// Breaker stops a run whose service no longer answers: when attempts have
// failed at the transport level (refused, DNS, TLS, reset, no answer in
// time) for Window with no answer in between, it trips. Feed it every
// attempt with Attempt (client.Config.OnAttempt); it is safe for
// concurrent use.
type Breaker struct {
	window time.Duration
	target string
	now    func() time.Time

	mu        sync.Mutex
	failSince time.Time // first unanswered attempt since the last answer
	fails     int
	last      error
	tripped   chan struct{}
	err       error
}

// NewBreaker returns a Breaker that trips after window without an answer
// (at least three failed attempts); target names the service in its
// error.
func NewBreaker(window time.Duration, target string) *Breaker {
	return &Breaker{window: window, target: target, now: time.Now, tripped: make(chan struct{})}
}

// Attempt records one attempt: reached is true when any answer arrived.
func (b *Breaker) Attempt(reached bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return
	}
	if reached {
		b.failSince, b.fails = time.Time{}, 0
		return
	}
	now := b.now()
	if b.fails == 0 {
		b.failSince = now
	}
	b.fails++
	if b.fails >= 3 && now.Sub(b.failSince) >= b.window {
		why := "every attempt failed"
		if b.last != nil {
			why = "last error: " + b.last.Error()
		}
		b.err = fmt.Errorf("%w: %s: no answer for %s (%d attempts; %s); rows not sent are pending, rows in doubt are settled by the next run",
			ErrServiceDown, b.target, now.Sub(b.failSince).Round(time.Second), b.fails, why)
		close(b.tripped)
	}
}

// note keeps a row's transport error for the Breaker's message.
func (b *Breaker) note(err error) {
	b.mu.Lock()
	b.last = err
	b.mu.Unlock()
}

// Tripped is closed when the Breaker trips.
func (b *Breaker) Tripped() <-chan struct{} { return b.tripped }

// Err is the reason the Breaker tripped, nil before.
func (b *Breaker) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}
