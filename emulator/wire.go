package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/srimport/srimport/wire"
)

// Header keys in canonical form, so that writing them allocates nothing
// and http.Header.Get finds them (the wire is case-insensitive).
const (
	hdrContentType   = "Content-Type"
	hdrContentLength = "Content-Length"
	hdrRequestID     = "Ms-Requestid"
	hdrCorrelationID = "Ms-Correlationid"
	hdrCV            = "Ms-Cv"
	hdrServerID      = "Ms-Serverid"
	hdrLocale        = "X-Locale"
	hdrRetryAfter    = "Retry-After"
	contentTypeJSON  = "application/json; charset=utf-8"
)

// ApiFault codes used by the emulator (partner-center-contract.md §8).
const (
	codeNotFound     = 1000
	codeInvalidProp  = 3000
	codeUnauthorized = 800001
	codeInvalidInput = 800002
	codeUnexpected   = 800003
	maxFaultDesc     = 1024
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// call is one API request being answered.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	reqID  string // MS-RequestId, received or generated
	tenant string // set by authentication
	who    *identity
}

// newCall reads the request's identifying headers and sets the headers
// every response carries.
func (e *Emulator) newCall(w http.ResponseWriter, r *http.Request) *call {
	c := &call{w: w, r: r, reqID: r.Header.Get("MS-RequestId")}
	if c.reqID == "" {
		c.reqID = uuid.NewString()
	}
	corr := r.Header.Get("MS-CorrelationId")
	if corr == "" {
		corr = uuid.NewString()
	}
	loc := r.Header.Get("X-Locale")
	if loc == "" {
		loc = "en-US"
	}
	h := w.Header()
	h[hdrContentType] = []string{contentTypeJSON}
	h[hdrRequestID] = []string{c.reqID}
	h[hdrCorrelationID] = []string{corr}
	h[hdrCV] = []string{e.cvPrefix + strconv.FormatUint(e.cvSeq.Add(1), 36) + ".0"}
	h[hdrServerID] = []string{e.serverID}
	h[hdrLocale] = []string{loc}
	return c
}

// send writes status and a JSON body, with the byte-order mark when
// configured. A nil body sends no body (204).
func (e *Emulator) send(c *call, status int, body []byte) {
	h := c.w.Header()
	if body == nil {
		delete(h, hdrContentType)
		c.w.WriteHeader(status)
		return
	}
	n := len(body)
	if e.cfg.BOM {
		n += len(bom)
	}
	h[hdrContentLength] = []string{strconv.Itoa(n)}
	c.w.WriteHeader(status)
	if e.cfg.BOM {
		_, _ = c.w.Write(bom)
	}
	_, _ = c.w.Write(body)
}

// apiFault is the classic Partner Center error body.
type apiFault struct {
	Code        any      `json:"code"`
	Description string   `json:"description"`
	Data        []string `json:"data"`
	Source      string   `json:"source"`
}

// faultBody renders an ApiFault; description is cut to the documented
// 1024 characters.
func (e *Emulator) faultBody(code int, description string) []byte {
	f := apiFault{Code: strconv.Itoa(code), Description: truncate(description, maxFaultDesc), Data: []string{}, Source: "PartnerFD"}
	if e.cfg.NumericCodes {
		f.Code = code
	}
	b, _ := json.Marshal(f) // cannot fail: strings and ints only
	return b
}

// fail answers with an ApiFault and counts it.
func (e *Emulator) fail(c *call, status, code int, description string) {
	switch {
	case status == http.StatusUnauthorized:
		e.stats.unauthorized.Add(1)
	case status >= 400 && status < 500:
		e.stats.rejected.Add(1)
	}
	e.send(c, status, e.faultBody(code, description))
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	// Drop a rune the cut split in two.
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				s = s[:i]
			}
			break
		}
	}
	return s
}

// quote returns s quoted for an error message, shortened if long.
func quote(s string) string {
	if len(s) > 64 {
		s = truncate(s, 61) + "..."
	}
	return strconv.Quote(s)
}

// wireTime renders a timestamp the way the configured service does: RFC
// 3339 UTC with Z (or without any zone), the sentinel when unset.
type wireTime struct {
	t        time.Time
	zoneless bool
}

const zonelessLayout = "2006-01-02T15:04:05.999999999"

// MarshalText implements encoding.TextMarshaler.
func (t wireTime) MarshalText() ([]byte, error) {
	if t.t.IsZero() {
		return []byte(wire.Unset), nil
	}
	layout := time.RFC3339Nano
	if t.zoneless {
		layout = zonelessLayout
	}
	return t.t.UTC().AppendFormat(make([]byte, 0, len(time.RFC3339Nano)), layout), nil
}

// The emulator renders every response body with the types below, whose
// JSON names are written from partner-center-contract.md (§§2–5), not with
// package wire's types: a wrong tag in wire then shows up as a mismatch
// between client and emulator instead of agreeing with itself. Only the
// fields the emulator sends are declared (it never sends an etag, file
// links or link headers).

// wireAttributes is a resource's attributes (contract §1).
type wireAttributes struct {
	ObjectType string `json:"objectType"`
}

