package state

import (
	"errors"
	"os"
	"syscall"
)

// datasync makes f's written data durable: fdatasync(2), which skips
// the metadata a read does not need (times).
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
