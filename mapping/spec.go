package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Spec is a parsed mapping file. Its YAML form, as cli.md documents it:
//
//	locale: "{{Language}}"              # optional; else Options.Locale
//	fields:
//	  title: "{{Subject}} ({{Ticket ID}})"
//	  description: "{{Body}}"
//	  severity:
//	    value: "{{Priority}}"
//	    map: { P1: critical, High: critical, Medium: moderate, Low: minimal }
//	    default: moderate
//	  supportTopicId: "32444671"         # a constant
//	  productName: "{{Product}}"
//	  primaryContact:
//	    email: "{{Requester Email}}"
//	notes:
//	  - "{{Internal Comment}}"
//	provenance: true                     # add a note "imported from FILE row N"
//	key: "{{Ticket ID}}"                 # the row's identity across files and runs
//
// Every field, locale and every note is a FieldSpec: a template string, or
// an object with value, map and default. notes may also be a single
// template. A Spec can be built in code as well; Compile checks it either
// way.
type Spec struct {
	Locale     FieldSpec  `yaml:"locale"`
	Fields     FieldsSpec `yaml:"fields"`
	Notes      NotesSpec  `yaml:"notes"`
	Provenance bool       `yaml:"provenance"`
	// Key, when set, is the row's identity across files and runs: the
	// source system's ticket id, as ServiceNow's coalesce field or Data
	// Loader's external id. Without it a row is identified by its content.
	Key FieldSpec `yaml:"key"`
}

// FieldsSpec holds the sources of the service request's fields.
type FieldsSpec struct {
	Title            FieldSpec   `yaml:"title"`
	Description      FieldSpec   `yaml:"description"`
	Severity         FieldSpec   `yaml:"severity"`
	SupportTopicID   FieldSpec   `yaml:"supportTopicId"`
	SupportTopicName FieldSpec   `yaml:"supportTopicName"`
	ProductName      FieldSpec   `yaml:"productName"`
	ProductID        FieldSpec   `yaml:"productId"`
	CountryCode      FieldSpec   `yaml:"countryCode"`
	PrimaryContact   ContactSpec `yaml:"primaryContact"`
}

// ContactSpec holds the sources of the primary contact's fields. The
// contact is sent only when one of them has a value.
type ContactSpec struct {
	FirstName   FieldSpec `yaml:"firstName"`
	LastName    FieldSpec `yaml:"lastName"`
	Email       FieldSpec `yaml:"email"`
	PhoneNumber FieldSpec `yaml:"phoneNumber"`
}

// NotesSpec is the list of note templates; each non-blank result becomes
// one note, in order.
type NotesSpec []FieldSpec

// FieldSpec is the source of one field.
//
// Value is a template: {{Header}} is replaced by that column's trimmed
// value (header names match case-insensitively after trimming), other text
// is literal, and text without braces is a constant. The result is
// trimmed. A template is blank when every column it names is blank,
// whatever literal text surrounds them: "Ref: {{Ref}}" adds no note when
// Ref is empty. There is no escape for a literal "{{" or "}}"; a single
// brace is ordinary text.
//
// Map, when set, translates the value: keys match case-insensitively after
// trimming (as strings.EqualFold compares), and the mapped text is used as
// it is (it is not a template). A value that is not a key is
// ErrUnmappedValue — a typo or a new helpdesk level must not be silently
// changed — unless the map has the key "*" (OtherKey), whose value then
// applies. For severity, a value that is already a severity name
// (critical, moderate or minimal, in any case) and is not a key passes
// through as itself, so a map of a helpdesk's own words never rejects or
// changes "critical". Default (a template too) is used when the value is
// blank; a blank value is looked up in the map first, so a "" key works as
// well.
//
// In a mapping file, default: "" is a default too. A FieldSpec with
// neither value nor default is unset.
type FieldSpec struct {
	Value   string
	Map     map[string]string
	Default string

	keys       []string // Map's keys in file order, for messages
	line       int      // YAML line, 0 when built in code
	defaultSet bool     // the YAML sets default, perhaps to ""
	problem    string   // a shape error found while decoding, reported by ParseSpec
	problemAt  int      // its line
}

