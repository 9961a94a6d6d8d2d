// Package mapping turns input rows into service-request create calls: it
// matches headers to fields (by name, or through a mapping file), applies
// templates and value maps, and validates the result against the service's
// rules, reporting typed errors that name row, column, field and rule.
//
// A Spec (a parsed mapping file, or one Auto derives from the header) is
// compiled once against the file's header by Compile; the Mapper it returns
// maps rows with Map, which allocates little, or only validates them with
// Check, which allocates nothing for a valid row. Both are safe for
// concurrent use.
//
// Validation follows the service contract: title, description, severity
// (critical, moderate or minimal) and a support topic are required; a
// supportTopicId is 1 to 19 digits and, when the topic list is known, one
// of its ids; a supportTopicName resolves to an id through that list; the
// agent locale is a tag such as en-US, zh-Hans or es-419; countryCode is
// two letters (sent upper-case); a contact email is name@domain. The
// service documents no length limits; srimport's own guard rails reject a
// title over 255 characters and a description or note over 32,000.
package mapping

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/srimport/srimport/wire"
)

// Request is one mapped, validated row, ready to send.
type Request struct {
	Row    int                 // input row number
	Locale string              // agent locale for the URL
	SR     wire.ServiceRequest // the create body
	// Key is the mapping's key for this row (its identity across files
	// and runs), "" when the mapping names none.
	Key string
	// Provenance is set when the last of SR.Notes is the provenance note
	// ("imported from FILE row N"), which depends on where the row sits
	// in its file and so is not part of the row's identity.
	Provenance bool
}

// Options are the run's settings that mapping depends on.
type Options struct {
	// File is the input file's base name, for the provenance note
	// ("imported from FILE row N").
	File string
	// Locale is the agent locale of rows that do not set one; "" means
	// en-US.
	Locale string
	// Topics, when non-nil, is the service's support-topic list:
	// supportTopicId must be one of its ids, and a supportTopicName is
	// resolved to an id by a case-insensitive name match. When nil, ids
	// are checked for form only and names cannot be resolved.
	Topics []wire.SupportTopic
}

// OtherKey is the value-map key that catches every value no other key
// names. Without it, such a value is ErrUnmappedValue.
const OtherKey = "*"

// DefaultLocale is the agent locale when Options.Locale is empty.
const DefaultLocale = "en-US"

// Our guard rails; the service documents no maximum (contract §11).
const (
	maxTitle       = 255
	maxDescription = 32000
	maxNote        = 32000
)

// Mapper maps rows of one file to requests. Build it with Compile or Auto.
type Mapper struct {
	header     []string
	tbl        []field  // the fields, fields unless a test gives others
	src        []source // tbl's sources, by fieldID
	notes      []source
	key        source
	provenance bool
	file       string
	locale     string
	topics     *topicIndex // nil when Options.Topics is nil

	// joined is set when a template joins several columns or text and a
	// column; Check then renders such templates into a buffer from
	// scratch (*[]byte) instead of allocating each result.
	joined  bool
	scratch sync.Pool
}

// source is a compiled FieldSpec.
type source struct {
	set    bool
	path   string
	value  tmpl
	vmap   *valueMap
	def    tmpl
	hasDef bool
	field  *field // the field set, nil for notes and the key
	plain  bool   // value is one column as it is: no text around it, no value map
}

// quickText reports whether the row's value of a plain source is surely
// valid as a text of at most max characters and, with required set, not
// blank — from the cell's length and first byte alone: a cell of at most
// max bytes trims to at most max characters, and one that starts with
// text is not blank. Check decides most cells of its long texts so,
// without reading the rest of them (a miss in the processor's cache for
// each). False means "look closer", not "invalid".
func (s *source) quickText(values []string, max int, required bool) bool {
	if !s.plain {
		return false
	}
	col := s.value.parts[0].col
	if col >= len(values) {
		return false
	}
	v := values[col]
	return len(v) <= max && (!required || len(v) > 0 && isText(v[0]))
}

