package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/net/html"

	"github.com/srimport/srimport/emulator"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
	"github.com/srimport/srimport/state"
)

// TestHTMLScripts runs the end-to-end scripts of the run page in
// testdata/html, as TestScripts runs those in testdata/script, against an
// emulator of their own that allows 10 requests a second with a burst of
// one, so that a run of a few rows meets 429s. The command pagehas reads a
// page as a browser would.
func TestHTMLScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/html",
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			em := emulator.New(emulator.Config{Token: "script-token", Quota: 10, Burst: 1})
			srv := httptest.NewServer(em)
			env.Defer(srv.Close)
			env.Values[emulatorKey{}] = em
			env.Values[callsKey{}] = new(int64)
			env.Setenv("SRIMPORT_BASE_URL", srv.URL)
			env.Setenv("SRIMPORT_TOKEN", "script-token")
			env.Setenv("SRIMPORT_STATE_DIR", filepath.Join(env.WorkDir, ".state"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":    cmdExits,
			"apicalls": cmdAPICalls,
			"pagehas":  cmdPageHas,
		},
	})
}

type callsKey struct{}

// cmdAPICalls notes how many API requests the emulator has answered, or
// checks that it has answered none since:
//
//	apicalls mark
//	apicalls unchanged
func cmdAPICalls(ts *testscript.TestScript, neg bool, args []string) {
	marked := ts.Value(callsKey{}).(*int64)
	n := scriptEmulator(ts).Stats().Requests
	switch {
	case neg || len(args) != 1:
		ts.Fatalf("usage: apicalls mark | unchanged")
	case args[0] == "mark":
		*marked = n
	case args[0] == "unchanged":
		if n != *marked {
			ts.Fatalf("the emulator answered %d API requests since the mark", n-*marked)
		}
	default:
		ts.Fatalf("usage: apicalls mark | unchanged")
	}
}

// pageFacts is what pagehas reads from a run page.
type pageFacts struct {
	counts    map[string]int // rows by status
	groups    int            // error groups
	charts    int            // figures
	svgs      int            // <svg> elements
	throttled int            // the "answered 429" figure; -1 when absent
	exit      string
	fetches   []string // elements or attributes that would fetch something
	text      string   // the page's text, as a browser shows it
}

