// Package client is a small typed client for the Partner Center
// service-request API (see ../shared/partner-center-contract.md).
//
// A Client sends each call through a fixed transport stack: go-retryablehttp
// outermost, so that every attempt, retries included, waits for the pacer,
// gets a fresh bearer token and correlation id, and is counted (see
// CountAttempts). The MS-RequestId of a call is the same on every attempt,
// which is what lets the service de-duplicate a create that is retried
// after a timeout or a 5xx.
//
// The pacer (pace.go) spaces the attempts of all calls: at Config.Rate
// when it is set, and below the service's quota, which it learns from the
// 429s, in any case. A 429 is waited out (its Retry-After, all sending held
// when that is 2 s or more) and the request sent again without spending a
// retry, for as long as some attempt of the Client gets another answer
// within Config.ThrottleGiveUp: while the run makes progress, a 429 does
// not fail a call. Retries happen after network errors, 408, 5xx other
// than 501, and 429s the Client gave up waiting out; 429 and 503 honour
// Retry-After. When Config.Token is a Renewer
// (CommandToken, RefreshToken), an attempt answered 401 is sent again, same
// MS-RequestId, with a renewed token, at most twice per call. With Config.NoRetryAfterEffect, a create
// is not retried after an attempt that may have taken effect, and
// Config.OnAttempt hears whether each attempt reached the service. Every
// failure is returned wrapped, with an *APIError for a non-2xx answer, and
// ClassOf maps it to the report's error_class. The Client keeps no
// package-level state and never logs or returns the bearer token.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-retryablehttp"
)

// TokenSource supplies the bearer token for each attempt. It is called once
// per attempt, so an implementation can refresh an expiring token behind
// it. An error wrapping ErrNoToken means the credential is not usable.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a TokenSource that always returns the same token.
type StaticToken string

// Token returns t, or ErrNoToken when t is empty.
func (t StaticToken) Token(context.Context) (string, error) {
	if t == "" {
		return "", ErrNoToken
	}
	return string(t), nil
}

// Config configures a Client. Zero values select the documented defaults.
type Config struct {
	BaseURL        string            // e.g. https://api.partnercenter.microsoft.com or http://127.0.0.1:4311; a trailing slash or /v1 is tolerated
	Token          TokenSource       // required
	Workers        int               // requests in flight at most; sizes the idle-connection pool (default 8)
	Rate           float64           // requests per second at most over all attempts, retries included; 0 = no limit until the service throttles
	Retries        int               // attempts after the first; 0 = no retry
	RetryWaitMin   time.Duration     // backoff floor (default 500ms)
	RetryWaitMax   time.Duration     // backoff cap (default 30s); Retry-After is honoured above it, up to 5 minutes
	AttemptTimeout time.Duration     // limit of one attempt, body included, rate-limiter wait excluded (default 60s)
	UserAgent      string            // default "srimport"
	Locale         string            // X-Locale of calls other than Create, and Create's locale when it is given none (default "en-US")
	Logger         *slog.Logger      // Debug-level attempt log; nil, or not enabled at Debug = no log work. The token is never logged.
	Transport      http.RoundTripper // base transport, for tests; default a *http.Transport sized for Workers

	// NoRetryAfterEffect stops Create from retrying an attempt that may
	// have taken effect, for a service that may not de-duplicate
	// MS-RequestId: a 408 or 5xx other than 501, a network error after the
	// request may have been sent (reset, EOF, attempt timeout), or a 2xx
	// whose body cannot be read. Create then returns at once with a
	// ClassAmbiguous error, for the caller to settle (by listing, say)
	// rather than re-post. Attempts that cannot have taken effect are
	// still retried: 429, and failures before sending (refused
	// connection, DNS, TLS, token source). Get, List, ListAll and Update
	// retry as usual.
	NoRetryAfterEffect bool

	// OnAttempt, when set, is called after every attempt of every call:
	// with true when an HTTP response arrived, whatever its status (a 2xx
	// whose body was cut short included), with false when the attempt
	// failed without one (refused connection, DNS, TLS, reset, EOF before
	// the status line, an attempt timeout or a stall). It is not called
	// for attempts that fail before reaching the network (the token source
	// or the rate limiter failed) nor for those cut short or never started
	// because the caller's context ended. It runs on the goroutine making
	// the attempt, while the call waits: it must be quick and safe for
	// concurrent use.
	OnAttempt func(reached bool)

	// Observe, when set, is called after every attempt, with the same
	// rules as OnAttempt: not for attempts that never reached the network
	// or that the caller's context cut short; quick, safe for concurrent
	// use, on the goroutine making the attempt.
	Observe func(Attempt)

	// OnPause, when set, is called when the service's Retry-After makes
	// the Client hold all sending for d (only for d >= 2s), so that a
	// command can tell the user ("service asked to wait 30s"). It is
	// called once per such hold; it must be quick and safe for concurrent
	// use.
	OnPause func(d time.Duration)

	// ThrottleGiveUp is how long the Client keeps waiting out 429 answers
	// while no attempt of it gets any other answer; then a 429 is returned
	// to the retry policy (Retries) and, once retries run out, to the
	// caller as ClassThrottled. 0 means DefaultThrottleGiveUp; a negative
	// value gives up at once, so that every 429 spends a retry.
	ThrottleGiveUp time.Duration
}