// valueMap is a compiled value map.
type valueMap struct {
	keys, vals []string
	index      map[string]int // foldKey(key) → position, for large maps
}

// lookup finds v among the keys, ignoring case as strings.EqualFold does;
// v and the keys are trimmed already.
func (vm *valueMap) lookup(v string) (string, bool) {
	if vm.index != nil {
		var buf [64]byte
		i, ok := vm.index[string(appendFoldKey(buf[:0], v))]
		if !ok {
			return "", false
		}
		return vm.vals[i], true
	}
	for i, k := range vm.keys {
		if strings.EqualFold(k, v) {
			return vm.vals[i], true
		}
	}
	return "", false
}

// eval renders a source for a row: the value, mapped, or the default. col
// is the column the result came from (-1 for a constant). scratch is as for
// tmpl.render.
func (s *source) eval(values []string, scratch *[]byte) (v string, col int, err *ruleError) {
	v, blank := s.value.render(values, scratch)
	col = s.value.col()
	if s.vmap != nil {
		if mapped, ok := s.vmap.lookup(v); ok {
			return mapped, col, nil
		}
		if s.field != nil && s.field.isValue(v) {
			// Already in the service's form: a map written for a helpdesk's
			// own words must not turn "critical" into its default.
			return v, col, nil
		}
		if !blank {
			if other, ok := s.vmap.lookup(OtherKey); ok {
				return other, col, nil
			}
			also := ""
			if s.field != nil && s.field.values != nil {
				also = " (or a " + s.field.name + ": " + strings.Join(s.field.values, ", ") + ")"
			}
			return v, col, newRule(ErrUnmappedValue, quote(v)+" is not in the value map of "+s.path+"; expected one of "+quoteList(s.vmap.keys, 20)+also+
				`; add it to the map, or a "*" key for every other value`)
		}
	}
	if blank && s.hasDef {
		d, _ := s.def.render(values, scratch)
		if !s.def.isConst() {
			col = s.def.col()
		}
		return d, col, nil
	}
	return v, col, nil
}

// Compile checks spec against the file's header and returns a Mapper.
//
// Every column a template names must exist (matched case-insensitively
// after trimming; with duplicate headers, the first); otherwise the error
// wraps ErrUnknownColumn, names the closest header and lists them all.
// Title, description, severity and a support topic (id or name) must be
// set, else ErrNoColumn. Constants, map results and constant defaults are
// validated here, so a typo in the mapping fails once instead of on every
// row. opts.Locale must be a valid locale (ErrLocale). All problems are
// reported, joined.
func Compile(spec *Spec, header []string, opts Options) (*Mapper, error) {
	return compileOf(fields[:], spec, header, opts)
}

// compileOf is Compile for the fields of tbl.
func compileOf(tbl []field, spec *Spec, header []string, opts Options) (*Mapper, error) {
	if spec == nil {
		return nil, errors.New("mapping: nil Spec")
	}
	m := &Mapper{
		header:     slices.Clone(header),
		tbl:        tbl,
		src:        make([]source, len(tbl)),
		provenance: spec.Provenance,
		file:       opts.File,
		locale:     strings.TrimSpace(opts.Locale),
	}
	if m.locale == "" {
		m.locale = DefaultLocale
	}
	if m.file == "" {
		m.file = "input"
	}
	if opts.Topics != nil {
		m.topics = newTopicIndex(opts.Topics)
	}
	c := &compiler{m: m, index: make(map[string]int, len(header))}
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		if _, dup := c.index[key]; !dup {
			c.index[key] = i
		}
	}
	if !validLocale(m.locale) {
		c.errs = append(c.errs, newRule(ErrLocale, "the default locale "+quote(m.locale)+" (--locale) is not a locale; use a tag such as en-US or de-DE"))
	}
	for _, e := range spec.entriesOf(tbl) {
		s := c.source(e)
		if e.id >= 0 {
			m.src[e.id] = s
		} else if s.set {
			m.notes = append(m.notes, s)
		}
	}
	m.key = c.source(entry{"key", -1, &spec.Key})
	var missing []string
	for id := range tbl {
		if tbl[id].required && !m.src[id].set {
			missing = append(missing, tbl[id].name)
		}
	}
	if !m.src[fTopicID].set && !m.src[fTopicName].set {
		missing = append(missing, "supportTopicId (or supportTopicName)")
	}
	if len(missing) > 0 {
		c.errs = append(c.errs, newRule(ErrNoColumn, "the mapping does not set "+strings.Join(missing, ", ")+"; every service request needs them: add them under fields:"))
	}
	if c.unknown {
		c.errs = append(c.errs, errors.New("the file's columns are: "+quoteList(header, 100)))
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return m, nil
}

