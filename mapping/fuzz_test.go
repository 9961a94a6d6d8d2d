package mapping

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/srimport/srimport/wire"
)

// FuzzTemplate checks the template parser and renderer on any text: they
// never panic, text without {{ or }} is a literal that renders as itself
// (trimmed), a parsed template formats back to one that parses the same,
// and rendering substitutes every column.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"", "plain", "{{A}}", "{{Subject}} ({{Ticket ID}})", " {{ a }} ", "{x}", "{{", "}}", "{{}}", "{{ }}",
		"{{a}}}", "{{{a}}", "a{{b}}c{{d}}e", "{{a{{b}}}}", "ünï{{cödé}}", "\x00{{\xff}}",
	} {
		f.Add(s)
	}
	for _, fs := range sampleFieldSpecs(f) {
		f.Add(fs.Value)
	}
	f.Fuzz(func(t *testing.T, s string) {
		segs, err := parseTemplate(s)
		if !strings.Contains(s, "{{") && !strings.Contains(s, "}}") {
			if err != nil {
				t.Fatalf("literal %q: %v", s, err)
			}
			if got := formatTemplate(segs); got != s {
				t.Fatalf("literal %q formats as %q", s, got)
			}
		}
		if err != nil {
			return
		}
		again, err := parseTemplate(formatTemplate(segs))
		if err != nil || !reflect.DeepEqual(again, segs) {
			t.Fatalf("%q: formatted %q parses as %v, %v; want %v", s, formatTemplate(segs), again, err, segs)
		}

		// Compile against a header holding every name, and render.
		var header []string
		for _, sg := range segs {
			if sg.isCol {
				header = append(header, sg.text)
			}
		}
		c := &compiler{m: &Mapper{header: header}, index: map[string]int{}}
		for i, h := range header {
			if _, dup := c.index[strings.ToLower(h)]; !dup {
				c.index[strings.ToLower(h)] = i
			}
		}
		tm := c.template("t", s)
		if len(c.errs) > 0 {
			t.Fatalf("%q: %v", s, c.errs)
		}
		values := make([]string, len(header))
		for i, h := range header {
			values[i] = "<" + h + ">"
		}
		var want strings.Builder
		for _, sg := range segs {
			if sg.isCol {
				want.WriteString(values[c.index[strings.ToLower(sg.text)]])
			} else {
				want.WriteString(sg.text)
			}
		}
		got, blank := tm.render(values, nil)
		if got != strings.TrimSpace(want.String()) {
			t.Fatalf("%q renders %q, want %q", s, got, strings.TrimSpace(want.String()))
		}
		if blank != (got == "") {
			t.Fatalf("%q: blank %v for %q", s, blank, got)
		}
		// Check's rendering into a scratch buffer agrees, and leaves what
		// the buffer held before alone.
		scratch := []byte("kept")
		got2, blank2 := tm.render(values, &scratch)
		if got2 != got || blank2 != blank || string(scratch[:4]) != "kept" {
			t.Fatalf("%q renders %q, %v into scratch %q; want %q, %v", s, got2, blank2, scratch, got, blank)
		}
		tm.render(nil, nil) // a short row must not panic
		tm.render(nil, &scratch)
	})
}

