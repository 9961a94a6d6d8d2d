package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Distinctive secrets: none may appear in an error or a log line.
const (
	secretRefresh = "RT-SECRET-d41d8cd98f00b204"
	secretClient  = "CS-SECRET-9e107d9d372bb682"
	secretAccess  = "AT-SECRET-e4d909c290d0fb1c"
	secretRotated = "RT2-SECRET-45c48cce2e2d7fbd"
	secretCommand = "CMD-SECRET-6512bd43d9caa6e0"
)

var allSecrets = []string{secretRefresh, secretClient, secretAccess, secretRotated, secretCommand}

// leaks returns the secrets that text holds, plainly or form-encoded.
func leaks(text string) []string {
	var found []string
	for _, s := range allSecrets {
		if strings.Contains(text, s) || strings.Contains(text, url.QueryEscape(s)) || strings.Contains(text, s[3:]) {
			found = append(found, s)
		}
	}
	return found
}

func checkNoSecret(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	t.Logf("%s: %v", what, err)
	if got := leaks(fmt.Sprintf("%v\n%+v\n%#v\n%s", err, err, err, err)); len(got) > 0 {
		t.Errorf("%s: the error holds %v: %v", what, got, err)
	}
}

// TestTokenSourcesHideSecrets runs every error path of RefreshToken and
// CommandToken, against an endpoint that echoes what it was sent.
func TestTokenSourcesHideSecrets(t *testing.T) {
	t.Parallel()
	echo := func(status int, format string) func(url.Values, http.ResponseWriter) {
		return func(form url.Values, w http.ResponseWriter) {
			w.WriteHeader(status)
			fmt.Fprintf(w, format, form.Encode(), form.Get("refresh_token"), form.Get("client_secret"))
		}
	}
	answers := map[string]func(url.Values, http.ResponseWriter){
		"invalid_grant echoing":   echo(400, `{"error":"invalid_grant","error_description":"AADSTS70000: bad grant %s refresh %s secret %s"}`),
		"invalid_client echoing":  echo(401, `{"error":"invalid_client","error_description":"AADSTS7000215: %s %s %s","error_codes":[7000215]}`),
		"html echoing":            echo(404, `<html>%s %s %s</html>`),
		"5xx echoing":             echo(500, `{"error":"server_error","error_description":"%s %s %s"}`),
		"temporarily_unavailable": echo(400, `{"error":"temporarily_unavailable","error_description":"%s %s %s"}`),
		"not json":                echo(200, `access_token=%s&refresh=%s&secret=%s`),
		"no access token":         echo(200, `{"refresh_token":"%[2]s","note":"%[1]s %[3]s"}`),
		"access token unusable":   func(url.Values, http.ResponseWriter) {}, // replaced below
		"token type":              echo(200, `{"access_token":"`+secretAccess+`","token_type":"%[3]s"}`),
		"redirect": func(_ url.Values, w http.ResponseWriter) {
			w.Header().Set("Location", "https://elsewhere.example/?rt="+secretRefresh)
			w.WriteHeader(http.StatusTemporaryRedirect)
		},
	}
	answers["access token unusable"] = func(_ url.Values, w http.ResponseWriter) {
		fmt.Fprintf(w, `{"access_token":"%s x","refresh_token":"%s"}`, secretAccess, secretRotated)
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			ts := newTokenServer(t, func(_ int64, form url.Values, w http.ResponseWriter) { answer(form, w) })
			s := newTestRefresh(t, RefreshConfig{Authority: ts.srv.URL, Tenant: "t", ClientID: "app", ClientSecret: secretClient, RefreshToken: secretRefresh})
			_, err := s.Token(context.Background())
			checkNoSecret(t, name, err)
		})
	}

	t.Run("after rotation", func(t *testing.T) {
		ts := newTokenServer(t, func(n int64, form url.Values, w http.ResponseWriter) {
			if n == 1 {
				fmt.Fprintf(w, `{"access_token":"%s","refresh_token":"%s","expires_in":"3599"}`, secretAccess, secretRotated)
				return
			}
			echo(400, `{"error":"invalid_grant","error_description":"%s %s %s `+secretAccess+`"}`)(form, w)
		})
		s := newTestRefresh(t, RefreshConfig{Authority: ts.srv.URL, Tenant: "t", ClientID: "app", ClientSecret: secretClient, RefreshToken: secretRefresh,
			OnRotate: func(rt string) error { return fmt.Errorf("cannot save %s", rt) }})
		if _, err := s.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkNoSecret(t, "OnRotate", s.RotateErr())
		s.Refused(secretAccess)
		_, err := s.Token(context.Background())
		checkNoSecret(t, "the grant after rotation", err)
	})

	t.Run("network", func(t *testing.T) {
		ts := newTokenServer(t, okAnswer)
		ts.srv.Close()
		s := newTestRefresh(t, RefreshConfig{Authority: ts.srv.URL + "/", Tenant: "t", ClientID: "app", ClientSecret: secretClient, RefreshToken: secretRefresh})
		_, err := s.Token(context.Background())
		checkNoSecret(t, "closed endpoint", err)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.Refused("x")
		_, err = s.Token(ctx)
		checkNoSecret(t, "cancelled", err)
	})

	t.Run("config", func(t *testing.T) {
		for _, cfg := range []RefreshConfig{
			{Authority: "https://u:" + secretClient + "@login.example", Tenant: "t", ClientID: "c", ClientSecret: secretClient, RefreshToken: secretRefresh},
			{Authority: "https://login.example/?s=" + secretClient, Tenant: "t", ClientID: "c", ClientSecret: secretClient, RefreshToken: secretRefresh},
			{Authority: "https://login.example", ClientID: "c", ClientSecret: secretClient, RefreshToken: secretRefresh},
			{Authority: "https://login.example", Tenant: "t", ClientID: "c", ClientSecret: secretClient, RefreshToken: secretRefresh, Version: 9},
		} {
			_, err := NewRefreshToken(cfg)
			checkNoSecret(t, "config", err)
		}
	})

	commands := map[string]string{
		"exit status, stderr echoes stdout": `echo ` + secretCommand + `; echo "failed for ` + secretCommand + `" >&2; exit 1`,
		"bearer on stderr":                  `echo "sent Authorization: Bearer ` + secretCommand + `" >&2; exit 1`,
		"several lines":                     `echo ` + secretCommand + `; echo ` + secretCommand,
		"json without token":                `echo '{"token":"` + secretCommand + `"}'`,
		"bad characters":                    `printf '` + secretCommand + `\001\n'`,
		"expired":                           `echo '{"access_token":"` + secretCommand + `","expires_on":"5"}'`,
		"bad json":                          `echo '{"access_token":"` + secretCommand + `"'`,
		"secret in the command line":        `SECRET=` + secretClient + `; exit 4`,
		"timeout":                           `echo ` + secretCommand + `; sleep 20`,
	}
	for name, command := range commands {
		t.Run("command "+name, func(t *testing.T) {
			c := NewCommandToken(command, CommandTokenOptions{Timeout: 300 * time.Millisecond})
			c.waitDelay = 100 * time.Millisecond
			_, err := c.Token(context.Background())
			checkNoSecret(t, name, err)
		})
	}
}

