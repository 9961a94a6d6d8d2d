// Package emulator is an in-memory imitation of the Partner Center
// service-request API (the 2016–2020 contract, create included) for tests,
// benchmarks, demos and `srimport sandbox`.
//
// An *Emulator is an http.Handler: mount it on an httptest.Server or let
// Start serve it on a loopback address. It speaks the wire format described
// in partner-center-contract.md: camelCase responses, case-insensitive
// request binding, ApiFault error bodies, the gateway's 429 body with
// Retry-After, MS-RequestId idempotency, bearer-token checks and a fake
// OAuth token endpoint. Config switches reproduce the service's quirks (a
// byte-order mark, zone-less dates, numeric error codes, the documented
// create response, 204 on update) and inject faults (500s, connection
// resets before and after a create commits, truncated responses, stalls) so
// that clients can be hardened against them.
//
// Routes (all API routes require "Authorization: Bearer <token>"):
//
//	POST  /v1/servicerequests/{agentLocale}                 create → 201
//	GET   /v1/servicerequests/supporttopics                 support topics
//	GET   /v1/servicerequests/{id}                          one request
//	PATCH /v1/servicerequests/{id}                          add a note, close, …
//	GET   /v1/servicerequests?size=&offset=&filter=         list
//	GET   /v1/customers/{cid}/servicerequests[/{id}]        customer-scoped list / get
//	PATCH /v1/customers/{cid}/servicerequests/{id}          customer-scoped update
//	POST  /{tenant}/oauth2/token, /{tenant}/oauth2/v2.0/token   fake token endpoint (no bearer)
//	GET   /_emulator/stats                                  Stats as JSON (no bearer)
//
// All callers share one store: every caller sees every service request.
// Idempotency keys, quotas and token ownership are per tenant; a token the
// fake OAuth endpoint did not issue belongs to tenant "default".
//
// Idempotency: the successful answer of a create or update is remembered
// under (tenant, MS-RequestId, method, path); a later call with the same key
// gets that answer again and changes nothing. Failed calls are not
// remembered. Concurrent calls with one key create one request.
// Config.NoDedup turns this off for creates, so that every create creates.
//
// Every API answer echoes MS-RequestId and MS-CorrelationId (generated when
// absent) and X-Locale (default en-US), and adds MS-CV and MS-ServerId.
// MS-Contract-Version is not required; IncludeOrganizationRequests is
// ignored. List links are relative and without /v1
// ("/servicerequests?size=100&offset=100"), like the documentation's
// examples; clients prefix /v1. Unknown routes answer 404 ApiFault 1000.
package emulator

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srimport/srimport/wire"
)

// Faults holds fault-injection probabilities in [0, 1]. Each is drawn
// independently for every create request (POST); when several fire, the
// first in field order wins. Faults that drop the connection need a real
// server (httptest.Server or Start): under a ResponseRecorder they panic
// with http.ErrAbortHandler.
type Faults struct {
	// Error500Before answers 500 ApiFault (code 800003); nothing is created.
	Error500Before float64
	// ResetBefore resets the connection before anything is created.
	ResetBefore float64
	// ResetAfter creates and remembers the service request, then resets
	// the connection without answering.
	ResetAfter float64
	// Error500After creates and remembers the service request, then
	// answers 500.
	Error500After float64
	// Truncated201 creates the service request, then sends a 201 whose
	// Content-Length declares the whole body but only half of it, and
	// closes the connection.
	Truncated201 float64
	// Stall holds the request without answering for Config.StallFor, until
	// the client goes away or until Close; nothing is created. If the stall
	// runs its course the connection is dropped without an answer.
	Stall float64
}

func (f Faults) any() bool {
	return f.Error500Before > 0 || f.ResetBefore > 0 || f.ResetAfter > 0 ||
		f.Error500After > 0 || f.Truncated201 > 0 || f.Stall > 0
}

