package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/transform"
)

// ErrEncodingName means Options.Encoding names no encoding srimport can
// read. The error wrapping it lists some names that work; it wraps
// ErrUnsupported too.
var ErrEncodingName = errors.New("unknown encoding name")

// Decoding is done by golang.org/x/text: its tables are the WHATWG and IANA
// ones browsers and other tools use, and its decoders stream. Two of its
// habits are undone here, because srimport never silently alters text:
// legacy decoders turn a byte the encoding does not define into U+FFFD (a
// row holding one is invalid, see csvReader.checkText), and the UTF-16 and
// UTF-32 decoders do the same for an unpaired surrogate or a cut-off
// character (unitChecker refuses those before they reach the decoder).

// textKind tells how a CSV file's bytes become text.
type textKind int

const (
	kindUTF8    textKind = iota // read as is; invalid UTF-8 makes a row invalid
	kindUnicode                 // UTF-16 or UTF-32: checked code units, then decoded
	kindLegacy                  // a legacy code page: decoded; U+FFFD makes a row invalid
)

// textEncoding is a resolved CSV text encoding.
type textEncoding struct {
	name string // for messages: "UTF-8", "UTF-16 LE", "windows-1252", …
	kind textKind
	enc  encoding.Encoding // nil for UTF-8 and for UTF-16/UTF-32 before resolve picks a byte order

	// Unicode encodings: code unit size (2 or 4) and byte order; unit
	// 2 or 4 with open set means "by byte-order mark, else guessed".
	unit int
	big  bool
	open bool
}

var (
	encUTF8    = textEncoding{name: "UTF-8", kind: kindUTF8}
	encUTF16LE = textEncoding{name: "UTF-16 LE", kind: kindUnicode, unit: 2, enc: unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)}
	encUTF16BE = textEncoding{name: "UTF-16 BE", kind: kindUnicode, unit: 2, big: true, enc: unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)}
	encUTF32LE = textEncoding{name: "UTF-32 LE", kind: kindUnicode, unit: 4, enc: utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM)}
	encUTF32BE = textEncoding{name: "UTF-32 BE", kind: kindUnicode, unit: 4, big: true, enc: utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM)}
	encUTF16   = textEncoding{name: "UTF-16", kind: kindUnicode, unit: 2, open: true}
	encUTF32   = textEncoding{name: "UTF-32", kind: kindUnicode, unit: 4, open: true}
)

// unicodeNames are the Unicode encoding names srimport resolves itself
// rather than through the indexes, whose UTF-16 entries follow HTML's
// rules (a bare "utf-16" is little-endian whatever the byte-order mark).
var unicodeNames = map[string]textEncoding{
	"utf-8": encUTF8, "utf8": encUTF8, "unicode-1-1-utf-8": encUTF8,
	"utf-16": encUTF16, "utf16": encUTF16, "ucs-2": encUTF16, "unicode": encUTF16,
	"utf-16le": encUTF16LE, "utf16le": encUTF16LE, "ucs-2le": encUTF16LE,
	"utf-16be": encUTF16BE, "utf16be": encUTF16BE, "ucs-2be": encUTF16BE,
	"utf-32": encUTF32, "utf32": encUTF32, "ucs-4": encUTF32,
	"utf-32le": encUTF32LE, "utf32le": encUTF32LE,
	"utf-32be": encUTF32BE, "utf32be": encUTF32BE,
}

// encodingExamples is the list an unknown name's error offers.
const encodingExamples = "auto, utf-8, utf-16, utf-16le, utf-16be, windows-1252 (also latin1, iso-8859-1), " +
	"iso-8859-15, windows-1250, windows-1251, koi8-r, macintosh, shift_jis, gbk"

