// Package mapping turns input rows into service-request create calls: it
// matches headers to fields (by name, or through a mapping file), applies
// templates and value maps, and validates the result against the service's
// rules, reporting typed errors that name row, column, field and rule.
package mapping
