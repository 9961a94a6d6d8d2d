package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ServiceRequest is the Partner Center ServiceRequest resource. Field names
// follow the service's camelCase responses; the service binds request
// property names case-insensitively, so the same type serves both
// directions. Server-owned fields are omitted from request bodies when unset.
type ServiceRequest struct {
	ID                      string        `json:"id,omitempty"`
	Title                   string        `json:"title,omitempty"`
	Description             string        `json:"description,omitempty"`
	Severity                Severity      `json:"severity,omitempty"`
	SupportTopicID          string        `json:"supportTopicId,omitempty"`
	SupportTopicName        string        `json:"supportTopicName,omitempty"`
	SupportTopicDescription string        `json:"supportTopicDescription,omitempty"`
	Status                  Status        `json:"status,omitempty"`
	Organization            *Organization `json:"organization,omitempty"`
	PrimaryContact          *Contact      `json:"primaryContact,omitempty"`
	LastUpdatedBy           *Contact      `json:"lastUpdatedBy,omitempty"`
	ProductName             string        `json:"productName,omitempty"`
	ProductID               string        `json:"productId,omitempty"`
	CreatedDate             Time          `json:"createdDate,omitzero"`
	LastModifiedDate        Time          `json:"lastModifiedDate,omitzero"`
	LastClosedDate          Time          `json:"lastClosedDate,omitzero"`
	FileLinks               []FileInfo    `json:"fileLinks,omitempty"`
	NewNote                 *Note         `json:"newNote,omitempty"`
	Notes                   []Note        `json:"notes,omitempty"`
	CountryCode             string        `json:"countryCode,omitempty"`
	AdditionalInfo          string        `json:"additionalInfo,omitempty"`
	CreationChannel         string        `json:"creationChannel,omitempty"`
	EmailCcList             []string      `json:"emailCcList,omitempty"`
	Attributes              *Attributes   `json:"attributes,omitempty"`
}

// Organization is the organization a service request belongs to.
type Organization struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

// Contact is a person attached to a service request (primary contact or
// last updater).
type Contact struct {
	ContactID    string        `json:"contactId,omitempty"`
	FirstName    string        `json:"firstName,omitempty"`
	LastName     string        `json:"lastName,omitempty"`
	Email        string        `json:"email,omitempty"`
	PhoneNumber  string        `json:"phoneNumber,omitempty"`
	Organization *Organization `json:"organization,omitempty"`
}

// IsZero reports whether no contact field is set.
func (c *Contact) IsZero() bool {
	return c == nil || (c.ContactID == "" && c.FirstName == "" && c.LastName == "" &&
		c.Email == "" && c.PhoneNumber == "" && c.Organization == nil)
}

// Note is one entry of a service request's note history.
type Note struct {
	CreatedByName string `json:"createdByName,omitempty"`
	CreatedDate   Time   `json:"createdDate,omitzero"`
	Text          string `json:"text,omitempty"`
}

// FileInfo is a link to a file attached to a service request (read-only).
type FileInfo struct {
	FriendlyName string `json:"friendlyName,omitempty"`
	URI          string `json:"uri,omitempty"`
}

// Attributes carries a resource's object type and optional etag.
type Attributes struct {
	ObjectType string `json:"objectType,omitempty"`
	Etag       string `json:"etag,omitempty"`
}

// SupportTopic is an entry of the support-topic list. Its integer ID, as a
// decimal string, is what ServiceRequest.SupportTopicID refers to. The id
// encodes as a JSON integer and decodes from an integer, as the contract
// documents it, or from a string of digits, as some servers send it.
type SupportTopic struct {
	ID          int64       `json:"id"`
	Name        string      `json:"name,omitempty"`
	Description string      `json:"description,omitempty"`
	Attributes  *Attributes `json:"attributes,omitempty"`
}

