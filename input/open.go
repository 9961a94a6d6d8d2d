package input

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrDirectory means the path given as the input is a directory.
var ErrDirectory = errors.New("is a directory")

// Open opens the input file at path, choosing the reader by its extension
// (any case): .csv, .txt and .tsv are CSV text (.tsv defaults the
// delimiter to tab), .xlsx and .xlsm are workbooks (see openXLSX). A
// directory is an error wrapping ErrDirectory; any other extension is an
// error wrapping ErrUnsupported that names it. Errors from NewCSV and
// openXLSX are returned as they are.
func Open(path string, opts Options) (Reader, error) {
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return nil, fmt.Errorf("%s %w; give a CSV or XLSX file", path, ErrDirectory)
	}
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

// Formats are the format names OpenReader takes.
func Formats() []string { return []string{"csv", "tsv", "xlsx"} }

// OpenReader reads an input that has no file name, such as standard
// input, in format: "csv" and "tsv" (tab-delimited unless
// Options.Delimiter says otherwise) are read as they arrive; "xlsx" is
// copied to a temporary file first, since a workbook is a zip archive read
// out of order, and the file is removed on Close. Closing the Reader does
// not close r. Any other format is an error wrapping ErrUnsupported.
func OpenReader(r io.Reader, format string, opts Options) (Reader, error) {
	switch strings.ToLower(format) {
	case "csv", "tsv":
		var fallback rune
		if strings.EqualFold(format, "tsv") {
			fallback = '\t'
		}
		c, err := newCSV(r, nil, opts, fallback)
		if err != nil {
			return nil, err
		}
		return c, nil
	case "xlsx":
		return openXLSXCopy(r, opts)
	}
	return nil, fmt.Errorf("%w: format %q; use one of %s", ErrUnsupported, format, strings.Join(Formats(), ", "))
}

// openXLSXCopy copies a workbook to a temporary file and opens it there.
func openXLSXCopy(r io.Reader, opts Options) (Reader, error) {
	f, err := os.CreateTemp("", "srimport-input-*.xlsx")
	if err != nil {
		return nil, err
	}
	name := f.Name()
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return nil, err
	}
	x, err := openXLSX(name, opts)
	if err != nil {
		os.Remove(name)
		return nil, err
	}
	return &tempInput{Reader: x, path: name}, nil
}

// tempInput is a Reader of a temporary file, removed on Close.
type tempInput struct {
	Reader
	path string
}

func (t *tempInput) Close() error {
	err := t.Reader.Close()
	if rerr := os.Remove(t.path); err == nil && !errors.Is(rerr, os.ErrNotExist) {
		err = rerr
	}
	return err
}

// Notes returns the workbook's notes (see openXLSX).
func (t *tempInput) Notes() []string {
	if n, ok := t.Reader.(interface{ Notes() []string }); ok {
		return n.Notes()
	}
	return nil
}

// Ghost returns the workbook's trailing blank rows (see openXLSX).
func (t *tempInput) Ghost() int {
	if g, ok := t.Reader.(interface{ Ghost() int }); ok {
		return g.Ghost()
	}
	return 0
}

// CheckEncoding reports whether name is an encoding Options.Encoding
// accepts, with an error wrapping ErrEncodingName that lists some when it
// is not.
func CheckEncoding(name string) error {
	_, _, err := lookupEncoding(name)
	return err
}
