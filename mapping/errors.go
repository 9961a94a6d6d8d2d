package mapping

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/srimport/srimport/internal/editdist"
)

// Rules a row or a mapping can break. Every error from this package wraps
// one of them; test with errors.Is. The text of each is a short rule name,
// suitable for counting failures by rule.
var (
	// ErrRequired: a required field (title, description, severity, a
	// support topic) is empty.
	ErrRequired = errors.New("required")
	// ErrSeverity: severity is not critical, moderate or minimal.
	ErrSeverity = errors.New("not a severity")
	// ErrTopicFormat: supportTopicId is not 1 to 19 digits.
	ErrTopicFormat = errors.New("not a support topic id")
	// ErrUnknownTopic: the support topic id or name is not in
	// Options.Topics, or a name cannot be resolved without them.
	ErrUnknownTopic = errors.New("unknown support topic")
	// ErrAmbiguousTopic: a support topic name matches several topics.
	ErrAmbiguousTopic = errors.New("ambiguous support topic name")
	// ErrLocale: the agent locale is not a language tag such as en-US.
	ErrLocale = errors.New("not a locale")
	// ErrCountry: countryCode is not two letters.
	ErrCountry = errors.New("not a country code")
	// ErrEmail: the contact email is not an address of the form
	// name@domain.
	ErrEmail = errors.New("not an email address")
	// ErrTooLong: a text is longer than srimport allows.
	ErrTooLong = errors.New("too long")
	// ErrUnmappedValue: a value is not a key of its field's value map and
	// the field has no default.
	ErrUnmappedValue = errors.New("value not in the value map")
	// ErrUnknownColumn: a template names a column the file does not have.
	ErrUnknownColumn = errors.New("unknown column")
	// ErrNoColumn: a required field has no source: no header matched it
	// (Auto), or the mapping file does not set it (Compile).
	ErrNoColumn = errors.New("no column for a required field")
	// ErrTemplate: a template is malformed (unbalanced {{ }}, empty
	// column name).
	ErrTemplate = errors.New("malformed template")
	// ErrSpec: the mapping file is not valid YAML of the expected shape:
	// an unknown key, a list where text belongs, a duplicate map key.
	ErrSpec = errors.New("malformed mapping file")
)

// FieldError is one field of one row that failed mapping or validation.
// Its Error names row, column, field and what to do, for example
//
//	row 7, column "Priority" (severity): "urgent" is not a severity; use critical, moderate or minimal
type FieldError struct {
	Row    int    // input row number (header = 1)
	Column string // the header the value came from; "" for a mapping constant
	Field  string // the service field: title, severity, primaryContact.email, notes, locale, …
	Value  string // the offending value, trimmed
	Err    error  // the rule broken, wrapping one of this package's sentinels
}

// Error reads `row 5, column "Prio" (severity): <the rule broken>`, naming
// "mapping constant" when the value came from the mapping file itself.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Row > 0 {
		b.WriteString("row ")
		b.WriteString(strconv.Itoa(e.Row))
		b.WriteString(", ")
	}
	if e.Column != "" {
		b.WriteString("column ")
		b.WriteString(strconv.Quote(e.Column))
	} else {
		b.WriteString("mapping constant")
	}
	b.WriteString(" (")
	b.WriteString(e.Field)
	b.WriteString("): ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the rule broken.
func (e *FieldError) Unwrap() error { return e.Err }

// ruleError is a message that explains a broken rule and wraps its
// sentinel.
type ruleError struct {
	rule error
	msg  string
}

func (e *ruleError) Error() string { return e.msg }
func (e *ruleError) Unwrap() error { return e.rule }

func newRule(rule error, msg string) *ruleError { return &ruleError{rule: rule, msg: msg} }

// quote quotes a value for a message, shortening long ones.
func quote(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return strconv.Quote(s)
}

// quoteList quotes and joins up to n names, noting how many more there are.
func quoteList(names []string, n int) string {
	var b strings.Builder
	for i, name := range names {
		if i == n {
			b.WriteString(", … (")
			b.WriteString(strconv.Itoa(len(names) - n))
			b.WriteString(" more)")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(name))
	}
	return b.String()
}

// closest returns the candidate nearest to s by edit distance, if it is
// near enough to be a plausible typo: at most a third of the longer name
// differs, and never more than 5 edits.
func closest(s string, candidates []string) (string, bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editdist.Distance(strings.TrimSpace(s), strings.TrimSpace(c)); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 {
		return "", false
	}
	limit := max(utf8.RuneCountInString(s), utf8.RuneCountInString(best))/3 + 1
	return best, bestD <= min(limit, 5)
}
