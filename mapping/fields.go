package mapping

import (
	"strings"

	"github.com/srimport/srimport/wire"
)

// field describes one mappable field of a service request: where a
// mapping file sets it, which headers Auto matches to it, how its value is
// validated and sent, and its column in a fill-in file. The table fields
// lists them all; adding a field to srimport is one entry there (and, for
// the mapping file, its key in FieldsSpec or ContactSpec, which
// TestFieldTable checks).
type field struct {
	// name is the field's service name, as FieldError.Field names it and
	// as the mapping file's key under fields: (primaryContact.email is
	// email under fields.primaryContact).
	name string
	// top is set when the mapping file sets the field at its top level
	// (locale), not under fields:.
	top bool
	// spec returns the field's FieldSpec in a Spec.
	spec func(*Spec) *FieldSpec
	// set sends a checked, non-blank value in its normal form. It finds
	// r.SR.PrimaryContact pointing at an empty contact, which Map drops
	// when no field sets any of it.
	set func(r *Request, v string)

	// aliases are the folded headers (see foldHeader) Auto matches to the
	// field after its folded name, most preferred first.
	aliases []string

	// required is set when every row needs a value: the mapping must give
	// a source (Compile, Auto) and the value must not be blank (Map).
	required bool
	// max, when not 0, is the most characters the value may have; what
	// names the field in the message ("a title").
	max  int
	what string
	// rule is the rule a non-blank value must follow, and says the form
	// it is sent in.
	rule rule
	// values, when set, are the only values accepted (any case): the
	// fill-in file's drop-down, and a value that is one of them passes a
	// value map untranslated (a map of a helpdesk's own words must not
	// turn "critical" into its default).
	values []string

	// header, help and example are the field's column in a fill-in file
	// (see Column): a header Auto matches, what the column holds, and a
	// value that passes validation.
	header, help, example string
}

// fieldID numbers the mappable fields: a position in a field table, in the
// order errors are reported. The constants name the fields the code
// refers to; the table lists them at these positions.
type fieldID int

const (
	fTitle fieldID = iota
	fDescription
	fSeverity
	fTopicID
	fTopicName
	fProductName
	fProductID
	fCountry
	fLocale
	fFirstName
	fLastName
	fEmail
	fPhone
)

// numFields is the number of mappable fields.
const numFields = fieldID(len(fields))