// compiler collects the problems of one Compile.
type compiler struct {
	m     *Mapper
	index map[string]int // folded header name → first column
	errs  []error
	// unknown is set once a template names a column the file lacks; the
	// file's columns are listed once, after every problem.
	unknown bool
}

func (c *compiler) source(e entry) source {
	n := len(c.errs)
	s := c.compileSource(e)
	// Point at the mapping file's line, as ParseSpec does.
	for _, err := range c.errs[n:] {
		if re, ok := err.(*ruleError); ok {
			re.msg = atLine(e.f.line, re.msg)
		}
	}
	return s
}

func (c *compiler) compileSource(e entry) source {
	f := e.f
	s := source{path: e.path}
	if e.id >= 0 {
		s.field = &c.m.tbl[e.id]
	}
	if f.problem != "" {
		c.errs = append(c.errs, newRule(ErrSpec, e.path+": "+f.problem))
		return s
	}
	if f.IsZero() {
		return s
	}
	s.set = true
	s.value = c.template(e.path, f.Value)
	if f.Map != nil {
		s.vmap = &valueMap{}
		keys := f.keys
		if len(keys) != len(f.Map) {
			keys = make([]string, 0, len(f.Map))
			for k := range f.Map {
				keys = append(keys, k)
			}
			slices.Sort(keys)
		}
		seen := make(map[string]bool, len(keys))
		for _, k := range keys {
			v := strings.TrimSpace(f.Map[k])
			k = strings.TrimSpace(k)
			if seen[foldKey(k)] {
				c.errs = append(c.errs, newRule(ErrSpec, e.path+".map: key "+quote(k)+" appears twice (keys ignore case)"))
				continue
			}
			seen[foldKey(k)] = true
			if v != "" {
				if err := c.m.check(e.id, v); err != nil {
					c.errs = append(c.errs, newRule(err.rule, e.path+".map: "+quote(k)+" maps to "+err.msg))
				} else {
					v = c.m.normal(e.id, v)
				}
			}
			s.vmap.keys = append(s.vmap.keys, k)
			s.vmap.vals = append(s.vmap.vals, v)
		}
		if len(s.vmap.keys) > 8 {
			s.vmap.index = make(map[string]int, len(s.vmap.keys))
			for i, k := range s.vmap.keys {
				s.vmap.index[foldKey(k)] = i
			}
		}
	}
	if f.Default != "" || f.defaultSet {
		s.hasDef = true
		s.def = c.template(e.path+".default", f.Default)
		if s.def.isConst() {
			c.constant(e, ".default", &s.def)
		}
	}
	if s.value.isConst() && s.vmap == nil {
		c.constant(e, "", &s.value)
	}
	s.plain = len(s.value.parts) == 1 && s.value.parts[0].col >= 0 && s.vmap == nil
	return s
}