// Config configures an Emulator. The zero Config is a well-behaved service
// that accepts any non-empty bearer token.
type Config struct {
	// Token is the bearer token API calls must carry. Empty accepts any
	// non-empty bearer token. Tokens issued by the fake OAuth endpoint are
	// accepted either way.
	Token string
	// Quota is the number of API requests per second allowed per tenant
	// (a token bucket); beyond it the emulator answers 429 with
	// Retry-After. 0 means unlimited.
	Quota float64
	// Burst is the token bucket's size; 0 means max(1, int(Quota)).
	Burst int
	// Latency is added to every API response.
	Latency time.Duration
	// Jitter adds a uniformly random delay in [0, Jitter) to every API
	// response.
	Jitter time.Duration
	// Faults are injected into create requests.
	Faults Faults
	// StallFor is how long Faults.Stall holds a request; 0 means 2 minutes.
	StallFor time.Duration
	// TokenExpiryCalls, when positive, makes a token stop working (401,
	// code 800001, "expired") after this many authenticated calls with it.
	// Tokens from the fake OAuth endpoint start afresh.
	TokenExpiryCalls int
	// TokenLifetime, when positive, is the lifetime of the access tokens
	// the fake OAuth endpoint issues: their expires_in (a string of
	// seconds, rounded down) and when they stop working (the same 401 as
	// TokenExpiryCalls). 0 announces "3599" and enforces nothing.
	TokenLifetime time.Duration
	// RefreshToken, when set, is the only refresh token the fake OAuth
	// endpoint accepts, with those it has issued since (each answer
	// rotates it; older ones stay valid, as with Microsoft Entra ID).
	// Any other is 400 invalid_grant (AADSTS70000). Empty accepts any
	// refresh token until RevokeRefreshTokens.
	RefreshToken string
	// Seed seeds the fault and jitter randomness (a PCG); the sequence of
	// draws is deterministic for a given seed. 0 picks a random seed.
	Seed uint64
	// Topics is the support-topic list; nil means DefaultTopics().
	Topics []wire.SupportTopic
	// Decommissioned makes create and the topic list answer 404 ApiFault,
	// standing in for the retired endpoints (the live answer is unknown).
	Decommissioned bool
	// NumericCodes emits ApiFault codes as JSON numbers instead of strings.
	NumericCodes bool
	// BOM prepends a UTF-8 byte-order mark to the API's JSON bodies.
	BOM bool
	// ZonelessDates emits timestamps without the trailing Z.
	ZonelessDates bool
	// CreateQuirk makes the create response carry status "none" and
	// sentinel createdDate and lastModifiedDate, as the 2016 documentation
	// example does; the stored request is open and dated as usual.
	CreateQuirk bool
	// PatchNoContent makes a successful PATCH answer 204 with no body
	// instead of 200 with the updated request.
	PatchNoContent bool
	// NoDedup makes the service ignore MS-RequestId on create, as a
	// service that documents no de-duplication window may: every create
	// that passes validation creates a new service request, even with an
	// MS-RequestId seen before, and creates are neither answered from nor
	// remembered in the idempotency store. After-commit faults
	// (ResetAfter, Error500After, Truncated201) still create first.
	// Stats.Duplicates counts the requests created twice this way. Updates
	// are still de-duplicated.
	NoDedup bool
}

const (
	defaultStallFor = 2 * time.Minute
	firstID         = 616000000000001
	shutdownGrace   = time.Second
	statsPath       = "/_emulator/stats"
)

// Stats counts what the emulator saw. InFlight and MaxInFlight count API
// requests being handled at once.
type Stats struct {
	// Requests counts every request except those to the stats endpoint.
	Requests int64 `json:"requests"`
	// Creates counts create requests that passed authentication and quota.
	Creates int64 `json:"creates"`
	// Created counts service requests created.
	Created int64 `json:"created"`
	// Throttled counts 429 answers.
	Throttled int64 `json:"throttled"`
	// Replays counts creates and updates answered from the idempotency
	// store.
	Replays int64 `json:"replays"`
	// Duplicates counts service requests created with an MS-RequestId
	// that had already created an earlier one (whatever the tenant or
	// locale): 0 unless NoDedup is set or callers reuse ids across tenants
	// or paths.
	Duplicates int64 `json:"duplicates"`
	// Unauthorized counts 401 answers.
	Unauthorized int64 `json:"unauthorized"`
	// TokensIssued counts successful grants of the fake OAuth endpoint.
	TokensIssued int64 `json:"tokensIssued"`
	// Rejected counts 4xx ApiFault answers other than 401 (bad input, not
	// found, decommissioned).
	Rejected int64 `json:"rejected"`
	// FaultsInjected counts injected faults.
	FaultsInjected int64 `json:"faultsInjected"`
	// InFlight is the number of API requests being handled now.
	InFlight int64 `json:"inFlight"`
	// MaxInFlight is the highest InFlight seen.
	MaxInFlight int64 `json:"maxInFlight"`
}

