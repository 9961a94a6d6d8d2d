package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
)

// defaultBaseURL is the Partner Center API of the public cloud.
const defaultBaseURL = "https://api.partnercenter.microsoft.com"

type importOptions struct {
	inputOptions
	baseURL      string
	tokenCommand string
	token        string // from $SRIMPORT_TOKEN; never printed
	sandbox      bool
	workers      int
	rate         float64
	retries      int
	timeout      time.Duration
	envErr       error
}

func newImportCmd(io stdio, getenv env) *cobra.Command {
	o := &importOptions{token: getenv("SRIMPORT_TOKEN")}
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Create one service request per data row of FILE (CSV or XLSX)",
		Long: `Create one service request per data row of FILE (CSV or XLSX).

Each row is mapped (--mapping, or headers matched to fields by name),
validated, and created through POST {base-url}/v1/servicerequests/{locale}.
Every row's outcome goes to the report, in input order.

Authentication: $SRIMPORT_TOKEN holds a bearer token, or --token-command
names a command that prints one. With --sandbox, srimport starts its
built-in Partner Center emulator on loopback and needs no account.

Each row's MS-RequestId is derived from its row number and content, so a
re-run of the same file repeats it and a service that de-duplicates on it
does not create the ticket twice.`,
		Example: `  srimport import --sandbox samples/tickets.csv
  SRIMPORT_TOKEN=... srimport import --workers 16 --rate 50 tickets.csv
  srimport import --mapping helpdesk.yaml --report out.csv export.csv`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if o.envErr != nil {
				return o.envErr
			}
			return runImport(cmd.Context(), io, o, a[0])
		},
	}
	o.addFlags(cmd, getenv)
	f := cmd.Flags()
	f.StringVar(&o.report, "report", "", "report file (.csv); default FILE.report.csv")
	f.StringVar(&o.baseURL, "base-url", envOr(getenv, "SRIMPORT_BASE_URL", defaultBaseURL), "API base URL ($SRIMPORT_BASE_URL)")
	f.StringVar(&o.tokenCommand, "token-command", "", "command that prints a bearer token (default: the token in $SRIMPORT_TOKEN)")
	f.BoolVar(&o.sandbox, "sandbox", false, "start the built-in emulator in-process and import into it (no account needed)")
	f.IntVar(&o.workers, "workers", envNum(getenv, "SRIMPORT_WORKERS", 8, strconv.Atoi, &o.envErr), "requests in flight at most ($SRIMPORT_WORKERS)")
	f.Float64Var(&o.rate, "rate", envNum(getenv, "SRIMPORT_RATE", 0, parseFloat, &o.envErr), "requests per second at most, retries included; 0 = no client limit ($SRIMPORT_RATE)")
	f.IntVar(&o.retries, "retries", 5, "attempts after the first, per row")
	f.DurationVar(&o.timeout, "timeout", 60*time.Second, "time limit of one attempt")
	return cmd
}

func runImport(ctx context.Context, io stdio, o *importOptions, file string) error {
	if o.workers < 1 {
		return &usageError{fmt.Errorf("--workers %d: need at least 1", o.workers)}
	}
	if o.rate < 0 || o.retries < 0 {
		return &usageError{errors.New("--rate and --retries cannot be negative")}
	}
	logger := newLogger(io.err, o.verbose)
	baseURL, token := o.baseURL, client.TokenSource(nil)
	if o.sandbox {
		em := emulator.New(emulator.Config{})
		url, err := em.Start(ctx, "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("start sandbox: %w", err)
		}
		defer em.Close()
		fmt.Fprintf(io.err, "sandbox: built-in emulator at %s\n", url)
		baseURL, token = url, client.StaticToken("sandbox-"+uuid.NewString())
	} else {
		t, err := o.tokenSource(ctx)
		if err != nil {
			return err
		}
		token = t
	}
	c, err := client.New(client.Config{
		BaseURL: baseURL, Token: token, Workers: o.workers, Rate: o.rate,
		Retries: o.retries, AttemptTimeout: o.timeout, Logger: logger,
		UserAgent: "srimport/" + version(),
	})
	if err != nil {
		return err
	}
	// Before the sandbox stops: idle connections would hold its shutdown.
	defer c.CloseIdleConnections()
	topics, err := c.SupportTopics(ctx)
	if err != nil {
		if client.ClassOf(err) == client.ClassAuth || errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s: %w", baseURL, err)
		}
		// The topic list was retired with create; validate without it.
		logger.Debug("support topics unavailable; topic ids are checked by the service only", "err", err)
		topics = nil
	}
	p, err := o.open(io.err, file, topics)
	if err != nil {
		return err
	}
	report := o.report
	if report == "" {
		report = reports.DefaultPath(file)
	}
	sum, runErr := p.run(ctx, importer.Config{Workers: o.workers, Creator: c}, report)
	result := finish(sum, runErr)
	printSummary(io.out, "imported", sum, report)
	if err := o.writeSummary(sum, file, report, exitCode(result)); err != nil && result == nil {
		return err
	}
	return result
}

// tokenSource returns the bearer token from --token-command or
// $SRIMPORT_TOKEN. The token itself never appears in errors.
func (o *importOptions) tokenSource(ctx context.Context) (client.TokenSource, error) {
	if o.tokenCommand != "" {
		out, err := exec.CommandContext(ctx, "sh", "-c", o.tokenCommand).Output()
		if err != nil {
			return nil, &authError{fmt.Errorf("--token-command failed: %w", err)}
		}
		t := strings.TrimSpace(string(out))
		if t == "" {
			return nil, &authError{errors.New("--token-command printed no token")}
		}
		return client.StaticToken(t), nil
	}
	if o.token == "" {
		return nil, &authError{errors.New("no credentials: set $SRIMPORT_TOKEN or --token-command, or try --sandbox")}
	}
	return client.StaticToken(o.token), nil
}

// authError is a local credentials problem (exit 4).
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }
