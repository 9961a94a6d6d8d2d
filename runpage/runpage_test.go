package runpage

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/srimport/srimport/progress"
)

// sampleRun is a run with every part of the page: a minute of series,
// counts, error groups (one of them a message with markup in it) and
// totals.
func sampleRun() Run {
	exit := 3
	started := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	var series []progress.Point
	for i := range 60 {
		p := progress.Point{At: float64(i), Seconds: 1, Done: 20, Created: 18, Invalid: 1, Failed: 1,
			Requests: 22, Throttled: int64(i % 5), P50: 120, P95: 300, P99: 800, Rate: 20 - float64(i%3)}
		if i == 30 { // a second with no request: no latency point
			p.Requests, p.Throttled, p.P50, p.P95, p.P99 = 0, 0, 0, 0, 0
		}
		series = append(series, p)
	}
	return Run{
		ID:       7,
		Input:    "/data/<i>tickets.csv",
		Target:   "https://api.partnercenter.microsoft.com tenant=contoso",
		Started:  started,
		Finished: started.Add(61 * time.Second),
		ExitCode: &exit,
		Rows:     1200,
		Counts:   map[string]int{"created": 1080, "invalid": 60, "failed": 60},
		Errors: []progress.ErrorGroup{
			{Class: "validation", Message: `column "Title" (title): required, but empty`,
				Example: `row 4, column "Title" (title): required, but empty`, Count: 60, Rows: []int{4, 9, 11}},
			{Class: "rejected", Message: `HTTP 400 (code 2001): <script>alert("x")</script> & more`,
				Example: `HTTP 400 (code 2001): <script>alert("x")</script> & more`, Count: 60, Rows: []int{5}},
		},
		Series: series,
		Totals: &progress.Snapshot{Sent: 1140, Attempts: 1320, Retries: 180, Requests: 1320, Throttled: 120,
			Latency:   progress.LatencySummary{Count: 1320, P50: 120, P95: 300, P99: 800, Mean: 150},
			RateLimit: &progress.RateRange{Min: 18, Max: 20, Final: 19, Samples: 60}},
		Version: "test",
	}
}

