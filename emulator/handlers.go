package emulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/srimport/srimport/wire"
)

const (
	maxBody           = 1 << 20
	defaultPageSize   = 100
	maxPageSize       = 1000
	maxOffset         = 1 << 30
	decommissionedMsg = "This operation was decommissioned on 31 August 2020: create service requests in the Partner Center web UI."
)

// agentLocale accepts BCP 47-ish culture names: en-US, sr-Latn-RS, es-419.
var agentLocale = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-[A-Za-z]{2}|-[0-9]{3})?$`)

// noteInput is a note in a request body; createdByName and createdDate are
// the server's to set, so only the text is read.
type noteInput struct {
	Text string `json:"text"`
}

// contactInput is a primaryContact in a create body. Like the response
// types in wire.go, it names its fields from the contract (§3) rather than
// reuse wire.Contact, so that a wrong tag there cannot agree with itself.
type contactInput struct {
	ContactID    string    `json:"contactId"`
	FirstName    string    `json:"firstName"`
	LastName     string    `json:"lastName"`
	Email        string    `json:"email"`
	PhoneNumber  string    `json:"phoneNumber"`
	Organization *orgInput `json:"organization"`
}

// orgInput is a contact's organization in a create body.
type orgInput struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	PhoneNumber string `json:"phoneNumber"`
}

// contact converts the input, or returns nil when no field is set.
func (in *contactInput) contact() *wire.Contact {
	if in == nil {
		return nil
	}
	c := &wire.Contact{ContactID: in.ContactID, FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, PhoneNumber: in.PhoneNumber}
	if o := in.Organization; o != nil {
		c.Organization = &wire.Organization{ID: o.ID, Name: o.Name, PhoneNumber: o.PhoneNumber}
	}
	if c.IsZero() {
		return nil
	}
	return c
}

// createInput holds the fields create reads. encoding/json matches names
// case-insensitively, so PascalCase bodies bind too; server-owned fields
// (id, status, dates, organization, …) are not declared and so ignored.
type createInput struct {
	Title          string          `json:"title"`
	Description    string          `json:"description"`
	Severity       json.RawMessage `json:"severity"`
	SupportTopicID json.RawMessage `json:"supportTopicId"`
	PrimaryContact *contactInput   `json:"primaryContact"`
	ProductName    string          `json:"productName"`
	ProductID      string          `json:"productId"`
	CountryCode    string          `json:"countryCode"`
	NewNote        *noteInput      `json:"newNote"`
	Notes          []noteInput     `json:"notes"`
}

// patchInput holds the fields an update applies; unknown severity and
// status ("unknown", "none", unrecognised names) mean "no change".
type patchInput struct {
	Title          string          `json:"title"`
	Description    string          `json:"description"`
	Severity       wire.Severity   `json:"severity"`
	Status         wire.Status     `json:"status"`
	SupportTopicID json.RawMessage `json:"supportTopicId"`
	NewNote        *noteInput      `json:"newNote"`
}

// badInput is a 400 answer: an ApiFault code and description.
type badInput struct {
	code int
	msg  string
}

func invalidProp(name, why string) *badInput {
	return &badInput{codeInvalidProp, "The value of property '" + name + "' is not valid: " + why}
}

func (e *Emulator) create(c *call) {
	e.stats.creates.Add(1)
	if e.cfg.Decommissioned {
		e.fail(c, http.StatusNotFound, codeNotFound, decommissionedMsg)
		return
	}
	// Read the body first: only then does net/http notice a client that
	// hangs up, which a stall relies on.
	body, bad := readBody(c)
	fault := e.drawFault()
	switch fault {
	case faultError500Before:
		e.stats.faults.Add(1)
		e.fail(c, http.StatusInternalServerError, codeUnexpected, msgUnexpected)
		return
	case faultResetBefore:
		e.stats.faults.Add(1)
		hangUp(c, true)
		return
	case faultStall:
		e.stats.faults.Add(1)
		e.stall(c)
		return
	}
	key := idemKey{c.tenant, c.reqID, http.MethodPost, c.r.URL.Path}
	var sr *wire.ServiceRequest
	if bad == nil {
		sr, bad = e.parseCreate(c, body)
	}
	if bad != nil {
		// A replay of a committed create is answered as committed, even if
		// this copy of the body is broken.
		if e.cfg.NoDedup || !e.replay(c, key, fault) {
			e.fail(c, http.StatusBadRequest, bad.code, bad.msg)
		}
		return
	}
	ent, fresh := e.commitCreate(key, c, sr)
	if !fresh {
		e.replayEntry(c, ent, fault)
		return
	}
	w := e.toWire(sr)
	if e.cfg.CreateQuirk {
		w.Status = wire.StatusNone.String()
		w.CreatedDate.t, w.LastModifiedDate.t = time.Time{}, time.Time{}
	}
	ent.status, ent.body = http.StatusCreated, marshal(w)
	close(ent.done)
	e.stats.created.Add(1)
	e.answer(c, ent, fault)
}

// commitCreate stores sr under the next id and remembers key, unless key
// was committed already: then it returns that entry and fresh == false.
// Check and insert happen under one lock, so concurrent calls with one key
// create one request. With NoDedup the store is neither read nor written:
// every call creates, and the entry returned is the call's own.
func (e *Emulator) commitCreate(key idemKey, c *call, sr *wire.ServiceRequest) (ent *idemEntry, fresh bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.cfg.NoDedup {
		if ent, ok := e.idem[key]; ok {
			return ent, false
		}
	}
	sr.ID = strconv.FormatUint(firstID+uint64(len(e.records)), 10)
	rec := &record{sr: *sr, reqID: c.reqID}
	e.records = append(e.records, rec)
	e.byID[sr.ID] = rec
	if _, seen := e.creator[c.reqID]; seen {
		e.stats.duplicates.Add(1)
	} else {
		e.creator[c.reqID] = struct{}{}
	}
	ent = &idemEntry{done: make(chan struct{})}
	if !e.cfg.NoDedup {
		e.idem[key] = ent
	}
	return ent, true
}

// msgUnexpected is the description of an injected 500.
const msgUnexpected = "An unexpected error occurred while processing the request."

// replay answers from the idempotency store if key was committed, and
// reports whether it did.
func (e *Emulator) replay(c *call, key idemKey, fault faultKind) bool {
	e.mu.Lock()
	ent := e.idem[key]
	e.mu.Unlock()
	if ent == nil {
		return false
	}
	e.replayEntry(c, ent, fault)
	return true
}

// replayEntry answers a replayed call with ent's response once it is set,
// unless the client has left.
func (e *Emulator) replayEntry(c *call, ent *idemEntry, fault faultKind) {
	if awaitEntry(c, ent) {
		e.stats.replays.Add(1)
		e.answer(c, ent, fault)
	}
}

// awaitEntry waits until ent's response is set; false if the client left.
func awaitEntry(c *call, ent *idemEntry) bool {
	select {
	case <-ent.done:
		return true
	case <-c.r.Context().Done():
		return false
	}
}

// answer sends a committed response, or the after-commit fault drawn for
// this request.
func (e *Emulator) answer(c *call, ent *idemEntry, fault faultKind) {
	switch fault {
	case faultResetAfter:
		e.stats.faults.Add(1)
		hangUp(c, true)
	case faultError500After:
		e.stats.faults.Add(1)
		e.fail(c, http.StatusInternalServerError, codeUnexpected, msgUnexpected)
	case faultTruncated201:
		e.stats.faults.Add(1)
		e.truncated(c, ent.status, ent.body)
	default:
		e.send(c, ent.status, ent.body)
	}
}

// parseCreate validates a create body and builds the request to store
// (without id).
func (e *Emulator) parseCreate(c *call, body []byte) (*wire.ServiceRequest, *badInput) {
	locale := c.r.PathValue("agentLocale")
	if !agentLocale.MatchString(locale) {
		return nil, &badInput{codeInvalidInput, "Invalid request input: the agent locale " + quote(locale) + " is not a culture name such as en-US."}
	}
	var in createInput
	if bad := decode(body, &in); bad != nil {
		return nil, bad
	}
	switch {
	case strings.TrimSpace(in.Title) == "":
		return nil, invalidProp("title", "it is required.")
	case strings.TrimSpace(in.Description) == "":
		return nil, invalidProp("description", "it is required.")
	}
	sev, bad := parseSeverity(in.Severity)
	if bad != nil {
		return nil, bad
	}
	topic, bad := e.topicOf(in.SupportTopicID, true)
	if bad != nil {
		return nil, bad
	}
	now := wire.Time{Time: time.Now().UTC().Truncate(time.Millisecond)}
	sr := &wire.ServiceRequest{
		Title:            in.Title,
		Description:      in.Description,
		Severity:         sev,
		SupportTopicID:   strconv.FormatInt(topic.ID, 10),
		SupportTopicName: topic.Name,
		Status:           wire.StatusOpen,
		Organization:     c.who.org,
		PrimaryContact:   c.who.contact,
		ProductName:      in.ProductName,
		ProductID:        in.ProductID,
		CreatedDate:      now,
		LastModifiedDate: now,
		CountryCode:      strings.TrimSpace(in.CountryCode),
		Attributes:       &wire.Attributes{ObjectType: wire.ObjectServiceRequest},
	}
	if pc := in.PrimaryContact.contact(); pc != nil {
		if pc.Organization == nil {
			pc.Organization = c.who.org
		}
		sr.PrimaryContact = pc
	}
	if sr.CountryCode == "" {
		sr.CountryCode = "US"
	}
	if in.NewNote != nil {
		in.Notes = append(in.Notes, *in.NewNote)
	}
	for _, n := range in.Notes {
		if strings.TrimSpace(n.Text) != "" {
			sr.Notes = append(sr.Notes, wire.Note{CreatedByName: c.who.name, CreatedDate: now, Text: n.Text})
		}
	}
	return sr, nil
}

// parseSeverity accepts critical, moderate or minimal in any case, or 1–3.
func parseSeverity(raw json.RawMessage) (wire.Severity, *badInput) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, invalidProp("severity", "it is required.")
	}
	sev, ok := wire.SeverityUnknown, false
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			sev, ok = wire.ParseSeverity(s)
		}
	} else if n, err := strconv.Atoi(string(raw)); err == nil {
		sev, ok = wire.Severity(n), true
	}
	if !ok || sev < wire.SeverityCritical || sev > wire.SeverityMinimal {
		return 0, invalidProp("severity", truncate(string(raw), 80)+" is not one of critical, moderate, minimal.")
	}
	return sev, nil
}

// topicOf resolves a supportTopicId (a numeric string, or a number) to a
// known topic. A missing id is an error only if required.
func (e *Emulator) topicOf(raw json.RawMessage, required bool) (wire.SupportTopic, *badInput) {
	raw = bytes.TrimSpace(raw)
	s := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return wire.SupportTopic{}, invalidProp("supportTopicId", "it is not a string.")
		}
	}
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		if required {
			return wire.SupportTopic{}, invalidProp("supportTopicId", "it is required.")
		}
		return wire.SupportTopic{}, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 || strings.TrimLeft(s, "0123456789") != "" {
		return wire.SupportTopic{}, invalidProp("supportTopicId", quote(s)+" is not a numeric support topic id.")
	}
	t, ok := e.topics[id]
	if !ok {
		return wire.SupportTopic{}, invalidProp("supportTopicId", quote(s)+" names no support topic (GET /v1/servicerequests/supporttopics lists them).")
	}
	return t, nil
}

// decode unmarshals a JSON object body, stripping a byte-order mark, and
// turns failures into ApiFault answers.
func decode(body []byte, v any) *badInput {
	body = bytes.TrimPrefix(body, bom)
	if len(bytes.TrimSpace(body)) == 0 {
		return &badInput{codeInvalidInput, "Invalid request input: the request body is empty."}
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return invalidProp(te.Field, "a JSON "+te.Value+" is not accepted here.")
	}
	return &badInput{codeInvalidInput, "Invalid request input: the body is not a JSON object: " + err.Error()}
}

// readBody reads the request body, up to 1 MiB.
func readBody(c *call) ([]byte, *badInput) {
	var buf bytes.Buffer
	if n := c.r.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(c.w, c.r.Body, maxBody)); err != nil {
		return nil, &badInput{codeInvalidInput, "Invalid request input: cannot read the body: " + err.Error()}
	}
	return buf.Bytes(), nil
}

func (e *Emulator) get(c *call) {
	id := c.r.PathValue("id")
	e.mu.Lock()
	rec := e.byID[id]
	var w wireSR
	if rec != nil {
		w = e.toWire(&rec.sr)
	}
	e.mu.Unlock()
	if rec == nil {
		e.fail(c, http.StatusNotFound, codeNotFound, "Service request "+quote(id)+" was not found.")
		return
	}
	e.send(c, http.StatusOK, marshal(w))
}

func (e *Emulator) patch(c *call) {
	key := idemKey{c.tenant, c.reqID, http.MethodPatch, c.r.URL.Path}
	body, bad := readBody(c)
	var in patchInput
	if bad == nil {
		bad = decode(body, &in)
	}
	var topic wire.SupportTopic
	if bad == nil {
		topic, bad = e.topicOf(in.SupportTopicID, false)
	}
	if bad != nil {
		if !e.replay(c, key, faultNone) {
			e.fail(c, http.StatusBadRequest, bad.code, bad.msg)
		}
		return
	}
	id := c.r.PathValue("id")
	e.mu.Lock()
	if ent, ok := e.idem[key]; ok {
		e.mu.Unlock()
		e.replayEntry(c, ent, faultNone)
		return
	}
	rec := e.byID[id]
	if rec == nil {
		e.mu.Unlock()
		e.fail(c, http.StatusNotFound, codeNotFound, "Service request "+quote(id)+" was not found.")
		return
	}
	applyPatch(&rec.sr, &in, topic, c.who)
	w := e.toWire(&rec.sr)
	ent := &idemEntry{done: make(chan struct{})}
	e.idem[key] = ent
	e.mu.Unlock()

	ent.status = http.StatusOK
	if e.cfg.PatchNoContent {
		ent.status = http.StatusNoContent
	} else {
		ent.body = marshal(w)
	}
	close(ent.done)
	e.send(c, ent.status, ent.body)
}

// applyPatch applies an update: the note is appended and stamped, status
// and severity change unless none/unknown, title, description and topic
// change when given; lastModifiedDate is bumped and lastClosedDate set when
// the request closes. Dates, ids and other read-only fields are ignored.
func applyPatch(sr *wire.ServiceRequest, in *patchInput, topic wire.SupportTopic, who *identity) {
	now := wire.Time{Time: time.Now().UTC().Truncate(time.Millisecond)}
	if strings.TrimSpace(in.Title) != "" {
		sr.Title = in.Title
	}
	if strings.TrimSpace(in.Description) != "" {
		sr.Description = in.Description
	}
	if in.Severity != wire.SeverityUnknown {
		sr.Severity = in.Severity
	}
	if topic.ID != 0 {
		sr.SupportTopicID, sr.SupportTopicName = strconv.FormatInt(topic.ID, 10), topic.Name
	}
	if in.Status != wire.StatusNone {
		if in.Status == wire.StatusClosed && sr.Status != wire.StatusClosed {
			sr.LastClosedDate = now
		}
		sr.Status = in.Status
	}
	if in.NewNote != nil && strings.TrimSpace(in.NewNote.Text) != "" {
		// A fresh slice: the create response may still be reading the old one.
		sr.Notes = append(sr.Notes[:len(sr.Notes):len(sr.Notes)], wire.Note{CreatedByName: who.name, CreatedDate: now, Text: in.NewNote.Text})
	}
	sr.LastUpdatedBy = who.contact
	sr.LastModifiedDate = now
}

// statusFilter is a list filter on the Status field.
type statusFilter struct {
	op    string // normalised operator: equals, notequals, greaterthan, …
	value wire.Status
	text  string // lower-cased value, for the string operators
}

func (f *statusFilter) match(s wire.Status) bool {
	if f == nil {
		return true
	}
	name := strings.ReplaceAll(s.String(), "_", "")
	switch f.op {
	case "equals":
		return s == f.value
	case "notequals":
		return s != f.value
	case "greaterthan":
		return s > f.value
	case "greaterthanorequals":
		return s >= f.value
	case "lessthan":
		return s < f.value
	case "lessthanorequals":
		return s <= f.value
	case "substring":
		return strings.Contains(name, f.text)
	case "startswith":
		return strings.HasPrefix(name, f.text)
	default: // notstartswith
		return !strings.HasPrefix(name, f.text)
	}
}

// fieldFilter is the JSON of the filter query parameter, e.g.
// {"Field":"Status","Value":"open","Operator":"equals"}.
type fieldFilter struct {
	Field    string          `json:"field"`
	Value    json.RawMessage `json:"value"`
	Operator string          `json:"operator"`
}

// param returns the first value of a query parameter, matching its name
// case-insensitively.
func param(q url.Values, name string) (string, bool) {
	if v, ok := q[name]; ok && len(v) > 0 {
		return v[0], true
	}
	for k, v := range q {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}

// parseFilter reads the filter (JSON) or Field/Value/Operator parameters.
// It returns the filter (nil for none) and the query suffix that carries it
// into paging links.
func parseFilter(q url.Values) (*statusFilter, string, *badInput) {
	var ff fieldFilter
	var suffix string
	if raw, ok := param(q, "filter"); ok && strings.TrimSpace(raw) != "" {
		if err := json.Unmarshal([]byte(raw), &ff); err != nil {
			return nil, "", &badInput{codeInvalidInput, "Invalid request input: filter is not a JSON field filter: " + err.Error()}
		}
		suffix = "&filter=" + url.QueryEscape(raw)
	} else if field, ok := param(q, "field"); ok {
		value, _ := param(q, "value")
		op, _ := param(q, "operator")
		ff = fieldFilter{Field: field, Value: json.RawMessage(strconv.Quote(value)), Operator: op}
		suffix = "&Field=" + url.QueryEscape(field) + "&Value=" + url.QueryEscape(value)
		if op != "" {
			suffix += "&Operator=" + url.QueryEscape(op)
		}
	} else {
		return nil, "", nil
	}
	if !strings.EqualFold(strings.TrimSpace(ff.Field), "status") {
		return nil, "", &badInput{codeInvalidProp, "The value of property 'Field' is not valid: only Status can be filtered, not " + quote(ff.Field) + "."}
	}
	op := strings.NewReplacer("_", "", " ", "", "-", "").Replace(strings.ToLower(ff.Operator))
	switch op {
	case "":
		op = "equals"
	case "equals", "notequals", "greaterthan", "greaterthanorequals", "lessthan", "lessthanorequals",
		"substring", "startswith", "notstartswith":
	default:
		return nil, "", &badInput{codeInvalidProp, "The value of property 'Operator' is not valid: " + quote(ff.Operator) + " is not supported."}
	}
	var text string
	if v := bytes.TrimSpace(ff.Value); len(v) > 0 && v[0] == '"' {
		_ = json.Unmarshal(v, &text)
	} else {
		text = string(v)
	}
	f := &statusFilter{op: op, text: strings.ReplaceAll(strings.ToLower(strings.TrimSpace(text)), "_", "")}
	if op != "substring" && op != "startswith" && op != "notstartswith" {
		st, ok := wire.ParseStatus(text)
		if !ok {
			return nil, "", &badInput{codeInvalidProp, "The value of property 'Value' is not valid: " + quote(text) + " is not a status."}
		}
		f.value = st
	}
	return f, suffix, nil
}

// intParam reads a non-negative integer parameter within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, *badInput) {
	s, ok := param(q, name)
	if !ok || strings.TrimSpace(s) == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < lo || n > hi {
		return 0, &badInput{codeInvalidInput, "Invalid request input: " + name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + ", not " + quote(s) + "."}
	}
	return n, nil
}

// list answers a page of service requests ordered by status, then id.
// offset is a zero-based item index; links use base (relative, without
// /v1, like the documentation's examples).
func (e *Emulator) list(c *call, base string) {
	q := c.r.URL.Query()
	size, bad := intParam(q, "size", defaultPageSize, 1, maxPageSize)
	offset := 0
	if bad == nil {
		offset, bad = intParam(q, "offset", 0, 0, maxOffset)
	}
	var filt *statusFilter
	var suffix string
	if bad == nil {
		filt, suffix, bad = parseFilter(q)
	}
	if bad != nil {
		e.fail(c, http.StatusBadRequest, bad.code, bad.msg)
		return
	}

	e.mu.Lock()
	matches := make([]*record, 0, len(e.records))
	for _, rec := range e.records {
		if filt.match(rec.sr.Status) {
			matches = append(matches, rec)
		}
	}
	// Records are in id order already (ids grow with creation), so a
	// stable sort by status gives status-then-id order.
	slices.SortStableFunc(matches, func(a, b *record) int { return cmp.Compare(a.sr.Status, b.sr.Status) })
	total := len(matches)
	page := matches[min(offset, total):min(offset+size, total)]
	items := make([]wireSR, len(page))
	for i, rec := range page {
		items[i] = e.toWire(&rec.sr)
	}
	e.mu.Unlock()

	link := func(off int) *wireLink {
		return &wireLink{URI: base + "?size=" + strconv.Itoa(size) + "&offset=" + strconv.Itoa(off) + suffix, Method: http.MethodGet}
	}
	links := &wireLinks{Self: link(offset)}
	if offset+len(items) < total {
		links.Next = link(offset + len(items))
	}
	e.send(c, http.StatusOK, marshal(wireCollection[wireSR]{
		TotalCount: len(items),
		Items:      items,
		Links:      links,
		Attributes: wireAttributes{ObjectType: wire.ObjectCollection},
	}))
}
