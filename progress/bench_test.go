package progress

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/srimport/srimport/reports"
)

// BenchmarkObserverVsPost measures what the counts cost a row — Sending,
// one Attempt, Done — against what one loopback POST costs, in the same
// run: each iteration sends one POST and counts 1000 rows on a Stats that
// 8 goroutines share. It reports ns per counted row, ns per POST and their
// ratio (the fraction of a create's own cost that counting it adds).
func BenchmarkObserverVsPost(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"616000000000001"}`))
	}))
	defer srv.Close()
	body := bytes.Repeat([]byte("x"), 778)
	s := New(nil)
	const rows, workers = 1000, 8
	rec := reports.Record{Status: reports.Created, Attempts: 1}
	var obs, post time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t1 := time.Now()
		done := make(chan struct{})
		for w := range workers {
			go func() {
				for i := w; i < rows; i += workers {
					s.Sending(i)
					s.Attempt(Attempt{Status: 201, Latency: 300 * time.Microsecond})
					s.Done(rec)
				}
				done <- struct{}{}
			}()
		}
		for range workers {
			<-done
		}
		obs += time.Since(t1)
		post += t1.Sub(t0)
	}
	perRow := float64(obs) / float64(b.N*rows)
	perPost := float64(post) / float64(b.N)
	b.ReportMetric(perRow, "ns/row-counted")
	b.ReportMetric(perPost, "ns/post")
	b.ReportMetric(perRow/perPost, "counted/post")
}
