package reports

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/srimport/srimport/internal/atomicfile"
)

// File is a report file being written. Its records go to a temporary file
// beside the report's path; Commit puts it in place of the path and Abort
// discards it (see the package comment). File implements Writer, with
// Close meaning Commit. A File is not safe for concurrent use.
type File struct {
	path  string // the report's path, as given
	dest  string // where Commit puts the report: path, its symbolic links resolved
	tmp   string // the temporary file; "" when writing straight to dest
	file  *os.File
	w     formatWriter
	state fileState
	err   error // Commit's result
}

// formatWriter is a report format's writer inside a File.
type formatWriter interface {
	Write(Record) error
	Flush() error
	// finish writes what the format writes after the last record, and
	// releases what the writer holds, without closing the destination.
	finish() error
	// discard releases what the writer holds without writing the rest.
	discard() error
}

func (w *CSVWriter) finish() error    { return w.Flush() }
func (w *CSVWriter) discard() error   { return nil }
func (w *JSONLWriter) finish() error  { return w.Flush() }
func (w *JSONLWriter) discard() error { return nil }

// fileState is where a File is in its life.
type fileState int

const (
	writing fileState = iota
	committed
	aborted
)

// Create starts the report for path, in the format its extension picks
// (see FormatOf: .csv or none, .xlsx, .jsonl), with the header made of the
// fixed columns and the input columns (see InputColumns). It returns an
// error wrapping ErrFormat for another extension, before anything is
// created.
//
// The records go to a new temporary file in path's directory, created
// with the permissions of the report it replaces, if any, or else as
// os.Create would; path itself is left as it is until Commit. Create fails,
// as os.Create would, when path is a directory, cannot be written, or lies
// in a directory that does not exist or cannot be written. When path is a
// symbolic link, the file it points to is replaced. When path is not a
// regular file (a device such as /dev/null or /dev/stdout, a named pipe),
// there is nothing to replace: the report is written to it straight, and
// Commit and Abort only close it.
func Create(path string, inputHeader []string) (*File, error) {
	return create(path, inputHeader, nil)
}

// create is Create with the file's writes passing through wrap, when not
// nil; the tests use it to inject write errors.
func create(path string, inputHeader []string, wrap func(io.Writer) io.Writer) (*File, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	dest, info, err := destination(path)
	if err != nil {
		return nil, err
	}
	f := &File{path: path, dest: dest}
	if info != nil && !info.Mode().IsRegular() {
		if f.file, err = os.OpenFile(dest, os.O_WRONLY, 0); err != nil {
			return nil, fmt.Errorf("create report: %w", err)
		}
	} else {
		if f.file, err = createTemp(dest, info); err != nil {
			return nil, err
		}
		f.tmp = f.file.Name()
	}
	var w io.Writer = f.file
	if wrap != nil {
		w = wrap(w)
	}
	switch format {
	case XLSX:
		tmpDir := "" // a device's directory is no place for files
		if f.tmp != "" {
			tmpDir = filepath.Dir(f.tmp)
		}
		f.w, err = newXLSX(w, inputHeader, tmpDir)
	case JSONL:
		f.w = newJSONL(w, inputHeader)
	default:
		f.w, err = newCSV(w, inputHeader)
	}
	if err != nil {
		f.w = nil
		return nil, errors.Join(err, f.Abort())
	}
	return f, nil
}

// destination returns where the report for path goes, and the file there
// now, if any (info nil when there is none).
func destination(path string) (dest string, info fs.FileInfo, err error) {
	info, err = os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path, nil, nil
	case err != nil:
		return "", nil, fmt.Errorf("create report: %w", err)
	case info.IsDir():
		return "", nil, fmt.Errorf("create report %s: it is a directory", path)
	}
	if dest, err = filepath.EvalSymlinks(path); err != nil {
		return "", nil, fmt.Errorf("create report: %w", err)
	}
	if info.Mode().IsRegular() {
		// The report replaces it: refuse, as os.Create would, if it is
		// not ours to write, although the rename would be allowed.
		w, err := os.OpenFile(dest, os.O_WRONLY, 0)
		if err != nil {
			return "", nil, fmt.Errorf("create report: %w", err)
		}
		w.Close()
	}
	return dest, info, nil
}

