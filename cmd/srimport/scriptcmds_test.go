package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/srimport/srimport/emulator"
)

// cmdEmulator checks or changes the script's emulator:
//
//	emulator created N    it holds N service requests
//	emulator creates N    it has received N create requests (refused ones included)
//	emulator calls N      it has answered N API requests (topic lists and lists included)
//	emulator hide-topics  serve it at a new $SRIMPORT_BASE_URL without a topic list
func cmdEmulator(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: emulator created N | creates N | calls N | hide-topics")
	}
	switch args[0] {
	case "created":
		emulatorCreated(ts, neg, args[1:])
	case "creates":
		emulatorCount(ts, neg, "creates", "received %d create requests", args[1:])
	case "calls":
		emulatorCount(ts, neg, "calls", "answered %d API requests", args[1:])
	case "hide-topics":
		emulatorHideTopics(ts, neg, args[1:])
	default:
		ts.Fatalf("emulator: unknown subcommand %q", args[0])
	}
}

// scriptReadCSV reads a report (or any CSV file) as a header and its records.
func scriptReadCSV(ts *testscript.TestScript, name string) (header []string, recs [][]string) {
	b, err := os.ReadFile(ts.MkAbs(name))
	ts.Check(err)
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	ts.Check(err)
	if len(all) == 0 {
		ts.Fatalf("%s: empty", name)
	}
	return all[0], all[1:]
}

// scriptColumn returns the index of the column named name in header.
func scriptColumn(ts *testscript.TestScript, file string, header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i
		}
	}
	ts.Fatalf("%s: no column %q; it has %q", file, name, header)
	return -1
}

// cmdSameIDs checks that the rows of a later report keep the ids of the
// same rows in an earlier one. Rows are matched by the value of COLUMN (its
// n-th occurrence in NEW with its n-th occurrence in OLD). Every row of NEW
// whose status is -status (default skipped) must have a counterpart in OLD
// that is created, skipped or of that status, with the same
// service_request_id (non-empty for created and skipped rows) and
// request_id. With !, every such row that has a counterpart must have a
// different service_request_id and request_id (rows without one are passed
// over). It prints how many rows it compared.
//
//	[!] sameids [-status S] OLD NEW COLUMN
func cmdSameIDs(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("sameids", flag.ContinueOnError)
	status := fs.String("status", "skipped", "")
	if fs.Parse(args) != nil || fs.NArg() != 3 {
		ts.Fatalf("usage: [!] sameids [-status S] OLD NEW COLUMN")
	}
	oldName, newName, col := fs.Arg(0), fs.Arg(1), fs.Arg(2)
	oh, old := scriptReadCSV(ts, oldName)
	nh, cur := scriptReadCSV(ts, newName)
	type ids struct{ status, sr, req string }
	oc, nc := scriptColumn(ts, oldName, oh, col), scriptColumn(ts, newName, nh, col)
	byKey := make(map[string][]ids)
	for _, r := range old {
		byKey[r[oc]] = append(byKey[r[oc]], ids{r[1], r[2], r[6]})
	}
	seen := make(map[string]int)
	n := 0
	for _, r := range cur {
		k := r[nc]
		i := seen[k]
		seen[k]++
		if r[1] != *status {
			continue
		}
		if i >= len(byKey[k]) {
			if neg {
				continue
			}
			ts.Fatalf("%s row %s (%s %q): no such row in %s", newName, r[0], col, k, oldName)
		}
		o := byKey[k][i]
		switch {
		case neg && (r[2] == o.sr || r[6] == o.req):
			ts.Fatalf("%s row %s (%s %q): service_request_id %q, request_id %q: %s has the same", newName, r[0], col, k, r[2], r[6], oldName)
		case neg:
		case o.status != "created" && o.status != "skipped" && o.status != *status:
			ts.Fatalf("%s row %s (%s %q): %s, but %s has it %s", newName, r[0], col, k, r[1], oldName, o.status)
		case r[2] != o.sr || r[2] == "" && (*status == "created" || *status == "skipped"):
			ts.Fatalf("%s row %s (%s %q): service_request_id %q, %s has %q", newName, r[0], col, k, r[2], oldName, o.sr)
		case r[6] != o.req || r[6] == "":
			ts.Fatalf("%s row %s (%s %q): request_id %q, %s has %q", newName, r[0], col, k, r[6], oldName, o.req)
		}
		n++
	}
	if neg {
		fmt.Fprintf(ts.Stdout(), "%d %s rows have new ids\n", n, *status)
		return
	}
	fmt.Fprintf(ts.Stdout(), "%d %s rows keep their ids\n", n, *status)
}

