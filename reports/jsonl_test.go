package reports_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/srimport/srimport/reports"
)

// writeJSONL writes recs as the JSON Lines report at a new path.
func writeJSONL(t *testing.T, header []string, recs []reports.Record) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.jsonl")
	f, err := reports.Create(path, header)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := f.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestJSONLLines(t *testing.T) {
	path := writeJSONL(t, []string{"Title", "status", "Title"}, []reports.Record{
		{Row: 2, Status: reports.Created, ServiceRequestID: "616000000000001", Attempts: 1, RequestID: "id-2", Input: []string{"a \"b\"\n<c>", "open", "t2"}},
		{Row: 4, Status: reports.Invalid, ErrorClass: "validation", Error: "Severity: bad", Input: []string{"short"}},
	})
	want := `{"row":2,"status":"created","service_request_id":"616000000000001","error_class":"","error":"","attempts":1,"request_id":"id-2","input":{"Title":"a \"b\"\n<c>","status":"open","input:2:Title":"t2"}}` + "\n" +
		`{"row":4,"status":"invalid","service_request_id":"","error_class":"validation","error":"Severity: bad","attempts":0,"request_id":"","input":{"Title":"short","status":"","input:2:Title":""}}` + "\n"
	if got := readFile(t, path); got != want {
		t.Fatalf("report\n got %s\nwant %s", got, want)
	}
	for i, line := range strings.Split(strings.TrimSuffix(want, "\n"), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
	}
}

func TestJSONLStringsAreJSON(t *testing.T) {
	values := []string{"", "plain", "quote \" backslash \\ slash /", "\x00\x01\x1f\x7f", "tab\tcr\rlf\n",
		"Überprüfung 設定 подписка 🙂", "\u2028\u2029", "bad \xff utf-8 \xe2\x82", "<script>&amp;"}
	var recs []reports.Record
	for i, v := range values {
		recs = append(recs, reports.Record{Row: i + 2, Status: reports.Failed, Error: v, Input: []string{v}})
	}
	path := writeJSONL(t, []string{"v"}, recs)
	lines := bytes.Split(bytes.TrimSuffix([]byte(readFile(t, path)), []byte("\n")), []byte("\n"))
	if len(lines) != len(values) {
		t.Fatalf("%d lines, want %d", len(lines), len(values))
	}
	for i, line := range lines {
		var got struct {
			Error string
			Input struct{ V string }
		}
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("line %d %s: %v", i+1, line, err)
		}
		// Invalid UTF-8 reads as encoding/json writes it: U+FFFD a byte.
		var want string
		b, _ := json.Marshal(values[i])
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if got.Error != want || got.Input.V != want {
			t.Errorf("line %d reads %q / %q, want %q", i+1, got.Error, got.Input.V, want)
		}
	}
}

func TestJSONLReadsBackAsWritten(t *testing.T) {
	header := []string{"Title", "status", "Title", "input:x", "input:2:Title"}
	recs := padded(xlsxRecords, len(header))
	path := writeJSONL(t, header, xlsxRecords)
	gotHeader, got := readBack(t, path)
	if !reflect.DeepEqual(gotHeader, header) {
		t.Fatalf("header %q, want %q", gotHeader, header)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("records\n got %+v\nwant %+v", got, recs)
	}
}

func TestJSONLReadsLinesAsJQLeavesThem(t *testing.T) {
	// Members in another order, input values left out or null, CRLF line
	// ends, blank lines.
	path := filepath.Join(t.TempDir(), "r.jsonl")
	content := `{"row":2,"status":"failed","input":{"A":"a","B":"b"},"attempts":2,"request_id":"id-2"}` + "\r\n\r\n" +
		`{"input":{"B":"y","A":null},"status":"unknown","row":3}`
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	header, got := readBack(t, path)
	want := []reports.Record{
		{Row: 2, Status: reports.Failed, Attempts: 2, RequestID: "id-2", Input: []string{"a", "b"}},
		{Row: 3, Status: reports.Unknown, Input: []string{"", "y"}},
	}
	if !reflect.DeepEqual(header, []string{"A", "B"}) || !reflect.DeepEqual(got, want) {
		t.Fatalf("read %q %+v, want [A B] %+v", header, got, want)
	}
}

func TestJSONLWithoutRecordsHasNoHeader(t *testing.T) {
	header, got := readBack(t, writeJSONL(t, []string{"Title"}, nil))
	if header != nil || got != nil {
		t.Fatalf("empty report read as %q %v, want no header and no records", header, got)
	}
}

func TestOpenJSONLRefusesWhatIsNotAReport(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"csv":       "row,status\n2,created\n",
		"array":     `[{"row":2}]`,
		"no status": `{"row":2,"input":{}}`,
		"bad row":   `{"row":0,"status":"created"}`,
		"bad state": `{"row":2,"status":"done"}`,
		"input":     `{"row":2,"status":"created","input":["a"]}`,
		"number":    `{"row":2,"status":"created","input":{"a":1}}`,
	} {
		path := filepath.Join(dir, name+".jsonl")
		if err := os.WriteFile(path, []byte(content+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := reports.Open(path)
		if !errors.Is(err, reports.ErrNotReport) || !strings.Contains(err.Error(), path+": ") || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%s: Open: %v, want ErrNotReport naming %s line 1", name, err, path)
		}
		if r != nil {
			t.Errorf("%s: a reader with the error", name)
		}
	}
}

func TestJSONLNextRefusesBadLines(t *testing.T) {
	const first = `{"row":2,"status":"created","input":{"A":"a"}}` + "\n"
	for _, tc := range []struct{ line, want string }{
		{`{"row":3,"status":"created","input":{"C":"c"}}`, `line 2: "input": "C" is not one of the first line's input columns ["A"]`},
		{`{"row":3,"status":"failed","attempts":-1}`, "line 2: attempts -1 is not a count"},
		{`{"row":3,`, "line 2: not a JSON object"},
	} {
		path := filepath.Join(t.TempDir(), "r.jsonl")
		if err := os.WriteFile(path, []byte(first+tc.line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := reports.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatalf("first line: %v", err)
		}
		_, err = r.Next()
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("line %s: %v, want an error naming %s and saying %q", tc.line, err, path, tc.want)
		}
		r.Close()
	}
}