// FuzzValueMap checks the value-map engine on any keys, values, default
// and cell: Compile and Map never panic; a cell equal to a key, whatever
// its case (as strings.EqualFold sees it) and surrounding whitespace,
// yields that key's value; another non-blank cell yields the "*" key's
// value, or is ErrUnmappedValue naming it; a blank cell yields the
// default; and for severity every
// result is a severity or a typed error. large pads the map past the size
// at which lookups switch to an index.
func FuzzValueMap(f *testing.F) {
	f.Add("P1", "critical", "High", "moderate", "minimal", " p1 ", false)
	f.Add("Sev A", "critical", "", "moderate", "", "sev a", true)
	f.Add("ſ", "minimal", "k", "critical", "{{Cell}}", "S", true)
	f.Add("a", "x", "A", "y", "", "a", false)
	f.Add("Ünïcode", "moderate", "\xff", "minimal", "moderate", "üNÏCODE", false)
	f.Add("x", "", "y", "critical", "", "critical", false)
	f.Add("*", "minimal", "P1", "critical", "moderate", "P9", false)
	for _, fs := range sampleFieldSpecs(f) {
		keys := slices.Sorted(maps.Keys(fs.Map))
		for i := 0; i+1 < len(keys); i += 2 {
			k1, k2 := keys[i], keys[i+1]
			f.Add(k1, fs.Map[k1], k2, fs.Map[k2], fs.Default, strings.ToUpper(k2), len(keys) > 2)
		}
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, def, cellText string, large bool) {
		vmap := map[string]string{k1: v1, k2: v2}
		if large {
			for i := range 10 {
				vmap["filler "+strconv.Itoa(i)] = "moderate"
			}
		}
		// The keys and what a cell matching them must yield.
		type pair struct{ key, val string }
		var pairs []pair
		for k, v := range vmap {
			pairs = append(pairs, pair{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
		var star *pair
		for i := range pairs {
			if pairs[i].key == OtherKey {
				star = &pairs[i]
			}
		}
		cells := []string{cellText, " \t" + strings.TrimSpace(k1) + " ", strings.ToUpper(k1), strings.ToLower(k2), "\n" + strings.ToTitle(k2)}

		for _, target := range []fieldID{fProductName, fSeverity} {
			spec := &Spec{Fields: FieldsSpec{Title: FieldSpec{Value: "t"}, Description: FieldSpec{Value: "d"},
				Severity: FieldSpec{Value: "minimal"}, SupportTopicID: FieldSpec{Value: "1"}}}
			*spec.field(target) = FieldSpec{Value: "{{Cell}}", Map: vmap, Default: def}
			m, err := Compile(spec, []string{"Cell"}, Options{})
			if err != nil {
				if !errors.Is(err, ErrSpec) && !errors.Is(err, ErrTemplate) && !errors.Is(err, ErrUnknownColumn) && !errors.Is(err, ErrSeverity) {
					t.Fatalf("Compile: untyped error %v", err)
				}
				continue
			}
			for _, cell := range cells {
				req, err := mapChecked(t, m, []string{cell}, 2)
				got := ""
				if err == nil {
					got = req.SR.ProductName
					if target == fSeverity {
						got = req.SR.Severity.String()
					}
				}
				trimmed := strings.TrimSpace(cell)
				var match *pair
				for i := range pairs {
					if strings.EqualFold(pairs[i].key, trimmed) {
						match = &pairs[i]
						break
					}
				}
				switch {
				case match != nil && target == fProductName:
					if err != nil || got != match.val {
						t.Fatalf("cell %q matches key %q: got %q, %v; want %q", cell, match.key, got, err, match.val)
					}
				case match != nil && target == fSeverity:
					want, ok := parseSeverity(match.val)
					if match.val == "" {
						if !errors.Is(err, ErrRequired) {
							t.Fatalf("cell %q maps to blank: err %v, want ErrRequired", cell, err)
						}
					} else if !ok || err != nil || got != want.String() {
						t.Fatalf("cell %q matches key %q: got %q, %v; want %q", cell, match.key, got, err, match.val)
					}
				case target == fSeverity && isSeverityName(trimmed):
					if err != nil || !strings.EqualFold(got, trimmed) {
						t.Fatalf("severity name %q does not pass through: got %q, %v", cell, got, err)
					}
				case trimmed != "" && star != nil:
					if target == fProductName && (err != nil || got != star.val) {
						t.Fatalf("unmapped %q: got %q, %v; want the \"*\" value %q", cell, got, err, star.val)
					}
				case trimmed != "":
					var fe *FieldError
					if !errors.Is(err, ErrUnmappedValue) || !errors.As(err, &fe) || fe.Value != trimmed {
						t.Fatalf("unmapped %q without a \"*\" key: err %v, want ErrUnmappedValue naming it", cell, err)
					}
				case !strings.Contains(def, "{{") && target == fProductName:
					if err != nil || got != strings.TrimSpace(def) {
						t.Fatalf("blank %q: got %q, %v; want the default %q", cell, got, err, def)
					}
				}
				if err != nil && target == fSeverity && !errors.Is(err, ErrUnmappedValue) && !errors.Is(err, ErrSeverity) && !errors.Is(err, ErrRequired) {
					t.Fatalf("cell %q: untyped error %v", cell, err)
				}
				if err == nil && target == fSeverity && req.SR.Severity == wire.SeverityUnknown {
					t.Fatalf("cell %q: severity unknown without an error", cell)
				}
			}
		}
	})
}

// sampleFieldSpecs returns every field of samples/mapping.yaml, the fuzz
// targets' seeds.
func sampleFieldSpecs(f *testing.F) []FieldSpec {
	spec, err := LoadSpec("../samples/mapping.yaml")
	if err != nil {
		f.Fatal(err)
	}
	var set []FieldSpec
	for _, e := range spec.entries() {
		if !e.f.IsZero() {
			set = append(set, *e.f)
		}
	}
	if len(set) < 5 {
		f.Fatalf("samples/mapping.yaml yields only %d fields", len(set))
	}
	return set
}