// UnmarshalJSON decodes a topic whose id is a JSON integer (32444671) or
// a string of decimal digits ("32444671"); a missing or null id leaves ID
// 0. Any other id, a fraction or a string that is not all digits, is an
// error.
func (t *SupportTopic) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	type plain SupportTopic
	var v struct {
		plain
		ID json.RawMessage `json:"id"` // shadows plain.ID
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	id, err := parseTopicID(v.ID)
	if err != nil {
		return err
	}
	*t = SupportTopic(v.plain)
	t.ID = id
	return nil
}

// parseTopicID reads a support-topic id given as a JSON integer or as a
// JSON string of decimal digits (spaces around them ignored).
func parseTopicID(raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	if raw[0] != '"' {
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, fmt.Errorf("support topic id %s: %w", raw, err)
		}
		return n, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("support topic id %s: %w", raw, err)
	}
	s = strings.TrimSpace(s)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("support topic id %q is not a string of decimal digits", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("support topic id %q: %w", s, err)
	}
	return n, nil
}

// Link is one navigation link of a collection.
type Link struct {
	URI     string   `json:"uri"`
	Method  string   `json:"method,omitempty"`
	Headers []string `json:"headers"`
}

// Links holds a collection's self and next links.
type Links struct {
	Self *Link `json:"self,omitempty"`
	Next *Link `json:"next,omitempty"`
}

// Collection is the service's paged list wrapper.
type Collection[T any] struct {
	TotalCount int         `json:"totalCount"`
	Items      []T         `json:"items"`
	Links      *Links      `json:"links,omitempty"`
	Attributes *Attributes `json:"attributes,omitempty"`
}

// ObjectType values of Attributes.
const (
	ObjectServiceRequest = "ServiceRequest"
	ObjectSupportTopic   = "SupportTopic"
	ObjectCollection     = "Collection"
)

// Severity is a service request's severity. It encodes as the service's
// lower snake-case string and decodes from a string in any case or an
// integer; unknown strings decode to SeverityUnknown.
type Severity int

// Severity values, numbered as the service numbers them.
const (
	SeverityUnknown Severity = iota
	SeverityCritical
	SeverityModerate
	SeverityMinimal
)

var severityNames = []string{"unknown", "critical", "moderate", "minimal"}

// String returns the wire name of s.
func (s Severity) String() string { return enumName(severityNames, int(s)) }

// ParseSeverity reads a severity name (any case, `_`, `-` and spaces
// ignored) or its number. ok is false when text names no severity.
func ParseSeverity(text string) (s Severity, ok bool) {
	n, ok := parseEnum(severityNames, text)
	return Severity(n), ok
}

// MarshalJSON encodes s as its wire name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON decodes a name in any case or an integer.
func (s *Severity) UnmarshalJSON(b []byte) error {
	n, err := unmarshalEnum(severityNames, b)
	*s = Severity(n)
	return err
}

// Status is a service request's status, encoded like Severity.
type Status int

// Status values, numbered as the service numbers them.
const (
	StatusNone Status = iota
	StatusOpen
	StatusClosed
	StatusAttentionNeeded
)

var statusNames = []string{"none", "open", "closed", "attention_needed"}

// String returns the wire name of s.
func (s Status) String() string { return enumName(statusNames, int(s)) }

// ParseStatus reads a status name (any case, `_`, `-` and spaces ignored,
// so AttentionNeeded works) or its number. ok is false when text names no
// status.
func ParseStatus(text string) (s Status, ok bool) {
	n, ok := parseEnum(statusNames, text)
	return Status(n), ok
}

// MarshalJSON encodes s as its wire name.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON decodes a name in any case or an integer.
func (s *Status) UnmarshalJSON(b []byte) error {
	n, err := unmarshalEnum(statusNames, b)
	*s = Status(n)
	return err
}

func enumName(names []string, n int) string {
	if n < 0 || n >= len(names) {
		return names[0]
	}
	return names[n]
}

