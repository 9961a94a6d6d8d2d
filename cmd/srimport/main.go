// Command srimport creates Partner Center service requests in bulk from a
// CSV or XLSX file and writes a report pairing every input row with its new
// service-request id or its error.
package main

import (
	"os"
	"runtime/debug"
)

// memoryLimit is the garbage collector's soft memory limit, unless
// GOMEMLIMIT sets one. An import's live heap is small and flat (its window
// of rows, ~15-25 MiB), so the limit keeps the process's memory bounded
// whatever the input's size. A higher GOGC was measured too: 400 gained
// nothing measurable in speed and took a 1 M-row import from 55 to 83 MiB
// at its peak, the collector falling behind the soft limit.
const memoryLimit = 32 << 20

func main() {
	tuneGC(os.Getenv)
	os.Exit(run(os.Args[1:], newStdio(), os.Getenv))
}

// tuneGC applies memoryLimit where the environment sets none.
func tuneGC(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
