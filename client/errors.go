package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrNoToken reports that a TokenSource has no token to offer. A TokenSource
// that cannot obtain a token because its credential was refused should wrap
// it, so that ClassOf reports the failure as ClassAuth.
var ErrNoToken = errors.New("no bearer token available")

// APIError is a non-2xx answer of the service. It is decoded from any of the
// service's error shapes (ApiFault, gateway throttle body, RFC 7807 problem
// details) or, failing those, from the status line and the start of a text
// or HTML body.
type APIError struct {
	StatusCode    int           // HTTP status code
	Code          string        // service error code; a numeric code as its decimal string
	Description   string        // what the service said, on one line
	Source        string        // the service component that answered, e.g. PartnerFD
	RetryAfter    time.Duration // the Retry-After header, when sent
	RequestID     string        // MS-RequestId of the request
	CorrelationID string        // MS-CorrelationId of the last attempt
}

// Error returns a one-line message such as
// `HTTP 400 (code 3000): The value of property 'supportTopicId' is not valid. [MS-RequestId 55f8…]`.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " (code %s)", e.Code)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [MS-RequestId %s]", e.RequestID)
	}
	return b.String()
}

// Class is the report's error_class from ../shared/cli.md.
type Class string

// The error classes ClassOf returns.
const (
	ClassRejected  Class = "rejected"  // the service refused the request (4xx other than 401, 403, 408, 429; 501)
	ClassThrottled Class = "throttled" // 429 after the retries ran out
	ClassTransient Class = "transient" // failed before anything could take effect; trying later may work
	ClassAuth      Class = "auth"      // 401, 403, or no usable token
	ClassAmbiguous Class = "ambiguous" // the request may have taken effect: 408, 5xx, a network error after sending, an unreadable 2xx
)

// ClassOf classifies an error returned by this package's Client methods:
//
//   - 401 and 403, and a TokenSource error wrapping ErrNoToken (from a
//     call, or as returned by the TokenSource): ClassAuth;
//   - 429: ClassThrottled;
//   - 501 and every other 4xx: ClassRejected, as is an invalid argument;
//   - 408, other 5xx and other non-2xx statuses, a network error after the
//     request may have been sent, and a 2xx whose body cannot be read or
//     decoded: ClassAmbiguous, since it cannot be told whether the request
//     took effect;
//   - a failure known to happen before anything was sent (DNS failure,
//     refused connection, TLS certificate error, TokenSource error, the
//     caller's context ending before a request went out): ClassTransient.
//
// A call whose earlier attempt may have taken effect (it got a 408 or 5xx, or
// failed after sending) and whose last attempt was throttled or never sent is
// ClassAmbiguous too. Errors not produced by this package are ClassAmbiguous
// unless they match one of the cases above; nil has no class ("").
// ClassOf uses errors.As and errors.Is only.
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	c := baseClass(err)
	var ce *callError
	if (c == ClassTransient || c == ClassThrottled) && errors.As(err, &ce) && ce.effect {
		return ClassAmbiguous
	}
	return c
}

func baseClass(err error) Class {
	var te *tokenError
	if errors.As(err, &te) {
		if errors.Is(te.err, ErrNoToken) {
			return ClassAuth
		}
		return ClassTransient
	}
	if errors.Is(err, ErrNoToken) { // a TokenSource's own error, not from a call
		return ClassAuth
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return classOfStatus(ae.StatusCode)
	}
	var ie *inputError
	if errors.As(err, &ie) {
		return ClassRejected
	}
	var at *attemptTimeoutError
	var re *responseError
	switch {
	case notSent(err):
		return ClassTransient
	case errors.As(err, &at), errors.As(err, &re):
		return ClassAmbiguous
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller's context ended; whether an attempt was under way when
		// it did is recorded by the callError that wraps this.
		var ce *callError
		if errors.As(err, &ce) {
			return ClassTransient
		}
		return ClassAmbiguous
	}
	return ClassAmbiguous
}