// IsZero reports whether f sets nothing.
func (f FieldSpec) IsZero() bool { return f.Value == "" && f.Default == "" && f.Map == nil }

// UnmarshalYAML reads a template string or a {value, map, default}
// object. Shape errors are kept and reported by ParseSpec with the
// field's path, so that one run lists them all.
func (f *FieldSpec) UnmarshalYAML(n *yaml.Node) error {
	*f = FieldSpec{line: n.Line}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!null" {
			f.Value = n.Value
		}
	case yaml.MappingNode:
		if len(n.Content) > 0 && n.Content[0].Kind != yaml.ScalarNode {
			f.fail(n.Line, `a template must be quoted, as in title: "{{Subject}}"; unquoted, YAML reads the braces as an object`)
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "value", "default":
				if v.Kind != yaml.ScalarNode {
					f.fail(v.Line, k.Value+" must be text; quote templates, as in \"{{Priority}}\"")
					return nil
				}
				if v.Tag == "!!null" {
					continue
				}
				if k.Value == "value" {
					f.Value = v.Value
				} else {
					f.Default, f.defaultSet = v.Value, true
				}
			case "map":
				if line, err := f.decodeMap(v); err != "" {
					f.fail(line, err)
					return nil
				}
			default:
				f.fail(k.Line, "unknown key "+strconv.Quote(k.Value)+"; a field object has value, map and default")
				return nil
			}
		}
	default:
		f.fail(n.Line, "expected a template string or an object with value, map and default")
	}
	return nil
}

func (f *FieldSpec) fail(line int, msg string) { f.problem, f.problemAt = msg, line }

func (f *FieldSpec) decodeMap(v *yaml.Node) (line int, problem string) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return 0, ""
	}
	if v.Kind != yaml.MappingNode {
		return v.Line, "map must be an object of value: replacement pairs"
	}
	f.Map = make(map[string]string, len(v.Content)/2)
	folded := make(map[string]string, len(v.Content)/2)
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if k.Kind != yaml.ScalarNode || val.Kind != yaml.ScalarNode {
			return k.Line, "map entries must be text: text"
		}
		key := strings.TrimSpace(k.Value)
		if k.Tag == "!!null" {
			key = ""
		}
		if prev, dup := folded[foldKey(key)]; dup {
			return k.Line, "map key " + strconv.Quote(key) + " repeats " + strconv.Quote(prev) + " (keys ignore case)"
		}
		folded[foldKey(key)] = key
		value := val.Value
		if val.Tag == "!!null" {
			value = ""
		}
		f.Map[key] = value
		f.keys = append(f.keys, key)
	}
	return 0, ""
}

// UnmarshalYAML reads a list of note templates, or a single one.
func (ns *NotesSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		*ns = nil
		return nil
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	*ns = make(NotesSpec, len(items))
	for i, item := range items {
		if err := (*ns)[i].UnmarshalYAML(item); err != nil {
			return err
		}
	}
	return nil
}

// LoadSpec reads and parses the mapping file at path; see ParseSpec.
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSpec(data)
}

