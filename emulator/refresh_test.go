package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"app"}, "client_secret": {"s"},
		"resource": {"https://api.partnercenter.microsoft.com"}}
}

// TestConfiguredRefreshToken: only the configured refresh token and those
// issued since are redeemed; each answer rotates it; older ones stay valid.
func TestConfiguredRefreshToken(t *testing.T) {
	te := newEnv(t, Config{RefreshToken: "rt-initial"})
	const path = "/contoso/oauth2/token"
	status, m := te.fetchToken(path, refreshForm("rt-other"))
	if status != http.StatusBadRequest || m["error"] != "invalid_grant" || !strings.HasPrefix(str(m, "error_description"), "AADSTS70000:") {
		t.Fatalf("an unknown refresh token: %d %v", status, m)
	}
	if !strings.Contains(str(m, "error_description"), "\r\nTrace ID: ") {
		t.Errorf("the description has no trace line: %q", str(m, "error_description"))
	}
	status, m = te.fetchToken(path, refreshForm("rt-initial"))
	if status != http.StatusOK {
		t.Fatalf("the configured refresh token: %d %v", status, m)
	}
	rotated := str(m, "refresh_token")
	if rotated == "" || rotated == "rt-initial" {
		t.Fatalf("no rotated refresh token: %v", m)
	}
	for _, rt := range []string{rotated, "rt-initial"} {
		if status, m := te.fetchToken(path, refreshForm(rt)); status != http.StatusOK {
			t.Errorf("refresh token %s: %d %v", rt, status, m)
		}
	}
	if got := te.em.Stats().TokensIssued; got != 3 {
		t.Errorf("TokensIssued %d, want 3", got)
	}
}

// TestRevokeRefreshTokens: after RevokeRefreshTokens every refresh token
// is invalid_grant AADSTS50173, while issued access tokens keep working.
func TestRevokeRefreshTokens(t *testing.T) {
	for _, configured := range []string{"", "rt-initial"} {
		t.Run("configured="+configured, func(t *testing.T) {
			te := newEnv(t, Config{RefreshToken: configured, Token: "static"})
			const path = "/contoso/oauth2/v2.0/token"
			rt := configured
			if rt == "" {
				rt = "anything"
			}
			status, m := te.fetchToken(path, refreshForm(rt))
			if status != http.StatusOK {
				t.Fatalf("%d %v", status, m)
			}
			access, rotated := str(m, "access_token"), str(m, "refresh_token")
			te.em.RevokeRefreshTokens()
			for _, rt := range []string{rt, rotated} {
				status, m := te.fetchToken(path, refreshForm(rt))
				if status != http.StatusBadRequest || m["error"] != "invalid_grant" || !strings.HasPrefix(str(m, "error_description"), "AADSTS50173:") {
					t.Errorf("revoked %s: %d %v", rt, status, m)
				}
			}
			if status, m := te.fetchToken(path, refreshForm("never-seen")); status != http.StatusBadRequest || m["error"] != "invalid_grant" {
				t.Errorf("a new refresh token after revocation: %d %v", status, m)
			}
			te.create("", "Authorization", "Bearer "+access)
			if got := te.em.Stats().TokensIssued; got != 1 {
				t.Errorf("TokensIssued %d, want 1", got)
			}
		})
	}
}

// TestTokenLifetime: expires_in is the lifetime as a string of seconds and
// a token past it answers the expired 401.
func TestTokenLifetime(t *testing.T) {
	te := newEnv(t, Config{TokenLifetime: time.Hour})
	_, m := te.fetchToken("/contoso/oauth2/token", refreshForm("r"))
	if m["expires_in"] != "3600" || m["ext_expires_in"] != "3600" {
		t.Errorf("expires_in %#v, ext_expires_in %#v: want the string \"3600\"", m["expires_in"], m["ext_expires_in"])
	}
	te.create("", "Authorization", "Bearer "+str(m, "access_token"))

	te = newEnv(t, Config{TokenLifetime: time.Nanosecond}) // expired as soon as issued
	_, m = te.fetchToken("/contoso/oauth2/token", refreshForm("r"))
	if m["expires_in"] != "0" {
		t.Errorf("expires_in %#v, want \"0\"", m["expires_in"])
	}
	resp, b := te.do(http.MethodGet, "/v1/servicerequests", "", "Authorization", "Bearer "+str(m, "access_token"))
	f := wantFault(t, resp, b, http.StatusUnauthorized, "800001")
	if !strings.Contains(str(f, "description"), "expired") || !strings.Contains(resp.Header.Get("Www-Authenticate"), `error="invalid_token"`) {
		t.Errorf("an expired token got %v, WWW-Authenticate %q", f, resp.Header.Get("Www-Authenticate"))
	}
}
