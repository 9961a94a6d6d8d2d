package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/srimport/srimport/emulator"
)

func TestSandboxFlags(t *testing.T) {
	cmd := &cobra.Command{}
	cfg, listen := sandboxFlags(cmd)
	err := cmd.ParseFlags([]string{
		"--listen", "127.0.0.1:0", "--token", "tok", "--quota", "20", "--burst", "5",
		"--latency", "50ms", "--jitter", "3ms", "--seed", "7", "--no-dedup",
		"--fault-500-before", "0.1", "--fault-reset-before", "0.2", "--fault-reset-after", "0.3",
		"--fault-500-after", "0.4", "--fault-truncated", "0.5", "--fault-stall", "0.6", "--stall-for", "9s",
		"--token-expiry-calls", "11", "--decommissioned",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := emulator.Config{
		Token: "tok", Quota: 20, Burst: 5, Latency: 50 * time.Millisecond, Jitter: 3 * time.Millisecond, Seed: 7,
		NoDedup: true, StallFor: 9 * time.Second, TokenExpiryCalls: 11, Decommissioned: true,
		Faults: emulator.Faults{Error500Before: 0.1, ResetBefore: 0.2, ResetAfter: 0.3, Error500After: 0.4, Truncated201: 0.5, Stall: 0.6},
	}
	if *listen != "127.0.0.1:0" || !reflect.DeepEqual(*cfg, want) {
		t.Errorf("listen %q, config %+v\nwant %+v", *listen, *cfg, want)
	}

	// The flag's first name still works; defaults are the emulator's.
	cmd = &cobra.Command{}
	cfg, _ = sandboxFlags(cmd)
	if err := cmd.ParseFlags([]string{"--fault-500", "0.25"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Faults.Error500Before != 0.25 || cfg.NoDedup || cfg.StallFor != 2*time.Minute {
		t.Errorf("config %+v", *cfg)
	}
}

// TestSandboxNoDedup serves the sandbox with --no-dedup and posts one
// MS-RequestId twice: two requests are created, and the stats say so.
func TestSandboxNoDedup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		cmd := newSandboxCmd(stdio{in: strings.NewReader(""), out: pw, err: io.Discard})
		cmd.SetArgs([]string{"--listen", "127.0.0.1:0", "--no-dedup"})
		err := cmd.ExecuteContext(runCtx)
		pw.Close()
		done <- err
	}()
	base, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("no base URL: %v (%v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }() // ends when the command does
	base = strings.TrimSpace(base)
	hc := &http.Client{Timeout: 5 * time.Second}
	for range 2 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/servicerequests/en-US",
			strings.NewReader(`{"title":"t","description":"d","severity":"minimal","supportTopicId":"32451178"}`))
		req.Header.Set("Authorization", "Bearer x")
		req.Header.Set("MS-RequestId", "same")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d", resp.StatusCode)
		}
	}
	resp, err := hc.Get(base + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st emulator.Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.Created != 2 || st.Duplicates != 1 {
		t.Errorf("stats %+v (%v): want 2 created, 1 duplicate", st, err)
	}
	hc.CloseIdleConnections()
	stop()
	if err := <-done; err != nil {
		t.Errorf("sandbox: %v", err)
	}
}
