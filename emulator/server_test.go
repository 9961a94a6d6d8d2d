package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/srimport/srimport/wire"
)

func TestSwitches(t *testing.T) {
	t.Run("BOM", func(t *testing.T) {
		te := newEnv(t, Config{BOM: true})
		resp, b := te.do(http.MethodPost, createPath, validBody)
		if resp.StatusCode != http.StatusCreated || !bytes.HasPrefix(b, bom) {
			t.Fatalf("%d %q", resp.StatusCode, b[:min(len(b), 8)])
		}
		var sr wire.ServiceRequest
		if err := wire.Decode(b, &sr); err != nil || sr.ID == "" {
			t.Errorf("wire.Decode: %v %+v", err, sr)
		}
		if err := json.Unmarshal(b, &sr); err == nil {
			t.Error("plain json.Unmarshal accepted a body with a BOM; the switch does nothing")
		}
		resp, b = te.do(http.MethodGet, "/v1/servicerequests/1", "")
		if resp.StatusCode != http.StatusNotFound || !bytes.HasPrefix(b, bom) {
			t.Errorf("ApiFault without BOM: %q", b)
		}
	})
	t.Run("NumericCodes", func(t *testing.T) {
		te := newEnv(t, Config{NumericCodes: true})
		_, b := te.do(http.MethodGet, "/v1/servicerequests/1", "")
		if !bytes.Contains(b, []byte(`"code":1000,`)) {
			t.Errorf("code not numeric: %s", b)
		}
	})
	t.Run("ZonelessDates", func(t *testing.T) {
		te := newEnv(t, Config{ZonelessDates: true})
		m := te.create(`{"title":"t","description":"d","severity":"minimal","supportTopicId":"32451178","newNote":{"text":"n"}}`)
		for _, d := range []string{str(m, "createdDate"), str(m, "lastModifiedDate"), str(m["notes"].([]any)[0].(map[string]any), "createdDate")} {
			pt, err := wire.ParseTime(d)
			if strings.HasSuffix(d, "Z") || err != nil || time.Since(pt.Time) > time.Minute || time.Since(pt.Time) < -time.Minute {
				t.Errorf("date %q (%v): want now, without a zone", d, err)
			}
		}
		if str(m, "lastClosedDate") != wire.Unset {
			t.Errorf("lastClosedDate %q", str(m, "lastClosedDate"))
		}
	})
	t.Run("CreateQuirk", func(t *testing.T) {
		te := newEnv(t, Config{CreateQuirk: true})
		m := te.create("")
		if str(m, "status") != "none" || str(m, "createdDate") != wire.Unset || str(m, "id") == "" {
			t.Errorf("create answered %v", m)
		}
		_, b := te.do(http.MethodGet, "/v1/servicerequests/"+str(m, "id"), "")
		g := decodeObject(t, b)
		if str(g, "status") != "open" || str(g, "createdDate") == wire.Unset {
			t.Errorf("GET after the quirk answered %v", g)
		}
	})
	t.Run("PatchNoContent", func(t *testing.T) {
		te := newEnv(t, Config{PatchNoContent: true})
		id := str(te.create(""), "id")
		for range 2 { // the replay too
			resp, b := te.do(http.MethodPatch, "/v1/servicerequests/"+id, `{"status":"closed"}`, "MS-RequestId", "p")
			if resp.StatusCode != http.StatusNoContent || len(b) != 0 {
				t.Errorf("PATCH: %d %q", resp.StatusCode, b)
			}
		}
		if te.em.ServiceRequests()[0].Status != wire.StatusClosed {
			t.Error("PATCH with 204 did not apply")
		}
	})
	t.Run("Decommissioned", func(t *testing.T) {
		te := newEnv(t, Config{Decommissioned: true})
		resp, b := te.do(http.MethodPost, createPath, validBody)
		wantFault(t, resp, b, http.StatusNotFound, "1000")
		resp, b = te.do(http.MethodGet, "/v1/servicerequests/supporttopics", "")
		wantFault(t, resp, b, http.StatusNotFound, "1000")
		if resp, _ := te.do(http.MethodGet, "/v1/servicerequests", ""); resp.StatusCode != http.StatusOK {
			t.Errorf("list is live but answered %d", resp.StatusCode)
		}
	})
	t.Run("Topics", func(t *testing.T) {
		te := newEnv(t, Config{Topics: []wire.SupportTopic{{ID: 10000001, Name: "Only topic"}}})
		m := te.create(`{"title":"t","description":"d","severity":"minimal","supportTopicId":"10000001"}`)
		if str(m, "supportTopicName") != "Only topic" {
			t.Errorf("%v", m)
		}
		resp, b := te.do(http.MethodPost, createPath, validBody) // 32451178 is not configured
		wantFault(t, resp, b, http.StatusBadRequest, "3000")
	})
}

