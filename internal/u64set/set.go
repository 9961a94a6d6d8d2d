// Package u64set is a compact set of 64-bit values for the importer's
// per-run bookkeeping: a million rows cost about 8 MiB, against some
// 40 MiB for a Go map, so that an import's memory stays bounded by its
// window rather than growing with its input.
//
// A Set keeps recent additions in a small map and moves them, sorted,
// into runs that are merged like the levels of a log-structured tree: at
// most about log2(n/mapMax) runs, each binary-searched on lookup.
package u64set

import (
	"slices"
)

// mapMax is how many additions wait in the map before they become a run.
const mapMax = 1 << 12

// Set is a set of uint64. The zero value is an empty set ready to use.
// It is not safe for concurrent use.
type Set struct {
	recent map[uint64]struct{}
	runs   [][]uint64 // sorted, no value in two runs; lengths strictly decreasing
	n      int
}

// Len returns the number of values in the set.
func (s *Set) Len() int { return s.n }

// Has reports whether v is in the set.
func (s *Set) Has(v uint64) bool {
	if _, ok := s.recent[v]; ok {
		return true
	}
	for _, r := range s.runs {
		if _, ok := slices.BinarySearch(r, v); ok {
			return true
		}
	}
	return false
}

// Add adds v and reports whether it was not in the set before.
func (s *Set) Add(v uint64) bool {
	if s.Has(v) {
		return false
	}
	if s.recent == nil {
		s.recent = make(map[uint64]struct{}, mapMax)
	}
	s.recent[v] = struct{}{}
	s.n++
	if len(s.recent) >= mapMax {
		s.spill()
	}
	return true
}

// spill turns the map into a run and merges runs of similar size.
func (s *Set) spill() {
	run := make([]uint64, 0, len(s.recent))
	for v := range s.recent {
		run = append(run, v)
	}
	slices.Sort(run)
	clear(s.recent)
	for len(s.runs) > 0 && len(s.runs[len(s.runs)-1]) <= len(run) {
		last := s.runs[len(s.runs)-1]
		s.runs = s.runs[:len(s.runs)-1]
		run = merge(last, run)
	}
	s.runs = append(s.runs, run)
}

// merge returns the sorted union of two sorted slices with no common value.
func merge(a, b []uint64) []uint64 {
	out := make([]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