func classOfStatus(status int) Class {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ClassAuth
	case status == http.StatusTooManyRequests:
		return ClassThrottled
	case mayHaveTakenEffect(status):
		return ClassAmbiguous
	case status >= 400:
		return ClassRejected
	}
	return ClassAmbiguous
}

// mayHaveTakenEffect reports whether a response with this status leaves
// open whether the request took effect: 408, and 5xx other than 501
// (which says the method was never carried out). Such requests are
// retried with the same MS-RequestId and, when retries run out, the row's
// outcome is ambiguous.
func mayHaveTakenEffect(status int) bool {
	return status == http.StatusRequestTimeout || status >= 500 && status != http.StatusNotImplemented
}

// notSent reports whether err is known to have happened before any byte of
// the request reached the server.
func notSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect") {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	// Certificate checks run in the TLS handshake, before the request.
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalidErr) {
		return true
	}
	var le *limitError
	var te *tokenError
	return errors.As(err, &le) || errors.As(err, &te)
}

// callError is what every Client method returns on failure: the operation,
// and whether an attempt may have taken effect on the server.
type callError struct {
	op     string
	effect bool // an attempt got a 408 or 5xx, or failed after it may have been sent
	err    error
}

func (e *callError) Error() string { return e.op + ": " + e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// tokenError is a TokenSource failure; nothing was sent.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "bearer token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// limitError is a rate-limiter wait that failed because the caller's
// deadline would pass first; nothing was sent.
type limitError struct{ err error }

func (e *limitError) Error() string { return "rate limit: " + e.err.Error() }
func (e *limitError) Unwrap() error { return e.err }

// attemptTimeoutError is an attempt that ran out of Config.AttemptTimeout.
type attemptTimeoutError struct {
	after time.Duration
	err   error
}

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("attempt timed out after %s: %v", e.after, e.err)
}
func (e *attemptTimeoutError) Unwrap() error { return e.err }

// responseError is a response that arrived but could not be used: a body
// too large or undecodable, or a create answer without an id.
type responseError struct {
	status int
	err    error
}

func (e *responseError) Error() string {
	return fmt.Sprintf("HTTP %d response unusable: %v", e.status, e.err)
}
func (e *responseError) Unwrap() error { return e.err }

// bodyError is a response whose body could not be read in full: the
// status line arrived, the rest may not have.
type bodyError struct {
	status int
	err    error
}

func (e *bodyError) Error() string {
	return fmt.Sprintf("read HTTP %d response body: %v", e.status, e.err)
}
func (e *bodyError) Unwrap() error { return e.err }

// inputError is an invalid argument; nothing was sent.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

const (
	maxDescription = 1024 // ApiFault descriptions are at most 1024 characters
	maxTextExcerpt = 200  // bytes kept of a text or HTML body
)

