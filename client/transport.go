package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-retryablehttp"
)

const (
	// maxRetryAfter caps how long a Retry-After header can make a retry wait.
	maxRetryAfter = 5 * time.Minute
	// maxBody caps the response body an attempt reads.
	maxBody = 4 << 20
)

// The transport stack, outermost first:
//
//	retryablehttp.Client  retries, backoff, Retry-After; the same MS-RequestId on every attempt
//	  http.Client         no redirects; no timeout of its own (attemptTransport has it)
//	  renewTransport      after a 401, renews the token and resends (only when Config.Token is a Renewer)
//	  attemptTransport    per attempt: waits for the pacer (pace.go); sets the bearer token, Accept,
//	                      Content-Type, X-Locale, User-Agent, MS-CorrelationId; bounds it by
//	                      Config.AttemptTimeout, which the pacer's wait does not eat into; counts it;
//	                      reads the whole body, so a truncated one fails the attempt; tells the call's
//	                      state, OnAttempt, Observe, the pacer and the log. Waits out 429s and resends.
//	  base                *http.Transport sized for Config.Workers, or Config.Transport
//
// One layer rather than four: each layer cost a request copy or a context,
// and BenchmarkCreateBody measured the merge (see the commit that made it).

type ctxKey int

const (
	attemptsKey ctxKey = iota // *atomic.Int64 from CountAttempts
	stateKey                  // *callState of the Client call under way
	sentKey                   // *sentToken: where attemptTransport notes the token it sent
)

// CountAttempts returns a context under which every HTTP attempt made by
// this package increments n, so that callers can report attempts per row.
// An attempt is a request handed to the network: waits for the rate
// limiter or for a token that fail are not attempts. Under nested
// CountAttempts contexts only the innermost counter counts.
func CountAttempts(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, attemptsKey, n), n
}

// callState follows one Client call across its attempts.
type callState struct {
	effect atomic.Bool // some attempt may have taken effect on the server
	// noRetryAfterEffect forbids a retry after an attempt that may have
	// taken effect (Config.NoRetryAfterEffect, on creates).
	noRetryAfterEffect bool
	// renewals and expiredRenewals count the tokens renewed after a 401,
	// for maxRenewals and maxExpiredRenewals.
	renewals, expiredRenewals atomic.Int32
}

func (s *callState) observe(resp *http.Response, err error) {
	if inDoubt(resp, err) {
		s.effect.Store(true)
	}
}

// inDoubt reports whether an attempt that ended with resp or err may have
// taken effect on the server: a 408 or 5xx other than 501, or a failure
// not known to have happened before sending (which includes a 2xx whose
// body could not be read).
func inDoubt(resp *http.Response, err error) bool {
	if err != nil {
		return !notSent(err)
	}
	return resp != nil && mayHaveTakenEffect(resp.StatusCode)
}

// newBaseTransport returns a transport whose idle pool keeps a connection
// per worker, so that connections are reused rather than reopened.
func newBaseTransport(workers int) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2*workers + 8,
		MaxIdleConnsPerHost:   workers + 8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// waiter is the part of *rate.Limiter the stack uses.
// waiter is what the attempt layer waits on before each attempt: the
// Client's pacer, or a test's stand-in.
type waiter interface {
	Wait(ctx context.Context) error
}

// sentToken is where the attempt layer notes the token of an attempt, for
// renewTransport.
type sentToken struct{ token string }

