package reports_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/srimport/srimport/reports"
)

func TestInputColumns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out []string
	}{
		{"plain names kept", []string{"Title", "Notes", "Status code"}, []string{"Title", "Notes", "Status code"}},
		{"none", nil, []string{}},
		{"fixed names, any case or spacing",
			[]string{"status", " Status ", "ROW", "Error", "request_id", "Service_Request_ID"},
			[]string{"input:status", "input: Status ", "input:ROW", "input:Error", "input:request_id", "input:Service_Request_ID"}},
		{"a name already prefixed",
			[]string{"status", "input:status", "input:2:x", "Input:x"},
			[]string{"input:status", "input:input:status", "input:input:2:x", "Input:x"}},
		{"repeated names",
			[]string{"Notes", "status", "Notes", "status", "Notes", "2:Notes"},
			[]string{"Notes", "input:status", "input:2:Notes", "input:2:status", "input:3:Notes", "2:Notes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := reports.InputColumns(tc.in)
			if !reflect.DeepEqual(got, tc.out) {
				t.Fatalf("InputColumns(%q)\n got %q\nwant %q", tc.in, got, tc.out)
			}
			checkInputColumns(t, tc.in)
		})
	}
}

// checkInputColumns checks InputColumns(in)'s promises: one name per
// column, all names different, none a fixed name, and InputHeader undoes
// it.
func checkInputColumns(t *testing.T, in []string) {
	t.Helper()
	out := reports.InputColumns(in)
	if len(out) != len(in) {
		t.Fatalf("InputColumns(%q) = %q: %d names for %d columns", in, out, len(out), len(in))
	}
	seen := make(map[string]bool)
	for _, c := range reports.Columns() {
		seen[c] = true
	}
	for _, name := range out {
		for _, c := range reports.Columns() {
			if strings.EqualFold(strings.TrimSpace(name), c) {
				t.Fatalf("InputColumns(%q) = %q: %q reads as the fixed column %q", in, out, name, c)
			}
		}
		if seen[name] {
			t.Fatalf("InputColumns(%q) = %q: %q twice", in, out, name)
		}
		seen[name] = true
	}
	header := append(reports.Columns(), out...)
	if !reports.IsReportHeader(header) {
		t.Fatalf("IsReportHeader(%q) = false", header)
	}
	back, err := reports.InputHeader(header)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) == 0 && len(back) == 0 {
		return
	}
	if !reflect.DeepEqual(back, in) {
		t.Fatalf("InputHeader(InputColumns(%q)) = %q", in, back)
	}
}

func FuzzInputColumns(f *testing.F) {
	for _, s := range []string{
		"Title|Notes", "status|input:status|status", "input:2:status|status|status",
		"input:|input:input:|input", "|| ", "row|ROW|Row|input:row|input:ROW",
		"input:02:x|x|x", "a|input:1:a|a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkInputColumns(t, strings.Split(s, "|"))
	})
}

func TestInputHeaderKeepsNamesItNeverWrites(t *testing.T) {
	in := []string{"input:x", "input:1:x", "input:02:x", "input:", "Input:status"}
	got, err := reports.InputHeader(append(reports.Columns(), in...))
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("InputHeader = %q, %v, want %q", got, err, in)
	}
}

func TestIsReportHeader(t *testing.T) {
	cols := reports.Columns()
	withBOM := append([]string{"\uFEFF" + cols[0]}, cols[1:]...)
	for _, tc := range []struct {
		name   string
		header []string
		want   bool
	}{
		{"fixed columns only", cols, true},
		{"with input columns", append(reports.Columns(), "Title", "input:status"), true},
		{"byte-order mark", withBOM, true},
		{"an input", []string{"Title", "Notes"}, false},
		{"empty", nil, false},
		{"one column short", cols[:len(cols)-1], false},
		{"reordered", append([]string{cols[1], cols[0]}, cols[2:]...), false},
		{"another case", append([]string{"Row"}, cols[1:]...), false},
		{"spaced", append([]string{" row"}, cols[1:]...), false},
	} {
		if got := reports.IsReportHeader(tc.header); got != tc.want {
			t.Errorf("%s: IsReportHeader(%q) = %v, want %v", tc.name, tc.header, got, tc.want)
		}
	}
	if _, err := reports.InputHeader([]string{"Title"}); err == nil {
		t.Error("InputHeader of an input's header: no error")
	}
}

func TestCSVHeaderRenamesInputColumns(t *testing.T) {
	var b strings.Builder
	w, err := reports.NewCSV(&b, []string{"Status", "Title", "Title"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "row,status,service_request_id,error_class,error,attempts,request_id,input:Status,Title,input:2:Title\n"
	if b.String() != want {
		t.Fatalf("header %q, want %q", b.String(), want)
	}
}
