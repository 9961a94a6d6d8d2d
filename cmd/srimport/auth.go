package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/internal/atomicfile"
)

// cloudEndpoints are a cloud's API base URL and sign-in authority
// (partner-center-contract.md §10).
type cloudEndpoints struct {
	baseURL, authority string
}

// cloudByName returns the endpoints of a cloud that has service requests,
// or a usage error saying why it has none.
func cloudByName(name string) (cloudEndpoints, error) {
	switch strings.ToLower(name) {
	case "", "public":
		return cloudEndpoints{defaultBaseURL, "https://login.microsoftonline.com"}, nil
	case "usgov":
		return cloudEndpoints{defaultBaseURL, "https://login.microsoftonline.us"}, nil
	case "china":
		return cloudEndpoints{}, &usageError{errors.New("--cloud china: service requests are not available through the API in the 21Vianet cloud; file them in the 21Vianet-operated Partner Center")}
	case "germany":
		return cloudEndpoints{}, &usageError{errors.New("--cloud germany: the German cloud was retired; its partners use the public cloud (--cloud public)")}
	}
	return cloudEndpoints{}, &usageError{fmt.Errorf("--cloud %q: want public or usgov", name)}
}

// authOptions are the credential flags and variables of import.
type authOptions struct {
	tokenCommand     string
	token            string // $SRIMPORT_TOKEN; never printed
	cloud            string
	authority        string
	oauthVersion     string
	tenant           string // $SRIMPORT_TENANT
	clientID         string // $SRIMPORT_CLIENT_ID
	clientSecret     string // $SRIMPORT_CLIENT_SECRET; never printed
	clientSecretFile string // $SRIMPORT_CLIENT_SECRET_FILE
	refreshToken     string // $SRIMPORT_REFRESH_TOKEN; never printed
	refreshFile      string // --refresh-token-file, $SRIMPORT_REFRESH_TOKEN_FILE
}

func (o *authOptions) addFlags(cmd *cobra.Command, getenv env) {
	o.token = getenv("SRIMPORT_TOKEN")
	o.tenant = getenv("SRIMPORT_TENANT")
	o.clientID = getenv("SRIMPORT_CLIENT_ID")
	o.clientSecret = getenv("SRIMPORT_CLIENT_SECRET")
	o.clientSecretFile = getenv("SRIMPORT_CLIENT_SECRET_FILE")
	o.refreshToken = getenv("SRIMPORT_REFRESH_TOKEN")
	f := cmd.Flags()
	f.StringVar(&o.tokenCommand, "token-command", "", "command that prints a bearer token, or JSON with access_token and expires_in/expires_on;\nrun again whenever the token expires (default: the token in $SRIMPORT_TOKEN)")
	f.StringVar(&o.cloud, "cloud", envOr(getenv, "SRIMPORT_CLOUD", "public"), "public or usgov: picks the sign-in authority and API base URL ($SRIMPORT_CLOUD)")
	f.StringVar(&o.authority, "authority", getenv("SRIMPORT_AUTHORITY"), "sign-in authority for the refresh-token grant; default: the cloud's ($SRIMPORT_AUTHORITY)")
	f.StringVar(&o.oauthVersion, "oauth", envOr(getenv, "SRIMPORT_OAUTH", "v1"), "token endpoint of the refresh-token grant: v1 (resource=) or v2 (scope=) ($SRIMPORT_OAUTH)")
	f.StringVar(&o.refreshFile, "refresh-token-file", getenv("SRIMPORT_REFRESH_TOKEN_FILE"), "read the refresh token here and write a rotated one back (mode 0600) ($SRIMPORT_REFRESH_TOKEN_FILE)")
}

// check refuses credential mistakes that need no network.
func (o *authOptions) check() error {
	if _, err := cloudByName(o.cloud); err != nil {
		return err
	}
	if o.oauthVersion != "v1" && o.oauthVersion != "v2" {
		return &usageError{fmt.Errorf("--oauth %q: want v1 or v2", o.oauthVersion)}
	}
	return nil
}

// credential is a token source and how to name it in messages.
type credential struct {
	src  client.TokenSource
	what string // what to check when the service refuses it
}

