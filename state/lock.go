package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Lockfile is a held lock (see Lock).
type Lockfile struct {
	path string
	f    *os.File // open, with an exclusive flock on it; nil once released
}

// LockedError is Lock's error when another process holds the lock.
type LockedError struct {
	PID     int       // the holder's process id, as its lock file says; 0 if it cannot be read
	Started time.Time // when the holder took the lock
	Key     string    // the lock's key
}

// Error names the holder and says what to do.
func (e *LockedError) Error() string {
	if e.PID <= 0 {
		return "another srimport run is importing this input into this target; wait for it or stop it"
	}
	return fmt.Sprintf("another srimport run (pid %d, started %s) is importing this input into this target; wait for it or stop it",
		e.PID, e.Started.Local().Format(time.RFC3339))
}

// lockContent is what a lock file says about its holder.
type lockContent struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Key     string    `json:"key"`
}

// Lock takes the lock named key, typically an input path and a target,
// so that two runs (from cron, say) never import the same input into the
// same target at once. The lock is an exclusive flock(2) on the file
// dir/locks/<first 16 hex digits of sha256(key)>.lock, which the holder
// keeps open for as long as it holds the lock and fills with its pid,
// start time (RFC 3339, UTC) and key as JSON, for the error other
// processes get.
//
// The kernel drops a flock when its holder ends, however it ends, so a
// lock left by a killed process is free at once, and a pid that means
// nothing here (a process of another container, or a pid reused since)
// never holds one. When another process holds the lock, Lock returns a
// *LockedError. The lock is advisory and per host: a state directory on a
// network filesystem shared by several hosts is not supported.
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

	for range 10 {
		l, err := lockOnce(path, key, content)
		if err != nil || l != nil {
			return l, err
		}
	}
	return nil, fmt.Errorf("state: lock %s: the lock file keeps changing; another srimport is starting or stopping", path)
}

// lockOnce tries once to take the lock at path. It returns nil, nil when
// the file it locked was released and removed meanwhile: try again.
func lockOnce(path, key string, content []byte) (*Lockfile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("state: lock %s: %w", path, err)
		}
		le := &LockedError{Key: key}
		b, _ := io.ReadAll(io.LimitReader(f, 4096))
		var c lockContent
		if json.Unmarshal(b, &c) == nil && c.PID > 0 {
			le.PID, le.Started = c.PID, c.Started
			if c.Key != "" {
				le.Key = c.Key
			}
		}
		return nil, le
	}
	// A holder releasing removes the file before it lets go: the file
	// locked must still be the one at path.
	fi, err := f.Stat()
	pi, perr := os.Stat(path)
	if err != nil || perr != nil || !os.SameFile(fi, pi) {
		f.Close()
		return nil, nil
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("state: lock %s: %w", path, err)
	}
	if _, err := f.WriteAt(content, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("state: lock %s: %w", path, err)
	}
	return &Lockfile{path: path, f: f}, nil
}

// Path returns the lock file's path.
func (l *Lockfile) Path() string { return l.path }

// Release removes the lock file and lets the lock go. It is idempotent.
func (l *Lockfile) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	err := os.Remove(l.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("state: release lock %s: %w", l.path, err)
	}
	return nil
}
