// Command srimport creates Partner Center service requests in bulk from a
// CSV or XLSX file and writes a report pairing every input row with its new
// service-request id or its error.
package main

import (
	"os"
	"runtime/debug"
)

// Garbage-collector settings, unless GOGC or GOMEMLIMIT say otherwise. An
// import's live heap is small and flat (its window of rows, ~15-25 MiB),
// so a soft limit keeps the process's memory bounded whatever the input's
// size; but near the limit the collector can fall behind a fast import,
// so it also starts early. Peak RSS of a 1 M-row import, measured: GOGC
// 400, 83 MiB (twice); 100, 55 and 90 MiB; 50, 56 MiB, for a few per cent
// of speed at most.
const (
	gcPercent   = 50
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
