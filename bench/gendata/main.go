// Command gendata writes the generated ticket input the benchmarks read:
//
//	gendata -rows 1000000 -csv FILE.csv
//	gendata -rows 100000 -xlsx FILE.xlsx
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/srimport/srimport/input/inputtest"
)

func main() {
	rows := flag.Int("rows", 100000, "data rows")
	seed := flag.Uint64("seed", 1, "generator seed")
	csvPath := flag.String("csv", "", "write a CSV file")
	xlsxPath := flag.String("xlsx", "", "write an XLSX workbook")
	flag.Parse()
	if err := run(*rows, *seed, *csvPath, *xlsxPath); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

func run(rows int, seed uint64, csvPath, xlsxPath string) error {
	if csvPath != "" {
		if err := write(csvPath, func(w io.Writer) error { return inputtest.WriteCSV(w, rows, seed) }); err != nil {
			return err
		}
	}
	if xlsxPath != "" {
		return write(xlsxPath, func(w io.Writer) error { return inputtest.WriteXLSX(w, rows, seed) })
	}
	return nil
}

func write(path string, gen func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := gen(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
