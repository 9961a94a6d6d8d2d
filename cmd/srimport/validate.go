package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/emulator"
	"github.com/srimport/srimport/importer"
)

// validateOptions are validate's flags: the input's, and the service whose
// support topics --sandbox or --base-url ask for.
type validateOptions struct {
	inputOptions
	authOptions
	baseURL string
	sandbox bool
	set     map[string]bool // flags the command line gave
}

// online tells whether validate asks a service for its support topics:
// only when the command line names one, never from the environment
// ($SRIMPORT_BASE_URL is import's), so that a plain validate stays
// offline.
func (o *validateOptions) online() bool { return o.sandbox || o.baseURL != "" }

func newValidateCmd(io stdio, getenv env) *cobra.Command {
	o := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Read, map and validate every row exactly as import would; send nothing",
		Long: `Read, map and validate every row of FILE exactly as import would, and send
nothing. A file that validates cleanly fails at import only for reasons that
live on the server (an unknown support topic, throttling, credentials).

Prints how many rows are valid and which rules the invalid ones break; with
--report, writes the report import would write, valid rows marked "valid".

With --sandbox or --base-url (and import's credentials), validate also asks
that service for its support topics, as import does, and checks every row's
topic id against them and resolves topic names (SupportTopicName); it still
creates nothing. Without them, validate needs no network, and a topic given
only by name is reported as not resolvable.`,
		Example: `  srimport validate samples/tickets-with-errors.csv
  srimport validate --report check.xlsx tickets.csv
  srimport validate --sandbox tickets.csv              # topics of the built-in emulator
  srimport validate --base-url https://api.partnercenter.microsoft.com tickets.csv`,
		Annotations: map[string]string{exitTableKey: exitHelp},
		Args:        oneFile("validate"),
		RunE: func(cmd *cobra.Command, a []string) error {
			o.set = map[string]bool{}
			for _, name := range []string{"base-url", "sandbox", "token-command", "refresh-token-file"} {
				o.set[name] = cmd.Flags().Changed(name)
			}
			return runValidate(cmd.Context(), io, o, a[0])
		},
	}
	o.inputOptions.addFlags(cmd, io, getenv)
	o.authOptions.addFlags(cmd, getenv)
	f := cmd.Flags()
	f.StringVar(&o.report, "report", "", "also write a report of every row; "+reportFormatsHelp)
	f.BoolVar(&o.sandbox, "sandbox", false, "check support topics against the built-in emulator's (started in-process; not with --base-url)")
	f.StringVar(&o.baseURL, "base-url", "", "check support topics against those of the service at this URL, with import's credentials\n(the public cloud's: "+defaultBaseURL+"); no variable: a plain validate stays offline")
	return cmd
}

// check refuses validate's usage mistakes before anything is read.
func (o *validateOptions) check(file string) error {
	switch {
	case o.set["base-url"] && o.baseURL == "":
		return &usageError{errors.New("--base-url is empty: give the service's URL")}
	case o.sandbox && o.baseURL != "":
		return &usageError{errors.New("--sandbox and --base-url: give one; --sandbox checks topics against the built-in emulator, --base-url against the service at that URL")}
	case !o.online() && (o.set["token-command"] || o.set["refresh-token-file"]):
		return &usageError{errors.New("--token-command and --refresh-token-file are for --base-url: validate without it sends nothing")}
	case o.sandbox && (o.set["token-command"] || o.set["refresh-token-file"]):
		return &usageError{errors.New("--sandbox needs no credentials: leave out --token-command and --refresh-token-file")}
	}
	if o.online() {
		if err := o.authOptions.check(); err != nil {
			return err
		}
	}
	if err := o.inputOptions.check(file); err != nil {
		return err
	}
	return o.checkReport(file, o.report)
}

func runValidate(ctx context.Context, io stdio, o *validateOptions, file string) error {
	if err := o.check(file); err != nil {
		return err
	}
	var topics []client.SupportTopic
	if o.online() {
		var err error
		if topics, err = o.supportTopics(ctx, io.err); err != nil {
			return err
		}
	}
	p, err := o.open(io.err, file, topics)
	if err != nil {
		return err
	}
	sum, runErr := p.run(ctx, importer.Config{}, o.report, io.err)
	result := &runResult{sum: sum, err: runErr}
	code := exitCode(result)
	printSummary(io.out, "validated", sum, o.report)
	printRules(io.out, sum.Rules)
	return o.finish(io, result, code, file, o.report)
}

// supportTopics fetches the support topics of the built-in emulator
// (--sandbox) or of the service at --base-url, with import's credentials.
// It says on notes where they came from.
func (o *validateOptions) supportTopics(ctx context.Context, notes io.Writer) ([]client.SupportTopic, error) {
	baseURL := o.baseURL
	var token client.TokenSource
	if o.sandbox {
		em := emulator.New(emulator.Config{})
		url, err := em.Start(ctx, "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("start sandbox: %w", err)
		}
		defer em.Close()
		baseURL, token = url, client.StaticToken("sandbox-"+uuid.NewString())
	} else {
		c, err := o.credentials()
		if err != nil {
			return nil, err
		}
		if err := firstToken(ctx, c); err != nil {
			return nil, err
		}
		token = c.src
	}
	c, err := client.New(client.Config{BaseURL: baseURL, Token: token, Workers: 1, UserAgent: "srimport/" + version()})
	if err != nil {
		return nil, err
	}
	defer c.CloseIdleConnections()
	topics, err := c.SupportTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("support topics of %s: %w", baseURL, err)
	}
	fmt.Fprintf(notes, "support topics: %d from %s\n", len(topics), baseURL)
	return topics, nil
}

// printRules prints the validation failures per field and rule, most
// frequent first.
func printRules(w io.Writer, rules map[string]int) {
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if rules[keys[i]] != rules[keys[j]] {
			return rules[keys[i]] > rules[keys[j]]
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "  %6d  %s\n", rules[k], k)
	}
}