// credentials picks the token source: --token-command when given (a flag
// beats the environment), else $SRIMPORT_TOKEN, else the refresh-token
// grant. No secret appears in its errors.
func (o *authOptions) credentials() (credential, error) {
	switch {
	case o.tokenCommand != "":
		return credential{client.NewCommandToken(o.tokenCommand, client.CommandTokenOptions{Timeout: tokenCommandTimeout}),
			"--token-command's token was refused although the command was run again: check that it signs in to the partner tenant as a user with the Admin agent or Helpdesk agent role"}, nil
	case o.token != "":
		return credential{client.StaticToken(o.token), "the token in $SRIMPORT_TOKEN was refused: it expired or does not belong to an App+User sign-in with an agent role; for runs that outlive a token use --token-command or the refresh-token grant (README: Authentication)"}, nil
	case o.refreshToken != "" || o.refreshFile != "":
		return o.refreshCredential()
	}
	return credential{}, &authError{errors.New("no credentials: set $SRIMPORT_TOKEN, --token-command, or $SRIMPORT_TENANT, $SRIMPORT_CLIENT_ID, $SRIMPORT_CLIENT_SECRET and $SRIMPORT_REFRESH_TOKEN; or try --sandbox")}
}

// refreshCredential builds the Secure Application Model's refresh-token
// grant.
func (o *authOptions) refreshCredential() (credential, error) {
	missing := []string{}
	if o.tenant == "" {
		missing = append(missing, "$SRIMPORT_TENANT")
	}
	if o.clientID == "" {
		missing = append(missing, "$SRIMPORT_CLIENT_ID")
	}
	secret := o.clientSecret
	if secret == "" && o.clientSecretFile != "" {
		b, err := os.ReadFile(o.clientSecretFile)
		if err != nil {
			return credential{}, &authError{fmt.Errorf("$SRIMPORT_CLIENT_SECRET_FILE: %w", err)}
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret == "" {
		missing = append(missing, "$SRIMPORT_CLIENT_SECRET (or _FILE)")
	}
	refresh := o.refreshToken
	if o.refreshFile != "" {
		b, err := os.ReadFile(o.refreshFile)
		if err != nil {
			return credential{}, &authError{fmt.Errorf("--refresh-token-file: %w", err)}
		}
		refresh = strings.TrimSpace(string(b))
		if refresh == "" {
			return credential{}, &authError{fmt.Errorf("--refresh-token-file %s is empty", o.refreshFile)}
		}
	}
	if len(missing) > 0 {
		return credential{}, &authError{fmt.Errorf("the refresh-token grant needs %s", strings.Join(missing, ", "))}
	}
	cl, err := cloudByName(o.cloud)
	if err != nil {
		return credential{}, err
	}
	authority := cl.authority
	if o.authority != "" {
		authority = o.authority
	}
	version := 1
	if o.oauthVersion == "v2" {
		version = 2
	}
	cfg := client.RefreshConfig{
		Authority: authority, Tenant: o.tenant, ClientID: o.clientID, ClientSecret: secret,
		RefreshToken: refresh, Version: version,
	}
	if o.refreshFile != "" {
		path := o.refreshFile
		cfg.OnRotate = func(token string) error { return writeSecretFile(path, token) }
	}
	src, err := client.NewRefreshToken(cfg)
	if err != nil {
		return credential{}, &authError{err}
	}
	return credential{src, fmt.Sprintf("the access token from the refresh-token grant was refused: check that $SRIMPORT_TENANT (%s) is the partner tenant and that the consented user has the Admin agent or Helpdesk agent role", o.tenant)}, nil
}

// writeSecretFile replaces path with content, atomically and with mode
// 0600.
func writeSecretFile(path, content string) error {
	if err := atomicfile.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
		return fmt.Errorf("write back the rotated refresh token: %w", err)
	}
	return nil
}

// authHint adds to a run's error what credential to check, when the
// service refused the credentials.
func authHint(err error, c credential) error {
	if err == nil || c.what == "" || client.ClassOf(err) != client.ClassAuth {
		return err
	}
	return fmt.Errorf("%w\n%s", err, c.what)
}

// tokenTimeout bounds a first token fetch.
const tokenTimeout = 3 * time.Minute

// firstToken fetches a token before anything else, so that a credential
// that cannot work stops the run before any row is read.
func firstToken(ctx context.Context, c credential) error {
	ctx, cancel := context.WithTimeout(ctx, tokenTimeout)
	defer cancel()
	if _, err := c.src.Token(ctx); err != nil {
		if errors.Is(context.Cause(ctx), errInterrupted) {
			return context.Cause(ctx)
		}
		if client.ClassOf(err) == client.ClassAuth {
			return &authError{err}
		}
		return &authError{fmt.Errorf("get a token: %w", err)}
	}
	return nil
}
