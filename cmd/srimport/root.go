package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/srimport/srimport/client"
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
  5    some rows are unknown; run again to settle them
  6    stopped by --max-duration with rows left pending
  130  interrupted (SIGINT/SIGTERM); the report is flushed first
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

// exitError carries an exit status decided by a command (for row outcomes)
// with an optional message already printed or to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// run builds the command tree, runs it under a context that SIGINT and
// SIGTERM cancel, and turns the outcome into an exit status.
func run(args []string, io stdio, getenv env) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot(io, getenv)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	if err != nil {
		var ee *exitError
		if !errors.As(err, &ee) || ee.err != nil {
			fmt.Fprintf(io.err, "srimport: %v\n", err)
		}
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(io.err, "Run 'srimport --help' for usage.")
		}
	}
	return code
}

// exitCode maps a command's error to cli.md's exit status table.
func exitCode(err error) int {
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, new(*authError)) || client.ClassOf(err) == client.ClassAuth:
		return exitAuth
	default:
		return exitFatal
	}
}

func newRoot(io stdio, getenv env) *cobra.Command {
	root := &cobra.Command{
		Use:   "srimport",
		Short: "Create Partner Center service requests in bulk from CSV or XLSX files",
		Long: `srimport reads a CSV or XLSX file, maps and validates each row into a
Partner Center service request, creates them concurrently with client-side
rate limiting and retries, and writes a report that pairs every input row,
in input order, with its new service-request id or its error.

Try it without an account against the built-in emulator:

  srimport import --sandbox samples/tickets.csv`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &usageError{fmt.Errorf("unknown command %q", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetIn(io.in)
	root.SetOut(io.out)
	root.SetErr(io.err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitHelp + "\n")
	root.AddCommand(
		newImportCmd(io, getenv),
		newValidateCmd(io, getenv),
		newSandboxCmd(io),
		newTemplateCmd(io),
		newVersionCmd(io),
	)
	return root
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

// newLogger returns the diagnostics logger: debug level with -v, else
// warnings only.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
