package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultPath returns the report path used when none is given:
// "<input>.report.csv" beside the input.
func DefaultPath(input string) string { return input + ".report.csv" }

// SameFile reports whether the paths a and b name the same file, so that a
// report path can be refused when it would replace the input or the
// mapping file. When both exist it compares the files (os.SameFile), so
// that a symbolic or hard link to a file is that file; otherwise it
// compares the absolute, cleaned paths, with symbolic links in their
// directories resolved. The error is that of os.Stat or filepath.Abs, for
// a path that cannot be examined for a reason other than not existing.
func SameFile(a, b string) (bool, error) {
	ia, err := stat(a)
	if err != nil {
		return false, err
	}
	ib, err := stat(b)
	if err != nil {
		return false, err
	}
	if ia != nil && ib != nil {
		return os.SameFile(ia, ib), nil
	}
	pa, err := absPath(a)
	if err != nil {
		return false, err
	}
	pb, err := absPath(b)
	if err != nil {
		return false, err
	}
	return pa == pb, nil
}

// stat returns path's FileInfo, or nil if there is no file there.
func stat(path string) (fs.FileInfo, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("compare paths: %w", err)
	}
	return info, nil
}

// absPath returns path made absolute and clean, with the symbolic links in
// its directory resolved when that directory exists.
func absPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("compare paths: %w", err)
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs)), nil
	}
	return abs, nil
}
