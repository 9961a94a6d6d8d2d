package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/internal/editdist"
	"github.com/srimport/srimport/reports"
)

// Exit statuses, from cli.md.
const (
	exitOK          = 0
	exitFatal       = 1
	exitUsage       = 2
	exitRowsFailed  = 3
	exitAuth        = 4
	exitUnknown     = 5
	exitStopped     = 6
	exitInterrupted = 130
)

const exitHelp = `Exit status:
  0    every row created (import) or valid (validate)
  1    fatal: the run could not proceed (unreadable input, bad mapping, I/O error)
  2    usage error (unknown flag, missing argument)
  3    finished, but some rows are invalid or failed
  4    authentication or authorisation failed
  5    some rows are unknown; run the same command again to settle them
  6    stopped by --max-duration with rows left pending
  130  interrupted (SIGINT/SIGTERM/SIGHUP); report and journal are flushed first
Where several apply, the first of: 2, 1, 4, 130, 6, 5, 3.`

// stdio is the process's standard streams, swapped in tests.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

func newStdio() stdio { return stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr} }

// env gives flags their environment defaults; os.Getenv in production.
type env func(string) string

// usageError marks a command-line mistake (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// Why a run stopped early, as the cause of its context's end.
var (
	errInterrupted = errors.New("interrupted")
	errMaxDuration = errors.New("stopped by --max-duration")
)

// signals is how the process asks a run to stop: the first SIGINT, SIGTERM
// or SIGHUP ends the run's context with errInterrupted (dispatch stops,
// requests in flight finish); a second one closes abort (they are
// cancelled at once).
type signals struct {
	abort chan struct{}
}

// run builds the command tree, runs it under a context that the first
// SIGINT, SIGTERM or SIGHUP ends, and turns the outcome into an exit
// status.
func run(args []string, io stdio, getenv env) int {
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	sig := &signals{abort: make(chan struct{})}
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	defer signal.Stop(ch)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		n := 0
		for {
			select {
			case <-quit:
				return
			case s := <-ch:
				if s == syscall.SIGPIPE {
					// A closed stdout or stderr: writes to it fail with
					// EPIPE instead of killing the process mid-run.
					continue
				}
				n++
				if n == 1 {
					fmt.Fprintf(io.err, "srimport: %v: stopping; requests in flight may finish (a second signal cancels them)\n", s)
					stop(errInterrupted)
					continue
				}
				close(sig.abort)
				return
			}
		}
	}()
	root := newRoot(io, getenv, sig)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	if err != nil {
		var rr *runResult
		if !errors.As(err, &rr) || rr.err != nil {
			fmt.Fprintf(io.err, "srimport: %v\n", err)
		}
		var ue *usageError
		if errors.As(err, &ue) {
			path := root.Name()
			if cmd, _, ferr := root.Find(args); ferr == nil && cmd != nil {
				path = cmd.CommandPath()
			}
			fmt.Fprintf(io.err, "Run '%s --help' for usage.\n", path)
		}
	}
	return code
}

// runResult is how an import or validate run ends: its summary and the
// error that stopped it, if any. exitCode turns it into the exit status.
type runResult struct {
	sum importer.Summary
	err error
}

func (r *runResult) Error() string {
	if r.err == nil {
		return fmt.Sprintf("exit status %d", outcomeCode(r.sum))
	}
	switch {
	case errors.Is(r.err, errInterrupted), errors.Is(r.err, context.Canceled):
		return "interrupted: the report and the journal hold every row, those not reached as pending; run the same command again to go on"
	case errors.Is(r.err, errMaxDuration):
		return "stopped by --max-duration: rows not reached are pending; run the same command again to go on"
	}
	return r.err.Error()
}
func (r *runResult) Unwrap() error { return r.err }

// exitCode is the one place that maps a command's outcome to cli.md's exit
// status table. Where several apply, the first of 2, 1, 4, 130, 6, 5, 3.
func exitCode(err error) int {
	var ue *usageError
	var rr *runResult
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &rr) && rr.err == nil:
		return outcomeCode(rr.sum)
	case errors.Is(err, errInterrupted), errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, errMaxDuration):
		return exitStopped
	case errors.As(err, new(*authError)) || client.ClassOf(err) == client.ClassAuth && !errors.Is(err, importer.ErrServiceDown):
		return exitAuth
	default:
		return exitFatal
	}
}