func render(t *testing.T, r Run) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkStructure checks what a page must be whatever reads it: parsable
// HTML that fetches nothing (no script, no source or link to anything,
// no style sheet import, no url()), with one <svg> per chart and the
// counts and errors of want. It returns the number of charts.
func checkStructure(t *testing.T, page string, want Run) int {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("the page does not parse: %v", err)
	}
	svgs, figures := 0, 0
	counts := map[string]int{}
	groups := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "link", "iframe", "object", "embed", "img", "image", "use":
				t.Errorf("the page has a <%s> element", n.Data)
			case "svg":
				svgs++
			case "figure":
				figures++
			case "tr":
				if st := attr(n, "data-status"); st != "" {
					cells := children(n, "td")
					if len(cells) < 2 {
						t.Fatalf("counts row %s has %d cells", st, len(cells))
					}
					n, err := strconv.Atoi(text(cells[1]))
					if err != nil {
						t.Fatalf("counts row %s: %v", st, err)
					}
					counts[st] = n
				}
				if attr(n, "class") == "error-group" {
					groups++
				}
			}
			for _, a := range n.Attr {
				k := strings.ToLower(a.Key)
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if k == "src" || k == "href" || strings.HasSuffix(k, ":href") || k == "srcset" || k == "action" {
					t.Errorf("<%s %s=%q>: the page links to something", n.Data, a.Key, a.Val)
				}
				if strings.HasPrefix(k, "on") {
					t.Errorf("<%s %s>: an event handler", n.Data, a.Key)
				}
				if k == "style" && strings.Contains(v, "url(") {
					t.Errorf("<%s style=%q> fetches something", n.Data, a.Val)
				}
			}
		}
		if n.Type == html.ElementNode && n.Data == "style" && n.FirstChild != nil {
			css := strings.ToLower(n.FirstChild.Data)
			if strings.Contains(css, "@import") || strings.Contains(css, "url(") {
				t.Errorf("a style sheet fetches something: %q", css)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	// No address but the SVG namespace names.
	rest := regexp.MustCompile(`xmlns(:xlink)?="http://www\.w3\.org/[0-9]+/(svg|xlink)"`).ReplaceAllString(page, "")
	if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`).FindString(rest); m != "" &&
		!strings.Contains(want.Target, strings.TrimSuffix(m, "/")) {
		t.Errorf("the page names an address: %q", m)
	}
	if svgs != figures {
		t.Errorf("%d <svg> in %d charts, want one each", svgs, figures)
	}
	if len(counts) != len(nonZero(want.Counts)) {
		t.Errorf("counts %v, want %v", counts, want.Counts)
	}
	for st, n := range nonZero(want.Counts) {
		if counts[st] != n {
			t.Errorf("%s: %d rows on the page, want %d", st, counts[st], n)
		}
	}
	if groups != len(want.Errors) {
		t.Errorf("%d error groups on the page, want %d", groups, len(want.Errors))
	}
	return figures
}

func nonZero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func children(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == tag {
			out = append(out, c)
		}
	}
	return out
}

func text(n *html.Node) string {
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

func TestPage(t *testing.T) {
	r := sampleRun()
	page := render(t, r)
	if n := checkStructure(t, page, r); n != 4 {
		t.Errorf("%d charts, want 4", n)
	}
	for _, want := range []string{
		"<title>srimport run 7: &lt;i&gt;tickets.csv</title>",
		`id="exit-code">3</span> finished, but some rows are invalid or failed`,
		`id="rows-total">1200<`,
		"120 rows ended with an error, in 2 groups",
		"HTTP 400 (code 2001): &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more",
		"e.g. row 4, column &#34;Title&#34; (title): required, but empty",
		"<td>4, 9, 11</td>",
		"1320 for 1140 rows sent (180 retries)",
		"p50 120 ms, p95 300 ms, p99 800 ms",
		"18 to 20 requests/s, 19 at the end",
		"after 1m01s",
		"rows per second", "latency of requests", "requests and 429 answers per second", "rate limit (requests/s)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "<i>") {
		t.Error("text from the run reached the page as markup")
	}
}

// TestPageOfAKilledRun: without a series, exit status or totals, the page
// has the counts and errors and says why there are no charts.
func TestPageOfAKilledRun(t *testing.T) {
	r := sampleRun()
	r.Series, r.Totals, r.ExitCode, r.Finished = nil, nil, nil, time.Time{}
	page := render(t, r)
	if n := checkStructure(t, page, r); n != 0 {
		t.Errorf("%d charts without a series", n)
	}
	for _, want := range []string{`id="no-series"`, "did not finish: it was killed", `id="exit-code">none<`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "<svg") || strings.Contains(page, `id="requests"`) {
		t.Error("a page without series or totals has charts or request figures")
	}
}

// TestPageOfAShortRun: a run of a fraction of a second, with one point,
// no request and no rate limit, still gets its four charts.
func TestPageOfAShortRun(t *testing.T) {
	exit := 0
	r := Run{Input: "in.csv", ExitCode: &exit, Rows: 3, Counts: map[string]int{"created": 3},
		Series: []progress.Point{{Seconds: 0.004, Done: 3, Created: 3}}}
	page := render(t, r)
	if n := checkStructure(t, page, r); n != 4 {
		t.Errorf("%d charts, want 4", n)
	}
	if !strings.Contains(page, "rate limit (requests/s): none in force") {
		t.Error("the rate chart does not say there was no limit")
	}
}

// TestLongSeriesAxis: a long run's time axis is in hours.
func TestLongSeriesAxis(t *testing.T) {
	series := []progress.Point{{At: 0, Seconds: 3600}, {At: 3600, Seconds: 7200}, {At: 10800, Seconds: 3600}}
	if ax := newTimeAxis(series); ax.unit != 3600 || ax.end != 4 {
		t.Errorf("axis %+v, want hours up to 4", ax)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.html")
	if err := os.WriteFile(path, []byte("old page"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "run.html"), sampleRun()); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
	if err := WriteFile(path, sampleRun()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Fatalf("page %.40q, %v", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want the page only", len(entries))
	}
}

// TestPageInBrowser opens the page in a headless Chromium, when one is
// installed: the page as the browser built it (its DOM) must have the
// charts, counts and errors, and a screenshot is taken. Without a browser
// it checks the page's structure only, and says so.
func TestPageInBrowser(t *testing.T) {
	r := sampleRun()
	dir := t.TempDir()
	path := filepath.Join(dir, "run.html")
	if err := WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	browser := findBrowser()
	if browser == "" {
		t.Log("no Chromium installed: checking the page's structure only, not how a browser renders it")
		page, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n := checkStructure(t, string(page), r); n != 4 {
			t.Errorf("%d charts, want 4", n)
		}
		return
	}
	t.Logf("rendering the page in %s", browser)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	url := "file://" + filepath.ToSlash(path)
	common := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--user-data-dir=" + filepath.Join(dir, "profile"),
		// Nothing may be fetched: any host name fails to resolve.
		"--host-resolver-rules=MAP * ~NOTFOUND"}
	dom, err := exec.CommandContext(ctx, browser, append(common, "--dump-dom", url)...).Output()
	if err != nil {
		t.Fatalf("%s --dump-dom: %v", browser, err)
	}
	if n := checkStructure(t, string(dom), r); n != 4 {
		t.Errorf("the browser's DOM has %d charts, want 4", n)
	}
	shot := filepath.Join(dir, "run.png")
	if out, err := exec.CommandContext(ctx, browser, append(common, "--hide-scrollbars",
		"--window-size=1200,2600", "--screenshot="+shot, url)...).CombinedOutput(); err != nil {
		t.Fatalf("%s --screenshot: %v\n%s", browser, err, out)
	}
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 20000 {
		t.Fatalf("screenshot: %d bytes, %v; want a PNG of a page with charts", len(png), err)
	}
	if keep := os.Getenv("RUNPAGE_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// findBrowser returns the path of a Chromium, or "".
func findBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
