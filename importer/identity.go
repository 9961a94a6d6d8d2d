package importer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"strconv"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/internal/u64set"
	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/wire"
)

// identities names rows. A row named by its mapping's key is that key; any
// other row is a hash of what would be sent (agent locale and body, the
// provenance note left out since it names the row number) followed by its
// occurrence in the file, so that two identical rows are two tickets while
// inserting, deleting or reordering rows changes no other row's identity.
//
// It is used by the dispatcher only and needs no lock.
type identities struct {
	// seen holds the first 8 bytes of every content hash met; repeats
	// counts the occurrences of those met more than once. Two different
	// contents that share 8 bytes (about one chance in 10^7 in a file of
	// a million rows) only number each other's occurrences: their
	// identities still differ by the 16 bytes they show.
	buf     []byte // contentHash's
	seen    u64set.Set
	repeats map[uint64]int32
	keys    map[string]int // key → row number of its first row in this file
}

func newIdentities() *identities {
	return &identities{repeats: make(map[uint64]int32), keys: make(map[string]int)}
}

// firstWithKey returns the row number of the first row of this file with
// req's key, when req has a key and an earlier row had it too.
func (ids *identities) firstWithKey(req *mapping.Request) (int, bool) {
	if req.Key == "" {
		return 0, false
	}
	if row, ok := ids.keys[req.Key]; ok {
		return row, true
	}
	ids.keys[req.Key] = req.Row
	return 0, false
}

// of returns req's identity.
func (ids *identities) of(req *mapping.Request) (string, error) {
	if req.Key != "" {
		return "key:" + req.Key, nil
	}
	sum, err := ids.contentHash(req)
	if err != nil {
		return "", err
	}
	k := binary.BigEndian.Uint64(sum[:8])
	n := int32(1)
	if !ids.seen.Add(k) {
		n = max(ids.repeats[k], 1) + 1
		ids.repeats[k] = n
	}
	return "sha256:" + hex.EncodeToString(sum[:16]) + "#" + strconv.Itoa(int(n)), nil
}

// contentHash hashes the agent locale and the request body without the
// provenance note (which names the row), encoded as json.Marshal would
// into a buffer reused from row to row.
func (ids *identities) contentHash(req *mapping.Request) ([32]byte, error) {
	sr := req.SR
	if req.Provenance && len(sr.Notes) > 0 {
		sr.Notes = sr.Notes[:len(sr.Notes)-1]
	}
	b := append(ids.buf[:0], req.Locale...)
	b = append(b, 0)
	b, err := wire.AppendJSON(b, &sr)
	ids.buf = b[:0]
	if err != nil {
		return [32]byte{}, fmt.Errorf("identity: %w", err)
	}
	return sha256.Sum256(b), nil
}

// Fingerprint is what settlement by lookup matches a service request on
// when no provenance note names its MS-RequestId: title, description and
// support topic, as the service stores them.
func Fingerprint(sr *client.ServiceRequest) string {
	h := sha256.New()
	h.Write([]byte(sr.Title))
	h.Write([]byte{0})
	h.Write([]byte(sr.Description))
	h.Write([]byte{0})
	h.Write([]byte(sr.SupportTopicID))
	var sum [32]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// provenanceText is the provenance note with the row's MS-RequestId, which
// settlement looks for.
func provenanceText(note, requestID string) string {
	return note + " (MS-RequestId " + requestID + ")"
}

// appendBody appends to dst the JSON body that creates req's row: its
// request with the provenance note naming requestID; req itself is not
// changed.
func appendBody(dst []byte, req *mapping.Request, requestID string) ([]byte, error) {
	sr := req.SR
	if req.Provenance && len(sr.Notes) > 0 {
		var one [1]client.Note
		notes := sr.Notes[: len(sr.Notes)-1 : len(sr.Notes)-1]
		if len(notes) == 0 {
			notes = one[:0]
		}
		last := sr.Notes[len(sr.Notes)-1]
		last.Text = provenanceText(last.Text, requestID)
		sr.Notes = append(notes, last)
	}
	b, err := wire.AppendJSON(dst, &sr)
	if err != nil {
		return dst, fmt.Errorf("encode the request: %w", err)
	}
	return b, nil
}

// createdIDs is a set of service-request ids, as 64-bit hashes under a
// seed of the run's: a million ids take 8 MiB. A false "held" needs two
// ids to collide in 64 bits.
type createdIDs struct {
	seed maphash.Seed
	set  u64set.Set
}

func newCreatedIDs() *createdIDs { return &createdIDs{seed: maphash.MakeSeed()} }

func (c *createdIDs) add(id string)      { c.set.Add(maphash.String(c.seed, id)) }
func (c *createdIDs) has(id string) bool { return c.set.Has(maphash.String(c.seed, id)) }

// Namer names rows as Run does, so that the rows of a report and of an
// input can be matched: fed the same mapped rows in the same order, it
// gives the same identities.
type Namer struct{ ids *identities }

// NewNamer returns a Namer that has seen no rows.
func NewNamer() *Namer { return &Namer{ids: newIdentities()} }

// Identity returns the identity of the next mapped row.
func (n *Namer) Identity(req *mapping.Request) (string, error) { return n.ids.of(req) }