// Attempt describes one finished HTTP attempt of any call.
type Attempt struct {
	Method     string
	Status     int           // HTTP status; 0 when no response arrived
	Latency    time.Duration // from handing the request to the network until its body was read
	Reached    bool          // same meaning as Config.OnAttempt's argument
	Throttled  bool          // answered 429
	RetryAfter time.Duration // the answer's Retry-After (429/503), 0 when none
}

// Defaults applied by New to zero Config fields.
const (
	DefaultWorkers        = 8
	DefaultRetryWaitMin   = 500 * time.Millisecond
	DefaultRetryWaitMax   = 30 * time.Second
	DefaultAttemptTimeout = 60 * time.Second
	DefaultUserAgent      = "srimport"
	DefaultLocale         = "en-US"
	DefaultThrottleGiveUp = 5 * time.Minute
)

// Client calls the service-request API. It is safe for concurrent use.
type Client struct {
	base   string // scheme://host[/prefix], without a trailing slash
	locale string
	rc     *retryablehttp.Client
	idle   interface{ CloseIdleConnections() } // the default base transport, nil for Config.Transport
	// maxPages bounds the pages ListAll follows; tests lower it.
	maxPages int
	// noRetryAfterEffect is Config.NoRetryAfterEffect.
	noRetryAfterEffect bool
	pace               *pacer
}

// ListOptions selects a page of service requests.
type ListOptions struct {
	Size   int    // page size, 1..1000; 0 = the service's default
	Offset int    // zero-based index of the first item; 0 = from the start
	Status Status // only requests in this status; StatusNone = any status
}

// New returns a Client for cfg. It fails when BaseURL is not an absolute
// http or https URL, Token is nil, or a number is negative.
func New(cfg Config) (*Client, error) {
	base, err := normalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Token == nil:
		return nil, errors.New("client: Config.Token is required")
	case cfg.Workers < 0, cfg.Rate < 0, cfg.Retries < 0, cfg.RetryWaitMin < 0, cfg.RetryWaitMax < 0, cfg.AttemptTimeout < 0:
		return nil, errors.New("client: Workers, Rate, Retries, RetryWaitMin, RetryWaitMax and AttemptTimeout cannot be negative")
	}
	return newClient(cfg, base, nil), nil
}

