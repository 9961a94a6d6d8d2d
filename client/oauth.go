package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The refresh-token grant is written out here rather than taken from
// golang.org/x/oauth2: its refresh path (Config.TokenSource) posts only
// grant_type and refresh_token besides the client credentials, and has no
// way to add the v1 endpoint's resource parameter (nor v2's scope);
// AuthCodeOption applies to AuthCodeURL and Exchange only. Its cache also
// waits on a plain mutex that ignores the caller's context, and cannot be
// told that a token was refused.

// DefaultResource is the Partner Center API's resource (v1) and scope
// prefix (v2).
const DefaultResource = "https://api.partnercenter.microsoft.com"

// DefaultTokenHTTPTimeout bounds one request to the token endpoint made
// with the default HTTP client.
const DefaultTokenHTTPTimeout = 30 * time.Second

const (
	grantRetries       = 3                // attempts after the first, after network errors, 408, 429 and 5xx
	grantWaitMin       = time.Second      // backoff floor
	grantWaitMax       = 10 * time.Second // backoff cap; Retry-After is honoured up to maxGrantRetryAfter
	maxGrantRetryAfter = time.Minute
	maxGrantBody       = 1 << 20
	maxGrantDetail     = 300 // bytes kept of the endpoint's error description
)

// RefreshConfig configures a RefreshToken: the OAuth 2.0 refresh-token
// grant of the Secure Application Model
// (partner-center-contract.md §10).
type RefreshConfig struct {
	// Authority is the sign-in authority, e.g.
	// https://login.microsoftonline.com; it is joined with Tenant by one '/'.
	Authority string
	// Tenant is the partner's tenant id or domain.
	Tenant string
	// ClientID and ClientSecret are the app registration's; an empty
	// secret is not sent (a public client).
	ClientID     string
	ClientSecret string
	// RefreshToken is the one obtained at consent.
	RefreshToken string
	// Version selects the token endpoint: 1 (or 0) posts to
	// {Authority}/{Tenant}/oauth2/token with resource=Resource; 2 posts to
	// {Authority}/{Tenant}/oauth2/v2.0/token with
	// scope=Resource/user_impersonation offline_access.
	Version int
	// Resource defaults to DefaultResource.
	Resource string
	// HTTPClient defaults to a client with DefaultTokenHTTPTimeout that
	// follows no redirect.
	HTTPClient *http.Client
	// Margin: a token is renewed this long before it expires (default
	// DefaultTokenMargin).
	Margin time.Duration
	// OnRotate, when set, is called with the new refresh token when an
	// answer carries one; it may save it for the next run. The new token
	// is used for the rest of the run whatever OnRotate returns; its
	// error is kept for RotateErr. It runs while the renewal is under way,
	// with other callers waiting: it should be quick.
	OnRotate func(refreshToken string) error
}

// RefreshToken is a Renewer that obtains access tokens with the
// refresh-token grant, keeps each until its expiry less the margin or until
// it is refused, and keeps the rotated refresh token of each answer. One
// grant serves every caller waiting for it.
//
// Network errors, 408, 429 and 5xx from the token endpoint are retried a
// few times with backoff; then Token fails with an error that ClassOf
// reports as ClassTransient. Any other refusal (invalid_grant for an
// expired or revoked refresh token, invalid_client for a wrong or expired
// secret, an unknown tenant) is a credential failure, reported as
// ClassAuth and returned again by every later call without asking the
// endpoint. No error names the refresh token, the client secret or an
// access token. It is safe for concurrent use.
type RefreshToken struct {
	tokenURL string
	host     string // named in errors
	clientID string
	secret   string
	resource string // v1: resource=; "" for v2
	scope    string // v2: scope=; "" for v1
	hc       *http.Client
	margin   time.Duration
	onRotate func(string) error
	renewals atomic.Int64
	retries  int
	waitMin  time.Duration
	waitMax  time.Duration

	// refresh is touched by grant only, which runs one at a time
	// (renewal's flights do not overlap).
	refresh string

	// fixed (the configured refresh token and client secret) and seen (the
	// latest refresh and access tokens issued) are hidden from errors.
	fixed     []string
	secretsMu sync.Mutex
	seen      []string

	rotateMu  sync.Mutex
	rotateErr error

	r renewal
}

// NewRefreshToken returns a RefreshToken for cfg. It fails, naming no
// secret, when a required field is empty or Authority is not an absolute
// http or https URL. No request is made until the first Token call.
func NewRefreshToken(cfg RefreshConfig) (*RefreshToken, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"Authority", cfg.Authority}, {"Tenant", cfg.Tenant}, {"ClientID", cfg.ClientID}, {"RefreshToken", cfg.RefreshToken},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("client: the refresh-token grant needs %s", strings.Join(missing, ", "))
	}
	authority := strings.TrimRight(strings.TrimSpace(cfg.Authority), "/")
	u, err := url.Parse(authority)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("client: RefreshConfig.Authority: want an http:// or https:// URL with a host, and no user info, query or fragment")
	}
	if cfg.Margin < 0 {
		return nil, errors.New("client: RefreshConfig.Margin cannot be negative")
	}
	s := &RefreshToken{
		host:     u.Host,
		clientID: strings.TrimSpace(cfg.ClientID),
		secret:   cfg.ClientSecret,
		hc:       cfg.HTTPClient,
		margin:   cfg.Margin,
		onRotate: cfg.OnRotate,
		retries:  grantRetries,
		waitMin:  grantWaitMin,
		waitMax:  grantWaitMax,
		refresh:  strings.TrimSpace(cfg.RefreshToken),
	}
	resource := strings.TrimRight(strings.TrimSpace(cfg.Resource), "/")
	if resource == "" {
		resource = DefaultResource
	}
	tenant := url.PathEscape(strings.TrimSpace(cfg.Tenant))
	switch cfg.Version {
	case 0, 1:
		s.tokenURL = authority + "/" + tenant + "/oauth2/token"
		s.resource = resource
	case 2:
		s.tokenURL = authority + "/" + tenant + "/oauth2/v2.0/token"
		s.scope = resource + "/user_impersonation offline_access"
	default:
		return nil, fmt.Errorf("client: RefreshConfig.Version %d: want 1 or 2", cfg.Version)
	}
	if s.hc == nil {
		s.hc = &http.Client{
			Timeout: DefaultTokenHTTPTimeout,
			// A redirected grant would carry the secrets elsewhere; the 3xx
			// is refused instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if s.margin == 0 {
		s.margin = DefaultTokenMargin
	}
	for _, v := range []string{cfg.RefreshToken, s.refresh, cfg.ClientSecret, strings.TrimSpace(cfg.ClientSecret)} {
		if len(v) >= minSecret {
			s.fixed = append(s.fixed, v)
		}
	}
	s.r = renewal{fetch: s.grant, sticky: func(err error) bool { return errors.Is(err, ErrNoToken) }, now: time.Now}
	return s, nil
}

// Token returns the current access token, running the grant when there is
// none yet, it is due for renewal or it was refused.
func (s *RefreshToken) Token(ctx context.Context) (string, error) { return s.r.Token(ctx) }

// Refused tells s that token was refused; the next Token call runs the
// grant again, unless token was already replaced.
func (s *RefreshToken) Refused(token string) { s.r.Refused(token) }

// Renewals returns how many grants succeeded.
func (s *RefreshToken) Renewals() int64 { return s.renewals.Load() }

// RotateErr returns the error of the last OnRotate call, nil when it
// succeeded or never ran.
func (s *RefreshToken) RotateErr() error {
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	return s.rotateErr
}

// tokenAnswer is the token endpoint's JSON answer, success or error.
type tokenAnswer struct {
	AccessToken      string  `json:"access_token"`
	TokenType        string  `json:"token_type"`
	RefreshToken     string  `json:"refresh_token"`
	ExpiresIn        flexInt `json:"expires_in"`
	ExpiresOn        flexInt `json:"expires_on"`
	Error            string  `json:"error"`
	ErrorDescription string  `json:"error_description"`
	ErrorCodes       []int64 `json:"error_codes"`
}

