package state

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/internal/atomicfile"
	"github.com/srimport/srimport/reports"
)

// A run's log, dir/journal/<run id>.log, is the file its writes are
// appended to while it is open (see the package comment). It is the
// magic string logMagic followed by records, each
//
//	length  uint32, little-endian: the payload's length
//	crc     uint32, little-endian: CRC-32C of the length's 4 bytes and the payload
//	payload kind byte, then the kind's fields
//
// The first record is a header (kind 'H'): the run's id and RunInfo.
// Every other one is an entry (kind 'E'): one Queue of an
// importer.RowEntry. Integers are varints (encoding/binary), strings a
// uvarint length and the bytes, times a presence byte (0 for the zero
// time) then the Unix seconds as a varint and the nanoseconds as a
// uvarint.
//
// A record whose length is zero or runs past the end of the file, or whose CRC does
// not match, is torn: the process died or the machine lost power while it
// was written. It was never reported durable, so reading stops there and
// ignores it and anything after it.
const (
	logMagic     = "srimport-journal-1\n"
	logDir       = "journal" // inside the state directory
	logExt       = ".log"
	logTmpPrefix = ".new-" // a log being created; renamed to <id>.log once its header is durable

	recHeader = 'H'
	recEntry  = 'E'

	recPrefix = 8 // length and CRC
	maxRecord = 16 << 20

	// staleTmp is how old a log being created must be, and unlocked,
	// before Open removes it as left by a killed process.
	staleTmp = time.Minute
)

// tornError reports a torn record: the end of what can be read.
type tornError struct {
	off int64  // the record's offset in the file
	why string // what is wrong with it
}

func (e *tornError) Error() string { return fmt.Sprintf("torn record at offset %d: %s", e.off, e.why) }

// badLogError reports a file that is not a log, or not the one expected.
type badLogError struct{ why string }

func (e *badLogError) Error() string { return e.why }

// isTorn reports whether err is a *tornError.
func isTorn(err error) bool {
	var t *tornError
	return errors.As(err, &t)
}

// logHeader is what a log's first record says about its run.
type logHeader struct {
	runID int64
	info  RunInfo
}

func crcTable() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// beginRecord appends the space for a record's length and CRC, and kind.
func beginRecord(b []byte, kind byte) []byte {
	return append(b, 0, 0, 0, 0, 0, 0, 0, 0, kind)
}

// sealRecord fills in the length and CRC of the record that starts at
// b[start:].
func sealRecord(b []byte, start int) []byte {
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start-recPrefix))
	tab := crcTable()
	crc := crc32.Update(0, tab, b[start:start+4])
	crc = crc32.Update(crc, tab, b[start+recPrefix:])
	binary.LittleEndian.PutUint32(b[start+4:], crc)
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// appendEntry appends e's record to b.
func appendEntry(b []byte, e *importer.RowEntry) []byte {
	start := len(b)
	b = beginRecord(b, recEntry)
	b = binary.AppendVarint(b, int64(e.Seq))
	b = binary.AppendVarint(b, int64(e.Row))
	b = appendString(b, e.Identity)
	b = appendString(b, e.RequestID)
	b = appendString(b, string(e.State))
	b = appendString(b, e.ServiceRequestID)
	b = appendString(b, e.Match)
	b = appendString(b, string(e.Status))
	b = appendString(b, e.ErrorClass)
	b = appendString(b, e.Error)
	b = binary.AppendVarint(b, int64(e.Attempts))
	b = appendTime(b, e.SentAt)
	b = appendTime(b, e.UpdatedAt)
	return sealRecord(b, start)
}

// appendHeader appends h's record to b.
func appendHeader(b []byte, h *logHeader) []byte {
	start := len(b)
	b = beginRecord(b, recHeader)
	b = binary.AppendVarint(b, h.runID)
	b = appendString(b, h.info.Input)
	b = appendString(b, h.info.InputHash)
	b = appendString(b, h.info.MappingHash)
	b = appendString(b, h.info.Target)
	b = appendTime(b, h.info.Started)
	b = binary.AppendVarint(b, int64(h.info.PID))
	return sealRecord(b, start)
}

// decoder reads a record's fields; the first malformed one sets bad.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad, d.b = true, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	if len(d.b) == 0 {
		d.bad = true
		return time.Time{}
	}
	present := d.b[0]
	d.b = d.b[1:]
	if present == 0 {
		return time.Time{}
	}
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.bad = true
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// decodeEntry decodes an entry record's payload (after its kind).
func decodeEntry(p []byte) (importer.RowEntry, error) {
	d := decoder{b: p}
	var e importer.RowEntry
	e.Seq = int(d.varint())
	e.Row = int(d.varint())
	e.Identity = d.string()
	e.RequestID = d.string()
	e.State = importer.State(d.string())
	e.ServiceRequestID = d.string()
	e.Match = d.string()
	e.Status = reports.Status(d.string())
	e.ErrorClass = d.string()
	e.Error = d.string()
	e.Attempts = int(d.varint())
	e.SentAt = d.time()
	e.UpdatedAt = d.time()
	if d.bad || len(d.b) != 0 {
		return importer.RowEntry{}, errors.New("malformed entry")
	}
	return e, nil
}