// fields is srimport's table of mappable fields, in field order: the order
// of errors, of Mapper.Fields and of the fill-in file's columns.
var fields = [...]field{
	fTitle: {
		name: "title", required: true, max: maxTitle, what: "a title",
		spec:   func(s *Spec) *FieldSpec { return &s.Fields.Title },
		set:    func(r *Request, v string) { r.SR.Title = v },
		header: "Title", help: "A one-line summary of the problem; at most 255 characters.",
		example: "Reserved instance not applied to subscription",
	},
	fDescription: {
		name: "description", required: true, max: maxDescription, what: "a description",
		spec:   func(s *Spec) *FieldSpec { return &s.Fields.Description },
		set:    func(r *Request, v string) { r.SR.Description = v },
		header: "Description", help: "What happened, what was expected and what has been tried; line breaks are kept; at most 32,000 characters.",
		example: "Customer bought a one-year reservation on 3 March; usage is still billed pay-as-you-go.",
	},
	fSeverity: {
		name: "severity", required: true, rule: severityRule,
		values: []string{"critical", "moderate", "minimal"},
		spec:   func(s *Spec) *FieldSpec { return &s.Fields.Severity },
		set:    func(r *Request, v string) { r.SR.Severity = severityValue(v) },
		header: "Severity", help: "How urgent the request is: critical, moderate or minimal (any case).",
		example: "moderate",
	},
	fTopicID: {
		name: "supportTopicId", rule: topicIDRule,
		spec:   func(s *Spec) *FieldSpec { return &s.Fields.SupportTopicID },
		set:    func(r *Request, v string) { r.SR.SupportTopicID = v },
		header: "SupportTopicId", help: "The support topic's id, 1 to 19 digits; import checks it against the service's topic list. May be left empty when SupportTopicName is given.",
		example: "32451178",
	},
	fTopicName: {
		name:   "supportTopicName",
		spec:   func(s *Spec) *FieldSpec { return &s.Fields.SupportTopicName },
		set:    func(r *Request, v string) { r.SR.SupportTopicName = v },
		header: "SupportTopicName", help: "The support topic's name, looked up (ignoring case) in the service's topic list when SupportTopicId is empty.",
		example: "Billing and reservations",
	},
	fProductName: {
		name:   "productName",
		spec:   func(s *Spec) *FieldSpec { return &s.Fields.ProductName },
		set:    func(r *Request, v string) { r.SR.ProductName = v },
		header: "ProductName", help: "The product the request is about, as free text.",
		example: "Azure Reservations",
	},
	fProductID: {
		name:   "productId",
		spec:   func(s *Spec) *FieldSpec { return &s.Fields.ProductID },
		set:    func(r *Request, v string) { r.SR.ProductID = v },
		header: "ProductId", help: "The product's id in the Partner Center catalogue.",
		example: "DZH318Z0BQ3Q",
	},
	fCountry: {
		name: "countryCode", rule: countryRule,
		spec:   func(s *Spec) *FieldSpec { return &s.Fields.CountryCode },
		set:    func(r *Request, v string) { r.SR.CountryCode = v },
		header: "CountryCode", help: "The customer's country as two letters (ISO 3166-1 alpha-2); sent upper-case.",
		example: "NL",
	},
	fLocale: {
		name: "locale", top: true, aliases: []string{"agentlocale"}, rule: localeRule,
		spec:   func(s *Spec) *FieldSpec { return &s.Locale },
		set:    func(r *Request, v string) { r.Locale = v },
		header: "Locale", help: "The agent locale the request is created under, a language tag such as en-US or de-DE; empty: the --locale flag (default en-US).",
		example: "en-US",
	},
	fFirstName: {
		name: "primaryContact.firstName", aliases: []string{"contactfirstname", "firstname"},
		spec:   func(s *Spec) *FieldSpec { return &s.Fields.PrimaryContact.FirstName },
		set:    func(r *Request, v string) { r.SR.PrimaryContact.FirstName = v },
		header: "ContactFirstName", help: "The primary contact's first name; the contact is sent when any contact column has a value.",
		example: "Noor",
	},
	fLastName: {
		name: "primaryContact.lastName", aliases: []string{"contactlastname", "lastname"},
		spec:   func(s *Spec) *FieldSpec { return &s.Fields.PrimaryContact.LastName },
		set:    func(r *Request, v string) { r.SR.PrimaryContact.LastName = v },
		header: "ContactLastName", help: "The primary contact's last name.",
		example: "Haddad",
	},
	fEmail: {
		name:    "primaryContact.email",
		aliases: []string{"primarycontactemailaddress", "contactemail", "contactemailaddress", "email", "emailaddress"},
		rule:    emailRule,
		spec:    func(s *Spec) *FieldSpec { return &s.Fields.PrimaryContact.Email },
		set:     func(r *Request, v string) { r.SR.PrimaryContact.Email = v },
		header:  "ContactEmail", help: "The primary contact's email: one address of the form name@domain.",
		example: "noor@fabrikam.example",
	},
	fPhone: {
		name:    "primaryContact.phoneNumber",
		aliases: []string{"primarycontactphone", "contactphonenumber", "contactphone", "phonenumber", "phone"},
		spec:    func(s *Spec) *FieldSpec { return &s.Fields.PrimaryContact.PhoneNumber },
		set:     func(r *Request, v string) { r.SR.PrimaryContact.PhoneNumber = v },
		header:  "ContactPhone", help: "The primary contact's phone number, as free text.",
		example: "+31 20 555 0143",
	},
}

// path is the field's path in a mapping file, for messages:
// fields.primaryContact.email, locale.
func (f *field) path() string {
	if f.top {
		return f.name
	}
	return "fields." + f.name
}

// matches reports whether Auto matches a header folded by foldHeader to
// the field, and how well: 0 for the field's own name, then its aliases
// in order; lower is better.
func (f *field) matches(folded string) (rank int, ok bool) {
	if folded == foldHeader(f.name) {
		return 0, true
	}
	for i, a := range f.aliases {
		if folded == a {
			return i + 1, true
		}
	}
	return 0, false
}

// isValue reports whether v is one of f.values, ignoring case.
func (f *field) isValue(v string) bool {
	for _, want := range f.values {
		if strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}

// rule is a rule for a field's values beyond its length.
type rule uint8

const (
	freeText     rule = iota // any text
	severityRule             // critical, moderate or minimal (or 1 to 3), sent as the name
	topicIDRule              // 1 to 19 digits; one of the topic list's ids when it is known
	countryRule              // two letters, sent upper-case
	localeRule               // a language tag such as en-US
	emailRule                // one address of the form name@domain
)

// normal returns a checked value of a field with rule r in the form it is
// sent.
func (r rule) normal(v string) string {
	if r != severityRule && r != countryRule {
		return v // sent as it is; decided without a call
	}
	return r.normalize(v)
}

func (r rule) normalize(v string) string {
	switch r {
	case severityRule:
		if s, ok := parseSeverity(v); ok {
			return s.String()
		}
	case countryRule:
		return strings.ToUpper(v)
	}
	return v
}

// severityValue turns a checked severity name back into a Severity.
func severityValue(name string) wire.Severity {
	s, _ := parseSeverity(name)
	return s
}
