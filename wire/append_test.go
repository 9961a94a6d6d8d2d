package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// checkAppendJSON fails t unless AppendJSON encodes sr as json.Marshal does,
// both into an empty buffer and after a prefix it must keep.
func checkAppendJSON(t testing.TB, sr *ServiceRequest) {
	t.Helper()
	want, err := json.Marshal(sr)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	got, err := AppendJSON(nil, sr)
	if err != nil {
		t.Fatalf("AppendJSON: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON differs from json.Marshal at byte %d\n got %q\nwant %q", diffAt(got, want), got, want)
	}
	prefix := []byte("prefix{")
	got, err = AppendJSON(prefix, sr)
	if err != nil {
		t.Fatalf("AppendJSON after a prefix: %v", err)
	}
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("AppendJSON after %q gives %q, want the prefix then %q", prefix, got, want)
	}
}

// diffAt returns the index of the first byte where a and b differ.
func diffAt(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// allFields returns a ServiceRequest with every field, nested ones
// included, set.
func allFields() *ServiceRequest {
	t := Time{time.Date(2024, 3, 9, 14, 5, 7, 120_000_000, time.FixedZone("CET", 3600))}
	org := &Organization{ID: "org-1", Name: "Contoso <Ltd> & Co", PhoneNumber: "+44 20 7946 0000"}
	return &ServiceRequest{
		ID: "616122292874163", Title: "Cannot \"sign in\"", Description: "Line 1\nLine 2\tTabbed\\path",
		Severity: SeverityCritical, SupportTopicID: "32444671", SupportTopicName: "Billing",
		SupportTopicDescription: "Invoices", Status: StatusAttentionNeeded, Organization: org,
		PrimaryContact: &Contact{ContactID: "c1", FirstName: "Zoë", LastName: "Ångström", Email: "zoe@example.com",
			PhoneNumber: "555", Organization: org},
		LastUpdatedBy: &Contact{Email: "agent@example.com"}, ProductName: "Partner Center", ProductID: "15",
		CreatedDate: t, LastModifiedDate: Time{t.Add(time.Hour)}, LastClosedDate: Time{t.Add(36 * time.Hour)},
		FileLinks:   []FileInfo{{FriendlyName: "log.txt", URI: "https://example.com/a?b=1&c=2"}, {}},
		NewNote:     &Note{CreatedByName: "me", CreatedDate: t, Text: "new"},
		Notes:       []Note{{CreatedByName: "a", CreatedDate: t, Text: "first"}, {Text: "second"}},
		CountryCode: "GB", AdditionalInfo: "extra", CreationChannel: "API",
		EmailCcList: []string{"a@example.com", "b@example.com"},
		Attributes:  &Attributes{ObjectType: ObjectServiceRequest, Etag: `W/"1"`},
	}
}

// typicalSR returns a service request shaped like those an import sends:
// a 60-character title, a 400-character description with some non-ASCII
// text, severity, support topic, a primary contact, one note and
// attributes.
func typicalSR() *ServiceRequest {
	title := "Invoice for March shows duplicate charges on subscription 42"
	desc := "Since the March billing the customer's invoice shows every plan charge twice, although the " +
		"usage report lists each meter once. Müller GmbH (Zürich office) opened the case with their reseller; " +
		"the contact, François Dupré, attached the invoice PDF and the reconciliation sheet. Please confirm " +
		"whether the duplicate lines come from the price-list change of March and credit the difference — about €1,240."
	return &ServiceRequest{
		Title: title, Description: desc, Severity: SeverityModerate, SupportTopicID: "32444671",
		PrimaryContact: &Contact{FirstName: "Anna", LastName: "Schmidt", Email: "anna@example.com",
			PhoneNumber: "+49 30 12345"},
		Notes:       []Note{{Text: "Imported from escalations.csv, row 1287."}},
		CountryCode: "DE",
		Attributes:  &Attributes{ObjectType: ObjectServiceRequest},
	}
}

func TestAppendJSON(t *testing.T) {
	epoch := Time{time.Unix(0, 0)}
	tests := []struct {
		name string
		sr   *ServiceRequest
		want string // checked as well as json.Marshal's output, when set
	}{
		{"nil", nil, `null`},
		{"empty", &ServiceRequest{}, `{}`},
		{"all fields", allFields(), ""},
		{"typical", typicalSR(), ""},
		{"one field", &ServiceRequest{CountryCode: "US"}, `{"countryCode":"US"}`},
		{"last field only", &ServiceRequest{Attributes: &Attributes{}}, `{"attributes":{}}`},
		{"empty nested", &ServiceRequest{Organization: &Organization{}, PrimaryContact: &Contact{},
			LastUpdatedBy: &Contact{Organization: &Organization{}}, NewNote: &Note{}, Attributes: &Attributes{}},
			`{"organization":{},"primaryContact":{},"lastUpdatedBy":{"organization":{}},"newNote":{},"attributes":{}}`},
		{"empty slices", &ServiceRequest{FileLinks: []FileInfo{}, Notes: []Note{}, EmailCcList: []string{}}, `{}`},
		{"slices of empty", &ServiceRequest{FileLinks: []FileInfo{{}}, Notes: []Note{{}, {}}, EmailCcList: []string{""}},
			`{"fileLinks":[{}],"notes":[{},{}],"emailCcList":[""]}`},
		{"quotes and backslashes", &ServiceRequest{Title: `say "hi" \ C:\dir\ "\"`},
			`{"title":"say \"hi\" \\ C:\\dir\\ \"\\\""}`},
		{"control characters", &ServiceRequest{Description: "\x00\x01\a\b\t\n\v\f\r\x0e\x1b\x1f\x7f end"},
			`{"description":"\u0000\u0001\u0007\b\t\n\u000b\f\r\u000e\u001b\u001f` + "\x7f" + ` end"}`},
		{"html", &ServiceRequest{Title: "<script>alert('x')</script> & <b>", Notes: []Note{{Text: "a&&b>c<d"}}},
			`{"title":"\u003cscript\u003ealert('x')\u003c/script\u003e \u0026 \u003cb\u003e","notes":[{"text":"a\u0026\u0026b\u003ec\u003cd"}]}`},
		{"line and paragraph separators", &ServiceRequest{Title: "a\u2028b\u2029c\u2027d\u202ae"},
			`{"title":"a\u2028b\u2029c` + "\u2027" + `d` + "\u202a" + `e"}`},
		{"invalid UTF-8", &ServiceRequest{Title: "a\xffb\xc3(c\xe2\x82d\xed\xa0\x80e\xc0\x80f\xf4\x90\x80\x80g\x80"},
			strings.ReplaceAll(`{"title":"a\ufffdb\ufffd(c\ufffd\ufffdd\ufffd\ufffd\ufffde\ufffd\ufffdf\ufffd\ufffd\ufffd\ufffdg\ufffd"}`,
				`\ufffd`, invalidUTF8)},
		{"invalid UTF-8 at word edges", &ServiceRequest{Title: "1234567\xff12345678\xc3", Description: "\xe2\x82"}, ""},
		{"non-ASCII", &ServiceRequest{Title: "Zoë Ångström — 東京 😀 \ufffd \u00a0", Description: "ü"},
			`{"title":"Zoë Ångström — 東京 😀 ` + "\ufffd \u00a0" + `","description":"ü"}`},
		{"long ASCII", &ServiceRequest{Description: strings.Repeat("abcdefghij", 41) + "<"}, ""},
		{"escape at every offset", &ServiceRequest{Description: strings.Repeat("0123456\"89abcde\\", 3) + "&"}, ""},
		{"enums out of range", &ServiceRequest{Severity: 7, Status: -1},
			`{"severity":"unknown","status":"none"}`},
		{"enums at the ends", &ServiceRequest{Severity: SeverityMinimal, Status: StatusNone},
			`{"severity":"minimal"}`},
		{"status only", &ServiceRequest{Status: StatusClosed}, `{"status":"closed"}`},
		{"zero times omitted", &ServiceRequest{CreatedDate: Time{}, NewNote: &Note{CreatedDate: Time{}, Text: "x"}},
			`{"newNote":{"text":"x"}}`},
		{"zero instant in a zone omitted", &ServiceRequest{CreatedDate: Time{time.Time{}.In(time.FixedZone("X", 7200))}}, `{}`},
		{"epoch", &ServiceRequest{CreatedDate: epoch}, `{"createdDate":"1970-01-01T00:00:00Z"}`},
		{"time in a zone", &ServiceRequest{LastModifiedDate: Time{time.Date(2020, 2, 29, 23, 30, 0, 5, time.FixedZone("", -5*3600))}},
			`{"lastModifiedDate":"2020-03-01T04:30:00.000000005Z"}`},
		{"first instant after zero", &ServiceRequest{LastClosedDate: Time{time.Time{}.Add(time.Nanosecond)}},
			`{"lastClosedDate":"0001-01-01T00:00:00.000000001Z"}`},
		{"year 1 sentinel day", &ServiceRequest{CreatedDate: Time{time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC)}}, ""},
		{"years outside 0000-9999", &ServiceRequest{CreatedDate: Time{time.Date(-12, 5, 1, 0, 0, 0, 0, time.UTC)},
			LastModifiedDate: Time{time.Date(12345, 5, 1, 0, 0, 0, 0, time.UTC)}}, ""},
		{"times with fractions", &ServiceRequest{
			CreatedDate:      Time{time.Date(2024, 1, 2, 3, 4, 5, 100_000_000, time.UTC)},
			LastModifiedDate: Time{time.Date(2024, 1, 2, 3, 4, 5, 123_456_000, time.UTC)},
			LastClosedDate:   Time{time.Date(2024, 1, 2, 3, 4, 5, 999_999_999, time.Local)},
		}, ""},
		{"contact organization", &ServiceRequest{PrimaryContact: &Contact{Email: "e", Organization: &Organization{Name: "n"}}},
			`{"primaryContact":{"email":"e","organization":{"name":"n"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAppendJSON(t, tt.sr)
			if tt.want == "" {
				return
			}
			if got, _ := AppendJSON(nil, tt.sr); string(got) != tt.want {
				t.Errorf("AppendJSON = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestAppendJSONTimeSentinel checks the zero Time's encoding, which
// omitzero keeps out of a ServiceRequest's members, against MarshalJSON.
func TestAppendJSONTimeSentinel(t *testing.T) {
	want, err := Time{}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if got := appendTime(nil, Time{}); !bytes.Equal(got, want) {
		t.Errorf("appendTime(zero) = %s, want %s", got, want)
	}
}

// TestAppendJSONRandom compares AppendJSON with json.Marshal over randomly
// filled service requests. fill sets every field by reflection, so a field
// added to the types without AppendJSON learning it fails here.
func TestAppendJSONRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(20240309, 1))
	for range 5000 {
		var sr ServiceRequest
		fill(t, reflect.ValueOf(&sr).Elem(), &randSource{rng})
		checkAppendJSON(t, &sr)
	}
}

// TestAppendJSONAllocs checks that AppendJSON allocates nothing when dst
// has room.
func TestAppendJSONAllocs(t *testing.T) {
	for _, sr := range []*ServiceRequest{typicalSR(), allFields()} {
		buf := make([]byte, 0, 4096)
		allocs := testing.AllocsPerRun(100, func() {
			buf, _ = AppendJSON(buf[:0], sr)
		})
		if allocs != 0 {
			t.Errorf("AppendJSON(%.20q…) allocates %v times per call, want 0", sr.Title, allocs)
		}
	}
}

// FuzzAppendJSON compares AppendJSON with json.Marshal on service requests
// read from the fuzzer's bytes by byteSource; the seeds are
// TestAppendJSON's cases written back as such bytes by record.
func FuzzAppendJSON(f *testing.F) {
	seeds := []*ServiceRequest{
		{}, allFields(), typicalSR(),
		{Title: "\x00\x1f\"\\<>&\u2028\u2029\xff\xc3", Severity: 9, Status: -3},
		{Description: "Zoë 東京 😀 " + strings.Repeat("x", 40) + "\xe2\x82"},
		{CreatedDate: Time{time.Date(-12, 5, 1, 0, 0, 0, 0, time.UTC)}, LastClosedDate: Time{time.Unix(0, 1)}},
	}
	for _, sr := range seeds {
		var b []byte
		record(f, reflect.ValueOf(sr).Elem(), &b)
		var back ServiceRequest
		fill(f, reflect.ValueOf(&back).Elem(), &byteSource{b: b})
		if want, got := mustMarshal(f, sr), mustMarshal(f, &back); !bytes.Equal(got, want) {
			f.Fatalf("seed does not read back: got %s, want %s", got, want)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var sr ServiceRequest
		fill(t, reflect.ValueOf(&sr).Elem(), &byteSource{b: b})
		checkAppendJSON(t, &sr)
	})
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A source supplies the values fill sets.
type source interface {
	present() bool // whether a pointer is set
	count() int    // a slice's length
	text() string
	number() int64
	time() Time
}

// fill sets v, and every field and element under it, from src. It fails t
// on a type it has no rule for.
func fill(t testing.TB, v reflect.Value, src source) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[Time]():
		v.Set(reflect.ValueOf(src.time()))
	case v.Kind() == reflect.String:
		v.SetString(src.text())
	case v.Kind() == reflect.Int:
		v.SetInt(src.number())
	case v.Kind() == reflect.Pointer:
		if src.present() {
			p := reflect.New(v.Type().Elem())
			fill(t, p.Elem(), src)
			v.Set(p)
		}
	case v.Kind() == reflect.Slice:
		n := src.count()
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(t, s.Index(i), src)
		}
		v.Set(s)
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), src)
		}
	default:
		t.Fatalf("fill: no rule for %s", v.Type())
	}
}

// record appends to b the bytes from which a byteSource makes fill set
// the value v holds.
func record(t testing.TB, v reflect.Value, b *[]byte) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[Time]():
		tm := v.Interface().(Time)
		_, offset := tm.Zone()
		*b = binary.AppendVarint(*b, tm.Unix())
		*b = binary.AppendUvarint(*b, uint64(tm.Nanosecond()))
		*b = binary.AppendVarint(*b, int64(offset/60))
	case v.Kind() == reflect.String:
		*b = binary.AppendUvarint(*b, uint64(v.Len()))
		*b = append(*b, v.String()...)
	case v.Kind() == reflect.Int:
		*b = binary.AppendVarint(*b, v.Int())
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			*b = append(*b, 0)
			return
		}
		*b = append(*b, 1)
		record(t, v.Elem(), b)
	case v.Kind() == reflect.Slice:
		if v.Len() > maxCount {
			t.Fatalf("record: %d elements, byteSource reads at most %d", v.Len(), maxCount)
		}
		*b = append(*b, byte(v.Len()))
		for i := range v.Len() {
			record(t, v.Index(i), b)
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			record(t, v.Field(i), b)
		}
	default:
		t.Fatalf("record: no rule for %s", v.Type())
	}
}

// maxCount bounds the slice lengths byteSource reads.
const maxCount = 15

// byteSource reads values from b as record writes them; once b runs out
// every value is zero.
type byteSource struct{ b []byte }

func (s *byteSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) present() bool { return s.byte()&1 == 1 }
func (s *byteSource) count() int    { return int(s.byte()) % (maxCount + 1) }

func (s *byteSource) uvarint() uint64 {
	n, k := binary.Uvarint(s.b)
	if k <= 0 {
		s.b = nil
		return 0
	}
	s.b = s.b[k:]
	return n
}

func (s *byteSource) varint() int64 {
	n, k := binary.Varint(s.b)
	if k <= 0 {
		s.b = nil
		return 0
	}
	s.b = s.b[k:]
	return n
}

func (s *byteSource) text() string {
	n := int(min(s.uvarint(), uint64(len(s.b))))
	t := string(s.b[:n])
	s.b = s.b[n:]
	return t
}

func (s *byteSource) number() int64 { return s.varint() }

func (s *byteSource) time() Time {
	sec, nsec, offset := s.varint(), s.uvarint()%1e9, s.varint()%(48*60)
	return Time{time.Unix(sec, int64(nsec)).In(time.FixedZone("", int(offset)*60))}
}

// randSource draws values that stress the encoder: escapes, separators,
// invalid UTF-8, out-of-range enums, zero and far-off times.
type randSource struct{ r *rand.Rand }

func (s *randSource) present() bool { return s.r.IntN(10) < 7 }
func (s *randSource) count() int    { return s.r.IntN(4) }

func (s *randSource) text() string {
	if s.r.IntN(4) == 0 {
		return ""
	}
	pieces := []string{
		"a", "Z", "0", " ", "hello", "abcdefgh", "0123456789abcdef", "~", "\x7f", "'",
		`"`, `\`, "<", ">", "&", "/", "\x00", "\b", "\f", "\n", "\r", "\t", "\x1b", "\x1f",
		"é", "ß", "東京", "😀", "\u00a0", "\u2027", "\u2028", "\u2029", "\u202a", "\ufeff", "\ufffd", "\U0010ffff",
		"\x80", "\xff", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80", "\xe2\x80",
	}
	var b strings.Builder
	for range s.r.IntN(24) + 1 {
		if s.r.IntN(8) == 0 {
			b.WriteByte(byte(s.r.IntN(256)))
			continue
		}
		b.WriteString(pieces[s.r.IntN(len(pieces))])
	}
	return b.String()
}

func (s *randSource) number() int64 {
	switch s.r.IntN(10) {
	case 0:
		return s.r.Int64() - math.MaxInt64/2
	case 1:
		return 0
	default:
		return int64(s.r.IntN(7) - 2)
	}
}

func (s *randSource) time() Time {
	var t time.Time
	switch s.r.IntN(8) {
	case 0: // zero
		return Time{}
	case 1: // any year from -20000 to 20000
		t = time.Unix(s.r.Int64N(1_260_000_000_000)-693_000_000_000, 0)
	default: // 1970-2100
		t = time.Unix(s.r.Int64N(4_102_444_800), 0)
	}
	switch s.r.IntN(4) {
	case 0: // whole seconds
	case 1:
		t = t.Add(time.Duration(s.r.IntN(1000)) * time.Millisecond)
	case 2:
		t = t.Add(time.Duration(s.r.IntN(1_000_000)) * time.Microsecond)
	default:
		t = t.Add(time.Duration(s.r.IntN(1e9)))
	}
	if s.r.IntN(2) == 0 {
		t = t.In(time.FixedZone("", (s.r.IntN(48)-24)*1800))
	}
	return Time{t}
}

func BenchmarkAppendJSON(b *testing.B) {
	sr := typicalSR()
	buf, _ := AppendJSON(nil, sr)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendJSON(buf[:0], sr)
	}
}

func BenchmarkMarshal(b *testing.B) {
	sr := typicalSR()
	buf, _ := json.Marshal(sr)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(sr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendJSONVsMarshal alternates blocks of AppendJSON and
// json.Marshal calls on the same request and reports their costs and
// Marshal's cost over AppendJSON's, so that the ratio holds up on a
// machine whose load changes during the run.
func BenchmarkAppendJSONVsMarshal(b *testing.B) {
	const block = 32
	sr := typicalSR()
	buf, _ := AppendJSON(nil, sr)
	var tAppend, tMarshal time.Duration
	calls := 0
	for b.Loop() {
		t0 := time.Now()
		for range block {
			buf, _ = AppendJSON(buf[:0], sr)
		}
		t1 := time.Now()
		for range block {
			if _, err := json.Marshal(sr); err != nil {
				b.Fatal(err)
			}
		}
		tAppend += t1.Sub(t0)
		tMarshal += time.Since(t1)
		calls += block
	}
	b.ReportMetric(float64(tAppend.Nanoseconds())/float64(calls), "ns/append")
	b.ReportMetric(float64(tMarshal.Nanoseconds())/float64(calls), "ns/marshal")
	b.ReportMetric(float64(tMarshal)/float64(tAppend), "marshal/append")
}