// outcomeCode is the exit status a finished run's rows call for.
func outcomeCode(sum importer.Summary) int {
	c := sum.Counts
	switch {
	case c[reports.Pending] > 0:
		return exitStopped
	case c[reports.Unknown] > 0:
		return exitUnknown
	case c[reports.Invalid] > 0 || c[reports.Failed] > 0:
		return exitRowsFailed
	}
	return exitOK
}

func newRoot(io stdio, getenv env, sig *signals) *cobra.Command {
	root := &cobra.Command{
		Use:   "srimport",
		Short: "Create Partner Center service requests in bulk from CSV or XLSX files",
		Long: `srimport reads a CSV or XLSX file, maps and validates each row into a
Partner Center service request, creates them concurrently with client-side
rate limiting and retries, and writes a report that pairs every input row,
in input order, with its new service-request id or its error.

Try it without an account against the built-in emulator:

  srimport import --sandbox samples/tickets.csv`,
		Version:       versionLine(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// A mistyped command is answered with the nearest ones.
		SuggestionsMinimumDistance: 2,
		Annotations:                map[string]string{exitTableKey: exitHelp},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				msg := fmt.Sprintf("unknown command %q", args[0])
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					msg += "; did you mean " + strings.Join(s, " or ") + "?"
				}
				return &usageError{errors.New(msg)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetIn(io.in)
	root.SetOut(io.out)
	root.SetErr(io.err)
	root.SetFlagErrorFunc(flagError)
	root.SetUsageTemplate(usageTemplate)
	root.SetVersionTemplate("srimport {{.Version}}\n")
	// Declared here so that cobra adds no -v shorthand: -v is import's
	// --verbose.
	root.Flags().Bool("version", false, "print the version (the same as srimport version)")
	root.AddCommand(
		newImportCmd(io, getenv, sig),
		newValidateCmd(io, getenv),
		newSandboxCmd(io),
		newTemplateCmd(io),
		newRunsCmd(io, getenv),
		newReportCmd(io, getenv),
		newVersionCmd(io),
	)
	return root
}

// exitTableKey is the annotation that holds a command's exit status
// table: the root's, import's and validate's help show it.
const exitTableKey = "exits"

// usageTemplate is cobra's usage template with the exit status table of
// commands annotated with one, and the examples moved to the end, where a
// reader who has seen the flags looks for them.
const usageTemplate = `Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasAvailableSubCommands}}

Available Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{with index .Annotations "exits"}}

{{.}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`

// flagError makes a flag parsing error a usage error, naming the nearest
// flags of the command when the flag is unknown.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		if s := nearestFlags(cmd, name); len(s) > 0 {
			return &usageError{fmt.Errorf("%w; did you mean %s?", err, strings.Join(s, " or "))}
		}
	}
	return &usageError{err}
}

// nearestFlags returns the command's flags within two edits of name, or
// that name begins, as --flag.
func nearestFlags(cmd *cobra.Command, name string) []string {
	var near []string
	seen := map[string]bool{}
	visit := func(f *pflag.Flag) {
		if f.Hidden || seen[f.Name] {
			return
		}
		if editdist.Distance(name, f.Name) <= 2 || len(name) >= 3 && strings.HasPrefix(f.Name, name) {
			seen[f.Name] = true
			near = append(near, "--"+f.Name)
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	return near
}

// args wraps a cobra positional-argument check so its failure is a usage
// error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return &usageError{err}
		}
		return nil
	}
}

// newLogger returns the diagnostics logger, in format (text or json):
// debug level with -v, else warnings, or errors only when quiet.
func newLogger(w io.Writer, verbose bool, format string, quiet bool) *slog.Logger {
	level := slog.LevelWarn
	switch {
	case verbose:
		level = slog.LevelDebug
	case quiet:
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
