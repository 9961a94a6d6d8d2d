package input

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"os"
)

// sstSpill is the size of shared strings kept in memory; past it they
// move to a temporary file, so that a sheet of a million distinct texts
// does not hold them all (only their offsets, 8 bytes each).
const sstSpill = 16 << 20

// sharedStrings is the workbook's shared string table.
type sharedStrings struct {
	mem   []string
	size  int
	file  *os.File
	w     *bufio.Writer
	ends  []int64 // end offset of each string in file
	spill int
}

// loadSharedStrings reads the shared strings part, if any.
func (p *xlsxPackage) loadSharedStrings() (*sharedStrings, error) {
	s := &sharedStrings{spill: sstSpill}
	name := p.relPart("sharedStrings", "xl/sharedStrings.xml")
	if p.part(name) == nil {
		return s, nil
	}
	rc, err := p.openStream(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if err := s.load(newPartDecoder(rc), name); err != nil {
		s.Close()
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, xlsxCorrupt(name, err)
	}
	return s, nil
}

func (s *sharedStrings) load(d *xml.Decoder, name string) error {
	for depth := 0; ; {
		t, err := nextToken(d, name)
		if err == io.EOF && depth == 0 {
			return s.flush()
		}
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch {
			case depth == 0:
				depth++ // <sst>
			case t.Name.Local == "si":
				text, err := readRichText(d, name)
				if err != nil {
					return err
				}
				if err := s.add(decodeEscapes(text)); err != nil {
					return err
				}
			default:
				if err := d.Skip(); err != nil {
					return err
				}
			}
		case xml.EndElement:
			depth--
		}
	}
}

func (s *sharedStrings) add(text string) error {
	if s.file == nil {
		s.mem = append(s.mem, text)
		s.size += len(text)
		if s.size <= s.spill {
			return nil
		}
		f, err := os.CreateTemp("", "srimport-sst-*")
		if err != nil {
			return fmt.Errorf("shared strings past %d MiB go to a temporary file: %w", s.spill>>20, err)
		}
		s.file, s.w = f, bufio.NewWriterSize(f, 1<<20)
		mem := s.mem
		s.mem = nil
		for _, m := range mem {
			s.write(m)
		}
		return nil
	}
	s.write(text)
	return nil
}

func (s *sharedStrings) write(text string) {
	s.w.WriteString(text) // errors surface at Flush
	var end int64
	if n := len(s.ends); n > 0 {
		end = s.ends[n-1]
	}
	s.ends = append(s.ends, end+int64(len(text)))
}

func (s *sharedStrings) flush() error {
	if s.w != nil {
		return s.w.Flush()
	}
	return nil
}

// get returns string i.
func (s *sharedStrings) get(i int) (string, error) {
	if s.file == nil {
		if i < 0 || i >= len(s.mem) {
			return "", fmt.Errorf("shared string %d does not exist (the workbook has %d)", i, len(s.mem))
		}
		return s.mem[i], nil
	}
	if i < 0 || i >= len(s.ends) {
		return "", fmt.Errorf("shared string %d does not exist (the workbook has %d)", i, len(s.ends))
	}
	var start int64
	if i > 0 {
		start = s.ends[i-1]
	}
	b := make([]byte, s.ends[i]-start)
	if _, err := s.file.ReadAt(b, start); err != nil {
		return "", fmt.Errorf("reading shared string %d from the temporary file: %w", i, err)
	}
	return string(b), nil
}

// Close removes the temporary file.
func (s *sharedStrings) Close() error {
	if s.file == nil {
		return nil
	}
	f := s.file
	s.file, s.w = nil, nil
	err := f.Close()
	if rerr := os.Remove(f.Name()); err == nil {
		err = rerr
	}
	return err
}
