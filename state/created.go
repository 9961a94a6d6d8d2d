package state

import (
	"hash/maphash"

	"github.com/srimport/srimport/internal/u64set"
)

// createdSet holds the service-request ids a run created, as 64-bit
// hashes: 8 bytes an id rather than a string in a map, so that a run of
// a million rows does not hold a million ids. A false "held" needs two
// ids to collide in 64 bits under a seed chosen per run: about one
// chance in 10^7 over a million lookups into a million ids.
type createdSet struct {
	seed maphash.Seed
	set  u64set.Set
}

func newCreatedSet() *createdSet { return &createdSet{seed: maphash.MakeSeed()} }

func (c *createdSet) add(id string)      { c.set.Add(maphash.String(c.seed, id)) }
func (c *createdSet) has(id string) bool { return c.set.Has(maphash.String(c.seed, id)) }
