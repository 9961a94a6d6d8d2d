package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
)

// BenchmarkPace runs creates for 20 s from 16 workers against an emulator
// on loopback with a quota, the client pacing itself (rate 0: the quota
// unknown; rate = quota: Config.Rate at it). It reports the rate of
// created requests after the first 5 s as a share of the quota, and the
// share of all requests answered 429.
func BenchmarkPace(b *testing.B) {
	for _, tc := range []struct {
		quota, rate float64
		latency     time.Duration
	}{
		{100, 0, 0}, {500, 0, 0}, {100, 0, 20 * time.Millisecond}, {500, 0, 20 * time.Millisecond},
		{100, 100, 0}, {500, 500, 20 * time.Millisecond},
	} {
		b.Run(fmt.Sprintf("quota=%g/rate=%g/latency=%s", tc.quota, tc.rate, tc.latency), func(b *testing.B) {
			for range b.N {
				paceRun(b, tc.quota, tc.rate, tc.latency)
			}
		})
	}
}

func paceRun(b *testing.B, quota, rate float64, latency time.Duration) {
	const workers, run, warm = 16, 20 * time.Second, 5 * time.Second
	em := emulator.New(emulator.Config{Quota: quota, Latency: latency})
	srv := httptest.NewServer(em)
	defer srv.Close()
	defer em.Close()
	c, err := client.New(client.Config{BaseURL: srv.URL, Token: client.StaticToken("t"), Workers: workers, Rate: rate})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseIdleConnections()
	// No deadline: a wait for a slot past it would fail at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer time.AfterFunc(run, cancel).Stop()
	start := time.Now()
	var steady, seq atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := seq.Add(1)
				_, err := c.CreateBody(ctx, "en-US", []byte(`{"title":"t","description":"d","severity":"minimal","supportTopicId":"32451178"}`), fmt.Sprint("rid-", i))
				switch {
				case err == nil:
					if time.Since(start) >= warm {
						steady.Add(1)
					}
				case !errors.Is(err, context.Canceled):
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := em.Stats()
	b.ReportMetric(float64(steady.Load())/(run-warm).Seconds()/quota, "created/quota")
	b.ReportMetric(100*float64(st.Throttled)/float64(max(1, st.Requests)), "%429")
	b.ReportMetric(c.Rate()/quota, "limit/quota")
	b.ReportMetric(0, "ns/op")
}