// attemptTransport makes the attempts of one request: it waits for the
// pacer, sets the attempt's headers (bearer token, Accept, Content-Type,
// X-Locale, User-Agent, a new MS-CorrelationId), bounds the attempt,
// body included, by Config.AttemptTimeout, counts it, reads the whole
// answer (so that a body cut short fails the attempt, for the retry layer
// to repeat with the same MS-RequestId), and tells the call's state,
// Config.OnAttempt, Config.Observe, the pacer and the Debug log about it.
//
// A 429 is waited out here, below the retry layer, and the request sent
// again, same MS-RequestId, body re-read with GetBody: after the answer's
// Retry-After, or a backoff between RetryWaitMin and RetryWaitMax when it
// has none, through the pacer again. Only when the pacer gives up on
// throttling (Config.ThrottleGiveUp) is a 429 returned, to follow the
// retry policy. A 429 cannot have taken effect, so resending is safe under
// Config.NoRetryAfterEffect; every resend is an attempt.
type attemptTransport struct {
	next      http.RoundTripper
	lim       waiter
	pace      *pacer
	tokens    TokenSource
	userAgent string
	locale    string
	timeout   time.Duration
	max       int64         // largest answer body read
	waitMin   time.Duration // backoff of a 429 without Retry-After
	waitMax   time.Duration
	log       *slog.Logger // nil: silent
	onAttempt func(bool)   // nil: nobody listens
	observe   func(Attempt)
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for n := 0; ; n++ {
		resp, err := t.attempt(ctx, req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || !t.pace.keepWaiting(time.Now()) {
			return resp, err
		}
		body, ok := bodyAgain(req)
		if !ok {
			return resp, nil // cannot be sent again
		}
		d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !ok || d <= 0 {
			d = jitter(t.waitMin, t.waitMax, n)
		}
		resp.Body.Close()
		if err := sleep(ctx, min(d, maxRetryAfter)); err != nil {
			if body != nil {
				body.Close()
			}
			return nil, err
		}
		req = req.WithContext(ctx) // a shallow copy, for the new body
		req.Body = body
	}
}

// bodyAgain returns req's body afresh, for sending req again: nil for a
// request without one; ok is false when it cannot be read again.
func bodyAgain(req *http.Request) (body io.ReadCloser, ok bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	return body, true
}

// sleep waits d or until ctx ends, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt makes one attempt of req; ctx is the call's context.
func (t *attemptTransport) attempt(ctx context.Context, req *http.Request) (*http.Response, error) {
	if err := t.lim.Wait(ctx); err != nil {
		closeBody(req)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &limitError{err} // the deadline would pass before a slot comes
	}
	tok, err := t.tokens.Token(ctx)
	switch {
	case err != nil:
	case tok == "":
		err = ErrNoToken
	case !headerSafe(tok):
		err = errors.New("the token holds characters an HTTP header cannot carry")
	}
	if err != nil {
		closeBody(req)
		var te *tokenError
		if !errors.As(err, &te) { // the package's token sources wrap their own
			te = &tokenError{err}
		}
		return nil, te
	}
	if s, ok := ctx.Value(sentKey).(*sentToken); ok {
		s.token = tok
	}

	actx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel() // safe: the body has been read
	r := req.WithContext(actx)
	h := make(http.Header, len(req.Header)+7)
	for k, v := range req.Header {
		h[k] = v // values are replaced below, never appended to
	}
	h["Authorization"] = []string{"Bearer " + tok}
	if len(h["Accept"]) == 0 {
		h["Accept"] = []string{"application/json"}
	}
	if (r.ContentLength > 0 || (r.Body != nil && r.Body != http.NoBody)) && len(h["Content-Type"]) == 0 {
		h["Content-Type"] = []string{"application/json"}
	}
	if len(h["X-Locale"]) == 0 {
		h["X-Locale"] = []string{t.locale}
	}
	h["User-Agent"] = []string{t.userAgent}
	h["Ms-Correlationid"] = []string{uuid.NewString()}
	r.Header = h

	if n, ok := ctx.Value(attemptsKey).(*atomic.Int64); ok {
		n.Add(1)
	}
	start := time.Now()
	t.pace.sent(start)
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		resp, err = t.read(resp)
	}
	if err != nil && errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		err = &attemptTimeoutError{after: t.timeout, err: err}
	}
	end := time.Now()
	if st, ok := ctx.Value(stateKey).(*callState); ok {
		st.observe(resp, err)
	}
	t.report(ctx, r, resp, err, start, end)
	return resp, err
}

// read reads resp's body in full into a bufferedBody.
func (t *attemptTransport) read(resp *http.Response) (*http.Response, error) {
	defer resp.Body.Close()
	var b []byte
	var err error
	if n := resp.ContentLength; n >= 0 && n <= t.max {
		b = make([]byte, n)
		_, err = io.ReadFull(resp.Body, b)
	} else {
		b, err = io.ReadAll(io.LimitReader(resp.Body, t.max+1))
	}
	if err != nil {
		return nil, &bodyError{status: resp.StatusCode, err: err}
	}
	if int64(len(b)) > t.max {
		return nil, &responseError{status: resp.StatusCode, err: fmt.Errorf("body exceeds %d bytes", t.max)}
	}
	resp.Body = &bufferedBody{b: b}
	resp.ContentLength = int64(len(b))
	return resp, nil
}

