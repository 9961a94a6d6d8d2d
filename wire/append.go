package wire

import (
	"time"
	"unicode/utf8"
)

// AppendJSON appends the JSON encoding of sr to dst and returns the
// extended buffer. The bytes are exactly those json.Marshal(sr) produces:
// the same field order, omitempty and omitzero rules, string escaping
// (", \ and control characters; <, > and & as \u003c, \u003e and \u0026;
// U+2028 and U+2029 as \u2028 and \u2029; each byte of invalid UTF-8 as
// \ufffd, or as U+FFFD itself when encoding/json is built on json/v2 with
// GOEXPERIMENT=jsonv2), enum names and timestamp format, so that a hash of
// either is the same. A nil sr encodes as null.
//
// Unlike json.Marshal it uses no reflection and, when dst has room for
// the result, does not allocate. Nothing in a ServiceRequest can fail to
// encode, so the error is always nil; it is there so that callers handle
// AppendJSON as they handle json.Marshal.
func AppendJSON(dst []byte, sr *ServiceRequest) ([]byte, error) {
	if sr == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, '{')
	dst = appendStringField(dst, `"id":`, sr.ID)
	dst = appendStringField(dst, `"title":`, sr.Title)
	dst = appendStringField(dst, `"description":`, sr.Description)
	if sr.Severity != 0 {
		dst = appendKey(dst, `"severity":`)
		dst = appendName(dst, sr.Severity.String())
	}
	dst = appendStringField(dst, `"supportTopicId":`, sr.SupportTopicID)
	dst = appendStringField(dst, `"supportTopicName":`, sr.SupportTopicName)
	dst = appendStringField(dst, `"supportTopicDescription":`, sr.SupportTopicDescription)
	if sr.Status != 0 {
		dst = appendKey(dst, `"status":`)
		dst = appendName(dst, sr.Status.String())
	}
	if sr.Organization != nil {
		dst = appendOrganization(appendKey(dst, `"organization":`), sr.Organization)
	}
	if sr.PrimaryContact != nil {
		dst = appendContact(appendKey(dst, `"primaryContact":`), sr.PrimaryContact)
	}
	if sr.LastUpdatedBy != nil {
		dst = appendContact(appendKey(dst, `"lastUpdatedBy":`), sr.LastUpdatedBy)
	}
	dst = appendStringField(dst, `"productName":`, sr.ProductName)
	dst = appendStringField(dst, `"productId":`, sr.ProductID)
	dst = appendTimeField(dst, `"createdDate":`, sr.CreatedDate)
	dst = appendTimeField(dst, `"lastModifiedDate":`, sr.LastModifiedDate)
	dst = appendTimeField(dst, `"lastClosedDate":`, sr.LastClosedDate)
	if len(sr.FileLinks) > 0 {
		dst = appendKey(dst, `"fileLinks":`)
		for i := range sr.FileLinks {
			dst = appendElem(dst, i)
			dst = appendFileInfo(dst, &sr.FileLinks[i])
		}
		dst = append(dst, ']')
	}
	if sr.NewNote != nil {
		dst = appendNote(appendKey(dst, `"newNote":`), sr.NewNote)
	}
	if len(sr.Notes) > 0 {
		dst = appendKey(dst, `"notes":`)
		for i := range sr.Notes {
			dst = appendElem(dst, i)
			dst = appendNote(dst, &sr.Notes[i])
		}
		dst = append(dst, ']')
	}
	dst = appendStringField(dst, `"countryCode":`, sr.CountryCode)
	dst = appendStringField(dst, `"additionalInfo":`, sr.AdditionalInfo)
	dst = appendStringField(dst, `"creationChannel":`, sr.CreationChannel)
	if len(sr.EmailCcList) > 0 {
		dst = appendKey(dst, `"emailCcList":`)
		for i, s := range sr.EmailCcList {
			dst = appendElem(dst, i)
			dst = appendString(dst, s)
		}
		dst = append(dst, ']')
	}
	if sr.Attributes != nil {
		dst = appendKey(dst, `"attributes":`)
		dst = append(dst, '{')
		dst = appendStringField(dst, `"objectType":`, sr.Attributes.ObjectType)
		dst = appendStringField(dst, `"etag":`, sr.Attributes.Etag)
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

func appendOrganization(dst []byte, o *Organization) []byte {
	dst = append(dst, '{')
	dst = appendStringField(dst, `"id":`, o.ID)
	dst = appendStringField(dst, `"name":`, o.Name)
	dst = appendStringField(dst, `"phoneNumber":`, o.PhoneNumber)
	return append(dst, '}')
}

func appendContact(dst []byte, c *Contact) []byte {
	dst = append(dst, '{')
	dst = appendStringField(dst, `"contactId":`, c.ContactID)
	dst = appendStringField(dst, `"firstName":`, c.FirstName)
	dst = appendStringField(dst, `"lastName":`, c.LastName)
	dst = appendStringField(dst, `"email":`, c.Email)
	dst = appendStringField(dst, `"phoneNumber":`, c.PhoneNumber)
	if c.Organization != nil {
		dst = appendOrganization(appendKey(dst, `"organization":`), c.Organization)
	}
	return append(dst, '}')
}

func appendNote(dst []byte, n *Note) []byte {
	dst = append(dst, '{')
	dst = appendStringField(dst, `"createdByName":`, n.CreatedByName)
	dst = appendTimeField(dst, `"createdDate":`, n.CreatedDate)
	dst = appendStringField(dst, `"text":`, n.Text)
	return append(dst, '}')
}

func appendFileInfo(dst []byte, f *FileInfo) []byte {
	dst = append(dst, '{')
	dst = appendStringField(dst, `"friendlyName":`, f.FriendlyName)
	dst = appendStringField(dst, `"uri":`, f.URI)
	return append(dst, '}')
}

// appendKey appends key, a quoted name and its colon, preceded by a comma
// unless it is the first member of the object dst ends in.
func appendKey(dst []byte, key string) []byte {
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	return append(dst, key...)
}

// appendElem opens an array before its element i == 0 and separates the
// others.
func appendElem(dst []byte, i int) []byte {
	if i == 0 {
		return append(dst, '[')
	}
	return append(dst, ',')
}

// appendStringField appends an omitempty string member.
func appendStringField(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return appendString(appendKey(dst, key), s)
}

// appendName appends an enum's wire name, which needs no escaping.
func appendName(dst []byte, name string) []byte {
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"')
}

// appendTimeField appends an omitzero Time member as Time.MarshalJSON
// encodes it.
func appendTimeField(dst []byte, key string, t Time) []byte {
	if t.IsZero() {
		return dst
	}
	return appendTime(appendKey(dst, key), t)
}

// appendTime appends t as Time.MarshalJSON encodes it. The layouts yield
// digits, '-', '+', ':', '.', 'T' and 'Z' only, which need no escaping.
func appendTime(dst []byte, t Time) []byte {
	if t.IsZero() {
		return appendName(dst, Unset)
	}
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it with HTML escaping on.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, needing no escape
	for i := 0; i < len(s); {
		if i += plainWords(s[i:]); i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // other control characters, <, > and &
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, invalidUTF8...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainWords returns the length of the longest prefix of s made of whole
// 8-byte words none of whose bytes needs escaping or decoding: none is a
// control character, '"', '\\', '<', '>', '&' or outside ASCII. It tests
// each word at once: for a constant c, (x-lsb) &^ x & msb with x = w^c is
// non-zero exactly when some byte of w equals c, and (w - n*lsb) &^ w & msb
// when some byte is below n.
func plainWords(s string) int {
	const (
		lsb = 0x0101010101010101
		msb = 0x8080808080808080
	)
	n := 0
	for ; len(s) >= 8; s = s[8:] {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		ctl := (w - ' '*lsb) &^ w
		q := w | 0x04*lsb ^ '&'*lsb // 0 for '"' (0x22) and '&' (0x26)
		a := w | 0x02*lsb ^ '>'*lsb // 0 for '<' (0x3c) and '>' (0x3e)
		b := w ^ '\\'*lsb
		if (w|ctl|(q-lsb)&^q|(a-lsb)&^a|(b-lsb)&^b)&msb != 0 {
			break
		}
		n += 8
	}
	return n
}