// newClient builds the transport stack; lim, when not nil, stands in for
// the pacer's wait (the pacer still hears of every attempt).
func newClient(cfg Config, base string, lim waiter) *Client {
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = DefaultRetryWaitMin
	}
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = DefaultRetryWaitMax
	}
	cfg.RetryWaitMax = max(cfg.RetryWaitMax, cfg.RetryWaitMin)
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = DefaultAttemptTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.Locale == "" {
		cfg.Locale = DefaultLocale
	}
	giveUp := cfg.ThrottleGiveUp
	if giveUp == 0 {
		giveUp = DefaultThrottleGiveUp
	}
	c := &Client{base: base, locale: cfg.Locale, maxPages: defaultMaxPages, noRetryAfterEffect: cfg.NoRetryAfterEffect}

	rt := cfg.Transport
	if rt == nil {
		t := newBaseTransport(cfg.Workers)
		rt, c.idle = t, t
	}
	c.pace = newPacer(time.Now(), cfg.Rate, giveUp, cfg.OnPause)
	if lim == nil {
		lim = c.pace
	}
	rt = &attemptTransport{next: rt, lim: lim, pace: c.pace, tokens: cfg.Token, userAgent: cfg.UserAgent, locale: cfg.Locale,
		timeout: cfg.AttemptTimeout, max: maxBody, waitMin: cfg.RetryWaitMin, waitMax: cfg.RetryWaitMax,
		log: cfg.Logger, onAttempt: cfg.OnAttempt, observe: cfg.Observe}
	if r, ok := cfg.Token.(Renewer); ok {
		rt = &renewTransport{next: rt, tokens: r}
	}

	c.rc = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: rt,
			// A redirected POST or PATCH would be replayed as a GET; the
			// 3xx is returned instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     cfg.Retries,
		CheckRetry:   checkRetry,
		Backoff:      backoff,
		ErrorHandler: keepLastResponse,
	}
	// A nil Logger field keeps retryablehttp silent: it would log (and
	// format) a line per attempt otherwise.
	if cfg.Logger != nil && cfg.Logger.Enabled(context.Background(), slog.LevelDebug) {
		c.rc.Logger = retryLogger{cfg.Logger.With("component", "retryablehttp")}
	}
	return c
}

func normalizeBaseURL(raw string) (string, error) {
	base := strings.TrimRight(strings.TrimSpace(raw), "/")
	base = strings.TrimSuffix(base, "/v1")
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return "", fmt.Errorf("client: base URL %q: %w", raw, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return "", fmt.Errorf("client: base URL %q: want http:// or https:// and a host", raw)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", fmt.Errorf("client: base URL %q: no query, fragment or user info allowed", raw)
	}
	return base, nil
}

// CloseIdleConnections closes the idle connections of the default base
// transport. A custom Config.Transport is left alone.
func (c *Client) CloseIdleConnections() {
	if c.idle != nil {
		c.idle.CloseIdleConnections()
	}
}

// Create POSTs sr to {BaseURL}/v1/servicerequests/{locale}, with
// MS-RequestId = requestID and X-Locale = locale on every attempt. An empty
// locale means Config.Locale. It returns the created request, which carries
// at least its ID; a 2xx whose body has no id is a ClassAmbiguous error.
func (c *Client) Create(ctx context.Context, locale string, sr *ServiceRequest, requestID string) (*ServiceRequest, error) {
	const op = "create service request"
	if sr == nil {
		return nil, &callError{op: op, err: &inputError{"no service request given"}}
	}
	if requestID == "" {
		return nil, &callError{op: op, err: &inputError{"no MS-RequestId given"}}
	}
	if locale == "" {
		locale = c.locale
	}
	res, err := c.do(ctx, request{op: op, method: http.MethodPost, target: "/v1/servicerequests/" + url.PathEscape(locale),
		body: sr, locale: locale, requestID: requestID})
	if err != nil {
		return nil, err
	}
	out, err := decodeSR(res)
	if err == nil && out == nil {
		err = errors.New("the answer has no body")
	}
	if err == nil && out.ID == "" {
		err = errors.New("the answer carries no service request id")
	}
	if err != nil {
		return nil, res.fail(err)
	}
	return out, nil
}

