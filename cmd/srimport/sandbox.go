package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/srimport/srimport/emulator"
)

func newSandboxCmd(io stdio) *cobra.Command {
	var (
		listen string
		cfg    emulator.Config
	)
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve the built-in Partner Center emulator on loopback until stopped",
		Long: `Serve the built-in Partner Center emulator until interrupted.

The first line on stdout is the base URL (for --base-url). Any non-empty
bearer token is accepted unless --token names the one to require. The
emulator keeps everything in memory; GET /_emulator/stats reports what it saw.
Quota, latency and fault flags reproduce what the real service has been seen
to do, to rehearse an import before running it for real.`,
		Example: `  srimport sandbox --listen 127.0.0.1:0
  srimport sandbox --quota 20 --fault-reset-after 0.05 --latency 50ms`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			em := emulator.New(cfg)
			url, err := em.Start(cmd.Context(), listen)
			if err != nil {
				return fmt.Errorf("sandbox: %w", err)
			}
			fmt.Fprintln(io.out, url)
			<-cmd.Context().Done()
			return em.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:4311", "address to listen on (127.0.0.1:0 picks a free port)")
	f.StringVar(&cfg.Token, "token", "", "the bearer token to require (default: any non-empty token)")
	f.Float64Var(&cfg.Quota, "quota", 0, "requests per second before answering 429 (0 = unlimited)")
	f.IntVar(&cfg.Burst, "burst", 0, "quota bucket size (default: the quota)")
	f.DurationVar(&cfg.Latency, "latency", 0, "added to every response")
	f.DurationVar(&cfg.Jitter, "jitter", 0, "plus a random delay up to this")
	f.Float64Var(&cfg.Faults.Error500Before, "fault-500", 0, "probability of a 500 before creating")
	f.Float64Var(&cfg.Faults.ResetBefore, "fault-reset-before", 0, "probability of a connection reset before creating")
	f.Float64Var(&cfg.Faults.ResetAfter, "fault-reset-after", 0, "probability of a connection reset after creating")
	f.Float64Var(&cfg.Faults.Error500After, "fault-500-after", 0, "probability of a 500 after creating")
	f.Float64Var(&cfg.Faults.Truncated201, "fault-truncated", 0, "probability of a truncated 201 after creating")
	f.Float64Var(&cfg.Faults.Stall, "fault-stall", 0, "probability of never answering")
	f.DurationVar(&cfg.StallFor, "stall-for", 2*time.Minute, "how long a stalled request is held")
	f.IntVar(&cfg.TokenExpiryCalls, "token-expiry-calls", 0, "a token stops working after this many calls (0 = never)")
	f.Uint64Var(&cfg.Seed, "seed", 0, "seed for faults and jitter (0 = random)")
	f.BoolVar(&cfg.Decommissioned, "decommissioned", false, "answer create as the retired service does (404)")
	return cmd
}