// report tells OnAttempt, Observe, the pacer and the log about an attempt
// that ended at end with resp or err.
func (t *attemptTransport) report(ctx context.Context, r *http.Request, resp *http.Response, err error, start, end time.Time) {
	reached := answered(err)
	status := 0
	switch {
	case resp != nil:
		status = resp.StatusCode
	case err != nil:
		var be *bodyError
		var re *responseError
		if errors.As(err, &be) {
			status = be.status
		} else if errors.As(err, &re) {
			status = re.status
		}
	}
	var retryAfter time.Duration
	if resp != nil && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		retryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), end)
	}
	if status != 0 {
		t.pace.observe(end, status, end.Sub(start), retryAfter)
	}
	if reached || ctx.Err() == nil { // not an attempt the caller cut short
		if t.onAttempt != nil {
			t.onAttempt(reached)
		}
		if t.observe != nil {
			t.observe(Attempt{Method: r.Method, Status: status, Latency: end.Sub(start), Reached: reached,
				Throttled: status == http.StatusTooManyRequests, RetryAfter: retryAfter})
		}
	}
	if t.log != nil && t.log.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("request_id", r.Header.Get("MS-RequestId")),
			slog.String("correlation_id", r.Header.Get("MS-CorrelationId")),
			slog.Duration("elapsed", end.Sub(start)),
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		} else {
			attrs = append(attrs, slog.Int("status", resp.StatusCode))
		}
		t.log.LogAttrs(ctx, slog.LevelDebug, "http attempt", attrs...)
	}
}

// bufferedBody is an answer's body, read in full by the attempt layer;
// Client.do takes its bytes without copying them.
type bufferedBody struct {
	b   []byte
	off int
}

func (b *bufferedBody) Read(p []byte) (int, error) {
	if b.off >= len(b.b) {
		return 0, io.EOF
	}
	n := copy(p, b.b[b.off:])
	b.off += n
	return n, nil
}

func (b *bufferedBody) Close() error { return nil }

// bytes returns the body's bytes not read yet.
func (b *bufferedBody) bytes() []byte { return b.b[b.off:] }

// answered reports whether an attempt that ended with err got an HTTP
// response: err is nil, or the response's body was cut short or too large.
func answered(err error) bool {
	var be *bodyError
	var re *responseError
	return err == nil || errors.As(err, &be) || errors.As(err, &re)
}

// Bounds of the renewals of one call after 401s.
const (
	// maxRenewals bounds the renewals after a 401 for a token that the
	// service never accepted: a credential whose fresh tokens are refused
	// (wrong tenant, no agent role) fails the call after two.
	maxRenewals = 2
	// maxExpiredRenewals bounds the renewals after a 401 for a token that
	// the service had accepted, which therefore expired: a renewed token
	// can expire before a slow caller uses it (the emulator's
	// TokenExpiryCalls makes that likely under load), so these are not
	// counted against maxRenewals, only against this safety limit.
	maxExpiredRenewals = 8
)

// renewTransport resends a request whose answer was 401 with a renewed
// token: it tells the Renewer which token was refused, so that the next
// attempt gets a new one (one renewal serving every
// caller refused with the same token), and sends the same request again,
// same MS-RequestId, body re-read with GetBody. A call renews at most
// maxRenewals times for tokens the service never accepted, then returns
// the 401. Every resend is an attempt: it spends a rate token and has its
// own attempt timeout. A 401 cannot have taken effect, so resending is
// safe under Config.NoRetryAfterEffect too.
type renewTransport struct {
	next   http.RoundTripper
	tokens Renewer

	mu       sync.Mutex
	accepted [4]string // the latest tokens the service accepted, most recent first
}

