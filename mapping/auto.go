package mapping

import (
	"strconv"
	"strings"
)

// autoNames lists, per field, the folded header names Auto matches, most
// preferred first: the field's own name, then aliases.
var autoNames = [numFields][]string{
	fTitle:       {"title"},
	fDescription: {"description"},
	fSeverity:    {"severity"},
	fTopicID:     {"supporttopicid"},
	fTopicName:   {"supporttopicname"},
	fProductName: {"productname"},
	fProductID:   {"productid"},
	fCountry:     {"countrycode"},
	fLocale:      {"locale", "agentlocale"},
	fFirstName:   {"primarycontactfirstname", "contactfirstname", "firstname"},
	fLastName:    {"primarycontactlastname", "contactlastname", "lastname"},
	fEmail:       {"primarycontactemail", "primarycontactemailaddress", "contactemail", "contactemailaddress", "email", "emailaddress"},
	fPhone:       {"primarycontactphonenumber", "primarycontactphone", "contactphonenumber", "contactphone", "phonenumber", "phone"},
}

// foldHeader folds a header for Auto: lower case, without spaces, '_',
// '-' and '.'.
func foldHeader(h string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '_', '-', '.':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(h)))
}

// isNoteHeader matches Note, Notes, and numbered ones (Note 1, Notes2).
func isNoteHeader(folded string) bool {
	rest, ok := strings.CutPrefix(folded, "note")
	if !ok {
		return false
	}
	rest = strings.TrimPrefix(rest, "s")
	return isDigits(rest, 0, len(rest))
}

// Auto maps headers to fields by name and compiles the result. A header
// maps to a field when, ignoring case, spaces, '_', '-' and '.', it equals:
//
//	title, description, severity, supportTopicId, supportTopicName,
//	productName, productId, countryCode
//	locale            Locale, AgentLocale
//	primaryContact.*  PrimaryContactFirstName, ContactFirstName, FirstName
//	                  (likewise LastName; Email or EmailAddress;
//	                  PhoneNumber or Phone), also "primaryContact.email"
//	notes             Note, Notes, Note 1, Notes 2, …: each such column
//	                  becomes one note, left to right, blank ones skipped
//
// When several headers match one field, the more specific name wins
// (PrimaryContactEmail over ContactEmail over Email), then the leftmost.
// Other columns are ignored. Title, description, severity and a support
// topic id or name must each have a column, else the error wraps
// ErrNoColumn, names the missing fields and the headers, and suggests
// --mapping. Auto builds a Spec and calls Compile, so both paths validate
// alike.
func Auto(header []string, opts Options) (*Mapper, error) {
	spec, err := AutoSpec(header)
	if err != nil {
		return nil, err
	}
	return Compile(spec, header, opts)
}

// AutoSpec returns the Spec Auto compiles: a mapping file equivalent to
// matching header by name.
func AutoSpec(header []string) (*Spec, error) {
	var best [numFields]int
	var rank [numFields]int
	for i := range best {
		best[i] = -1
	}
	spec := &Spec{}
	for col, h := range header {
		folded := foldHeader(h)
		if isNoteHeader(folded) {
			spec.Notes = append(spec.Notes, FieldSpec{Value: columnRef(h)})
			continue
		}
		for id, names := range autoNames {
			for r, name := range names {
				if folded == name && (best[id] < 0 || r < rank[id]) {
					best[id], rank[id] = col, r
				}
			}
		}
	}
	for id := range numFields {
		if best[id] >= 0 {
			spec.field(id).Value = columnRef(header[best[id]])
		}
	}
	var missing []string
	for _, id := range []fieldID{fTitle, fDescription, fSeverity} {
		if best[id] < 0 {
			missing = append(missing, fields[id].name+suggest(id, header))
		}
	}
	if best[fTopicID] < 0 && best[fTopicName] < 0 {
		missing = append(missing, "supportTopicId or supportTopicName"+suggest(fTopicID, header))
	}
	if len(missing) > 0 {
		return nil, newRule(ErrNoColumn, "no column for "+strings.Join(missing, ", ")+
			". The file's columns are: "+quoteList(header, 100)+
			". Name the columns after the fields (Title, Description, Severity, SupportTopicId; case, spaces, _ and - do not matter), or map them with --mapping FILE")
	}
	return spec, nil
}

// columnRef is the template naming header h.
func columnRef(h string) string { return "{{" + strings.TrimSpace(h) + "}}" }

// suggest names the header closest to a missing field, if one is close.
func suggest(id fieldID, header []string) string {
	folded := make([]string, len(header))
	for i, h := range header {
		folded[i] = foldHeader(h)
	}
	near, ok := closest(autoNames[id][0], folded)
	if !ok {
		return ""
	}
	for i, f := range folded {
		if f == near {
			return " (is " + strconv.Quote(header[i]) + " meant?)"
		}
	}
	return ""
}
