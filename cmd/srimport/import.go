package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/reports"
)

// defaultBaseURL is the Partner Center API of the public cloud.
const defaultBaseURL = "https://api.partnercenter.microsoft.com"

// Time limits the command line sets.
const (
	tokenCommandTimeout = 2 * time.Minute  // --token-command
	serviceDownAfter    = 10 * time.Second // default --down-after
)

type importOptions struct {
	inputOptions
	authOptions
	watchOptions
	page        pageOptions // --html
	baseURL     string
	sandbox     bool
	workers     int
	rate        float64
	retries     int
	timeout     time.Duration
	stateDir    string
	resume      bool
	force       bool
	inDoubt     string
	maxDuration time.Duration
	grace       time.Duration
	downAfter   time.Duration
	dryRun      bool
	envErr      error
	set         map[string]bool // flags the command line gave
}

func newImportCmd(io stdio, getenv env, sig *signals) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Create one service request per data row of FILE (CSV or XLSX)",
		Long: `Create one service request per data row of FILE (CSV or XLSX).

Each row is mapped (--mapping, or headers matched to fields by name),
validated, and created through POST {base-url}/v1/servicerequests/{locale}.
Every row's outcome goes to the report, in input order. A report
(.xlsx or .csv) can itself be imported once its failed rows are fixed in
a spreadsheet: its result columns are left out, and the rows created
before are skipped, as in any re-run.

Authentication, in this order: $SRIMPORT_TOKEN holds a bearer token;
--token-command names a command that prints one (run again whenever the
token expires); or the refresh-token grant of the Secure Application Model
with $SRIMPORT_TENANT, $SRIMPORT_CLIENT_ID, $SRIMPORT_CLIENT_SECRET (or
_FILE) and $SRIMPORT_REFRESH_TOKEN (or --refresh-token-file), renewed
before it expires and whenever the service says it has. With --sandbox,
srimport starts its built-in Partner Center emulator on loopback and needs
no account.

FILE - reads the input from standard input (--format csv, tsv or xlsx;
default csv); the report then has no file to go beside and must be named
with --report. Flags that show a $SRIMPORT_ variable take their default from
it; per-run paths (--report, --summary, --retry-from) have none, since one
value for every run would send every run's report to the same file.

Running the same import again is always safe. Every row has an identity
that does not depend on its row number (the mapping's key:, else a hash of
what it sends), kept with its MS-RequestId in the state store (--state-dir)
before its first request leaves. A re-run skips the rows this target
already has, settles the rows left in doubt (a reset, a timeout, a 5xx, an
unreadable answer: the ticket may exist) by looking them up on the service,
and sends the rest. Ctrl-C stops dispatch at once, lets requests in flight
finish, and reports the rest as pending; a second Ctrl-C cancels them.`,
		Example: `  # A first run, without an account: the built-in emulator, no state kept.
  srimport import --sandbox samples/tickets.csv

  # A real run, with a token printed by a command (run again when it expires).
  srimport validate tickets.csv
  srimport import --token-command 'az account get-access-token --resource https://api.partnercenter.microsoft.com' \
    --workers 16 --rate 50 tickets.csv

  # After a failure: running the same command again is safe; it skips the
  # rows created and settles those in doubt. Or send only the failed rows:
  srimport import --retry-from tickets.csv.report.csv tickets.csv
  srimport import --report out.xlsx tickets.csv   # fix the failed rows in out.xlsx, then
  srimport import out.xlsx

  # From another program, on stdin (the report must be named):
  export-tickets | srimport import --report out.csv -

  # A nightly cron job that must end in time (exit 6 leaves rows pending
  # for the next night):
  # /etc/srimport/env exports SRIMPORT_TENANT, SRIMPORT_CLIENT_ID and
  # SRIMPORT_CLIENT_SECRET_FILE.
  30 1 * * *  . /etc/srimport/env && srimport import --quiet --max-duration 50m --refresh-token-file /var/lib/srimport/refresh-token --mapping /etc/srimport/helpdesk.yaml /data/nightly.csv`,
		Annotations: map[string]string{exitTableKey: exitHelp},
		Args:        oneFile("import"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if o.envErr != nil {
				return o.envErr
			}
			o.flagsSet(cmd)
			if o.dryRun {
				if err := o.checkDryRun(); err != nil {
					return err
				}
				return runValidate(cmd.Context(), io, &validateOptions{inputOptions: o.inputOptions}, a[0])
			}
			return runImport(cmd.Context(), io, sig, o, a[0])
		},
	}
	o.inputOptions.addFlags(cmd, io, getenv)
	o.authOptions.addFlags(cmd, getenv)
	o.watchOptions.addFlags(cmd, getenv)
	o.page.addFlags(cmd, getenv)
	f := cmd.Flags()
	f.StringVar(&o.report, "report", "", "report file (default FILE.report.csv); "+reportFormatsHelp)
	f.StringVar(&o.baseURL, "base-url", envOr(getenv, "SRIMPORT_BASE_URL", defaultBaseURL), "API base URL ($SRIMPORT_BASE_URL)")
	f.BoolVar(&o.sandbox, "sandbox", false, "start the built-in emulator in-process and import into it (no account needed; keeps no state;\nnot with --base-url)")
	f.IntVar(&o.workers, "workers", envNum(getenv, "SRIMPORT_WORKERS", 8, strconv.Atoi, &o.envErr), "requests in flight at most ($SRIMPORT_WORKERS)")
	f.Float64Var(&o.rate, "rate", envNum(getenv, "SRIMPORT_RATE", 0, parseFloat, &o.envErr), "requests per second at most, retries included; 0 = no client limit ($SRIMPORT_RATE)")
	f.IntVar(&o.retries, "retries", envNum(getenv, "SRIMPORT_RETRIES", 5, strconv.Atoi, &o.envErr), "attempts after the first, per row ($SRIMPORT_RETRIES)")
	f.DurationVar(&o.timeout, "timeout", envNum(getenv, "SRIMPORT_TIMEOUT", 60*time.Second, time.ParseDuration, &o.envErr), "time limit of one attempt ($SRIMPORT_TIMEOUT)")
	f.StringVar(&o.stateDir, "state-dir", envOr(getenv, "SRIMPORT_STATE_DIR", defaultStateDir(getenv)), "where the journal and the import history live ($SRIMPORT_STATE_DIR)")
	f.BoolVar(&o.resume, "resume", false, "continue the previous unfinished run of this input; an error when there is none (a plain re-run continues too)")
	f.BoolVar(&o.force, "force", false, "create rows again although this target already has them")
	f.StringVar(&o.inDoubt, "in-doubt", "settle", "a row that may have been created: settle (look it up on the service before any re-post)\nor retry (re-post at once with the same MS-RequestId; only for services known to de-duplicate)")
	f.DurationVar(&o.maxDuration, "max-duration", 0, "stop dispatching after this long, let requests in flight finish, exit 6 (0 = no limit)")
	f.DurationVar(&o.grace, "grace", 10*time.Second, "after a stop, how long requests in flight may finish before they are cancelled")
	f.DurationVar(&o.downAfter, "down-after", serviceDownAfter, "stop the run when the service has answered nothing at all for this long\n(refused, unreachable, or silent); rows not sent stay pending")
	f.BoolVar(&o.dryRun, "dry-run", false, "read, map and validate every row as validate does; send nothing")
	f.StringVar(&o.retryFrom, "retry-from", "", "send only the rows whose status in this report (.csv, .xlsx or .jsonl) is failed or unknown")
	return cmd
}

