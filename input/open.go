package input

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Open opens the input file at path, choosing the reader by its extension
// (any case): .csv, .txt and .tsv are CSV text (.tsv defaults the
// delimiter to tab), .xlsx and .xlsm are workbooks (see openXLSX). Any
// other extension is an error wrapping ErrUnsupported that names it.
// Errors from NewCSV and openXLSX are returned as they are.
func Open(path string, opts Options) (Reader, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".csv", ".txt", ".tsv":
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		var fallback rune
		if ext == ".tsv" {
			fallback = '\t'
		}
		r, err := newCSV(f, f, opts, fallback)
		if err != nil {
			f.Close()
			return nil, err
		}
		return r, nil
	case ".xlsx", ".xlsm":
		return openXLSX(path, opts)
	case ".xls":
		return nil, fmt.Errorf("%w: the old Excel .xls format cannot be read; save the sheet as .xlsx or \"CSV UTF-8\"", ErrUnsupported)
	case "":
		return nil, fmt.Errorf("%w: %s has no file extension; name it .csv, .tsv, .txt or .xlsx", ErrUnsupported, filepath.Base(path))
	default:
		return nil, fmt.Errorf("%w: cannot read %q files; use .csv, .tsv, .txt or .xlsx", ErrUnsupported, ext)
	}
}