func TestResponseHeaders(t *testing.T) {
	te := newEnv(t, Config{})
	resp, _ := te.do(http.MethodGet, "/v1/servicerequests", "", "MS-RequestId", "", "MS-CorrelationId", "", "X-Locale", "")
	for _, h := range []string{"MS-RequestId", "MS-CorrelationId"} {
		if _, err := uuid.Parse(resp.Header.Get(h)); err != nil {
			t.Errorf("%s %q: want a generated GUID", h, resp.Header.Get(h))
		}
	}
	if resp.Header.Get("MS-CV") == "" || resp.Header.Get("MS-ServerId") == "" {
		t.Errorf("MS-CV %q MS-ServerId %q", resp.Header.Get("MS-CV"), resp.Header.Get("MS-ServerId"))
	}
	if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || resp.Header.Get("X-Locale") != "en-US" {
		t.Errorf("Content-Type %q X-Locale %q", resp.Header.Get("Content-Type"), resp.Header.Get("X-Locale"))
	}
	resp2, _ := te.do(http.MethodGet, "/v1/servicerequests", "", "X-Locale", "fr-FR", "MS-Contract-Version", "")
	if resp2.Header.Get("X-Locale") != "fr-FR" || resp2.Header.Get("MS-CV") == resp.Header.Get("MS-CV") {
		t.Errorf("X-Locale %q, MS-CV repeated %q", resp2.Header.Get("X-Locale"), resp2.Header.Get("MS-CV"))
	}
	resp, b := te.do(http.MethodGet, "/v1/nothing/here", "")
	wantFault(t, resp, b, http.StatusNotFound, "1000")
}

func TestStatsEndpoint(t *testing.T) {
	te := newEnv(t, Config{})
	te.create("", "MS-RequestId", "x")
	te.create("", "MS-RequestId", "x")
	te.do(http.MethodGet, "/v1/servicerequests/1", "")
	te.do(http.MethodGet, "/v1/servicerequests", "", "Authorization", "")
	resp, b := te.do(http.MethodGet, "/_emulator/stats", "", "Authorization", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"created", "creates", "duplicates", "faultsInjected", "inFlight", "maxInFlight", "rejected", "replays", "requests", "throttled", "tokensIssued", "unauthorized"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	got := Stats{Requests: m["requests"], Creates: m["creates"], Created: m["created"], Replays: m["replays"],
		Unauthorized: m["unauthorized"], Rejected: m["rejected"], MaxInFlight: m["maxInFlight"]}
	wantStats := Stats{Requests: 4, Creates: 2, Created: 1, Replays: 1, Unauthorized: 1, Rejected: 1, MaxInFlight: 1}
	if got != wantStats {
		t.Errorf("stats %+v, want %+v", got, wantStats)
	}
}

func TestInFlight(t *testing.T) {
	te := newEnv(t, Config{Latency: 100 * time.Millisecond})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { te.do(http.MethodGet, "/v1/servicerequests", "") })
	}
	wg.Wait()
	if st := te.em.Stats(); st.MaxInFlight < 2 || st.InFlight != 0 {
		t.Errorf("stats %+v: want MaxInFlight ≥ 2, InFlight 0", st)
	}
}

func TestStartAndClose(t *testing.T) {
	em := New(Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, err := em.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+$`).MatchString(base) {
		t.Fatalf("base URL %q", base)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	resp, err := hc.Get(base + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := em.Start(ctx, "127.0.0.1:0"); err == nil {
		t.Error("a second Start succeeded")
	}
	cancel() // ending the context stops the server
	waitFor(t, "the server to stop", func() bool {
		hc.CloseIdleConnections()
		resp, err := hc.Get(base + "/_emulator/stats")
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
	if err := em.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
	if _, err := em.Start(context.Background(), "127.0.0.1:0"); err == nil {
		t.Error("Start after Close succeeded")
	}

	em2 := New(Config{})
	if _, err := em2.Start(context.Background(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := em2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := em2.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
