package u64set

import (
	"math/rand/v2"
	"testing"
)

// TestAgainstMap adds random values, many repeated, and checks every
// answer of Add, Has and Len against a map.
func TestAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s Set
	want := make(map[uint64]bool)
	var added []uint64
	for i := 0; s.Len() < 7*mapMax+123; i++ {
		v := rng.Uint64N(1 << 40)
		if len(added) > 0 && i%4 == 0 { // a quarter repeat an earlier value
			v = added[rng.IntN(len(added))]
		}
		added = append(added, v)
		if got := s.Add(v); got == want[v] {
			t.Fatalf("Add(%d) = %v after %d adds; in set before: %v", v, got, i, want[v])
		}
		want[v] = true
		if i%97 == 0 {
			probe := added[rng.IntN(len(added))] ^ uint64(i%2)
			if s.Has(probe) != want[probe] {
				t.Fatalf("Has(%d) = %v, want %v", probe, !want[probe], want[probe])
			}
		}
	}
	if s.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(want))
	}
	for v := range want {
		if !s.Has(v) {
			t.Fatalf("Has(%d) = false for a value added", v)
		}
	}
	if len(s.runs) < 2 {
		t.Fatalf("%d runs: the test did not exercise merging", len(s.runs))
	}
	for i, r := range s.runs {
		for j := 1; j < len(r); j++ {
			if r[j-1] >= r[j] {
				t.Fatalf("run %d not strictly sorted at %d", i, j)
			}
		}
	}
}

func TestZeroValue(t *testing.T) {
	var s Set
	if s.Has(0) || s.Len() != 0 {
		t.Fatal("zero Set is not empty")
	}
	if !s.Add(0) || s.Add(0) || !s.Has(0) || s.Len() != 1 {
		t.Fatal("Add/Has of 0 on a zero Set")
	}
}

// BenchmarkAdd adds a million random values; compare its B/op with a map's.
func BenchmarkAdd(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rng := rand.New(rand.NewPCG(1, 2))
		var s Set
		for j := 0; j < 1_000_000; j++ {
			s.Add(rng.Uint64())
		}
	}
}

func BenchmarkMapAdd(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rng := rand.New(rand.NewPCG(1, 2))
		m := make(map[uint64]struct{})
		for j := 0; j < 1_000_000; j++ {
			m[rng.Uint64()] = struct{}{}
		}
	}
}