type counters struct {
	requests, creates, created, throttled, replays    atomic.Int64
	duplicates                                        atomic.Int64
	unauthorized, rejected, faults, inFlight, maxInFl atomic.Int64
	tokensIssued                                      atomic.Int64
}

// record is one stored service request.
type record struct {
	sr    wire.ServiceRequest
	reqID string // the MS-RequestId that created it
}

// idemKey identifies a call for MS-RequestId idempotency.
type idemKey struct {
	tenant, reqID, method, path string
}

// idemEntry is a committed call's response. done is closed once status and
// body are set; callers replaying the key wait for it.
type idemEntry struct {
	done   chan struct{}
	status int
	body   []byte
}

// Emulator is an in-memory Partner Center service-request API. Create it
// with New; it is safe for concurrent use.
type Emulator struct {
	cfg       Config
	mux       *http.ServeMux
	topics    map[int64]wire.SupportTopic
	topicBody []byte // the topic collection, marshalled once
	serverID  string
	cvPrefix  string

	rngMu sync.Mutex
	rng   *rand.Rand

	mu      sync.Mutex
	records []*record
	byID    map[string]*record
	idem    map[idemKey]*idemEntry
	creator map[string]struct{} // MS-RequestIds that created a record

	tokens     sync.Map // issued access token → *grantedToken
	refresh    refreshTokens
	calls      sync.Map // token → *atomic.Int64, with TokenExpiryCalls
	limiters   sync.Map // tenant → *rate.Limiter
	identities sync.Map // tenant → *identity
	cvSeq      atomic.Uint64

	stats counters

	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
	srvMu     sync.Mutex
	srv       *http.Server
	served    chan struct{}
}

// New returns an Emulator configured by cfg. Defaults are filled in as
// Config documents.
func New(cfg Config) *Emulator {
	if cfg.Burst <= 0 {
		cfg.Burst = max(1, int(cfg.Quota))
	}
	if cfg.StallFor <= 0 {
		cfg.StallFor = defaultStallFor
	}
	if cfg.Topics == nil {
		cfg.Topics = DefaultTopics()
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64() | 1
	}
	e := &Emulator{
		cfg:      cfg,
		mux:      http.NewServeMux(),
		topics:   make(map[int64]wire.SupportTopic, len(cfg.Topics)),
		serverID: fmt.Sprintf("1011%05d", seed%100000),
		cvPrefix: crand.Text()[:12],
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		byID:     make(map[string]*record),
		idem:     make(map[idemKey]*idemEntry),
		creator:  make(map[string]struct{}),
		closing:  make(chan struct{}),
	}
	e.topicBody = e.buildTopics()
	e.routes()
	return e
}

func (e *Emulator) routes() {
	api := func(pattern string, h func(*call)) { e.mux.HandleFunc(pattern, e.api(h)) }
	api("POST /v1/servicerequests/{agentLocale}", e.create)
	// More specific than /{id}, so the mux routes it first.
	api("GET /v1/servicerequests/supporttopics", e.listTopics)
	api("GET /v1/servicerequests/{id}", e.get)
	api("PATCH /v1/servicerequests/{id}", e.patch)
	api("GET /v1/servicerequests", func(c *call) { e.list(c, "/servicerequests") })
	api("GET /v1/customers/{cid}/servicerequests", func(c *call) {
		e.list(c, "/customers/"+url.PathEscape(c.r.PathValue("cid"))+"/servicerequests")
	})
	api("GET /v1/customers/{cid}/servicerequests/{id}", e.get)
	api("PATCH /v1/customers/{cid}/servicerequests/{id}", e.patch)
	e.mux.HandleFunc("POST /{tenant}/oauth2/token", e.token)
	e.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.token)
	e.mux.HandleFunc("GET "+statsPath, e.serveStats)
	e.mux.HandleFunc("/", e.notFound)
}

