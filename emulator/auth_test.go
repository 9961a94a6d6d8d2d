package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestUnauthorized(t *testing.T) {
	te := newEnv(t, Config{Token: testToken})
	cases := []struct{ name, auth string }{
		{"no header", ""},
		{"basic", "Basic dXNlcjpwYXNz"},
		{"empty bearer", "Bearer "},
		{"wrong token", "Bearer not-the-token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := te.do(http.MethodPost, createPath, validBody, "Authorization", tc.auth, "MS-RequestId", "rid-401")
			wantFault(t, resp, b, http.StatusUnauthorized, "800001")
			if resp.Header.Get("MS-RequestId") != "rid-401" {
				t.Error("401 does not echo MS-RequestId")
			}
		})
	}
	// The right token, with the scheme in another case, passes.
	te.create("", "Authorization", "bearer "+testToken)
	st := te.em.Stats()
	if st.Unauthorized != int64(len(cases)) || st.Created != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestAnyBearerWithoutConfiguredToken(t *testing.T) {
	te := newEnv(t, Config{})
	te.create("", "Authorization", "Bearer whatever")
	resp, b := te.do(http.MethodGet, "/v1/servicerequests", "", "Authorization", "")
	wantFault(t, resp, b, http.StatusUnauthorized, "800001")
}

// fetchToken calls the fake OAuth endpoint and returns the decoded answer.
func (te *tenv) fetchToken(path string, form url.Values) (int, map[string]any) {
	te.t.Helper()
	resp, err := te.hc.PostForm(te.url+path, form)
	if err != nil {
		te.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		te.t.Fatalf("token answer: %v", err)
	}
	return resp.StatusCode, m
}

func TestOAuthTokens(t *testing.T) {
	te := newEnv(t, Config{Token: "configured"})
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-0"}, "client_id": {"app"}, "client_secret": {"s"},
		"resource": {"https://api.partnercenter.microsoft.com"}}
	for _, path := range []string{"/contoso.onmicrosoft.com/oauth2/token", "/contoso.onmicrosoft.com/oauth2/v2.0/token"} {
		status, m := te.fetchToken(path, refresh)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %v", path, status, m)
		}
		if m["token_type"] != "Bearer" || m["expires_in"] != "3599" || str(m, "access_token") == "" ||
			str(m, "refresh_token") == "" || str(m, "refresh_token") == "rt-0" {
			t.Errorf("%s answered %v (expires_in must be the string \"3599\")", path, m)
		}
		// The issued token works although it is not the configured one.
		te.create("", "Authorization", "Bearer "+str(m, "access_token"))
	}
	status, m := te.fetchToken("/t2/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"s"}})
	if status != http.StatusOK || str(m, "access_token") == "" || m["refresh_token"] != nil {
		t.Errorf("client_credentials: %d %v", status, m)
	}

	for name, form := range map[string]url.Values{
		"unknown grant":   {"grant_type": {"password"}, "client_id": {"app"}},
		"no grant":        {"client_id": {"app"}},
		"no refresh":      {"grant_type": {"refresh_token"}, "client_id": {"app"}},
		"no client":       {"grant_type": {"refresh_token"}, "refresh_token": {"rt"}},
		"no secret (cc)":  {"grant_type": {"client_credentials"}, "client_id": {"app"}},
		"empty form body": {},
	} {
		status, m := te.fetchToken("/contoso/oauth2/token", form)
		if status != http.StatusBadRequest || m["error"] != "invalid_grant" || str(m, "error_description") == "" {
			t.Errorf("%s: %d %v", name, status, m)
		}
	}
	resp, err := te.hc.Get(te.url + "/contoso/oauth2/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("GET on the token endpoint succeeded")
	}
}

func TestIdempotencyIsPerTenant(t *testing.T) {
	te := newEnv(t, Config{})
	_, m := te.fetchToken("/contoso/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r"}, "client_id": {"a"}})
	a := te.create("", "MS-RequestId", "shared")
	b := te.create("", "MS-RequestId", "shared", "Authorization", "Bearer "+str(m, "access_token"))
	if str(a, "id") == str(b, "id") || te.em.Stats().Created != 2 {
		t.Errorf("two tenants with one MS-RequestId got %s and %s", str(a, "id"), str(b, "id"))
	}
	if str(a, "organization", "id") == str(b, "organization", "id") {
		t.Error("both tenants file as the same organization")
	}
}

func TestTokenExpiryCalls(t *testing.T) {
	te := newEnv(t, Config{Token: testToken, TokenExpiryCalls: 3})
	for i := range 3 {
		if resp, b := te.do(http.MethodGet, "/v1/servicerequests", ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	resp, b := te.do(http.MethodGet, "/v1/servicerequests", "")
	m := wantFault(t, resp, b, http.StatusUnauthorized, "800001")
	if !strings.Contains(str(m, "description"), "expired") {
		t.Errorf("description %q does not say the token expired", str(m, "description"))
	}
	// A fresh token from the OAuth endpoint gets its own three calls.
	_, tok := te.fetchToken("/default/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r"}, "client_id": {"a"}})
	auth := "Bearer " + str(tok, "access_token")
	for i := range 4 {
		resp, _ := te.do(http.MethodGet, "/v1/servicerequests", "", "Authorization", auth)
		if want := map[bool]int{true: 200, false: 401}[i < 3]; resp.StatusCode != want {
			t.Errorf("fresh token call %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

func TestQuota(t *testing.T) {
	te := newEnv(t, Config{Quota: 2, Burst: 3})
	throttled := 0
	for i := range 10 {
		resp, b := te.do(http.MethodGet, "/v1/servicerequests/supporttopics", "")
		switch resp.StatusCode {
		case http.StatusOK:
			if throttled > 0 {
				t.Errorf("call %d passed after the bucket emptied", i)
			}
		case http.StatusTooManyRequests:
			throttled++
			ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || ra < 1 {
				t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
			var g struct {
				StatusCode int    `json:"statusCode"`
				Message    string `json:"message"`
			}
			if err := json.Unmarshal(b, &g); err != nil || g.StatusCode != 429 ||
				g.Message != "Rate limit is exceeded. Try again in "+strconv.Itoa(ra)+" seconds." {
				t.Errorf("gateway body %s", b)
			}
			if strings.Contains(string(b), `"code"`) {
				t.Errorf("429 carries an ApiFault: %s", b)
			}
		default:
			t.Fatalf("status %d %s", resp.StatusCode, b)
		}
	}
	if throttled < 5 || te.em.Stats().Throttled != int64(throttled) {
		t.Errorf("%d throttled, stats %+v", throttled, te.em.Stats())
	}
	// The bucket is per tenant.
	_, tok := te.fetchToken("/other/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r"}, "client_id": {"a"}})
	resp, _ := te.do(http.MethodGet, "/v1/servicerequests/supporttopics", "", "Authorization", "Bearer "+str(tok, "access_token"))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("another tenant was throttled: %d", resp.StatusCode)
	}
}
