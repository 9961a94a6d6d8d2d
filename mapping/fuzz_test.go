package mapping

import (
	"reflect"
	"strings"
	"testing"
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
		got, blank := tm.render(values)
		if got != strings.TrimSpace(want.String()) {
			t.Fatalf("%q renders %q, want %q", s, got, strings.TrimSpace(want.String()))
		}
		if blank != (got == "") {
			t.Fatalf("%q: blank %v for %q", s, blank, got)
		}
		tm.render(nil) // a short row must not panic
	})
}