// ParseSpec parses a mapping file. It reports every problem it finds, each
// with its line: unknown keys (naming the key, the keys allowed there and
// the closest one), values of the wrong shape, duplicate map keys
// (ErrSpec), and malformed templates (ErrTemplate). Whether the columns
// exist is Compile's business.
func ParseSpec(data []byte) (*Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Spec
	var problems []problem
	if err := dec.Decode(&s); err != nil {
		var te *yaml.TypeError
		switch {
		case err == io.EOF:
			return nil, fmt.Errorf("%w: the mapping file is empty; it needs at least fields: with title, description, severity and supportTopicId", ErrSpec)
		case errors.As(err, &te):
			for _, msg := range te.Errors {
				problems = append(problems, typeProblem(msg))
			}
		default:
			return nil, fmt.Errorf("%w: %w", ErrSpec, err)
		}
	}
	for _, e := range s.entries() {
		if e.f.problem != "" {
			problems = append(problems, problem{e.f.problemAt, ErrSpec, e.path + ": " + e.f.problem})
			continue
		}
		for _, t := range []struct{ what, text string }{{"", e.f.Value}, {".default", e.f.Default}} {
			if _, err := parseTemplate(t.text); err != nil {
				problems = append(problems, problem{e.f.line, ErrTemplate, e.path + t.what + ": " + err.Error() + " in " + strconv.Quote(t.text)})
			}
		}
		if e.f.Map != nil && e.f.Value == "" {
			problems = append(problems, problem{e.f.line, ErrSpec, e.path + ": map given without a value to look up; add value: \"{{Column}}\""})
		}
	}
	if len(problems) == 0 {
		return &s, nil
	}
	slices.SortStableFunc(problems, func(a, b problem) int { return a.line - b.line })
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = newRule(p.rule, atLine(p.line, p.msg))
	}
	return nil, errors.Join(errs...)
}

// atLine prefixes msg with the mapping file's line, unless line is
// unknown (0) or msg already names one.
func atLine(line int, msg string) string {
	if line > 0 && !strings.HasPrefix(msg, "line ") {
		return "line " + strconv.Itoa(line) + ": " + msg
	}
	return msg
}

type problem struct {
	line int
	rule error
	msg  string
}

// sections names, for each struct of the file, where it sits and the keys
// it allows, to turn yaml's "field x not found in type T" into advice.
var sections = map[string]struct {
	path string
	keys []string
}{
	reflect.TypeFor[Spec]().String():        {"the top level", yamlKeys[Spec]()},
	reflect.TypeFor[FieldsSpec]().String():  {"fields", yamlKeys[FieldsSpec]()},
	reflect.TypeFor[ContactSpec]().String(): {"fields.primaryContact", yamlKeys[ContactSpec]()},
}

func yamlKeys[T any]() []string {
	t := reflect.TypeFor[T]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("yaml")
	}
	return keys
}

// typeProblem rewrites one of yaml's type errors for a person.
func typeProblem(msg string) problem {
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			line, _ = strconv.Atoi(n)
			msg = tail
		}
	}
	if rest, ok := strings.CutPrefix(msg, "field "); ok {
		if key, typ, ok := strings.Cut(rest, " not found in type "); ok {
			if sec, ok := sections[typ]; ok {
				text := "unknown key " + strconv.Quote(key) + " in " + sec.path
				if near, ok := closest(key, sec.keys); ok {
					text += "; did you mean " + strconv.Quote(near) + "?"
				}
				return problem{line, ErrSpec, text + " Allowed there: " + strings.Join(sec.keys, ", ")}
			}
		}
	}
	return problem{line, ErrSpec, msg}
}

// entry is one FieldSpec of a Spec with its path in the file.
type entry struct {
	path string
	id   fieldID // -1 for notes
	f    *FieldSpec
}

// entries lists every FieldSpec of s in field order, notes last.
func (s *Spec) entries() []entry { return s.entriesOf(fields[:]) }

// entriesOf lists the FieldSpec of each field of tbl, then the notes.
func (s *Spec) entriesOf(tbl []field) []entry {
	es := make([]entry, 0, len(tbl)+len(s.Notes))
	for id := range tbl {
		es = append(es, entry{tbl[id].path(), fieldID(id), tbl[id].spec(s)})
	}
	for i := range s.Notes {
		es = append(es, entry{"notes[" + strconv.Itoa(i) + "]", -1, &s.Notes[i]})
	}
	return es
}

// field returns the FieldSpec of a field.
func (s *Spec) field(id fieldID) *FieldSpec { return fields[id].spec(s) }
