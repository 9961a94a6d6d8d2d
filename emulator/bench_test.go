package emulator

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkCreate measures create throughput through a real loopback
// server and client, each request with its own MS-RequestId. Run with
//
//	go test -run '^$' -bench Create -benchtime 20000x ./emulator/
//
// It reports req/s; client and server share the machine's cores.
func BenchmarkCreate(b *testing.B) {
	em := New(Config{})
	srv := httptest.NewServer(em)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	url := srv.URL + createPath
	var seq atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := strconv.FormatInt(seq.Add(1), 10)
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(validBody))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer bench")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("MS-RequestId", "bench-"+n)
			req.Header.Set("MS-CorrelationId", "bench")
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	if got := em.Stats().Created; got != int64(b.N) {
		b.Errorf("created %d, want %d", got, b.N)
	}
}
