package progress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// ErrNotCountable is returned by CountRows for text it cannot count
// without decoding it (UTF-16 and UTF-32, where a line end is more than a
// byte).
var ErrNotCountable = errors.New("not countable without decoding")

// CountRows counts the data rows of a CSV file, for a progress bar's
// total: the records that are not blank lines, less the header and an
// Excel "sep=" line. It follows quotes, so a multi-line field is one row,
// and reads a megabyte at a time (a few hundred MB/s). It is an estimate:
// all-empty rows at the end, which an import ignores, are counted.
func CountRows(ctx context.Context, r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	var (
		records int64
		inQuote bool
		content bool // the current line has a byte other than a line end
		first   = true
		sepLine bool
	)
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := io.ReadFull(r, buf)
		chunk := buf[:n]
		if first && n > 0 {
			first = false
			if bytes.HasPrefix(chunk, []byte{0xFF, 0xFE}) || bytes.HasPrefix(chunk, []byte{0xFE, 0xFF}) ||
				bytes.HasPrefix(chunk, []byte{0, 0, 0xFE, 0xFF}) {
				return 0, ErrNotCountable
			}
			sepLine = bytes.HasPrefix(bytes.TrimPrefix(chunk, []byte("\xEF\xBB\xBF")), []byte("sep="))
		}
		for len(chunk) > 0 {
			i := bytes.IndexAny(chunk, "\"\r\n")
			if i < 0 {
				content = true
				break
			}
			if i > 0 {
				content = true
			}
			switch c := chunk[i]; {
			case c == '"':
				inQuote = !inQuote
				content = true
			case inQuote:
				// A line end inside a quoted field: the record goes on.
			case content:
				records++
				content = false
			}
			chunk = chunk[i+1:]
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("count rows: %w", err)
		}
	}
	if content {
		records++
	}
	if sepLine {
		records--
	}
	return max(records-1, 0), nil
}
