package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
)

// TestListAllEmulator lists 2 500 requests from the emulator, whose next
// links lack /v1, in three pages of at most 1 000: each is seen once, with
// the fields a lookup matches on.
func TestListAllEmulator(t *testing.T) {
	t.Parallel()
	em := emulator.New(emulator.Config{})
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	c, err := client.New(client.Config{BaseURL: srv.URL, Token: client.StaticToken("t"), Workers: 8, Retries: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const n = 2500
	rows := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range rows {
				sr := &client.ServiceRequest{Title: fmt.Sprint("row ", i), Description: "d", Severity: client.SeverityMinimal,
					SupportTopicID: "32451178", NewNote: &client.Note{Text: fmt.Sprint("rid-", i)}}
				if _, err := c.Create(ctx, "en-US", sr, fmt.Sprint("rid-", i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range n {
		rows <- i
	}
	close(rows)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Close a few, so that the status order differs from the id order.
	for _, sr := range em.ServiceRequests()[1000:1010] {
		if _, err := c.Update(ctx, sr.ID, &client.ServiceRequest{Status: client.StatusClosed}); err != nil {
			t.Fatal(err)
		}
	}

	before := em.Stats().Requests
	seen := map[string]int{}
	err = c.ListAll(ctx, func(sr *client.ServiceRequest) error {
		seen[sr.ID]++
		if len(sr.Notes) != 1 || sr.Notes[0].Text == "" || sr.CreatedDate.IsZero() || sr.Title == "" || sr.SupportTopicID != "32451178" {
			return fmt.Errorf("item %s lacks what a lookup matches on: %+v", sr.ID, sr)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages := em.Stats().Requests - before; pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	if len(seen) != n {
		t.Errorf("%d distinct requests seen, want %d", len(seen), n)
	}
	for _, sr := range em.ServiceRequests() {
		if seen[sr.ID] != 1 {
			t.Errorf("%s seen %d times", sr.ID, seen[sr.ID])
		}
	}
}