// check refuses usage mistakes before anything is read or sent.
func (o *importOptions) check(file, report string) error {
	switch {
	case o.workers < 1:
		return &usageError{fmt.Errorf("--workers %d: need at least 1", o.workers)}
	case o.rate < 0:
		return &usageError{fmt.Errorf("--rate %v: cannot be negative (0 = no client limit)", o.rate)}
	case o.retries < 0:
		return &usageError{fmt.Errorf("--retries %d: cannot be negative", o.retries)}
	case o.timeout <= 0:
		return &usageError{fmt.Errorf("--timeout %v: must be positive", o.timeout)}
	case o.maxDuration < 0:
		return &usageError{fmt.Errorf("--max-duration %v: cannot be negative (0 = no limit)", o.maxDuration)}
	case o.downAfter <= 0:
		return &usageError{fmt.Errorf("--down-after %v: must be positive", o.downAfter)}
	case o.grace < 0:
		return &usageError{fmt.Errorf("--grace %v: cannot be negative", o.grace)}
	case o.inDoubt != "settle" && o.inDoubt != "retry":
		return &usageError{fmt.Errorf("--in-doubt %q: want settle or retry", o.inDoubt)}
	case o.resume && o.sandbox:
		return &usageError{errors.New("--resume cannot be used with --sandbox: a sandbox starts empty and keeps no state")}
	case isStdin(file) && o.report == "":
		return &usageError{errors.New("FILE - reads the input from standard input, and there is no file to put the report beside: name it with --report FILE")}
	case o.sandbox && o.set["base-url"]:
		return &usageError{errors.New("--sandbox and --base-url: give one; --sandbox imports into the built-in emulator, --base-url into the service at that URL")}
	case o.sandbox && (o.set["token-command"] || o.set["refresh-token-file"]):
		return &usageError{errors.New("--sandbox needs no credentials: leave out --token-command and --refresh-token-file")}
	case !o.sandbox && o.stateDir == "":
		return &usageError{errors.New("no state directory: set --state-dir or $SRIMPORT_STATE_DIR (no home directory to put it under)")}
	}
	if err := o.authOptions.check(); err != nil {
		return err
	}
	if err := o.inputOptions.check(file); err != nil {
		return err
	}
	return o.checkReport(file, report)
}

