package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"

	"github.com/srimport/srimport/mapping"
)

// Sheet names of the XLSX template.
const (
	templateSheet  = "Tickets"
	columnsSheet   = "Columns"
	templateDVRows = 10000 // rows 2..templateDVRows carry the drop-downs
)

func newTemplateCmd(std stdio) *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "template [-o FILE]",
		Short: "Write a fill-in file (.csv or .xlsx) with every mappable column",
		Long: `Write a fill-in file with one column per field srimport can set, headed
so that import and validate map them by name without --mapping.

The format follows the extension of -o: .csv writes the header row; .xlsx
writes a sheet "Tickets" with a styled, frozen header and a drop-down of
severities, and a sheet "Columns" that explains every column with an
example. Without -o (or with -o -), the CSV header goes to stdout.

The template holds no example row, so that a forgotten example is never
imported as a real service request: the examples are in the Columns sheet.
An existing file is not overwritten unless --force is given.`,
		Example: `  srimport template -o tickets.xlsx
  srimport template > tickets.csv`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTemplate(std, out, force)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write: .csv or .xlsx (default: CSV to stdout)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the file if it exists")
	return cmd
}

// runTemplate writes the template to path, or to std.out when path is ""
// or "-".
func runTemplate(std stdio, path string, force bool) error {
	if path == "" || path == "-" {
		return writeTemplateCSV(std.out)
	}
	var write func(w io.Writer) error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		write = writeTemplateCSV
	case ".xlsx":
		write = writeTemplateXLSX
	default:
		return &usageError{fmt.Errorf("-o %s: cannot write %q files; name it .csv or .xlsx", path, ext)}
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s: %w; use --force to overwrite it", path, os.ErrExist)
	}
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // a half-written template is worse than none
		return fmt.Errorf("template %s: %w", path, err)
	}
	fmt.Fprintf(std.err, "wrote %s: %d columns\n", path, len(mapping.Catalogue()))
	return nil
}

// writeTemplateCSV writes the header row.
func writeTemplateCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(mapping.Columns()); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// writeTemplateXLSX writes the workbook templateWorkbook builds.
func writeTemplateXLSX(w io.Writer) error {
	f, err := templateWorkbook()
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Write(w)
}

// templateWorkbook builds the XLSX template: the Tickets sheet to fill in
// and the Columns sheet that explains it.
func templateWorkbook() (*excelize.File, error) {
	f := excelize.NewFile()
	if err := buildTemplate(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func buildTemplate(f *excelize.File) error {
	cat := mapping.Catalogue()
	if err := f.SetSheetName(f.GetSheetName(0), templateSheet); err != nil {
		return err
	}
	header := &excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F4E78"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
		Border:    []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}},
	}
	headerID, err := f.NewStyle(header)
	if err != nil {
		return err
	}
	optional := *header
	optional.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"5B87B5"}}
	optionalID, err := f.NewStyle(&optional)
	if err != nil {
		return err
	}
	// Ids and phone numbers are text: Excel must not drop leading zeros or
	// write a long id as 3.2E+7.
	textID, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return err
	}
	wrapID, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}

	for i, c := range cat {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		cell := col + "1"
		if err := f.SetCellStr(templateSheet, cell, c.Header); err != nil {
			return err
		}
		style := optionalID
		if c.Required {
			style = headerID
		}
		if err := f.SetCellStyle(templateSheet, cell, cell, style); err != nil {
			return err
		}
		if err := f.SetColWidth(templateSheet, col, col, columnWidth(c)); err != nil {
			return err
		}
		switch c.Field {
		case "supportTopicId", "productId", "primaryContact.phoneNumber":
			if err := f.SetColStyle(templateSheet, col, textID); err != nil {
				return err
			}
			// SetColStyle restyles the header too; put it back.
			if err := f.SetCellStyle(templateSheet, cell, cell, style); err != nil {
				return err
			}
		}
		if len(c.Values) > 0 {
			dv := excelize.NewDataValidation(true)
			dv.SetSqref(fmt.Sprintf("%s2:%s%d", col, col, templateDVRows))
			if err := dv.SetDropList(c.Values); err != nil {
				return err
			}
			dv.SetInput(c.Header, strings.Join(c.Values, ", "))
			dv.SetError(excelize.DataValidationErrorStyleStop, c.Header, c.Description)
			if err := f.AddDataValidation(templateSheet, dv); err != nil {
				return err
			}
		}
	}
	if err := f.SetRowHeight(templateSheet, 1, 20); err != nil {
		return err
	}
	if err := f.SetPanes(templateSheet, &excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}

	// The Columns sheet: one row per column of Tickets.
	if _, err := f.NewSheet(columnsSheet); err != nil {
		return err
	}
	if err := f.SetSheetRow(columnsSheet, "A1", &[]string{"Column", "Field", "Required", "Description", "Example"}); err != nil {
		return err
	}
	if err := f.SetCellStyle(columnsSheet, "A1", "E1", headerID); err != nil {
		return err
	}
	for i, c := range cat {
		required := "no"
		if c.Required {
			required = "yes"
		}
		row := []string{c.Header, c.Field, required, c.Description, c.Example}
		if err := f.SetSheetRow(columnsSheet, fmt.Sprintf("A%d", i+2), &row); err != nil {
			return err
		}
	}
	last := fmt.Sprintf("E%d", len(cat)+1)
	if err := f.SetCellStyle(columnsSheet, "A2", last, wrapID); err != nil {
		return err
	}
	for col, width := range map[string]float64{"A": 20, "B": 28, "C": 10, "D": 70, "E": 40} {
		if err := f.SetColWidth(columnsSheet, col, col, width); err != nil {
			return err
		}
	}
	if err := f.SetPanes(columnsSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	return nil
}

// columnWidth fits a column to its header and example, within limits.
func columnWidth(c mapping.Column) float64 {
	n := max(len(c.Header), len(c.Example)/2) + 4
	return float64(min(max(n, 14), 45))
}
