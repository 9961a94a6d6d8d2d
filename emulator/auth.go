package emulator

import (
	crand "crypto/rand"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/srimport/srimport/wire"
)

const (
	defaultTenant = "default"
	tokenLifetime = 3599 * time.Second // announced when Config.TokenLifetime is 0
	apiResource   = "https://api.partnercenter.microsoft.com"
)

// grantedToken is an access token the fake OAuth endpoint issued.
type grantedToken struct {
	tenant  string
	expires time.Time // zero: never
}

// refreshTokens are the refresh tokens the fake OAuth endpoint accepts.
type refreshTokens struct {
	mu    sync.Mutex
	init  bool
	any   bool            // accept any (Config.RefreshToken is empty and nothing was revoked)
	valid map[string]bool // accepted; false: revoked
}

// check reports whether rt may be redeemed, and whether it was revoked.
// configured is Config.RefreshToken.
func (r *refreshTokens) check(configured, rt string) (ok, revoked bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setup(configured)
	v, known := r.valid[rt]
	if r.any && !known {
		r.valid[rt], v = true, true // so that a revocation covers it
	}
	return r.any || v, known && !v
}

// issued records a refresh token the endpoint handed out.
func (r *refreshTokens) issued(configured, rt string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setup(configured)
	r.valid[rt] = true
}

// revoke refuses every refresh token from now on.
func (r *refreshTokens) revoke(configured string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setup(configured)
	r.any = false
	for rt := range r.valid {
		r.valid[rt] = false
	}
}

func (r *refreshTokens) setup(configured string) {
	if r.init {
		return
	}
	r.init, r.any, r.valid = true, configured == "", map[string]bool{}
	if configured != "" {
		r.valid[configured] = true
	}
}

// RevokeRefreshTokens revokes every refresh token the fake OAuth endpoint
// accepts: Config.RefreshToken and those issued so far, or any refresh
// token when Config.RefreshToken is empty. Redeeming one is then 400
// invalid_grant (AADSTS50173), as after a password reset or an
// administrator's revocation. Access tokens already issued keep working.
func (e *Emulator) RevokeRefreshTokens() {
	e.refresh.revoke(e.cfg.RefreshToken)
}

// identity is who a tenant's calls come from: the filing organization and
// the signed-in user.
type identity struct {
	org     *wire.Organization
	contact *wire.Contact
	name    string // stamped into notes as createdByName
}

// identityOf returns the tenant's identity, made up deterministically from
// the tenant name and cached.
func (e *Emulator) identityOf(tenant string) *identity {
	if v, ok := e.identities.Load(tenant); ok {
		return v.(*identity)
	}
	ns := uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://srimport.example/emulator/"+tenant))
	org := &wire.Organization{ID: ns.String(), Name: "Fabrikam Cloud", PhoneNumber: "5550142"}
	if tenant != defaultTenant {
		org.Name = "Partner " + tenant
	}
	contact := &wire.Contact{
		ContactID:    uuid.NewSHA1(ns, []byte("contact")).String(),
		FirstName:    "Noor",
		LastName:     "Haddad",
		Email:        "noor@fabrikam.example",
		PhoneNumber:  "5550143",
		Organization: org,
	}
	v, _ := e.identities.LoadOrStore(tenant, &identity{org: org, contact: contact, name: "Noor Haddad"})
	return v.(*identity)
}

// api wraps an API handler: it counts the request in flight, sets the
// common headers, waits the configured latency, authenticates and applies
// the tenant's quota.
func (e *Emulator) api(h func(*call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := e.stats.inFlight.Add(1)
		defer e.stats.inFlight.Add(-1)
		for m := e.stats.maxInFl.Load(); n > m && !e.stats.maxInFl.CompareAndSwap(m, n); m = e.stats.maxInFl.Load() {
		}
		c := e.newCall(w, r)
		if !e.delay(r) {
			return // the client went away; nobody is listening
		}
		if !e.authenticate(c) || !e.admit(c) {
			return
		}
		h(c)
	}
}