// wireOrg is an Organization (contract §3).
type wireOrg struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

// wireContact is a Contact (contract §3).
type wireContact struct {
	ContactID    string   `json:"contactId,omitempty"`
	FirstName    string   `json:"firstName,omitempty"`
	LastName     string   `json:"lastName,omitempty"`
	Email        string   `json:"email,omitempty"`
	PhoneNumber  string   `json:"phoneNumber,omitempty"`
	Organization *wireOrg `json:"organization,omitempty"`
}

// wireNote is a Note (contract §3); the service stamps author and date.
type wireNote struct {
	CreatedByName string   `json:"createdByName"`
	CreatedDate   wireTime `json:"createdDate"`
	Text          string   `json:"text"`
}

// wireSR is a ServiceRequest as the service sends it (contract §2): every
// date present (the sentinel when unset), status and severity always named,
// fields in the order of the documentation's example.
type wireSR struct {
	Title            string         `json:"title"`
	Description      string         `json:"description"`
	Severity         string         `json:"severity"`
	SupportTopicID   string         `json:"supportTopicId"`
	SupportTopicName string         `json:"supportTopicName,omitempty"`
	ID               string         `json:"id"`
	Status           string         `json:"status"`
	Organization     *wireOrg       `json:"organization,omitempty"`
	PrimaryContact   *wireContact   `json:"primaryContact,omitempty"`
	LastUpdatedBy    *wireContact   `json:"lastUpdatedBy,omitempty"`
	ProductName      string         `json:"productName,omitempty"`
	ProductID        string         `json:"productId,omitempty"`
	CreatedDate      wireTime       `json:"createdDate"`
	LastModifiedDate wireTime       `json:"lastModifiedDate"`
	LastClosedDate   wireTime       `json:"lastClosedDate"`
	Notes            []wireNote     `json:"notes,omitempty"`
	CountryCode      string         `json:"countryCode,omitempty"`
	Attributes       wireAttributes `json:"attributes"`
}

// wireTopic is a SupportTopic (contract §3): the id is a JSON integer.
type wireTopic struct {
	ID          int64          `json:"id"`
	Name        string         `json:"name,omitempty"`
	Description string         `json:"description,omitempty"`
	Attributes  wireAttributes `json:"attributes"`
}

// wireLink is a collection's navigation link (contract §4). The emulator's
// links need no headers, so headers is always the empty array.
type wireLink struct {
	URI     string      `json:"uri"`
	Method  string      `json:"method"`
	Headers [0]struct{} `json:"headers"`
}

// wireLinks holds a collection's self and next links.
type wireLinks struct {
	Self *wireLink `json:"self,omitempty"`
	Next *wireLink `json:"next,omitempty"`
}

// wireCollection is the service's paged list wrapper (contract §4).
type wireCollection[T any] struct {
	TotalCount int            `json:"totalCount"`
	Items      []T            `json:"items"`
	Links      *wireLinks     `json:"links,omitempty"`
	Attributes wireAttributes `json:"attributes"`
}

// toWire converts a stored request for output. The result shares no
// memory with sr.
func (e *Emulator) toWire(sr *wire.ServiceRequest) wireSR {
	z := e.cfg.ZonelessDates
	w := wireSR{
		Title:            sr.Title,
		Description:      sr.Description,
		Severity:         sr.Severity.String(),
		SupportTopicID:   sr.SupportTopicID,
		SupportTopicName: sr.SupportTopicName,
		ID:               sr.ID,
		Status:           sr.Status.String(),
		Organization:     toWireOrg(sr.Organization),
		PrimaryContact:   toWireContact(sr.PrimaryContact),
		LastUpdatedBy:    toWireContact(sr.LastUpdatedBy),
		ProductName:      sr.ProductName,
		ProductID:        sr.ProductID,
		CreatedDate:      wireTime{sr.CreatedDate.Time, z},
		LastModifiedDate: wireTime{sr.LastModifiedDate.Time, z},
		LastClosedDate:   wireTime{sr.LastClosedDate.Time, z},
		CountryCode:      sr.CountryCode,
		Attributes:       wireAttributes{ObjectType: wire.ObjectServiceRequest},
	}
	if len(sr.Notes) > 0 {
		w.Notes = make([]wireNote, len(sr.Notes))
		for i, n := range sr.Notes {
			w.Notes[i] = wireNote{CreatedByName: n.CreatedByName, CreatedDate: wireTime{n.CreatedDate.Time, z}, Text: n.Text}
		}
	}
	return w
}

func toWireOrg(o *wire.Organization) *wireOrg {
	if o == nil {
		return nil
	}
	return &wireOrg{ID: o.ID, Name: o.Name, PhoneNumber: o.PhoneNumber}
}

func toWireContact(c *wire.Contact) *wireContact {
	if c == nil {
		return nil
	}
	return &wireContact{
		ContactID: c.ContactID, FirstName: c.FirstName, LastName: c.LastName,
		Email: c.Email, PhoneNumber: c.PhoneNumber, Organization: toWireOrg(c.Organization),
	}
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// The emulator's own types always marshal; reaching here is a bug.
		panic("emulator: marshal: " + err.Error())
	}
	return b
}
