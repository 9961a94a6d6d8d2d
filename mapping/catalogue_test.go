package mapping

import (
	"slices"
	"strings"
	"testing"
)

// TestCatalogue checks each column against the engine: Auto maps its
// header to its field, its example passes validation, Required matches
// what Map demands, and Values are the severities.
func TestCatalogue(t *testing.T) {
	cat := Catalogue()
	header := Columns()
	examples := make([]string, len(cat))
	for i, c := range cat {
		examples[i] = c.Example
		if c.Header == "" || c.Field == "" || c.Description == "" || c.Example == "" {
			t.Errorf("column %d is incomplete: %+v", i, c)
		}
		if !strings.HasSuffix(c.Description, ".") {
			t.Errorf("%s: description is not a sentence: %q", c.Header, c.Description)
		}
	}
	m := mustAuto(t, header, Options{Topics: topics})
	bound := map[string]string{}
	for _, b := range m.Fields() {
		if col, ok := strings.CutPrefix(b.Source, "column "); ok {
			bound[strings.Trim(col, `"`)] = b.Field
		}
	}
	for _, c := range cat {
		if bound[c.Header] != c.Field {
			t.Errorf("Auto maps %q to %q, catalogue says %q", c.Header, bound[c.Header], c.Field)
		}
	}
	if _, err := mapChecked(t, m, examples, 2); err != nil {
		t.Fatalf("the examples do not validate: %v", err)
	}
	for i, c := range cat {
		row := slices.Clone(examples)
		row[i] = ""
		if c.Field == "supportTopicId" {
			row[i+1] = "" // the name stands in for the id; blank both
		}
		_, err := mapChecked(t, m, row, 2)
		if (err != nil) != c.Required {
			t.Errorf("%s empty: err = %v, but Required = %v", c.Header, err, c.Required)
		}
		for _, v := range c.Values {
			row := slices.Clone(examples)
			row[i] = strings.ToUpper(v)
			if _, err := mapChecked(t, m, row, 2); err != nil {
				t.Errorf("%s = %q: %v", c.Header, v, err)
			}
		}
	}
	if cat[0].Header = "changed"; Catalogue()[0].Header != "Title" {
		t.Error("Catalogue shares its slice between calls")
	}
}
