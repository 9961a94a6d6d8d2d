// Command xlsxread reads every row of a workbook's first sheet, either
// with srimport's reader (input.Open) or, as the ceiling it is measured
// against, with excelize's Rows iterator, and prints the data rows read.
//
//	xlsxread srimport|excelize FILE.xlsx
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/xuri/excelize/v2"

	"github.com/srimport/srimport/input"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: xlsxread srimport|excelize FILE.xlsx")
		os.Exit(2)
	}
	var rows, n int
	var err error
	switch os.Args[1] {
	case "srimport":
		rows, n, err = readInput(os.Args[2])
	case "excelize":
		rows, n, err = readExcelize(os.Args[2])
	default:
		err = fmt.Errorf("unknown reader %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "xlsxread:", err)
		os.Exit(1)
	}
	fmt.Printf("%d rows, %d bytes of text\n", rows, n)
}

func readInput(path string) (rows, n int, err error) {
	r, err := input.Open(path, input.Options{})
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, n, nil
		}
		if err != nil {
			return rows, n, err
		}
		if row.Err != nil {
			return rows, n, row.Err
		}
		for _, v := range row.Values {
			n += len(v)
		}
		rows++
	}
}

func readExcelize(path string) (rows, n int, err error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	it, err := f.Rows(f.GetSheetName(0))
	if err != nil {
		return 0, 0, err
	}
	defer it.Close()
	for rows = -1; it.Next(); rows++ {
		cols, err := it.Columns()
		if err != nil {
			return rows, n, err
		}
		for _, v := range cols {
			n += len(v)
		}
	}
	return rows, n, it.Error()
}
