// Package atomicfile replaces files so that a reader sees the old file or
// the new one whole, never part of one, and a crash leaves one of the two.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFile replaces path with data, with mode perm: it writes a
// temporary file beside path, syncs it, renames it into place and syncs
// the directory, so that the rename is durable too. On failure path is
// left as it was and the temporary file is removed.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename there is nothing to remove
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(perm))
	if err == nil {
		err = f.Sync()
	}
	if err := errors.Join(err, f.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs directory dir, making the entries created, renamed or
// removed in it durable. Directories cannot be synced on Windows, where
// NTFS journals renames; there it does nothing.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
