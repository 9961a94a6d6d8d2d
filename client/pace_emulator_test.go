package client_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
)

// Under a low quota and a small burst (the emulator at 20/s, burst 2) the
// pacer finds the quota soon: 120 creates from 8 workers without retries
// all succeed, each once, with few 429s.
func TestPacerLowQuotaEmulator(t *testing.T) {
	t.Parallel()
	const creates, workers = 120, 8
	em, url := newEmulator(t, emulator.Config{Quota: 20, Burst: 2})
	c := newClient(t, url, func(cfg *client.Config) { cfg.Workers, cfg.Retries = workers, 0 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows := make(chan int)
	go func() {
		defer close(rows)
		for i := range creates {
			select {
			case rows <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var mu sync.Mutex
	ids := make(map[string]bool)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range rows {
				id, err := c.CreateBody(ctx, "en-US", []byte(`{"title":"t","description":"d","severity":"minimal","supportTopicId":"32451178"}`), fmt.Sprint("low-quota-", i))
				mu.Lock()
				switch {
				case err != nil:
					t.Errorf("create %d: %v", i, err)
				case ids[id]:
					t.Errorf("create %d: id %s again", i, id)
				default:
					ids[id] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	st := em.Stats()
	share := float64(st.Throttled) / float64(max(1, st.Requests))
	t.Logf("%d created, %d requests, %d 429s (%.1f%%), limit %.1f/s", st.Created, st.Requests, st.Throttled, 100*share, c.Rate())
	if st.Created != creates || st.Duplicates != 0 || len(ids) != creates {
		t.Errorf("%d created, %d duplicates, %d ids; want %d, 0, %d", st.Created, st.Duplicates, len(ids), creates, creates)
	}
	if share > 0.2 {
		t.Errorf("%.1f%% of the requests answered 429, want <= 20%%", 100*share)
	}
}