// CreateBody is Create for a body the caller has already encoded as JSON
// (a ServiceRequest): the same URL, headers, retries, MS-RequestId on every
// attempt, errors and classes as Create. It returns only the new request's
// id and decodes nothing else from the answer; a 2xx without an id is a
// ClassAmbiguous error. body is neither modified nor retained after
// CreateBody returns.
func (c *Client) CreateBody(ctx context.Context, locale string, body []byte, requestID string) (id string, err error) {
	const op = "create service request"
	switch {
	case len(body) == 0:
		return "", &callError{op: op, err: &inputError{"no service request given"}}
	case requestID == "":
		return "", &callError{op: op, err: &inputError{"no MS-RequestId given"}}
	}
	if locale == "" {
		locale = c.locale
	}
	res, err := c.do(ctx, request{op: op, method: http.MethodPost, target: "/v1/servicerequests/" + url.PathEscape(locale),
		raw: body, locale: locale, requestID: requestID})
	if err != nil {
		return "", err
	}
	id, err = createdID(res.body)
	if err != nil {
		return "", res.fail(err)
	}
	return id, nil
}

// Rate returns the request rate the client currently allows, in requests
// per second; 0 means no limit is in force (no Config.Rate and no
// throttling seen yet).
func (c *Client) Rate() float64 {
	return c.pace.Rate()
}

// Get returns the service request with the given id.
func (c *Client) Get(ctx context.Context, id string) (*ServiceRequest, error) {
	op := "get service request " + id
	if id == "" {
		return nil, &callError{op: "get service request", err: &inputError{"no id given"}}
	}
	res, err := c.do(ctx, request{op: op, method: http.MethodGet, target: "/v1/servicerequests/" + url.PathEscape(id)})
	if err != nil {
		return nil, err
	}
	out, err := decodeSR(res)
	if err == nil && out == nil {
		err = errors.New("the answer has no body")
	}
	if err != nil {
		return nil, res.fail(err)
	}
	return out, nil
}

// List returns one page of the partner's service requests. Follow
// Links.Next, or raise Offset, for the next page.
func (c *Client) List(ctx context.Context, opts ListOptions) (*Collection[ServiceRequest], error) {
	const op = "list service requests"
	if opts.Size < 0 || opts.Size > 1000 || opts.Offset < 0 {
		return nil, &callError{op: op, err: &inputError{fmt.Sprintf("size %d, offset %d: want size 0..1000 and offset >= 0", opts.Size, opts.Offset)}}
	}
	q := url.Values{}
	if opts.Size > 0 {
		q.Set("size", strconv.Itoa(opts.Size))
	}
	if opts.Offset > 0 {
		q.Set("offset", strconv.Itoa(opts.Offset))
	}
	if opts.Status != StatusNone {
		f, err := json.Marshal(fieldFilter{Field: "Status", Value: opts.Status.String(), Operator: "equals"})
		if err != nil {
			return nil, &callError{op: op, err: err}
		}
		q.Set("filter", string(f))
	}
	return getCollection[ServiceRequest](ctx, c, request{op: op, method: http.MethodGet, target: withQuery("/v1/servicerequests", q)})
}

// withQuery appends q, encoded, to path.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// getCollection GETs one page of a collection resource.
func getCollection[T any](ctx context.Context, c *Client, r request) (*Collection[T], error) {
	res, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out Collection[T]
	if err := Decode(res.body, &out); err != nil {
		return nil, res.fail(fmt.Errorf("decode: %w", err))
	}
	return &out, nil
}

// fieldFilter is the service's query filter; its keys are PascalCase.
type fieldFilter struct {
	Field    string `json:"Field"`
	Value    string `json:"Value"`
	Operator string `json:"Operator"`
}

