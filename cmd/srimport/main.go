// Command srimport creates Partner Center service requests in bulk from a
// CSV or XLSX file and writes a report pairing every input row with its new
// service-request id or its error.
package main

import (
	"os"
	"runtime/debug"
)

// Garbage-collector settings, unless GOGC or GOMEMLIMIT say otherwise. An
// import's live heap is small and flat (its window of rows, ~15 MiB), and
// most of what it allocates dies within a request, so collecting less
// often saves CPU; the soft limit keeps the heap, and so the process's
// memory, bounded whatever the input's size.
const (
	gcPercent   = 400
	memoryLimit = 32 << 20
)

func main() {
	tuneGC(os.Getenv)
	os.Exit(run(os.Args[1:], newStdio(), os.Getenv))
}

// tuneGC applies gcPercent and memoryLimit where the environment sets
// nothing.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
