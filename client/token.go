package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Renewer is a TokenSource that can renew its token.
type Renewer interface {
	TokenSource
	// Refused tells the source that token was refused as expired; the next
	// Token call renews it, once for all callers.
	Refused(token string)
}

// Defaults of the renewing token sources.
const (
	DefaultTokenMargin         = 30 * time.Second // a token is renewed this long before it expires
	DefaultTokenCommandTimeout = 2 * time.Minute  // limit of one run of a token command
)

// credentialError is a token source's failure that a repeat cannot fix: the
// credential itself is refused or unusable. It wraps ErrNoToken, so that
// ClassOf reports ClassAuth. Its message names no secret.
type credentialError struct{ msg string }

func (e *credentialError) Error() string { return e.msg }
func (e *credentialError) Unwrap() error { return ErrNoToken }

// issued is a token and how long to use it.
type issued struct {
	token string
	// renewAt is when to renew it (expiry less the margin); expires is
	// when it stops working. Both zero: use it until refused.
	renewAt, expires time.Time
}

// flight is one renewal under way; the callers that need its token wait
// for done.
type flight struct {
	done  chan struct{}
	token string
	err   error
	// abandoned reports that the renewal failed because the context of
	// the caller running it ended: the others try again.
	abandoned bool
}

// renewal caches a token and renews it, once for all callers, when it is
// due or was refused. It is the core of CommandToken and RefreshToken.
type renewal struct {
	fetch  func(ctx context.Context) (issued, error)
	sticky func(err error) bool // a failure that every later call returns as is; nil: none
	now    func() time.Time

	mu      sync.Mutex
	cur     issued
	have    bool // cur holds a token
	refused bool // cur.token was refused
	flight  *flight
	failed  error // a sticky failure
}

// Token returns the cached token while it is good, and otherwise renews
// it: the first caller runs fetch under its ctx while the others wait for
// its outcome or for their own ctx to end. While a renewal made ahead of
// expiry runs, the others keep using the current token.
func (r *renewal) Token(ctx context.Context) (string, error) {
	for {
		r.mu.Lock()
		if r.failed != nil {
			err := r.failed
			r.mu.Unlock()
			return "", err
		}
		now := r.now()
		if r.have && !r.refused {
			if r.cur.renewAt.IsZero() || now.Before(r.cur.renewAt) ||
				r.flight != nil && now.Before(r.cur.expires) {
				tok := r.cur.token
				r.mu.Unlock()
				return tok, nil
			}
		}
		f := r.flight
		lead := f == nil
		if lead {
			f = &flight{done: make(chan struct{})}
			r.flight = f
		}
		r.mu.Unlock()
		if lead {
			r.run(ctx, f)
		} else {
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		if f.abandoned && ctx.Err() == nil {
			continue // the caller that ran it went away; run it again
		}
		return f.token, f.err
	}
}

// run renews the token for flight f and releases its waiters, even if
// fetch panics. A renewal ahead of expiry that fails for a reason other
// than the credential leaves the current token in use until it expires.
func (r *renewal) run(ctx context.Context, f *flight) {
	var got issued
	err := errors.New("the token source panicked") // what the waiters get if fetch panics
	defer func() { r.land(ctx, f, got, err) }()
	got, err = r.fetch(ctx)
}

func (r *renewal) land(ctx context.Context, f *flight, got issued, err error) {
	r.mu.Lock()
	if err == nil {
		r.cur, r.have, r.refused = got, true, false
		f.token = got.token
	} else {
		var te *tokenError
		if !errors.As(err, &te) {
			err = &tokenError{err} // ClassOf: ClassAuth for a credentialError, else ClassTransient
		}
		f.err = err
		f.abandoned = ctx.Err() != nil
		switch {
		case f.abandoned:
		case r.sticky != nil && r.sticky(err):
			r.failed = err
		case r.have && !r.refused && r.now().Before(r.cur.expires):
			f.token, f.err = r.cur.token, nil // still good: the next call tries again
		}
	}
	r.flight = nil
	r.mu.Unlock()
	close(f.done)
}

// Refused marks token as refused if it is the current one; a token that
// was already replaced changes nothing.
func (r *renewal) Refused(token string) {
	r.mu.Lock()
	if r.have && r.cur.token == token {
		r.refused = true
	}
	r.mu.Unlock()
}

// lifetime returns the issued token for tok, expiring at expires (zero:
// no expiry), to be renewed margin before it, or at expiry when the
// margin is longer than the time left at now.
func lifetime(tok string, expires, now time.Time, margin time.Duration) issued {
	if expires.IsZero() {
		return issued{token: tok}
	}
	renewAt := expires.Add(-margin)
	if !renewAt.After(now) {
		renewAt = expires
	}
	return issued{token: tok, renewAt: renewAt, expires: expires}
}

// CommandTokenOptions configures a CommandToken. Zero values select the
// defaults.
type CommandTokenOptions struct {
	Timeout time.Duration // limit of one run (default DefaultTokenCommandTimeout)
	Margin  time.Duration // renew this long before the token expires (default DefaultTokenMargin)
}

// CommandToken is a Renewer whose token is printed by a shell command, such
// as a wrapper around a credential helper. The command runs with `sh -c`,
// an empty standard input and the process's environment. Its standard
// output is either the bare token, on one line, or a JSON object with
// access_token (or accessToken) and optionally expires_in (seconds from
// now) or expires_on (Unix seconds), each a number or a string. The token
// is used until its expiry less the margin or, without an expiry, until
// the service refuses it; then the command runs again, once for all
// callers.
//
// A command that fails (non-zero exit, timeout, unusable output) gives an
// error wrapping ErrNoToken, so ClassOf reports ClassAuth: without a token
// no row can be sent. The error shows the end of the command's standard
// error, never its standard output nor the command line. It is safe for
// concurrent use.
type CommandToken struct {
	command   string
	timeout   time.Duration
	margin    time.Duration
	waitDelay time.Duration // after a kill, how long to wait for the output pipes to close
	runs      atomic.Int64
	r         renewal
}

// NewCommandToken returns a CommandToken that runs command.
func NewCommandToken(command string, opts CommandTokenOptions) *CommandToken {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTokenCommandTimeout
	}
	if opts.Margin <= 0 {
		opts.Margin = DefaultTokenMargin
	}
	c := &CommandToken{command: command, timeout: opts.Timeout, margin: opts.Margin, waitDelay: commandWaitDelay}
	c.r = renewal{fetch: c.run, now: time.Now}
	return c
}