// Update PATCHes id with patch, which holds only the change (in practice
// NewNote and/or Status). It returns the updated request, or nil, nil when
// the service answers 204 No Content or an empty 200.
func (c *Client) Update(ctx context.Context, id string, patch *ServiceRequest) (*ServiceRequest, error) {
	op := "update service request " + id
	switch {
	case id == "":
		return nil, &callError{op: "update service request", err: &inputError{"no id given"}}
	case patch == nil:
		return nil, &callError{op: op, err: &inputError{"no change given"}}
	}
	res, err := c.do(ctx, request{op: op, method: http.MethodPatch, target: "/v1/servicerequests/" + url.PathEscape(id), body: patch})
	if err != nil {
		return nil, err
	}
	out, err := decodeSR(res)
	if err != nil {
		return nil, res.fail(err)
	}
	return out, nil
}

// SupportTopics returns the support-topic list; an SR's SupportTopicID is
// a topic's ID as a decimal string.
func (c *Client) SupportTopics(ctx context.Context) ([]SupportTopic, error) {
	out, err := getCollection[SupportTopic](ctx, c, request{op: "list support topics", method: http.MethodGet, target: "/v1/servicerequests/supporttopics"})
	if err != nil {
		return nil, err
	}
	if out.Items == nil {
		out.Items = []SupportTopic{}
	}
	return out.Items, nil
}

// result is a 2xx answer, read in full.
type result struct {
	op     string
	status int
	body   []byte
}

// fail turns a problem with a 2xx answer into the call's error.
func (r *result) fail(err error) error {
	return &callError{op: r.op, effect: true, err: &responseError{status: r.status, err: err}}
}

// decodeSR decodes a ServiceRequest; an empty body gives nil.
func decodeSR(r *result) (*ServiceRequest, error) {
	if len(bytes.TrimSpace(bytes.TrimPrefix(r.body, utf8BOM))) == 0 {
		return nil, nil
	}
	var sr ServiceRequest
	if err := Decode(r.body, &sr); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return &sr, nil
}

// request is one call to send: target is the path, with its query, below
// the base URL. An empty requestID gets a fresh one.
type request struct {
	op, method, target string
	body               any         // encoded as JSON; nil sends no body
	raw                []byte      // the body already encoded, sent instead of body when not nil
	locale             string      // X-Locale; empty = Config.Locale
	requestID          string      // MS-RequestId of every attempt
	header             http.Header // extra headers, set before the client's own
}

// do sends one call through the retry stack and returns its 2xx answer, or
// an error wrapped in a *callError (an *APIError for any other status).
func (c *Client) do(ctx context.Context, r request) (*result, error) {
	op, requestID := r.op, r.requestID
	if requestID == "" {
		requestID = uuid.NewString()
	}
	fail := func(st *callState, err error) error {
		return &callError{op: op, effect: st.effect.Load(), err: err}
	}
	st := &callState{noRetryAfterEffect: c.noRetryAfterEffect && r.method == http.MethodPost}
	var raw any // nil: no body (a typed nil []byte would still send one)
	if r.raw != nil {
		raw = r.raw
	} else if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fail(st, fmt.Errorf("encode request: %w", err))
		}
		raw = b
	}
	ctx = context.WithValue(ctx, stateKey, st)
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, c.base+r.target, raw)
	if err != nil {
		return nil, fail(st, &inputError{fmt.Sprintf("build request: %v", err)})
	}
	for k, v := range r.header {
		req.Header[k] = append([]string(nil), v...)
	}
	// Set before Do: every attempt is a shallow copy of req, so it carries
	// the same MS-RequestId.
	req.Header.Set("MS-RequestId", requestID)
	if r.locale != "" {
		req.Header.Set("X-Locale", r.locale)
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		return nil, fail(st, err)
	}
	if resp == nil {
		return nil, fail(st, errors.New("no response"))
	}
	defer resp.Body.Close()
	var b []byte
	if bb, ok := resp.Body.(*bufferedBody); ok {
		b = bb.bytes() // read by the attempt layer: no copy
	} else if b, err = io.ReadAll(resp.Body); err != nil {
		return nil, fail(st, fmt.Errorf("read response body: %w", err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fail(st, newAPIError(resp, b, requestID, time.Now()))
	}
	return &result{op: op, status: resp.StatusCode, body: b}, nil
}