// createTemp creates the temporary file for the report at dest, with the
// permissions of old, the file it replaces, if not nil.
func createTemp(dest string, old fs.FileInfo) (*os.File, error) {
	perm := fs.FileMode(0o666) // less the umask, as os.Create
	if old != nil {
		perm = old.Mode().Perm()
	}
	prefix := filepath.Join(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-")
	for range 100 {
		f, err := os.OpenFile(prefix+strconv.FormatUint(rand.Uint64(), 36), os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create report: %w", err)
		}
		if old != nil {
			// Undo the umask, so the new report is readable by whoever
			// could read the old one. Best effort: a file system that
			// cannot set them keeps its own.
			_ = f.Chmod(perm)
		}
		return f, nil
	}
	return nil, fmt.Errorf("create report %s: no free temporary file name beside it", dest)
}

// TempName returns the path of the temporary file the records are written
// to until Commit: the partial report a person can watch (Flush writes to
// it; an XLSX report is written there whole by Commit). It is "" when the
// report is written straight to its path.
func (f *File) TempName() string { return f.tmp }

// Write adds one record.
func (f *File) Write(r Record) error {
	if f.state != writing {
		return f.closed("write")
	}
	return f.w.Write(r)
}

// SetInfo sets what the report says about its run besides the records:
// the XLSX report's Summary sheet shows it; the other formats do not. Call
// it before Commit.
func (f *File) SetInfo(info Info) {
	if x, ok := f.w.(*XLSXWriter); ok {
		x.SetInfo(info)
	}
}

// Flush writes the buffered records to the temporary file (an XLSX
// report's records only when it is committed: a workbook cannot be read
// before its end).
func (f *File) Flush() error {
	if f.state != writing {
		return f.closed("flush")
	}
	return f.w.Flush()
}

// Commit finishes the report: it flushes the records, syncs the temporary
// file to disk, closes it and renames it over the report's path, then syncs
// the directory so the rename survives a crash. If writing, syncing or
// closing the temporary file fails, Commit removes it, leaves the file at
// the path as it was and returns the error, which wraps the cause (for a
// full disk, syscall.ENOSPC). If only the rename fails (the file at the
// path is held open on Windows, say), the complete report is kept in the
// temporary file, which the error names. An error in the last step,
// syncing the directory, means the report is in place but may not survive
// a crash.
//
// Commit after Commit returns the first call's result; Commit after Abort
// returns an error wrapping os.ErrClosed.
func (f *File) Commit() error {
	switch f.state {
	case committed:
		return f.err
	case aborted:
		return f.closed("commit")
	}
	f.state = committed
	f.err = f.commit()
	return f.err
}

func (f *File) commit() error {
	err := f.w.finish()
	if f.tmp == "" {
		if cerr := f.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close report: %w", cerr)
		}
		return err
	}
	if err == nil {
		if serr := f.file.Sync(); serr != nil {
			err = fmt.Errorf("write report: %w", serr)
		}
	}
	if cerr := f.file.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close report: %w", cerr)
	}
	if err != nil {
		if rerr := os.Remove(f.tmp); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove partial report: %w", rerr))
		}
		return err
	}
	if err := os.Rename(f.tmp, f.dest); err != nil {
		// The report is whole: keep it for the person to move.
		return fmt.Errorf("report complete in %s, but it could not replace %s: %w", f.tmp, f.path, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(f.dest)); err != nil {
		return fmt.Errorf("report %s written, but its directory could not be synced: %w", f.path, err)
	}
	return nil
}

// Close is Commit, so that a run that closes its Writer when done publishes
// the report. To discard the report instead, call Abort.
func (f *File) Close() error { return f.Commit() }

// Abort discards the report: it closes and removes the temporary file and
// leaves the file at the report's path as it was. Abort after Commit or
// Abort does nothing and returns nil, so it can be deferred.
func (f *File) Abort() error {
	if f.state != writing {
		return nil
	}
	f.state = aborted
	var err error
	if f.w != nil {
		err = f.w.discard()
	}
	if cerr := f.file.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close report: %w", cerr)
	}
	if f.tmp != "" {
		if rerr := os.Remove(f.tmp); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove partial report: %w", rerr))
		}
	}
	return err
}

// closed is the error of op on a committed or aborted File.
func (f *File) closed(op string) error {
	how := "committed"
	if f.state == aborted {
		how = "aborted"
	}
	return fmt.Errorf("%s report %s: %w (already %s)", op, f.path, os.ErrClosed, how)
}