// lookupEncoding resolves Options.Encoding. auto reports "" or "auto":
// UTF-8 unless a byte-order mark says otherwise. Names are matched without
// regard to case, first as Unicode names, then in the WHATWG index (where
// iso-8859-1, latin1 and ascii mean windows-1252, as in browsers), then in
// the IANA registry.
func lookupEncoding(name string) (enc textEncoding, auto bool, err error) {
	key := strings.ToLower(strings.TrimSpace(name))
	if key == "" || key == "auto" {
		return encUTF8, true, nil
	}
	if e, ok := unicodeNames[key]; ok {
		return e, false, nil
	}
	e, err := htmlindex.Get(key)
	canon := ""
	if err == nil {
		canon, _ = htmlindex.Name(e)
	} else if e, err = ianaindex.IANA.Encoding(key); err == nil && e != nil {
		canon, _ = ianaindex.IANA.Name(e)
		canon = strings.ToLower(canon)
	}
	if e == nil || e == encoding.Replacement {
		// Replacement stands for encodings (ISO-2022-KR, HZ, …) that
		// browsers refuse to decode.
		return textEncoding{}, false, fmt.Errorf("%w %q (%w): use one of %s, or another WHATWG or IANA name", ErrEncodingName, name, ErrUnsupported, encodingExamples)
	}
	if u, ok := unicodeNames[canon]; ok {
		return u, false, nil
	}
	if e == unicode.UTF8 {
		return encUTF8, false, nil
	}
	if canon == "" {
		canon = key
	}
	return textEncoding{name: canon, kind: kindLegacy, enc: e}, false, nil
}

// sniffBOM returns the encoding a byte-order mark at the start of head
// names and the mark's length, or ok false.
func sniffBOM(head []byte) (enc textEncoding, n int, ok bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return encUTF8, 3, true
	case bytes.HasPrefix(head, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return encUTF32BE, 4, true
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return encUTF32LE, 4, true
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return encUTF16BE, 2, true
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return encUTF16LE, 2, true
	}
	return textEncoding{}, 0, false
}

// guessUnicode recognises UTF-16 and UTF-32 text without a byte-order mark
// by the zero bytes of its first ASCII characters, as in "T\x00i\x00".
func guessUnicode(head []byte) (textEncoding, bool) {
	if len(head) < 4 {
		return textEncoding{}, false
	}
	z := func(i ...int) bool {
		for _, j := range i {
			if head[j] != 0 {
				return false
			}
		}
		return true
	}
	switch {
	case head[0] != 0 && z(1, 2, 3):
		return encUTF32LE, true
	case z(0, 1, 2) && head[3] != 0:
		return encUTF32BE, true
	case head[0] != 0 && z(1, 3) && head[2] != 0:
		return encUTF16LE, true
	case z(0, 2) && head[1] != 0 && head[3] != 0:
		return encUTF16BE, true
	}
	return textEncoding{}, false
}

// resolve settles the encoding of a file that starts with head, given the
// named one: a byte-order mark decides under auto and must agree with a
// named Unicode encoding; it returns the bytes to skip (the mark).
func resolve(named textEncoding, auto bool, head []byte) (textEncoding, int, error) {
	bom, n, hasBOM := sniffBOM(head)
	switch {
	case auto && hasBOM:
		return bom, n, nil
	case auto:
		if g, ok := guessUnicode(head); ok {
			return textEncoding{}, 0, fmt.Errorf("%w: the file looks like %s text without a byte-order mark; run again with --encoding %s",
				ErrUnsupported, g.name, strings.ToLower(strings.ReplaceAll(g.name, " ", "")))
		}
		return encUTF8, 0, nil
	case !hasBOM:
		if named.open {
			if g, ok := guessUnicode(head); ok && g.unit == named.unit {
				return g, 0, nil
			}
			// No sign either way: Windows, where such files come
			// from, writes little-endian.
			if named.unit == 4 {
				return encUTF32LE, 0, nil
			}
			return encUTF16LE, 0, nil
		}
		return named, 0, nil
	case bom.name == named.name:
		return named, n, nil
	case named.open && bom.unit == named.unit:
		return bom, n, nil
	case named.unit == 2 && !named.big && bom.name == encUTF32LE.name:
		// FF FE 00 00 is also a UTF-16 LE mark before U+0000: the
		// name decides.
		return encUTF16LE, 2, nil
	}
	return textEncoding{}, 0, fmt.Errorf("%w: the file starts with a %s byte-order mark, so it is not %s text; run again without --encoding (or with --encoding auto)",
		ErrUnsupported, bom.name, named.name)
}

