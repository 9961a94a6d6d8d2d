package progress

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// MaxErrorGroups is how many error groups ErrorGroups keeps; the rows of
// any further message are counted in one group per class, with the
// message OtherErrors.
const MaxErrorGroups = 100

// OtherErrors is the message of the group that counts a class's rows
// beyond MaxErrorGroups groups.
const OtherErrors = "(other messages)"

// exampleRows is how many row numbers a group keeps as examples.
const exampleRows = 3

// ErrorGroup is the rows that ended with one error class and, once
// normalised (see NormalizeError), one message.
type ErrorGroup struct {
	Class string `json:"class"`
	// Message is the normalised message.
	Message string `json:"message"`
	// Example is the message of the first of Rows, as it was.
	Example string `json:"example"`
	// Count is how many rows the group holds.
	Count int64 `json:"count"`
	// Rows are the lowest row numbers of the group, up to 3, in order.
	Rows []int `json:"rows"`
}

// ErrorGroups groups rows' errors by class and normalised message, up to
// MaxErrorGroups groups. Its zero value is ready; it is safe for
// concurrent use.
type ErrorGroups struct {
	mu     sync.Mutex
	groups map[groupKey]*ErrorGroup
}

type groupKey struct{ class, message string }

// Add counts row's error.
func (g *ErrorGroups) Add(class, message string, row int) {
	key := groupKey{class, NormalizeError(message)}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.groups == nil {
		g.groups = make(map[groupKey]*ErrorGroup)
	}
	eg := g.groups[key]
	if eg == nil {
		if len(g.groups) >= MaxErrorGroups {
			key.message = OtherErrors
			eg = g.groups[key]
		}
		if eg == nil {
			eg = &ErrorGroup{Class: class, Message: key.message}
			g.groups[key] = eg
		}
	}
	eg.Count++
	eg.addRow(row, message)
}

// addRow keeps row among the lowest rows, with the example message of the
// lowest.
func (eg *ErrorGroup) addRow(row int, message string) {
	i, _ := slices.BinarySearch(eg.Rows, row)
	if i >= exampleRows {
		return
	}
	if i == 0 {
		eg.Example = message
	}
	if len(eg.Rows) == exampleRows {
		eg.Rows = eg.Rows[:exampleRows-1]
	}
	eg.Rows = slices.Insert(eg.Rows, i, row)
}

// Groups returns the groups, most rows first (then by class and message).
func (g *ErrorGroups) Groups() []ErrorGroup {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]ErrorGroup, 0, len(g.groups))
	for _, eg := range g.groups {
		c := *eg
		c.Rows = slices.Clone(eg.Rows)
		out = append(out, c)
	}
	SortErrorGroups(out)
	return out
}

// SortErrorGroups sorts groups as Groups returns them: most rows first,
// then by class and message.
func SortErrorGroups(groups []ErrorGroup) {
	slices.SortFunc(groups, func(a, b ErrorGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Class, b.Class), cmp.Compare(a.Message, b.Message))
	})
}

// NormalizeError turns a row's error message into the message of its
// group, by taking out what differs from row to row: a leading "row N, "
// goes; a UUID or a long word of letters and digits (an id) becomes <id>;
// other numbers become #, except an HTTP status ("HTTP 400") and a
// service's error code ("code 2001"); a quoted value becomes "…", except
// the quoted column name after "column ". So
//
//	row 21, column "Severity" (severity): "urgent" is not a severity
//
// becomes
//
//	column "Severity" (severity): "…" is not a severity
func NormalizeError(msg string) string {
	msg = trimRowPrefix(msg)
	var b strings.Builder
	b.Grow(len(msg))
	for i := 0; i < len(msg); {
		c := msg[i]
		switch {
		case c == '"':
			end := closingQuote(msg, i+1)
			if strings.HasSuffix(b.String(), "column ") {
				b.WriteString(msg[i:end])
			} else {
				b.WriteString(`"…"`)
			}
			i = end
		case isUUID(msg[i:]) && (i == 0 || !isAlnum(msg[i-1])):
			b.WriteString("<id>")
			i += 36
		case isAlnum(c):
			j := i
			digits := false
			for j < len(msg) && isAlnum(msg[j]) {
				digits = digits || isDigit(msg[j])
				j++
			}
			word := msg[i:j]
			switch {
			case !digits:
				b.WriteString(word)
			case keepsNumber(b.String(), word):
				b.WriteString(word)
			case len(word) >= 8 && !allDigits(word):
				b.WriteString("<id>")
			default:
				writeHashed(&b, word)
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// trimRowPrefix drops a leading "row N, " or "row N: ".
func trimRowPrefix(msg string) string {
	rest, ok := strings.CutPrefix(msg, "row ")
	if !ok {
		return msg
	}
	i := 0
	for i < len(rest) && isDigit(rest[i]) {
		i++
	}
	if i == 0 || i == len(rest) || rest[i] != ',' && rest[i] != ':' {
		return msg
	}
	return strings.TrimLeft(rest[i+1:], " ")
}

// closingQuote returns the index just past the quote closing the quoted
// text that starts at i (after its opening quote), skipping
// backslash-escaped characters; len(s) when it is not closed.
func closingQuote(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case '"':
			return i + 1
		}
		i++
	}
	return len(s)
}

// keepsNumber reports whether word, following the text before, is a
// number that names the kind of error: an HTTP status or an error code.
func keepsNumber(before, word string) bool {
	if !allDigits(word) {
		return false
	}
	return strings.HasSuffix(before, "HTTP ") && len(word) == 3 || strings.HasSuffix(before, "code ")
}

// writeHashed writes word with each run of digits as one #.
func writeHashed(b *strings.Builder, word string) {
	inDigits := false
	for i := 0; i < len(word); i++ {
		if isDigit(word[i]) {
			if !inDigits {
				b.WriteByte('#')
			}
			inDigits = true
			continue
		}
		inDigits = false
		b.WriteByte(word[i])
	}
}

// isUUID reports whether s starts with a UUID in its text form.
func isUUID(s string) bool {
	if len(s) < 36 {
		return false
	}
	for i := range 36 {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return len(s) == 36 || !isAlnum(s[36])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