func scriptEmulator(ts *testscript.TestScript) *emulator.Emulator {
	return ts.Value(emulatorKey{}).(*emulator.Emulator)
}

// emulatorCreated checks how many service requests the script's emulator
// holds.
func emulatorCreated(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: emulator created N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := len(scriptEmulator(ts).ServiceRequests())
	if (got == want) == neg {
		ts.Fatalf("emulator holds %d service requests; want %s%d", got, map[bool]string{true: "not "}[neg], want)
	}
	fmt.Fprintf(ts.Stdout(), "emulator holds %d service requests\n", got)
}

// emulatorCount checks one of the script's emulator's counters so far:
// "creates", the create requests that passed authentication, or "calls",
// every API request.
func emulatorCount(ts *testscript.TestScript, neg bool, name, says string, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: emulator %s N", name)
	}
	want, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	st := scriptEmulator(ts).Stats()
	got := st.Requests
	if name == "creates" {
		got = st.Creates
	}
	if (got == want) == neg {
		ts.Fatalf("emulator "+says+"; want %s%d", got, map[bool]string{true: "not "}[neg], want)
	}
	fmt.Fprintf(ts.Stdout(), "emulator "+says+"\n", got)
}

// emulatorHideTopics serves the script's emulator at a second URL where
// the support-topic list answers 404, as if it were retired, and points
// $SRIMPORT_BASE_URL there: srimport then cannot check topic ids itself,
// and a topic id the service does not know is refused by the service (400)
// instead of being reported invalid.
func emulatorHideTopics(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: emulator hide-topics")
	}
	em := scriptEmulator(ts)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.EqualFold(strings.TrimSuffix(r.URL.Path, "/"), "/v1/servicerequests/supporttopics") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"code":"1000","description":"The requested resource was not found.","data":[],"source":"PartnerFD"}`)
			return
		}
		em.ServeHTTP(w, r)
	}))
	ts.Defer(srv.Close)
	ts.Setenv("SRIMPORT_BASE_URL", srv.URL)
}

// cmdJSONHas checks that a file (or stdout) is JSON and that it, or every
// element of it when it is an array, has each FIELD; a FIELD may be a
// dotted path (counts.created). It prints how many objects it checked.
// With !, it checks that no object has any of the fields.
//
//	jsonhas FILE FIELD...
func cmdJSONHas(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: jsonhas FILE FIELD...")
	}
	var doc any
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &doc); err != nil {
		ts.Fatalf("%s is not JSON: %v", args[0], err)
	}
	objs := []any{doc}
	if a, ok := doc.([]any); ok {
		objs = a
	}
	if len(objs) == 0 {
		ts.Fatalf("%s is an empty array", args[0])
	}
	for i, o := range objs {
		for _, field := range args[1:] {
			v, ok := o, true
			for _, name := range strings.Split(field, ".") {
				m, isObj := v.(map[string]any)
				if !isObj {
					ok = false
					break
				}
				if v, ok = m[name]; !ok {
					break
				}
			}
			if ok == neg {
				ts.Fatalf("%s: element %d: field %s: present %v, want %v", args[0], i, field, ok, !neg)
			}
		}
	}
	fmt.Fprintf(ts.Stdout(), "%d JSON objects checked\n", len(objs))
}