// constant validates a constant once, and stores its normalised form.
func (c *compiler) constant(e entry, what string, t *tmpl) {
	if t.konst == "" {
		return
	}
	v, err := t.konst, c.m.check(e.id, t.konst)
	if err == nil {
		v = c.m.normal(e.id, v)
	}
	if err == nil && e.id == fTopicName && c.m.topics != nil {
		_, v, err = c.m.topics.resolve(v)
	}
	if err != nil {
		c.errs = append(c.errs, newRule(err.rule, e.path+what+": "+err.msg))
		return
	}
	t.konst = v
}

// template parses and resolves one template.
func (c *compiler) template(path, text string) tmpl {
	t := tmpl{src: text}
	unknown := false
	segs, err := parseTemplate(text)
	if err != nil {
		c.errs = append(c.errs, newRule(ErrTemplate, path+": "+err.Error()+" in "+strconv.Quote(text)))
		return t
	}
	for _, s := range segs {
		if !s.isCol {
			t.parts = append(t.parts, part{lit: s.text, col: -1})
			t.n += len(s.text)
			continue
		}
		i, ok := c.index[strings.ToLower(s.text)]
		if !ok {
			c.errs = append(c.errs, c.unknownColumn(s.text, path))
			unknown = true
			continue
		}
		t.parts = append(t.parts, part{col: i})
		t.cols = append(t.cols, i)
	}
	if len(t.parts) > 1 && len(t.cols) > 0 {
		c.m.joined = true
	}
	if len(t.cols) == 0 && !unknown { // not a constant: a column is missing
		t.konst = strings.TrimSpace(text)
	}
	return t
}

func (c *compiler) unknownColumn(name, path string) error {
	msg := "column " + strconv.Quote(name) + " named by " + path + " is not in the file"
	if near, ok := closest(name, c.m.header); ok {
		msg += "; did you mean " + strconv.Quote(near) + "?"
	}
	c.unknown = true
	return newRule(ErrUnknownColumn, msg)
}

// Map maps and validates one row; values are its cells in header order,
// row its number for messages. On failure it returns a nil Request and
// either one *FieldError or an errors.Join of several: every failing
// field, in field order (title, description, severity, supportTopicId,
// supportTopicName, productName, productId, countryCode, locale,
// primaryContact.*, notes, key).
func (m *Mapper) Map(values []string, row int) (*Request, error) {
	m = m.built()
	st := mapState{m: m, row: row, values: values}
	// The fields are set on the request as they pass; a row that fails
	// leaves it to the collector.
	a := &struct {
		req     Request
		attr    wire.Attributes
		contact wire.Contact
	}{}
	a.req.SR.PrimaryContact = &a.contact
	var notes []wire.Note
	key := st.fields(&a.req, &notes)
	switch len(st.errs) {
	case 0:
	case 1:
		return nil, st.errs[0]
	default:
		return nil, errors.Join(st.errs...)
	}
	if m.provenance {
		notes = append(notes, wire.Note{Text: m.provenanceNote(row)})
	}
	a.attr.ObjectType = wire.ObjectServiceRequest
	a.req.Row, a.req.Provenance = row, m.provenance
	// A key outlives its row (the importer keeps every key to find
	// repeats): a copy of it does not keep the row's text, or the block of
	// input the reader cut it from, in memory.
	a.req.Key = strings.Clone(key)
	a.req.SR.Notes, a.req.SR.Attributes = notes, &a.attr
	if a.req.Locale == "" {
		a.req.Locale = m.locale
	}
	if a.contact == (wire.Contact{}) {
		a.req.SR.PrimaryContact = nil // sent only when a field sets it
	}
	return &a.req, nil
}

// Check validates one row as Map does, without building its request: it
// returns nil exactly when Map would succeed, and otherwise Map's error.
// For a valid row it allocates nothing.
func (m *Mapper) Check(values []string, row int) error {
	m = m.built()
	st := mapState{m: m, row: row, values: values, check: true}
	if m.joined {
		buf, _ := m.scratch.Get().(*[]byte)
		if buf == nil {
			buf = new([]byte)
		}
		st.scratch = buf
		defer func() {
			// Nothing rendered into it is referenced any more.
			*buf = (*buf)[:0]
			m.scratch.Put(buf)
		}()
	}
	st.fields(nil, nil)
	if !st.failed {
		return nil
	}
	// The same rules again, this time building the errors.
	_, err := m.Map(values, row)
	return err
}

