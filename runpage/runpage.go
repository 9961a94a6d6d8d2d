// Package runpage writes the page of an import run: one HTML file that
// says what the run was (input, target, when, exit status), what became
// of its rows (counts by status), what went wrong (errors grouped by
// class and message, with example rows) and how it went over time
// (charts of rows per second, request latency, 429 answers and the rate
// limit, drawn with gonum/plot as SVG).
//
// The page is self-contained: no script, and no style sheet, font or
// image to fetch; it opens offline, from a mail attachment or a CI
// artefact. Everything the run's input or the service put in it (paths,
// error messages) is HTML-escaped by html/template.
package runpage

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/srimport/srimport/internal/atomicfile"
	"github.com/srimport/srimport/progress"
	"github.com/srimport/srimport/reports"
)

// Run is what the page shows of a run.
type Run struct {
	// ID is the run's id in the state store; 0 when it has none (a
	// sandbox run keeps no state).
	ID int64
	// Input is the input file, Target the service the run imported into.
	Input  string
	Target string
	// Started is when the run began; Finished, when it ended (zero when it
	// did not finish: it was killed, or it is still running).
	Started  time.Time
	Finished time.Time
	// ExitCode is the run's exit status; nil when it did not finish.
	ExitCode *int
	// Stopped is why the run stopped early, when an error stopped it.
	Stopped string
	// Rows is how many input rows the run had; Counts, how many of them
	// got each report status.
	Rows   int
	Counts map[string]int
	// Errors is the rows' errors by group, most rows first.
	Errors []progress.ErrorGroup
	// Series is the run's time series; none when it was not recorded (the
	// run was killed): the page then has no charts.
	Series []progress.Point
	// Totals is what the run's requests came to; nil when not known.
	Totals *progress.Snapshot
	// Note is a remark on where the page's figures come from; may be "".
	Note string
	// Version is the srimport version that made the page.
	Version string
	// Made is when the page was made; zero means now.
	Made time.Time
}

//go:embed page.html.tmpl
var pageTemplate string

// Write writes r's page to w.
func Write(w io.Writer, r Run) error {
	t, err := template.New("page").Funcs(template.FuncMap{
		"rows":      joinRows,
		"ms":        formatMs,
		"rate":      formatRate,
		"pct":       func(n, total int) string { return percent(int64(n), int64(total)) },
		"pct64":     percent,
		"exitMeans": exitMeaning,
	}).Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("runpage: %w", err)
	}
	ch, err := charts(r.Series)
	if err != nil {
		return fmt.Errorf("runpage: %w", err)
	}
	if r.Made.IsZero() {
		r.Made = time.Now()
	}
	data := struct {
		Run
		Title    string
		Started  string
		Finished string
		Duration string
		Exited   bool
		Exit     int
		Counts   []count
		Errored  int64
		Charts   []chart
		Made     string
	}{
		Run:     r,
		Title:   title(r),
		Started: formatTime(r.Started),
		Counts:  counts(r),
		Charts:  ch,
		Made:    formatTime(r.Made),
	}
	if r.ExitCode != nil {
		data.Exited, data.Exit = true, *r.ExitCode
	}
	if !r.Finished.IsZero() {
		data.Finished = formatTime(r.Finished)
		if !r.Started.IsZero() {
			data.Duration = formatDuration(r.Finished.Sub(r.Started))
		}
	}
	for _, g := range r.Errors {
		data.Errored += g.Count
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return fmt.Errorf("runpage: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

// WriteFile writes r's page to path atomically: into a file beside it,
// renamed into place once complete, so that a reader never sees half a
// page and a failure leaves the previous page whole.
func WriteFile(path string, r Run) error {
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("runpage: %w", err)
	}
	return nil
}

// title is the page's title.
func title(r Run) string {
	name := filepath.Base(r.Input)
	if r.Input == "" {
		name = "(no input)"
	}
	if r.ID > 0 {
		return fmt.Sprintf("srimport run %d: %s", r.ID, name)
	}
	return "srimport run: " + name
}

// count is one line of the counts table.
type count struct {
	Status string
	N      int
}

// counts lists r's counts in report order, then any status not known.
func counts(r Run) []count {
	var out []count
	seen := map[string]bool{}
	for _, st := range reports.Statuses() {
		seen[string(st)] = true
		if n := r.Counts[string(st)]; n > 0 {
			out = append(out, count{string(st), n})
		}
	}
	var other []string
	for st := range r.Counts {
		if !seen[st] && r.Counts[st] > 0 {
			other = append(other, st)
		}
	}
	slices.Sort(other)
	for _, st := range other {
		out = append(out, count{st, r.Counts[st]})
	}
	return out
}

// formatTime is t in local time with its zone; "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// formatDuration is how long a run took: "0.35s" under 10 seconds, else
// as progress writes it ("3m20s").
func formatDuration(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return progress.FormatDuration(d)
}

// joinRows lists row numbers: "2, 7, 12".
func joinRows(rows []int) string {
	s := make([]string, len(rows))
	for i, r := range rows {
		s[i] = strconv.Itoa(r)
	}
	return strings.Join(s, ", ")
}

func formatMs(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

func formatRate(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.0f", r)
}

// percent is n as a share of total: "12.5 %".
func percent(n, total int64) string {
	if total <= 0 {
		return ""
	}
	return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(total))
}

// exitMeaning is what an exit status says (cli.md).
func exitMeaning(code int) string {
	switch code {
	case 0:
		return "every row created"
	case 1:
		return "fatal: the run could not proceed"
	case 2:
		return "usage error"
	case 3:
		return "finished, but some rows are invalid or failed"
	case 4:
		return "authentication or authorisation failed"
	case 5:
		return "some rows are unknown; run the same command again to settle them"
	case 6:
		return "stopped by --max-duration with rows left pending"
	case 130:
		return "interrupted; report and journal flushed"
	}
	return ""
}
