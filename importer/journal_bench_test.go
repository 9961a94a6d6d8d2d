package importer_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/state"
)

// BenchmarkJournal imports the same rows into the same in-process emulator
// with the state store's journal off and on, interleaved in one run, and
// reports rows/s for each: the journal's cost is the ratio of the two.
// rows/s is importer.Run's; rows/s-with-close also counts the wall time
// of the run's Close, which ingests the run's log into the database.
// Run with -benchtime 1x -count N (bench/journal.sh does).
func BenchmarkJournal(b *testing.B) {
	const rows = 20000
	data := genCSV(rows, nil)
	em := emulator.New(emulator.Config{NoDedup: true})
	srv := httptest.NewServer(em)
	defer srv.Close()
	c, err := client.New(client.Config{BaseURL: srv.URL, Token: client.StaticToken("t"), Workers: 32, NoRetryAfterEffect: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseIdleConnections()
	store, err := state.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	targets := 0
	run := func(b *testing.B, journal bool) {
		for range b.N {
			src, m := openCSV(b, data)
			cfg := importer.Config{Workers: 32, Mapper: m, Creator: c, Lister: c, Sink: &memSink{}}
			var r *state.Run
			if journal {
				// A new target each time, so that every row is sent.
				targets++
				r, err = store.Begin(context.Background(), state.RunInfo{Input: "t.csv", Target: "bench#" + strconv.Itoa(targets)})
				if err != nil {
					b.Fatal(err)
				}
				cfg.Journal, cfg.RunID = r, r.ID()
			}
			start := time.Now()
			sum, err := importer.Run(context.Background(), src, cfg)
			if err != nil {
				b.Fatal(err)
			}
			if r != nil {
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
			withClose := time.Since(start)
			b.ReportMetric(float64(rows)/sum.Duration().Seconds(), "rows/s")
			b.ReportMetric(float64(rows)/withClose.Seconds(), "rows/s-with-close")
		}
	}
	b.Run("off", func(b *testing.B) { run(b, false) })
	b.Run("on", func(b *testing.B) { run(b, true) })
}