// textError is an encoding error whose message is not about UTF-8; it
// matches ErrEncoding with errors.Is.
type textError struct{ msg string }

func (e *textError) Error() string        { return e.msg }
func (e *textError) Is(target error) bool { return target == ErrEncoding }

// unitChecker passes UTF-16 or UTF-32 bytes through and fails where they
// are not well formed: an unpaired surrogate, a code point above U+10FFFF,
// or a file that ends inside a character. The x/text decoders would write
// U+FFFD there instead. It stops before the bad character, so what the
// decoder has read up to then decodes cleanly.
type unitChecker struct {
	r    io.Reader
	enc  textEncoding
	off  int64 // file offset of the next byte read
	unit [4]byte
	nu   int   // bytes of unit filled
	high int64 // file offset of a UTF-16 high surrogate awaiting its pair, or -1
	err  error
}

func newUnitChecker(r io.Reader, enc textEncoding, off int64) *unitChecker {
	return &unitChecker{r: r, enc: enc, off: off, high: -1}
}

func (u *unitChecker) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	n, err := u.r.Read(p)
	for i := 0; i < n; i++ {
		u.unit[u.nu] = p[i]
		u.nu++
		if u.nu < u.enc.unit {
			continue
		}
		u.nu = 0
		start := u.off + int64(i) - int64(u.enc.unit) + 1
		if bad, at, what := u.check(start); bad {
			u.err = u.fail(at, what)
			return max(0, int(at-u.off)), u.err
		}
	}
	u.off += int64(n)
	if err == io.EOF && (u.nu > 0 || u.high >= 0) {
		at := u.high
		if at < 0 {
			at = u.off - int64(u.nu)
		}
		u.err = u.fail(at, "the file ends in the middle of a character (it may have been cut off)")
		return n, u.err
	}
	if err != nil {
		u.err = err
	}
	return n, err
}

// check takes the code unit in u.unit, which starts at file offset start.
func (u *unitChecker) check(start int64) (bad bool, at int64, what string) {
	b := u.unit
	var v uint32
	if u.enc.unit == 4 {
		if u.enc.big {
			v = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		} else {
			v = uint32(b[3])<<24 | uint32(b[2])<<16 | uint32(b[1])<<8 | uint32(b[0])
		}
		if v > 0x10FFFF || v >= 0xD800 && v < 0xE000 {
			return true, start, fmt.Sprintf("0x%08X is not a Unicode character", v)
		}
		return false, 0, ""
	}
	if u.enc.big {
		v = uint32(b[0])<<8 | uint32(b[1])
	} else {
		v = uint32(b[1])<<8 | uint32(b[0])
	}
	isLow := v >= 0xDC00 && v < 0xE000
	switch {
	case u.high >= 0 && !isLow:
		return true, u.high, "a high surrogate is not followed by a low one"
	case u.high >= 0:
		u.high = -1
	case v >= 0xD800 && v < 0xDC00:
		u.high = start
	case isLow:
		return true, start, fmt.Sprintf("low surrogate 0x%04X has no high surrogate before it", v)
	}
	return false, 0, ""
}

func (u *unitChecker) fail(at int64, what string) error {
	return &textError{fmt.Sprintf("byte offset %d: the file is not valid %s text: %s; re-export or re-save the file", at, u.enc.name, what)}
}

// decoder returns a reader of enc's text as UTF-8 from raw, whose first
// byte is at file offset off.
func (e textEncoding) decoder(raw io.Reader, off int64) io.Reader {
	if e.kind == kindUnicode {
		raw = newUnitChecker(raw, e, off)
	}
	return transform.NewReader(raw, e.enc.NewDecoder())
}