// flagsSet notes which flags the command line gave, for checks of flags
// given together (an environment default is not a conflict).
func (o *importOptions) flagsSet(cmd *cobra.Command) {
	o.set = map[string]bool{}
	cmd.Flags().Visit(func(f *pflag.Flag) { o.set[f.Name] = true })
}

// checkDryRun refuses the import-only flags a dry run would ignore.
func (o *importOptions) checkDryRun() error {
	for _, name := range []string{"resume", "retry-from", "force", "sandbox", "base-url"} {
		if o.set[name] {
			return &usageError{fmt.Errorf("--dry-run and --%s: a dry run sends nothing; leave out --%s (or --dry-run)", name, name)}
		}
	}
	return nil
}

func runImport(ctx context.Context, io stdio, sig *signals, o *importOptions, file string) (err error) {
	if err := o.watchOptions.check(); err != nil {
		return err
	}
	w := newWatch(io, o)
	var sum importer.Summary
	// Every run that gets this far leaves its metrics, failed and
	// interrupted ones included.
	defer func() {
		if merr := w.writeMetrics(sum, exitCode(err)); merr != nil {
			if err == nil {
				err = merr
				return
			}
			fmt.Fprintf(io.err, "srimport: %v\n", merr)
		}
	}()
	// So does its page, with what is known of it (--html).
	pg := newImportPage(o, w, file)
	defer func() { err = pg.finish(io.err, sum, err) }()
	report := o.report
	if report == "" && !isStdin(file) {
		report = reports.DefaultPath(file)
	}
	if err := o.check(file, report); err != nil {
		return err
	}
	if err := o.page.check(file, o.mapping, report, o.metricsFile); err != nil {
		return err
	}
	if o.maxDuration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, o.maxDuration, errMaxDuration)
		defer cancel()
	}
	logger := w.logger
	baseURL, cred := o.baseURL, credential{}
	if o.sandbox {
		em := emulator.New(emulator.Config{})
		url, err := em.Start(ctx, "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("start sandbox: %w", err)
		}
		defer em.Close()
		fmt.Fprintf(w.notices, "sandbox: built-in emulator at %s\n", url)
		baseURL, cred = url, credential{src: client.StaticToken("sandbox-" + uuid.NewString())}
	} else {
		c, err := o.credentials()
		if err != nil {
			return err
		}
		if err := firstToken(ctx, c); err != nil {
			return err
		}
		cred = c
	}
	token := cred.src
	pg.target = baseURL
	breaker := importer.NewBreaker(o.downAfter, baseURL)
	c, err := client.New(client.Config{
		BaseURL: baseURL, Token: token, Workers: o.workers, Rate: o.rate,
		Retries: o.retries, AttemptTimeout: o.timeout, Logger: logger,
		UserAgent:          "srimport/" + version(),
		NoRetryAfterEffect: o.inDoubt == "settle",
		OnAttempt:          breaker.Attempt,
		Observe:            w.attempt,
		OnPause:            w.paused,
	})
	if err != nil {
		return err
	}
	// Before the sandbox stops: idle connections would hold its shutdown.
	defer c.CloseIdleConnections()
	topics, err := supportTopics(ctx, c, breaker)
	if err != nil {
		// A service that does not answer stops the run at once: every row
		// is reported pending.
		if client.ClassOf(err) == client.ClassAuth {
			return fmt.Errorf("%s: %w", baseURL, err)
		}
		// The topic list was retired with create; validate without it. A
		// run stopped meanwhile (--max-duration, a signal) goes on to
		// report every row pending.
		logger.Debug("support topics unavailable; topic ids are checked by the service only", "err", err)
		topics = nil
	}
	p, err := o.open(w.notices, file, topics)
	if err != nil {
		return err
	}
	cfg := importer.Config{
		Workers: o.workers, Creator: c, Lister: c, Force: o.force,
		Reposts: o.retries, Grace: o.grace, Abort: sig.abort, Breaker: breaker,
		Observer: w.observer(),
	}
	if o.inDoubt == "retry" {
		cfg.InDoubt = importer.Retry
	}
	if o.retryFrom != "" {
		sel, err := selectFromReport(o.retryFrom, p)
		if err != nil {
			p.src.Close()
			return err
		}
		cfg.Select = sel
	}
	var h *history
	if !o.sandbox {
		h, err = openHistory(context.WithoutCancel(ctx), w.notices, o, file, target(ctx, baseURL, o.tenant, token), p.mapper.Keyed())
		if err != nil {
			p.src.Close()
			return err
		}
		defer h.close()
		cfg.Journal, cfg.RunID = h.run, h.run.ID()
	}
	w.start(ctx, file, c.Rate)
	var runErr error
	sum, runErr = p.run(ctx, cfg, report, w.notices)
	w.stop()
	result := &runResult{sum: sum, err: authHint(runErr, cred)}
	code := exitCode(result)
	if h != nil {
		if err := h.finish(sum, code); err != nil && runErr == nil {
			result.err = err
			code = exitCode(result)
		}
		pg.save(io.err, h)
	}
	if rt, ok := cred.src.(*client.RefreshToken); ok && rt.RotateErr() != nil {
		fmt.Fprintf(io.err, "srimport: warning: the rotated refresh token could not be saved (%v); the next run will use the old one, which the authority may refuse\n", rt.RotateErr())
	}
	snap := w.stats.Snapshot()
	if !o.quiet {
		printRunSummary(io.out, "imported", sum, report, sentPerSecond(sum, snap))
		printRequests(io.out, snap)
		if h != nil {
			fmt.Fprintf(io.out, "run %d recorded in %s\n", h.run.ID(), h.store.Path())
		}
	}
	o.watched = &watched{snap: snap, began: w.began}
	return o.finish(io, result, code, file, report)
}

// supportTopics asks the service for its topic list, giving up when the
// breaker trips: a service that does not answer stops the run here.
func supportTopics(ctx context.Context, c *client.Client, b *importer.Breaker) ([]client.SupportTopic, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-b.Tripped():
			cancel()
		case <-ctx.Done():
		}
	}()
	topics, err := c.SupportTopics(ctx)
	if berr := b.Err(); err != nil && berr != nil {
		return nil, berr
	}
	return topics, err
}

// authError is a local credentials problem (exit 4).
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }
