package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tokenServer is a fake token endpoint: answer decides each answer from the
// grant number (from 1) and the posted form.
type tokenServer struct {
	srv    *httptest.Server
	grants atomic.Int64
	mu     sync.Mutex
	paths  []string
	forms  []url.Values
	ctypes []string
}

func newTokenServer(t *testing.T, answer func(n int64, form url.Values, w http.ResponseWriter)) *tokenServer {
	t.Helper()
	ts := &tokenServer{}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		ts.mu.Lock()
		ts.paths = append(ts.paths, r.Method+" "+r.URL.Path)
		ts.forms = append(ts.forms, r.PostForm)
		ts.ctypes = append(ts.ctypes, r.Header.Get("Content-Type"))
		ts.mu.Unlock()
		answer(ts.grants.Add(1), r.PostForm, w)
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) form(i int) url.Values {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.forms[i]
}

// okAnswer answers a token numbered n, rotating the refresh token to rt-n.
func okAnswer(n int64, _ url.Values, w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintf(w, `{"token_type":"Bearer","scope":"user_impersonation","expires_in":"3599","ext_expires_in":"3599","access_token":"at-%d","refresh_token":"rt-%d"}`, n, n)
}

func newTestRefresh(t *testing.T, cfg RefreshConfig) *RefreshToken {
	t.Helper()
	s, err := NewRefreshToken(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.waitMin, s.waitMax = time.Millisecond, 5*time.Millisecond
	return s
}

// TestRefreshTokenForm: v1 posts resource=, v2 posts scope=, both with the
// Secure Application Model's fields, to {authority}/{tenant}/….
func TestRefreshTokenForm(t *testing.T) {
	for _, tc := range []struct {
		version         int
		path            string
		resource, scope string
	}{
		{0, "/contoso.onmicrosoft.com/oauth2/token", "https://api.partnercenter.microsoft.com", ""},
		{1, "/contoso.onmicrosoft.com/oauth2/token", "https://api.partnercenter.microsoft.com", ""},
		{2, "/contoso.onmicrosoft.com/oauth2/v2.0/token", "", "https://api.partnercenter.microsoft.com/user_impersonation offline_access"},
	} {
		t.Run(fmt.Sprint("v", tc.version), func(t *testing.T) {
			ts := newTokenServer(t, okAnswer)
			s := newTestRefresh(t, RefreshConfig{Authority: ts.srv.URL + "/", Tenant: "contoso.onmicrosoft.com", ClientID: "app-id",
				ClientSecret: "app-secret", RefreshToken: "rt-0", Version: tc.version})
			tok, err := s.Token(context.Background())
			if err != nil || tok != "at-1" {
				t.Fatalf("%q, %v", tok, err)
			}
			if ts.paths[0] != "POST "+tc.path {
				t.Errorf("posted to %s, want %s", ts.paths[0], tc.path)
			}
			if ts.ctypes[0] != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type %q", ts.ctypes[0])
			}
			want := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-0"}, "client_id": {"app-id"}, "client_secret": {"app-secret"}}
			if tc.resource != "" {
				want.Set("resource", tc.resource)
			}
			if tc.scope != "" {
				want.Set("scope", tc.scope)
			}
			if got := ts.form(0); got.Encode() != want.Encode() {
				t.Errorf("form\n %s\nwant\n %s", got.Encode(), want.Encode())
			}
			if s.Renewals() != 1 {
				t.Errorf("Renewals %d", s.Renewals())
			}
		})
	}
	// A custom resource, no secret (a public client).
	ts := newTokenServer(t, okAnswer)
	s := newTestRefresh(t, RefreshConfig{Authority: ts.srv.URL, Tenant: "t", ClientID: "app", RefreshToken: "rt-0", Version: 2, Resource: "https://example.test/"})
	if _, err := s.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f := ts.form(0); f.Has("client_secret") || f.Get("scope") != "https://example.test/user_impersonation offline_access" {
		t.Errorf("form %s", f.Encode())
	}
}

// TestRefreshTokenRotation: each answer's refresh token is used for the
// next grant and handed to OnRotate; an OnRotate failure is kept for
// RotateErr and does not fail the token.
func TestRefreshTokenRotation(t *testing.T) {
	ts := newTokenServer(t, func(n int64, form url.Values, w http.ResponseWriter) {
		if n == 3 { // no refresh token in this answer: the current one stays
			fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"at-%d"}`, n)
			return
		}
		okAnswer(n, form, w)
	})
	var rotated []string
	fail := errors.New("disk full")
	s := newTestRefresh(t, RefreshConfig{Authority: ts.srv.URL, Tenant: "t", ClientID: "app", ClientSecret: "cs", RefreshToken: "rt-0",
		OnRotate: func(rt string) error {
			rotated = append(rotated, rt)
			if rt == "rt-2" {
				return fail
			}
			return nil
		}})
	ctx := context.Background()
	for i := range 4 {
		tok, err := s.Token(ctx)
		if want := fmt.Sprint("at-", i+1); err != nil || tok != want {
			t.Fatalf("grant %d: %q, %v; want %s", i+1, tok, err, want)
		}
		switch i {
		case 0:
			if s.RotateErr() != nil {
				t.Errorf("RotateErr %v", s.RotateErr())
			}
		case 1:
			if err := s.RotateErr(); err == nil || err.Error() != "disk full" {
				t.Errorf("RotateErr %v, want disk full", err)
			}
		}
		s.Refused(tok)
	}
	var sent []string
	for i := range 4 {
		sent = append(sent, ts.form(i).Get("refresh_token"))
	}
	if got, want := strings.Join(sent, " "), "rt-0 rt-1 rt-2 rt-2"; got != want {
		t.Errorf("refresh tokens sent %s, want %s", got, want)
	}
	if got, want := strings.Join(rotated, " "), "rt-1 rt-2 rt-4"; got != want {
		t.Errorf("OnRotate got %s, want %s", got, want)
	}
}

// TestRefreshTokenExpiry: expires_in as a string or a number, or
// expires_on, sets when the token is renewed: 30 s early by default.
func TestRefreshTokenExpiry(t *testing.T) {
	clk := newFakeClock()
	for _, tc := range []struct {
		name, fields string
		renewAfter   time.Duration // zero: never
	}{
		{"string expires_in", `"expires_in":"3599"`, 3599*time.Second - DefaultTokenMargin},
		{"number expires_in", `"expires_in":600`, 600*time.Second - DefaultTokenMargin},
		{"expires_on", fmt.Sprintf(`"expires_on":"%d"`, clk.now().Add(time.Hour).Unix()), time.Hour - DefaultTokenMargin},
		{"short", `"expires_in":"20"`, 20 * time.Second},
		{"none", `"expires_in":"0"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, func(n int64, _ url.Values, w http.ResponseWriter) {
				fmt.Fprintf(w, `{"token_type":"Bearer",%s,"access_token":"at-%d"}`, tc.fields, n)
			})
			s := newTestRefresh(t, RefreshConfig{Authority: ts.srv.URL, Tenant: "t", ClientID: "app", RefreshToken: "rt"})
			s.r.now = clk.now
			ctx := context.Background()
			start := clk.now()
			if tok, _ := s.Token(ctx); tok != "at-1" {
				t.Fatal(tok)
			}
			defer clk.ns.Store(start.UnixNano())
			if tc.renewAfter == 0 {
				clk.advance(1000 * time.Hour)
				if tok, _ := s.Token(ctx); tok != "at-1" {
					t.Errorf("a token without expiry was renewed: %q", tok)
				}
				return
			}
			clk.advance(tc.renewAfter - time.Second)
			if tok, _ := s.Token(ctx); tok != "at-1" {
				t.Errorf("renewed a second early: %q", tok)
			}
			clk.advance(time.Second)
			if tok, _ := s.Token(ctx); tok != "at-2" {
				t.Errorf("not renewed when due: %q", tok)
			}
		})
	}
}

