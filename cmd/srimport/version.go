package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(io stdio) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version (the same as srimport --version)",
		Args:  args(cobra.NoArgs),
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(io.out, "srimport %s\n", versionLine())
		},
	}
}

// versionLine is what version and --version print after "srimport ": the
// version, the Go release it was built with, and the platform.
func versionLine() string {
	return fmt.Sprintf("%s %s %s/%s", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// version is the module version the binary was built from, or "devel".
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}
