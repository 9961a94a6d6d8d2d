package mapping

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/srimport/srimport/wire"
)

// TestFieldTable checks that every field of the table reaches every place
// a field must be known: the catalogue and the fill-in file's columns, Auto
// matching (by its name and by its column's header), the mapping file's
// keys (both ways: every FieldSpec key of the file is a field) and the
// request, through its setter.
func TestFieldTable(t *testing.T) {
	cat := Catalogue()
	if len(cat) != len(fields)+1 || cat[len(cat)-1].Field != "notes" {
		t.Fatalf("Catalogue has %d columns, want the %d fields then Notes", len(cat), len(fields))
	}
	columns := Columns()
	claimed := map[string]string{} // folded header → field
	paths := map[string]bool{}
	for id := range numFields {
		f := &fields[id]
		if f.name == "" || f.spec == nil || f.set == nil || f.header == "" || f.help == "" || f.example == "" {
			t.Errorf("field %d is incomplete: %+v", id, f)
			continue
		}
		if c := cat[id]; c.Field != f.name || c.Header != f.header || c.Description != f.help || c.Example != f.example ||
			!slices.Equal(c.Values, f.values) {
			t.Errorf("%s: catalogue column %d is %+v", f.name, id, c)
		}
		if columns[id] != f.header {
			t.Errorf("%s: Columns()[%d] = %q, want %q", f.name, id, columns[id], f.header)
		}
		if (f.max > 0) != (f.what != "") {
			t.Errorf("%s: max %d with what %q", f.name, f.max, f.what)
		}

		// Auto: the field's own name, each alias and its header match it,
		// and no other field.
		for _, h := range append([]string{f.name, f.header}, f.aliases...) {
			folded := foldHeader(h)
			if other, dup := claimed[folded]; dup && other != f.name {
				t.Errorf("header %q matches both %s and %s", h, other, f.name)
			}
			claimed[folded] = f.name
			spec, err := AutoSpec([]string{"Title", "Description", "Severity", "SupportTopicId", h})
			if err != nil {
				t.Errorf("%s: AutoSpec: %v", f.name, err)
				continue
			}
			if got := spec.field(id).Value; got != columnRef(h) && !slices.Contains([]string{"title", "description", "severity", "supporttopicid"}, folded) {
				t.Errorf("%s: Auto matches header %q to %q", f.name, h, got)
			}
		}

		// The mapping file's key, through ParseSpec.
		yaml, indent := "", ""
		keys := strings.Split(f.path(), ".")
		for i, k := range keys {
			yaml += indent + k + ":"
			if i == len(keys)-1 {
				yaml += ` "{{Cell}}"`
			}
			yaml += "\n"
			indent += "  "
		}
		spec, err := ParseSpec([]byte(yaml))
		if err != nil {
			t.Errorf("%s: the mapping file key %s: %v", f.name, f.path(), err)
		} else if got := spec.field(id).Value; got != "{{Cell}}" {
			t.Errorf("%s: %s sets %q", f.name, f.path(), got)
		}
		paths[f.path()] = true

		// The setter sends the value somewhere.
		var r Request
		r.SR.PrimaryContact = new(wire.Contact)
		f.set(&r, f.example)
		if reflect.DeepEqual(r, Request{SR: wire.ServiceRequest{PrimaryContact: new(wire.Contact)}}) {
			t.Errorf("%s: set changes nothing", f.name)
		}
	}

	// Every FieldSpec of a mapping file but the key is a field.
	var walk func(typ reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for sf := range typ.Fields() {
			path := prefix + sf.Tag.Get("yaml")
			switch {
			case path == "key":
			case sf.Type == reflect.TypeFor[FieldSpec]():
				if !paths[path] {
					t.Errorf("the mapping file's %s is not in the field table", path)
				}
			case sf.Type.Kind() == reflect.Struct:
				walk(sf.Type, path+".")
			}
		}
	}
	walk(reflect.TypeFor[Spec](), "")

	for id, name := range map[fieldID]string{fTitle: "title", fDescription: "description", fSeverity: "severity",
		fTopicID: "supportTopicId", fTopicName: "supportTopicName", fCountry: "countryCode", fLocale: "locale"} {
		if fields[id].name != name {
			t.Errorf("fields[%d] is %s, want %s", id, fields[id].name, name)
		}
	}
}