// maxBadOffsets bounds the offsets a utf8Locator holds.
const maxBadOffsets = 1 << 16

// utf8Locator passes UTF-8 text through and notes where it is not valid:
// for each line, the stream offset of its first invalid byte. A CSV record
// starts at the start of a line, so the first offset noted at or after a
// record's start tells whether, and where, the record holds invalid text;
// valid records cost no per-field check.
type utf8Locator struct {
	r   io.Reader
	off int64 // stream offset of the next byte read

	carry   [utf8.UTFMax]byte // a character cut by the end of the last read
	nc      int
	carryAt int64

	marked bool    // an invalid byte of the current line is noted
	bad    []int64 // offsets noted, ascending
	lost   int64   // offset from which offsets went unnoted (too many), or -1
}

func (l *utf8Locator) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.scan(p[:n], err != nil)
	l.off += int64(n)
	return n, err
}

// scan notes the invalid bytes in b, read at l.off; atEOF means nothing
// follows b.
func (l *utf8Locator) scan(b []byte, atEOF bool) {
	i := 0
	if l.nc > 0 {
		// Finish the character the last read cut.
		var buf [2 * utf8.UTFMax]byte
		k := copy(buf[:], l.carry[:l.nc])
		for k < utf8.UTFMax && i < len(b) && !utf8.FullRune(buf[:k]) {
			buf[k] = b[i]
			k++
			i++
		}
		if !utf8.FullRune(buf[:k]) && !atEOF {
			l.nc = copy(l.carry[:], buf[:k])
			return
		}
		if r, size := utf8.DecodeRune(buf[:k]); r == utf8.RuneError && size == 1 {
			l.note(l.carryAt)
			i = 0 // look at b again: the carried bytes hold no newline
		} else {
			i = size - l.nc
		}
		l.nc = 0
	}
	body := b[i:]
	if !atEOF {
		// Keep a character the read cut for the next one.
		s := len(body) - 1
		for s > 0 && s > len(body)-utf8.UTFMax && !utf8.RuneStart(body[s]) {
			s--
		}
		if s >= 0 && !utf8.FullRune(body[s:]) {
			l.nc = copy(l.carry[:], body[s:])
			l.carryAt = l.off + int64(i+s)
			body = body[:s]
		}
	}
	if utf8.Valid(body) {
		if l.marked && bytes.IndexByte(body, '\n') >= 0 {
			l.marked = false
		}
		return
	}
	at := l.off + int64(i)
	for j := 0; j < len(body); {
		if c := body[j]; c < utf8.RuneSelf {
			if c == '\n' {
				l.marked = false
			}
			j++
			continue
		}
		r, size := utf8.DecodeRune(body[j:])
		if r == utf8.RuneError && size == 1 {
			l.note(at + int64(j))
		}
		j += size
	}
}

// note notes an invalid byte at offset at, unless its line has one.
func (l *utf8Locator) note(at int64) {
	if l.marked {
		return
	}
	l.marked = true
	if len(l.bad) >= maxBadOffsets {
		if l.lost < 0 {
			l.lost = at
		}
		return
	}
	l.bad = append(l.bad, at)
}

// drop forgets the offsets before from.
func (l *utf8Locator) drop(from int64) {
	k := 0
	for k < len(l.bad) && l.bad[k] < from {
		k++
	}
	if k > 0 {
		l.bad = l.bad[k:]
	}
}

// firstBad reports whether the text from offset from (after drop(from)) up
// to offset to holds an invalid byte, and the offset of the first one, or
// -1 when it went unnoted.
func (l *utf8Locator) firstBad(to int64) (at int64, bad bool) {
	if len(l.bad) > 0 && l.bad[0] < to {
		return l.bad[0], true
	}
	if l.lost >= 0 && l.lost < to {
		return -1, true
	}
	return 0, false
}
