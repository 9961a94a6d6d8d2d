package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// createdID returns the id of a create answer: the top-level "id" member
// (its name matched without regard to case, the last one winning, as
// encoding/json does), skipping everything else without decoding it. It
// ignores a UTF-8 byte-order mark and surrounding whitespace, as
// wire.Decode does. A body that is not a JSON object, or whose id is not a
// string, is an error; so is an object without an id.
//
// It stands in for decoding the whole ServiceRequest, which cost a
// create about as much CPU as the rest of the client.
func createdID(body []byte) (string, error) {
	s := scanner{b: bytes.TrimPrefix(body, utf8BOM)}
	s.space()
	if s.i == len(s.b) {
		return "", errors.New("the answer has no body")
	}
	id, err := s.object()
	if err == nil {
		if s.space(); s.i != len(s.b) {
			err = s.fail("after the object")
		}
	}
	switch {
	case err != nil:
		return "", fmt.Errorf("decode: %w", err)
	case id == "":
		return "", errors.New("the answer carries no service request id")
	}
	return id, nil
}

// scanner walks a JSON text without building values.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) fail(what string) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", s.i, what)
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object reads an object and returns its last "id" member's value.
func (s *scanner) object() (id string, err error) {
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return "", s.fail("want an object")
	}
	s.i++
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return "", nil
	}
	for {
		s.space()
		key, err := s.str()
		if err != nil {
			return "", err
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return "", s.fail("want ':'")
		}
		s.i++
		s.space()
		if isID(key) {
			switch {
			case s.i < len(s.b) && s.b[s.i] == '"':
				raw, err := s.str()
				if err != nil {
					return "", err
				}
				if id, err = unquote(raw); err != nil {
					return "", err
				}
			case bytes.HasPrefix(s.b[s.i:], []byte("null")):
				s.i += len("null") // leaves id as it was, as encoding/json does
			default:
				return "", s.fail("the id is not a string")
			}
		} else if err := s.skip(); err != nil {
			return "", err
		}
		s.space()
		if s.i >= len(s.b) {
			return "", s.fail("unterminated object")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return id, nil
		default:
			return "", s.fail("want ',' or '}'")
		}
	}
}

// isID reports whether a member name, still quoted, is "id" in any case.
func isID(raw []byte) bool {
	if len(raw) == 4 {
		return (raw[1] == 'i' || raw[1] == 'I') && (raw[2] == 'd' || raw[2] == 'D')
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return false
	}
	name, err := unquote(raw) // an escaped name, such as "\u0069d"
	return err == nil && strings.EqualFold(name, "id")
}

// str reads a string and returns it with its quotes, undecoded.
func (s *scanner) str() ([]byte, error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, s.fail("want a string")
	}
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '\\':
			s.i++
		case c == '"':
			s.i++
			return s.b[start:s.i], nil
		case c < 0x20:
			return nil, s.fail("control character in a string")
		}
	}
	return nil, s.fail("unterminated string")
}

// unquote decodes a quoted string: directly when it holds no escape and
// is valid UTF-8, with encoding/json otherwise.
func unquote(raw []byte) (string, error) {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	return v, nil
}

// skip passes over one value: a string, or anything up to the end of
// the brackets it opens, or a number or literal.
func (s *scanner) skip() error {
	if s.i >= len(s.b) {
		return s.fail("want a value")
	}
	switch s.b[s.i] {
	case '"':
		_, err := s.str()
		return err
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, err := s.str(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					s.i++
					return nil
				}
			}
			s.i++
		}
		return s.fail("unterminated value")
	}
	start := s.i
	for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] == '+' || s.b[s.i] == '.' ||
		s.b[s.i] >= '0' && s.b[s.i] <= '9' || s.b[s.i] >= 'a' && s.b[s.i] <= 'z' || s.b[s.i] >= 'A' && s.b[s.i] <= 'Z') {
		s.i++
	}
	if s.i == start {
		return s.fail("want a value")
	}
	return nil
}