// readPage parses a run page.
func readPage(b []byte) (pageFacts, error) {
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		return pageFacts{}, err
	}
	f := pageFacts{counts: map[string]int{}, throttled: -1}
	var text strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			text.WriteString(n.Data)
		case html.ElementNode:
			switch n.Data {
			case "script", "link", "iframe", "object", "embed", "img", "image", "use":
				f.fetches = append(f.fetches, "<"+n.Data+">")
			case "svg":
				f.svgs++
			case "figure":
				f.charts++
			case "tr":
				cells := nodeChildren(n, "td")
				if st := nodeAttr(n, "data-status"); st != "" && len(cells) >= 2 {
					f.counts[st], _ = strconv.Atoi(nodeText(cells[0+1]))
				}
				if nodeAttr(n, "class") == "error-group" {
					f.groups++
				}
				if th := nodeChildren(n, "th"); len(th) == 1 && nodeText(th[0]) == "answered 429" && len(cells) == 1 {
					f.throttled, _ = strconv.Atoi(strings.Fields(nodeText(cells[0]))[0])
				}
			case "span":
				if nodeAttr(n, "id") == "exit-code" {
					f.exit = nodeText(n)
				}
			case "style":
				if css := strings.ToLower(nodeText(n)); strings.Contains(css, "@import") || strings.Contains(css, "url(") {
					f.fetches = append(f.fetches, "a style sheet that imports")
				}
			}
			for _, a := range n.Attr {
				if k := strings.ToLower(a.Key); k == "src" || k == "href" || strings.HasSuffix(k, ":href") || k == "srcset" {
					f.fetches = append(f.fetches, fmt.Sprintf("<%s %s=%q>", n.Data, a.Key, a.Val))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	f.text = text.String()
	return f, nil
}

func nodeAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func nodeChildren(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == tag {
			out = append(out, c)
		}
	}
	return out
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// cmdPageHas checks a run page: it fetches nothing, has one <svg> per
// chart, and each CHECK holds. A CHECK is STATUS=N (rows with that
// status), charts=N, groups=N (error groups), exit=CODE, 429s=emulator
// (the page's 429 count is the emulator's, and not 0), or text=WORDS (the
// page's text, as a browser shows it, contains WORDS: markup in a row's
// error shows as text).
//
//	pagehas FILE CHECK...
func cmdPageHas(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: pagehas FILE CHECK...")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	f, err := readPage(b)
	ts.Check(err)
	if len(f.fetches) > 0 {
		ts.Fatalf("%s fetches: %s", args[0], strings.Join(f.fetches, ", "))
	}
	if f.svgs != f.charts {
		ts.Fatalf("%s: %d <svg> in %d charts", args[0], f.svgs, f.charts)
	}
	for _, check := range args[1:] {
		key, want, ok := strings.Cut(check, "=")
		if !ok {
			ts.Fatalf("pagehas: %q is not KEY=VALUE", check)
		}
		got := ""
		switch key {
		case "charts":
			got = strconv.Itoa(f.charts)
		case "groups":
			got = strconv.Itoa(f.groups)
		case "exit":
			got = f.exit
		case "429s":
			n := scriptEmulator(ts).Stats().Throttled
			if want != "emulator" || n == 0 || int64(f.throttled) != n {
				ts.Fatalf("%s: %d answered 429, the emulator answered %d (want them equal, and not 0)", args[0], f.throttled, n)
			}
			continue
		case "text":
			if !strings.Contains(f.text, want) {
				ts.Fatalf("%s: the page's text lacks %q", args[0], want)
			}
			continue
		default:
			got = strconv.Itoa(f.counts[key])
		}
		if got != want {
			ts.Fatalf("%s: %s is %s, want %s", args[0], key, got, want)
		}
	}
	fmt.Fprintf(ts.Stdout(), "%s: %d charts, %d error groups, counts %v\n", args[0], f.charts, f.groups, f.counts)
}

// TestReportPageOfAKilledRun: the page of a run that did not finish — its
// process was killed, so it recorded no end and no detail — has the counts
// and errors its journal holds, and no charts.
func TestReportPageOfAKilledRun(t *testing.T) {
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	s, err := state.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := s.Begin(ctx, state.RunInfo{Input: filepath.Join(dir, "in.csv"), InputHash: "h", Target: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	for seq, e := range []importer.RowEntry{
		{Seq: 0, Status: reports.Created, Entry: importer.Entry{Row: 2, ServiceRequestID: "1"}},
		{Seq: 1, Status: reports.Invalid, ErrorClass: "validation", Entry: importer.Entry{Row: 3}, Error: `row 3, column "Severity" (severity): "<b>urgent</b>" is not a severity`},
		{Seq: 2, Status: reports.Invalid, ErrorClass: "validation", Entry: importer.Entry{Row: 4}, Error: `row 4, column "Severity" (severity): "p1" is not a severity`},
		{Seq: 3, Status: reports.Created, Entry: importer.Entry{Row: 5, ServiceRequestID: "2"}},
	} {
		if err := r.Write(ctx, e, true); err != nil {
			t.Fatalf("write %d: %v", seq, err)
		}
	}
	// Closed without Finish, as the log of a killed process is ingested.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close()

	page := filepath.Join(dir, "run.html")
	var out, errb bytes.Buffer
	code := run([]string{"report", "1", "--html", page, "--state-dir", stateDir}, stdio{in: strings.NewReader(""), out: &out, err: &errb}, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "run 1 (in.csv): 2 created, 2 invalid\npage: "+page) {
		t.Errorf("stdout %q", out.String())
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	f, err := readPage(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.charts != 0 || f.svgs != 0 || f.counts["created"] != 2 || f.counts["invalid"] != 2 || f.groups != 1 || f.exit != "none" || len(f.fetches) > 0 {
		t.Errorf("page facts %+v: want 2 created, 2 invalid in 1 group, no exit status, no chart", f)
	}
	for _, want := range []string{"Run 1 did not finish", `"<b>urgent</b>" is not a severity`, "No time series was recorded"} {
		if !strings.Contains(f.text, want) {
			t.Errorf("the page's text lacks %q", want)
		}
	}
}