// TestRenewalLogsHideSecrets: a client renewing through refusals, with a
// Debug log, never logs or returns a secret.
func TestRenewalLogsHideSecrets(t *testing.T) {
	t.Parallel()
	var api *httptest.Server
	grants := 0
	mux := http.NewServeMux()
	mux.HandleFunc("POST /t/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		grants++ // one grant at a time: renewals do not overlap
		if grants <= 2 {
			fmt.Fprintf(w, `{"access_token":"%s-%d","refresh_token":"%s-%d","expires_in":"3599"}`, secretAccess, grants, secretRotated, grants)
			return
		}
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"AADSTS50173: revoked %s"}`, r.PostForm.Encode())
	})
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"code":800001,"description":"expired: %s %s"}`, r.Header.Get("Authorization"), body)
	})
	api = httptest.NewServer(mux)
	t.Cleanup(api.Close)
	src, err := NewRefreshToken(RefreshConfig{Authority: api.URL, Tenant: "t", ClientID: "app", ClientSecret: secretClient, RefreshToken: secretRefresh,
		OnRotate: func(string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	c, logs := newTestClient(t, api.URL, func(c *Config) { c.Token = src })
	for i := range 3 {
		_, err := c.Create(context.Background(), "en-US", sampleSR(), fmt.Sprint("rid-", i))
		if ClassOf(err) != ClassAuth {
			t.Errorf("call %d: %v (class %s)", i, err, ClassOf(err))
		}
		checkNoSecret(t, fmt.Sprint("call ", i), err)
	}
	if grants != 3 {
		t.Errorf("%d grants, want 3", grants)
	}
	if !strings.Contains(logs.String(), "http attempt") {
		t.Errorf("nothing logged: %q", logs)
	}
	if got := leaks(logs.String()); len(got) > 0 {
		t.Errorf("the log holds %v:\n%s", got, logs)
	}
}
