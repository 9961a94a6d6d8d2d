package mapping

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
func Catalogue() []Column {
	return []Column{
		{"Title", fields[fTitle].name, true,
			"A one-line summary of the problem; at most 255 characters.",
			"Reserved instance not applied to subscription", nil},
		{"Description", fields[fDescription].name, true,
			"What happened, what was expected and what has been tried; line breaks are kept; at most 32,000 characters.",
			"Customer bought a one-year reservation on 3 March; usage is still billed pay-as-you-go.", nil},
		{"Severity", fields[fSeverity].name, true,
			"How urgent the request is: critical, moderate or minimal (any case).",
			"moderate", []string{"critical", "moderate", "minimal"}},
		{"SupportTopicId", fields[fTopicID].name, true,
			"The support topic's id, 1 to 19 digits; import checks it against the service's topic list. May be left empty when SupportTopicName is given.",
			"32451178", nil},
		{"SupportTopicName", fields[fTopicName].name, false,
			"The support topic's name, looked up (ignoring case) in the service's topic list when SupportTopicId is empty.",
			"Billing and reservations", nil},
		{"ProductName", fields[fProductName].name, false,
			"The product the request is about, as free text.",
			"Azure Reservations", nil},
		{"ProductId", fields[fProductID].name, false,
			"The product's id in the Partner Center catalogue.",
			"DZH318Z0BQ3Q", nil},
		{"CountryCode", fields[fCountry].name, false,
			"The customer's country as two letters (ISO 3166-1 alpha-2); sent upper-case.",
			"NL", nil},
		{"Locale", fields[fLocale].name, false,
			"The agent locale the request is created under, a language tag such as en-US or de-DE; empty: the --locale flag (default en-US).",
			"en-US", nil},
		{"ContactFirstName", fields[fFirstName].name, false,
			"The primary contact's first name; the contact is sent when any contact column has a value.",
			"Noor", nil},
		{"ContactLastName", fields[fLastName].name, false,
			"The primary contact's last name.",
			"Haddad", nil},
		{"ContactEmail", fields[fEmail].name, false,
			"The primary contact's email: one address of the form name@domain.",
			"noor@fabrikam.example", nil},
		{"ContactPhone", fields[fPhone].name, false,
			"The primary contact's phone number, as free text.",
			"+31 20 555 0143", nil},
		{"Notes", "notes", false,
			"A note added to the request; empty adds none. For more notes, add columns named Note 1, Note 2, and so on.",
			"Migrated from the helpdesk, ticket 48211", nil},
	}
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
