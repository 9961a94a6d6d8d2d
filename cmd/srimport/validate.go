package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/srimport/srimport/importer"
)

func newValidateCmd(io stdio, getenv env) *cobra.Command {
	o := &inputOptions{}
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Read, map and validate every row exactly as import would; send nothing",
		Long: `Read, map and validate every row of FILE exactly as import would, and send
nothing. A file that validates cleanly fails at import only for reasons that
live on the server (an unknown support topic, throttling, credentials).

Prints how many rows are valid and which rules the invalid ones break; with
--report, writes the report import would write, valid rows marked "valid".`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return runValidate(cmd.Context(), io, o, a[0])
		},
	}
	o.addFlags(cmd, getenv)
	cmd.Flags().StringVar(&o.report, "report", "", "also write a report of every row; "+reportFormatsHelp)
	return cmd
}

func runValidate(ctx context.Context, io stdio, o *inputOptions, file string) error {
	if err := o.checkReport(file, o.report); err != nil {
		return err
	}
	p, err := o.open(io.err, file, nil)
	if err != nil {
		return err
	}
	sum, runErr := p.run(ctx, importer.Config{}, o.report, io.err)
	result := &runResult{sum: sum, err: runErr}
	code := exitCode(result)
	printSummary(io.out, "validated", sum, o.report)
	printRules(io.out, sum.Rules)
	if err := o.writeSummary(sum, file, o.report, code); err != nil {
		if result.err == nil && code == exitOK {
			return err
		}
		fmt.Fprintf(io.err, "srimport: %v\n", err)
	}
	if code == exitOK {
		return nil
	}
	return result
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