// TestRefreshTokenRetries: 5xx, 429 and network errors are retried, then
// reported as ClassTransient, which a later call tries again.
func TestRefreshTokenRetries(t *testing.T) {
	var fail atomic.Int64
	fail.Store(2)
	ts := newTokenServer(t, func(n int64, form url.Values, w http.ResponseWriter) {
		if fail.Add(-1) >= 0 {
			if n%2 == 0 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"temporarily_unavailable","error_description":"AADSTS50001: busy\r\nTrace ID: x"}`)
			return
		}
		okAnswer(n, form, w)
	})
	s := newTestRefresh(t, RefreshConfig{Authority: ts.srv.URL, Tenant: "t", ClientID: "app", RefreshToken: "rt"})
	ctx := context.Background()
	if tok, err := s.Token(ctx); err != nil || tok != "at-3" {
		t.Fatalf("after two failures: %q, %v", tok, err)
	}
	s.Refused("at-3")
	fail.Store(100)
	_, err := s.Token(ctx)
	if err == nil || ClassOf(err) != ClassTransient || !strings.Contains(err.Error(), "(4 attempts)") {
		t.Fatalf("%v (class %s)", err, ClassOf(err))
	}
	if !strings.Contains(err.Error(), "127.0.0.1") || strings.Contains(err.Error(), "Trace ID") {
		t.Errorf("message %q", err)
	}
	if n := ts.grants.Load(); n != 7 {
		t.Errorf("%d requests, want 3 + 4", n)
	}
	fail.Store(0)
	if tok, err := s.Token(ctx); err != nil || tok != "at-8" {
		t.Errorf("a transient failure is not tried again: %q, %v", tok, err)
	}

	// A network error.
	ts.srv.Close()
	s.Refused("at-8")
	if _, err := s.Token(ctx); ClassOf(err) != ClassTransient {
		t.Errorf("a closed endpoint: %v (class %s)", err, ClassOf(err))
	}
	// The caller's context ends during the backoff.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Token(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled caller: %v", err)
	}
}

// TestRefreshTokenRefused: a refusal is a sticky ClassAuth error that says
// what happened and what to do.
func TestRefreshTokenRefused(t *testing.T) {
	const expired = `{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2025-01-01 and was inactive for 90.00:00:00.\r\nTrace ID: 0c4e\r\nCorrelation ID: 77aa\r\nTimestamp: 2026-03-01 12:00:00Z","error_codes":[700082]}`
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   []string
	}{
		{"expired refresh token", 400, expired, []string{"refresh-token grant at 127.0.0.1:", "HTTP 400, invalid_grant", "AADSTS700082: The refresh token has expired due to inactivity.", "sign in again", "SRIMPORT_REFRESH_TOKEN", "--refresh-token-file"}},
		{"code only", 400, `{"error":"invalid_grant","error_codes":[50173]}`, []string{"AADSTS50173", "sign in again"}},
		{"code in error_codes", 400, `{"error":"invalid_grant","error_description":"revoked","error_codes":[50173]}`, []string{"AADSTS50173: revoked"}},
		{"bad secret", 401, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`, []string{"invalid_client", "AADSTS7000215", "client secret"}},
		{"unknown tenant", 400, `{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'nope' not found."}`, []string{"AADSTS90002", "check the tenant"}},
		{"not an endpoint", 404, `<html><body>Not Found</body></html>`, []string{"HTTP 404", "check the authority and the tenant"}},
		{"error in a 200", 200, `{"error":"invalid_grant","error_description":"AADSTS50076: MFA required"}`, []string{"AADSTS50076", "sign in again"}},
		{"not bearer", 200, `{"token_type":"pop","access_token":"at"}`, []string{`"pop" token`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, func(n int64, _ url.Values, w http.ResponseWriter) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			s := newTestRefresh(t, RefreshConfig{Authority: ts.srv.URL, Tenant: "t", ClientID: "app", ClientSecret: "cs", RefreshToken: "rt"})
			_, err := s.Token(context.Background())
			if ClassOf(err) != ClassAuth || !errors.Is(err, ErrNoToken) {
				t.Fatalf("%v (class %s)", err, ClassOf(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "Trace ID") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%q is not one line without trace ids", err)
			}
			for range 3 {
				if _, err2 := s.Token(context.Background()); err2 != err {
					t.Errorf("a later call got %v", err2)
				}
			}
			if n := ts.grants.Load(); n != 1 {
				t.Errorf("%d requests; a refusal should not be retried", n)
			}
		})
	}
}

func TestNewRefreshTokenChecks(t *testing.T) {
	ok := RefreshConfig{Authority: "https://login.microsoftonline.com", Tenant: "t", ClientID: "c", ClientSecret: "s", RefreshToken: "r"}
	if _, err := NewRefreshToken(ok); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*RefreshConfig){
		"no tenant":        func(c *RefreshConfig) { c.Tenant = "" },
		"no client id":     func(c *RefreshConfig) { c.ClientID = " " },
		"no refresh token": func(c *RefreshConfig) { c.RefreshToken = "" },
		"no authority":     func(c *RefreshConfig) { c.Authority = "" },
		"relative":         func(c *RefreshConfig) { c.Authority = "login.microsoftonline.com" },
		"ftp":              func(c *RefreshConfig) { c.Authority = "ftp://login.microsoftonline.com" },
		"user info":        func(c *RefreshConfig) { c.Authority = "https://u:p@login.microsoftonline.com" },
		"query":            func(c *RefreshConfig) { c.Authority = "https://login.microsoftonline.com?x=1" },
		"version 3":        func(c *RefreshConfig) { c.Version = 3 },
		"negative margin":  func(c *RefreshConfig) { c.Margin = -time.Second },
	} {
		cfg := ok
		edit(&cfg)
		if _, err := NewRefreshToken(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s, _ := NewRefreshToken(RefreshConfig{Authority: "https://login.microsoftonline.us///", Tenant: "a b", ClientID: "c", RefreshToken: "r"})
	if s.tokenURL != "https://login.microsoftonline.us/a%20b/oauth2/token" {
		t.Errorf("token URL %s", s.tokenURL)
	}
}
