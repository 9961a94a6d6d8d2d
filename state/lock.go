package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// staleUnreadable is how old an unreadable lock file must be before Lock
// takes it over.
const staleUnreadable = time.Minute

// Lockfile is a held lock (see Lock).
type Lockfile struct {
	path    string
	content []byte
	info    os.FileInfo
}

// LockedError is Lock's error when a live process holds the lock.
type LockedError struct {
	PID     int       // the holder's process id
	Started time.Time // when the holder took the lock
	Key     string    // the lock's key
}

// Error names the holder and says what to do.
func (e *LockedError) Error() string {
	return fmt.Sprintf("another srimport run (pid %d, started %s) is importing this input into this target; wait for it or stop it",
		e.PID, e.Started.Local().Format(time.RFC3339))
}

// lockContent is a lock file's JSON.
type lockContent struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Key     string    `json:"key"`
}

// Lock takes the lock named key, typically an input path and a target,
// so that two runs (from cron, say) never import the same input into the
// same target at once. The lock is the file
// dir/locks/<first 16 hex digits of sha256(key)>.lock, which holds the
// holder's pid, start time (RFC 3339, UTC) and key as JSON, and is created exclusively
// (written to a temporary file first and hard-linked into place, which
// fails if the lock exists, like O_CREATE|O_EXCL, but never shows a
// partly written file).
//
// When the file exists and names a live process, Lock returns a
// *LockedError. When it names a process that is gone, or it is unreadable
// and older than a minute, Lock takes it over. The lock is advisory and
// per host; the pid check cannot tell a reused pid from the holder.
func Lock(dir, key string) (*Lockfile, error) {
	locks := filepath.Join(dir, "locks")
	if err := os.MkdirAll(locks, 0o700); err != nil {
		return nil, fmt.Errorf("state: lock: %w", err)
	}
	sum := sha256.Sum256([]byte(key))
	path := filepath.Join(locks, hex.EncodeToString(sum[:])[:16]+".lock")
	content, err := json.Marshal(lockContent{PID: os.Getpid(), Started: time.Now().UTC(), Key: key})
	if err != nil {
		return nil, fmt.Errorf("state: lock: %w", err)
	}
	content = append(content, '\n')

	// A few rounds: each either takes the lock, finds a live holder, or
	// finds that the holder changed while it looked.
	for range 10 {
		l, err := create(path, content)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("state: lock %s: %w", path, err)
		}
		// Stale and removed, changed or gone: try again.
		if err := takeOver(locks, path, key); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("state: lock %s: the lock file keeps changing; another srimport is starting or stopping", path)
}

// create makes path hold content, atomically and only if path does not
// exist: it writes a temporary file and links it to path, so that no
// reader ever sees a partly written lock.
func create(path string, content []byte) (*Lockfile, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.lock")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(content)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return nil, err
	}
	info, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	return &Lockfile{path: path, content: content, info: info}, nil
}

// takeOver inspects the existing lock file at path. It returns a
// *LockedError if a live process holds it, and removes it if it is
// stale; it does nothing if the file changed or vanished while it
// looked. Removal happens under an exclusive flock of the locks
// directory, after checking that the file is still the stale one, so
// that two processes taking over the same stale lock cannot remove each
// other's fresh one.
func takeOver(locks, path, key string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // gone: try to create it again
	}
	if err != nil {
		return fmt.Errorf("state: lock %s: %w", path, err)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state: lock %s: %w", path, err)
	}
	var c lockContent
	if err := json.Unmarshal(b, &c); err != nil || c.PID <= 0 {
		if age := time.Since(info.ModTime()); age < staleUnreadable {
			return fmt.Errorf("state: lock %s is unreadable; it will be taken over when a minute old (now %s)", path, age.Round(time.Second))
		}
	} else if alive(c.PID) {
		if c.Key == "" {
			c.Key = key
		}
		return &LockedError{PID: c.PID, Started: c.Started, Key: c.Key}
	}

	// Stale: remove it, provided it is still the file just judged.
	unlock, err := flockDir(locks)
	if err != nil {
		return fmt.Errorf("state: lock %s: %w", path, err)
	}
	defer unlock()
	now, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state: lock %s: %w", path, err)
	}
	// Same inode and same content: an inode number can be reused by a
	// lock created since, but that one names its own live process.
	if !os.SameFile(info, now) {
		return nil
	}
	if b2, err := os.ReadFile(path); err != nil || !bytes.Equal(b, b2) {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state: take over stale lock %s: %w", path, err)
	}
	return nil
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// flockDir takes an exclusive flock on directory dir and returns its
// release.
func flockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Path returns the lock file's path.
func (l *Lockfile) Path() string { return l.path }

// Release removes the lock file if it is still this lock's (it is not
// when another process took it over as stale). It is idempotent.
func (l *Lockfile) Release() error {
	if l == nil || l.info == nil {
		return nil
	}
	unlock, err := flockDir(filepath.Dir(l.path))
	if err != nil {
		return fmt.Errorf("state: release lock %s: %w", l.path, err)
	}
	defer unlock()
	info := l.info
	l.info = nil
	now, err := os.Lstat(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state: release lock %s: %w", l.path, err)
	}
	if !os.SameFile(info, now) {
		return nil
	}
	if b, err := os.ReadFile(l.path); err != nil || !bytes.Equal(b, l.content) {
		return nil
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state: release lock %s: %w", l.path, err)
	}
	return nil
}
