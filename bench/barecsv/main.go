// Command barecsv is the ceiling bench/validate.sh measures srimport
// validate against: a bare encoding/csv loop over a file, through a 1 MiB
// buffer, with Read (a new record per row) and the field count fixed by
// the header, adding up the fields' lengths so that nothing is optimised
// away. It prints the data rows read and the bytes of field text.
//
//	barecsv FILE.csv
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: barecsv FILE.csv")
		os.Exit(2)
	}
	rows, n, err := read(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "barecsv:", err)
		os.Exit(1)
	}
	fmt.Printf("%d rows, %d bytes of text\n", rows, n)
}

func read(path string) (rows, n int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.FieldsPerRecord = 0 // the header's
	for rows = -1; ; rows++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, n, nil
		}
		if err != nil {
			return rows, n, err
		}
		for _, v := range rec {
			n += len(v)
		}
	}
}