// Token returns the current token, running the command when there is none
// yet, it is due for renewal or it was refused.
func (c *CommandToken) Token(ctx context.Context) (string, error) { return c.r.Token(ctx) }

// Refused tells c that token was refused; the next Token call runs the
// command again, unless token was already replaced.
func (c *CommandToken) Refused(token string) { c.r.Refused(token) }

// Runs returns how many times the command was started.
func (c *CommandToken) Runs() int64 { return c.runs.Load() }

const (
	maxCommandOutput = 64 << 10
	commandWaitDelay = 5 * time.Second
	maxStderrExcerpt = 300
)

// run runs the command once.
func (c *CommandToken) run(ctx context.Context) (issued, error) {
	if strings.TrimSpace(c.command) == "" {
		return issued{}, &credentialError{"token command: no command given"}
	}
	c.runs.Add(1)
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := c.r.now()
	cmd := exec.CommandContext(rctx, "sh", "-c", c.command)
	cmd.WaitDelay = c.waitDelay // a child of sh may hold the output open after sh is killed
	var stdout, stderr capped
	stdout.max, stderr.max = maxCommandOutput, maxCommandOutput
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := stdout.buf.Bytes()
	if ctx.Err() != nil {
		return issued{}, fmt.Errorf("token command: %w", ctx.Err())
	}
	if rctx.Err() != nil {
		return issued{}, &credentialError{fmt.Sprintf("token command: no token within %s%s", c.timeout, stderrExcerpt(stderr.buf.Bytes(), out))}
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return issued{}, &credentialError{fmt.Sprintf("token command failed (%s)%s", ee.ProcessState, stderrExcerpt(stderr.buf.Bytes(), out))}
		}
		// sh could not be started, or an output pipe failed: nothing
		// here holds the output.
		return issued{}, &credentialError{fmt.Sprintf("token command: %v", err)}
	}
	if stdout.over {
		return issued{}, &credentialError{fmt.Sprintf("token command: its output exceeds %d bytes", maxCommandOutput)}
	}
	tok, expires, err := parseCommandOutput(out, start)
	if err != nil {
		return issued{}, &credentialError{"token command: " + err.Error() + stderrExcerpt(stderr.buf.Bytes(), out)}
	}
	if !expires.IsZero() && !expires.After(c.r.now()) {
		return issued{}, &credentialError{fmt.Sprintf("token command: the token it printed expired at %s", expires.UTC().Format(time.RFC3339))}
	}
	return lifetime(tok, expires, start, c.margin), nil
}

