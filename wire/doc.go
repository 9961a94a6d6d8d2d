// Package wire holds the Partner Center service-request wire types — the
// ServiceRequest resource and its nested Organization, Contact, Note,
// FileInfo and Attributes, SupportTopic, the paged Collection with its
// Links, and the Severity, Status and Time value types — together with the
// service's tolerant decoding rules (partner-center-contract.md §§1–4):
// enums in any case or as integers, timestamps with or without a zone and
// the 0001-01-01 sentinel, link headers as strings or {key, value} objects,
// support-topic ids as integers or strings of digits, and a leading UTF-8
// byte-order mark (Decode). AppendJSON encodes a ServiceRequest exactly as
// json.Marshal does, without reflection or allocation, for callers that
// encode one per input row.
//
// The package depends on the standard library only, so that packages that
// speak the format without calling the service (mapping, the emulator) do
// not pull in the HTTP client. Package client re-exports these names as
// aliases.
package wire