// delay waits Latency plus jitter. It reports false if the request's
// context ended first; Close cuts the wait short but still answers.
func (e *Emulator) delay(r *http.Request) bool {
	d := e.cfg.Latency
	if e.cfg.Jitter > 0 {
		e.rngMu.Lock()
		d += time.Duration(e.rng.Int64N(int64(e.cfg.Jitter)))
		e.rngMu.Unlock()
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.closing:
		return true
	case <-r.Context().Done():
		return false
	}
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	const scheme = "bearer "
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(scheme):])
	return tok, tok != ""
}

// authenticate checks the bearer token and sets the caller's tenant. It
// answers 401 and reports false when the token is missing, wrong or
// expired.
func (e *Emulator) authenticate(c *call) bool {
	tok, ok := bearer(c.r.Header.Get("Authorization"))
	if !ok {
		c.w.Header().Set("Www-Authenticate", "Bearer")
		e.fail(c, http.StatusUnauthorized, codeUnauthorized, "Partner token missing or invalid: send Authorization: Bearer <token>.")
		return false
	}
	tenant := defaultTenant
	expired := false
	if v, ok := e.tokens.Load(tok); ok {
		g := v.(*grantedToken)
		tenant = g.tenant
		expired = !g.expires.IsZero() && !time.Now().Before(g.expires)
	} else if e.cfg.Token != "" && tok != e.cfg.Token {
		c.w.Header().Set("Www-Authenticate", `Bearer error="invalid_token"`)
		e.fail(c, http.StatusUnauthorized, codeUnauthorized, "Partner token missing or invalid: the token is not valid for this service.")
		return false
	}
	if limit := e.cfg.TokenExpiryCalls; limit > 0 && !expired {
		v, ok := e.calls.Load(tok)
		if !ok {
			v, _ = e.calls.LoadOrStore(tok, new(atomic.Int64))
		}
		expired = v.(*atomic.Int64).Add(1) > int64(limit)
	}
	if expired {
		c.w.Header().Set("Www-Authenticate", `Bearer error="invalid_token", error_description="The token expired"`)
		e.fail(c, http.StatusUnauthorized, codeUnauthorized, "Partner token missing or invalid: the token has expired; acquire a new one.")
		return false
	}
	c.tenant = tenant
	c.who = e.identityOf(tenant)
	return true
}

// admit spends one token of the tenant's bucket. When it is empty it
// answers 429 with Retry-After and the gateway's body (not an ApiFault) and
// reports false.
func (e *Emulator) admit(c *call) bool {
	if e.cfg.Quota <= 0 {
		return true
	}
	v, ok := e.limiters.Load(c.tenant)
	if !ok {
		v, _ = e.limiters.LoadOrStore(c.tenant, rate.NewLimiter(rate.Limit(e.cfg.Quota), e.cfg.Burst))
	}
	lim := v.(*rate.Limiter)
	now := time.Now()
	if lim.AllowN(now, 1) {
		return true
	}
	wait := (1 - lim.TokensAt(now)) / e.cfg.Quota
	secs := max(1, int(math.Ceil(wait)))
	e.stats.throttled.Add(1)
	s := strconv.Itoa(secs)
	c.w.Header()[hdrRetryAfter] = []string{s}
	// The gateway, not the service, answers: no byte-order mark.
	body := []byte(`{"statusCode":429,"message":"Rate limit is exceeded. Try again in ` + s + ` seconds."}`)
	c.w.Header()[hdrContentLength] = []string{strconv.Itoa(len(body))}
	c.w.WriteHeader(http.StatusTooManyRequests)
	_, _ = c.w.Write(body)
	return false
}