// parseCommandOutput reads a token command's output: a bare token or a JSON
// object. Expiry times count from start. Its errors never quote out.
func parseCommandOutput(out []byte, start time.Time) (string, time.Time, error) {
	out = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(out), utf8BOM))
	if len(out) == 0 {
		return "", time.Time{}, errors.New("it printed nothing")
	}
	if out[0] != '{' {
		tok := string(out)
		if strings.ContainsAny(tok, "\r\n") {
			return "", time.Time{}, errors.New("it printed more than one line; want the token alone, or a JSON object with access_token")
		}
		if !headerSafe(tok) {
			return "", time.Time{}, errors.New("it printed characters a bearer token cannot hold")
		}
		return tok, time.Time{}, nil
	}
	var v struct {
		AccessToken  string  `json:"access_token"`
		AccessToken2 string  `json:"accessToken"` // the Azure CLI's name
		ExpiresIn    flexInt `json:"expires_in"`
		ExpiresOn    flexInt `json:"expires_on"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return "", time.Time{}, errors.New("its output starts with { but is not a JSON object")
	}
	tok := v.AccessToken
	if tok == "" {
		tok = v.AccessToken2
	}
	switch {
	case tok == "":
		return "", time.Time{}, errors.New("its JSON output has no access_token")
	case !headerSafe(tok):
		return "", time.Time{}, errors.New("its access_token holds characters a bearer token cannot hold")
	}
	var expires time.Time
	if v.ExpiresIn.set {
		expires = start.Add(v.ExpiresIn.seconds())
	}
	if v.ExpiresOn.set {
		if on := time.Unix(v.ExpiresOn.n, 0); expires.IsZero() || on.Before(expires) {
			expires = on
		}
	}
	return tok, expires, nil
}

// headerSafe reports whether tok can follow "Bearer " in a header.
func headerSafe(tok string) bool {
	return tok != "" && !strings.ContainsFunc(tok, func(r rune) bool { return r < 0x21 || r > 0x7e })
}

// flexInt is a JSON number of seconds sent as a number or as a string, as
// identity platforms send expires_in. null, "" and anything else that is
// not a non-negative number leave it unset: a token without a known expiry
// is used until it is refused.
type flexInt struct {
	n   int64
	set bool
}

// maxSeconds bounds a decoded number of seconds (about 35 000 years), to
// keep time arithmetic from overflowing.
const maxSeconds = 1 << 40

func (f *flexInt) UnmarshalJSON(b []byte) error {
	*f = flexInt{}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) != nil {
			return nil
		}
		b = []byte(strings.TrimSpace(s))
	}
	var num json.Number
	if len(b) == 0 || b[0] == '"' || json.Unmarshal(b, &num) != nil {
		return nil
	}
	if n, err := num.Float64(); err == nil && n >= 0 {
		f.n, f.set = int64(min(n, maxSeconds)), true
	}
	return nil
}

// seconds returns f as a duration.
func (f flexInt) seconds() time.Duration { return time.Duration(f.n) * time.Second }

// capped is an io.Writer that keeps the first max bytes and drops the rest.
type capped struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room < len(p) {
		c.over = true
		c.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	c.buf.Write(p)
	return len(p), nil
}

// stderrExcerpt returns ": " and the end of a command's standard error on
// one line, with anything it shares with the standard output (the token,
// should the command echo it) and bearer tokens hidden; "" when it said
// nothing.
func stderrExcerpt(stderr, stdout []byte) string {
	s := string(stderr)
	for _, field := range strings.FieldsFunc(string(stdout), func(r rune) bool {
		return r <= ' ' || strings.ContainsRune(`"',:;{}[]()=`, r)
	}) {
		if len(field) >= 8 {
			s = strings.ReplaceAll(s, field, "[redacted]")
		}
	}
	s = redactBearer(oneLine(s))
	if s == "" {
		return ""
	}
	if len(s) > maxStderrExcerpt {
		cut := len(s) - maxStderrExcerpt
		for cut < len(s) && !utf8.RuneStart(s[cut]) {
			cut++
		}
		s = "…" + s[cut:]
	}
	return ": " + s
}