func (t *renewTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st, ok := ctx.Value(stateKey).(*callState)
	if !ok {
		st = new(callState) // a request sent outside a Client call
	}
	for r := req; ; {
		sent := new(sentToken)
		resp, err := t.next.RoundTrip(r.WithContext(context.WithValue(ctx, sentKey, sent)))
		if err != nil || sent.token == "" {
			return resp, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			if tokenAccepted(resp.StatusCode) {
				t.accept(sent.token)
			}
			return resp, nil
		}
		if ctx.Err() != nil {
			return resp, nil
		}
		if t.wasAccepted(sent.token) {
			if st.expiredRenewals.Add(1) > maxExpiredRenewals {
				return resp, nil
			}
		} else if st.renewals.Add(1) > maxRenewals {
			return resp, nil
		}
		body, ok := bodyAgain(req)
		if !ok {
			return resp, nil // cannot be sent again
		}
		resp.Body.Close() // read in full already by bufferTransport
		t.tokens.Refused(sent.token)
		r = req.Clone(ctx)
		r.Body = body
	}
}

// tokenAccepted reports whether an answer with status shows that the
// service accepted the token: a 2xx, or a 4xx that comes after
// authentication. A 5xx, 408 or 429 may come from a gateway in front.
func tokenAccepted(status int) bool {
	return status >= 200 && status < 500 && status != http.StatusUnauthorized &&
		status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
}

// accept notes that the service accepted tok.
func (t *renewTransport) accept(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.accepted[0] != tok {
		copy(t.accepted[1:], t.accepted[:])
		t.accepted[0] = tok
	}
}

// wasAccepted reports whether the service accepted tok lately.
func (t *renewTransport) wasAccepted(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, a := range t.accepted {
		if a == tok {
			return true
		}
	}
	return false
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// checkRetry is the retryablehttp.CheckRetry policy: never once ctx is
// done; network errors as retryablehttp.DefaultRetryPolicy decides (not TLS
// certificate errors, too many redirects or a bad scheme); 408, 429 and 5xx
// other than 501. Failures that a repeat cannot fix are not retried: no
// token, a limiter wait past the deadline, an oversized body, a TLS
// certificate error however wrapped. Under a call that forbids it
// (callState.noRetryAfterEffect), an attempt that may have taken effect is
// not retried either.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		if err == nil {
			return false, nil // a complete answer arrived: it decides
		}
		return false, ctx.Err()
	}
	if st, ok := ctx.Value(stateKey).(*callState); ok && st.noRetryAfterEffect && inDoubt(resp, err) {
		return false, nil
	}
	if err != nil {
		var te *tokenError
		var le *limitError
		var re *responseError
		var ce *tls.CertificateVerificationError
		if errors.As(err, &te) || errors.As(err, &le) || errors.As(err, &re) || errors.As(err, &ce) {
			return false, nil
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	return retryableStatus(resp.StatusCode), nil
}

func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || mayHaveTakenEffect(status)
}

// backoff is the retryablehttp.Backoff policy. A 429 or 503 with a
// Retry-After header waits that long, up to maxRetryAfter, even beyond
// RetryWaitMax. Otherwise retry n (from 0) waits a uniformly random time
// between lo and min(lo·2^(n+1), hi): exponential growth, full jitter above
// the floor.
func backoff(lo, hi time.Duration, n int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return jitter(lo, hi, n)
}

func jitter(lo, hi time.Duration, n int) time.Duration {
	hi = max(hi, lo)
	ceil := hi
	if n >= 0 && n < 62 {
		if c := lo << (n + 1); c > 0 && c>>(n+1) == lo && c < hi {
			ceil = c
		}
	}
	if ceil <= lo {
		return lo
	}
	return lo + rand.N(ceil-lo+1)
}

// retryLogger hands retryablehttp's messages to a *slog.Logger at Debug
// level: a failed attempt that will be retried is not an error of the run.
type retryLogger struct{ l *slog.Logger }

func (a retryLogger) Error(msg string, kv ...any) { a.l.Debug(msg, kv...) }
func (a retryLogger) Info(msg string, kv ...any)  { a.l.Debug(msg, kv...) }
func (a retryLogger) Debug(msg string, kv ...any) { a.l.Debug(msg, kv...) }
func (a retryLogger) Warn(msg string, kv ...any)  { a.l.Debug(msg, kv...) }

// keepLastResponse is the retryablehttp.ErrorHandler: a final response is
// returned as is, to become an *APIError; a final error is returned as is.
func keepLastResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}
