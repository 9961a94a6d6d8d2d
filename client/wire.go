package client

import "github.com/srimport/srimport/wire"

// The wire types live in package wire, which does not depend on the HTTP
// stack. The names below are aliases of them, kept so that callers of
// package client (and client itself) need not change; new code that only
// needs the wire format should import wire directly.

// ServiceRequest is an alias of wire.ServiceRequest.
type ServiceRequest = wire.ServiceRequest

// Organization is an alias of wire.Organization.
type Organization = wire.Organization

// Contact is an alias of wire.Contact.
type Contact = wire.Contact

// Note is an alias of wire.Note.
type Note = wire.Note

// FileInfo is an alias of wire.FileInfo.
type FileInfo = wire.FileInfo

// Attributes is an alias of wire.Attributes.
type Attributes = wire.Attributes

// SupportTopic is an alias of wire.SupportTopic.
type SupportTopic = wire.SupportTopic

// Link is an alias of wire.Link.
type Link = wire.Link

// Links is an alias of wire.Links.
type Links = wire.Links

// Collection is an alias of wire.Collection.
type Collection[T any] = wire.Collection[T]

// Severity is an alias of wire.Severity.
type Severity = wire.Severity

// Status is an alias of wire.Status.
type Status = wire.Status

// Time is an alias of wire.Time.
type Time = wire.Time

// ObjectType values of Attributes, as in package wire.
const (
	ObjectServiceRequest = wire.ObjectServiceRequest
	ObjectSupportTopic   = wire.ObjectSupportTopic
	ObjectCollection     = wire.ObjectCollection
)

// Severity values, as in package wire.
const (
	SeverityUnknown  = wire.SeverityUnknown
	SeverityCritical = wire.SeverityCritical
	SeverityModerate = wire.SeverityModerate
	SeverityMinimal  = wire.SeverityMinimal
)

// Status values, as in package wire.
const (
	StatusNone            = wire.StatusNone
	StatusOpen            = wire.StatusOpen
	StatusClosed          = wire.StatusClosed
	StatusAttentionNeeded = wire.StatusAttentionNeeded
)

// Unset is the service's "not set" timestamp; see wire.Unset.
const Unset = wire.Unset

// ParseSeverity calls wire.ParseSeverity.
func ParseSeverity(text string) (Severity, bool) { return wire.ParseSeverity(text) }

// ParseStatus calls wire.ParseStatus.
func ParseStatus(text string) (Status, bool) { return wire.ParseStatus(text) }

// ParseTime calls wire.ParseTime.
func ParseTime(s string) (Time, error) { return wire.ParseTime(s) }

// Decode calls wire.Decode: it unmarshals a service response body into v,
// ignoring a leading UTF-8 byte-order mark.
func Decode(body []byte, v any) error { return wire.Decode(body, v) }

// utf8BOM is the byte-order mark wire.Decode strips; client's own readers
// (empty-body and error-body checks) strip it too.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}