// decodeHeader decodes a header record's payload (after its kind).
func decodeHeader(p []byte) (logHeader, error) {
	d := decoder{b: p}
	var h logHeader
	h.runID = d.varint()
	h.info.Input = d.string()
	h.info.InputHash = d.string()
	h.info.MappingHash = d.string()
	h.info.Target = d.string()
	h.info.Started = d.time()
	h.info.PID = int(d.varint())
	if d.bad || len(d.b) != 0 {
		return logHeader{}, errors.New("malformed header")
	}
	return h, nil
}

// logReader reads a log's records in order.
type logReader struct {
	r   *bufio.Reader
	tab *crc32.Table
	buf []byte
	off int64 // offset of the next record
}

// newLogReader checks f's magic and returns a reader of its records.
func newLogReader(f *os.File) (*logReader, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 256<<10)
	magic := make([]byte, len(logMagic))
	if _, err := io.ReadFull(r, magic); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &tornError{0, "no magic"}
		}
		return nil, err
	}
	if string(magic) != logMagic {
		return nil, &badLogError{"not a srimport journal log"}
	}
	return &logReader{r: r, tab: crcTable(), off: int64(len(logMagic))}, nil
}

// next returns the next record's kind and payload (valid until the next
// call); io.EOF at a clean end, a *tornError at a torn record.
func (lr *logReader) next() (kind byte, payload []byte, err error) {
	var pre [recPrefix]byte
	n, err := io.ReadFull(lr.r, pre[:])
	switch {
	case errors.Is(err, io.EOF):
		return 0, nil, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return 0, nil, &tornError{lr.off, fmt.Sprintf("%d bytes of a record's prefix", n)}
	case err != nil:
		return 0, nil, err
	}
	size := binary.LittleEndian.Uint32(pre[:4])
	if size == 0 || size > maxRecord {
		return 0, nil, &tornError{lr.off, fmt.Sprintf("length %d", size)}
	}
	if cap(lr.buf) < int(size) {
		lr.buf = make([]byte, size)
	}
	lr.buf = lr.buf[:size]
	if _, err := io.ReadFull(lr.r, lr.buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, &tornError{lr.off, "short record"}
		}
		return 0, nil, err
	}
	crc := crc32.Update(0, lr.tab, pre[:4])
	crc = crc32.Update(crc, lr.tab, lr.buf)
	if crc != binary.LittleEndian.Uint32(pre[4:]) {
		return 0, nil, &tornError{lr.off, "checksum mismatch"}
	}
	lr.off += recPrefix + int64(size)
	return lr.buf[0], lr.buf[1:], nil
}

// header reads the log's first record, its header.
func (lr *logReader) header() (logHeader, error) {
	kind, p, err := lr.next()
	if errors.Is(err, io.EOF) {
		return logHeader{}, &tornError{lr.off, "no header"}
	}
	if err != nil {
		return logHeader{}, err
	}
	if kind != recHeader {
		return logHeader{}, &badLogError{fmt.Sprintf("first record of kind %q, not a header", kind)}
	}
	h, err := decodeHeader(p)
	if err != nil {
		return logHeader{}, &badLogError{err.Error()}
	}
	return h, nil
}

// logName is the file name of run id's log.
func logName(id int64) string { return strconv.FormatInt(id, 10) + logExt }

// parseLogName returns the run id a log file name names; ok is false for
// any other name.
func parseLogName(name string) (id int64, ok bool) {
	digits, found := strings.CutSuffix(name, logExt)
	if !found || digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	return id, err == nil && id > 0
}

// createLog creates the log of run h.runID in dir, holding an exclusive
// flock on it for as long as the returned file is open. The log is
// written and flocked under a temporary name, its header made durable,
// and then renamed into place and the directory synced, so that no other
// process ever sees a log it could lock, or one without its header.
func createLog(dir string, h *logHeader) (f *os.File, path string, err error) {
	f, err = os.CreateTemp(dir, logTmpPrefix+"*"+logExt)
	if err != nil {
		return nil, "", err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := flock(f, false); err != nil {
		return nil, "", fmt.Errorf("lock %s: %w", tmp, err)
	}
	b := appendHeader([]byte(logMagic), h)
	if _, err := f.Write(b); err != nil {
		return nil, "", err
	}
	if err := f.Sync(); err != nil {
		return nil, "", err
	}
	path = filepath.Join(dir, logName(h.runID))
	if err := os.Rename(tmp, path); err != nil {
		return nil, "", err
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		os.Remove(path)
		return nil, "", err
	}
	return f, path, nil
}

// flock takes an exclusive flock on f; with tryOnly, it fails with
// syscall.EWOULDBLOCK instead of waiting when another holds it.
func flock(f *os.File, tryOnly bool) error {
	how := syscall.LOCK_EX
	if tryOnly {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// unlinked reports whether f's file has been removed since it was opened.
func unlinked(f *os.File) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0, nil
}