// grant runs the refresh-token grant, retrying what may pass on a repeat.
func (s *RefreshToken) grant(ctx context.Context) (issued, error) {
	for n := 0; ; n++ {
		got, wait, err := s.attempt(ctx)
		if err == nil || wait < 0 || n >= s.retries || ctx.Err() != nil {
			if err != nil && wait >= 0 && ctx.Err() == nil {
				err = fmt.Errorf("%w (%d attempts)", err, n+1)
			}
			return got, err
		}
		if wait == 0 {
			wait = jitter(s.waitMin, s.waitMax, n)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return issued{}, fmt.Errorf("refresh-token grant at %s: %w", s.host, ctx.Err())
		}
	}
}

// attempt posts the grant once. On failure wait is -1 when a repeat cannot
// help, otherwise the Retry-After to honour (0: back off as usual).
func (s *RefreshToken) attempt(ctx context.Context) (got issued, wait time.Duration, err error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {s.refresh},
		"client_id":     {s.clientID},
	}
	if s.secret != "" {
		form.Set("client_secret", s.secret)
	}
	if s.resource != "" {
		form.Set("resource", s.resource)
	}
	if s.scope != "" {
		form.Set("scope", s.scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return issued{}, -1, s.credErr("cannot build the request: " + s.redact(err.Error()))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	start := s.r.now()
	resp, err := s.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return issued{}, -1, fmt.Errorf("refresh-token grant at %s: %w", s.host, ctx.Err())
		}
		return issued{}, 0, fmt.Errorf("refresh-token grant at %s: %s", s.host, s.redact(err.Error()))
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxGrantBody))
	resp.Body.Close()
	var ans tokenAnswer
	decoded := rerr == nil && json.Unmarshal(bytes.TrimPrefix(bytes.TrimSpace(body), utf8BOM), &ans) == nil
	status := resp.StatusCode
	ok := status >= 200 && status <= 299
	switch {
	case ans.Error == "temporarily_unavailable" || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		d, _ := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		code := ""
		if ans.Error != "" {
			code = " (" + s.redact(clip(oneLine(ans.Error), 60)) + ")"
		}
		return issued{}, min(d, maxGrantRetryAfter), fmt.Errorf("refresh-token grant at %s: HTTP %d%s%s", s.host, status, code, s.detail(ans))
	case ok && rerr != nil:
		return issued{}, 0, fmt.Errorf("refresh-token grant at %s: read the answer: %s", s.host, s.redact(rerr.Error()))
	case ok && !decoded:
		return issued{}, 0, fmt.Errorf("refresh-token grant at %s: HTTP %d with an answer that is not a JSON token", s.host, status)
	case ans.Error != "" || !ok:
		return issued{}, -1, s.refusal(status, ans, decoded)
	case ans.AccessToken == "":
		return issued{}, 0, fmt.Errorf("refresh-token grant at %s: HTTP %d without an access_token", s.host, status)
	case !headerSafe(ans.AccessToken):
		return issued{}, -1, s.credErr("the access_token holds characters a bearer token cannot hold")
	case ans.TokenType != "" && !strings.EqualFold(ans.TokenType, "bearer"):
		return issued{}, -1, s.credErr(fmt.Sprintf("the endpoint issued a %q token; the API takes Bearer tokens", s.redact(clip(oneLine(ans.TokenType), 40))))
	}
	s.renewals.Add(1)
	s.addSecret(ans.AccessToken)
	if rt := strings.TrimSpace(ans.RefreshToken); rt != "" && rt != s.refresh {
		s.refresh = rt
		s.addSecret(rt)
		if s.onRotate != nil {
			err := s.onRotate(rt)
			if err != nil {
				err = errors.New(s.redact(err.Error()))
			}
			s.rotateMu.Lock()
			s.rotateErr = err
			s.rotateMu.Unlock()
		}
	}
	var expires time.Time
	switch {
	case ans.ExpiresIn.set && ans.ExpiresIn.n > 0:
		expires = start.Add(ans.ExpiresIn.seconds())
	case ans.ExpiresOn.set && ans.ExpiresOn.n > 0:
		expires = time.Unix(ans.ExpiresOn.n, 0)
	}
	return lifetime(ans.AccessToken, expires, start, s.margin), 0, nil
}