// parseEnum finds text among names (lower-case ASCII wire names) by
// number or folded name. It does not allocate: severities are parsed on
// every row and every request.
func parseEnum(names []string, text string) (int, bool) {
	if t := strings.TrimSpace(text); t != "" && (t[0] == '+' || t[0] == '-' || '0' <= t[0] && t[0] <= '9') {
		if n, err := strconv.Atoi(t); err == nil {
			return n, n >= 0 && n < len(names)
		}
	}
	for i, name := range names {
		if foldEqual(name, text) {
			return i, true
		}
	}
	return 0, false
}

// foldEqual reports whether text spells name once both are lower-cased
// and stripped of '_', '-' and spaces, so that "AttentionNeeded",
// "attention_needed" and "Attention needed" all match attention_needed.
// name must be lower-case ASCII.
func foldEqual(name, text string) bool {
	i := 0
	next := func() byte { // name's next byte that foldEnum keeps, or 0
		for ; i < len(name); i++ {
			if c := name[i]; c != '_' && c != '-' && c != ' ' {
				i++
				return c
			}
		}
		return 0
	}
	for _, r := range text {
		if r == '_' || r == '-' || r == ' ' {
			continue
		}
		if c := next(); c == 0 || rune(c) != unicode.ToLower(r) {
			return false
		}
	}
	return next() == 0
}

func unmarshalEnum(names []string, b []byte) (int, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return 0, nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		n, _ := parseEnum(names, s) // unknown names decode to 0, as the service's SDK does
		return n, nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return 0, fmt.Errorf("enum: %s is neither a name nor an integer", b)
	}
	if n < 0 || n >= len(names) {
		return 0, nil
	}
	return n, nil
}

// Time is a service timestamp. It decodes values with or without a zone
// (zone-less values are UTC) and with any number of fraction digits; null,
// "" and the sentinel 0001-01-01T00:00:00 mean "not set" and decode to the
// zero Time. It encodes as RFC 3339 UTC with Z, and the zero Time as the
// sentinel.
type Time struct{ time.Time }

// Unset is the service's "not set" timestamp.
const Unset = "0001-01-01T00:00:00"

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// ParseTime parses a service timestamp as Time.UnmarshalJSON does.
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, Unset) {
		return Time{}, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if t.IsZero() || t.Year() == 1 {
				return Time{}, nil
			}
			return Time{t.UTC()}, nil
		}
	}
	return Time{}, fmt.Errorf("time %q is not ISO 8601", s)
}

// MarshalJSON encodes t as RFC 3339 UTC, or the sentinel when t is zero.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return json.Marshal(Unset)
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// UnmarshalJSON decodes any of the service's timestamp shapes.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*t = Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Decode unmarshals a service response body into v, ignoring a leading
// UTF-8 byte-order mark.
func Decode(body []byte, v any) error {
	return json.Unmarshal(bytes.TrimPrefix(body, utf8BOM), v)
}

// UnmarshalJSON decodes a link whose headers are strings or, as the service
// documents them, {"key": …, "value": …} objects, which become "key: value".
func (l *Link) UnmarshalJSON(b []byte) error {
	type plain Link
	var v struct {
		plain
		Headers []json.RawMessage `json:"headers"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = Link(v.plain)
	l.Headers = nil
	if v.Headers != nil {
		l.Headers = make([]string, 0, len(v.Headers))
	}
	for _, raw := range v.Headers {
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) == 0 || string(raw) == "null":
		case raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return err
			}
			l.Headers = append(l.Headers, s)
		case raw[0] == '{':
			var kv struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			}
			if err := json.Unmarshal(raw, &kv); err != nil {
				return fmt.Errorf("link header: %w", err)
			}
			l.Headers = append(l.Headers, kv.Key+": "+kv.Value)
		default:
			return fmt.Errorf("link header: %s is neither a string nor a {key, value} object", raw)
		}
	}
	return nil
}
