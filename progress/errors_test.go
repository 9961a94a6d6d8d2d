package progress

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/reports"
)

func TestNormalizeError(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`row 14, column "Title" (title): required, but empty`, `column "Title" (title): required, but empty`},
		{`row 21, column "Severity" (severity): "urgent" is not a severity; use critical, moderate or minimal`,
			`column "Severity" (severity): "…" is not a severity; use critical, moderate or minimal`},
		{`row 29, column "Support Topic ID" (supportTopicId): "Billing" is not a support topic id: expected 1 to 19 digits, such as 32451178`,
			`column "Support Topic ID" (supportTopicId): "…" is not a support topic id: expected # to # digits, such as #`},
		{`HTTP 400 (code 2001): Invalid support topic 32451178 [MS-RequestId 0b7e1c9a-2f4d-4e8b-9a51-3c6d7e8f9a0b]`,
			`HTTP 400 (code 2001): Invalid support topic # [MS-RequestId <id>]`},
		{`HTTP 429 (retry after 2.5s)`, `HTTP 429 (retry after #.#s)`},
		{`column "Say \"hi\"" (title): "a \"b\"" too long`, `column "Say \"hi\"" (title): "…" too long`},
		{`unterminated "quote`, `unterminated "…"`},
		{`id SR7F3A9C21 not found`, `id <id> not found`},
		{`row 3`, `row #`},
		{`rowing 5, boats`, `rowing #, boats`},
		{`<script>alert(1)</script>`, `<script>alert(#)</script>`},
		{``, ``},
	} {
		if got := NormalizeError(c.in); got != c.want {
			t.Errorf("NormalizeError(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestErrorGroups(t *testing.T) {
	var g ErrorGroups
	// Rows arrive in completion order, not input order.
	for _, row := range []int{40, 7, 12, 3, 90} {
		g.Add("validation", fmt.Sprintf(`row %d, column "Severity" (severity): "s%d" is not a severity`, row, row), row)
	}
	g.Add("rejected", "HTTP 400 (code 2001): bad topic", 5)
	g.Add("validation", `row 8, column "Title" (title): required, but empty`, 8)
	got := g.Groups()
	want := []ErrorGroup{
		{Class: "validation", Message: `column "Severity" (severity): "…" is not a severity`,
			Example: `row 3, column "Severity" (severity): "s3" is not a severity`, Count: 5, Rows: []int{3, 7, 12}},
		{Class: "rejected", Message: "HTTP 400 (code 2001): bad topic", Example: "HTTP 400 (code 2001): bad topic", Count: 1, Rows: []int{5}},
		{Class: "validation", Message: `column "Title" (title): required, but empty`,
			Example: `row 8, column "Title" (title): required, but empty`, Count: 1, Rows: []int{8}},
	}
	if len(got) != len(want) {
		t.Fatalf("groups %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i].Class != want[i].Class || got[i].Message != want[i].Message || got[i].Example != want[i].Example ||
			got[i].Count != want[i].Count || !slices.Equal(got[i].Rows, want[i].Rows) {
			t.Errorf("group %d = %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestErrorGroupsBounded(t *testing.T) {
	var g ErrorGroups
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				g.Add("rejected", fmt.Sprintf("message %c%c", 'a'+w, 'a'+i%26)+fmt.Sprint(i/26%26), i)
			}
		})
	}
	wg.Wait()
	got := g.Groups()
	if len(got) != MaxErrorGroups+1 {
		t.Fatalf("%d groups, want %d and one for the others", len(got), MaxErrorGroups)
	}
	var total int64
	others := 0
	for _, eg := range got {
		total += eg.Count
		if eg.Message == OtherErrors {
			others++
		}
	}
	if total != 4000 || others != 1 {
		t.Errorf("%d rows in %d groups with %d for others; want 4000 rows and 1", total, len(got), others)
	}
}

func TestStatsGroupsErrors(t *testing.T) {
	s := New(nil)
	s.Done(reports.Record{Row: 2, Status: reports.Created})
	s.Done(reports.Record{Row: 3, Status: reports.Skipped, Error: "already created on this target by run 1 (row 3)"})
	s.Done(reports.Record{Row: 4, Status: reports.Invalid, ErrorClass: "validation", Error: "row 4, column \"Title\" (title): required, but empty"})
	got := s.Errors()
	if len(got) != 1 || got[0].Count != 1 || got[0].Rows[0] != 4 {
		t.Errorf("errors %+v, want the invalid row's only", got)
	}
}

// BenchmarkDoneErrorVsClean measures what Done costs for a row with an
// error (normalising its message into its group) against a created row,
// alternating blocks of 1000 rows in the same run, on 8 goroutines.
func BenchmarkDoneErrorVsClean(b *testing.B) {
	s := New(nil)
	msgs := make([]reports.Record, 64)
	for i := range msgs {
		msgs[i] = reports.Record{Row: i + 2, Status: reports.Invalid, ErrorClass: "validation",
			Error: fmt.Sprintf(`row %d, column "Severity" (severity): "p%d" is not a severity; use critical, moderate or minimal`, i+2, i)}
	}
	clean := reports.Record{Status: reports.Created, Attempts: 1}
	const rows, workers = 1000, 8
	block := func(rec func(i int) reports.Record) time.Duration {
		t0 := time.Now()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < rows; i += workers {
					s.Done(rec(i))
				}
			})
		}
		wg.Wait()
		return time.Since(t0)
	}
	var withErr, without time.Duration
	for range b.N {
		withErr += block(func(i int) reports.Record { return msgs[i%len(msgs)] })
		without += block(func(int) reports.Record { return clean })
	}
	b.ReportMetric(float64(withErr)/float64(b.N*rows), "ns/error-row")
	b.ReportMetric(float64(without)/float64(b.N*rows), "ns/clean-row")
	b.ReportMetric(float64(withErr)/float64(without), "error/clean")
}