// withInfo returns the field table with one more field, additionalInfo
// (required when required is set): a text of at most 10 characters, kept
// outside Spec's structs.
func withInfo(required bool) []field {
	extra := map[*Spec]*FieldSpec{}
	info := field{
		name: "additionalInfo", aliases: []string{"info"}, required: required, max: 10, what: "additional info",
		spec: func(s *Spec) *FieldSpec {
			if extra[s] == nil {
				extra[s] = &FieldSpec{}
			}
			return extra[s]
		},
		set:    func(r *Request, v string) { r.SR.AdditionalInfo = v },
		header: "AdditionalInfo", help: "More about the request.", example: "VIP",
	}
	return append(slices.Clone(fields[:]), info)
}

// TestFieldTableInjected adds a field to a copy of the table and follows
// it through the catalogue, Auto, Map, Check, validation and the
// required-field checks.
func TestFieldTableInjected(t *testing.T) {
	tbl := withInfo(false)
	cat := catalogueOf(tbl)
	if c := cat[len(cat)-2]; c.Header != "AdditionalInfo" || c.Field != "additionalInfo" || c.Example != "VIP" || c.Required {
		t.Errorf("catalogue column = %+v", c)
	}

	header := []string{"Title", "Description", "Severity", "SupportTopicId", "Info"}
	m, err := autoOf(tbl, header, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Fields(); got[len(got)-1] != (Binding{"additionalInfo", `column "Info"`}) {
		t.Errorf("Fields() = %v", got)
	}
	req, err := mapChecked(t, m, []string{"t", "d", "minimal", "1", " gold "}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if req.SR.AdditionalInfo != "gold" || req.SR.Title != "t" || req.SR.PrimaryContact != nil {
		t.Errorf("request = %+v", req.SR)
	}
	_, err = mapChecked(t, m, []string{"t", "d", "minimal", "1", "far too long"}, 3)
	var fe *FieldError
	if !errors.As(err, &fe) || !errors.Is(err, ErrTooLong) ||
		err.Error() != `row 3, column "Info" (additionalInfo): is 12 characters long; srimport allows at most 10 in additional info` {
		t.Errorf("too long: %v", err)
	}

	// Required: Auto, Compile and Map insist on it.
	tbl = withInfo(true)
	if c := catalogueOf(tbl)[len(tbl)-1]; !c.Required {
		t.Errorf("catalogue column = %+v, want required", c)
	}
	if _, err := autoOf(tbl, header[:4], Options{}); !errors.Is(err, ErrNoColumn) || !strings.Contains(err.Error(), "no column for additionalInfo. ") {
		t.Errorf("Auto without the column: %v", err)
	}
	spec := &Spec{Fields: FieldsSpec{Title: FieldSpec{Value: "t"}, Description: FieldSpec{Value: "d"}, Severity: FieldSpec{Value: "minimal"},
		SupportTopicID: FieldSpec{Value: "1"}}}
	if _, err := compileOf(tbl, spec, header, Options{}); !errors.Is(err, ErrNoColumn) || !strings.Contains(err.Error(), "does not set additionalInfo;") {
		t.Errorf("Compile without the field: %v", err)
	}
	if m, err = autoOf(tbl, header, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := mapChecked(t, m, []string{"t", "d", "minimal", "1", ""}, 4); !errors.Is(err, ErrRequired) ||
		err.Error() != `row 4, column "Info" (additionalInfo): required, but empty` {
		t.Errorf("blank: %v", err)
	}
}
