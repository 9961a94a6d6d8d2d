//go:build !linux

package state

import "os"

// datasync makes f's written data durable (fsync(2), or F_FULLFSYNC on
// macOS).
func datasync(f *os.File) error { return f.Sync() }