// mapState is one Map or Check call's progress.
type mapState struct {
	m      *Mapper
	row    int
	values []string
	errs   []error // Map: the fields that failed

	// check is set for Check: a failing field only sets failed, and no
	// value outlives the call (see tmpl.render for scratch).
	check   bool
	failed  bool
	scratch *[]byte
}

// fields evaluates and checks every field of the row, in field order,
// recording each failure; it is the validation Map and Check share. With
// req non-nil, it sets each field's value on it (see field.set); with
// notes non-nil, it appends the row's non-blank notes. It returns the
// row's key.
func (st *mapState) fields(req *Request, notes *[]wire.Note) (key string) {
	m := st.m
	var topicID string
	var idOK bool
	src, tbl := m.src, m.tbl[:len(m.src)]
	for i := range src {
		id := fieldID(i)
		v, ok := st.get(id, &src[i], &tbl[i])
		switch id {
		case fTopicID:
			topicID, idOK = v, ok
		case fTopicName:
			// A topic given by name resolves to its id; one of them is
			// required.
			if topicID == "" && idOK && ok {
				switch {
				case v != "":
					topicID, v = st.resolveTopic(v)
					if req != nil && topicID != "" {
						tbl[fTopicID].set(req, topicID)
					}
				default:
					id := fTopicID
					if !m.src[id].set {
						id = fTopicName
					}
					st.fail(id, m.src[id].value.col(), "", newRule(ErrRequired, "required, but empty: give the support topic's id"+m.topicHint()))
				}
			}
		}
		if req != nil && v != "" {
			tbl[i].set(req, v)
		}
	}

	for i := range m.notes {
		s := &m.notes[i]
		if st.check && s.quickText(st.values, maxNote, false) {
			continue
		}
		v, col, err := s.eval(st.values, st.scratch)
		if err == nil && len(v) > maxNote {
			err = tooLong(v, maxNote, "a note")
		}
		if err != nil {
			st.failField("notes", col, v, err)
			continue
		}
		if v != "" && notes != nil {
			if *notes == nil {
				*notes = make([]wire.Note, 0, len(m.notes)+1)
			}
			*notes = append(*notes, wire.Note{Text: v})
		}
	}
	if m.key.set && !(st.check && m.key.quickText(st.values, math.MaxInt, true)) {
		v, col, err := m.key.eval(st.values, st.scratch)
		if err == nil && v == "" {
			err = newRule(ErrRequired, "required, but empty: the mapping's key identifies each row across files and runs; give this row its source key")
		}
		if err != nil {
			st.failField("key", col, v, err)
		}
		key = v
	}
	return key
}

// get evaluates and validates field id, f, from its source s; ok is false
// when it failed (the error is recorded). An unset field is "", true. Map
// gets the value in the form it sends (severity as its name).
func (st *mapState) get(id fieldID, s *source, f *field) (v string, ok bool) {
	if !s.set {
		if f.required {
			// Compile refuses such a mapping; a zero Mapper ends here.
			st.fail(id, -1, "", newRule(ErrRequired, "required, but the mapping gives no source"))
			return "", false
		}
		return "", true
	}
	if st.check && f.max > 0 && s.quickText(st.values, f.max, f.required) {
		return "", true // Check needs no value of these
	}
	v, col, err := s.eval(st.values, st.scratch)
	if err == nil {
		if err = st.m.checkField(f, v); err == nil {
			if !st.check {
				v = f.rule.normal(v)
			}
			return v, true
		}
	}
	st.fail(id, col, v, err)
	return "", false
}

