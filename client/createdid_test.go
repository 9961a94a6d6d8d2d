package client

import "testing"

func TestCreatedID(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		`{"id":"616000000000001"}`:                                   "616000000000001",
		"\uFEFF \r\n{ \"ID\" : \"7\" } \n":                           "7",
		`{"title":"a \"quoted\" } id","id":"8","x":[1,{"id":"no"}]}`: "8",
		`{"notes":[{"id":"n1"}],"Id":"9"}`:                           "9",
		`{"id":"1","id":"2"}`:                                        "2",
		`{"\u0069d":"10"}`:                                           "10",
		`{"id":"caf\u00e9"}`:                                         "café",
		`{"n":-1.5e3,"b":true,"z":null,"id":"11"}`:                   "11",
		`{"id":"12","id":null}`:                                      "12",
	}
	for body, want := range good {
		if got, err := createdID([]byte(body)); got != want || err != nil {
			t.Errorf("createdID(%q) = %q, %v; want %q", body, got, err, want)
		}
	}
	for _, body := range []string{
		``, "\uFEFF ", `{}`, `{"title":"t"}`, `{"id":""}`, `{"id":null}`, `[{"id":"1"}]`, `{"id":1}`,
		`{"id":"1"`, `{"id":"1"} x`, `{"id" "1"}`, `{"x":"unterminated}`, `<html>`, `{"x":{"id":"1"}}`,
	} {
		if got, err := createdID([]byte(body)); err == nil {
			t.Errorf("createdID(%q) = %q, want an error", body, got)
		}
	}
}

// FuzzCreatedID: wherever encoding/json decodes an id from a body,
// createdID finds the same one.
func FuzzCreatedID(f *testing.F) {
	for _, s := range []string{`{"id":"1"}`, `{"title":"x","ID":"2","notes":[{"id":"3"}]}`, "\uFEFF{\"Id\":\"4\"}", `{"id":"\u00e9\n"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := createdID(body)
		var v struct {
			ID string `json:"id"`
		}
		if Decode(body, &v) != nil || v.ID == "" {
			return // createdID may accept or refuse what encoding/json refuses
		}
		if err != nil || got != v.ID {
			t.Errorf("createdID(%q) = %q, %v; encoding/json finds %q", body, got, err, v.ID)
		}
	})
}