// aadsts finds an AADSTS error code in a description.
var aadsts = regexp.MustCompile(`AADSTS\d+`)

// refusal is the credential failure of an answer that refused the grant.
func (s *RefreshToken) refusal(status int, ans tokenAnswer, decoded bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "refresh-token grant at %s refused (HTTP %d", s.host, status)
	if ans.Error != "" {
		fmt.Fprintf(&b, ", %s", s.redact(clip(oneLine(ans.Error), 60)))
	}
	b.WriteString(")")
	d := s.detail(ans)
	if d == "" && len(ans.ErrorCodes) > 0 {
		d = fmt.Sprintf(": AADSTS%d", ans.ErrorCodes[0])
	}
	b.WriteString(d)
	switch {
	case ans.Error == "invalid_grant" || ans.Error == "interaction_required":
		b.WriteString("; sign in again to get a new refresh token (the consent step of the Secure Application Model); set SRIMPORT_REFRESH_TOKEN or --refresh-token-file")
	case ans.Error == "invalid_client":
		b.WriteString("; check the app's client id and client secret (a secret that expired is refused this way)")
	case !decoded || ans.Error == "":
		b.WriteString("; check the authority and the tenant: this is not a token endpoint's answer")
	default:
		b.WriteString("; check the tenant, the client id and the app's consent for the Partner Center API")
	}
	return &credentialError{b.String()}
}

// detail returns ": " and the first line of the endpoint's error
// description, with its AADSTS code first, or "".
func (s *RefreshToken) detail(ans tokenAnswer) string {
	desc := ans.ErrorDescription
	if i := strings.IndexAny(desc, "\r\n"); i >= 0 {
		desc = desc[:i] // the rest is trace and correlation ids, and a timestamp
	}
	desc = clip(oneLine(desc), maxGrantDetail)
	if desc == "" {
		return ""
	}
	if !aadsts.MatchString(desc) && len(ans.ErrorCodes) > 0 {
		desc = fmt.Sprintf("AADSTS%d: %s", ans.ErrorCodes[0], desc)
	}
	return ": " + s.redact(desc)
}

// credErr is a credential failure with msg, whose parts from elsewhere
// have been through redact.
func (s *RefreshToken) credErr(msg string) error {
	return &credentialError{fmt.Sprintf("refresh-token grant at %s: %s", s.host, msg)}
}

// minSecret is the length below which a value is not hidden: replacing
// a one-letter "secret" everywhere would garble every message.
const minSecret = 4

// maxSeen bounds the issued tokens kept to hide.
const maxSeen = 32

// addSecret records v, an issued token, to be hidden from errors.
func (s *RefreshToken) addSecret(v string) {
	if len(v) < minSecret {
		return
	}
	s.secretsMu.Lock()
	defer s.secretsMu.Unlock()
	if len(s.seen) >= maxSeen {
		s.seen = append(s.seen[:0], s.seen[1:]...)
	}
	s.seen = append(s.seen, v)
}

// redact hides every known secret in msg, text from the endpoint or the
// network, and anything after "Bearer ".
func (s *RefreshToken) redact(msg string) string {
	s.secretsMu.Lock()
	defer s.secretsMu.Unlock()
	for _, v := range append(s.fixed[:len(s.fixed):len(s.fixed)], s.seen...) {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
		if q := url.QueryEscape(v); q != v {
			msg = strings.ReplaceAll(msg, q, "[redacted]")
		}
	}
	return redactBearer(msg)
}