// newAPIError decodes a non-2xx response whose body has been read into
// body. It never fails: unknown shapes fall back to the reason phrase or an
// excerpt of the body. requestID is the MS-RequestId that was sent.
func newAPIError(resp *http.Response, body []byte, requestID string, now time.Time) *APIError {
	e := &APIError{
		StatusCode:    resp.StatusCode,
		RequestID:     resp.Header.Get("MS-RequestId"),
		CorrelationID: resp.Header.Get("MS-CorrelationId"),
	}
	if e.RequestID == "" {
		e.RequestID = requestID
	}
	if e.CorrelationID == "" && resp.Request != nil {
		e.CorrelationID = resp.Request.Header.Get("MS-CorrelationId")
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	body = bytes.TrimSpace(bytes.TrimPrefix(body, utf8BOM))
	if !decodeErrorJSON(e, body) {
		e.Description = textExcerpt(body, looksHTML(resp.Header.Get("Content-Type"), body))
	}
	if e.Description == "" {
		e.Description = http.StatusText(resp.StatusCode)
	}
	e.Description = redactBearer(clip(oneLine(e.Description), maxDescription))
	return e
}

// decodeErrorJSON fills e from a JSON error object and reports whether body
// was one with a field it knows.
func decodeErrorJSON(e *APIError, body []byte) bool {
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return false
	}
	f := make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		f[strings.ToLower(k)] = v // the service's names are case-insensitive
	}
	switch {
	case jsonText(f["code"]) != "" || jsonText(f["description"]) != "": // ApiFault
		e.Code = jsonText(f["code"])
		e.Description = jsonText(f["description"])
		if e.Description == "" {
			e.Description = jsonText(f["message"])
		}
		e.Source = jsonText(f["source"])
		return true
	case len(f["error"]) > 0 && f["error"][0] == '{': // OData-style {"error":{"code","message"}}
		var inner map[string]json.RawMessage
		if json.Unmarshal(f["error"], &inner) != nil {
			return false
		}
		g := make(map[string]json.RawMessage, len(inner))
		for k, v := range inner {
			g[strings.ToLower(k)] = v
		}
		e.Code, e.Description = jsonText(g["code"]), jsonText(g["message"])
		return e.Code != "" || e.Description != ""
	case jsonText(f["title"]) != "" || jsonText(f["detail"]) != "": // RFC 7807
		title, detail := jsonText(f["title"]), jsonText(f["detail"])
		switch {
		case detail == "":
			e.Description = title
		case title == "" || strings.Contains(detail, title):
			e.Description = detail
		default:
			e.Description = title + ": " + detail
		}
		return true
	case jsonText(f["message"]) != "": // gateway {statusCode, message}
		e.Description = jsonText(f["message"])
		return true
	}
	return false
}

// jsonText returns a JSON string's value, a number's decimal text, or "".
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch {
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return ""
		}
		if i, err := n.Int64(); err == nil {
			return strconv.FormatInt(i, 10)
		}
		if f, err := n.Float64(); err == nil && f == float64(int64(f)) {
			return strconv.FormatInt(int64(f), 10)
		}
		return n.String()
	}
	return ""
}

func looksHTML(contentType string, body []byte) bool {
	return strings.Contains(strings.ToLower(contentType), "html") || (len(body) > 0 && body[0] == '<')
}

// textExcerpt returns the first maxTextExcerpt bytes of a text body, with
// markup removed from HTML and whitespace collapsed.
func textExcerpt(body []byte, html bool) string {
	s := string(body)
	if html {
		s = stripTags(s)
	}
	s = oneLine(s)
	if len(s) <= maxTextExcerpt {
		return s
	}
	return clip(s, maxTextExcerpt)
}

// stripTags drops HTML tags, comments and the content of script and style
// elements. It is meant for error pages, not for arbitrary HTML.
func stripTags(s string) string {
	var b strings.Builder
	lower := strings.ToLower(s)
	for i := 0; i < len(s); {
		if s[i] != '<' {
			b.WriteByte(s[i])
			i++
			continue
		}
		for _, skip := range []string{"script", "style"} {
			if strings.HasPrefix(lower[i+1:], skip) {
				if end := strings.Index(lower[i:], "</"+skip); end >= 0 {
					i += end + 1 // lands on "/script…>", dropped below as a tag
				}
			}
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			break
		}
		b.WriteByte(' ')
		i += end + 1
	}
	return b.String()
}

// oneLine collapses runs of whitespace and control characters into one
// space and makes s valid UTF-8.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}

// redactBearer hides anything that follows "Bearer " in s, in case a proxy
// echoes the request headers in its error page.
func redactBearer(s string) string {
	const word = "bearer "
	lower := strings.ToLower(s)
	var b strings.Builder
	for {
		i := strings.Index(lower, word)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := i + len(word)
		for j < len(s) && s[j] != ' ' && s[j] != '"' && s[j] != '\'' && s[j] != '<' && s[j] != ',' {
			j++
		}
		b.WriteString(s[:i+len(word)])
		if j > i+len(word) {
			b.WriteString("[redacted]")
		}
		s, lower = s[j:], lower[j:]
	}
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP-date.
// A date in the past gives 0.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(maxRetryAfter/time.Second)*10 {
			n = int64(maxRetryAfter/time.Second) * 10 // no overflow; callers cap it further
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}
