package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/progress"
	"github.com/srimport/srimport/reports"
)

// finish writes the summary of a finished run and returns what its
// command returns: nil for exit 0, else result. A summary that cannot be
// written fails a run that would have exited 0; any other run tells it on
// stderr and keeps its own outcome.
func (o *inputOptions) finish(std stdio, result *runResult, code int, file, report string) error {
	if err := o.writeSummary(result.sum, file, report, code); err != nil {
		if result.err == nil && code == exitOK {
			return err
		}
		fmt.Fprintf(std.err, "srimport: %v\n", err)
	}
	if code == exitOK {
		return nil
	}
	return result
}

// writeSummary writes the run summary as JSON when --summary is set.
// rowsPerSecond counts the rows sent (import) or the rows with an outcome
// (validate): not the rows left pending, which took no time.
func (o *inputOptions) writeSummary(sum importer.Summary, file, report string, code int) error {
	if o.summary == "" {
		return nil
	}
	type watchedFields struct {
		WallSeconds float64 `json:"wallSeconds"`
		progress.Snapshot
	}
	doc := struct {
		Input     string  `json:"input"`
		Report    string  `json:"report,omitempty"`
		ExitCode  int     `json:"exitCode"`
		Seconds   float64 `json:"seconds"`
		RowsPerSe float64 `json:"rowsPerSecond"`
		importer.Summary
		*watchedFields
	}{file, report, code, sum.Duration().Seconds(), donePerSecond(sum), sum, nil}
	if w := o.watched; w != nil {
		doc.RowsPerSe = sentPerSecond(sum, w.snap)
		doc.watchedFields = &watchedFields{time.Since(w.began).Seconds(), w.snap}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if o.summary == "-" {
		_, err = os.Stdout.Write(append(b, '\n'))
	} else {
		err = os.WriteFile(o.summary, append(b, '\n'), 0o644)
	}
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}

// donePerSecond is the rate of the rows that reached an outcome.
func donePerSecond(sum importer.Summary) float64 {
	d := sum.Duration().Seconds()
	if d <= 0 {
		return 0
	}
	return float64(sum.Rows-sum.Counts[reports.Pending]) / d
}

// sentPerSecond is the rate of the rows an import sent.
func sentPerSecond(sum importer.Summary, snap progress.Snapshot) float64 {
	d := sum.Duration().Seconds()
	if d <= 0 {
		return 0
	}
	return float64(snap.Sent) / d
}

// statusCounts lists the non-zero counts in report order, such as
// "45 created, 5 invalid"; "" when there are none.
func statusCounts[K ~string](counts map[K]int) string {
	var parts []string
	for _, s := range reports.Statuses() {
		if n := counts[K(s)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return strings.Join(parts, ", ")
}

// printSummary prints the human summary of a validation.
func printSummary(w io.Writer, verb string, sum importer.Summary, report string) {
	printRunSummary(w, verb, sum, report, donePerSecond(sum))
}

// printRunSummary prints the human summary of a run, with its rows/s.
func printRunSummary(w io.Writer, verb string, sum importer.Summary, report string, perSecond float64) {
	counts := statusCounts(sum.Counts)
	if counts == "" {
		counts = "nothing to do"
	}
	fmt.Fprintf(w, "%s %d rows: %s", verb, sum.Rows, counts)
	if sum.GhostRows > 0 {
		fmt.Fprintf(w, " (%d trailing empty rows ignored)", sum.GhostRows)
	}
	rate := fmt.Sprintf("%.0f", perSecond)
	if perSecond < 10 {
		rate = fmt.Sprintf("%.1f", perSecond)
	}
	fmt.Fprintf(w, " in %.2fs (%s rows/s)\n", sum.Duration().Seconds(), rate)
	if report != "" {
		fmt.Fprintf(w, "report: %s\n", report)
	}
}

// printRequests prints what an import's rows cost in requests, when it
// sent any: "sent 304 rows in 350 requests (46 retries, 40 answered 429);
// latency p50 120 ms, p95 310 ms, p99 800 ms".
func printRequests(w io.Writer, snap progress.Snapshot) {
	if snap.Sent == 0 {
		return
	}
	fmt.Fprintf(w, "sent %d rows in %d requests (%d retries, %d answered 429); latency p50 %s, p95 %s, p99 %s\n",
		snap.Sent, snap.Requests, snap.Retries, snap.Throttled,
		formatMs(snap.Latency.P50), formatMs(snap.Latency.P95), formatMs(snap.Latency.P99))
}

func formatMs(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
