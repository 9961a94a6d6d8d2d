package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestFaultError500Before(t *testing.T) {
	te := newEnv(t, Config{Faults: Faults{Error500Before: 1}})
	resp, b := te.do(http.MethodPost, createPath, validBody)
	wantFault(t, resp, b, http.StatusInternalServerError, "800003")
	if n := len(te.em.ServiceRequests()); n != 0 {
		t.Errorf("%d created", n)
	}
	if st := te.em.Stats(); st.FaultsInjected != 1 || st.Rejected != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaultResetBefore(t *testing.T) {
	te := newEnv(t, Config{Faults: Faults{ResetBefore: 1}})
	if _, _, err := te.try(http.MethodPost, createPath, validBody); err == nil {
		t.Fatal("the client saw no error")
	}
	if n := len(te.em.ServiceRequests()); n != 0 {
		t.Errorf("%d created", n)
	}
	// Only creates are faulted.
	if resp, _ := te.do(http.MethodGet, "/v1/servicerequests", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

// retryUntilCommitted posts one MS-RequestId until a failure has been seen
// and then a 201, as a client retrying an ambiguous create does. failed
// tells a failure apart; onFail runs after each one.
func retryUntilCommitted(t *testing.T, te *tenv, failed func(*http.Response, error) bool, onFail func()) string {
	t.Helper()
	sawFailure := false
	for range 100 {
		resp, b, err := te.try(http.MethodPost, createPath, validBody, "MS-RequestId", "ambiguous-1")
		if failed(resp, err) {
			sawFailure = true
			onFail()
			continue
		}
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("unexpected answer %v %v", resp, err)
		}
		if sawFailure {
			return str(decodeObject(t, b), "id")
		}
	}
	t.Fatal("never saw a failure followed by a 201")
	return ""
}

func TestFaultResetAfter(t *testing.T) {
	te := newEnv(t, Config{Seed: 7, Faults: Faults{ResetAfter: 0.5}})
	id := retryUntilCommitted(t, te,
		func(_ *http.Response, err error) bool { return err != nil },
		func() {
			// The client saw an error, but the request exists.
			if n := len(te.em.ServiceRequests()); n != 1 {
				t.Fatalf("after a reset the service holds %d requests, want 1", n)
			}
		})
	srs := te.em.ServiceRequests()
	st := te.em.Stats()
	if len(srs) != 1 || srs[0].ID != id || st.Created != 1 || st.Replays == 0 || st.FaultsInjected == 0 {
		t.Errorf("retry answered %s; stored %d (%v), stats %+v", id, len(srs), srs[0].ID, st)
	}
	if te.em.RequestIDs()[id] != "ambiguous-1" {
		t.Errorf("RequestIDs %v", te.em.RequestIDs())
	}
}

func TestFaultError500After(t *testing.T) {
	te := newEnv(t, Config{Seed: 11, Faults: Faults{Error500After: 0.5}})
	id := retryUntilCommitted(t, te,
		func(resp *http.Response, err error) bool {
			return err == nil && resp.StatusCode == http.StatusInternalServerError
		},
		func() {
			if n := len(te.em.ServiceRequests()); n != 1 {
				t.Fatalf("after a 500 the service holds %d requests, want 1", n)
			}
		})
	if st := te.em.Stats(); st.Created != 1 || te.em.ServiceRequests()[0].ID != id {
		t.Errorf("stats %+v, id %s", st, id)
	}
}

func TestFaultTruncated201(t *testing.T) {
	for _, bom := range []bool{false, true} {
		te := newEnv(t, Config{BOM: bom, Faults: Faults{Truncated201: 1}})
		resp, err := te.hc.Do(te.request(context.Background(), http.MethodPost, createPath, validBody))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("bom=%v: status %d, read %d bytes, error %v; want 201 and an unexpected EOF", bom, resp.StatusCode, len(b), err)
		}
		if int64(len(b)) != resp.ContentLength/2 {
			t.Errorf("bom=%v: read %d of %d bytes, want half", bom, len(b), resp.ContentLength)
		}
		if st := te.em.Stats(); st.Created != 1 || len(te.em.ServiceRequests()) != 1 {
			t.Errorf("bom=%v: stats %+v", bom, st)
		}
	}
}

func TestFaultStallEndsWithTheClient(t *testing.T) {
	te := newEnv(t, Config{StallFor: time.Hour, Faults: Faults{Stall: 1}})
	// A client timeout.
	te.hc.Timeout = 150 * time.Millisecond
	start := time.Now()
	if _, _, err := te.try(http.MethodPost, createPath, validBody); err == nil {
		t.Fatal("a stalled request was answered")
	}
	// A cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	te.hc.Timeout = 0
	if resp, err := te.hc.Do(te.request(ctx, http.MethodPost, createPath, validBody)); err == nil {
		resp.Body.Close()
		t.Fatal("a stalled request was answered")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stalls took %v to give up", d)
	}
	// The handlers notice the clients left and return.
	waitFor(t, "stalled handlers to return", func() bool { return te.em.Stats().InFlight == 0 })
	if st := te.em.Stats(); st.Created != 0 || st.FaultsInjected != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaultStallRunsItsCourse(t *testing.T) {
	te := newEnv(t, Config{StallFor: 50 * time.Millisecond, Faults: Faults{Stall: 1}})
	if resp, _, err := te.try(http.MethodPost, createPath, validBody); err == nil {
		t.Fatalf("a stalled request was answered with %d", resp.StatusCode)
	}
}

func TestFaultStallEndsOnClose(t *testing.T) {
	em := New(Config{StallFor: time.Hour, Faults: Faults{Stall: 1}})
	base, err := em.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	te := &tenv{t: t, em: em, url: base, hc: &http.Client{Timeout: 10 * time.Second}}
	done := make(chan error, 1)
	go func() {
		_, _, err := te.try(http.MethodPost, createPath, validBody)
		done <- err
	}()
	waitFor(t, "the request to stall", func() bool { return em.Stats().FaultsInjected == 1 })
	start := time.Now()
	if err := em.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("a stalled request was answered")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the stall")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
}

func TestFaultsDeterministicWithSeed(t *testing.T) {
	run := func() []int {
		te := newEnv(t, Config{Seed: 99, Faults: Faults{Error500Before: 0.5}})
		var codes []int
		for range 30 {
			resp, _ := te.do(http.MethodPost, createPath, validBody)
			codes = append(codes, resp.StatusCode)
		}
		return codes
	}
	a, b := run(), run()
	seen := map[int]bool{}
	for i := range a {
		seen[a[i]] = true
		if a[i] != b[i] {
			t.Fatalf("same seed, different outcomes:\n%v\n%v", a, b)
		}
	}
	if !seen[201] || !seen[500] {
		t.Errorf("p = 0.5 gave only %v", a)
	}
}

func TestLatencyHonoursClientContext(t *testing.T) {
	te := newEnv(t, Config{Latency: time.Hour})
	te.hc.Timeout = 100 * time.Millisecond
	if _, _, err := te.try(http.MethodGet, "/v1/servicerequests", ""); err == nil {
		t.Fatal("answered despite an hour of latency")
	}
	waitFor(t, "the delayed handler to return", func() bool { return te.em.Stats().InFlight == 0 })
}
