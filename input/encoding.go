package input

import (
	"fmt"
	"strings"
)

// checkEncoding accepts the encodings CSV input can be read in today:
// UTF-8, named or detected ("", "auto"). Other encodings are to be added
// here.
func checkEncoding(name string) error {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "auto", "utf-8", "utf8":
		return nil
	}
	return fmt.Errorf("%w: encoding %q is not supported yet; save the file as UTF-8", ErrUnsupported, name)
}
