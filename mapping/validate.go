package mapping

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/srimport/srimport/internal/editdist"
	"github.com/srimport/srimport/wire"
)

// check validates a value of field id (see checkField); notes and the
// key (id < 0) are not checked here.
func (m *Mapper) check(id fieldID, v string) *ruleError {
	if id < 0 {
		return nil
	}
	return m.checkField(&m.tbl[id], v)
}

// checkField validates a value of f as the field table says: blank values
// pass except for required fields, others must fit the field's length and
// rule. It allocates only the error it returns.
func (m *Mapper) checkField(f *field, v string) *ruleError {
	if v == "" {
		if f.required {
			return newRule(ErrRequired, "required, but empty")
		}
		return nil
	}
	if f.max > 0 {
		if err := tooLong(v, f.max, f.what); err != nil {
			return err
		}
	}
	switch f.rule {
	case severityRule:
		if _, ok := parseSeverity(v); !ok {
			return newRule(ErrSeverity, quote(v)+" is not a severity; use critical, moderate or minimal")
		}
	case topicIDRule:
		if !validTopicID(v) {
			msg := quote(v) + " is not a support topic id: expected 1 to 19 digits, such as 32451178"
			if m.topics != nil {
				if ids := m.topics.named(v); len(ids) > 0 {
					msg += "; it is the name of topic " + strconv.FormatInt(m.topics.list[ids[0]].ID, 10) + ": map the column to supportTopicName, or give the id"
				}
			}
			return newRule(ErrTopicFormat, msg)
		}
		if m.topics != nil {
			n, err := strconv.ParseInt(v, 10, 64)
			if _, ok := m.topics.byID[n]; err != nil || !ok {
				return newRule(ErrUnknownTopic, "support topic "+v+" is not in the service's list of "+strconv.Itoa(len(m.topics.list))+" topics; check the id")
			}
		}
	case countryRule:
		if len(v) != 2 || !isLetter(v[0]) || !isLetter(v[1]) {
			return newRule(ErrCountry, quote(v)+" is not a two-letter country code (ISO 3166-1 alpha-2) such as US, DE or JP")
		}
	case localeRule:
		if !validLocale(v) {
			return newRule(ErrLocale, quote(v)+" is not a locale; use a language tag such as en-US, de-DE or pt-BR")
		}
	case emailRule:
		if !validEmail(v) {
			return newRule(ErrEmail, quote(v)+" is not an email address; expected one address of the form name@domain")
		}
	}
	return nil
}

// normal returns a checked value of field id in the form it is sent
// (severity as its wire name, countryCode upper-case).
func (m *Mapper) normal(id fieldID, v string) string {
	if id < 0 || v == "" {
		return v
	}
	return m.tbl[id].rule.normal(v)
}

// tooLong reports a text longer than max characters.
func tooLong(v string, max int, what string) *ruleError {
	if len(v) <= max { // bytes ≥ characters: no need to count
		return nil
	}
	n := utf8.RuneCountInString(v)
	if n <= max {
		return nil
	}
	return newRule(ErrTooLong, "is "+strconv.Itoa(n)+" characters long; srimport allows at most "+strconv.Itoa(max)+" in "+what)
}

// parseSeverity accepts critical, moderate and minimal in any case, or 1 to
// 3; never unknown (0).
func parseSeverity(v string) (wire.Severity, bool) {
	switch v { // the names as the service writes them, without folding
	case "critical":
		return wire.SeverityCritical, true
	case "moderate":
		return wire.SeverityModerate, true
	case "minimal":
		return wire.SeverityMinimal, true
	}
	s, ok := wire.ParseSeverity(v)
	return s, ok && s != wire.SeverityUnknown
}

// validTopicID reports whether v is 1 to 19 ASCII digits.
func validTopicID(v string) bool { return isDigits(v, 1, 19) }

// validLocale implements ^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?$,
// the rule the emulator applies too.
func validLocale(v string) bool {
	lang, rest, more := strings.Cut(v, "-")
	if !isAlpha(lang, 2, 3) {
		return false
	}
	if !more {
		return true
	}
	seg, rest, more := strings.Cut(rest, "-")
	if isAlpha(seg, 4, 4) {
		if !more {
			return true
		}
		seg, more = rest, false
		if strings.Contains(seg, "-") {
			return false
		}
	}
	return !more && (isAlpha(seg, 2, 2) || isDigits(seg, 3, 3))
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

func isAlpha(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) {
			return false
		}
	}
	return true
}

func isDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validEmail accepts one address: exactly one @ with text on both sides,
// and no spaces or list separators.
func validEmail(v string) bool {
	at := -1
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '@':
			if at >= 0 {
				return false
			}
			at = i
		case c <= ' ' || c == 0x7f:
			return false
		case c == ',' || c == ';' || c == '<' || c == '>' || c == '(' || c == ')' || c == '[' || c == ']' || c == '"' || c == '\\':
			return false
		}
	}
	return at > 0 && at < len(v)-1
}

// topicIndex looks support topics up by id and by name.
type topicIndex struct {
	list   []wire.SupportTopic
	byID   map[int64]int
	byName map[string][]int // foldName(name) → positions
}

func newTopicIndex(topics []wire.SupportTopic) *topicIndex {
	ti := &topicIndex{list: slices.Clone(topics), byID: make(map[int64]int, len(topics)), byName: make(map[string][]int, len(topics))}
	for i, t := range ti.list {
		ti.byID[t.ID] = i
		if t.Name != "" {
			k := foldName(t.Name)
			ti.byName[k] = append(ti.byName[k], i)
		}
	}
	return ti
}

func foldName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// named returns the positions of the topics called name, ignoring case
// and surrounding space; it allocates nothing for a name of up to 128
// bytes.
func (ti *topicIndex) named(name string) []int {
	var buf [128]byte
	b := buf[:0]
	for _, r := range strings.TrimSpace(name) {
		b = utf8.AppendRune(b, unicode.ToLower(r))
	}
	return ti.byName[string(b)]
}

// resolve returns the id and the listed name of the topic called name.
func (ti *topicIndex) resolve(name string) (id, canonical string, err *ruleError) {
	ids := ti.named(name)
	switch len(ids) {
	case 1:
		t := ti.list[ids[0]]
		return strconv.FormatInt(t.ID, 10), t.Name, nil
	case 0:
		return "", "", newRule(ErrUnknownTopic, quote(name)+" is not a support topic name; known names include "+quoteList(ti.nearest(name, 5), 5)+" ("+strconv.Itoa(len(ti.list))+" topics)")
	}
	var list []string
	for _, i := range ids {
		list = append(list, strconv.FormatInt(ti.list[i].ID, 10))
	}
	return "", "", newRule(ErrAmbiguousTopic, quote(name)+" names "+strconv.Itoa(len(ids))+" support topics (ids "+strings.Join(list, ", ")+"); give the id (supportTopicId) instead")
}

// nearest returns up to n topic names, closest to name first.
func (ti *topicIndex) nearest(name string, n int) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	seen := map[string]bool{}
	for _, t := range ti.list {
		if t.Name == "" || seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		cs = append(cs, cand{t.Name, editdist.Distance(name, t.Name)})
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.d - b.d })
	out := make([]string, 0, n)
	for _, c := range cs[:min(n, len(cs))] {
		out = append(out, c.name)
	}
	return out
}

// isSeverityName reports whether v is critical, moderate or minimal in any
// case; unlike parseSeverity it does not accept numbers, which in an input
// column more likely mean a helpdesk's own priority scale.
func isSeverityName(v string) bool { return fields[fSeverity].isValue(v) }

// foldKey maps s to a canonical form under Unicode simple case folding:
// foldKey(a) == foldKey(b) exactly when strings.EqualFold(a, b). Value-map
// keys are indexed and checked for duplicates by it, so that the index,
// the linear search and the duplicate check agree on what "ignoring case"
// means.
func foldKey(s string) string { return string(appendFoldKey(nil, s)) }

// appendFoldKey appends foldKey(s) to dst.
func appendFoldKey(dst []byte, s string) []byte {
	for _, r := range s {
		if r < utf8.RuneSelf {
			// An ASCII letter's case orbit is its two ASCII forms, plus
			// U+212A for k and U+017F for s: the upper-case form is least.
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			dst = append(dst, byte(r))
			continue
		}
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		dst = utf8.AppendRune(dst, least)
	}
	return dst
}
