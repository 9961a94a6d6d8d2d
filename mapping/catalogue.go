package mapping

import "slices"

// Column describes one column of a fill-in file: the header Auto matches
// to a field, and what a person should put in it.
type Column struct {
	// Header is the column's header, one Auto maps to Field.
	Header string
	// Field is the service field, named as FieldError.Field names it
	// (title, primaryContact.email, notes, …).
	Field string
	// Required is true when every row needs a value. SupportTopicId is
	// marked required, although SupportTopicName may stand in for it.
	Required bool
	// Description says what the column holds and which values pass
	// validation, in a sentence or two for a person filling the file in.
	Description string
	// Example is a value that passes validation.
	Example string
	// Values lists the only values the column accepts (any case), for a
	// drop-down; nil when the column is free text.
	Values []string
}

// Catalogue returns every mappable column, in field order with Notes
// last: the columns of a fill-in file. Each call returns a fresh slice.
func Catalogue() []Column { return catalogueOf(fields[:]) }

// catalogueOf is Catalogue for the fields of tbl.
func catalogueOf(tbl []field) []Column {
	cols := make([]Column, 0, len(tbl)+1)
	for id := range tbl {
		f := &tbl[id]
		cols = append(cols, Column{
			Header: f.header,
			Field:  f.name,
			// A support topic is required; SupportTopicName may stand in
			// for the id.
			Required:    f.required || fieldID(id) == fTopicID,
			Description: f.help,
			Example:     f.example,
			Values:      slices.Clone(f.values),
		})
	}
	return append(cols, Column{"Notes", "notes", false,
		"A note added to the request; empty adds none. For more notes, add columns named Note 1, Note 2, and so on.",
		"Migrated from the helpdesk, ticket 48211", nil})
}

// Columns returns the headers of Catalogue, in order: a header with one
// column per mappable field, named as Auto matches them. Notes is one
// column; add Note 1, Note 2, … for more.
func Columns() []string {
	cat := Catalogue()
	hs := make([]string, len(cat))
	for i, c := range cat {
		hs[i] = c.Header
	}
	return hs
}