// ServeHTTP serves the emulated API.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != statsPath {
		e.stats.requests.Add(1)
	}
	e.mux.ServeHTTP(w, r)
}

// Start listens on addr (for example "127.0.0.1:0") and serves the
// emulator in the background until ctx ends or Close is called. It returns
// the base URL, "http://HOST:PORT"; an unspecified listen host is reported
// as 127.0.0.1. Start may be called once.
func (e *Emulator) Start(ctx context.Context, addr string) (baseURL string, err error) {
	e.srvMu.Lock()
	defer e.srvMu.Unlock()
	select {
	case <-e.closing:
		return "", errors.New("emulator: start after close")
	default:
	}
	if e.srv != nil {
		return "", errors.New("emulator: already started")
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("emulator: listen: %w", err)
	}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 30 * time.Second}
	e.served = make(chan struct{})
	go func() {
		defer close(e.served)
		_ = e.srv.Serve(ln) // always ErrServerClosed once Close runs; other errors surface as failed requests
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = e.Close()
		case <-e.closing:
		}
	}()
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port)), nil
}

// Close ends every stalled request and, if Start was called, stops the
// server: it shuts down gracefully for up to a second, then closes the
// remaining connections. Close is idempotent; later calls return the first
// call's result.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		close(e.closing)
		e.srvMu.Lock()
		srv, served := e.srv, e.served
		e.srvMu.Unlock()
		if srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			if cerr := srv.Close(); cerr != nil {
				e.closeErr = fmt.Errorf("emulator: close: %w", cerr)
			}
		}
		<-served
	})
	return e.closeErr
}

// Stats returns a snapshot of the counters.
func (e *Emulator) Stats() Stats {
	s := &e.stats
	return Stats{
		Requests:       s.requests.Load(),
		Creates:        s.creates.Load(),
		Created:        s.created.Load(),
		Throttled:      s.throttled.Load(),
		Replays:        s.replays.Load(),
		Duplicates:     s.duplicates.Load(),
		Unauthorized:   s.unauthorized.Load(),
		TokensIssued:   s.tokensIssued.Load(),
		Rejected:       s.rejected.Load(),
		FaultsInjected: s.faults.Load(),
		InFlight:       s.inFlight.Load(),
		MaxInFlight:    s.maxInFl.Load(),
	}
}

// ServiceRequests returns a deep copy of every service request created, in
// creation order, as currently stored (updates included).
func (e *Emulator) ServiceRequests() []wire.ServiceRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]wire.ServiceRequest, len(e.records))
	for i, rec := range e.records {
		out[i] = copySR(&rec.sr)
	}
	return out
}

// RequestIDs returns the MS-RequestId that created each service request,
// keyed by service-request id.
func (e *Emulator) RequestIDs() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]string, len(e.records))
	for _, rec := range e.records {
		out[rec.sr.ID] = rec.reqID
	}
	return out
}

func (e *Emulator) serveStats(w http.ResponseWriter, _ *http.Request) {
	body, err := json.Marshal(e.Stats())
	if err != nil { // cannot happen: Stats holds only integers
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header()[hdrContentType] = []string{contentTypeJSON}
	_, _ = w.Write(body)
}

func copySR(sr *wire.ServiceRequest) wire.ServiceRequest {
	c := *sr
	if sr.Organization != nil {
		o := *sr.Organization
		c.Organization = &o
	}
	c.PrimaryContact = copyContact(sr.PrimaryContact)
	c.LastUpdatedBy = copyContact(sr.LastUpdatedBy)
	if sr.NewNote != nil {
		n := *sr.NewNote
		c.NewNote = &n
	}
	if sr.Attributes != nil {
		a := *sr.Attributes
		c.Attributes = &a
	}
	c.Notes = append([]wire.Note(nil), sr.Notes...)
	c.FileLinks = append([]wire.FileInfo(nil), sr.FileLinks...)
	c.EmailCcList = append([]string(nil), sr.EmailCcList...)
	return c
}

func copyContact(p *wire.Contact) *wire.Contact {
	if p == nil {
		return nil
	}
	c := *p
	if p.Organization != nil {
		o := *p.Organization
		c.Organization = &o
	}
	return &c
}