// tokenResponse is the identity platform's token answer; expires_in is a
// string as in the Partner Center documentation.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    string `json:"expires_in"`
	ExtExpiresIn string `json:"ext_expires_in"`
	ExpiresOn    string `json:"expires_on"`
	Resource     string `json:"resource,omitempty"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
	Timestamp   string `json:"timestamp"`
	TraceID     string `json:"trace_id"`
}

// token is the fake OAuth token endpoint (v1 and v2.0 paths). It accepts
// grant_type refresh_token (with refresh_token and client_id; the refresh
// token as Config.RefreshToken and RevokeRefreshTokens allow) and
// client_credentials (with client_id and client_secret), issues a fresh
// access token owned by the path's tenant and, for refresh_token, a
// rotated refresh token. Anything else is 400 invalid_grant. expires_in,
// ext_expires_in and expires_on are strings, as the documentation shows
// them; error descriptions end with trace and correlation ids and a
// timestamp on lines of their own, as Microsoft Entra ID's do.
func (e *Emulator) token(w http.ResponseWriter, r *http.Request) {
	w.Header()[hdrContentType] = []string{contentTypeJSON}
	tenant := r.PathValue("tenant")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	bad := func(code int, msg string) {
		now, trace := time.Now().UTC(), uuid.NewString()
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(marshal(tokenError{
			Error:       "invalid_grant",
			Description: msg + "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + uuid.NewString() + "\r\nTimestamp: " + now.Format("2006-01-02 15:04:05Z"),
			Codes:       []int{code}, Timestamp: now.Format(time.DateTime + "Z"), TraceID: trace,
		}))
	}
	if err := r.ParseForm(); err != nil {
		bad(900144, "AADSTS900144: the request body must be a form (application/x-www-form-urlencoded).")
		return
	}
	f := r.PostForm
	if f.Get("client_id") == "" {
		bad(900144, "AADSTS900144: The request body must contain the following parameter: 'client_id'.")
		return
	}
	lifetime := tokenLifetime
	if e.cfg.TokenLifetime > 0 {
		lifetime = e.cfg.TokenLifetime
	}
	now := time.Now()
	secs := strconv.FormatInt(int64(lifetime/time.Second), 10)
	resp := tokenResponse{
		TokenType: "Bearer", ExpiresIn: secs, ExtExpiresIn: secs,
		ExpiresOn:   strconv.FormatInt(now.Add(lifetime).Unix(), 10),
		AccessToken: "emu." + crand.Text() + crand.Text(),
	}
	if strings.Contains(r.URL.Path, "/v2.0/") {
		resp.Scope = apiResource + "/user_impersonation"
	} else {
		resp.Scope, resp.Resource = "user_impersonation", apiResource
	}
	switch f.Get("grant_type") {
	case "refresh_token":
		rt := f.Get("refresh_token")
		if rt == "" {
			bad(900144, "AADSTS900144: The request body must contain the following parameter: 'refresh_token'.")
			return
		}
		switch ok, revoked := e.refresh.check(e.cfg.RefreshToken, rt); {
		case revoked:
			bad(50173, "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.")
			return
		case !ok:
			bad(70000, "AADSTS70000: The provided grant is invalid or malformed.")
			return
		}
		resp.RefreshToken = "emu-refresh." + crand.Text() + crand.Text()
		e.refresh.issued(e.cfg.RefreshToken, resp.RefreshToken)
	case "client_credentials":
		if f.Get("client_secret") == "" {
			bad(7000215, "AADSTS7000215: Invalid client secret provided.")
			return
		}
	default:
		bad(70003, "AADSTS70003: The app requested an unsupported grant type "+quote(f.Get("grant_type"))+".")
		return
	}
	g := &grantedToken{tenant: tenant}
	if e.cfg.TokenLifetime > 0 {
		g.expires = now.Add(lifetime)
	}
	e.tokens.Store(resp.AccessToken, g)
	e.stats.tokensIssued.Add(1)
	_, _ = w.Write(marshal(resp))
}

func (e *Emulator) notFound(w http.ResponseWriter, r *http.Request) {
	c := e.newCall(w, r)
	e.fail(c, http.StatusNotFound, codeNotFound, "No resource at "+r.Method+" "+quote(r.URL.Path)+".")
}
