package mapping

import (
	"strconv"
	"strings"
)

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
	return autoOf(fields[:], header, opts)
}

// autoOf is Auto for the fields of tbl.
func autoOf(tbl []field, header []string, opts Options) (*Mapper, error) {
	spec, err := autoSpecOf(tbl, header)
	if err != nil {
		return nil, err
	}
	return compileOf(tbl, spec, header, opts)
}

// AutoSpec returns the Spec Auto compiles: a mapping file equivalent to
// matching header by name.
func AutoSpec(header []string) (*Spec, error) { return autoSpecOf(fields[:], header) }

// autoSpecOf is AutoSpec for the fields of tbl.
func autoSpecOf(tbl []field, header []string) (*Spec, error) {
	best := make([]int, len(tbl))
	rank := make([]int, len(tbl))
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
		for id := range tbl {
			if r, ok := tbl[id].matches(folded); ok && (best[id] < 0 || r < rank[id]) {
				best[id], rank[id] = col, r
			}
		}
	}
	for id := range tbl {
		if best[id] >= 0 {
			tbl[id].spec(spec).Value = columnRef(header[best[id]])
		}
	}
	var missing []string
	for id := range tbl {
		if tbl[id].required && best[id] < 0 {
			missing = append(missing, tbl[id].name+suggest(&tbl[id], header))
		}
	}
	if best[fTopicID] < 0 && best[fTopicName] < 0 {
		missing = append(missing, "supportTopicId or supportTopicName"+suggest(&tbl[fTopicID], header))
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
func suggest(f *field, header []string) string {
	folded := make([]string, len(header))
	for i, h := range header {
		folded[i] = foldHeader(h)
	}
	near, ok := closest(foldHeader(f.name), folded)
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
