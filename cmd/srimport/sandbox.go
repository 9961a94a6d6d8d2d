package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/srimport/srimport/emulator"
)

func newSandboxCmd(io stdio) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve the built-in Partner Center emulator on loopback until stopped",
		Long: `Serve the built-in Partner Center emulator until interrupted.

The first line on stdout is the base URL (for --base-url). Any non-empty
bearer token is accepted unless --token names the one to require. The
emulator keeps everything in memory; GET /_emulator/stats reports what it saw.
Quota, latency and fault flags reproduce what the real service has been seen
to do, to rehearse an import before running it for real. Fault probabilities
are drawn for every create; --seed makes the draws repeatable. --no-dedup
rehearses a service that ignores MS-RequestId, where a retried create that
had taken effect creates a second request (stats: "duplicates").`,
		Example: `  srimport sandbox --listen 127.0.0.1:0
  srimport sandbox --quota 20 --fault-reset-after 0.05 --latency 50ms
  srimport sandbox --no-dedup --fault-500-after 0.1 --seed 7`,
		Args: args(cobra.NoArgs),
	}
	cfg, listen := sandboxFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		em := emulator.New(*cfg)
		url, err := em.Start(cmd.Context(), *listen)
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		fmt.Fprintln(io.out, url)
		<-cmd.Context().Done()
		return em.Close()
	}
	return cmd
}

// sandboxFlags declares the sandbox flags on cmd and returns the emulator
// configuration and listen address they fill in.
func sandboxFlags(cmd *cobra.Command) (*emulator.Config, *string) {
	var (
		cfg    emulator.Config
		listen string
	)
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:4311", "address to listen on (127.0.0.1:0 picks a free port)")
	f.StringVar(&cfg.Token, "token", "", "the bearer token to require (default: any non-empty token)")
	f.Float64Var(&cfg.Quota, "quota", 0, "requests per second per tenant before answering 429 with Retry-After (0 = unlimited)")
	f.IntVar(&cfg.Burst, "burst", 0, "quota bucket size (default: the quota)")
	f.DurationVar(&cfg.Latency, "latency", 0, "added to every response")
	f.DurationVar(&cfg.Jitter, "jitter", 0, "plus a random delay up to this")
	f.Float64Var(&cfg.Faults.Error500Before, "fault-500-before", 0, "probability that a create answers 500 without creating")
	f.Float64Var(&cfg.Faults.Error500Before, "fault-500", 0, "the same as --fault-500-before")
	_ = f.MarkHidden("fault-500") // the flag's first name, kept working
	f.Float64Var(&cfg.Faults.ResetBefore, "fault-reset-before", 0, "probability that a create resets the connection without creating")
	f.Float64Var(&cfg.Faults.ResetAfter, "fault-reset-after", 0, "probability that a create creates, then resets the connection without answering")
	f.Float64Var(&cfg.Faults.Error500After, "fault-500-after", 0, "probability that a create creates, then answers 500")
	f.Float64Var(&cfg.Faults.Truncated201, "fault-truncated", 0, "probability that a create creates, then sends half of its 201 and hangs up")
	f.Float64Var(&cfg.Faults.Stall, "fault-stall", 0, "probability that a create is held unanswered for --stall-for, creating nothing")
	f.DurationVar(&cfg.StallFor, "stall-for", 2*time.Minute, "how long a stalled create is held before the connection is dropped")
	f.BoolVar(&cfg.NoDedup, "no-dedup", false, "ignore MS-RequestId on create: every create creates, even a retry of one that took effect")
	f.IntVar(&cfg.TokenExpiryCalls, "token-expiry-calls", 0, "a token stops working after this many calls (0 = never)")
	f.Uint64Var(&cfg.Seed, "seed", 0, "seed for faults and jitter (0 = random)")
	f.BoolVar(&cfg.Decommissioned, "decommissioned", false, "answer create as the retired service does (404)")
	return &cfg, &listen
}