func (st *mapState) fail(id fieldID, col int, v string, err *ruleError) {
	st.failField(st.m.tbl[id].name, col, v, err)
}

// failField records that field failed with err on value v from column col.
func (st *mapState) failField(field string, col int, v string, err *ruleError) {
	if st.check {
		st.failed = true
		return
	}
	st.errs = append(st.errs, &FieldError{Row: st.row, Column: st.m.column(col), Field: field, Value: v, Err: err})
}

// resolveTopic finds the id of a support topic given by name.
func (st *mapState) resolveTopic(name string) (id, canonical string) {
	m := st.m
	if m.topics == nil {
		if st.check {
			st.failed = true
			return "", ""
		}
		st.fail(fTopicName, m.src[fTopicName].value.col(), name, newRule(ErrUnknownTopic,
			"support topic "+quote(name)+" is given by name, but the service's topic list is not available to resolve it; give the topic's id (supportTopicId)"))
		return "", ""
	}
	if st.check {
		if len(m.topics.named(name)) != 1 {
			st.failed = true
		}
		return "", ""
	}
	id, canonical, err := m.topics.resolve(name)
	if err != nil {
		s := &m.src[fTopicName]
		st.fail(fTopicName, s.value.col(), name, err)
	}
	return id, canonical
}

func (m *Mapper) topicHint() string {
	if m.src[fTopicName].set {
		return " or name"
	}
	return ""
}

// column names column i for errors; "" for a constant.
func (m *Mapper) column(i int) string {
	if i < 0 || i >= len(m.header) {
		return ""
	}
	return m.header[i]
}

// built returns m or, for a zero Mapper (Compile and Auto never return
// one), a Mapper of srimport's fields that sets none of them: its rows
// fail as missing their required fields.
func (m *Mapper) built() *Mapper {
	if m.src != nil {
		return m
	}
	return &Mapper{tbl: fields[:], src: make([]source, numFields)}
}

// Keyed reports whether the mapping names a key (its rows' identity).
func (m *Mapper) Keyed() bool { return m.key.set }

func (m *Mapper) provenanceNote(row int) string {
	return "imported from " + m.file + " row " + strconv.Itoa(row)
}

// Binding is one line of Fields: a field and where its value comes from.
type Binding struct {
	Field  string // title, severity, primaryContact.email, locale, notes, …
	Source string // e.g. `column "Priority", mapped (4 values), default "moderate"`
}

// Fields lists each set field and its source, in field order, for
// debugging a mapping (the command line does not print it yet). The
// locale is always listed.
func (m *Mapper) Fields() []Binding {
	m = m.built()
	var out []Binding
	for id := range fieldID(len(m.tbl)) {
		s := &m.src[id]
		switch {
		case s.set:
			out = append(out, Binding{m.tbl[id].name, m.describe(s)})
		case id == fLocale:
			out = append(out, Binding{"locale", "default " + strconv.Quote(m.locale)})
		}
	}
	for i := range m.notes {
		out = append(out, Binding{"notes", m.describe(&m.notes[i])})
	}
	if m.provenance {
		out = append(out, Binding{"notes", "provenance note " + strconv.Quote("imported from "+m.file+" row N")})
	}
	return out
}

func (m *Mapper) describe(s *source) string {
	var b strings.Builder
	switch t := &s.value; {
	case t.src == "":
		b.WriteString("no value")
	case t.isConst():
		b.WriteString("constant " + strconv.Quote(t.konst))
	case len(t.parts) == 1:
		b.WriteString("column " + strconv.Quote(m.header[t.cols[0]]))
	default:
		b.WriteString("template " + strconv.Quote(t.src))
	}
	if s.vmap != nil {
		b.WriteString(", mapped (" + strconv.Itoa(len(s.vmap.keys)) + " values)")
	}
	if s.hasDef {
		b.WriteString(", default " + strconv.Quote(s.def.src))
	}
	return b.String()
}
