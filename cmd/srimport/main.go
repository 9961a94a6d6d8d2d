// Command srimport creates Partner Center service requests in bulk from a
// CSV or XLSX file and writes a report pairing every input row with its new
// service-request id or its error.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], newStdio(), os.Getenv))
}
